//! Workflows as they are written (the JSON a user saves, exports and imports) and as the pages
//! and the API show them and their runs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A workflow's definition: one trigger and an ordered list of steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workflow {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub trigger: Trigger,
    pub steps: Vec<Step>,
    /// Its Airtable writes are undone together when a later step fails.
    #[serde(default, skip_serializing_if = "is_false")]
    pub transactional: bool,
    /// Runs of this workflow at once; more wait their turn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// What starts a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Trigger {
    /// Someone presses Run (or calls `workflows/run`), filling in the declared inputs.
    Manual {
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        inputs: Vec<Input>,
    },
    /// A cron expression (five fields, or six with seconds) in an IANA time zone.
    Schedule {
        cron: String,
        #[serde(default = "utc")]
        timezone: String,
    },
    /// `POST /hooks/{workflow_id}` with the workflow's secret.
    Webhook {},
    /// A record created (or, with `on: "changed"`, created or changed) in a table.
    Record {
        base_id: String,
        table: String,
        #[serde(default)]
        on: RecordEvent,
    },
    /// A file uploaded by the workflow's owner, optionally only names matching `pattern`
    /// (`*.csv`).
    File {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pattern: Option<String>,
    },
}

fn utc() -> String {
    "UTC".into()
}

impl Trigger {
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Manual { .. } => "manual",
            Self::Schedule { .. } => "schedule",
            Self::Webhook {} => "webhook",
            Self::Record { .. } => "record",
            Self::File { .. } => "file",
        }
    }
}

/// Which record events a record trigger runs for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordEvent {
    #[default]
    Created,
    /// Created or changed.
    Changed,
}

/// One input of a manual trigger, filled in when the run starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
    #[serde(default, rename = "type")]
    pub kind: InputKind,
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    #[default]
    Text,
    Number,
    Boolean,
}

/// One step. Strings anywhere in a step may hold templates (`{{ steps.find.output.records }}`);
/// a string that is one `{{ … }}` and nothing else passes the value itself (a list, a number).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    /// A call of a catalog tool.
    Tool { id: String, tool: String, #[serde(default)] arguments: Value },
    /// A prompt to the owner's model; with `schema`, the answer is JSON checked against it.
    Llm {
        id: String,
        prompt: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        schema: Option<Value>,
    },
    /// An HTTP request to a public address (or a host the administrator allowed).
    Http {
        id: String,
        #[serde(default = "get")]
        method: String,
        url: String,
        #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
        headers: std::collections::BTreeMap<String, String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<Value>,
    },
    /// Goes on when the expression is true; otherwise the run ends here, successfully.
    Condition {
        id: String,
        #[serde(rename = "if")]
        condition: String,
    },
    /// Runs `steps` once for each item of the list `over`, as `item` (and `index`, from 0).
    Loop { id: String, over: String, steps: Vec<Step> },
}

fn get() -> String {
    "GET".into()
}

impl Step {
    pub fn id(&self) -> &str {
        match self {
            Self::Tool { id, .. } | Self::Llm { id, .. } | Self::Http { id, .. } | Self::Condition { id, .. } | Self::Loop { id, .. } => id,
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Self::Tool { .. } => "tool",
            Self::Llm { .. } => "llm",
            Self::Http { .. } => "http",
            Self::Condition { .. } => "condition",
            Self::Loop { .. } => "loop",
        }
    }
}

/// One thing wrong with a definition, and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// The step's ID, or `None` for the workflow or its trigger.
    pub step: Option<String>,
    /// The field, as a path such as `arguments.records[0].Name` or `trigger.cron`.
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.step {
            Some(step) => write!(f, "step “{step}”, {}: {}", self.field, self.message),
            None => write!(f, "{}: {}", self.field, self.message),
        }
    }
}

/// What saving a workflow answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Saved {
    pub id: String,
    pub version: i64,
    /// The webhook's secret, shown once: when a webhook workflow is first saved, or its secret
    /// is replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_secret: Option<String>,
}

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for a worker, or for another run of the same workflow to finish.
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Succeeded, Self::Failed, Self::Cancelled].into_iter().find(|s| s.as_str() == text)
    }

    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Queued => "Queued",
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
        }
    }
}

/// Where a step of a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Running,
    Succeeded,
    Failed,
    /// A condition that was false, which ends the run.
    Stopped,
    /// A writing step of a test run: its input says what it would have done.
    Skipped,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::Stopped => "stopped",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Running, Self::Succeeded, Self::Failed, Self::Stopped, Self::Skipped].into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the step's output stands, so a retry or a takeover reuses it instead of running
    /// the step again.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Succeeded | Self::Skipped)
    }
}

/// A workflow in the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSummary {
    pub id: String,
    pub name: String,
    pub version: i64,
    pub trigger: String,
    /// The trigger in words ("Every day at 09:00, Europe/Paris").
    pub trigger_text: String,
    pub enabled: bool,
    /// Why it was turned off on its own.
    pub disabled_reason: Option<String>,
    pub last_run: Option<RunSummary>,
    /// A schedule's next tick, in unix milliseconds.
    pub next_run_ms: Option<i64>,
    pub updated_ms: i64,
}

/// One workflow, for the editor and for scripts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowView {
    pub summary: WorkflowSummary,
    pub workflow: Workflow,
    /// A schedule's next five ticks, in unix milliseconds.
    pub next_runs_ms: Vec<i64>,
    /// Where a webhook workflow is called.
    pub webhook_url: Option<String>,
}

/// A run in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSummary {
    pub id: String,
    pub workflow_id: String,
    pub version: i64,
    pub status: RunStatus,
    pub test: bool,
    pub error: Option<String>,
    /// The run this one retries, and the step it started from.
    pub retry_of: Option<String>,
    pub start_at: Option<String>,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
}

/// One step of a run, as the run view shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepRun {
    /// The step's ID; a loop's inner steps read `each[2].update`.
    pub step_id: String,
    pub kind: String,
    pub status: StepStatus,
    pub input: Option<Value>,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub started_ms: i64,
    pub duration_ms: Option<i64>,
}

/// A run with its steps and the definition it ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunView {
    pub summary: RunSummary,
    pub workflow_name: String,
    pub trigger: Value,
    pub steps: Vec<StepRun>,
    pub workflow: Workflow,
}
