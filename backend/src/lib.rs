//! PyAirtable's server-side services, as a plain library with no UI.
//!
//! Only [`model`] is built for the browser; everything else needs the `server` feature.

pub mod model;

#[cfg(feature = "server")]
pub mod airtable;
#[cfg(feature = "server")]
pub mod analytics;
#[cfg(feature = "server")]
pub mod auth;
#[cfg(feature = "server")]
pub mod chat;
#[cfg(feature = "server")]
pub mod clock;
#[cfg(feature = "server")]
pub mod connections;
#[cfg(feature = "server")]
pub mod db;
#[cfg(feature = "server")]
pub mod files;
#[cfg(feature = "server")]
pub mod health;
#[cfg(feature = "server")]
pub mod jobs;
#[cfg(feature = "server")]
pub mod llm;
#[cfg(feature = "server")]
pub mod mcp;
#[cfg(feature = "server")]
pub mod outbound;
#[cfg(feature = "server")]
pub mod sagas;
#[cfg(feature = "server")]
pub mod sandbox;
#[cfg(feature = "server")]
pub mod secrets;
#[cfg(feature = "server")]
mod services;
#[cfg(feature = "server")]
pub mod shown;
#[cfg(feature = "server")]
mod tls;
#[cfg(feature = "server")]
pub use tls::install_crypto_provider;
#[cfg(feature = "server")]
pub mod tools;
#[cfg(feature = "server")]
pub mod workflows;

#[cfg(feature = "server")]
pub use services::{ServiceSettings, Services};

/// The version every layer reports: health, `--version`, the footer.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
