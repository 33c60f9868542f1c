use crate::helpers::{TestApp, on_both_databases};

on_both_databases!(
    metrics_count_requests_by_route_and_status,
    a_request_id_is_generated_when_missing,
    an_incoming_request_id_is_echoed,
);

async fn metrics_count_requests_by_route_and_status(app: TestApp) {
    app.get("/api/health").await;
    app.get("/api/health").await;
    app.get("/no/such/page").await;
    let response = app.get("/metrics").await;
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    assert!(text.contains(r#"http_requests_total{method="GET",route="/api/health",status="200"} 2"#), "{text}");
    assert!(text.contains(r#"http_requests_total{method="GET",route="fallback",status="404"} 1"#), "{text}");
    assert!(text.contains(r#"http_request_duration_seconds_count{method="GET",route="/api/health",status="200"} 2"#), "{text}");
    let resident: f64 = text
        .lines()
        .find_map(|l| l.strip_prefix("process_resident_memory_bytes "))
        .expect("a memory gauge")
        .parse()
        .unwrap();
    assert!(resident > 1_000_000.0, "resident memory {resident}");
}

async fn a_request_id_is_generated_when_missing(app: TestApp) {
    let response = app.get("/api/health").await;
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
    let other = app.get("/api/health").await;
    assert_ne!(other.headers()["x-request-id"].to_str().unwrap(), id);
}

async fn an_incoming_request_id_is_echoed(app: TestApp) {
    let response = app.client.get(app.url("/")).header("x-request-id", "trace-42").send().await.unwrap();
    assert_eq!(response.headers()["x-request-id"], "trace-42");
}
