//! The catalog: every tool by name, with its description, run for a caller's scope.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

use super::tool::{Tool, ToolContext, ToolError, parse_arguments};
use super::changes::{Recorder, UndoChange, UndoChangeInput};
use super::files::{FileAccess, ImportFile, ListFiles};
use super::workflows::{CreateWorkflow, CreateWorkflowInput, ListWorkflowRuns, ListWorkflowRunsInput, ListWorkflows, RunWorkflow, RunWorkflowInput, WorkflowAccess};
use super::{analyze, changes, export, files, read, schema_change, sync, workflows, write};
use crate::analytics::{Analytics, Event};
use crate::model::auth::Scope;
use crate::model::tools::ToolInfo;

#[async_trait]
trait Erased: Send + Sync {
    fn info(&self) -> &ToolInfo;
    async fn call(&self, ctx: &ToolContext, arguments: Value) -> Result<Value, ToolError>;
}

struct Entry<T: Tool> {
    tool: T,
    info: ToolInfo,
}

#[async_trait]
impl<T: Tool> Erased for Entry<T> {
    fn info(&self) -> &ToolInfo {
        &self.info
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> Result<Value, ToolError> {
        self.tool.run(ctx, parse_arguments(T::NAME, arguments)?).await
    }
}

fn entry<T: Tool>(tool: T) -> Arc<dyn Erased> {
    let mut schema = serde_json::to_value(schemars::schema_for!(T::Input)).expect("a JSON Schema serializes");
    if let Some(object) = schema.as_object_mut() {
        // The draft marker and title add nothing for a client that already knows the tool.
        object.remove("$schema");
        object.remove("title");
    }
    let info = ToolInfo {
        name: T::NAME.into(),
        title: T::TITLE.into(),
        description: T::DESCRIPTION.into(),
        input_schema: schema,
        annotations: T::HINTS,
    };
    Arc::new(Entry { tool, info })
}

/// Every tool, by name. Cheap to clone.
#[derive(Clone)]
pub struct Catalog {
    tools: Arc<Vec<Arc<dyn Erased>>>,
    by_name: Arc<HashMap<String, usize>>,
    analytics: Analytics,
    /// Where record writes and undos go, when changes are recorded.
    recorder: Option<Arc<dyn Recorder>>,
    /// Where the file tools go, when there are files.
    files: Option<Arc<dyn FileAccess>>,
    /// Where the workflow tools go, once set; shared by every clone, since the workflows
    /// service is made after the catalog it runs its steps with.
    workflows: Arc<std::sync::OnceLock<Arc<dyn WorkflowAccess>>>,
}

impl Default for Catalog {
    fn default() -> Self {
        Self::new()
    }
}

impl Catalog {
    pub fn new() -> Self {
        let tools: Vec<Arc<dyn Erased>> = vec![
            entry(read::ListBases),
            entry(read::ListTables),
            entry(read::DescribeTable),
            entry(read::ListRecords),
            entry(read::GetRecord),
            entry(read::SearchRecords),
            entry(read::GetFieldInfo),
            entry(write::CreateRecords),
            entry(write::UpdateRecords),
            entry(write::UpsertRecords),
            entry(write::DeleteRecords),
            entry(schema_change::CreateTable),
            entry(schema_change::UpdateTable),
            entry(schema_change::CreateField),
            entry(schema_change::UpdateField),
            entry(analyze::AnalyzeTableData),
            entry(analyze::FindDuplicates),
            entry(export::ExportTableCsv),
            entry(export::CreateMetadataTable),
            entry(sync::SyncTables),
            entry(changes::UndoChange),
            entry(files::ListFiles),
            entry(files::ImportFile),
            entry(workflows::ListWorkflows),
            entry(workflows::CreateWorkflow),
            entry(workflows::RunWorkflow),
            entry(workflows::ListWorkflowRuns),
        ];
        let by_name = tools.iter().enumerate().map(|(i, t)| (t.info().name.clone(), i)).collect();
        Self { tools: Arc::new(tools), by_name: Arc::new(by_name), analytics: Analytics::default(), recorder: None, files: None, workflows: Arc::default() }
    }

