//! The file list in the database. Every read and delete is scoped to the file's owner.

use super::FileError;
use super::read::Layout;
use crate::auth::UserId;
use crate::db::Db;
use crate::model::files::{Column, FileKind, FileSummary};

const COLUMNS: &str = "id, name, size_bytes, kind, layout, row_count, columns, created_ms, expires_ms";

#[derive(sqlx::FromRow)]
struct FileRow {
    id: String,
    name: String,
    size_bytes: i64,
    kind: String,
    layout: String,
    row_count: Option<i64>,
    columns: String,
    created_ms: i64,
    expires_ms: i64,
}

impl FileRow {
    /// The summary and the layout; a row this version can't read is logged and reads as
    /// a document with no columns, so one bad row never hides the rest of the list.
    fn into_file(self) -> (FileSummary, Layout) {
        let layout: Layout = serde_json::from_str(&self.layout).unwrap_or_else(|e| {
            tracing::warn!(file = %self.id, error = %e, "a stored file's layout could not be read");
            Layout::Document
        });
        let columns: Vec<Column> = serde_json::from_str(&self.columns).unwrap_or_default();
        let sheets = match &layout {
            Layout::Sheets { sheets, .. } => sheets.clone(),
            _ => Vec::new(),
        };
        let file = FileSummary {
            id: self.id,
            name: self.name,
            size: u64::try_from(self.size_bytes).unwrap_or_default(),
            kind: FileKind::parse(&self.kind).unwrap_or(FileKind::Text),
            rows: self.row_count.and_then(|n| u64::try_from(n).ok()),
            columns,
            sheets,
            created_ms: self.created_ms,
            expires_ms: self.expires_ms,
        };
        (file, layout)
    }
}

#[derive(Clone)]
pub(super) struct Store {
    db: Db,
}

impl Store {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn insert(&self, user: &UserId, file: &FileSummary, layout: &Layout) -> Result<(), FileError> {
        sqlx::query(
            "INSERT INTO files (id, user_id, name, size_bytes, kind, layout, row_count, columns, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&file.id)
        .bind(user.as_str())
        .bind(&file.name)
        .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
        .bind(file.kind.as_str())
        .bind(serde_json::to_string(layout).unwrap_or_default())
        .bind(file.rows.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
        .bind(serde_json::to_string(&file.columns).unwrap_or_default())
        .bind(file.created_ms)
        .bind(file.expires_ms)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    pub async fn list(&self, user: &UserId) -> Result<Vec<FileSummary>, FileError> {
        let rows: Vec<FileRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM files WHERE user_id = $1 ORDER BY created_ms DESC, id DESC"
        )))
        .bind(user.as_str())
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|row| row.into_file().0).collect())
    }

    pub async fn get(&self, user: &UserId, id: &str) -> Result<(FileSummary, Layout), FileError> {
        let row: Option<FileRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM files WHERE id = $1 AND user_id = $2")))
            .bind(id)
            .bind(user.as_str())
            .fetch_optional(self.db.pool())
            .await?;
        row.map(FileRow::into_file).ok_or(FileError::NotFound)
    }

    /// Whether the user had such a file.
    pub async fn delete(&self, user: &UserId, id: &str) -> Result<bool, FileError> {
        let done = sqlx::query("DELETE FROM files WHERE id = $1 AND user_id = $2").bind(id).bind(user.as_str()).execute(self.db.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes the rows of all the user's files and answers their IDs.
    pub async fn take_all(&self, user: &UserId) -> Result<Vec<String>, FileError> {
        let ids: Vec<String> = sqlx::query_scalar("DELETE FROM files WHERE user_id = $1 RETURNING id").bind(user.as_str()).fetch_all(self.db.pool()).await?;
        Ok(ids)
    }

    /// Deletes the rows of files expired by `now_ms` and answers their IDs.
    pub async fn take_expired(&self, now_ms: i64) -> Result<Vec<String>, FileError> {
        let ids: Vec<String> = sqlx::query_scalar("DELETE FROM files WHERE expires_ms <= $1 RETURNING id").bind(now_ms).fetch_all(self.db.pool()).await?;
        Ok(ids)
    }
}
