//! Sagas: multi-record changes that either finish or are undone.
//!
//! A saga is an ordered list of steps, each a call of a record-writing tool
//! (`create_records`, `update_records`, `upsert_records`, `delete_records`). Every write the
//! chat, MCP or the REST API makes is a one-step saga, so every write can be undone.
//!
//! **The log.** Before a step runs, its intent is written: the table it resolved to and the
//! before-image of every record it will change or delete. It then runs in chunks of ten records,
//! one Airtable request each; before a chunk is sent its start time is logged, and once it is
//! answered, the records it touched (IDs, before- and after-images). Recovery reads only this.
//!
//! **Idempotent steps, and what an ambiguous failure means.** Airtable has no idempotency keys,
//! and the client won't resend a create whose answer was lost (`MaybeApplied`). An update, an
//! upsert or a delete is safe to send again, so a chunk in doubt is simply sent again (a delete
//! first checks which of its records still exist). A create in doubt is looked for instead: the
//! records of the table created since the chunk's logged start time (less a minute for clock
//! skew), not named in any saga's log, whose values match what was sent. Airtable applies a
//! request whole, so either every record of the chunk is found, and the chunk is logged as
//! applied with those IDs, or none is, and it is sent again. The one weakness: identical
//! records someone else created in that same window could be taken for ours.
//!
//! **Compensation.** A step that fails makes the applied part of the saga compensate in
//! reverse: created records are deleted, changed ones restored from their before-images,
//! deleted ones created again (their new IDs logged, and looked for the same way after a
//! crash). A compensation that keeps failing leaves the saga needing attention, with its log
//! as the account of what is left. Undo and Cancel compensate the same way.
//!
//! **Who runs it.** A saga is driven by whoever holds its lease: the request that started it,
//! or a background job (`jobs::SagaJob`) queued beside it, which takes over when the lease
//! lapses because its holder died. The lease is renewed while the driver works and checked
//! before every chunk, so two instances never apply the same step at once.
//!
//! **Fed sagas.** An import has too many rows to write its steps ahead, so its saga starts
//! with none and asks a [`StepFeed`] for more whenever it runs out, a batch at a time. The
//! saga's `fed` counts the source's items made into steps, written with those steps, so a
//! restart resumes after them. A fed step Airtable refuses is set aside and the feed says
//! what to send instead, so one bad row doesn't undo the rest.

mod apply;
mod compensate;
mod drive;
mod lookup;
mod store;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::analytics::Analytics;
use crate::auth::UserId;
use crate::connections::{ConnectionError, Connections};
use crate::jobs::{JobError, Jobs, SagaHandler, SagaJob};
use crate::model::analytics::ToolSource;
use crate::model::sagas::{SagaSource, SagaStatus, SagaSummary, SagaView, UndoOutcome};
use crate::shown::Shown;
use crate::tools::{Recorder, ToolContext, ToolError, Write, WriteKind};

pub use store::{Call, NewSaga};
use drive::Driven;
use store::Store;

/// How long a driver's lease lasts without renewal; a crashed driver's saga waits this long.
const LEASE: Duration = Duration::from_secs(10);
/// How many sagas the changes page lists.
const LIST_LIMIT: i64 = 200;

/// Why a saga could not be started, read or undone.
#[derive(Debug, thiserror::Error)]
pub enum SagaError {
    #[error("That change was not found.")]
    NotFound,
    /// The saga is not in a state that allows what was asked.
    #[error("{0}")]
    NotNow(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    #[error("the saga log could not be read or written: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Jobs(#[from] JobError),
    /// Another process took the saga over while this one was driving it.
    #[error("the saga's lease was lost to another process")]
    LeaseLost,
}

impl Shown for SagaError {
    fn is_internal(&self) -> bool {
        match self {
            Self::NotFound | Self::NotNow(_) | Self::Invalid(_) => false,
            Self::Connection(e) => e.is_internal(),
            Self::Database(_) | Self::Jobs(_) | Self::LeaseLost => true,
        }
    }
}

/// Makes a fed saga's steps as it goes. Each step it makes must be one chunk (ten records at
/// most), so that a refused step applied nothing.
#[async_trait]
pub trait StepFeed: Send + Sync {
    /// The steps after the first `fed` items of saga `saga_id`'s source; `None` once the
    /// source is used up or its owner asked to stop.
    ///
    /// # Errors
    /// `Invalid` with the reason when the saga can't go on (it then compensates).
    async fn next(&self, saga_id: &str, fed: u64) -> Result<Option<Fed>, SagaError>;

