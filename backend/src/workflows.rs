//! Workflows: a trigger and an ordered list of steps (tool calls, LLM prompts, HTTP requests,
//! conditions and loops), kept as versioned JSON, run as background jobs.
//!
//! **Exactly once.** Every run that an event starts (a schedule's tick, a webhook's delivery,
//! a record's change, an upload) is written with a key naming that event, unique per
//! workflow; instances sharing a database race to write it, and only the one whose row went in
//! queues the job. A queued job is claimed under a lease before it runs, so a job queued twice,
//! or taken over after its instance died, still runs the steps once (steps already logged as
//! finished are not run again).

mod access;
mod execute;
mod http;
mod records;
mod schedule;
mod store;
mod template;
mod validate;
mod webhook;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use url::Url;

use crate::auth::UserId;
use crate::chat::Chat;
use crate::clock::{iso, now_ms};
use crate::connections::Connections;
use crate::db::Db;
use crate::jobs::{JobError, Jobs, RunHandler, RunJob};
use crate::llm::{Llm, LlmSettings};
use crate::model::files::FileSummary;
use crate::model::workflows::{
    InputKind, Problem, RunStatus, RunSummary, RunView, Saved, Trigger, Workflow, WorkflowSummary, WorkflowView,
};
use crate::outbound::AllowedHosts;
use crate::sagas::Sagas;
use crate::secrets::Cipher;
use crate::shown::Shown;
use crate::tools::Catalog;

use execute::{Ending, Executor, Parts};
pub use schedule::{Schedule, ScheduleError};
use store::{Claim, NewRun, Saving, Store, WorkflowRow};
pub use template::Templates;
pub use validate::{MAX_STEPS, problems};
pub use webhook::{SIGNATURE_HEADERS, delivery_id};

/// How long a run's holder keeps it without renewing; a run whose instance died is taken over
/// after this.
const LEASE_MS: i64 = 30_000;
/// How often the holder renews its lease (and learns of a cancel).
const RENEW_EVERY: Duration = Duration::from_secs(5);
/// How long a run that must wait for another of its workflow's runs waits before it asks again.
const BUSY_WAIT: Duration = Duration::from_secs(1);
/// How many runs the run list shows.
const RUN_LIST_LIMIT: i64 = 100;
/// The largest definition saved, as JSON.
pub const MAX_DEFINITION_BYTES: usize = 256 * 1024;

/// Why a workflow could not be saved, run or read.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error("That workflow or run was not found.")]
    NotFound,
    /// Every problem with a definition, each with its step and field.
    #[error("The workflow has {} problem(s): {}", .0.len(), .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<Problem>),
    /// What was asked does not fit (inputs, a run's state).
    #[error("{0}")]
    NotNow(String),
    /// A webhook delivery without the right secret.
    #[error("The webhook's secret is missing or wrong: send it as “Authorization: Bearer <secret>” or sign the body in X-Signature-256.")]
    Unauthorized,
    #[error("a stored workflow could not be read: {0}")]
    Corrupt(String),
    #[error("the workflows could not be read or written: {0}")]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Jobs(#[from] JobError),
}

impl Shown for WorkflowError {
    fn is_internal(&self) -> bool {
        matches!(self, Self::Corrupt(_) | Self::Database(_) | Self::Jobs(_))
    }
}

/// Limits and timings, from the server's configuration.
#[derive(Debug, Clone)]
pub struct WorkflowSettings {
    /// Failed runs in a row after which a workflow turns itself off (0: never).
    pub disable_after: u32,
    /// Finished runs older than this are deleted.
    pub keep_runs_for: Duration,
    /// At most this many finished runs are kept per workflow.
    pub keep_runs: u32,
    /// How often schedules are looked at for due ticks.
    pub tick: Duration,
    /// How often record triggers ask Airtable for new or changed records.
    pub record_poll: Duration,
    /// Local or private hosts HTTP steps may reach.
    pub allowed_hosts: AllowedHosts,
}

impl Default for WorkflowSettings {
    fn default() -> Self {
        Self {
            disable_after: 5,
            keep_runs_for: Duration::from_secs(30 * 86_400),
            keep_runs: 200,
            tick: Duration::from_secs(1),
            record_poll: Duration::from_secs(30),
            allowed_hosts: AllowedHosts::default(),
        }
    }
}

