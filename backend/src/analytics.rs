//! Analytics: events recorded by every layer without slowing it (a bounded queue, written in
//! batches by a background task), hourly rollups that the dashboard reads, the counters that
//! `/metrics` shows, raw-event retention, and the status page's report.

pub mod client;
mod csv_export;
pub mod dashboard;
pub mod event;
pub mod histogram;
pub mod store;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

pub use client::{ClientEventError, ClientLimiter};
pub use csv_export::dashboard_csv;
pub use event::{Event, EventKind};

use crate::clock::now_ms;
use crate::db::{Db, Dialect};
use crate::health::Health;
use crate::model::analytics::{Dashboard, DashboardQuery, LimiterBase, StatusReport};
use crate::model::jobs::QueueStats;

/// Events waiting to be written; past this, new ones are dropped (and counted) rather than
/// making a request wait.
pub const QUEUE_CAPACITY: usize = 10_000;
/// A batch is written when it reaches this many events…
const BATCH_EVENTS: usize = 500;
/// …or this long after its first event arrived.
const BATCH_WAIT: Duration = Duration::from_millis(500);

/// Why analytics could not be read.
#[derive(Debug, thiserror::Error)]
pub enum AnalyticsError {
    #[error("Only administrators can see everyone's analytics.")]
    Forbidden,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

impl From<sqlx::Error> for AnalyticsError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

enum Command {
    Record(Box<Event>),
    /// Answered once everything queued before it is written.
    Flush(oneshot::Sender<()>),
}

/// One counter for `/metrics`: a name without `pyairtable_` or `_total`, and its labels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CounterKey {
    pub metric: &'static str,
    pub labels: Vec<(&'static str, String)>,
}

/// Reads the Airtable limiter's state per base, for the status page.
pub type LimiterStates = Box<dyn Fn() -> Vec<LimiterBase> + Send + Sync>;

/// Who is looking at the dashboard.
#[derive(Debug, Clone, Copy)]
pub struct Viewer<'a> {
    pub user_id: &'a str,
    pub is_admin: bool,
}

struct Inner {
    db: Option<Db>,
    health: Health,
    limiter: Option<LimiterStates>,
    queue: Option<mpsc::Sender<Command>>,
    /// Recorded but not yet written.
    pending: AtomicU64,
    dropped: AtomicU64,
    counters: Mutex<BTreeMap<CounterKey, u64>>,
    client_limiter: ClientLimiter,
}

/// The analytics service. Cheap to clone. The default one counts for `/metrics` but stores
/// nothing, for services built without a database (unit tests).
#[derive(Clone)]
pub struct Analytics {
    inner: Arc<Inner>,
}

impl Default for Analytics {
    fn default() -> Self {
        Self::build(None, Health::new(), None)
    }
}

impl Analytics {
    /// Analytics stored in `db`, with its writer running on the current Tokio runtime.
    pub fn new(db: Db, health: Health, limiter: LimiterStates) -> Self {
        Self::build(Some(db), health, Some(limiter))
    }

    fn build(db: Option<Db>, health: Health, limiter: Option<LimiterStates>) -> Self {
        let (queue, receiver) = match (&db, tokio::runtime::Handle::try_current()) {
            (Some(_), Ok(_)) => {
                let (sender, receiver) = mpsc::channel(QUEUE_CAPACITY);
                (Some(sender), Some(receiver))
            }
            _ => (None, None),
        };
        let inner = Arc::new(Inner {
            db,
            health,
            limiter,
            queue,
            pending: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            counters: Mutex::new(BTreeMap::new()),
            client_limiter: ClientLimiter::default(),
        });
        if let (Some(receiver), Some(db)) = (receiver, inner.db.clone()) {
            // The writer holds no handle on the service, so it ends once every sender is gone.
            let weak = Arc::downgrade(&inner);
            tokio::spawn(write_batches(db, receiver, move |written| {
                if let Some(inner) = weak.upgrade() {
                    inner.pending.fetch_sub(written, Ordering::Relaxed);
                }
            }));
        }
        Self { inner }
    }

