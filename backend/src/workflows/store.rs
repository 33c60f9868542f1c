//! Workflows, their versions and their runs in the database. Reads for people are scoped to
//! the owner; the runner reads a run by ID once it has claimed it.

use serde_json::Value;

use super::WorkflowError;
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::db::Db;
use crate::model::workflows::{RunStatus, RunSummary, StepRun, StepStatus};

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct WorkflowRow {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub version: i64,
    pub trigger_kind: String,
    pub enabled: i64,
    pub disabled_reason: Option<String>,
    pub webhook_secret: Option<String>,
    pub next_tick_ms: Option<i64>,
    pub record_cursor: Option<String>,
    pub updated_ms: i64,
    pub definition: String,
}

impl WorkflowRow {
    pub fn user(&self) -> Option<UserId> {
        UserId::parse(&self.user_id)
    }
}

const WORKFLOW_COLUMNS: &str = "w.id, w.user_id, w.name, w.version, w.trigger_kind, w.enabled, w.disabled_reason, w.webhook_secret, \
     w.next_tick_ms, w.record_cursor, w.updated_ms, v.definition";
const WORKFLOW_FROM: &str = "FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = w.version";

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct RunRow {
    pub id: String,
    pub workflow_id: String,
    pub user_id: String,
    pub version: i64,
    pub definition: String,
    pub trigger_data: String,
    pub status: String,
    pub test: i64,
    pub cancel_requested: i64,
    pub retry_of: Option<String>,
    pub start_at: Option<String>,
    pub error: Option<String>,
    pub created_ms: i64,
    pub finished_ms: Option<i64>,
}

const RUN_COLUMNS: &str = "id, workflow_id, user_id, version, definition, trigger_data, status, test, cancel_requested, retry_of, \
     start_at, error, created_ms, finished_ms";

impl RunRow {
    pub fn status(&self) -> RunStatus {
        RunStatus::parse(&self.status).unwrap_or(RunStatus::Failed)
    }

    pub fn summary(&self) -> RunSummary {
        RunSummary {
            id: self.id.clone(),
            workflow_id: self.workflow_id.clone(),
            version: self.version,
            status: self.status(),
            test: self.test != 0,
            error: self.error.clone(),
            retry_of: self.retry_of.clone(),
            start_at: self.start_at.clone(),
            created_ms: self.created_ms,
            finished_ms: self.finished_ms,
        }
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct StepRowRaw {
    position: i64,
    step_id: String,
    kind: String,
    status: String,
    input: Option<String>,
    output: Option<String>,
    error: Option<String>,
    started_ms: i64,
    duration_ms: Option<i64>,
}

/// A step of a run as stored, with its place.
#[derive(Debug, Clone)]
pub(crate) struct StoredStep {
    pub position: i64,
    pub view: StepRun,
}

impl From<StepRowRaw> for StoredStep {
    fn from(row: StepRowRaw) -> Self {
        let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
        Self {
            position: row.position,
            view: StepRun {
                step_id: row.step_id,
                kind: row.kind,
                status: StepStatus::parse(&row.status).unwrap_or(StepStatus::Failed),
                input: json(row.input),
                output: json(row.output),
                error: row.error,
                started_ms: row.started_ms,
                duration_ms: row.duration_ms,
            },
        }
    }
}

/// A workflow's fields, as a save writes them.
pub(crate) struct Saving<'a> {
    pub name: &'a str,
    pub trigger_kind: &'a str,
    pub definition: &'a str,
    pub next_tick_ms: Option<i64>,
    /// A new sealed webhook secret, or `None` to keep the one there is.
    pub webhook_secret: Option<String>,
}

/// A run to start.
pub(crate) struct NewRun<'a> {
    pub workflow: &'a WorkflowRow,
    pub trigger_key: Option<&'a str>,
    pub trigger_data: &'a Value,
    pub test: bool,
}

pub(crate) struct Store {
    db: Db,
}