/// The services workflows use.
pub struct WorkflowParts {
    pub catalog: Catalog,
    pub connections: Connections,
    pub llm: Llm,
    pub llm_settings: LlmSettings,
    pub chat: Chat,
    pub sagas: Sagas,
    pub jobs: Jobs,
    pub cipher: Cipher,
}

struct Inner {
    store: Arc<Store>,
    executor: Executor,
    templates: Arc<Templates>,
    parts: Arc<WorkflowParts>,
    settings: WorkflowSettings,
    public_url: Url,
}

/// The workflows service. Cheap to clone.
#[derive(Clone)]
pub struct Workflows {
    inner: Arc<Inner>,
}

/// The workflows service as the services it serves hold it (the catalog's workflow tools, the
/// upload hook): without keeping it alive, since it holds them in turn. Without the weak link
/// the services would never be dropped, nor an import's reader thread waiting on them.
#[derive(Clone)]
pub struct WorkflowsHandle(std::sync::Weak<Inner>);

impl WorkflowsHandle {
    fn get(&self) -> Option<Workflows> {
        self.0.upgrade().map(|inner| Workflows { inner })
    }
}

impl Workflows {
    pub fn new(db: Db, parts: WorkflowParts, settings: WorkflowSettings, public_url: Url) -> Self {
        let store = Arc::new(Store::new(db));
        let templates = Arc::new(Templates::new());
        let parts = Arc::new(parts);
        let executor = Executor::new(Parts {
            services: parts.clone(),
            http: http::StepHttp::new(settings.allowed_hosts.clone()),
            templates: templates.clone(),
            store: store.clone(),
        });
        let inner = Inner { store, executor, templates, parts, settings, public_url };
        Self { inner: Arc::new(inner) }
    }

    /// A handle for the services that call back into workflows.
    pub fn handle(&self) -> WorkflowsHandle {
        WorkflowsHandle(Arc::downgrade(&self.inner))
    }

    /// Reads a definition from JSON, or says why it can't be one.
    ///
    /// # Errors
    /// `Invalid` with every problem found.
    pub fn parse(&self, definition: &Value) -> Result<Workflow, WorkflowError> {
        if definition.to_string().len() > MAX_DEFINITION_BYTES {
            return Err(WorkflowError::Invalid(vec![Problem { step: None, field: "workflow".into(), message: format!("A workflow's JSON is at most {} KB.", MAX_DEFINITION_BYTES / 1024) }]));
        }
        let workflow: Workflow = serde_json::from_value(definition.clone()).map_err(|e| {
            WorkflowError::Invalid(vec![Problem { step: None, field: "workflow".into(), message: format!("This is not a workflow's JSON: {e}.") }])
        })?;
        let found = problems(&workflow, &self.inner.parts.catalog, &self.inner.templates);
        if found.is_empty() { Ok(workflow) } else { Err(WorkflowError::Invalid(found)) }
    }

    /// Saves a new workflow (`id` = `None`) or a new version of one.
    ///
    /// # Errors
    /// `Invalid` with every problem, `NotFound` for someone else's workflow.
    pub async fn save(&self, user: &UserId, id: Option<&str>, definition: &Value) -> Result<Saved, WorkflowError> {
        let workflow = self.parse(definition)?;
        let stored = serde_json::to_string(&workflow).map_err(|e| WorkflowError::Corrupt(e.to_string()))?;
        let is_webhook = matches!(workflow.trigger, Trigger::Webhook {});
        let existing = match id {
            Some(id) => Some(self.inner.store.owned(user, id).await?),
            None => None,
        };
        // A webhook keeps its secret across versions; one is made when the trigger becomes one.
        let new_secret = (is_webhook && existing.as_ref().is_none_or(|w| w.webhook_secret.is_none())).then(webhook::new_secret);
        let saving = Saving {
            name: workflow.name.trim(),
            trigger_kind: workflow.trigger.kind(),
            definition: &stored,
            next_tick_ms: next_tick(&workflow.trigger, now_ms()),
            webhook_secret: None,
        };
        let (id, version) = match existing {
            None => {
                let id = self.inner.store.create(user, &saving).await?;
                (id, 1)
            }
            Some(row) => {
                let version = self.inner.store.update(user, &row.id, &saving).await?.ok_or(WorkflowError::NotFound)?;
                (row.id, version)
            }
        };
        if let Some(secret) = &new_secret {
            self.inner.store.set_webhook_secret(user, &id, &self.inner.parts.cipher.seal(&id, secret)).await?;
        }
        Ok(Saved { id, version, webhook_secret: new_secret })
    }

