//! Sagas as the changes pages, the chat's Undo and the API see them.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::airtable::Fields;

/// Where a saga's steps ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SagaStatus {
    /// Its steps are being applied.
    Running,
    /// Every step was applied.
    Done,
    /// Being undone: its applied steps are compensated in reverse.
    Compensating,
    /// Every applied step was undone (after a failure, a cancel or an Undo).
    Compensated,
    /// A compensation kept failing; `error` says what is left.
    NeedsAttention,
}

impl SagaStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Done => "done",
            Self::Compensating => "compensating",
            Self::Compensated => "compensated",
            Self::NeedsAttention => "needs_attention",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Running, Self::Done, Self::Compensating, Self::Compensated, Self::NeedsAttention].into_iter().find(|s| s.as_str() == text)
    }

    /// Whether nothing more happens without someone asking.
    pub fn is_settled(self) -> bool {
        matches!(self, Self::Done | Self::Compensated | Self::NeedsAttention)
    }

    /// As the pages show it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Done => "Done",
            Self::Compensating => "Undoing",
            Self::Compensated => "Undone",
            Self::NeedsAttention => "Needs attention",
        }
    }
}

/// Who started a saga.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SagaSource {
    Chat,
    Mcp,
    Rest,
    /// The base browser.
    Browser,
    Import,
    Workflow,
}

impl SagaSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chat => "chat",
            Self::Mcp => "mcp",
            Self::Rest => "rest",
            Self::Browser => "browser",
            Self::Import => "import",
            Self::Workflow => "workflow",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Chat, Self::Mcp, Self::Rest, Self::Browser, Self::Import, Self::Workflow].into_iter().find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Chat => "Chat",
            Self::Mcp => "MCP",
            Self::Rest => "REST API",
            Self::Browser => "Base browser",
            Self::Import => "Import",
            Self::Workflow => "Workflow",
        }
    }
}

/// Where one step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    /// Started: some of its chunks may have landed.
    Applying,
    Applied,
    /// Refused by Airtable; what it applied before is compensated with the saga.
    Failed,
    Compensating,
    Compensated,
    /// Never applied, on purpose: an import's rows Airtable refused are set aside (or sent
    /// again one at a time), and the import goes on.
    Skipped,
}

impl StepState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Applying => "applying",
            Self::Applied => "applied",
            Self::Failed => "failed",
            Self::Compensating => "compensating",
            Self::Compensated => "compensated",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Applying, Self::Applied, Self::Failed, Self::Compensating, Self::Compensated, Self::Skipped]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A saga in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SagaSummary {
    pub id: String,
    pub title: String,
    pub source: SagaSource,
    pub status: SagaStatus,
    pub base_id: String,
    pub conversation_id: Option<String>,
    pub steps: u32,
    /// Records the saga's steps touched.
    pub records: u32,
    pub error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// One record a step touched: its values before (absent for a created record) and after
/// (absent for a deleted one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TouchedRecord {
    pub id: String,
    /// When Airtable created the record, as it reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Fields>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Fields>,
    /// For a deleted record that compensation created again: its new ID.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_as: Option<String>,
}

/// One step, as its page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub position: u32,
    pub tool: String,
    pub arguments: Value,
    pub state: StepState,
    pub records: Vec<TouchedRecord>,
    pub error: Option<String>,
    pub updated_ms: i64,
}

/// A saga with its steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SagaView {
    pub summary: SagaSummary,
    pub steps: Vec<StepView>,
}

/// A field someone changed after the saga wrote it: Undo would overwrite `now` with `before`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    pub record_id: String,
    pub field: String,
    /// What the saga left.
    pub written: Value,
    /// What the record holds now.
    pub now: Value,
    /// What Undo would put back.
    pub before: Value,
}

/// What asking to undo did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum UndoOutcome {
    /// Undone: how many records were deleted, restored and created again.
    Undone { sagas: u32, deleted: u32, restored: u32, recreated: u32 },
    /// Nothing done: records were changed since; asking again with `overwrite` goes ahead.
    Conflicts { conflicts: Vec<Conflict> },
    /// Started, but a compensation failed; the saga needs attention.
    NeedsAttention { error: String },
}

impl UndoOutcome {
    /// One sentence for the person who clicked Undo.
    pub fn message(&self) -> String {
        match self {
            Self::Undone { deleted, restored, recreated, .. } => {
                let mut parts = Vec::new();
                if *deleted > 0 {
                    parts.push(format!("removed {deleted} created record{}", plural(*deleted)));
                }
                if *restored > 0 {
                    parts.push(format!("restored {restored} changed record{}", plural(*restored)));
                }
                if *recreated > 0 {
                    parts.push(format!("brought back {recreated} deleted record{}", plural(*recreated)));
                }
                if parts.is_empty() { "Undone; nothing needed changing.".into() } else { format!("Undone: {}.", parts.join(", ")) }
            }
            Self::Conflicts { conflicts } => format!(
                "{} field{} changed since; undoing would overwrite {}.",
                conflicts.len(),
                plural(conflicts.len() as u32),
                if conflicts.len() == 1 { "it" } else { "them" }
            ),
            Self::NeedsAttention { error } => format!("Undo could not finish: {error}"),
        }
    }
}

fn plural(n: u32) -> &'static str {
    if n == 1 { "" } else { "s" }
}
