//! Background jobs: apalis queues in the app's own database, so that a job outlives the process
//! that queued it.
//!
//! apalis keeps its rows in its own tables (`Jobs` and `Workers` in SQLite, schema `apalis` in
//! PostgreSQL) through a typed pool beside the app's `AnyPool`. Every worker beats a heartbeat;
//! a job held by a worker that missed [`MISSED_HEARTBEATS`] beats (a process killed with
//! SIGKILL, say) goes back to the queue, where a live worker of this or another instance takes
//! it. PostgreSQL hands each job to one worker (`FOR UPDATE SKIP LOCKED`), so instances sharing
//! it never run a job twice at once; the jobs themselves are written to be run again safely.

use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use apalis::prelude::*;
use apalis_postgres::PostgresStorage;
use apalis_sqlite::SqliteStorage;
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use sqlx::{PgPool, SqlitePool};

use crate::db::{DbError, Dialect};
use crate::health::{CheckFuture, Finding, HealthCheck};
pub use crate::model::jobs::QueueStats;

/// The queue sagas run on.
const SAGA_QUEUE: &str = "sagas";
/// The queue workflow runs run on.
const RUN_QUEUE: &str = "workflow_runs";
/// How often a worker says it is alive. apalis counts SQLite's time in whole seconds.
const HEARTBEAT: Duration = Duration::from_secs(3);
/// A worker silent this many beats is taken for dead, and its jobs are queued again.
const MISSED_HEARTBEATS: usize = 3;
/// How long an idle worker waits before looking for new jobs.
const POLL: Duration = Duration::from_millis(500);
/// Sagas driven at once by one instance; each mostly waits on Airtable's rate limit.
const CONCURRENCY: usize = 8;
/// A job that keeps failing (its database unreachable, say) stops being retried after this.
const MAX_ATTEMPTS: usize = 20;
/// A waiting job older than this makes the health check report the queue as degraded.
const STUCK_AFTER: Duration = Duration::from_secs(300);

/// The job that drives one saga to its end, from its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SagaJob {
    pub saga_id: String,
}

/// The job that runs one workflow run from where its log says it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunJob {
    pub run_id: String,
}

/// What runs a job of type `J`: `Err` asks apalis to try again.
pub type Handler<J> = Arc<dyn Fn(J) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;
/// What runs a [`SagaJob`].
pub type SagaHandler = Handler<SagaJob>;
/// What runs a [`RunJob`].
pub type RunHandler = Handler<RunJob>;

/// Why a job could not be queued or counted.
#[derive(Debug, thiserror::Error)]
#[error("the job queue failed: {0}")]
pub struct JobError(String);