    /// Replaces a webhook workflow's secret; the new one is shown once.
    ///
    /// # Errors
    /// `NotFound`, or `NotNow` when its trigger is not a webhook.
    pub async fn new_webhook_secret(&self, user: &UserId, id: &str) -> Result<Saved, WorkflowError> {
        let row = self.inner.store.owned(user, id).await?;
        if row.trigger_kind != "webhook" {
            return Err(WorkflowError::NotNow("Only a webhook workflow has a secret.".into()));
        }
        let secret = webhook::new_secret();
        self.inner.store.set_webhook_secret(user, id, &self.inner.parts.cipher.seal(id, &secret)).await?;
        Ok(Saved { id: row.id, version: row.version, webhook_secret: Some(secret) })
    }

    /// The user's workflows, most recently changed first.
    pub async fn list(&self, user: &UserId) -> Result<Vec<WorkflowSummary>, WorkflowError> {
        let rows = self.inner.store.list(user).await?;
        let last_runs = self.inner.store.last_runs(user).await?;
        rows.iter()
            .map(|row| {
                let last = last_runs.iter().find(|r| r.workflow_id == row.id).map(store::RunRow::summary);
                Ok(self.summary(row, &definition(row)?, last))
            })
            .collect()
    }

    /// One of the user's workflows.
    ///
    /// # Errors
    /// `NotFound` when it is not theirs.
    pub async fn get(&self, user: &UserId, id: &str) -> Result<WorkflowView, WorkflowError> {
        let row = self.inner.store.owned(user, id).await?;
        let workflow = definition(&row)?;
        let last = self.inner.store.runs(user, id, 1).await?.first().map(store::RunRow::summary);
        let summary = self.summary(&row, &workflow, last);
        let next_runs_ms = match &workflow.trigger {
            Trigger::Schedule { cron, timezone } => Schedule::parse(cron, timezone).map(|s| s.upcoming(now_ms(), 5)).unwrap_or_default(),
            _ => Vec::new(),
        };
        let webhook_url = matches!(workflow.trigger, Trigger::Webhook {}).then(|| self.webhook_url(id));
        Ok(WorkflowView { summary, workflow, next_runs_ms, webhook_url })
    }

    /// Where a webhook workflow is called.
    pub fn webhook_url(&self, id: &str) -> String {
        self.inner.public_url.join(&format!("hooks/{id}")).map_or_else(|_| format!("/hooks/{id}"), |u| u.to_string())
    }

    fn summary(&self, row: &WorkflowRow, workflow: &Workflow, last_run: Option<RunSummary>) -> WorkflowSummary {
        WorkflowSummary {
            id: row.id.clone(),
            name: row.name.clone(),
            version: row.version,
            trigger: row.trigger_kind.clone(),
            trigger_text: describe_trigger(&workflow.trigger),
            enabled: row.enabled != 0,
            disabled_reason: row.disabled_reason.clone(),
            last_run,
            next_run_ms: row.next_tick_ms.filter(|_| row.enabled != 0),
            updated_ms: row.updated_ms,
        }
    }

    /// Deletes a workflow with its versions and runs.
    ///
    /// # Errors
    /// `NotFound` when it is not theirs.
    pub async fn delete(&self, user: &UserId, id: &str) -> Result<(), WorkflowError> {
        if self.inner.store.delete(user, id).await? { Ok(()) } else { Err(WorkflowError::NotFound) }
    }

    /// Turns a workflow on or off. Turning it on forgets the failures that turned it off, and
    /// a schedule starts from now (ticks missed while off are not run).
    ///
    /// # Errors
    /// `NotFound` when it is not theirs.
    pub async fn set_enabled(&self, user: &UserId, id: &str, enabled: bool) -> Result<WorkflowSummary, WorkflowError> {
        let row = self.inner.store.owned(user, id).await?;
        let next = if enabled { next_tick(&definition(&row)?.trigger, now_ms()) } else { None };
        self.inner.store.set_enabled(user, id, enabled, next).await?;
        Ok(self.get(user, id).await?.summary)
    }

