//! `AppError`: the one error type every server function returns, serialized to the browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// What a user, or a script calling the API, is told when a call fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("{0} was not found.")]
    NotFound(String),
    #[error("Something went wrong on our side. Try again; if it keeps happening, check the server log.")]
    Internal,
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(e: ServerFnErrorErr) -> Self {
        Self::Transport(e.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<backend::db::DbError> for AppError {
    fn from(e: backend::db::DbError) -> Self {
        tracing::error!(error = %e, "database call failed");
        Self::Internal
    }
}
