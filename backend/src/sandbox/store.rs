//! The sandbox's rows: bases owned by users, tables holding their schema as JSON, and records
//! holding their cells as JSON keyed by field ID.

use std::collections::HashSet;

use serde_json::{Map, Value};
use sqlx::{AssertSqlSafe, FromRow};

use super::SandboxError;
use super::ids::new_id;
use crate::auth::UserId;
use crate::db::Db;
use crate::model::airtable::{BaseSummary, Field, Table, View};

/// One record as stored: cells keyed by field ID, computed values beside them.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRecord {
    pub id: String,
    pub created_ms: i64,
    /// When the cells last changed; the creation time until then.
    pub modified_ms: i64,
    pub auto_number: i64,
    pub cells: Map<String, Value>,
}

impl StoredRecord {
    /// A new record with a new ID, created, and so last modified, at `now_ms`.
    /// `Store::insert_records` numbers it.
    pub fn created(cells: Map<String, Value>, now_ms: i64) -> Self {
        Self { id: new_id("rec"), created_ms: now_ms, modified_ms: now_ms, auto_number: 0, cells }
    }
}

#[derive(FromRow)]
struct BaseRow {
    id: String,
    name: String,
}

#[derive(FromRow)]
struct TableRow {
    id: String,
    name: String,
    description: Option<String>,
    primary_field_id: String,
    fields: String,
    views: String,
}

impl TableRow {
    fn into_table(self) -> Result<Table, SandboxError> {
        let fields: Vec<Field> = serde_json::from_str(&self.fields).map_err(damaged)?;
        let views: Vec<View> = serde_json::from_str(&self.views).map_err(damaged)?;
        let json = serde_json::json!({
            "id": self.id, "name": self.name, "description": self.description,
            "primaryFieldId": self.primary_field_id, "fields": fields, "views": views,
        });
        serde_json::from_value(json).map_err(damaged)
    }
}

#[derive(FromRow)]
struct RecordRow {
    id: String,
    created_ms: i64,
    modified_ms: i64,
    auto_number: i64,
    cells: String,
}

impl RecordRow {
    fn into_record(self) -> Result<StoredRecord, SandboxError> {
        let cells = serde_json::from_str(&self.cells).map_err(damaged)?;
        Ok(StoredRecord {
            id: self.id,
            created_ms: self.created_ms,
            modified_ms: self.modified_ms,
            auto_number: self.auto_number,
            cells,
        })
    }
}

fn damaged(e: serde_json::Error) -> SandboxError {
    tracing::error!(error = %e, "a sandbox row holds JSON that no longer parses");
    SandboxError::server_error()
}

/// `$first, $first+1, …` for `n` bound values.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Database access for the sandbox; every base lookup is scoped to its owner.
#[derive(Clone)]
pub struct Store {
    db: Db,
}

