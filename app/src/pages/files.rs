//! Uploaded files: the server functions scripts use to list, read, preview and delete them.
//! Uploads themselves arrive at `POST /api/files/upload` (server/src/routes/files.rs), which
//! streams past the 2 MiB limit server functions have. The `/files` page comes with imports.

use backend::model::files::{FileSummary, Preview};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// The most rows a preview shows.
const PREVIEW_ROWS: usize = 50;

/// The caller's files, newest first.
#[server(prefix = "/api", endpoint = "files/list", input = Json)]
pub async fn list_files() -> Result<Vec<FileSummary>, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().files.list(&principal.user.id).await?)
}

/// One of the caller's files, with its columns and their inferred types.
#[server(prefix = "/api", endpoint = "files/get", input = Json)]
pub async fn get_file(id: String) -> Result<FileSummary, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().files.get(&principal.user.id, id.trim()).await?)
}

/// A table file's first rows as read (at most 50), under the chosen sheet's columns.
#[server(prefix = "/api", endpoint = "files/preview", input = Json)]
pub async fn preview_file(id: String, sheet: Option<String>, rows: Option<usize>) -> Result<Preview, AppError> {
    let principal = crate::auth::require_user()?;
    let rows = rows.unwrap_or(PREVIEW_ROWS).clamp(1, PREVIEW_ROWS);
    let sheet = sheet.as_deref().map(str::trim).filter(|s| !s.is_empty());
    Ok(crate::auth::services().files.preview(&principal.user.id, id.trim(), sheet, rows).await?)
}

/// Deletes one of the caller's files.
#[server(prefix = "/api", endpoint = "files/delete", input = Json)]
pub async fn delete_file(id: String) -> Result<(), AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().files.delete(&principal.user.id, id.trim()).await?)
}
