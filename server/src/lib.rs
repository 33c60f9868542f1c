//! The pyairtable server: command line, configuration, telemetry, HTTP routes and startup.
//!
//! A library beside a thin `main.rs`, so integration tests start exactly the app users run.

pub mod cli;
pub mod config;
pub mod metrics;
pub mod routes;
pub mod startup;
pub mod telemetry;
