//! `AppError`: the one error type every server function returns, serialized to the browser.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod request_id;

/// What a user, or a script calling the API, is told when a call fails.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} was not found.")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    /// The request is well formed, but names something that isn't there or a value that can't
    /// be stored (a tool's unknown table or field).
    #[error("{0}")]
    Unprocessable(String),
    /// A spending budget is used up; raising it is the user's call, in Settings → Chat.
    #[error("{0}")]
    OverBudget(String),
    #[error("{0}")]
    TooLarge(String),
    /// A workflow that can't be saved: every problem, each with its step and field.
    #[error("{message}")]
    InvalidWorkflow { message: String, problems: Vec<backend::model::workflows::Problem> },
    #[error("Too many attempts. Try again in {retry_after_s} seconds.")]
    TooManyRequests { retry_after_s: u64 },
    /// The server is at capacity for this kind of work; nothing was done.
    #[error("The server is busy. Try again in {retry_after_s} seconds.")]
    Busy { retry_after_s: u64 },
    /// Airtable (or the sandbox) refused or failed; the message says what to do.
    #[error("{0}")]
    Upstream(String),
    /// The detail is in the server log under `request_id`, never in the answer.
    #[error("Something went wrong on our side. Try again; if it keeps happening, give the administrator this request ID: {request_id}.")]
    Internal { request_id: String },
    #[error("Could not reach the server: {0}")]
    Transport(String),
}

impl AppError {
    /// The HTTP status a script sees for this error.
    pub fn status(&self) -> u16 {
        match self {
            Self::Invalid(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::OverBudget(_) => 402,
            Self::Conflict(_) => 409,
            Self::TooLarge(_) => 413,
            Self::Unprocessable(_) | Self::InvalidWorkflow { .. } => 422,
            Self::TooManyRequests { .. } => 429,
            Self::Upstream(_) => 502,
            Self::Busy { .. } => 503,
            Self::Internal { .. } | Self::Transport(_) => 500,
        }
    }

    /// How long the caller should wait before trying again, for a `Retry-After` header.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            Self::TooManyRequests { retry_after_s } | Self::Busy { retry_after_s } => Some(*retry_after_s),
            _ => None,
        }
    }

    /// An internal failure of this request, which the caller can quote to the administrator.
    /// Log the detail before calling this: the answer carries none of it.
    #[cfg(feature = "ssr")]
    pub fn internal() -> Self {
        Self::Internal { request_id: request_id::current() }.with_status()
    }

    /// Sets this error's status on the response being built, so scripts can branch on it. A
    /// form a browser posted before the page hydrated keeps Leptos' redirect back to the page,
    /// which shows the error; a 4xx status there would leave the browser on the raw JSON.
    #[cfg(feature = "ssr")]
    pub fn with_status(self) -> Self {
        let browser_form = leptos::prelude::use_context::<http::request::Parts>().is_some_and(|parts| {
            parts.headers.get(http::header::ACCEPT).and_then(|accept| accept.to_str().ok()).is_some_and(|accept| accept.contains("text/html"))
        });
        if browser_form {
            return self;
        }
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            response.set_status(http::StatusCode::from_u16(self.status()).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR));
            if let Some(seconds) = self.retry_after_s() {
                response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
            }
        }
        self
    }
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
        Self::internal()
    }
}

#[cfg(feature = "ssr")]
impl From<backend::auth::AuthError> for AppError {
    fn from(e: backend::auth::AuthError) -> Self {
        use backend::auth::AuthError as E;
        let message = e.to_string();
        let mapped = match e {
            E::InvalidEmail | E::WeakPassword(_) | E::Invalid(_) | E::InvalidLink => Self::Invalid(message),
            E::BadCredentials | E::InvalidToken => Self::Unauthorized(message),
            E::Disabled | E::RegistrationClosed | E::InviteRequired => Self::Forbidden(message),
            E::EmailTaken => Self::Conflict(message),
            E::Throttled { retry_after_s } => Self::TooManyRequests { retry_after_s },
            E::Busy => Self::Busy { retry_after_s: 5 },
            E::NotFound(what) => Self::NotFound(what.to_owned()),
            E::Db(db) => return db.into(),
        };
        mapped.with_status()
    }
}

#[cfg(feature = "ssr")]
impl From<backend::airtable::AirtableError> for AppError {
    fn from(e: backend::airtable::AirtableError) -> Self {
        use backend::airtable::AirtableError as E;
        // Airtable's own message plus our hint on what to do; never the raw body or the token.
        let message = e.to_string();
        let mapped = match &e {
            _ if e.is_not_found() => Self::NotFound("That base, table or record".into()),
            E::Api { status: 400 | 413 | 422, .. } | E::InvalidRequest(_) => Self::Invalid(message),
            E::Api { status: 429, .. } => Self::TooManyRequests { retry_after_s: 30 },
            E::Api { status: 401 | 403, .. } => Self::Forbidden(message),
            _ => {
                tracing::warn!(error = %e, "an Airtable call failed");
                Self::Upstream(message)
            }
        };
        mapped.with_status()
    }
}

