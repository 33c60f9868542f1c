//! The caller's uploaded files: listing them, and importing a table file into a base.

use std::collections::BTreeMap;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::tool::{ADD, READ, Tool, ToolContext, ToolError};
use crate::model::tools::ToolHints;

/// Where the file tools go. The files service is the one there is; the trait keeps the
/// catalog from depending on it.
#[async_trait]
pub trait FileAccess: Send + Sync {
    async fn list(&self, ctx: &ToolContext) -> Result<Value, ToolError>;
    async fn import(&self, ctx: &ToolContext, input: ImportFileInput) -> Result<Value, ToolError>;
}

#[derive(Deserialize, JsonSchema)]
pub struct ListFilesInput {}

/// Lists the caller's files; the catalog sends its calls to the files service.
pub struct ListFiles;

#[async_trait]
impl Tool for ListFiles {
    type Input = ListFilesInput;
    const NAME: &'static str = "list_files";
    const TITLE: &'static str = "List uploaded files";
    const DESCRIPTION: &'static str = "Lists the files the user uploaded (newest first): each one's file_id, name, kind, size, rows, and columns with their inferred field types. Table files (CSV, Excel, JSON) can be imported with import_file.";
    const HINTS: ToolHints = READ;

    async fn run(&self, _ctx: &ToolContext, _input: ListFilesInput) -> Result<Value, ToolError> {
        Err(unavailable())
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct ImportFileInput {
    /// The file's ID, from list_files.
    pub file_id: String,
    /// The base's ID, starting with "app".
    pub base_id: String,
    /// An existing table's name or ID, or the name of a new table, which is then made from
    /// the file's columns and their inferred types.
    pub table: String,
    /// Column name → field name, or null to skip the column; columns left out are skipped.
    /// Without a mapping every column goes to the field of its name, made when missing.
    #[serde(default)]
    pub mapping: Option<BTreeMap<String, Option<String>>>,
    /// A field whose value identifies a record: matching records are updated instead of
    /// added again, so importing the same file twice doesn't duplicate it.
    #[serde(default)]
    pub key_field: Option<String>,
}

/// Starts importing a file; the catalog sends its calls to the files service.
pub struct ImportFile;

#[async_trait]
impl Tool for ImportFile {
    type Input = ImportFileInput;
    const NAME: &'static str = "import_file";
    const TITLE: &'static str = "Import a file into a table";
    const DESCRIPTION: &'static str = "Starts importing an uploaded CSV, Excel or JSON file into a table, in the background, and answers at once with the import's ID and progress. Every row is written, or set aside with the reason; the whole import can be undone with undo_change and its change_id.";
    const HINTS: ToolHints = ADD;

    async fn run(&self, _ctx: &ToolContext, _input: ImportFileInput) -> Result<Value, ToolError> {
        Err(unavailable())
    }
}

fn unavailable() -> ToolError {
    ToolError::Invalid("Files are not available here.".into())
}