    /// Counts `event` at once and queues it for the database; never waits. When the queue is
    /// full the event is dropped, and counted as dropped.
    pub fn record(&self, event: Event) {
        self.count(&event);
        let Some(queue) = &self.inner.queue else { return };
        self.inner.pending.fetch_add(1, Ordering::Relaxed);
        if queue.try_send(Command::Record(Box::new(event))).is_err() {
            self.inner.pending.fetch_sub(1, Ordering::Relaxed);
            let dropped = self.inner.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if dropped.is_power_of_two() {
                tracing::warn!(dropped, "the analytics queue is full; events are being dropped");
            }
        }
    }

    /// Waits until every event recorded so far is written. For tests and shutdown.
    pub async fn flush(&self) {
        let Some(queue) = &self.inner.queue else { return };
        let (done, written) = oneshot::channel();
        if queue.send(Command::Flush(done)).await.is_ok() {
            let _ = written.await;
        }
    }

    /// Events queued but not yet written.
    pub fn queue_depth(&self) -> u64 {
        self.inner.pending.load(Ordering::Relaxed)
    }

    /// Events dropped since start because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Every counter since start, for `/metrics`.
    pub fn counters(&self) -> Vec<(CounterKey, u64)> {
        self.inner.counters.lock().expect("counters are never left half-updated").iter().map(|(k, v)| (k.clone(), *v)).collect()
    }

    fn count(&self, event: &Event) {
        let outcome = || ("outcome", event.outcome.clone());
        let key = match event.kind {
            EventKind::ChatTurn => CounterKey { metric: "chat_turns", labels: vec![outcome()] },
            EventKind::ToolCall => CounterKey { metric: "tool_calls", labels: vec![outcome(), ("source", event.source.clone())] },
            EventKind::AirtableRequest => CounterKey { metric: "airtable_requests", labels: vec![outcome()] },
            EventKind::Saga => CounterKey { metric: "sagas", labels: vec![outcome(), ("source", event.source.clone())] },
            EventKind::Login => CounterKey { metric: "logins", labels: vec![outcome()] },
            EventKind::Signup => CounterKey { metric: "signups", labels: vec![] },
            EventKind::Client => CounterKey { metric: "client_events", labels: vec![] },
        };
        *self.inner.counters.lock().expect("counters are never left half-updated").entry(key).or_default() += 1;
    }

    /// Writes `events` straight to the database, in one transaction, bypassing the queue and
    /// the counters. For loading data in bulk (the benchmark); requests use [`Self::record`].
    ///
    /// # Errors
    /// `Db` when there is no database or it refuses the batch.
    pub async fn store(&self, events: &[Event]) -> Result<(), AnalyticsError> {
        store::write(self.db()?, events).await?;
        Ok(())
    }

    /// Records a browser's batch of events for `user_id`, if it is well formed and the user is
    /// within their rate limit.
    ///
    /// # Errors
    /// What is wrong with the batch, or `RateLimited`.
    pub fn record_client(&self, user_id: &str, body: &[u8]) -> Result<usize, ClientEventError> {
        self.inner.client_limiter.check(user_id)?;
        let events = client::parse(body, user_id)?;
        let count = events.len();
        for event in events {
            self.record(event);
        }
        Ok(count)
    }

    /// The dashboard for `viewer`: their own data, or everyone's for an admin who asks.
    ///
    /// # Errors
    /// `Forbidden` when a non-admin asks for everyone's; `Invalid` for a backwards or too long range.
    pub async fn dashboard(&self, viewer: Viewer<'_>, query: &DashboardQuery) -> Result<Dashboard, AnalyticsError> {
        if query.all_users && !viewer.is_admin {
            return Err(AnalyticsError::Forbidden);
        }
        if query.to_ms <= query.from_ms {
            return Err(AnalyticsError::Invalid("The range ends before it starts. Pick an end after the start.".into()));
        }
        if query.to_ms - query.from_ms > dashboard::MAX_RANGE_MS {
            return Err(AnalyticsError::Invalid("That range is too long: pick at most 400 days.".into()));
        }
        let scope = dashboard::Scope { user_id: (!query.all_users).then_some(viewer.user_id) };
        Ok(dashboard::build(self.db()?, query, &scope).await?)
    }