#[cfg(feature = "ssr")]
impl From<backend::connections::ConnectionError> for AppError {
    fn from(e: backend::connections::ConnectionError) -> Self {
        use backend::connections::ConnectionError as E;
        match e {
            E::Rejected(airtable) => airtable.into(),
            E::Malformed | E::Unreadable => Self::Invalid(e.to_string()).with_status(),
            E::Sandbox(_) | E::Db(_) => {
                tracing::error!(error = %e, "could not open a user's Airtable connection");
                Self::internal()
            }
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::llm::LlmSettingsError> for AppError {
    fn from(e: backend::llm::LlmSettingsError) -> Self {
        use backend::llm::LlmSettingsError as E;
        match e {
            E::Db(_) => {
                tracing::error!(error = %e, "could not read or save a user's LLM settings");
                Self::internal()
            }
            _ => Self::Invalid(e.to_string()).with_status(),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<backend::chat::ChatError> for AppError {
    fn from(e: backend::chat::ChatError) -> Self {
        use backend::chat::ChatError as E;
        let message = e.to_string();
        let mapped = match e {
            E::NotFound => Self::NotFound("That conversation".into()),
            E::FileNotFound => Self::NotFound("That file".into()),
            E::Invalid(_) => Self::Invalid(message),
            E::Busy => Self::Conflict(message),
            E::OverBudget(_) => Self::OverBudget(message),
            E::Db(db) => return db.into(),
        };
        mapped.with_status()
    }
}

#[cfg(feature = "ssr")]
impl From<backend::analytics::AnalyticsError> for AppError {
    fn from(e: backend::analytics::AnalyticsError) -> Self {
        use backend::analytics::AnalyticsError as E;
        let message = e.to_string();
        let mapped = match e {
            E::Forbidden => Self::Forbidden(message),
            E::Invalid(_) => Self::Invalid(message),
            E::Db(db) => return db.into(),
        };
        mapped.with_status()
    }
}

#[cfg(feature = "ssr")]
impl From<backend::tools::ToolError> for AppError {
    fn from(e: backend::tools::ToolError) -> Self {
        use backend::tools::ToolError as E;
        let message = e.to_string();
        let mapped = match e {
            E::UnknownTool(name) => Self::NotFound(format!("The tool “{name}”")),
            E::ReadOnly(_) => Self::Forbidden(message),
            ref caller if caller.is_caller_error() => Self::Unprocessable(message),
            E::Airtable(airtable) => return airtable.into(),
            E::Invalid(_) => Self::Unprocessable(message),
        };
        mapped.with_status()
    }
}

#[cfg(feature = "ssr")]
impl From<backend::sagas::SagaError> for AppError {
    fn from(e: backend::sagas::SagaError) -> Self {
        use backend::sagas::SagaError as E;
        let message = e.to_string();
        let mapped = match e {
            E::NotFound => Self::NotFound("That change".into()),
            E::NotNow(_) => Self::Conflict(message),
            E::Invalid(_) => Self::Unprocessable(message),
            E::Connection(connection) => return connection.into(),
            E::Database(_) | E::Jobs(_) | E::LeaseLost => {
                tracing::error!(error = %message, "a saga request failed");
                return Self::internal();
            }
        };
        mapped.with_status()
    }
}

#[cfg(feature = "ssr")]
impl From<backend::files::FileError> for AppError {
    fn from(e: backend::files::FileError) -> Self {
        use backend::files::FileError as E;
        let message = e.to_string();
        let mapped = match e {
            E::NotFound => Self::NotFound("That file".into()),
            E::ImportNotFound => Self::NotFound("That import".into()),
            E::TooLarge { .. } => Self::TooLarge(message),
            E::Unreadable(_) | E::Refused(_) => Self::Unprocessable(message),
            E::Interrupted => Self::Invalid(message),
            E::Airtable(e) => return e.into(),
            E::Connection(e) => return e.into(),
            E::Io(_) | E::Database(_) | E::Saga(_) => {
                tracing::error!(error = %message, "a file request failed");
                return Self::internal();
            }
        };
        mapped.with_status()
    }
}

#[cfg(feature = "ssr")]
impl From<backend::workflows::WorkflowError> for AppError {
    fn from(e: backend::workflows::WorkflowError) -> Self {
        use backend::workflows::WorkflowError as E;
        let message = e.to_string();
        let mapped = match e {
            E::NotFound => Self::NotFound("That workflow or run".into()),
            E::Invalid(problems) => Self::InvalidWorkflow { message, problems },
            E::NotNow(_) => Self::Conflict(message),
            E::Unauthorized => Self::Unauthorized(message),
            E::Corrupt(_) | E::Database(_) | E::Jobs(_) => {
                tracing::error!(error = %message, "a workflow request failed");
                return Self::internal();
            }
        };
        mapped.with_status()
    }
}

#[cfg(feature = "ssr")]
impl From<backend::analytics::ClientEventError> for AppError {
    fn from(e: backend::analytics::ClientEventError) -> Self {
        use backend::analytics::ClientEventError as E;
        let message = e.to_string();
        let mapped = match e {
            E::TooLarge | E::TooMany(_) => Self::TooLarge(message),
            E::Malformed(_) | E::BadName(_) => Self::Invalid(message),
            E::RateLimited { retry_after } => Self::TooManyRequests { retry_after_s: retry_after.as_secs().max(1) },
        };
        mapped.with_status()
    }
}