impl Store {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    pub async fn create(&self, user: &UserId, saving: &Saving<'_>) -> Result<String, WorkflowError> {
        let id = uuid::Uuid::new_v4().to_string();
        let now = now_ms();
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO workflows (id, user_id, name, version, trigger_kind, enabled, webhook_secret, next_tick_ms, created_ms, updated_ms) \
             VALUES ($1, $2, $3, 1, $4, 1, $5, $6, $7, $7)",
        )
        .bind(&id)
        .bind(user.as_str())
        .bind(saving.name)
        .bind(saving.trigger_kind)
        .bind(saving.webhook_secret.as_deref())
        .bind(saving.next_tick_ms)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_version(&mut tx, &id, 1, saving.definition, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Writes a new version of the user's workflow; `None` when it is not theirs.
    pub async fn update(&self, user: &UserId, id: &str, saving: &Saving<'_>) -> Result<Option<i64>, WorkflowError> {
        let now = now_ms();
        let mut tx = self.db.pool().begin().await?;
        let version: Option<(i64,)> = sqlx::query_as(
            "UPDATE workflows SET version = version + 1, name = $1, trigger_kind = $2, next_tick_ms = $3, \
             webhook_secret = COALESCE($4, webhook_secret), record_cursor = CASE WHEN trigger_kind = $2 THEN record_cursor END, \
             updated_ms = $5 WHERE id = $6 AND user_id = $7 RETURNING version",
        )
        .bind(saving.name)
        .bind(saving.trigger_kind)
        .bind(saving.next_tick_ms)
        .bind(saving.webhook_secret.as_deref())
        .bind(now)
        .bind(id)
        .bind(user.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((version,)) = version else { return Ok(None) };
        insert_version(&mut tx, id, version, saving.definition, now).await?;
        tx.commit().await?;
        Ok(Some(version))
    }

    pub async fn owned(&self, user: &UserId, id: &str) -> Result<WorkflowRow, WorkflowError> {
        let sql = format!("SELECT {WORKFLOW_COLUMNS} {WORKFLOW_FROM} WHERE w.id = $1 AND w.user_id = $2");
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(user.as_str()).fetch_optional(self.db.pool()).await?.ok_or(WorkflowError::NotFound)
    }

    /// A workflow by ID alone, for triggers that arrive without a user (webhooks).
    pub async fn by_id(&self, id: &str) -> Result<Option<WorkflowRow>, WorkflowError> {
        let sql = format!("SELECT {WORKFLOW_COLUMNS} {WORKFLOW_FROM} WHERE w.id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(self.db.pool()).await?)
    }

    pub async fn list(&self, user: &UserId) -> Result<Vec<WorkflowRow>, WorkflowError> {
        let sql = format!("SELECT {WORKFLOW_COLUMNS} {WORKFLOW_FROM} WHERE w.user_id = $1 ORDER BY w.updated_ms DESC LIMIT 500");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user.as_str()).fetch_all(self.db.pool()).await?)
    }

    /// Every enabled workflow with a trigger of `kind`, of every user (for the schedulers), or
    /// of one user.
    pub async fn enabled(&self, kind: &str, user: Option<&UserId>) -> Result<Vec<WorkflowRow>, WorkflowError> {
        let sql = format!("SELECT {WORKFLOW_COLUMNS} {WORKFLOW_FROM} WHERE w.trigger_kind = $1 AND w.enabled = 1 AND ($2 = '' OR w.user_id = $2)");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(kind).bind(user.map_or("", UserId::as_str)).fetch_all(self.db.pool()).await?)
    }