fn failed(e: impl std::fmt::Display) -> JobError {
    JobError(e.to_string())
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The job queues. Cheap to clone.
#[derive(Clone)]
pub struct Jobs {
    pool: Pool,
    alive: Arc<AtomicBool>,
    stop: Arc<std::sync::Mutex<Option<MonitorContext>>>,
}

impl Jobs {
    /// Opens the typed pool on the app's database and applies apalis's own migrations.
    ///
    /// # Errors
    /// `Connect` or `Migrate` with the reason.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        let dialect = Dialect::of_url(url)?;
        let connect_failed = |source| DbError::Connect { dialect: dialect.name(), source };
        let pool = match dialect {
            Dialect::Sqlite => {
                // The app's pool already made the file; the same settings keep the two pools
                // from tripping over each other (WAL, and waiting on a busy writer).
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(connect_failed)?
                    .journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(Duration::from_secs(5));
                let pool = SqlitePoolOptions::new().max_connections(4).connect_with(options).await.map_err(connect_failed)?;
                // Not `SqliteStorage::setup`, which turns off `synchronous` for the whole file.
                // Its own ledger, so that its migrations and the app's don't read each other's.
                let mut migrations = SqliteStorage::<()>::migrations();
                migrations.dangerous_set_table_name("_apalis_migrations");
                migrations.run(&pool).await?;
                Pool::Sqlite(pool)
            }
            Dialect::Postgres => {
                let pool = PgPoolOptions::new().max_connections(4).connect(url).await.map_err(connect_failed)?;
                PostgresStorage::setup(&pool).await.map_err(|e| DbError::Migrate(sqlx::migrate::MigrateError::Source(Box::new(e))))?;
                Pool::Postgres(pool)
            }
        };
        Ok(Self { pool, alive: Arc::default(), stop: Arc::default() })
    }

    /// Queues `job` to start no sooner than `after` from now. Queueing a saga that is already
    /// queued is harmless: the second job finds it finished, or waits for its lease.
    ///
    /// # Errors
    /// When the database refuses the row.
    pub async fn push_saga(&self, job: SagaJob, after: Duration) -> Result<(), JobError> {
        self.push(SAGA_QUEUE, job, after).await
    }

    /// Queues a workflow run to start no sooner than `after` from now. Queueing a run twice is
    /// harmless: only one worker claims it.
    ///
    /// # Errors
    /// When the database refuses the row.
    pub async fn push_run(&self, job: RunJob, after: Duration) -> Result<(), JobError> {
        self.push(RUN_QUEUE, job, after).await
    }

    async fn push<J: Serialize + for<'de> Deserialize<'de> + Send + Sync + Unpin + 'static>(&self, queue: &str, job: J, after: Duration) -> Result<(), JobError> {
        let task = TaskBuilder::new(job).max_attempts(MAX_ATTEMPTS).run_after(after).build();
        match &self.pool {
            Pool::Sqlite(pool) => SqliteStorage::new(pool).with_config(sqlite_config(queue)).push_task(task).await.map_err(failed),
            Pool::Postgres(pool) => PostgresStorage::new(pool).with_config(postgres_config(queue)).push_task(task).await.map_err(failed),
        }
    }

    /// Starts this instance's workers in the background: `sagas` runs each saga job, `runs`
    /// each workflow run.
    pub fn start(&self, sagas: SagaHandler, runs: RunHandler) {
        let instance = ulid::Ulid::generate().to_string();
        let (sagas, runs) = (Shared(sagas), Shared(runs));
        // Each (re)start gets a new worker name: a name apalis has seen alive is refused for a
        // while, and a dead worker's jobs must not look like the new one's.
        let monitor = match &self.pool {
            Pool::Sqlite(pool) => {
                let (pool, pool2, instance2) = (pool.clone(), pool.clone(), instance.clone());
                Monitor::new()
                    .register(move |restarts| {
                        let backend = SqliteStorage::<SagaJob>::new(&pool).with_config(sqlite_config(SAGA_QUEUE)).poll_with_interval(POLL);
                        WorkerBuilder::new(format!("sagas-{instance}-{restarts}")).backend(backend).data(sagas.clone()).concurrency(CONCURRENCY).build(run_job::<SagaJob>)
                    })
                    .register(move |restarts| {
                        let backend = SqliteStorage::<RunJob>::new(&pool2).with_config(sqlite_config(RUN_QUEUE)).poll_with_interval(POLL);
                        WorkerBuilder::new(format!("runs-{instance2}-{restarts}")).backend(backend).data(runs.clone()).concurrency(CONCURRENCY).build(run_job::<RunJob>)
                    })
            }
            Pool::Postgres(pool) => {
                let (pool, pool2, instance2) = (pool.clone(), pool.clone(), instance.clone());
                Monitor::new()
                    .register(move |restarts| {
                        let backend = PostgresStorage::<SagaJob>::new(&pool).with_config(postgres_config(SAGA_QUEUE)).poll_with_interval(POLL);
                        WorkerBuilder::new(format!("sagas-{instance}-{restarts}")).backend(backend).data(sagas.clone()).concurrency(CONCURRENCY).build(run_job::<SagaJob>)
                    })
                    .register(move |restarts| {
                        let backend = PostgresStorage::<RunJob>::new(&pool2).with_config(postgres_config(RUN_QUEUE)).poll_with_interval(POLL);
                        WorkerBuilder::new(format!("runs-{instance2}-{restarts}")).backend(backend).data(runs.clone()).concurrency(CONCURRENCY).build(run_job::<RunJob>)
                    })
            }
        };
        // A worker that stops on a database error starts again rather than leaving jobs behind.
        let monitor = monitor.should_restart(|_, error| {
            tracing::warn!(error = %error, "a job worker stopped; starting it again");
            true
        });
        *self.stop.lock().expect("the stop handle is only swapped") = Some(monitor.context());
        let alive = self.alive.clone();
        alive.store(true, Ordering::Relaxed);
        tokio::spawn(async move {
            if let Err(e) = monitor.run().await {
                tracing::error!(error = %e, "the job workers stopped");
            }
            alive.store(false, Ordering::Relaxed);
        });
    }

    /// Stops taking jobs; jobs already running finish first (apalis waits for them).
    pub fn stop(&self) {
        if let Some(context) = self.stop.lock().expect("the stop handle is only swapped").take() {
            let _ = context.shutdown();
        }
    }

    /// The figures of both queues together.
    ///
    /// # Errors
    /// When the database can't be read.
    pub async fn stats(&self) -> Result<QueueStats, JobError> {
        let mut statistics = Vec::new();
        for queue in [SAGA_QUEUE, RUN_QUEUE] {
            statistics.extend(match &self.pool {
                Pool::Sqlite(pool) => SqliteStorage::<SagaJob>::new(pool).with_config(sqlite_config(queue)).fetch_by_queue().await.map_err(failed)?,
                Pool::Postgres(pool) => PostgresStorage::<SagaJob>::new(pool).with_config(postgres_config(queue)).fetch_by_queue().await.map_err(failed)?,
            });
        }
        let values = |title: &str| statistics.iter().filter(|s| s.title == title).filter_map(|s| s.value.parse::<f64>().ok()).collect::<Vec<_>>();
        let count = |title: &str| values(title).iter().map(|v| v.max(0.0) as u64).sum();
        let now = crate::clock::now_ms() as f64 / 1000.0;
        let oldest = values("OLDEST_PENDING_JOB").into_iter().filter(|at| *at > 0.0).reduce(f64::min);
        Ok(QueueStats {
            waiting: count("PENDING_JOBS"),
            running: count("RUNNING_JOBS"),
            failed: count("FAILED_JOBS"),
            oldest_waiting_s: oldest.map(|at| (now - at).max(0.0) as u64),
            workers_alive: self.alive.load(Ordering::Relaxed),
        })
    }
}