    /// Starts a run now. A manual trigger's `inputs` are checked against its declared inputs;
    /// for other triggers `inputs` stands in for what the trigger would pass (`{"record": …}`).
    /// A `test` run performs no writes: its writing steps say what they would have done.
    ///
    /// # Errors
    /// `NotFound`, or `NotNow` for inputs that don't fit.
    pub async fn run(&self, user: &UserId, id: &str, inputs: Value, test: bool) -> Result<String, WorkflowError> {
        let row = self.inner.store.owned(user, id).await?;
        let workflow = definition(&row)?;
        let data = match &workflow.trigger {
            Trigger::Manual { inputs: declared } => json!({"inputs": checked_inputs(declared, inputs)?}),
            Trigger::Schedule { .. } => json!({"scheduled_at": iso(now_ms())}),
            _ if inputs.is_object() => inputs,
            _ => json!({}),
        };
        self.start(&row, None, &data, test).await?.ok_or_else(|| WorkflowError::NotNow("That run exists already.".into()))
    }

    /// Writes a run for the event `key` (unless one exists) and queues it; `None` when the
    /// event had its run already.
    async fn start(&self, row: &WorkflowRow, key: Option<&str>, data: &Value, test: bool) -> Result<Option<String>, WorkflowError> {
        let Some(run_id) = self.inner.store.insert_run(&NewRun { workflow: row, trigger_key: key, trigger_data: data, test }).await? else {
            return Ok(None);
        };
        self.inner.parts.jobs.push_run(RunJob { run_id: run_id.clone() }, Duration::ZERO).await?;
        tracing::info!(workflow.id = %row.id, run.id = %run_id, trigger = %row.trigger_kind, "a workflow run was queued");
        Ok(Some(run_id))
    }

    /// The workflow's runs, newest first.
    ///
    /// # Errors
    /// `NotFound` when the workflow is not theirs.
    pub async fn runs(&self, user: &UserId, workflow_id: &str) -> Result<Vec<RunSummary>, WorkflowError> {
        self.inner.store.owned(user, workflow_id).await?;
        Ok(self.inner.store.runs(user, workflow_id, RUN_LIST_LIMIT).await?.iter().map(store::RunRow::summary).collect())
    }

    /// One run with its steps.
    ///
    /// # Errors
    /// `NotFound` when it is not theirs.
    pub async fn run_view(&self, user: &UserId, run_id: &str) -> Result<RunView, WorkflowError> {
        let run = self.inner.store.owned_run(user, run_id).await?;
        let workflow: Workflow = serde_json::from_str(&run.definition).map_err(|e| WorkflowError::Corrupt(e.to_string()))?;
        let steps = self.inner.store.steps(run_id).await?.into_iter().map(|s| s.view).collect();
        Ok(RunView {
            summary: run.summary(),
            workflow_name: workflow.name.clone(),
            trigger: serde_json::from_str(&run.trigger_data).unwrap_or(Value::Null),
            steps,
            workflow,
        })
    }

    /// Runs a finished run again as a new run: from the step that failed (the steps before it
    /// are copied with their output), or from the start.
    ///
    /// # Errors
    /// `NotFound`, or `NotNow` while it is still running.
    pub async fn retry(&self, user: &UserId, run_id: &str, from_start: bool) -> Result<String, WorkflowError> {
        let run = self.inner.store.owned_run(user, run_id).await?;
        if !run.status().is_finished() {
            return Err(WorkflowError::NotNow("This run has not finished; cancel it first, or wait.".into()));
        }
        let workflow: Workflow = serde_json::from_str(&run.definition).map_err(|e| WorkflowError::Corrupt(e.to_string()))?;
        let logged = self.inner.store.steps(run_id).await?;
        // The first top-level step that did not finish; loops are taken up again whole.
        let finished = |id: &str| logged.iter().any(|s| s.view.step_id == id && s.view.status.is_done());
        let mut ids = workflow.steps.iter().map(|s| s.id());
        let start_at = if from_start { ids.next() } else { ids.find(|id| !finished(id)) };
        let Some(start_at) = start_at else {
            return Err(WorkflowError::NotNow("Every step of this run finished; start a new run instead.".into()));
        };
        // The steps before it, with a loop's inner steps (`each[2].say`), keep their output.
        let before: Vec<&str> = workflow.steps.iter().map(|s| s.id()).take_while(|id| *id != start_at).collect();
        let copied: Vec<store::StoredStep> =
            logged.into_iter().filter(|s| before.iter().any(|id| s.view.step_id == *id || s.view.step_id.starts_with(&format!("{id}[")))).collect();
        let new_id = self.inner.store.insert_retry(&run, Some(start_at), &copied).await?;
        self.inner.parts.jobs.push_run(RunJob { run_id: new_id.clone() }, Duration::ZERO).await?;
        Ok(new_id)
    }

