//! Serde types that cross the wire between the server and the browser; also built for wasm.

pub mod airtable;
pub mod analytics;
pub mod auth;
pub mod chat;
pub mod files;
pub mod health;
pub mod jobs;
pub mod llm;
pub mod sagas;
pub mod tools;
pub mod workflows;
