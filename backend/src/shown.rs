//! What a user, or the LLM provider a turn talks to, may read of a failure: the error's own
//! message when it was written for them, and a fixed sentence when it is ours (a database or
//! wiring failure), whose detail goes to the log instead.

use crate::chat::ChatError;
use crate::connections::ConnectionError;
use crate::llm::LlmSettingsError;
use crate::tools::ToolError;

/// The sentence shown in place of an internal failure.
pub const INTERNAL: &str = "Something went wrong on our side. Try again; if it keeps happening, tell the administrator.";

/// A failure that may reach a user or a provider as text.
pub trait Shown: std::error::Error {
    /// Whether the failure is ours, so that its text stays in the log.
    fn is_internal(&self) -> bool;

    /// The text to show: the error's own message, or [`INTERNAL`] once the detail is logged.
    fn shown(&self) -> String {
        if self.is_internal() {
            tracing::error!(error = %self, "an internal failure was hidden from the user");
            INTERNAL.into()
        } else {
            self.to_string()
        }
    }
}

impl Shown for ChatError {
    fn is_internal(&self) -> bool {
        matches!(self, Self::Db(_))
    }
}

impl Shown for LlmSettingsError {
    fn is_internal(&self) -> bool {
        matches!(self, Self::Db(_))
    }
}

impl Shown for ConnectionError {
    fn is_internal(&self) -> bool {
        matches!(self, Self::Sandbox(_) | Self::Db(_))
    }
}

/// Tool errors are written for whoever called the tool, Airtable's included.
impl Shown for ToolError {
    fn is_internal(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_failure_is_shown_as_the_fixed_sentence() {
        let e = ChatError::Db(crate::db::DbError::Query(sqlx::Error::PoolTimedOut));
        assert_eq!(e.shown(), INTERNAL);
    }

    #[test]
    fn a_failure_written_for_the_user_is_shown_as_it_is() {
        assert_eq!(ChatError::Busy.shown(), ChatError::Busy.to_string());
    }
}
