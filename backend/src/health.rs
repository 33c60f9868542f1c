//! Health checks: each subsystem registers one, and a report runs them all at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::db::Db;
use crate::model::health::{CheckResult, HealthReport, HealthStatus};

/// A check that hangs is reported as failed after this long, so `/api/health` always answers.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// What one check found, before it is timed.
#[derive(Debug, Clone)]
pub struct Finding {
    pub status: HealthStatus,
    pub detail: String,
}

impl Finding {
    pub fn healthy(detail: impl Into<String>) -> Self {
        Self { status: HealthStatus::Healthy, detail: detail.into() }
    }
    pub fn degraded(detail: impl Into<String>) -> Self {
        Self { status: HealthStatus::Degraded, detail: detail.into() }
    }
    pub fn unhealthy(detail: impl Into<String>) -> Self {
        Self { status: HealthStatus::Unhealthy, detail: detail.into() }
    }
}

pub type CheckFuture<'a> = Pin<Box<dyn Future<Output = Finding> + Send + 'a>>;

/// One subsystem's health check. Later features add their own beside the database's.
pub trait HealthCheck: Send + Sync {
    fn name(&self) -> &'static str;
    fn check(&self) -> CheckFuture<'_>;
}

/// Every registered check, and when the process started.
#[derive(Clone)]
pub struct Health {
    started: Instant,
    checks: Vec<Arc<dyn HealthCheck>>,
}

impl Health {
    pub fn new() -> Self {
        Self { started: Instant::now(), checks: Vec::new() }
    }

    pub fn with_check(mut self, check: impl HealthCheck + 'static) -> Self {
        self.checks.push(Arc::new(check));
        self
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    /// Runs every check concurrently, each bounded by a timeout.
    pub async fn report(&self) -> HealthReport {
        let results = futures::future::join_all(self.checks.iter().map(|c| run(c.as_ref()))).await;
        HealthReport::new(crate::VERSION, self.uptime().as_secs(), results)
    }
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

async fn run(check: &dyn HealthCheck) -> CheckResult {
    let start = Instant::now();
    let finding = tokio::time::timeout(CHECK_TIMEOUT, check.check())
        .await
        .unwrap_or_else(|_| {
            Finding::unhealthy(format!("no answer within {} s", CHECK_TIMEOUT.as_secs()))
        });
    CheckResult {
        name: check.name().into(),
        status: finding.status,
        latency_ms: (start.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0,
        detail: finding.detail,
    }
}

/// The database answers queries and has every migration of this build applied.
pub struct DatabaseCheck(pub Db);

impl HealthCheck for DatabaseCheck {
    fn name(&self) -> &'static str {
        "database"
    }

    fn check(&self) -> CheckFuture<'_> {
        Box::pin(async move {
            let db = &self.0;
            if let Err(e) = db.ping().await {
                tracing::warn!(error = %e, "database health check failed");
                return Finding::unhealthy(format!("{} does not answer", db.dialect().name()));
            }
            let known = db.known_migrations();
            match db.applied_migrations().await {
                Ok(applied) if applied >= known => Finding::healthy(format!(
                    "{}, {applied} migration{} applied",
                    db.dialect().name(),
                    if applied == 1 { "" } else { "s" }
                )),
                Ok(applied) => Finding::degraded(format!(
                    "{}, {applied} of {known} migrations applied: run `pyairtable migrate`",
                    db.dialect().name()
                )),
                Err(_) => Finding::degraded(format!(
                    "{} answers, but has no migrations: run `pyairtable migrate`",
                    db.dialect().name()
                )),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Stuck;
    impl HealthCheck for Stuck {
        fn name(&self) -> &'static str {
            "stuck"
        }
        fn check(&self) -> CheckFuture<'_> {
            Box::pin(std::future::pending())
        }
    }

    struct Fine;
    impl HealthCheck for Fine {
        fn name(&self) -> &'static str {
            "fine"
        }
        fn check(&self) -> CheckFuture<'_> {
            Box::pin(async { Finding::healthy("ok") })
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_check_that_hangs_is_reported_unhealthy() {
        let report = Health::new().with_check(Fine).with_check(Stuck).report().await;
        assert_eq!(report.status, HealthStatus::Unhealthy);
        assert_eq!(report.checks[0].status, HealthStatus::Healthy);
        assert!(report.checks[1].detail.contains("no answer"));
    }

    #[tokio::test]
    async fn a_migrated_database_is_healthy_and_a_closed_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/h.db", dir.path().display())).await.unwrap();
        let health = Health::new().with_check(DatabaseCheck(db.clone()));
        assert_eq!(health.report().await.status, HealthStatus::Degraded);
        db.migrate().await.unwrap();
        let report = health.report().await;
        assert_eq!(report.status, HealthStatus::Healthy, "{report:?}");
        db.close().await;
        assert_eq!(health.report().await.status, HealthStatus::Unhealthy);
    }
}
