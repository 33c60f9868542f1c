//! The health report served at `/api/health` and shown on the home page.

use serde::{Deserialize, Serialize};

/// How well a subsystem, or the whole service, is doing. Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Degraded => "degraded",
            Self::Unhealthy => "unhealthy",
        }
    }
}

/// The outcome of one subsystem's check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub status: HealthStatus,
    pub latency_ms: f64,
    pub detail: String,
}

/// Every check, and the overall status: the worst of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    pub status: HealthStatus,
    pub version: String,
    pub uptime_s: u64,
    pub checks: Vec<CheckResult>,
}

impl HealthReport {
    /// Builds a report whose status is the worst status among `checks`.
    pub fn new(version: &str, uptime_s: u64, checks: Vec<CheckResult>) -> Self {
        let status = checks
            .iter()
            .map(|c| c.status)
            .max()
            .unwrap_or(HealthStatus::Healthy);
        Self { status, version: version.into(), uptime_s, checks }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: HealthStatus) -> CheckResult {
        CheckResult { name: "x".into(), status, latency_ms: 1.0, detail: String::new() }
    }

    #[test]
    fn the_overall_status_is_the_worst_check() {
        let report = HealthReport::new(
            "1",
            0,
            vec![check(HealthStatus::Healthy), check(HealthStatus::Degraded)],
        );
        assert_eq!(report.status, HealthStatus::Degraded);
    }

    #[test]
    fn a_report_without_checks_is_healthy() {
        assert_eq!(HealthReport::new("1", 0, vec![]).status, HealthStatus::Healthy);
    }

    #[test]
    fn statuses_serialize_as_the_words_the_api_documents() {
        let json = serde_json::to_string(&HealthStatus::Unhealthy).unwrap();
        assert_eq!(json, "\"unhealthy\"");
        assert_eq!(HealthStatus::Degraded.as_str(), "degraded");
    }
}