    /// A step Airtable refused for what it holds (`reason`): what to send instead (the same
    /// records one at a time), or nothing once the refused record is set aside.
    async fn refused(&self, saga_id: &str, arguments: &Value, reason: &str) -> Result<Vec<Call>, SagaError>;
}

/// A feed's next steps, and how many items of its source have been made into steps with them.
#[derive(Debug, Clone, PartialEq)]
pub struct Fed {
    pub calls: Vec<Call>,
    pub fed: u64,
}

/// How far a fed saga has got.
#[derive(Debug, Clone, PartialEq)]
pub struct FedProgress {
    pub status: SagaStatus,
    pub error: Option<String>,
    /// Items of the source made into steps.
    pub fed: u64,
    /// The arguments of the steps still waiting or running.
    pub unfinished: Vec<Value>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

struct Inner {
    store: Store,
    /// Where fed sagas get their steps, once set.
    feed: std::sync::OnceLock<Arc<dyn StepFeed>>,
    connections: Connections,
    jobs: Jobs,
    analytics: Analytics,
    /// This process, in lease owners' names.
    instance: String,
}

/// The sagas service. Cheap to clone.
#[derive(Clone)]
pub struct Sagas {
    inner: Arc<Inner>,
}

impl Sagas {
    pub fn new(db: crate::db::Db, connections: Connections, jobs: Jobs, analytics: Analytics) -> Self {
        let instance = ulid::Ulid::generate().to_string();
        Self { inner: Arc::new(Inner { store: Store::new(db), feed: std::sync::OnceLock::new(), connections, jobs, analytics, instance }) }
    }

    /// What the job workers run for each saga job.
    pub fn job_handler(&self) -> SagaHandler {
        let sagas = self.clone();
        Arc::new(move |job: SagaJob| {
            let sagas = sagas.clone();
            Box::pin(async move {
                tracing::debug!(saga.id = %job.saga_id, "a job drives a saga");
                let result = sagas.run_job(&job.saga_id).await;
                if let Err(e) = &result {
                    // The job is tried again; its saga's log says how far it got.
                    tracing::warn!(saga.id = %job.saga_id, error = %e, "a saga job failed");
                }
                result.map_err(|e| e.to_string())
            })
        })
    }

    /// Queues a job for every saga left unfinished with no live driver, such as one whose
    /// process died before its job was queued. Run once at start.
    ///
    /// # Errors
    /// When the log or the queue can't be reached.
    pub async fn recover(&self) -> Result<usize, SagaError> {
        let abandoned = self.inner.store.abandoned().await?;
        for id in &abandoned {
            self.inner.jobs.push_saga(SagaJob { saga_id: id.clone() }, Duration::ZERO).await?;
        }
        Ok(abandoned.len())
    }

    /// Starts a saga of several calls in the background; its job drives it.
    ///
    /// # Errors
    /// `Invalid` for a call that is not a record write, or for no calls.
    pub async fn start(&self, saga: NewSaga<'_>) -> Result<String, SagaError> {
        if saga.calls.is_empty() {
            return Err(SagaError::Invalid("A saga needs at least one step.".into()));
        }
        if let Some(call) = saga.calls.iter().find(|c| !crate::tools::RECORD_WRITES.contains(&c.tool.as_str())) {
            return Err(SagaError::Invalid(format!(
                "“{}” can't be a saga's step: steps are calls of {}.",
                call.tool.chars().take(80).collect::<String>(),
                crate::tools::RECORD_WRITES.join(", ")
            )));
        }
        let id = self.inner.store.create(&saga, false).await?;
        self.inner.jobs.push_saga(SagaJob { saga_id: id.clone() }, Duration::ZERO).await?;
        Ok(id)
    }

