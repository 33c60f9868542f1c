//! The file tools of the catalog (`list_files`, `import_file`), answered by the files service.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::{FileError, Files, ImportOrigin};
use crate::model::files::{ColumnMapping, ImportRequest};
use crate::model::sagas::SagaSource;
use crate::shown::Shown;
use crate::tools::{FileAccess, ImportFileInput, ToolContext, ToolError};

#[async_trait]
impl FileAccess for Files {
    async fn list(&self, ctx: &ToolContext) -> Result<Value, ToolError> {
        let files = self.list(&ctx.user()?).await.map_err(tool_error)?;
        let listed: Vec<Value> = files
            .iter()
            .map(|f| {
                json!({
                    "file_id": f.id,
                    "name": f.name,
                    "kind": f.kind.label(),
                    "size_bytes": f.size,
                    "rows": f.rows,
                    "columns": f.columns.iter().map(|c| json!({ "name": c.name, "type": c.inferred.field_type.name() })).collect::<Vec<_>>(),
                    "sheets": f.sheets,
                })
            })
            .collect();
        Ok(json!({ "files": listed }))
    }

    async fn import(&self, ctx: &ToolContext, input: ImportFileInput) -> Result<Value, ToolError> {
        let user = ctx.user()?;
        let request = ImportRequest {
            file_id: input.file_id,
            sheet: None,
            base_id: input.base_id,
            table: input.table,
            mapping: input.mapping.map(|mapping| {
                mapping.into_iter().map(|(column, field)| ColumnMapping { column, field, column_type: None }).collect()
            }),
            key_field: input.key_field,
        };
        let origin = ImportOrigin { source: SagaSource::Import, conversation_id: ctx.conversation_id.as_deref() };
        let progress = self.import(&user, &ctx.client, &request, origin).await.map_err(tool_error)?;
        let message = format!(
            "Importing {} rows of {} into {} in the background. Its progress shows on the Files page; undo_change with this change_id undoes the whole import.",
            progress.total, progress.file_name, progress.table_name
        );
        Ok(json!({
            "import_id": progress.id,
            "change_id": progress.change_id,
            "table": progress.table_name,
            "table_id": progress.table_id,
            "status": progress.status,
            "rows": progress.total,
            "rows_done": progress.done,
            "message": message,
        }))
    }
}

fn tool_error(e: FileError) -> ToolError {
    match e {
        FileError::Airtable(e) => ToolError::Airtable(e),
        other => ToolError::Invalid(other.shown()),
    }
}
