//! One catalog of Airtable tools, used by the chat agent, by MCP, by the REST API and by
//! workflows. Each tool takes JSON arguments described by a JSON Schema and answers with JSON
//! held to a size budget; a failure is text the caller (often a model) can act on.

mod analyze;
mod budget;
mod catalog;
mod cells;
mod changes;
mod export;
mod files;
mod read;
mod resolve;
mod schema_change;
mod sync;
mod tool;
mod workflows;
mod write;

pub use budget::RESULT_BUDGET;
pub use catalog::Catalog;
pub use changes::Recorder;
pub use files::{FileAccess, ImportFileInput};
pub use workflows::{WORKFLOW_TOOLS, WorkflowAccess};
pub(crate) use export::to_csv;
pub(crate) use write::{Applied, RECORD_WRITES, Write, WriteKind};
pub use tool::{ToolContext, ToolError};