    /// Sets where fed sagas get their steps; the first call wins.
    pub fn set_feed(&self, feed: Arc<dyn StepFeed>) {
        if self.inner.feed.set(feed).is_err() {
            tracing::warn!("the sagas' step feed was set twice; the first is kept");
        }
    }

    /// Writes a fed saga (its `calls` are ignored: the feed makes them), to be started with
    /// [`Sagas::run_in_background`] once what its feed reads is in place.
    ///
    /// # Errors
    /// When the log can't be written.
    pub async fn create_fed(&self, saga: NewSaga<'_>) -> Result<String, SagaError> {
        self.inner.store.create(&NewSaga { calls: &[], ..saga }, true).await
    }

    /// Queues a job to drive the saga.
    ///
    /// # Errors
    /// When the queue can't be reached (the saga is then recovered at the next start).
    pub async fn run_in_background(&self, id: &str) -> Result<(), SagaError> {
        self.inner.jobs.push_saga(SagaJob { saga_id: id.to_owned() }, Duration::ZERO).await?;
        Ok(())
    }

    /// How far one of the user's fed sagas has got.
    ///
    /// # Errors
    /// `NotFound` when it is not theirs.
    pub async fn fed_progress(&self, user: &UserId, id: &str) -> Result<FedProgress, SagaError> {
        let row = self.inner.store.owned(user, id).await?;
        Ok(FedProgress {
            status: row.status(),
            error: row.error.clone(),
            fed: row.fed.and_then(|n| u64::try_from(n).ok()).unwrap_or(0),
            unfinished: self.inner.store.unfinished_arguments(id).await?,
            created_ms: row.created_ms,
            updated_ms: row.updated_ms,
        })
    }

    /// The user's sagas, newest first.
    pub async fn list(&self, user: &UserId) -> Result<Vec<SagaSummary>, SagaError> {
        self.inner.store.list(user, LIST_LIMIT).await
    }

    /// One of the user's sagas with its steps.
    pub async fn get(&self, user: &UserId, id: &str) -> Result<SagaView, SagaError> {
        let row = self.inner.store.owned(user, id).await?;
        let steps = self.inner.store.steps(id).await?;
        Ok(SagaView { summary: store::summary(&row, &steps), steps: steps.iter().map(store::StepRow::view).collect() })
    }

    /// Undoes a finished saga. Without `overwrite`, records edited since are reported instead.
    ///
    /// # Errors
    /// `NotFound`, or `NotNow` when the saga is still running or already undone.
    pub async fn undo(&self, user: &UserId, id: &str, overwrite: bool) -> Result<UndoOutcome, SagaError> {
        let row = self.inner.store.owned(user, id).await?;
        self.undo_all(user, vec![row], overwrite).await
    }

    /// Undoes every finished write of a chat conversation, newest first.
    ///
    /// # Errors
    /// `NotNow` when there is nothing to undo.
    pub async fn undo_conversation(&self, user: &UserId, conversation_id: &str, overwrite: bool) -> Result<UndoOutcome, SagaError> {
        let rows = self.inner.store.done_in_conversation(user, conversation_id).await?;
        if rows.is_empty() {
            return Err(SagaError::NotNow("This conversation has no changes left to undo.".into()));
        }
        self.undo_all(user, rows, overwrite).await
    }

    /// Compensates again a saga that needs attention.
    ///
    /// # Errors
    /// `NotFound`, or `NotNow` unless it needs attention.
    pub async fn retry(&self, user: &UserId, id: &str) -> Result<SagaSummary, SagaError> {
        // Someone else's change is not found, whatever its state.
        self.inner.store.owned(user, id).await?;
        if !self.inner.store.request_compensation(user, id, &[SagaStatus::NeedsAttention]).await? {
            return Err(SagaError::NotNow("Only a change that needs attention can be retried.".into()));
        }
        self.drive_now(id).await?;
        Ok(self.get(user, id).await?.summary)
    }