impl Store {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// The owner's bases, oldest first.
    pub async fn bases(&self, owner: &UserId) -> Result<Vec<BaseSummary>, SandboxError> {
        let rows: Vec<BaseRow> =
            sqlx::query_as("SELECT id, name FROM sandbox_bases WHERE user_id = $1 ORDER BY created_ms, id")
                .bind(owner.as_str())
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let json = serde_json::json!({"id": r.id, "name": r.name, "permissionLevel": "create"});
                serde_json::from_value(json).ok()
            })
            .collect())
    }

    /// Checks that `base` exists and belongs to `owner`; anything else looks the same from outside.
    pub async fn require_base(&self, owner: &UserId, base: &str) -> Result<(), SandboxError> {
        let found: Option<(String,)> = sqlx::query_as("SELECT id FROM sandbox_bases WHERE id = $1 AND user_id = $2")
            .bind(base)
            .bind(owner.as_str())
            .fetch_optional(self.db.pool())
            .await?;
        found.map(|_| ()).ok_or_else(SandboxError::base_not_found)
    }

    pub async fn insert_base(&self, owner: &UserId, id: &str, name: &str, now_ms: i64) -> Result<(), SandboxError> {
        sqlx::query("INSERT INTO sandbox_bases (id, user_id, name, created_ms) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(owner.as_str())
            .bind(name)
            .bind(now_ms)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// The base's tables in order.
    pub async fn tables(&self, base: &str) -> Result<Vec<Table>, SandboxError> {
        let rows: Vec<TableRow> = sqlx::query_as(
            "SELECT id, name, description, primary_field_id, fields, views FROM sandbox_tables \
             WHERE base_id = $1 ORDER BY position, id",
        )
        .bind(base)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(TableRow::into_table).collect()
    }

    pub async fn insert_table(&self, base: &str, position: i64, table: &Table) -> Result<(), SandboxError> {
        sqlx::query(
            "INSERT INTO sandbox_tables (id, base_id, position, name, description, primary_field_id, fields, views) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(table.id.as_str())
        .bind(base)
        .bind(position)
        .bind(&table.name)
        .bind(table.description.clone())
        .bind(table.primary_field_id.as_str())
        .bind(to_json(&table.fields))
        .bind(to_json(&table.views))
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    /// Saves a table's name, description and fields after a schema change.
    pub async fn save_table(&self, table: &Table) -> Result<(), SandboxError> {
        sqlx::query("UPDATE sandbox_tables SET name = $1, description = $2, fields = $3 WHERE id = $4")
            .bind(&table.name)
            .bind(table.description.clone())
            .bind(to_json(&table.fields))
            .bind(table.id.as_str())
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Every record of the table, in creation order.
    pub async fn records(&self, table: &str) -> Result<Vec<StoredRecord>, SandboxError> {
        let rows: Vec<RecordRow> = sqlx::query_as(
            "SELECT id, created_ms, modified_ms, auto_number, cells FROM sandbox_records WHERE table_id = $1 ORDER BY auto_number",
        )
        .bind(table)
        .fetch_all(self.db.pool())
        .await?;
        rows.into_iter().map(RecordRow::into_record).collect()
    }

    /// The records of `table` among `ids` (at most a write's worth), in no particular order.
    pub async fn records_by_id(&self, table: &str, ids: &[String]) -> Result<Vec<StoredRecord>, SandboxError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let sql = format!(
            "SELECT id, created_ms, modified_ms, auto_number, cells FROM sandbox_records WHERE table_id = $1 AND id IN ({})",
            placeholders(2, ids.len())
        );
        let mut query = sqlx::query_as(AssertSqlSafe(sql)).bind(table);
        for id in ids {
            query = query.bind(id);
        }
        let rows: Vec<RecordRow> = query.fetch_all(self.db.pool()).await?;
        rows.into_iter().map(RecordRow::into_record).collect()
    }

    /// Which of `ids` are records of `table`, for checking links.
    pub async fn existing_ids(&self, table: &str, ids: &[String]) -> Result<HashSet<String>, SandboxError> {
        let mut found = HashSet::new();
        for chunk in ids.chunks(100) {
            let sql = format!(
                "SELECT id FROM sandbox_records WHERE table_id = $1 AND id IN ({})",
                placeholders(2, chunk.len())
            );
            let mut query = sqlx::query_as(AssertSqlSafe(sql)).bind(table);
            for id in chunk {
                query = query.bind(id);
            }
            let rows: Vec<(String,)> = query.fetch_all(self.db.pool()).await?;
            found.extend(rows.into_iter().map(|(id,)| id));
        }
        Ok(found)
    }

    /// Inserts new records, numbering them after the table's last one, in one transaction.
    /// Each record's `auto_number` is filled in here.
    pub async fn insert_records(&self, table: &str, records: &mut [StoredRecord]) -> Result<(), SandboxError> {
        let mut tx = self.db.pool().begin().await?;
        let (next,): (i64,) = sqlx::query_as(
            "UPDATE sandbox_tables SET next_auto_number = next_auto_number + $1 WHERE id = $2 RETURNING next_auto_number",
        )
        .bind(records.len() as i64)
        .bind(table)
        .fetch_one(&mut *tx)
        .await?;
        let first = next - records.len() as i64;
        for (i, record) in records.iter_mut().enumerate() {
            record.auto_number = first + i as i64;
            sqlx::query(
                "INSERT INTO sandbox_records (id, table_id, created_ms, modified_ms, auto_number, cells) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&record.id)
            .bind(table)
            .bind(record.created_ms)
            .bind(record.modified_ms)
            .bind(record.auto_number)
            .bind(to_json(&record.cells))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Saves new cells and modification times for existing records, in one transaction.
    pub async fn update_records(&self, table: &str, records: &[StoredRecord]) -> Result<(), SandboxError> {
        let mut tx = self.db.pool().begin().await?;
        for record in records {
            sqlx::query("UPDATE sandbox_records SET cells = $1, modified_ms = $2 WHERE id = $3 AND table_id = $4")
                .bind(to_json(&record.cells))
                .bind(record.modified_ms)
                .bind(&record.id)
                .bind(table)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn delete_records(&self, table: &str, ids: &[String]) -> Result<(), SandboxError> {
        if ids.is_empty() {
            return Ok(());
        }
        let sql = format!("DELETE FROM sandbox_records WHERE table_id = $1 AND id IN ({})", placeholders(2, ids.len()));
        let mut query = sqlx::query(AssertSqlSafe(sql)).bind(table);
        for id in ids {
            query = query.bind(id);
        }
        query.execute(self.db.pool()).await?;
        Ok(())
    }
}

fn to_json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string(value).expect("schema and cells serialize to JSON")
}