    /// The status page's report: health, the database and its size, the event queue, the
    /// background job queue's figures (which the services hand in), and the Airtable limiter's
    /// state per base.
    ///
    /// # Errors
    /// `Db` when there is no database (its size failing to read is reported as unknown).
    pub async fn status(&self, jobs: Option<QueueStats>) -> Result<StatusReport, AnalyticsError> {
        let db = self.db()?;
        let health = self.inner.health.report().await;
        let size_sql = match db.dialect() {
            Dialect::Sqlite => "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            Dialect::Postgres => "SELECT pg_database_size(current_database())",
        };
        let database_bytes = match sqlx::query_scalar::<_, i64>(size_sql).fetch_one(db.pool()).await {
            Ok(bytes) => u64::try_from(bytes).ok(),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the database's size");
                None
            }
        };
        Ok(StatusReport {
            health,
            database: db.dialect().name().to_owned(),
            database_bytes,
            event_queue_depth: self.queue_depth(),
            events_dropped: self.dropped(),
            limiter: self.inner.limiter.as_ref().map(|states| states()).unwrap_or_default(),
            jobs,
        })
    }

    /// Deletes raw events older than `days`; rollups stay. Returns how many went.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn delete_old_events(&self, days: u32) -> Result<u64, AnalyticsError> {
        let before = now_ms() - i64::from(days) * dashboard::DAY_MS;
        Ok(store::delete_before(self.db()?, before).await?)
    }

    fn db(&self) -> Result<&Db, AnalyticsError> {
        self.inner.db.as_ref().ok_or_else(|| AnalyticsError::Invalid("Analytics are not stored on this server.".into()))
    }
}

