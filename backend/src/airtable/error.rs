//! One error for everything the Airtable client can meet, parsed from both of Airtable's shapes.

use serde::Deserialize;
use serde_json::Value;

/// What went wrong talking to Airtable (or to the sandbox, which answers the same way).
#[derive(Debug, thiserror::Error)]
pub enum AirtableError {
    /// Airtable answered with an error status.
    #[error("{}", describe(*.status, .error_type, .message))]
    Api { status: u16, error_type: String, message: String },
    /// No answer arrived: connection refused, reset, or timed out before anything was sent back.
    #[error("Airtable could not be reached at {url}: {reason}. Check the network and the Airtable API address, then try again.")]
    Unreachable { url: String, reason: String },
    /// A create was sent but its answer was lost, so it may or may not have been applied.
    #[error(
        "Airtable did not confirm whether the records were created ({reason}). List the table to check before trying again, so nothing is added twice."
    )]
    MaybeApplied { reason: String },
    /// Airtable answered, but not with JSON this client understands.
    #[error("Airtable sent an answer this client could not read ({0}). Try again; if it keeps happening, report it.")]
    InvalidResponse(String),
    /// The caller asked for something the API can't express, caught before sending.
    #[error("{0}")]
    InvalidRequest(String),
}

impl AirtableError {
    /// The HTTP status Airtable answered with, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Airtable's error type, such as `INVALID_VALUE_FOR_COLUMN` or `NOT_FOUND`.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Self::Api { error_type, .. } => Some(error_type),
            _ => None,
        }
    }

    /// Whether sending the same request again later can succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { status, .. } => matches!(status, 429 | 500 | 502 | 503 | 504),
            Self::Unreachable { .. } => true,
            Self::MaybeApplied { .. } | Self::InvalidResponse(_) | Self::InvalidRequest(_) => false,
        }
    }

    /// Whether the thing asked for does not exist (or the token can't see it).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Api { status: 404, .. })
            || matches!(self, Self::Api { error_type, .. } if error_type == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND")
    }

    /// Reads an error answer in either of Airtable's shapes:
    /// `{"error":{"type":…,"message":…}}` or `{"error":"NOT_FOUND"}`.
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Envelope {
            error: Value,
        }
        let (error_type, message) = match serde_json::from_slice::<Envelope>(body).map(|e| e.error) {
            Ok(Value::String(kind)) => (kind, String::new()),
            Ok(Value::Object(detail)) => (
                detail.get("type").and_then(Value::as_str).unwrap_or("UNKNOWN_ERROR").to_owned(),
                detail.get("message").and_then(Value::as_str).unwrap_or_default().to_owned(),
            ),
            _ => (status_type(status).to_owned(), String::new()),
        };
        Self::Api { status, error_type, message }
    }
}

/// Airtable's name for a status when the body names none.
fn status_type(status: u16) -> &'static str {
    match status {
        400 => "BAD_REQUEST",
        401 => "AUTHENTICATION_REQUIRED",
        403 => "NOT_AUTHORIZED",
        404 => "NOT_FOUND",
        413 => "REQUEST_TOO_LARGE",
        422 => "INVALID_REQUEST_UNKNOWN",
        429 => "RATE_LIMIT_REACHED",
        502 => "BAD_GATEWAY",
        503 => "SERVICE_UNAVAILABLE",
        _ => "SERVER_ERROR",
    }
}

/// Airtable's message, followed by what the person reading it can do next.
fn describe(status: u16, error_type: &str, message: &str) -> String {
    let hint = match (status, error_type) {
        (401, _) => "The Airtable token was refused: paste a valid personal access token in Settings.",
        (403, _) => "The token can't reach this base: give it access to the base, with the scopes it needs, on airtable.com.",
        (404, _) | (_, "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND") => {
            "Check the base, table and record IDs or names; the token may also lack access."
        }
        (413, _) => "Send fewer or smaller records at a time.",
        (422, "INVALID_FILTER_BY_FORMULA") => "Fix the formula; quote text with '…' and wrap field names in {…}.",
        (422, "UNKNOWN_FIELD_NAME") => "Use a field name from the table's schema.",
        (422, "INVALID_MULTIPLE_CHOICE_OPTIONS") => {
            "Use one of the field's existing options, or send typecast to add new ones."
        }
        (422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE") => "The listing took too long; start it again from the first page.",
        (422, _) => "Fix the request as the message says, then try again.",
        (429, _) => "Airtable's rate limit was reached; wait 30 seconds, then try again.",
        (500.., _) => "Airtable had a problem on its side; try again in a minute.",
        _ => "Check the request, then try again.",
    };
    let message = if message.is_empty() { error_type } else { message };
    format!("Airtable answered {status} {error_type}: {message}. {hint}")
        .replace(&format!("{error_type}: {error_type}."), &format!("{error_type}."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_object_shape_keeps_type_and_message() {
        let body = br#"{"error":{"type":"INVALID_VALUE_FOR_COLUMN","message":"Field \"Budget\" cannot accept the provided value"}}"#;
        let err = AirtableError::from_response(422, body);
        assert_eq!(err.error_type(), Some("INVALID_VALUE_FOR_COLUMN"));
        assert_eq!(err.status(), Some(422));
        assert!(!err.is_retryable());
        assert!(err.to_string().contains("cannot accept the provided value"), "{err}");
    }

    #[test]
    fn the_string_shape_is_the_type() {
        let err = AirtableError::from_response(404, br#"{"error":"NOT_FOUND"}"#);
        assert_eq!(err.error_type(), Some("NOT_FOUND"));
        assert!(err.is_not_found());
        assert_eq!(
            err.to_string(),
            "Airtable answered 404 NOT_FOUND. Check the base, table and record IDs or names; the token may also lack access."
        );
    }

    #[test]
    fn a_body_that_is_not_json_still_gives_a_typed_error() {
        let err = AirtableError::from_response(503, b"<html>upstream down</html>");
        assert_eq!(err.error_type(), Some("SERVICE_UNAVAILABLE"));
        assert!(err.is_retryable());
    }

    #[test]
    fn a_rate_limit_says_how_long_to_wait() {
        let err = AirtableError::from_response(429, br#"{"errors":[]}"#);
        assert!(err.is_retryable());
        assert!(err.to_string().contains("wait 30 seconds"), "{err}");
    }
}