    /// Stops a run: a queued one at once, a running one before its next step.
    ///
    /// # Errors
    /// `NotFound`, or `NotNow` once it has finished.
    pub async fn cancel(&self, user: &UserId, run_id: &str) -> Result<RunSummary, WorkflowError> {
        self.inner.store.owned_run(user, run_id).await?;
        if !self.inner.store.request_cancel(user, run_id).await? {
            return Err(WorkflowError::NotNow("This run has already finished.".into()));
        }
        Ok(self.inner.store.owned_run(user, run_id).await?.summary())
    }

    /// A webhook delivery: checks the secret, and starts one run per delivery ID. Answers the
    /// run's ID, or `None` for a delivery already received.
    ///
    /// # Errors
    /// `NotFound` for no such enabled webhook workflow, `Unauthorized` without its secret.
    pub async fn deliver(&self, workflow_id: &str, request: Delivery<'_>) -> Result<Option<String>, WorkflowError> {
        // Without any credential nothing is looked up, so the answer says nothing of the ID.
        if request.authorization.is_none() && request.signature.is_none() {
            return Err(WorkflowError::Unauthorized);
        }
        let row = self.inner.store.by_id(workflow_id).await?.filter(|r| r.trigger_kind == "webhook" && r.enabled != 0).ok_or(WorkflowError::NotFound)?;
        let sealed = row.webhook_secret.as_deref().ok_or(WorkflowError::Unauthorized)?;
        let secret = self.inner.parts.cipher.open(&row.id, sealed).map_err(|_| WorkflowError::Corrupt("a webhook secret can't be opened with this server's key".into()))?;
        if !webhook::is_authentic(secrecy::ExposeSecret::expose_secret(&secret), request.authorization, request.signature, request.body) {
            return Err(WorkflowError::Unauthorized);
        }
        let body = serde_json::from_slice::<Value>(request.body).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(request.body).into_owned()));
        let data = json!({"body": body, "headers": request.headers, "delivery_id": request.delivery_id});
        let key = request.delivery_id.map(|id| format!("webhook:{id}"));
        self.start(&row, key.as_deref(), &data, false).await
    }

    /// Starts the runs of the owner's file workflows whose pattern the upload's name matches.
    pub async fn file_uploaded(&self, user: &UserId, file: &FileSummary) {
        let result = async {
            for row in self.inner.store.enabled("file", Some(user)).await? {
                let Trigger::File { pattern } = definition(&row)?.trigger else { continue };
                if pattern.as_deref().is_none_or(|p| matches_pattern(p, &file.name)) {
                    let data = json!({"file": file});
                    self.start(&row, Some(&format!("file:{}", file.id)), &data, false).await?;
                }
            }
            Ok::<_, WorkflowError>(())
        };
        if let Err(e) = result.await {
            tracing::error!(file.id = %file.id, error = %e, "file workflows could not be started");
        }
    }

    /// Claims the schedule ticks that are due and starts their runs. Every instance calls this
    /// every tick; each tick's run is written once, whoever writes it.
    ///
    /// # Errors
    /// When the database can't be reached.
    pub async fn run_due_schedules(&self) -> Result<usize, WorkflowError> {
        let now = now_ms();
        let mut started = 0;
        for row in self.inner.store.enabled("schedule", None).await? {
            let Some(next) = row.next_tick_ms.filter(|n| *n <= now) else { continue };
            let Ok(Trigger::Schedule { cron, timezone }) = definition(&row).map(|w| w.trigger) else { continue };
            let Ok(schedule) = Schedule::parse(&cron, &timezone) else { continue };
            let (due, after) = schedule.due(next, now);
            for tick in due {
                let data = json!({"scheduled_at": iso(tick)});
                if self.start(&row, Some(&format!("schedule:{tick}")), &data, false).await?.is_some() {
                    started += 1;
                }
            }
            self.inner.store.advance_tick(&row.id, next, after).await?;
        }
        Ok(started)
    }

    /// Asks Airtable for records created or changed since each record trigger last looked,
    /// and starts a run for each.
    ///
    /// # Errors
    /// When the database can't be reached; a table that can't be read is logged and skipped.
    pub async fn poll_records(&self) -> Result<usize, WorkflowError> {
        let mut started = 0;
        for row in self.inner.store.enabled("record", None).await? {
            let Ok(Trigger::Record { base_id, table, on }) = definition(&row).map(|w| w.trigger) else { continue };
            let Some(user) = row.user() else { continue };
            let client = match self.inner.parts.connections.for_user(&user).await {
                Ok(connection) => connection.client,
                Err(e) => {
                    tracing::warn!(workflow.id = %row.id, error = %e, "a record trigger could not reach its owner's Airtable");
                    continue;
                }
            };
            let found = match records::changed_since(&client, &base_id, &table, on, row.record_cursor.as_deref(), row.updated_ms, now_ms()).await {
                Ok(found) => found,
                Err(e) => {
                    tracing::warn!(workflow.id = %row.id, error = %e, "a record trigger could not read its table");
                    continue;
                }
            };
            for event in &found.events {
                let data = json!({"record": event.record, "event": event.kind, "base_id": base_id, "table": table});
                if self.start(&row, Some(&event.key), &data, false).await?.is_some() {
                    started += 1;
                }
            }
            self.inner.store.advance_cursor(&row.id, row.record_cursor.as_deref(), &found.cursor).await?;
        }
        Ok(started)
    }

    /// Deletes finished runs past their age or count.
    ///
    /// # Errors
    /// When the database can't be reached.
    pub async fn prune(&self) -> Result<u64, WorkflowError> {
        let settings = &self.inner.settings;
        let before = now_ms() - i64::try_from(settings.keep_runs_for.as_millis()).unwrap_or(i64::MAX);
        self.inner.store.prune(before, i64::from(settings.keep_runs)).await
    }

    /// Queues a job for every run left queued or with a lapsed lease. Run once at start.
    ///
    /// # Errors
    /// When the database or the queue can't be reached.
    pub async fn recover(&self) -> Result<usize, WorkflowError> {
        let runs = self.inner.store.unfinished().await?;
        for run_id in &runs {
            self.inner.parts.jobs.push_run(RunJob { run_id: run_id.clone() }, Duration::ZERO).await?;
        }
        Ok(runs.len())
    }

    /// Looks at schedules every tick, at record triggers every poll, and prunes hourly, until
    /// the process ends.
    pub fn start_triggers(&self) {
        let workflows = self.clone();
        tokio::spawn(async move {
            let settings = workflows.inner.settings.clone();
            let mut tick = tokio::time::interval(settings.tick);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let (mut last_poll, mut last_prune) = (None::<tokio::time::Instant>, None::<tokio::time::Instant>);
            loop {
                tick.tick().await;
                if let Err(e) = workflows.run_due_schedules().await {
                    tracing::warn!(error = %e, "schedules could not be checked");
                }
                if last_poll.is_none_or(|at| at.elapsed() >= settings.record_poll) {
                    last_poll = Some(tokio::time::Instant::now());
                    let poller = workflows.clone();
                    // Airtable may be slow; schedules don't wait for it.
                    tokio::spawn(async move {
                        if let Err(e) = poller.poll_records().await {
                            tracing::warn!(error = %e, "record triggers could not be checked");
                        }
                    });
                }
                if last_prune.is_none_or(|at| at.elapsed() >= Duration::from_secs(3600)) {
                    last_prune = Some(tokio::time::Instant::now());
                    match workflows.prune().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(runs = n, "old workflow runs were deleted"),
                        Err(e) => tracing::warn!(error = %e, "old workflow runs could not be deleted"),
                    }
                }
            }
        });
    }

    /// What the job workers run for each run job.
    pub fn job_handler(&self) -> RunHandler {
        let workflows = self.clone();
        Arc::new(move |job: RunJob| {
            let workflows = workflows.clone();
            Box::pin(async move {
                let result = workflows.run_job(&job.run_id).await;
                if let Err(e) = &result {
                    tracing::warn!(run.id = %job.run_id, error = %e, "a workflow run job failed");
                }
                result.map_err(|e| e.to_string())
            })
        })
    }

    /// Claims the run and drives it to its end, renewing the lease meanwhile.
    async fn run_job(&self, run_id: &str) -> Result<(), WorkflowError> {
        let Some(run) = self.inner.store.run(run_id).await? else { return Ok(()) };
        let limit = serde_json::from_str::<Workflow>(&run.definition).ok().and_then(|w| w.concurrency).unwrap_or(1).max(1);
        let run = match self.inner.store.claim(run_id, limit, LEASE_MS).await? {
            Claim::Gone => return Ok(()),
            Claim::Busy => {
                // Another run of the workflow holds its place (or another instance holds this
                // one); ask again shortly, from the queue.
                self.inner.parts.jobs.push_run(RunJob { run_id: run_id.to_owned() }, BUSY_WAIT).await?;
                return Ok(());
            }
            Claim::Taken(run) => run,
        };
        let cancel = Arc::new(AtomicBool::new(run.cancel_requested != 0));
        let keeper = {
            let (store, cancel, run_id) = (self.inner.store.clone(), cancel.clone(), run_id.to_owned());
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(RENEW_EVERY).await;
                    match store.renew(&run_id, LEASE_MS).await {
                        Ok(true) => cancel.store(true, Ordering::Relaxed),
                        Ok(false) => {}
                        Err(e) => tracing::warn!(run.id = %run_id, error = %e, "a run's lease could not be renewed"),
                    }
                }
            })
        };
        let ending = self.inner.executor.execute(&run, &cancel).await;
        keeper.abort();
        let (status, error) = match ending? {
            Ending::Succeeded => (RunStatus::Succeeded, None),
            Ending::Failed(error) => (RunStatus::Failed, Some(error)),
            Ending::Cancelled(error) => (RunStatus::Cancelled, Some(error)),
        };
        let disabled = self.inner.store.finish(&run, status, error.as_deref(), self.inner.settings.disable_after).await?;
        tracing::info!(run.id = %run.id, workflow.id = %run.workflow_id, status = status.as_str(), "a workflow run ended");
        if disabled {
            tracing::warn!(workflow.id = %run.workflow_id, "a workflow was turned off after failing too often");
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl crate::files::UploadHook for WorkflowsHandle {
    async fn uploaded(&self, user: &UserId, file: &FileSummary) {
        if let Some(workflows) = self.get() {
            workflows.file_uploaded(user, file).await;
        }
    }
}

/// A webhook request, as the route hands it over.
pub struct Delivery<'a> {
    pub authorization: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub delivery_id: Option<&'a str>,
    /// The headers a workflow may read (content type, user agent, the sender's own `X-` ones),
    /// never the secret.
    pub headers: Value,
    pub body: &'a [u8],
}

