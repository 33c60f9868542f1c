//! What every tool is: typed arguments with a JSON Schema, MCP's hints, and errors written for
//! the caller to act on.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::airtable::{AirtableError, Client};
use crate::model::analytics::ToolSource;
use crate::model::tools::ToolHints;

/// What a tool acts on (the caller's own Airtable connection, or their sandbox), and who
/// called it from where, for analytics.
#[derive(Clone)]
pub struct ToolContext {
    pub client: Client,
    pub source: ToolSource,
    pub user_id: Option<String>,
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

