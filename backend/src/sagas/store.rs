//! The saga log in the database. Reads for people are scoped to the saga's owner; the driver
//! reads by ID, and only while it holds the saga's lease.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::SagaError;
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::db::Db;
use crate::model::airtable::Fields;
use crate::model::sagas::{SagaSource, SagaStatus, SagaSummary, StepState, StepView, TouchedRecord};

/// A new saga's steps: each a call of a record-writing tool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub tool: String,
    pub arguments: Value,
}

/// Who starts a saga, from where.
#[derive(Debug, Clone)]
pub struct NewSaga<'a> {
    pub user: &'a UserId,
    pub source: SagaSource,
    pub title: &'a str,
    pub base_id: &'a str,
    pub conversation_id: Option<&'a str>,
    pub calls: &'a [Call],
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct SagaRow {
    pub id: String,
    pub user_id: String,
    pub source: String,
    pub title: String,
    pub base_id: String,
    pub conversation_id: Option<String>,
    pub status: String,
    pub compensate_requested: i64,
    pub error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
    /// For a saga whose steps are made as it goes: how many items of its source are steps.
    pub fed: Option<i64>,
}

impl SagaRow {
    pub fn status(&self) -> SagaStatus {
        SagaStatus::parse(&self.status).unwrap_or(SagaStatus::NeedsAttention)
    }

    pub fn user(&self) -> Result<UserId, SagaError> {
        UserId::parse(&self.user_id).ok_or(SagaError::NotFound)
    }
}

/// How far compensating a step got.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Compensation {
    /// Deleted records created again: old ID → new ID.
    #[serde(default)]
    pub recreated: BTreeMap<String, String>,
    /// When the re-creation of the next chunk was sent, if its answer has not been logged.
    #[serde(default)]
    pub chunk_started_ms: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct StepRowRaw {
    position: i64,
    tool: String,
    arguments: String,
    state: String,
    table_id: Option<String>,
    chunks_done: i64,
    chunk_started_ms: Option<i64>,
    records: String,
    before: Option<String>,
    compensation: String,
    error: Option<String>,
    updated_ms: i64,
}

/// One step as the driver reads it.
#[derive(Debug, Clone)]
pub(crate) struct StepRow {
    pub position: i64,
    pub tool: String,
    pub arguments: Value,
    pub state: StepState,
    pub table_id: Option<String>,
    pub chunks_done: usize,
    pub chunk_started_ms: Option<i64>,
    pub records: Vec<TouchedRecord>,
    /// Before-images read ahead of the write, by record ID.
    pub before: Option<BTreeMap<String, Fields>>,
    pub compensation: Compensation,
    pub error: Option<String>,
    pub updated_ms: i64,
}

impl From<StepRowRaw> for StepRow {
    fn from(raw: StepRowRaw) -> Self {
        Self {
            position: raw.position,
            tool: raw.tool,
            arguments: serde_json::from_str(&raw.arguments).unwrap_or(Value::Null),
            state: StepState::parse(&raw.state).unwrap_or(StepState::Failed),
            table_id: raw.table_id,
            chunks_done: usize::try_from(raw.chunks_done).unwrap_or(0),
            chunk_started_ms: raw.chunk_started_ms,
            records: serde_json::from_str(&raw.records).unwrap_or_default(),
            before: raw.before.and_then(|b| serde_json::from_str(&b).ok()),
            compensation: serde_json::from_str(&raw.compensation).unwrap_or_default(),
            error: raw.error,
            updated_ms: raw.updated_ms,
        }
    }
}

impl StepRow {
    pub fn view(&self) -> StepView {
        StepView {
            position: u32::try_from(self.position).unwrap_or(0),
            tool: self.tool.clone(),
            arguments: self.arguments.clone(),
            state: self.state,
            records: self
                .records
                .iter()
                .map(|r| TouchedRecord { restored_as: self.compensation.recreated.get(&r.id).cloned(), ..r.clone() })
                .collect(),
            error: self.error.clone(),
            updated_ms: self.updated_ms,
        }
    }
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".into())
}

const SAGA_COLUMNS: &str =
    "id, user_id, source, title, base_id, conversation_id, status, compensate_requested, error, created_ms, updated_ms, fed";
const STEP_COLUMNS: &str =
    "position, tool, arguments, state, table_id, chunks_done, chunk_started_ms, records, before, compensation, error, updated_ms";

#[derive(Clone)]
pub(crate) struct Store {
    db: Db,
}

