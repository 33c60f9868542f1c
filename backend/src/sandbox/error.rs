//! The sandbox's errors, answered in Airtable's two shapes with Airtable's statuses and types.

use serde_json::{Value, json};

use crate::db::DbError;

/// An error as the sandbox answers it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{status} {error_type}: {message}")]
pub struct SandboxError {
    pub status: u16,
    pub error_type: &'static str,
    /// Empty for the errors Airtable answers as `{"error":"TYPE"}`.
    pub message: String,
    /// How long a rate-limited caller must wait, sent as `Retry-After` so that clients (ours
    /// included) wait out this sandbox's penalty rather than assume Airtable's 30 seconds.
    pub retry_after: Option<std::time::Duration>,
}

impl SandboxError {
    fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> Self {
        Self { status, error_type, message: message.into(), retry_after: None }
    }

    /// The body, in the shape Airtable uses for this kind of error.
    pub fn body(&self) -> Value {
        if self.message.is_empty() {
            json!({ "error": self.error_type })
        } else {
            json!({ "error": { "type": self.error_type, "message": self.message } })
        }
    }

    pub fn unauthenticated() -> Self {
        Self::new(401, "AUTHENTICATION_REQUIRED", "Authentication required")
    }

    /// An unknown route or base: Airtable answers these with the bare string shape.
    pub fn not_found() -> Self {
        Self::new(404, "NOT_FOUND", "")
    }

    pub fn base_not_found() -> Self {
        Self::new(
            403,
            "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
            "Invalid permissions, or the requested model was not found. Check that both your user and your token have the required permissions, and that the model names and/or ids are correct.",
        )
    }

    pub fn table_not_found(table: &str) -> Self {
        Self::new(404, "TABLE_NOT_FOUND", format!("Could not find table {table} in this base"))
    }

    pub fn record_not_found(record: &str) -> Self {
        Self::new(404, "MODEL_ID_NOT_FOUND", format!("Could not find a record with ID \"{record}\" in this table"))
    }

    pub fn field_not_found(field: &str) -> Self {
        Self::new(404, "FIELD_NOT_FOUND", format!("Could not find field {field} in this table"))
    }

    pub fn view_not_found(view: &str) -> Self {
        Self::new(422, "VIEW_NAME_NOT_FOUND", format!("View \"{view}\" does not exist in this table"))
    }

    pub fn unknown_field(name: &str) -> Self {
        Self::new(422, "UNKNOWN_FIELD_NAME", format!("Unknown field name: \"{name}\""))
    }

    pub fn invalid_formula(detail: impl std::fmt::Display) -> Self {
        Self::new(422, "INVALID_FILTER_BY_FORMULA", format!("The formula for filtering records is invalid: {detail}"))
    }

    pub fn expired_offset() -> Self {
        Self::new(
            422,
            "LIST_RECORDS_ITERATOR_NOT_AVAILABLE",
            "The offset has expired or is invalid. Start the listing again without an offset.",
        )
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(422, "INVALID_REQUEST_UNKNOWN", message)
    }

    pub fn invalid_records(message: impl Into<String>) -> Self {
        Self::new(422, "INVALID_RECORDS", message)
    }

    pub fn invalid_value(message: impl Into<String>) -> Self {
        Self::new(422, "INVALID_VALUE_FOR_COLUMN", message)
    }

    pub fn duplicate_name(what: &str, name: &str) -> Self {
        Self::new(422, "DUPLICATE_OR_EMPTY_FIELD_NAME", format!("{what} name \"{name}\" is empty or already used"))
    }

    /// Over a limit, with the time left in the penalty that follows.
    pub fn rate_limited(retry_after: std::time::Duration) -> Self {
        Self { retry_after: Some(retry_after), ..Self::new(429, "RATE_LIMIT_REACHED", "Rate limit exceeded. Please try again later") }
    }

    pub fn too_large(limit: usize) -> Self {
        Self::new(413, "REQUEST_TOO_LARGE", format!("The request body is over {limit} bytes"))
    }

    /// Every formula evaluator stayed busy for as long as a listing may wait.
    pub fn busy() -> Self {
        Self::new(503, "SERVICE_UNAVAILABLE", "The sandbox is busy evaluating other formulas; try again in a moment.")
    }

    /// The write the fault plan refuses.
    pub fn injected_failure() -> Self {
        Self::new(422, "INVALID_REQUEST_UNKNOWN", "This write was refused on purpose (PYAIRTABLE_SANDBOX_FAULT).")
    }

    /// The answer of a write that was applied, lost on purpose.
    pub fn answer_lost() -> Self {
        Self::new(504, "GATEWAY_TIMEOUT", "The answer to this write was dropped on purpose (PYAIRTABLE_SANDBOX_FAULT); it was applied.")
    }

    pub fn server_error() -> Self {
        Self::new(500, "SERVER_ERROR", "Something went wrong in the sandbox; try again.")
    }
}

impl From<DbError> for SandboxError {
    fn from(e: DbError) -> Self {
        tracing::error!(error = %e, "sandbox database query failed");
        Self::server_error()
    }
}

impl From<sqlx::Error> for SandboxError {
    fn from(e: sqlx::Error) -> Self {
        DbError::from(e).into()
    }
}

impl From<super::cells::CellError> for SandboxError {
    fn from(e: super::cells::CellError) -> Self {
        Self::new(422, e.airtable_type(), e.to_string())
    }
}
