//! Conversations as the chat page and the API see them: messages, tool calls with their
//! state, approvals, tokens and cost.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::llm::{LlmProvider, Usage};

/// A conversation in the sidebar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub title: String,
    pub base_id: Option<String>,
    pub updated_ms: i64,
    pub usage: Usage,
    pub cost_usd: f64,
}

/// A whole conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationView {
    pub summary: ConversationSummary,
    pub messages: Vec<MessageView>,
    /// Whether a turn is running now (its text arrives on the conversation's event stream).
    pub running: bool,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
}

/// How a message ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    Complete,
    /// Some of its tool calls wait for the user's approval.
    AwaitingApproval,
    /// The user stopped the turn; the text is what had arrived.
    Cancelled,
    /// The turn reached its step limit here.
    StepLimit,
    /// The provider or the server failed; `error` says why.
    Failed,
}

/// One message: the user's text, or one step of the assistant's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: String,
    pub role: Role,
    /// As written (Markdown for the assistant).
    pub text: String,
    /// The assistant's Markdown rendered and sanitized; safe to insert as HTML.
    pub html: String,
    pub tool_calls: Vec<ToolCallView>,
    /// Documents the user attached to this message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentView>,
    pub status: MessageStatus,
    pub error: Option<String>,
    pub provider: Option<LlmProvider>,
    pub model: Option<String>,
    pub usage: Usage,
    pub cost_usd: f64,
    pub created_ms: i64,
}

/// A document attached to a user's message, as the chat shows it (its text stays on the server).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentView {
    pub file_id: String,
    pub name: String,
    pub kind: crate::model::files::FileKind,
    /// All of its text reached the model.
    pub whole: bool,
    /// Parts given to the model, of `parts` read; see `whole`.
    pub given: usize,
    pub parts: usize,
}

/// Where a tool call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolCallState {
    /// Waiting for the user to allow or deny it.
    AwaitingApproval,
    Running,
    Done,
    Failed,
    /// The user, or their read-only policy, said no; the model was told.
    Denied,
}

/// One tool call, as its card shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCallView {
    pub id: String,
    pub name: String,
    pub arguments: Value,
    pub state: ToolCallState,
    /// The tool's JSON, or `{"error": …}`.
    pub result: Option<Value>,
    /// Whether the tool may change data (so it needs approval).
    pub writes: bool,
    pub destructive: bool,
}

/// The user's answer to an approval request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalAnswer {
    AllowOnce,
    /// Allow this tool for the rest of the conversation.
    AllowConversation,
    Deny,
}

impl ApprovalAnswer {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "allow_once" => Some(Self::AllowOnce),
            "allow_conversation" => Some(Self::AllowConversation),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }
}

/// When the chat may change data without asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalPolicy {
    /// Every tool that changes data waits for the user.
    #[default]
    AlwaysAsk,
    AutoApproveWrites,
    /// Tools that change data are refused.
    ReadOnly,
}

impl ApprovalPolicy {
    pub const ALL: [ApprovalPolicy; 3] = [Self::AlwaysAsk, Self::AutoApproveWrites, Self::ReadOnly];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AlwaysAsk => "always_ask",
            Self::AutoApproveWrites => "auto_approve_writes",
            Self::ReadOnly => "read_only",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::AlwaysAsk => "Ask before every change (recommended)",
            Self::AutoApproveWrites => "Make changes without asking",
            Self::ReadOnly => "Read only: never change data",
        }
    }
}

/// A user's chat preferences: approvals and spending limits.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ChatPreferences {
    pub approval_policy: ApprovalPolicy,
    pub daily_budget_usd: Option<f64>,
    pub monthly_budget_usd: Option<f64>,
}

/// What each user may spend on the server's own LLM key, as an administrator set it (`None`
/// for no limit). Users who saved a key of their own are not held to it.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ServerKeyBudget {
    pub daily_usd: Option<f64>,
    pub monthly_usd: Option<f64>,
}

/// What a user has spent, for the chat page and Settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Spending {
    pub today_usd: f64,
    pub month_usd: f64,
    pub total_usd: f64,
    pub total_tokens: u64,
    pub preferences: ChatPreferences,
}

/// What the conversation's event stream sends while a turn runs (server-sent events, JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TurnEvent {
    /// All the text of the step in progress so far; sent first to a new listener.
    Snapshot { text: String },
    /// More text of the step in progress.
    Text { delta: String },
    /// A message was saved or changed (a step ended, a tool call started or finished): read
    /// the conversation again.
    Changed,
    /// The turn is over: finished, cancelled, failed, or waiting for approval.
    Done { status: MessageStatus },
}