fn definition(row: &WorkflowRow) -> Result<Workflow, WorkflowError> {
    serde_json::from_str(&row.definition).map_err(|e| WorkflowError::Corrupt(e.to_string()))
}

/// A schedule's first tick after `now`; nothing for other triggers.
fn next_tick(trigger: &Trigger, now: i64) -> Option<i64> {
    match trigger {
        Trigger::Schedule { cron, timezone } => Schedule::parse(cron, timezone).ok()?.next_after(now),
        _ => None,
    }
}

/// The trigger in words, for the list.
pub fn describe_trigger(trigger: &Trigger) -> String {
    match trigger {
        Trigger::Manual { inputs } if inputs.is_empty() => "Run by hand".into(),
        Trigger::Manual { inputs } => format!("Run by hand with {}", inputs.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(", ")),
        Trigger::Schedule { cron, timezone } => Schedule::parse(cron, timezone).map_or_else(|_| format!("On the schedule {cron}"), |s| s.describe()),
        Trigger::Webhook {} => "When its webhook is called".into(),
        Trigger::Record { table, on, .. } => match on {
            crate::model::workflows::RecordEvent::Created => format!("When a record is created in {table}"),
            crate::model::workflows::RecordEvent::Changed => format!("When a record is created or changed in {table}"),
        },
        Trigger::File { pattern: Some(pattern) } => format!("When a file named {pattern} is uploaded"),
        Trigger::File { pattern: None } => "When a file is uploaded".into(),
    }
}

