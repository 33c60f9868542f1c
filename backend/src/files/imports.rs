//! Imports in the database: what each writes where, and the rows it set aside. Reads for
//! people are scoped to the import's owner; the feed reads by saga, holding the saga's lease.

use super::FileError;
use super::plan::Plan;
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::db::Db;

const COLUMNS: &str = "id, user_id, saga_id, file_id, file_name, base_id, table_id, table_name, plan, key_field, total_rows, stop_requested, created_ms";

#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct ImportRow {
    pub id: String,
    pub user_id: String,
    pub saga_id: String,
    pub file_id: String,
    pub file_name: String,
    pub base_id: String,
    pub table_id: String,
    pub table_name: String,
    pub plan: String,
    pub key_field: Option<String>,
    pub total_rows: i64,
    pub stop_requested: i64,
    pub created_ms: i64,
}

impl ImportRow {
    pub fn plan(&self) -> Result<Plan, FileError> {
        serde_json::from_str(&self.plan).map_err(|e| FileError::unreadable(format!("the import's plan is damaged ({e})")))
    }

    pub fn total(&self) -> u64 {
        u64::try_from(self.total_rows).unwrap_or(0)
    }
}

/// A new import, before its saga exists.
pub(super) struct NewImport<'a> {
    pub id: &'a str,
    pub user: &'a UserId,
    pub saga_id: &'a str,
    pub file_id: &'a str,
    pub file_name: &'a str,
    pub base_id: &'a str,
    pub table_id: &'a str,
    pub table_name: &'a str,
    pub plan: &'a Plan,
    pub total_rows: u64,
}

#[derive(Clone)]
pub(super) struct Imports {
    db: Db,
}

impl Imports {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn insert(&self, import: &NewImport<'_>) -> Result<(), FileError> {
        sqlx::query(
            "INSERT INTO imports (id, user_id, saga_id, file_id, file_name, base_id, table_id, table_name, plan, key_field, total_rows, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(import.id)
        .bind(import.user.as_str())
        .bind(import.saga_id)
        .bind(import.file_id)
        .bind(import.file_name)
        .bind(import.base_id)
        .bind(import.table_id)
        .bind(import.table_name)
        .bind(serde_json::to_string(import.plan).unwrap_or_default())
        .bind(import.plan.key_field.as_deref())
        .bind(i64::try_from(import.total_rows).unwrap_or(i64::MAX))
        .bind(now_ms())
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// One of the user's imports.
    pub async fn owned(&self, user: &UserId, id: &str) -> Result<ImportRow, FileError> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM imports WHERE id = $1 AND user_id = $2")))
            .bind(id)
            .bind(user.as_str())
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(FileError::ImportNotFound)
    }

    /// The import a saga runs, for its feed.
    pub async fn of_saga(&self, saga_id: &str) -> Result<Option<ImportRow>, FileError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM imports WHERE saga_id = $1")))
            .bind(saga_id)
            .fetch_optional(self.db.pool())
            .await?)
    }

    /// The user's imports of one file (all their imports when `file_id` is `None`), newest first.
    pub async fn list(&self, user: &UserId, file_id: Option<&str>, limit: i64) -> Result<Vec<ImportRow>, FileError> {
        // An untyped NULL parameter is an error in PostgreSQL, so the filter is in the text.
        let of_file = if file_id.is_some() { "AND file_id = $3" } else { "AND $3 = $3" };
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM imports WHERE user_id = $1 {of_file} ORDER BY created_ms DESC, id DESC LIMIT $2"
        )))
        .bind(user.as_str())
        .bind(limit)
        .bind(file_id.unwrap_or_default())
        .fetch_all(self.db.pool())
        .await?)
    }

    /// Asks a running import to start no new batch.
    pub async fn request_stop(&self, user: &UserId, id: &str) -> Result<(), FileError> {
        sqlx::query("UPDATE imports SET stop_requested = 1 WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user.as_str())
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Sets a row aside with its reason; setting it aside again changes nothing.
    pub async fn reject(&self, import_id: &str, row: u64, reason: &str) -> Result<(), FileError> {
        sqlx::query("INSERT INTO import_rejections (import_id, row_number, reason) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(import_id)
            .bind(i64::try_from(row).unwrap_or(i64::MAX))
            .bind(reason)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    pub async fn rejected_count(&self, import_id: &str) -> Result<u64, FileError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM import_rejections WHERE import_id = $1").bind(import_id).fetch_one(self.db.pool()).await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The rows set aside, in file order, with their reasons.
    pub async fn rejections(&self, import_id: &str) -> Result<Vec<(u64, String)>, FileError> {
        let rows: Vec<(i64, String)> =
            sqlx::query_as("SELECT row_number, reason FROM import_rejections WHERE import_id = $1 ORDER BY row_number")
                .bind(import_id)
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows.into_iter().map(|(row, reason)| (u64::try_from(row).unwrap_or(0), reason)).collect())
    }

    /// Whether one of the file's imports still has its saga running.
    pub async fn file_busy(&self, file_id: &str) -> Result<bool, FileError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM imports i JOIN sagas s ON s.id = i.saga_id WHERE i.file_id = $1 AND s.status IN ('running', 'compensating')",
        )
        .bind(file_id)
        .fetch_one(self.db.pool())
        .await?;
        Ok(n > 0)
    }
}
