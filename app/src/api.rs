//! Server functions with no page of their own: the JSON API for scripts and API clients.

pub mod auth;
pub mod keys;
pub mod sandbox;