/// A manual run's inputs, checked against the declared ones: required ones present, numbers
/// and true/false read from text as a form sends them.
fn checked_inputs(declared: &[crate::model::workflows::Input], given: Value) -> Result<Value, WorkflowError> {
    let given = match given {
        Value::Null => serde_json::Map::new(),
        Value::Object(map) => map,
        _ => return Err(WorkflowError::NotNow("Inputs are an object of names and values, such as {\"title\": \"Call Ada\"}.".into())),
    };
    let mut out = serde_json::Map::new();
    for input in declared {
        let value = given.get(&input.name).filter(|v| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()));
        let label = if input.label.is_empty() { &input.name } else { &input.label };
        let Some(value) = value else {
            if input.required {
                return Err(WorkflowError::NotNow(format!("Fill in {label}.")));
            }
            continue;
        };
        let value = match input.kind {
            InputKind::Text => Value::String(value.as_str().map_or_else(|| value.to_string(), str::to_owned)),
            InputKind::Number => match value {
                Value::Number(_) => value.clone(),
                Value::String(s) => s.trim().parse::<f64>().ok().map(|n| json!(n)).ok_or_else(|| WorkflowError::NotNow(format!("{label} is a number, such as 3 or 2.5.")))?,
                _ => return Err(WorkflowError::NotNow(format!("{label} is a number, such as 3 or 2.5."))),
            },
            InputKind::Boolean => match value {
                Value::Bool(_) => value.clone(),
                Value::String(s) => json!(matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "on" | "yes" | "1")),
                _ => return Err(WorkflowError::NotNow(format!("{label} is true or false."))),
            },
        };
        out.insert(input.name.clone(), value);
    }
    Ok(Value::Object(out))
}