    /// The same catalog, recording every record write with `recorder` so it can be undone.
    pub fn with_recorder(mut self, recorder: Arc<dyn Recorder>) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// The same catalog, with the caller's uploaded files behind the file tools.
    pub fn with_files(mut self, files: Arc<dyn FileAccess>) -> Self {
        self.files = Some(files);
        self
    }

    /// Sets where the workflow tools go, for this catalog and its clones; the first call wins.
    pub fn set_workflows(&self, workflows: Arc<dyn WorkflowAccess>) {
        if self.workflows.set(workflows).is_err() {
            tracing::warn!("the catalog's workflows were set twice; the first is kept");
        }
    }

    /// The same catalog, recording every call in `analytics`.
    pub fn with_analytics(mut self, analytics: Analytics) -> Self {
        self.analytics = analytics;
        self
    }

    /// The tools a caller with `scope` may see: a read-only key sees only the read-only ones.
    pub fn list(&self, scope: Scope) -> Vec<&ToolInfo> {
        self.tools.iter().map(|t| t.info()).filter(|info| allowed(info, scope)).collect()
    }

    /// One tool's description, whatever the scope.
    pub fn info(&self, name: &str) -> Option<&ToolInfo> {
        self.by_name.get(name).map(|&i| self.tools[i].info())
    }

    /// Runs a tool for a caller with `scope`.
    ///
    /// # Errors
    /// `UnknownTool`, `ReadOnly` for a writing tool called with a read-only scope, `Invalid`
    /// arguments, or what Airtable answered.
    pub async fn call(&self, ctx: &ToolContext, scope: Scope, name: &str, arguments: Value) -> Result<Value, ToolError> {
        let started = std::time::Instant::now();
        let result = self.run(ctx, scope, name, arguments).await;
        let elapsed = started.elapsed();
        tracing::info!(tool = name, ok = result.is_ok(), elapsed_ms = elapsed.as_millis() as u64, "tool call");
        // Names callers invent are counted under one name, so they can't grow the rollups.
        let known = if self.by_name.contains_key(name) { name } else { "unknown_tool" };
        let error = result.as_ref().err().map(ToString::to_string);
        self.analytics.record(Event::tool_call(known, ctx.source, ctx.user_id.as_deref(), elapsed, error));
        result
    }

    async fn run(&self, ctx: &ToolContext, scope: Scope, name: &str, arguments: Value) -> Result<Value, ToolError> {
        let tool = self.by_name.get(name).map(|&i| &self.tools[i]).ok_or_else(|| ToolError::UnknownTool(name.chars().take(80).collect()))?;
        if !allowed(tool.info(), scope) {
            return Err(ToolError::ReadOnly(name.to_owned()));
        }
        match &self.recorder {
            Some(recorder) if write::RECORD_WRITES.contains(&name) => recorder.write(ctx, name, arguments).await,
            Some(recorder) if name == <UndoChange as Tool>::NAME => {
                let input: UndoChangeInput = parse_arguments(name, arguments)?;
                recorder.undo(ctx, &input.change_id, input.overwrite).await
            }
            _ => match (&self.files, self.workflows.get()) {
                (Some(files), _) if name == <ListFiles as Tool>::NAME => files.list(ctx).await,
                (Some(files), _) if name == <ImportFile as Tool>::NAME => files.import(ctx, parse_arguments(name, arguments)?).await,
                (_, Some(workflows)) if name == <ListWorkflows as Tool>::NAME => workflows.list(ctx).await,
                (_, Some(workflows)) if name == <CreateWorkflow as Tool>::NAME => {
                    let input: CreateWorkflowInput = parse_arguments(name, arguments)?;
                    workflows.create(ctx, input.workflow).await
                }
                (_, Some(workflows)) if name == <RunWorkflow as Tool>::NAME => {
                    let input: RunWorkflowInput = parse_arguments(name, arguments)?;
                    workflows.run(ctx, &input.workflow_id, input.inputs).await
                }
                (_, Some(workflows)) if name == <ListWorkflowRuns as Tool>::NAME => {
                    let input: ListWorkflowRunsInput = parse_arguments(name, arguments)?;
                    workflows.runs(ctx, &input.workflow_id).await
                }
                _ => tool.call(ctx, arguments).await,
            },
        }
    }
}

fn allowed(info: &ToolInfo, scope: Scope) -> bool {
    scope == Scope::Write || info.annotations.read_only_hint
}
