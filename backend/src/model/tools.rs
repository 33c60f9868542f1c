//! The tool catalog as callers see it: over MCP, `GET /api/tools`, and in the chat.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a tool may do, as MCP's tool annotations say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolHints {
    /// It changes nothing.
    pub read_only_hint: bool,
    /// It may delete or overwrite data.
    pub destructive_hint: bool,
    /// Calling it twice with the same arguments does no more than calling it once.
    pub idempotent_hint: bool,
}

/// One tool: its name, what it does, and the JSON Schema of its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    pub name: String,
    pub title: String,
    pub description: String,
    pub input_schema: Value,
    pub annotations: ToolHints,
}

/// Where AI clients connect, and the tools they get, for Settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpEndpoint {
    /// The Streamable HTTP endpoint, e.g. `https://airtable.example.com/mcp`.
    pub url: String,
    pub tools: Vec<ToolInfo>,
}