    pub async fn delete(&self, user: &UserId, id: &str) -> Result<bool, WorkflowError> {
        let done = sqlx::query("DELETE FROM workflows WHERE id = $1 AND user_id = $2").bind(id).bind(user.as_str()).execute(self.db.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Turns the workflow on or off; turning it on forgets the failures that turned it off, and
    /// a record trigger's cursor, so that records changed while it was off don't start runs.
    pub async fn set_enabled(&self, user: &UserId, id: &str, enabled: bool, next_tick_ms: Option<i64>) -> Result<bool, WorkflowError> {
        let done = sqlx::query(
            "UPDATE workflows SET enabled = $1, disabled_reason = NULL, consecutive_failures = 0, next_tick_ms = $2, updated_ms = $3, \
             record_cursor = CASE WHEN $1 = 1 THEN NULL ELSE record_cursor END \
             WHERE id = $4 AND user_id = $5",
        )
        .bind(i64::from(enabled))
        .bind(next_tick_ms)
        .bind(now_ms())
        .bind(id)
        .bind(user.as_str())
        .execute(self.db.pool())
        .await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn set_webhook_secret(&self, user: &UserId, id: &str, sealed: &str) -> Result<bool, WorkflowError> {
        let done = sqlx::query("UPDATE workflows SET webhook_secret = $1 WHERE id = $2 AND user_id = $3 AND trigger_kind = 'webhook'")
            .bind(sealed)
            .bind(id)
            .bind(user.as_str())
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Moves a schedule's next tick from `from` to `to`; false when another instance moved it
    /// first.
    pub async fn advance_tick(&self, id: &str, from: i64, to: Option<i64>) -> Result<bool, WorkflowError> {
        let done = sqlx::query("UPDATE workflows SET next_tick_ms = $1 WHERE id = $2 AND next_tick_ms = $3")
            .bind(to)
            .bind(id)
            .bind(from)
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Moves a record trigger's cursor from `from` to `to`; false when another instance moved it.
    pub async fn advance_cursor(&self, id: &str, from: Option<&str>, to: &str) -> Result<bool, WorkflowError> {
        let done = sqlx::query("UPDATE workflows SET record_cursor = $1 WHERE id = $2 AND COALESCE(record_cursor, '') = $3")
            .bind(to)
            .bind(id)
            .bind(from.unwrap_or_default())
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Writes a queued run; `None` when a run for the same `trigger_key` exists already.
    pub async fn insert_run(&self, run: &NewRun<'_>) -> Result<Option<String>, WorkflowError> {
        let id = uuid::Uuid::new_v4().to_string();
        let inserted: Option<(String,)> = sqlx::query_as(
            "INSERT INTO workflow_runs (id, workflow_id, user_id, version, definition, trigger_key, trigger_data, status, test, created_ms) \
             SELECT $1, w.id, w.user_id, v.version, v.definition, $2, $3, 'queued', $4, $5 \
             FROM workflows w JOIN workflow_versions v ON v.workflow_id = w.id AND v.version = $6 WHERE w.id = $7 \
             ON CONFLICT (workflow_id, trigger_key) DO NOTHING RETURNING id",
        )
        .bind(&id)
        .bind(run.trigger_key)
        .bind(run.trigger_data.to_string())
        .bind(i64::from(run.test))
        .bind(now_ms())
        .bind(run.workflow.version)
        .bind(&run.workflow.id)
        .fetch_optional(self.db.pool())
        .await?;
        Ok(inserted.map(|(id,)| id))
    }

    /// A new run that takes up `failed` again from `start_at`, with the steps before it copied.
    pub async fn insert_retry(&self, failed: &RunRow, start_at: Option<&str>, copied: &[StoredStep]) -> Result<String, WorkflowError> {
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = self.db.pool().begin().await?;
        sqlx::query(
            "INSERT INTO workflow_runs (id, workflow_id, user_id, version, definition, trigger_data, status, test, retry_of, start_at, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9, $10)",
        )
        .bind(&id)
        .bind(&failed.workflow_id)
        .bind(&failed.user_id)
        .bind(failed.version)
        .bind(&failed.definition)
        .bind(&failed.trigger_data)
        .bind(failed.test)
        .bind(&failed.id)
        .bind(start_at)
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        for step in copied {
            insert_step(&mut tx, &id, step.position, &step.view).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Takes a queued run (or one whose holder's lease lapsed) for this instance, unless the
    /// workflow already runs `limit` others. Answers the run when it was taken.
    pub async fn claim(&self, run_id: &str, limit: u32, lease_ms: i64) -> Result<Claim, WorkflowError> {
        let now = now_ms();
        let mut tx = self.db.pool().begin().await?;
        // Locks the workflow's row first (a write, so SQLite takes its lock too), so that two
        // instances claiming runs of one workflow count its running runs one after the other.
        let workflow: Option<(String,)> = sqlx::query_as(
            "UPDATE workflows SET updated_ms = updated_ms WHERE id = (SELECT workflow_id FROM workflow_runs WHERE id = $1) RETURNING id",
        )
        .bind(run_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((workflow_id,)) = workflow else { return Ok(Claim::Gone) };
        let (running,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workflow_runs WHERE workflow_id = $1 AND status = 'running' AND lease_ms > $2 AND id <> $3")
            .bind(&workflow_id)
            .bind(now)
            .bind(run_id)
            .fetch_one(&mut *tx)
            .await?;
        let sql = format!("SELECT {RUN_COLUMNS} FROM workflow_runs WHERE id = $1");
        let Some(run): Option<RunRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(run_id).fetch_optional(&mut *tx).await? else {
            return Ok(Claim::Gone);
        };
        let status = run.status();
        if status.is_finished() {
            return Ok(Claim::Gone);
        }
        if running >= i64::from(limit) {
            return Ok(Claim::Busy);
        }
        let taken = sqlx::query(
            "UPDATE workflow_runs SET status = 'running', started_ms = COALESCE(started_ms, $1), lease_ms = $2 \
             WHERE id = $3 AND (status = 'queued' OR (status = 'running' AND COALESCE(lease_ms, 0) < $1))",
        )
        .bind(now)
        .bind(now + lease_ms)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(if taken.rows_affected() == 1 { Claim::Taken(Box::new(run)) } else { Claim::Busy })
    }

    /// Renews the holder's lease, and says whether cancelling was asked for meanwhile.
    pub async fn renew(&self, run_id: &str, lease_ms: i64) -> Result<bool, WorkflowError> {
        let row: Option<(i64,)> = sqlx::query_as("UPDATE workflow_runs SET lease_ms = $1 WHERE id = $2 RETURNING cancel_requested")
            .bind(now_ms() + lease_ms)
            .bind(run_id)
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.is_some_and(|(c,)| c != 0))
    }

    /// Ends a run. Counts the workflow's failures in a row, and turns it off after `disable_after`
    /// of them; answers whether it did.
    pub async fn finish(&self, run: &RunRow, status: RunStatus, error: Option<&str>, disable_after: u32) -> Result<bool, WorkflowError> {
        let now = now_ms();
        let mut tx = self.db.pool().begin().await?;
        sqlx::query("UPDATE workflow_runs SET status = $1, error = $2, finished_ms = $3, lease_ms = NULL WHERE id = $4")
            .bind(status.as_str())
            .bind(error)
            .bind(now)
            .bind(&run.id)
            .execute(&mut *tx)
            .await?;
        let mut disabled = false;
        if run.test == 0 {
            match status {
                RunStatus::Failed => {
                    let (failures,): (i64,) = sqlx::query_as("UPDATE workflows SET consecutive_failures = consecutive_failures + 1 WHERE id = $1 RETURNING consecutive_failures")
                        .bind(&run.workflow_id)
                        .fetch_one(&mut *tx)
                        .await?;
                    if disable_after > 0 && failures >= i64::from(disable_after) {
                        let reason = format!("Turned off after {failures} failed runs in a row; the last failed with: {}", error.unwrap_or("an error"));
                        sqlx::query("UPDATE workflows SET enabled = 0, disabled_reason = $1 WHERE id = $2 AND enabled = 1")
                            .bind(reason)
                            .bind(&run.workflow_id)
                            .execute(&mut *tx)
                            .await?;
                        disabled = true;
                    }
                }
                RunStatus::Succeeded => {
                    sqlx::query("UPDATE workflows SET consecutive_failures = 0 WHERE id = $1").bind(&run.workflow_id).execute(&mut *tx).await?;
                }
                _ => {}
            }
        }
        tx.commit().await?;
        Ok(disabled)
    }

    pub async fn run(&self, run_id: &str) -> Result<Option<RunRow>, WorkflowError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM workflow_runs WHERE id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(run_id).fetch_optional(self.db.pool()).await?)
    }

    pub async fn owned_run(&self, user: &UserId, run_id: &str) -> Result<RunRow, WorkflowError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM workflow_runs WHERE id = $1 AND user_id = $2");
        sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(run_id).bind(user.as_str()).fetch_optional(self.db.pool()).await?.ok_or(WorkflowError::NotFound)
    }

    /// The workflow's runs, newest first.
    pub async fn runs(&self, user: &UserId, workflow_id: &str, limit: i64) -> Result<Vec<RunRow>, WorkflowError> {
        let sql = format!("SELECT {RUN_COLUMNS} FROM workflow_runs WHERE workflow_id = $1 AND user_id = $2 ORDER BY created_ms DESC, id DESC LIMIT $3");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(workflow_id).bind(user.as_str()).bind(limit).fetch_all(self.db.pool()).await?)
    }

    /// Runs that are queued or held by a lapsed lease, for the recovery at start.
    pub async fn unfinished(&self) -> Result<Vec<String>, WorkflowError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM workflow_runs WHERE status = 'queued' OR (status = 'running' AND COALESCE(lease_ms, 0) < $1) ORDER BY created_ms LIMIT 1000",
        )
        .bind(now_ms())
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// Asks a run to stop: a queued run is cancelled at once, a running one before its next step.
    pub async fn request_cancel(&self, user: &UserId, run_id: &str) -> Result<bool, WorkflowError> {
        let now = now_ms();
        let queued = sqlx::query("UPDATE workflow_runs SET status = 'cancelled', finished_ms = $1, error = 'Cancelled before it started.' WHERE id = $2 AND user_id = $3 AND status = 'queued'")
            .bind(now)
            .bind(run_id)
            .bind(user.as_str())
            .execute(self.db.pool())
            .await?;
        if queued.rows_affected() > 0 {
            return Ok(true);
        }
        let running = sqlx::query("UPDATE workflow_runs SET cancel_requested = 1 WHERE id = $1 AND user_id = $2 AND status = 'running'")
            .bind(run_id)
            .bind(user.as_str())
            .execute(self.db.pool())
            .await?;
        Ok(running.rows_affected() > 0)
    }

    pub async fn steps(&self, run_id: &str) -> Result<Vec<StoredStep>, WorkflowError> {
        let rows: Vec<StepRowRaw> = sqlx::query_as(
            "SELECT position, step_id, kind, status, input, output, error, started_ms, duration_ms FROM workflow_run_steps WHERE run_id = $1 ORDER BY position",
        )
        .bind(run_id)
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(StoredStep::from).collect())
    }

    /// Logs a step as it starts.
    pub async fn start_step(&self, run_id: &str, position: i64, step: &StepRun) -> Result<(), WorkflowError> {
        let mut conn = self.db.pool().acquire().await?;
        insert_step(&mut conn, run_id, position, step).await
    }

    /// Logs how a step ended.
    pub async fn end_step(&self, run_id: &str, position: i64, step: &StepRun) -> Result<(), WorkflowError> {
        sqlx::query("UPDATE workflow_run_steps SET status = $1, input = $2, output = $3, error = $4, duration_ms = $5 WHERE run_id = $6 AND position = $7")
            .bind(step.status.as_str())
            .bind(step.input.as_ref().map(Value::to_string))
            .bind(step.output.as_ref().map(Value::to_string))
            .bind(step.error.as_deref())
            .bind(step.duration_ms)
            .bind(run_id)
            .bind(position)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// The newest run of each of `workflow_ids`.
    pub async fn last_runs(&self, user: &UserId) -> Result<Vec<RunRow>, WorkflowError> {
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM workflow_runs r WHERE user_id = $1 AND created_ms = \
             (SELECT MAX(created_ms) FROM workflow_runs x WHERE x.workflow_id = r.workflow_id)"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(user.as_str()).fetch_all(self.db.pool()).await?)
    }

    /// Deletes finished runs older than `before_ms`, and those past the newest `keep` of each
    /// workflow. Answers how many went.
    pub async fn prune(&self, before_ms: i64, keep: i64) -> Result<u64, WorkflowError> {
        let old = sqlx::query("DELETE FROM workflow_runs WHERE finished_ms IS NOT NULL AND finished_ms < $1").bind(before_ms).execute(self.db.pool()).await?;
        let extra = sqlx::query(
            "DELETE FROM workflow_runs WHERE finished_ms IS NOT NULL AND id IN (SELECT id FROM (SELECT id, ROW_NUMBER() OVER \
             (PARTITION BY workflow_id ORDER BY created_ms DESC, id DESC) AS place FROM workflow_runs) ranked WHERE place > $1)",
        )
        .bind(keep)
        .execute(self.db.pool())
        .await?;
        Ok(old.rows_affected() + extra.rows_affected())
    }
}

/// Whether a run was taken.
pub(crate) enum Claim {
    Taken(Box<RunRow>),
    /// The workflow runs as many others as it may at once (or another instance took it).
    Busy,
    /// Finished, cancelled or deleted meanwhile.
    Gone,
}

async fn insert_version(conn: &mut sqlx::AnyConnection, id: &str, version: i64, definition: &str, now: i64) -> Result<(), WorkflowError> {
    sqlx::query("INSERT INTO workflow_versions (workflow_id, version, definition, created_ms) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(version)
        .bind(definition)
        .bind(now)
        .execute(conn)
        .await?;
    Ok(())
}

async fn insert_step(conn: &mut sqlx::AnyConnection, run_id: &str, position: i64, step: &StepRun) -> Result<(), WorkflowError> {
    sqlx::query(
        "INSERT INTO workflow_run_steps (run_id, position, step_id, kind, status, input, output, error, started_ms, duration_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(run_id)
    .bind(position)
    .bind(&step.step_id)
    .bind(&step.kind)
    .bind(step.status.as_str())
    .bind(step.input.as_ref().map(Value::to_string))
    .bind(step.output.as_ref().map(Value::to_string))
    .bind(step.error.as_deref())
    .bind(step.started_ms)
    .bind(step.duration_ms)
    .execute(conn)
    .await?;
    Ok(())
}
