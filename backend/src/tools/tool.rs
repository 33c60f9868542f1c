//! What every tool is: typed arguments with a JSON Schema, MCP's hints, and errors written for
//! the caller to act on.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::airtable::{AirtableError, Client};
use crate::auth::UserId;
use crate::model::analytics::ToolSource;
use crate::model::tools::ToolHints;

/// What a tool acts on (the caller's own Airtable connection, or their sandbox), and who
/// called it from where, for analytics.
#[derive(Clone)]
pub struct ToolContext {
    pub client: Client,
    pub source: ToolSource,
    pub user_id: Option<String>,
    /// The chat conversation the call belongs to, so its changes can be undone together.
    pub conversation_id: Option<String>,
}

impl ToolContext {
    pub fn new(client: Client, source: ToolSource, user_id: Option<String>) -> Self {
        Self { client, source, user_id, conversation_id: None }
    }

    /// The same context, for a call made in a chat conversation.
    pub fn in_conversation(mut self, conversation_id: &str) -> Self {
        self.conversation_id = Some(conversation_id.to_owned());
        self
    }

    /// The user who called, for tools whose work belongs to someone (changes, files).
    ///
    /// # Errors
    /// `Invalid` when no signed-in user made the call.
    pub fn user(&self) -> Result<UserId, ToolError> {
        self.user_id.as_deref().and_then(UserId::parse).ok_or_else(|| ToolError::Invalid("This tool works for a signed-in user only.".into()))
    }
}

/// Why a tool call failed, written for whoever called it to fix and call again.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("There is no tool named “{0}”. List the tools to see their names.")]
    UnknownTool(String),
    #[error("The tool {0} changes data, and this API key is read-only. Use a read-write key.")]
    ReadOnly(String),
    /// The arguments don't fit the tool's schema or its rules.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Airtable(#[from] AirtableError),
}

impl ToolError {
    /// Whether the caller's arguments were at fault (as opposed to Airtable or the network).
    pub fn is_caller_error(&self) -> bool {
        match self {
            Self::UnknownTool(_) | Self::ReadOnly(_) | Self::Invalid(_) => true,
            Self::Airtable(e) => matches!(e.status(), Some(400..=499)) && e.status() != Some(429),
        }
    }
}

/// A tool with typed arguments. The catalog erases the type so tools can sit in one list.
#[async_trait]
pub(crate) trait Tool: Send + Sync + 'static {
    type Input: DeserializeOwned + JsonSchema + Send;
    const NAME: &'static str;
    const TITLE: &'static str;
    const DESCRIPTION: &'static str;
    const HINTS: ToolHints;

    async fn run(&self, ctx: &ToolContext, input: Self::Input) -> Result<Value, ToolError>;
}

/// Hints for a tool that only reads.
pub(crate) const READ: ToolHints = ToolHints { read_only_hint: true, destructive_hint: false, idempotent_hint: true };
/// Hints for a tool that adds without overwriting.
pub(crate) const ADD: ToolHints = ToolHints { read_only_hint: false, destructive_hint: false, idempotent_hint: false };
/// Hints for a tool that overwrites or deletes (records, names, a synced table), where repeating
/// it changes nothing more.
pub(crate) const OVERWRITE: ToolHints = ToolHints { read_only_hint: false, destructive_hint: true, idempotent_hint: true };


/// A tool's typed arguments from a caller's JSON; MCP clients send nothing at all for a tool
/// without parameters.
pub(crate) fn parse_arguments<T: DeserializeOwned>(tool: &str, arguments: Value) -> Result<T, ToolError> {
    let arguments = if arguments.is_null() { Value::Object(Default::default()) } else { arguments };
    serde_json::from_value(arguments).map_err(|e| ToolError::Invalid(format!("The arguments for {tool} are not right: {e}. See the tool's input schema.")))
}
