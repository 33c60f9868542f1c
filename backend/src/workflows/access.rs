//! The catalog's workflow tools, answered by the workflows service for chat and MCP callers.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{WorkflowError, Workflows, WorkflowsHandle};
use crate::shown::Shown;
use crate::tools::{ToolContext, ToolError, WorkflowAccess};

impl WorkflowsHandle {
    fn service(&self) -> Result<Workflows, ToolError> {
        self.get().ok_or_else(|| ToolError::Invalid("Workflows are not available: the server is stopping.".into()))
    }
}

#[async_trait]
impl WorkflowAccess for WorkflowsHandle {
    async fn list(&self, ctx: &ToolContext) -> Result<Value, ToolError> {
        let list = self.service()?.list(&ctx.user()?).await.map_err(refused)?;
        let workflows: Vec<Value> = list
            .into_iter()
            .map(|w| {
                json!({
                    "workflow_id": w.id, "name": w.name, "version": w.version, "trigger": w.trigger_text, "enabled": w.enabled,
                    "disabled_reason": w.disabled_reason,
                    "last_run": w.last_run.map(|r| json!({"run_id": r.id, "status": r.status, "error": r.error})),
                })
            })
            .collect();
        Ok(json!({ "workflows": workflows }))
    }

    async fn create(&self, ctx: &ToolContext, workflow: Value) -> Result<Value, ToolError> {
        let workflows = self.service()?;
        let saved = workflows.save(&ctx.user()?, None, &workflow).await.map_err(refused)?;
        let mut answer = json!({"workflow_id": saved.id, "version": saved.version, "page": format!("/workflows/{}", saved.id)});
        if let Some(secret) = saved.webhook_secret {
            answer["webhook_url"] = json!(workflows.webhook_url(&saved.id));
            answer["webhook_secret"] = json!(secret);
            answer["note"] = json!("Send the secret as Authorization: Bearer <secret>; it is shown only once.");
        }
        Ok(answer)
    }

    async fn run(&self, ctx: &ToolContext, workflow_id: &str, inputs: Value) -> Result<Value, ToolError> {
        let run_id = self.service()?.run(&ctx.user()?, workflow_id.trim(), inputs, false).await.map_err(refused)?;
        Ok(json!({"run_id": run_id, "status": "queued"}))
    }

    async fn runs(&self, ctx: &ToolContext, workflow_id: &str) -> Result<Value, ToolError> {
        let runs = self.service()?.runs(&ctx.user()?, workflow_id.trim()).await.map_err(refused)?;
        let runs: Vec<Value> = runs
            .into_iter()
            .take(20)
            .map(|r| json!({"run_id": r.id, "status": r.status, "error": r.error, "test": r.test, "created_ms": r.created_ms, "finished_ms": r.finished_ms}))
            .collect();
        Ok(json!({ "runs": runs }))
    }
}

/// A workflow error as the caller (often a model) reads it: what to fix, or the generic
/// message for ours.
fn refused(e: WorkflowError) -> ToolError {
    match e {
        WorkflowError::NotFound => ToolError::Invalid("No workflow or run with that ID was found; list_workflows gives the IDs.".into()),
        other => ToolError::Invalid(other.shown()),
    }
}