impl Store {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Writes a saga and its steps' intents in one transaction; returns its ID. A `fed` saga
    /// gets its steps later, from its feed.
    pub async fn create(&self, saga: &NewSaga<'_>, fed: bool) -> Result<String, SagaError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO sagas (id, user_id, source, title, base_id, conversation_id, status, created_ms, updated_ms, fed) \
             VALUES ($1, $2, $3, $4, $5, $6, 'running', $7, $7, $8)",
        )
        .bind(&id)
        .bind(saga.user.as_str())
        .bind(saga.source.as_str())
        .bind(saga.title)
        .bind(saga.base_id)
        .bind(saga.conversation_id)
        .bind(now)
        .bind(fed.then_some(0i64))
        .execute(&mut *tx)
        .await?;
        insert_steps(&mut tx, &id, 0, saga.calls, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Adds a fed saga's next steps after its last, and counts its source's items made into
    /// steps so far as `fed`, in one transaction: a crash leaves both or neither.
    pub async fn append_steps(&self, id: &str, calls: &[Call], fed: u64) -> Result<(), SagaError> {
        let mut tx = self.db.pool().begin().await?;
        // The write comes first: in SQLite a transaction that reads before it writes fails
        // at once (not after the busy timeout) when another connection wrote in between.
        sqlx::query("UPDATE sagas SET fed = $1, updated_ms = $2 WHERE id = $3")
            .bind(i64::try_from(fed).unwrap_or(i64::MAX))
            .bind(now_ms())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let next = next_position(&mut tx, id).await?;
        insert_steps(&mut tx, id, next, calls, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a refused step aside with `reason`, and adds the steps to send instead, in one
    /// transaction.
    pub async fn set_aside(&self, id: &str, position: i64, reason: &str, instead: &[Call]) -> Result<(), SagaError> {
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("UPDATE saga_steps SET state = 'skipped', error = $1, chunk_started_ms = NULL, updated_ms = $2 WHERE saga_id = $3 AND position = $4")
            .bind(reason)
            .bind(now_ms())
            .bind(id)
            .bind(position)
            .execute(&mut *tx)
            .await?;
        let next = next_position(&mut tx, id).await?;
        insert_steps(&mut tx, id, next, instead, now_ms()).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The first step not yet applied or set aside, which the driver runs next.
    pub async fn next_to_apply(&self, id: &str) -> Result<Option<StepRow>, SagaError> {
        self.one_step(id, "state NOT IN ('applied', 'skipped') ORDER BY position").await
    }

    /// The last step with something to undo, which compensation takes next.
    pub async fn next_to_compensate(&self, id: &str) -> Result<Option<StepRow>, SagaError> {
        self.one_step(id, "state IN ('applied', 'applying', 'failed', 'compensating') ORDER BY position DESC").await
    }

    pub async fn step(&self, id: &str, position: i64) -> Result<Option<StepRow>, SagaError> {
        let raw: Option<StepRowRaw> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {STEP_COLUMNS} FROM saga_steps WHERE saga_id = $1 AND position = $2")))
                .bind(id)
                .bind(position)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(raw.map(StepRow::from))
    }

    /// `which` is one of this module's fixed conditions, never input.
    async fn one_step(&self, id: &str, which: &str) -> Result<Option<StepRow>, SagaError> {
        let raw: Option<StepRowRaw> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {STEP_COLUMNS} FROM saga_steps WHERE saga_id = $1 AND {which} LIMIT 1")))
                .bind(id)
                .fetch_optional(self.db.pool())
                .await?;
        Ok(raw.map(StepRow::from))
    }

    /// The arguments of the steps still waiting or running, for a fed saga's progress.
    pub async fn unfinished_arguments(&self, id: &str) -> Result<Vec<Value>, SagaError> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT arguments FROM saga_steps WHERE saga_id = $1 AND state IN ('pending', 'applying')")
            .bind(id)
            .fetch_all(self.db.pool())
            .await?;
        Ok(rows.iter().filter_map(|a| serde_json::from_str(a).ok()).collect())
    }

    /// Takes the saga's lease for `owner` until `until_ms`, if it is free, lapsed or already
    /// `owner`'s, and the saga has work left. `None` when another process holds it or the saga
    /// is settled.
    pub async fn take_lease(&self, id: &str, owner: &str, until_ms: i64) -> Result<Option<SagaRow>, SagaError> {
        let now = now_ms();
        let taken = sqlx::query(
            "UPDATE sagas SET lease_owner = $1, lease_until_ms = $2 \
             WHERE id = $3 AND status IN ('running', 'compensating') \
             AND (lease_owner IS NULL OR lease_owner = $1 OR lease_until_ms < $4)",
        )
        .bind(owner)
        .bind(until_ms)
        .bind(id)
        .bind(now)
        .execute(self.db.pool())
        .await?
        .rows_affected();
        if taken == 0 {
            return Ok(None);
        }
        self.saga(id).await
    }

    /// Extends a held lease; false when it was lost (lapsed and taken by another process).
    pub async fn renew_lease(&self, id: &str, owner: &str, until_ms: i64) -> Result<bool, SagaError> {
        let renewed = sqlx::query("UPDATE sagas SET lease_until_ms = $1 WHERE id = $2 AND lease_owner = $3")
            .bind(until_ms)
            .bind(id)
            .bind(owner)
            .execute(self.db.pool())
            .await?
            .rows_affected();
        Ok(renewed == 1)
    }

    pub async fn release_lease(&self, id: &str, owner: &str) -> Result<(), SagaError> {
        sqlx::query("UPDATE sagas SET lease_owner = NULL, lease_until_ms = NULL WHERE id = $1 AND lease_owner = $2")
            .bind(id)
            .bind(owner)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// A saga by ID, whoever owns it (for the driver).
    pub async fn saga(&self, id: &str) -> Result<Option<SagaRow>, SagaError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {SAGA_COLUMNS} FROM sagas WHERE id = $1")))
            .bind(id)
            .fetch_optional(self.db.pool())
            .await?)
    }

    /// A saga by ID, if `user` owns it.
    pub async fn owned(&self, user: &UserId, id: &str) -> Result<SagaRow, SagaError> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {SAGA_COLUMNS} FROM sagas WHERE id = $1 AND user_id = $2")))
            .bind(id)
            .bind(user.as_str())
            .fetch_optional(self.db.pool())
            .await?
            .ok_or(SagaError::NotFound)
    }

    pub async fn steps(&self, id: &str) -> Result<Vec<StepRow>, SagaError> {
        let rows: Vec<StepRowRaw> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {STEP_COLUMNS} FROM saga_steps WHERE saga_id = $1 ORDER BY position")))
                .bind(id)
                .fetch_all(self.db.pool())
                .await?;
        Ok(rows.into_iter().map(StepRow::from).collect())
    }

    /// The user's sagas, newest first, with their step and record counts.
    pub async fn list(&self, user: &UserId, limit: i64) -> Result<Vec<SagaSummary>, SagaError> {
        let rows: Vec<SagaRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SAGA_COLUMNS} FROM sagas WHERE user_id = $1 ORDER BY created_ms DESC, id LIMIT $2"
        )))
        .bind(user.as_str())
        .bind(limit)
        .fetch_all(self.db.pool())
        .await?;
        let mut summaries = Vec::with_capacity(rows.len());
        for row in rows {
            let steps = self.steps(&row.id).await?;
            summaries.push(summary(&row, &steps));
        }
        Ok(summaries)
    }

    /// The conversation's sagas that may be undone, newest first.
    pub async fn done_in_conversation(&self, user: &UserId, conversation_id: &str) -> Result<Vec<SagaRow>, SagaError> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {SAGA_COLUMNS} FROM sagas WHERE user_id = $1 AND conversation_id = $2 AND status = 'done' \
             ORDER BY created_ms DESC, id DESC"
        )))
        .bind(user.as_str())
        .bind(conversation_id)
        .fetch_all(self.db.pool())
        .await?)
    }

    pub async fn set_status(&self, id: &str, status: SagaStatus, error: Option<&str>) -> Result<(), SagaError> {
        sqlx::query("UPDATE sagas SET status = $1, error = $2, updated_ms = $3 WHERE id = $4")
            .bind(status.as_str())
            .bind(error)
            .bind(now_ms())
            .bind(id)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Asks the driver to compensate: from `done` (an Undo) or `running` (a cancel), or again
    /// from `needs_attention` (a retry). False when the saga is in none of `from`.
    pub async fn request_compensation(&self, user: &UserId, id: &str, from: &[SagaStatus]) -> Result<bool, SagaError> {
        let allowed = from.iter().map(|s| format!("'{}'", s.as_str())).collect::<Vec<_>>().join(", ");
        // `allowed` is built from the enum's fixed names, never from input.
        let changed = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE sagas SET compensate_requested = 1, status = CASE WHEN status = 'running' THEN 'running' ELSE 'compensating' END, \
             error = NULL, updated_ms = $1 WHERE id = $2 AND user_id = $3 AND status IN ({allowed})"
        )))
        .bind(now_ms())
        .bind(id)
        .bind(user.as_str())
        .execute(self.db.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Marks a saga that needs attention as resolved by its owner: what is left stays as is.
    pub async fn resolve(&self, user: &UserId, id: &str) -> Result<bool, SagaError> {
        let changed = sqlx::query(
            "UPDATE sagas SET status = 'compensated', error = $1, updated_ms = $2 WHERE id = $3 AND user_id = $4 AND status = 'needs_attention'",
        )
        .bind("Marked resolved by hand; what compensation could not undo was left as it was.")
        .bind(now_ms())
        .bind(id)
        .bind(user.as_str())
        .execute(self.db.pool())
        .await?
        .rows_affected();
        Ok(changed == 1)
    }

    /// Records that a step has started (its before-images and resolved table with it).
    pub async fn start_step(
        &self,
        id: &str,
        position: i64,
        table_id: &str,
        before: Option<&BTreeMap<String, Fields>>,
    ) -> Result<(), SagaError> {
        sqlx::query("UPDATE saga_steps SET state = 'applying', table_id = $1, before = $2, updated_ms = $3 WHERE saga_id = $4 AND position = $5")
            .bind(table_id)
            .bind(before.map(json))
            .bind(now_ms())
            .bind(id)
            .bind(position)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// The intent for the next chunk: sent at `started_ms`, answer not yet logged.
    pub async fn chunk_started(&self, id: &str, position: i64, started_ms: i64) -> Result<(), SagaError> {
        sqlx::query("UPDATE saga_steps SET chunk_started_ms = $1, updated_ms = $1 WHERE saga_id = $2 AND position = $3")
            .bind(started_ms)
            .bind(id)
            .bind(position)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// A chunk's outcome: every record the step has touched so far.
    pub async fn chunk_done(&self, id: &str, position: i64, chunks_done: usize, records: &[TouchedRecord]) -> Result<(), SagaError> {
        sqlx::query(
            "UPDATE saga_steps SET chunks_done = $1, chunk_started_ms = NULL, records = $2, updated_ms = $3 WHERE saga_id = $4 AND position = $5",
        )
        .bind(i64::try_from(chunks_done).unwrap_or(i64::MAX))
        .bind(json(&records))
        .bind(now_ms())
        .bind(id)
        .bind(position)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }

    pub async fn set_step(&self, id: &str, position: i64, state: StepState, error: Option<&str>) -> Result<(), SagaError> {
        sqlx::query("UPDATE saga_steps SET state = $1, error = $2, updated_ms = $3 WHERE saga_id = $4 AND position = $5")
            .bind(state.as_str())
            .bind(error)
            .bind(now_ms())
            .bind(id)
            .bind(position)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    pub async fn save_compensation(&self, id: &str, position: i64, compensation: &Compensation) -> Result<(), SagaError> {
        sqlx::query("UPDATE saga_steps SET compensation = $1, updated_ms = $2 WHERE saga_id = $3 AND position = $4")
            .bind(json(compensation))
            .bind(now_ms())
            .bind(id)
            .bind(position)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Record IDs any saga's log names for this table, so a lookup never adopts them.
    pub async fn known_ids(&self, user: &UserId, table_id: &str) -> Result<std::collections::HashSet<String>, SagaError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT s.records FROM saga_steps s JOIN sagas g ON g.id = s.saga_id WHERE g.user_id = $1 AND s.table_id = $2",
        )
        .bind(user.as_str())
        .bind(table_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .flat_map(|(records,)| serde_json::from_str::<Vec<TouchedRecord>>(&records).unwrap_or_default())
            .map(|r| r.id)
            .collect())
    }

    /// Sagas with work left whose lease has lapsed (or was never taken), for recovery at start.
    pub async fn abandoned(&self) -> Result<Vec<String>, SagaError> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM sagas WHERE status IN ('running', 'compensating') AND (lease_until_ms IS NULL OR lease_until_ms < $1)",
        )
        .bind(now_ms())
        .fetch_all(self.db.pool())
        .await?)
    }
}

