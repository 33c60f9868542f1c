//! The caller's workflows: listing them, creating one from its JSON, running one, and reading
//! its runs. The catalog sends these calls to the workflows service.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::tool::{ADD, READ, Tool, ToolContext, ToolError};
use crate::model::tools::ToolHints;

/// Where the workflow tools go. The workflows service is the one there is; the trait keeps the
/// catalog from depending on it.
#[async_trait]
pub trait WorkflowAccess: Send + Sync {
    async fn list(&self, ctx: &ToolContext) -> Result<Value, ToolError>;
    async fn create(&self, ctx: &ToolContext, workflow: Value) -> Result<Value, ToolError>;
    async fn run(&self, ctx: &ToolContext, workflow_id: &str, inputs: Value) -> Result<Value, ToolError>;
    async fn runs(&self, ctx: &ToolContext, workflow_id: &str) -> Result<Value, ToolError>;
}

/// The names of the workflow tools, which a workflow's own steps can't call (a workflow that
/// starts workflows could start itself without end).
pub const WORKFLOW_TOOLS: [&str; 4] = [ListWorkflows::NAME, CreateWorkflow::NAME, RunWorkflow::NAME, ListWorkflowRuns::NAME];

#[derive(Deserialize, JsonSchema)]
pub struct ListWorkflowsInput {}

pub struct ListWorkflows;

#[async_trait]
impl Tool for ListWorkflows {
    type Input = ListWorkflowsInput;
    const NAME: &'static str = "list_workflows";
    const TITLE: &'static str = "List workflows";
    const DESCRIPTION: &'static str = "Lists the user's workflows: each one's workflow_id, name, trigger (in words), whether it is on, and its last run.";
    const HINTS: ToolHints = READ;

    async fn run(&self, _ctx: &ToolContext, _input: ListWorkflowsInput) -> Result<Value, ToolError> {
        Err(unavailable())
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct CreateWorkflowInput {
    /// The workflow as JSON: {"name": "…", "trigger": {"kind": "manual" | "schedule" | "webhook" | "record" | "file", …}, "steps": [{"id": "add", "kind": "tool" | "llm" | "http" | "condition" | "loop", …}]}. A tool step is {"id", "kind": "tool", "tool": "<catalog tool>", "arguments": {…}}; an llm step {"id", "kind": "llm", "prompt": "…", "schema"?: {JSON Schema}}; an http step {"id", "kind": "http", "method", "url", "headers"?, "body"?}; a condition {"id", "kind": "condition", "if": "<expression>"}; a loop {"id", "kind": "loop", "over": "<expression giving a list>", "steps": […]}. A schedule trigger has "cron" and "timezone"; a record trigger "base_id", "table" and "on": "created" | "changed"; a manual trigger "inputs": [{"name", "type": "text" | "number" | "boolean", "required"}]. Strings may hold templates such as {{ trigger.inputs.title }}, {{ trigger.record.fields.Name }} or {{ steps.summarize.output.text }}.
    pub workflow: Value,
}

pub struct CreateWorkflow;

#[async_trait]
impl Tool for CreateWorkflow {
    type Input = CreateWorkflowInput;
    const NAME: &'static str = "create_workflow";
    const TITLE: &'static str = "Create a workflow";
    const DESCRIPTION: &'static str = "Creates a workflow from its JSON (see the workflow argument) and answers its workflow_id and version, or every problem found, each with its step and field, to fix and call again.";
    const HINTS: ToolHints = ADD;

    async fn run(&self, _ctx: &ToolContext, _input: CreateWorkflowInput) -> Result<Value, ToolError> {
        Err(unavailable())
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct RunWorkflowInput {
    /// The workflow's ID, from list_workflows or create_workflow.
    pub workflow_id: String,
    /// A manual trigger's inputs by name, such as {"title": "Call Ada"}.
    #[serde(default)]
    pub inputs: Value,
}

pub struct RunWorkflow;

#[async_trait]
impl Tool for RunWorkflow {
    type Input = RunWorkflowInput;
    const NAME: &'static str = "run_workflow";
    const TITLE: &'static str = "Run a workflow";
    const DESCRIPTION: &'static str = "Starts a run of a workflow in the background and answers its run_id at once; list_workflow_runs shows how it went.";
    const HINTS: ToolHints = ADD;

    async fn run(&self, _ctx: &ToolContext, _input: RunWorkflowInput) -> Result<Value, ToolError> {
        Err(unavailable())
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct ListWorkflowRunsInput {
    /// The workflow's ID.
    pub workflow_id: String,
}

pub struct ListWorkflowRuns;

#[async_trait]
impl Tool for ListWorkflowRuns {
    type Input = ListWorkflowRunsInput;
    const NAME: &'static str = "list_workflow_runs";
    const TITLE: &'static str = "List a workflow's runs";
    const DESCRIPTION: &'static str = "Lists a workflow's runs, newest first: each run's run_id, status (queued, running, succeeded, failed, cancelled), error and times.";
    const HINTS: ToolHints = READ;

    async fn run(&self, _ctx: &ToolContext, _input: ListWorkflowRunsInput) -> Result<Value, ToolError> {
        Err(unavailable())
    }
}

fn unavailable() -> ToolError {
    ToolError::Invalid("Workflows are not available here.".into())
}