/// The background writer: gathers events into batches and writes each in one transaction.
async fn write_batches(db: Db, mut receiver: mpsc::Receiver<Command>, written: impl Fn(u64)) {
    let mut batch: Vec<Event> = Vec::with_capacity(BATCH_EVENTS);
    loop {
        let first = match receiver.recv().await {
            Some(command) => command,
            None => return,
        };
        let mut waiting = Vec::new();
        let mut next = Some(first);
        let deadline = tokio::time::Instant::now() + BATCH_WAIT;
        while let Some(command) = next.take() {
            match command {
                Command::Record(event) => batch.push(*event),
                // A flush writes what is gathered now instead of waiting out the batch.
                Command::Flush(done) => {
                    waiting.push(done);
                    break;
                }
            }
            if batch.len() >= BATCH_EVENTS {
                break;
            }
            next = match tokio::time::timeout_at(deadline, receiver.recv()).await {
                Ok(Some(command)) => Some(command),
                Ok(None) | Err(_) => None,
            };
        }
        if !batch.is_empty() {
            if let Err(e) = store::write(&db, &batch).await {
                tracing::error!(error = %e, events = batch.len(), "could not write analytics events; this batch is lost");
            }
            written(batch.len() as u64);
            batch.clear();
        }
        for done in waiting {
            let _ = done.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn analytics() -> (tempfile::TempDir, Analytics, Db) {
        let (dir, db) = crate::db::migrated_test_db().await;
        (dir, Analytics::new(db.clone(), Health::new(), Box::new(Vec::new)), db)
    }

    /// A stable user ID for a name in these tests.
    fn uid(name: &str) -> String {
        let n = name.bytes().fold(0u64, |h, b| h * 31 + u64::from(b)) % 1_000_000;
        format!("00000000-0000-4000-8000-{n:012}")
    }

    fn viewer(user_id: &str, admin: bool) -> Viewer<'_> {
        Viewer { user_id, is_admin: admin }
    }

    fn day() -> DashboardQuery {
        let now = now_ms();
        DashboardQuery { from_ms: now - dashboard::DAY_MS, to_ms: now + 1, all_users: false }
    }

    #[tokio::test]
    async fn recorded_events_reach_the_dashboard_after_a_flush() {
        let (_dir, analytics, _db) = analytics().await;
        let ada_id = uid("ada");
        let ada = viewer(&ada_id, false);
        analytics.record(Event::tool_call("list_tables", crate::model::analytics::ToolSource::Rest, Some(uid("ada").as_str()), Duration::from_millis(30), None));
        analytics.record(Event::tool_call("list_records", crate::model::analytics::ToolSource::Chat, Some(uid("ada").as_str()), Duration::from_millis(70), Some("No table X".into())));
        analytics.record(Event::tool_call("list_tables", crate::model::analytics::ToolSource::Mcp, Some(uid("bob").as_str()), Duration::from_millis(5), None));
        analytics.flush().await;
        assert_eq!(analytics.queue_depth(), 0);
        let board = analytics.dashboard(ada, &day()).await.unwrap();
        assert_eq!(board.kpis.tool_calls, 2);
        assert_eq!(board.kpis.active_users, 1);
        assert!((board.kpis.error_rate - 0.5).abs() < 1e-9);
        assert_eq!(board.recent_errors.len(), 1);
        assert_eq!(board.recent_errors[0].detail, "No table X");
        assert_eq!(board.top_tools.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(), ["list_records", "list_tables"]);
        assert_eq!(board.series.iter().map(|p| p.tool_calls).sum::<u64>(), 2);
        assert_eq!(board.series.len(), 25);
    }

    #[tokio::test]
    async fn only_admins_see_everyone() {
        let (_dir, analytics, _db) = analytics().await;
        let everyone = DashboardQuery { all_users: true, ..day() };
        assert!(matches!(analytics.dashboard(viewer(&uid("ada"), false), &everyone).await, Err(AnalyticsError::Forbidden)));
        analytics.record(Event::new(EventKind::Login, "password").by(Some(uid("bob").as_str())));
        analytics.flush().await;
        assert_eq!(analytics.dashboard(viewer(&uid("root"), true), &everyone).await.unwrap().kpis.active_users, 1);
    }

    #[tokio::test]
    async fn rollups_add_up_across_batches_as_across_servers() {
        let (_dir, analytics, db) = analytics().await;
        let call = || Event::tool_call("list_tables", crate::model::analytics::ToolSource::Rest, Some(uid("ada").as_str()), Duration::from_millis(30), None);
        analytics.store(&[call(), call()]).await.unwrap();
        analytics.store(&[call()]).await.unwrap();
        let n: i64 = sqlx::query_scalar("SELECT CAST(SUM(n) AS BIGINT) FROM event_rollups WHERE user_id <> '*'").fetch_one(db.pool()).await.unwrap();
        assert_eq!(n, 3);
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_rollups WHERE user_id <> '*'").fetch_one(db.pool()).await.unwrap();
        assert!(rows <= 2, "one row per hour: {rows}");
    }

    #[tokio::test]
    async fn retention_deletes_old_raw_events_and_keeps_rollups() {
        let (_dir, analytics, db) = analytics().await;
        let old = Event { at_ms: now_ms() - 100 * dashboard::DAY_MS, ..Event::new(EventKind::Login, "password") };
        analytics.store(&[old, Event::new(EventKind::Login, "password")]).await.unwrap();
        assert_eq!(analytics.delete_old_events(90).await.unwrap(), 1);
        let rollups: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM event_rollups WHERE user_id <> '*'").fetch_one(db.pool()).await.unwrap();
        assert_eq!(rollups, 2);
    }

    #[tokio::test]
    async fn a_backwards_range_is_refused_with_a_reason() {
        let (_dir, analytics, _db) = analytics().await;
        let backwards = DashboardQuery { from_ms: 10, to_ms: 5, all_users: false };
        assert!(matches!(analytics.dashboard(viewer(&uid("ada"), false), &backwards).await, Err(AnalyticsError::Invalid(_))));
    }

    #[tokio::test]
    async fn the_status_report_names_the_database_and_its_size() {
        let (_dir, analytics, _db) = analytics().await;
        let status = analytics.status(None).await.unwrap();
        assert_eq!(status.database, "SQLite");
        assert!(status.database_bytes.unwrap() > 0);
        assert_eq!(status.event_queue_depth, 0);
    }

    #[test]
    fn counters_are_kept_without_a_database() {
        let analytics = Analytics::default();
        analytics.record(Event::new(EventKind::Login, "password").failed("bad password"));
        analytics.record(Event::new(EventKind::Login, "password").failed("bad password"));
        let counters = analytics.counters();
        assert_eq!(counters, [(CounterKey { metric: "logins", labels: vec![("outcome", "error".into())] }, 2)]);
    }
}