fn sqlite_config(queue: &str) -> apalis_sqlite::Config {
    apalis_sqlite::Config::default()
        .queue(queue)
        .batch_size(CONCURRENCY)
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
}

fn postgres_config(queue: &str) -> apalis_postgres::Config {
    apalis_postgres::Config::default()
        .queue(queue)
        .batch_size(CONCURRENCY)
        .heartbeat_interval(HEARTBEAT)
        .missed_heartbeats(MISSED_HEARTBEATS)
}

/// A handler, as apalis's shared data.
struct Shared<J>(Handler<J>);

impl<J> Clone for Shared<J> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

async fn run_job<J>(job: J, handler: Data<Shared<J>>) -> Result<(), BoxDynError> {
    let run: &Handler<J> = &(*handler).0;
    run(job).await.map_err(Into::into)
}

/// `/api/health`'s `jobs` check: the workers run, and nothing has waited too long.
pub struct JobsCheck(pub Jobs);

impl HealthCheck for JobsCheck {
    fn name(&self) -> &'static str {
        "jobs"
    }

    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            match self.0.stats().await {
                Err(e) => Finding::unhealthy(e.to_string()),
                Ok(stats) if !stats.workers_alive => Finding::unhealthy("the job workers are not running; see the server log"),
                Ok(stats) => {
                    let oldest = stats.oldest_waiting_s.map(|s| format!("; the oldest has waited {s} s")).unwrap_or_default();
                    let detail = format!("{} waiting, {} running, {} failed{oldest}", stats.waiting, stats.running, stats.failed);
                    if stats.oldest_waiting_s.is_some_and(|s| s > STUCK_AFTER.as_secs()) { Finding::degraded(detail) } else { Finding::healthy(detail) }
                }
            }
        })
    }
}
