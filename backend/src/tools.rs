//! One catalog of Airtable tools, used by the chat agent, by MCP, by the REST API and by
//! workflows. Each tool takes JSON arguments described by a JSON Schema and answers with JSON
//! held to a size budget; a failure is text the caller (often a model) can act on.

mod analyze;
mod budget;
mod cells;
mod export;
mod read;
mod resolve;
mod schema_change;
mod sync;
mod write;

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::airtable::{AirtableError, Client};
use crate::model::auth::Scope;
use crate::model::tools::{ToolHints, ToolInfo};

pub use budget::RESULT_BUDGET;

/// What a tool acts on: the caller's own Airtable connection, or their sandbox.
#[derive(Clone)]
pub struct ToolContext {
    pub client: Client,
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
/// Hints for a tool that overwrites or deletes, where repeating it changes nothing more.
pub(crate) const OVERWRITE: ToolHints = ToolHints { read_only_hint: false, destructive_hint: true, idempotent_hint: true };

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
        // MCP clients send no `arguments` at all for a tool without parameters.
        let arguments = if arguments.is_null() { Value::Object(Default::default()) } else { arguments };
        let input: T::Input = serde_json::from_value(arguments)
            .map_err(|e| ToolError::Invalid(format!("The arguments for {} are not right: {e}. See the tool's input schema.", T::NAME)))?;
        self.tool.run(ctx, input).await
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
        ];
        let by_name = tools.iter().enumerate().map(|(i, t)| (t.info().name.clone(), i)).collect();
        Self { tools: Arc::new(tools), by_name: Arc::new(by_name) }
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
        let tool = self.by_name.get(name).map(|&i| &self.tools[i]).ok_or_else(|| ToolError::UnknownTool(name.chars().take(80).collect()))?;
        if !allowed(tool.info(), scope) {
            return Err(ToolError::ReadOnly(name.to_owned()));
        }
        let started = std::time::Instant::now();
        let result = tool.call(ctx, arguments).await;
        tracing::info!(tool = name, ok = result.is_ok(), elapsed_ms = started.elapsed().as_millis() as u64, "tool call");
        result
    }
}

fn allowed(info: &ToolInfo, scope: Scope) -> bool {
    scope == Scope::Write || info.annotations.read_only_hint
}
