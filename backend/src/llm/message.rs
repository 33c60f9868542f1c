//! What every provider is given and gives back, whatever its wire format: the conversation so
//! far, the tools the model may call, and the model's answer with its tool calls and usage.

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use crate::model::llm::Usage;

/// A tool the model may call: the catalog's name, description and JSON Schema.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// A JSON Schema whose root is `type: object`.
    pub parameters: Value,
}

/// One call the model asked for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The provider's ID for the call (OpenAI's `call_…`). Gemini gives none, so one is made up;
    /// either way results are matched to calls by it.
    pub id: String,
    pub name: String,
    /// Always a JSON object.
    pub arguments: Value,
    /// Gemini's `thoughtSignature` on this call's part, sent back unchanged with the history.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

/// A tool's answer to one call, as the model reads it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The [`ToolCall::id`] this answers.
    pub call_id: String,
    pub name: String,
    /// The tool's JSON, or `{"error": "…"}` when it failed or the user denied it.
    pub content: Value,
}

/// One entry of the conversation the model sees.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    User(String),
    /// The model's earlier answer: its text and the calls it made.
    Assistant { text: String, tool_calls: Vec<ToolCall> },
    /// The answers to every call of the `Assistant` message just before.
    ToolResults(Vec<ToolResult>),
}

/// Everything one model call needs.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub model: String,
    /// The instructions, with the selected base and its schema in brief.
    pub system: String,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    /// The conversation's base. Real models read it in `system`; the offline assistant, which
    /// reads no prose, takes it from here.
    pub base_id: Option<String>,
}

/// The model's whole answer to one request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reply {
    pub text: String,
    /// In the order the model gave them; several mean they may run in parallel.
    pub tool_calls: Vec<ToolCall>,
    pub usage: Usage,
}