    /// Marks a saga that needs attention as resolved by hand.
    ///
    /// # Errors
    /// `NotFound`, or `NotNow` unless it needs attention.
    pub async fn resolve(&self, user: &UserId, id: &str) -> Result<SagaSummary, SagaError> {
        // Someone else's change is not found, whatever its state.
        self.inner.store.owned(user, id).await?;
        if !self.inner.store.resolve(user, id).await? {
            return Err(SagaError::NotNow("Only a change that needs attention can be marked resolved.".into()));
        }
        Ok(self.get(user, id).await?.summary)
    }

    /// Stops a running saga and undoes what it applied.
    ///
    /// # Errors
    /// `NotFound`, or `NotNow` unless it is running.
    pub async fn cancel(&self, user: &UserId, id: &str) -> Result<SagaSummary, SagaError> {
        // Someone else's change is not found, whatever its state.
        self.inner.store.owned(user, id).await?;
        if !self.inner.store.request_compensation(user, id, &[SagaStatus::Running]).await? {
            return Err(SagaError::NotNow("Only a running change can be cancelled.".into()));
        }
        // Its driver sees the request before its next chunk; a job covers a driver that died.
        self.inner.jobs.push_saga(SagaJob { saga_id: id.to_owned() }, Duration::ZERO).await?;
        Ok(self.get(user, id).await?.summary)
    }

    async fn undo_all(&self, user: &UserId, rows: Vec<store::SagaRow>, overwrite: bool) -> Result<UndoOutcome, SagaError> {
        if let Some(row) = rows.iter().find(|r| r.status() != SagaStatus::Done) {
            return Err(SagaError::NotNow(match row.status() {
                SagaStatus::Running | SagaStatus::Compensating => "This change is still running; undo it once it has finished.".into(),
                SagaStatus::Compensated => "This change was already undone.".into(),
                _ => "This change needs attention: retry its compensation or mark it resolved on its page.".into(),
            }));
        }
        let client = self.inner.connections.for_user(user).await?.client;
        if !overwrite {
            let mut conflicts = Vec::new();
            for row in &rows {
                let steps = self.inner.store.steps(&row.id).await?;
                conflicts.extend(compensate::conflicts(&client, &row.base_id, &steps).await.map_err(|e| SagaError::NotNow(e.to_string()))?);
            }
            if !conflicts.is_empty() {
                return Ok(UndoOutcome::Conflicts { conflicts });
            }
        }
        let mut undone = compensate::Counts::default();
        for row in &rows {
            if !self.inner.store.request_compensation(user, &row.id, &[SagaStatus::Done]).await? {
                return Err(SagaError::NotNow("This change was changed meanwhile; reload and try again.".into()));
            }
            let saga = self.drive_now(&row.id).await?;
            if saga.status() != SagaStatus::Compensated {
                return Ok(UndoOutcome::NeedsAttention { error: saga.error.unwrap_or_else(|| "see the change's page".into()) });
            }
            undone.add(compensate::Counts::of(&self.inner.store.steps(&row.id).await?));
        }
        Ok(UndoOutcome::Undone { sagas: u32::try_from(rows.len()).unwrap_or(u32::MAX), deleted: undone.deleted, restored: undone.restored, recreated: undone.recreated })
    }

    /// Drives a saga here and now, with a job queued in case this process dies first, and
    /// waits until it settles if another process holds it.
    async fn drive_now(&self, id: &str) -> Result<store::SagaRow, SagaError> {
        self.inner.jobs.push_saga(SagaJob { saga_id: id.to_owned() }, LEASE).await?;
        self.run_job(id).await?;
        self.inner.store.saga(id).await?.ok_or(SagaError::NotFound)
    }

    /// Drives the saga, or waits while a live driver elsewhere holds it, until it settles.
    async fn run_job(&self, id: &str) -> Result<(), SagaError> {
        loop {
            match self.drive(id).await? {
                Driven::Settled | Driven::Missing => return Ok(()),
                Driven::Busy => tokio::time::sleep(Duration::from_millis(250)).await,
            }
        }
    }