/// A file name against a pattern where `*` is any text, ignoring case.
fn matches_pattern(pattern: &str, name: &str) -> bool {
    let (pattern, name) = (pattern.to_lowercase(), name.to_lowercase());
    let parts: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = parts.as_slice() else { return pattern == name };
    let Some(rest) = name.strip_prefix(first) else { return false };
    let Some(mut rest) = rest.strip_suffix(last) else { return false };
    for part in middle {
        match rest.split_once(part) {
            Some((_, after)) => rest = after,
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::workflows::Input;

    #[test]
    fn file_patterns_match_with_stars_and_any_case() {
        assert!(matches_pattern("*.csv", "People.CSV"));
        assert!(matches_pattern("report-*-2026*.xlsx", "report-march-2026-final.xlsx"));
        assert!(!matches_pattern("*.csv", "people.csv.txt"));
        assert!(matches_pattern("exact.txt", "EXACT.txt"));
        assert!(!matches_pattern("a*a", "a"));
    }

    #[test]
    fn manual_inputs_are_checked_and_read_as_their_kind() {
        let declared = vec![
            Input { name: "title".into(), label: "Title".into(), kind: InputKind::Text, required: true },
            Input { name: "hours".into(), label: String::new(), kind: InputKind::Number, required: false },
            Input { name: "urgent".into(), label: String::new(), kind: InputKind::Boolean, required: false },
        ];
        let read = checked_inputs(&declared, json!({"title": "Call", "hours": "2.5", "urgent": "on", "other": 1})).unwrap();
        assert_eq!(read, json!({"title": "Call", "hours": 2.5, "urgent": true}));
        assert!(checked_inputs(&declared, json!({"title": "  "})).unwrap_err().to_string().contains("Fill in Title"));
        assert!(checked_inputs(&declared, json!({"title": "x", "hours": "lots"})).is_err());
    }
}
