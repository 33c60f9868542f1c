//! The HTTP edge: one error shape and status table for the plain routes and the server
//! functions, internal failures shown only as a sentence with the request ID, security headers
//! on every answer, and `/metrics` behind its token.

use backend::db::Dialect;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_databases, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

async fn signed_in(app: &TestApp) -> String {
    app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    app.access_token("ada@example.com", PASSWORD).await
}

async fn every_plain_route_refuses_a_caller_without_credentials_in_one_shape(app: TestApp) {
    let calls = [
        app.client.get(app.url("/api/tools")),
        app.client.post(app.url("/api/execute-tool")).json(&json!({ "tool_name": "list_bases" })),
        app.client.post(app.url("/api/analytics/events")).json(&json!({ "events": [] })),
        app.client.post(app.url("/api/chat")).json(&json!({ "message": "hello" })),
        app.client.post(app.url("/api/chat/stream")).json(&json!({ "message": "hello" })),
        app.client.get(app.url("/api/chat/conversations/abc/events")),
        app.client.post(app.url("/mcp")).json(&json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" })),
    ];
    for call in calls {
        let response = call.send().await.unwrap();
        let url = response.url().clone();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{url}");
        assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"), "{url}");
        let body: Value = response.json().await.unwrap();
        assert!(body["error"].as_str().is_some_and(|e| e.contains("Bearer")), "{url}: {body}");
    }
}

async fn an_internal_failure_shows_the_request_id_and_no_detail(app: TestApp) {
    let token = signed_in(&app).await;
    // A table gone from under the app stands for any database failure.
    let drop = match app.db.dialect {
        Dialect::Sqlite => "DROP TABLE conversations",
        Dialect::Postgres => "DROP TABLE conversations CASCADE",
    };
    sqlx::query(drop).execute(app.services.db.pool()).await.unwrap();
    for (path, body) in [("/api/chat", json!({ "message": "hello" })), ("/api/chat/conversations", json!({ "search": null }))] {
        let response = app.client.post(app.url(path)).bearer_auth(&token).header("x-request-id", "probe-42").json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR, "{path}");
        let text = response.text().await.unwrap();
        assert!(text.contains("probe-42"), "{path}: the answer names the request ID: {text}");
        for detail in ["no such table", "does not exist", "sqlx", "database query failed"] {
            assert!(!text.contains(detail), "{path}: the answer shows {detail:?}: {text}");
        }
    }
}

async fn a_page_carries_a_nonced_policy_and_other_answers_the_strict_one(app: TestApp) {
    let page = app.get("/login").await;
    let policy = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    assert!(page.headers().get("strict-transport-security").is_none(), "no HSTS over http");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("'wasm-unsafe-eval'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce in the policy").to_owned();
    let html = page.text().await.unwrap();
    let inline_scripts = html.matches("<script").count();
    assert!(inline_scripts > 0);
    assert_eq!(html.matches(&format!("nonce=\"{nonce}\"")).count(), inline_scripts, "every script carries this page's nonce: {html}");

    let again = app.get("/login").await;
    assert_ne!(again.headers()["content-security-policy"].to_str().unwrap(), policy, "a new nonce for each page");

    let json = app.get("/api/health").await;
    let strict = json.headers()["content-security-policy"].to_str().unwrap();
    assert!(strict.starts_with("default-src 'none'") && strict.contains("frame-ancestors 'none'"), "{strict}");
}

async fn a_form_posted_before_hydration_is_sent_back_to_its_page_with_the_error(app: TestApp) {
    let response = app
        .client
        .post(app.url("/api/session/login"))
        .header("accept", "text/html,application/xhtml+xml")
        .header("origin", app.address.clone())
        .header("referer", app.url("/login"))
        .form(&[("email", "nobody@example.com"), ("password", "not the password")])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_redirection(), "a browser follows only a redirect: {}", response.status());
    let location = response.headers()["location"].to_str().unwrap();
    assert!(location.starts_with(&app.url("/login")) && location.contains("__err="), "{location}");

    let script = app.client.post(app.url("/api/session/login")).form(&[("email", "nobody@example.com"), ("password", "not the password")]).send().await.unwrap();
    assert_eq!(script.status(), StatusCode::UNAUTHORIZED, "a script still gets the error's status");
}

on_both_databases!(
    a_form_posted_before_hydration_is_sent_back_to_its_page_with_the_error,
    every_plain_route_refuses_a_caller_without_credentials_in_one_shape,
    an_internal_failure_shows_the_request_id_and_no_detail,
    a_page_carries_a_nonced_policy_and_other_answers_the_strict_one,
);

#[tokio::test]
async fn https_adds_strict_transport_security() {
    let app = spawn_app_with(Dialect::Sqlite, |s| s.public_url = Some("https://airtable.example.com".into())).await;
    let hsts = app.get("/api/health").await.headers()["strict-transport-security"].to_str().unwrap().to_owned();
    assert!(hsts.starts_with("max-age="), "{hsts}");
}

#[tokio::test]
async fn metrics_with_a_token_answer_only_to_that_token() {
    let token = "a-long-metrics-token-for-tests";
    let app = spawn_app_with(Dialect::Sqlite, |s| s.metrics_token = Some(token.into())).await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::UNAUTHORIZED);
    let wrong = app.client.get(app.url("/metrics")).bearer_auth("a-long-metrics-token-for-test").send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let right = app.client.get(app.url("/metrics")).bearer_auth(token).send().await.unwrap();
    assert_eq!(right.status(), StatusCode::OK);
    assert!(right.text().await.unwrap().contains("http_requests_total"));
}