    /// Runs one call of a record-writing tool as a one-step saga started from `source`, and
    /// answers as the tool would, with the change's ID beside.
    ///
    /// # Errors
    /// What is wrong with the call (nothing is recorded then), or why the write failed, after
    /// what it had applied was undone.
    pub async fn write_as(&self, ctx: &ToolContext, source: SagaSource, tool: &str, arguments: Value) -> Result<Value, ToolError> {
        let user = &ctx.user()?;
        // A call that can't be right is refused before a saga exists for it.
        let write = Write::prepare(ctx, tool, arguments.clone()).await?;
        let title = describe(&write);
        let base_id = write.base.as_str().to_owned();
        let calls = [Call { tool: tool.to_owned(), arguments }];
        let saga = NewSaga {
            user,
            source,
            title: &title,
            base_id: &base_id,
            conversation_id: ctx.conversation_id.as_deref(),
            calls: &calls,
        };
        let id = self.inner.store.create(&saga, false).await.map_err(internal)?;
        let row = self.drive_now(&id).await.map_err(internal)?;
        let steps = self.inner.store.steps(&id).await.map_err(internal)?;
        match row.status() {
            SagaStatus::Done => {
                let applied = apply::applied_from_log(&write, &steps);
                let mut answer = write.answer(&applied);
                if let Some(object) = answer.as_object_mut() {
                    object.insert("change_id".into(), json!(id));
                }
                Ok(answer)
            }
            SagaStatus::Compensated => Err(ToolError::Invalid(format!(
                "{} Nothing was left half-done: what this call had written before the failure was undone.",
                row.error.as_deref().unwrap_or("The change failed.")
            ))),
            _ => Err(ToolError::Invalid(format!(
                "{} Undoing what it had written failed too; the change “{title}” needs attention on the Changes page.",
                row.error.as_deref().unwrap_or("The change failed.")
            ))),
        }
    }
}

/// Whose change a tool call makes: changes always belong to a signed-in user.
/// A saga's failure inside a tool call, logged, and shown as the generic message.
fn internal(e: SagaError) -> ToolError {
    ToolError::Invalid(e.shown())
}

fn saga_source(source: ToolSource) -> SagaSource {
    match source {
        ToolSource::Chat => SagaSource::Chat,
        ToolSource::Mcp => SagaSource::Mcp,
        ToolSource::Rest => SagaSource::Rest,
        ToolSource::Workflow => SagaSource::Workflow,
    }
}

/// A one-line title for a write, as the changes page lists it.
fn describe(write: &Write) -> String {
    let n = write.len();
    let records = if n == 1 { "record".to_owned() } else { format!("{n} records") };
    let (verb, one) = match &write.kind {
        WriteKind::Create { .. } => ("Create", "a record"),
        WriteKind::Update { .. } => ("Update", "a record"),
        WriteKind::Upsert { .. } => ("Create or update", "a record"),
        WriteKind::Delete { .. } => ("Delete", "a record"),
    };
    let what = if n == 1 { one.to_owned() } else { records };
    format!("{verb} {what} in {}", write.table.name)
}

#[async_trait]
impl Recorder for Sagas {
    async fn write(&self, ctx: &ToolContext, tool: &str, arguments: Value) -> Result<Value, ToolError> {
        self.write_as(ctx, saga_source(ctx.source), tool, arguments).await
    }

    async fn undo(&self, ctx: &ToolContext, change_id: &str, overwrite: bool) -> Result<Value, ToolError> {
        match Sagas::undo(self, &ctx.user()?, change_id, overwrite).await {
            Ok(outcome) => {
                let message = outcome.message();
                let mut answer = serde_json::to_value(&outcome).unwrap_or_default();
                if let Some(object) = answer.as_object_mut() {
                    object.insert("message".into(), json!(message));
                }
                Ok(answer)
            }
            Err(SagaError::NotFound) => Err(ToolError::Invalid(format!(
                "No change “{}” was found. Use the change_id a write's answer carried.",
                change_id.chars().take(80).collect::<String>()
            ))),
            Err(e) => Err(ToolError::Invalid(e.shown())),
        }
    }
}