async fn next_position(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: &str) -> Result<i64, SagaError> {
    let last: Option<i64> = sqlx::query_scalar("SELECT MAX(position) FROM saga_steps WHERE saga_id = $1").bind(id).fetch_one(&mut **tx).await?;
    Ok(last.map_or(0, |p| p + 1))
}

async fn insert_steps(tx: &mut sqlx::Transaction<'_, sqlx::Any>, id: &str, first: i64, calls: &[Call], now: i64) -> Result<(), SagaError> {
    for (offset, call) in calls.iter().enumerate() {
        sqlx::query("INSERT INTO saga_steps (saga_id, position, tool, arguments, state, updated_ms) VALUES ($1, $2, $3, $4, 'pending', $5)")
            .bind(id)
            .bind(first + i64::try_from(offset).unwrap_or(i64::MAX))
            .bind(&call.tool)
            .bind(json(&call.arguments))
            .bind(now)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// A saga's list entry.
pub(crate) fn summary(row: &SagaRow, steps: &[StepRow]) -> SagaSummary {
    SagaSummary {
        id: row.id.clone(),
        title: row.title.clone(),
        source: SagaSource::parse(&row.source).unwrap_or(SagaSource::Rest),
        status: row.status(),
        base_id: row.base_id.clone(),
        conversation_id: row.conversation_id.clone(),
        steps: u32::try_from(steps.len()).unwrap_or(u32::MAX),
        records: u32::try_from(steps.iter().map(|s| s.records.len()).sum::<usize>()).unwrap_or(u32::MAX),
        error: row.error.clone(),
        created_ms: row.created_ms,
        updated_ms: row.updated_ms,
    }
}
