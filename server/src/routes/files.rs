//! Files over plain HTTP. `POST /api/files/upload`, multipart with the file in the field
//! `file`: the body streams to disk under the upload limit instead of the 2 MiB limit on
//! everything else, so this route is mounted apart from the others. And
//! `GET /api/files/imports/{id}/rejected.csv`: the rows an import set aside, with the reasons.

use axum::Json;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::response::IntoResponse;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{MethodRouter, post};
use backend::Services;
use backend::model::files::FileSummary;

use super::AppState;
use super::edge::{ApiError, Caller, Writer};
use app::error::AppError;

/// Room for the multipart framing around the file itself.
const FRAMING_BYTES: u64 = 64 * 1024;

/// The upload route, with axum's own body cap lifted: `Files::receive` enforces the limit
/// while the file streams in.
pub fn upload_route() -> MethodRouter<AppState> {
    post(upload).layer(DefaultBodyLimit::disable())
}

/// `POST /api/files/upload`: 201 with `{id, name, size, kind, rows, columns, …}`; 413 over
/// the limit, 422 for a file that is not what it claims or can't be read.
async fn upload(State(services): State<Services>, Writer(principal): Writer, headers: HeaderMap, mut form: Multipart) -> Result<(StatusCode, Json<FileSummary>), ApiError> {
    let max_bytes = services.files.settings().max_bytes;
    // A body announced as too large is refused before a byte of it is read.
    let announced = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > max_bytes + FRAMING_BYTES) {
        return Err(ApiError(backend::files::FileError::TooLarge { limit_mb: max_bytes.div_ceil(1024 * 1024) }.into()));
    }
    while let Some(field) = form.next_field().await.map_err(|e| ApiError(AppError::Invalid(format!("The upload is not a valid multipart form: {}.", e.body_text()))))? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("upload").to_owned();
        let file = services.files.receive(&principal.user.id, &name, Box::pin(field)).await?;
        return Ok((StatusCode::CREATED, Json(file)));
    }
    Err(ApiError(AppError::Invalid("The form has no file: send it in a field named “file”.".into())))
}

/// `GET /api/files/imports/{id}/rejected.csv`: the file's columns and a `reason` column, one
/// row for each row the import set aside, as an attachment.
pub async fn rejected_rows(State(services): State<Services>, Caller(principal): Caller, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let csv = services.files.rejected_csv(&principal.user.id, id.trim()).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8"), (header::CONTENT_DISPOSITION, "attachment; filename=\"rejected-rows.csv\"")],
        csv,
    ))
}
