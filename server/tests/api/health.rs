use backend::model::health::{HealthReport, HealthStatus};
use reqwest::StatusCode;

use crate::helpers::{TestApp, on_both_databases};

on_both_databases!(
    health_reports_a_migrated_database_as_healthy,
    health_answers_503_when_the_database_is_gone,
    the_health_server_function_returns_the_report_as_json,
);

async fn health_reports_a_migrated_database_as_healthy(app: TestApp) {
    let response = app.get("/api/health").await;
    assert_eq!(response.status(), StatusCode::OK);
    let report: HealthReport = response.json().await.unwrap();
    assert_eq!(report.status, HealthStatus::Healthy);
    assert_eq!(report.version, backend::VERSION);
    let database = report.checks.iter().find(|c| c.name == "database").expect("a database check");
    assert_eq!(database.status, HealthStatus::Healthy);
    assert!(database.detail.starts_with(app.db.dialect.name()), "{}", database.detail);
    assert!(database.latency_ms >= 0.0);
    let jobs = report.checks.iter().find(|c| c.name == "jobs").expect("a job queue check");
    assert_eq!(jobs.status, HealthStatus::Healthy, "{}", jobs.detail);
    assert!(jobs.detail.contains("waiting"), "{}", jobs.detail);
}

async fn health_answers_503_when_the_database_is_gone(app: TestApp) {
    app.services.db.close().await;
    let response = app.get("/api/health").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let report: HealthReport = response.json().await.unwrap();
    assert_eq!(report.status, HealthStatus::Unhealthy);
    assert!(report.checks[0].detail.contains("does not answer"), "{:?}", report.checks[0]);
}

async fn the_health_server_function_returns_the_report_as_json(app: TestApp) {
    let response = app.client.post(app.url("/api/system/health")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let report: HealthReport = response.json().await.unwrap();
    assert_eq!(report.status, HealthStatus::Healthy);
    assert!(report.checks.iter().any(|c| c.name == "database"));
}
