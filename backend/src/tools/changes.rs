//! Recording writes as changes that can be undone: the catalog hands every record write to a
//! [`Recorder`] (the sagas service), which logs it before and after it lands, and `undo_change`
//! asks the recorder to compensate one.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::tool::{OVERWRITE, Tool, ToolContext, ToolError};
use crate::model::tools::ToolHints;

/// Where record writes go when a change log is kept. The sagas service is the one there is;
/// the trait keeps the catalog from depending on it.
#[async_trait]
pub trait Recorder: Send + Sync {
    /// Runs a call of a record-writing tool as a logged change, and answers as the tool would,
    /// with the change's ID beside.
    async fn write(&self, ctx: &ToolContext, tool: &str, arguments: Value) -> Result<Value, ToolError>;

    /// Undoes a change the caller made; `overwrite` goes ahead over later edits.
    async fn undo(&self, ctx: &ToolContext, change_id: &str, overwrite: bool) -> Result<Value, ToolError>;
}

#[derive(Deserialize, JsonSchema)]
pub struct UndoChangeInput {
    /// The change_id a write's answer carried.
    pub change_id: String,
    /// Undo even where a record was edited after the change; the edits are lost. Without it,
    /// such records are listed and nothing is undone.
    #[serde(default)]
    pub overwrite: bool,
}

/// Undoes one earlier write. The catalog sends its calls to the recorder; alone it has none.
pub struct UndoChange;

#[async_trait]
impl Tool for UndoChange {
    type Input = UndoChangeInput;
    const NAME: &'static str = "undo_change";
    const TITLE: &'static str = "Undo a change";
    const DESCRIPTION: &'static str = "Undoes an earlier write by its change_id: created records are deleted, changed ones restored, deleted ones created again. Records edited since are listed instead, unless overwrite is true.";
    const HINTS: ToolHints = OVERWRITE;

    async fn run(&self, _ctx: &ToolContext, _input: UndoChangeInput) -> Result<Value, ToolError> {
        Err(ToolError::Invalid("Changes are not recorded here, so there is nothing to undo.".into()))
    }
}
