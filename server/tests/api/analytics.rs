//! Analytics through the whole app: known activity (chat with the offline assistant, REST tool
//! calls, logins), then every number of the dashboard checked against counts made straight from
//! the `events` table; who may see what; client events; `/metrics`.

use std::collections::BTreeMap;

use backend::analytics::histogram;
use backend::auth::{AuthMethod, Principal, User};
use backend::model::analytics::{Dashboard, DashboardQuery};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::Row;

use crate::helpers::{TestApp, on_both_databases};

const PASSWORD: &str = "correct horse battery";
const DAY_MS: i64 = 24 * 3_600_000;

struct Person {
    user: User,
    token: String,
}

impl Person {
    async fn new(app: &TestApp, email: &str) -> Self {
        let user = app.services.auth.users.create(email, PASSWORD, false).await.unwrap();
        let token = app.access_token(email, PASSWORD).await;
        Self { user, token }
    }

    fn principal(&self) -> Principal {
        Principal { user: self.user.clone(), method: AuthMethod::AccessToken }
    }

    fn id(&self) -> &str {
        self.user.id.as_str()
    }
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> reqwest::Response {
    app.client.post(app.url(path)).bearer_auth(token).json(&body).send().await.unwrap()
}

fn last_day() -> DashboardQuery {
    let now = backend::clock::now_ms();
    DashboardQuery { from_ms: now - DAY_MS, to_ms: now + 60_000, all_users: false }
}

/// Runs `sql` (with `$1` the user, when given) for one number.
async fn number(app: &TestApp, sql: &str, user: Option<&str>) -> i64 {
    let query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
    let query = match user {
        Some(user) => query.bind(user.to_owned()),
        None => query,
    };
    query.fetch_one(app.services.db.pool()).await.unwrap().try_get(0).unwrap()
}

/// What the dashboard must show for `user` (everyone when `None`), counted from raw events.
async fn check_against_events(app: &TestApp, board: &Dashboard, user: Option<&str>) {
    let scope = if user.is_some() { " AND user_id = $1" } else { "" };
    let n = |sql: String| async move { number(app, &sql, user).await };
    let k = &board.kpis;
    let active = n(format!("SELECT COUNT(DISTINCT user_id) FROM events WHERE user_id IS NOT NULL{scope}")).await;
    assert_eq!(k.active_users as i64, active, "active users");
    let conversations = n(format!("SELECT COUNT(DISTINCT conversation_id) FROM events WHERE kind = 'chat_turn'{scope}")).await;
    assert_eq!(k.conversations as i64, conversations, "conversations");
    let messages = n(format!("SELECT COUNT(*) FROM events WHERE kind = 'chat_turn' AND source = 'message'{scope}")).await;
    assert_eq!(k.messages as i64, messages, "messages");
    let tool_calls = n(format!("SELECT COUNT(*) FROM events WHERE kind = 'tool_call'{scope}")).await;
    assert_eq!(k.tool_calls as i64, tool_calls, "tool calls");
    let tokens = n(format!("SELECT CAST(COALESCE(SUM(tokens), 0) AS BIGINT) FROM events WHERE 1 = 1{scope}")).await;
    assert_eq!(k.tokens as i64, tokens, "tokens");
    let timed = "kind IN ('chat_turn', 'tool_call', 'airtable_request')";
    let all = n(format!("SELECT COUNT(*) FROM events WHERE {timed}{scope}")).await;
    let failed = n(format!("SELECT COUNT(*) FROM events WHERE {timed} AND ok = 0{scope}")).await;
    assert!(all > 0);
    assert!((k.error_rate - failed as f64 / all as f64).abs() < 1e-9, "error rate {} vs {failed}/{all}", k.error_rate);

    let mut latencies = [0i64; histogram::BUCKETS];
    let sql = format!("SELECT latency_ms FROM events WHERE {timed}{scope}");
    let query = sqlx::query(sqlx::AssertSqlSafe(sql));
    let query = match user {
        Some(user) => query.bind(user.to_owned()),
        None => query,
    };
    for row in query.fetch_all(app.services.db.pool()).await.unwrap() {
        latencies[histogram::bucket(row.try_get(0).unwrap())] += 1;
    }
    assert_eq!(k.p95_latency_ms, histogram::percentile(&latencies, 95.0), "p95");

    let series_messages: u64 = board.series.iter().map(|p| p.messages).sum();
    let series_tools: u64 = board.series.iter().map(|p| p.tool_calls).sum();
    let series_airtable: u64 = board.series.iter().map(|p| p.airtable_requests).sum();
    assert_eq!((series_messages, series_tools), (k.messages, k.tool_calls), "the series adds up to the KPIs");
    let airtable = n(format!("SELECT COUNT(*) FROM events WHERE kind = 'airtable_request'{scope}")).await;
    assert_eq!(series_airtable as i64, airtable, "Airtable requests in the series");
    assert!(airtable > 0, "the tools' Airtable requests were recorded");
    assert_eq!(board.bucket_ms, 3_600_000);

    let top = |kind: &'static str, column: &'static str| async move {
        let sql = format!(
            "SELECT {column}, COUNT(*), CAST(SUM(1 - ok) AS BIGINT) FROM events WHERE kind = '{kind}' AND {column} <> ''{scope} GROUP BY {column}"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql));
        let query = match user {
            Some(user) => query.bind(user.to_owned()),
            None => query,
        };
        query
            .fetch_all(app.services.db.pool())
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.try_get::<String, _>(0).unwrap(), (r.try_get::<i64, _>(1).unwrap() as u64, r.try_get::<i64, _>(2).unwrap() as u64)))
            .collect::<BTreeMap<_, _>>()
    };
    let shown = |items: &[backend::model::analytics::TopItem]| items.iter().map(|t| (t.name.clone(), (t.count, t.errors))).collect::<BTreeMap<_, _>>();
    assert_eq!(shown(&board.top_tools), top("tool_call", "name").await, "top tools");
    assert_eq!(shown(&board.top_bases), top("airtable_request", "base_id").await, "top bases");

    let sql = format!("SELECT kind, name FROM events WHERE ok = 0{scope} ORDER BY at_ms DESC, id DESC LIMIT 20");
    let query = sqlx::query(sqlx::AssertSqlSafe(sql));
    let query = match user {
        Some(user) => query.bind(user.to_owned()),
        None => query,
    };
    let errors: Vec<(String, String)> = query
        .fetch_all(app.services.db.pool())
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.try_get(0).unwrap(), r.try_get(1).unwrap()))
        .collect();
    let shown_errors: Vec<(String, String)> = board.recent_errors.iter().map(|e| (e.kind.clone(), e.name.clone())).collect();
    assert_eq!(shown_errors, errors, "recent errors");
}

async fn the_dashboard_counts_what_happened_and_only_what_the_viewer_may_see(app: TestApp) {
    // The first account is the admin.
    let root = Person::new(&app, "root@example.com").await;
    let ada = Person::new(&app, "ada@example.com").await;
    let bob = Person::new(&app, "bob@example.com").await;
    let base = app.services.connections.for_user(&ada.user.id).await.unwrap().client.list_bases().await.unwrap()[0].id.as_str().to_owned();

    // Two messages in one conversation: one answered, one whose tool call fails.
    let listed: Value = post(&app, "/api/chat", &ada.token, json!({ "message": "list tables", "base_id": base })).await.json().await.unwrap();
    assert_eq!(listed["status"], "complete", "{listed}");
    let session = listed["session_id"].as_str().unwrap();
    let missing: Value =
        post(&app, "/api/chat", &ada.token, json!({ "message": "show 5 records from Nowhere", "session_id": session, "base_id": base })).await.json().await.unwrap();
    assert_eq!(missing["tools_used"], json!(["describe_table", "list_records"]), "{missing}");

    // REST tool calls: one good, one failing.
    let ok = post(&app, "/api/execute-tool", &ada.token, json!({ "tool_name": "list_tables", "arguments": { "base_id": base } })).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let bad = post(&app, "/api/execute-tool", &ada.token, json!({ "tool_name": "list_records", "arguments": { "base_id": base, "table": "Nowhere" } })).await;
    assert!(bad.status().is_client_error(), "{}", bad.status());
    // Bob's activity must not show on Ada's dashboard.
    let bobs = app.services.connections.for_user(&bob.user.id).await.unwrap().client.list_bases().await.unwrap()[0].id.as_str().to_owned();
    post(&app, "/api/execute-tool", &bob.token, json!({ "tool_name": "analyze_table_data", "arguments": { "base_id": bobs, "table": "Tasks" } })).await;

    // A failed login of Ada's account, and a good one.
    let wrong = app.client.post(app.url("/api/auth/token")).json(&json!({ "email": "ada@example.com", "password": "wrong" })).send().await.unwrap();
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    app.access_token("ada@example.com", PASSWORD).await;

    app.services.analytics.flush().await;
    let logins_failed = number(&app, "SELECT COUNT(*) FROM events WHERE kind = 'login' AND ok = 0 AND user_id = $1", Some(ada.id())).await;
    assert_eq!(logins_failed, 1, "the failed login counts for the account it named");
    let signups = number(&app, "SELECT COUNT(*) FROM events WHERE kind = 'signup'", None).await;
    assert_eq!(signups, 3);

    let board = app.services.analytics.dashboard(ada.principal().viewer(), &last_day()).await.unwrap();
    assert_eq!(board.kpis.messages, 2);
    assert_eq!(board.kpis.conversations, 1);
    assert_eq!(board.kpis.tool_calls, 5, "three from the chat, two over REST");
    assert_eq!(board.kpis.active_users, 1);
    assert!(board.top_tools.iter().all(|t| t.name != "analyze_table_data"), "Bob's call is not Ada's");
    assert!(board.recent_errors.iter().any(|e| e.kind == "login"), "the failed login is among Ada's errors");
    assert!(board.recent_errors.iter().any(|e| e.kind == "tool_call" && e.name == "list_records"));
    assert!(board.kpis.error_rate > 0.0 && board.kpis.p95_latency_ms > 0.0);
    check_against_events(&app, &board, Some(ada.id())).await;

    // Everyone's, for the admin only.
    let everyone = DashboardQuery { all_users: true, ..last_day() };
    let refused = app.services.analytics.dashboard(ada.principal().viewer(), &everyone).await;
    assert!(matches!(refused, Err(backend::analytics::AnalyticsError::Forbidden)));
    let all = app.services.analytics.dashboard(root.principal().viewer(), &everyone).await.unwrap();
    assert_eq!(all.kpis.active_users, 3);
    check_against_events(&app, &all, None).await;

    // The page's server function answers the same, and refuses everyone's to Ada.
    let body = json!({ "from_ms": everyone.from_ms, "to_ms": everyone.to_ms, "all_users": false });
    let answered = post(&app, "/api/analytics/dashboard", &ada.token, body).await;
    assert_eq!(answered.status(), StatusCode::OK);
    let over_http: Dashboard = answered.json().await.unwrap();
    assert_eq!(over_http.kpis, board.kpis);
    let body = json!({ "from_ms": everyone.from_ms, "to_ms": everyone.to_ms, "all_users": true });
    assert!(!post(&app, "/api/analytics/dashboard", &ada.token, body).await.status().is_success());

    let csv = backend::analytics::dashboard_csv(&board);
    assert!(csv.contains(&format!("kpis,messages,{}\n", board.kpis.messages)), "{csv}");
}

async fn client_events_are_checked_and_attributed_to_their_sender(app: TestApp) {
    let ada = Person::new(&app, "ada@example.com").await;
    let url = app.url("/api/analytics/events");
    let good = json!({ "events": [{ "name": "page_view", "properties": { "path": "/chat" } }, { "name": "chat.sent" }] });
    let accepted = app.client.post(&url).bearer_auth(&ada.token).json(&good).send().await.unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);

    let signed_out = app.client.post(&url).json(&good).send().await.unwrap();
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);

    let bad_name = app.client.post(&url).bearer_auth(&ada.token).json(&json!({ "events": [{ "name": "Page View" }] })).send().await.unwrap();
    assert_eq!(bad_name.status(), StatusCode::BAD_REQUEST);
    let message: Value = bad_name.json().await.unwrap();
    assert!(message["error"].as_str().unwrap().contains("not a valid event name"), "{message}");

    let big = json!({ "events": [{ "name": "page_view", "properties": { "blob": "x".repeat(9_000) } }] });
    let too_big = app.client.post(&url).bearer_auth(&ada.token).json(&big).send().await.unwrap();
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let many = json!({ "events": vec![json!({ "name": "a" }); 21] });
    assert_eq!(app.client.post(&url).bearer_auth(&ada.token).json(&many).send().await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);

    // Past the burst, the sender is told when to come back.
    let mut limited = None;
    for _ in 0..40 {
        let response = app.client.post(&url).bearer_auth(&ada.token).json(&json!({ "events": [] })).send().await.unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
    }
    let limited = limited.expect("a burst of requests is rate limited");
    assert!(limited.headers().contains_key("retry-after"));

    app.services.analytics.flush().await;
    let stored = number(&app, "SELECT COUNT(*) FROM events WHERE kind = 'client' AND user_id = $1", Some(ada.id())).await;
    assert_eq!(stored, 2, "only the good batch is kept");
    let properties: String = sqlx::query_scalar("SELECT properties FROM events WHERE kind = 'client' AND name = 'page_view'")
        .fetch_one(app.services.db.pool())
        .await
        .unwrap();
    assert_eq!(properties, r#"{"path":"/chat"}"#);
}

async fn metrics_show_the_analytics_counters(app: TestApp) {
    let ada = Person::new(&app, "ada@example.com").await;
    let base = app.services.connections.for_user(&ada.user.id).await.unwrap().client.list_bases().await.unwrap()[0].id.as_str().to_owned();
    post(&app, "/api/execute-tool", &ada.token, json!({ "tool_name": "list_tables", "arguments": { "base_id": base } })).await;
    post(&app, "/api/chat", &ada.token, json!({ "message": "list tables", "base_id": base })).await;
    app.client.post(app.url("/api/auth/token")).json(&json!({ "email": "ada@example.com", "password": "wrong" })).send().await.unwrap();
    let text = app.get("/metrics").await.text().await.unwrap();
    for line in [
        r#"pyairtable_tool_calls_total{outcome="ok",source="rest"} 1"#,
        r#"pyairtable_tool_calls_total{outcome="ok",source="chat"} 1"#,
        r#"pyairtable_chat_turns_total{outcome="complete"} 1"#,
        r#"pyairtable_logins_total{outcome="error"} 1"#,
        r#"pyairtable_logins_total{outcome="ok"} 1"#,
        r#"pyairtable_signups_total{} 1"#,
        "pyairtable_analytics_events_dropped_total 0",
        "pyairtable_analytics_queue_depth ",
        r#"pyairtable_airtable_requests_total{outcome="ok"}"#,
        "pyairtable_jobs_waiting ",
        "pyairtable_jobs_running ",
        "pyairtable_jobs_failed ",
        "pyairtable_jobs_oldest_waiting_seconds ",
    ] {
        assert!(text.contains(line), "{line} is missing from:\n{text}");
    }
}

async fn the_status_report_names_the_database_and_the_limiter_state(app: TestApp) {
    let ada = Person::new(&app, "ada@example.com").await;
    app.services.connections.for_user(&ada.user.id).await.unwrap().client.list_bases().await.unwrap();
    let status = app.services.status().await.unwrap();
    assert_eq!(status.database, app.services.db.dialect().name());
    assert!(status.jobs.is_some(), "the job queue's figures are missing");
    assert!(status.database_bytes.unwrap() > 0);
    assert_eq!(status.events_dropped, 0);
}

on_both_databases!(
    the_dashboard_counts_what_happened_and_only_what_the_viewer_may_see,
    client_events_are_checked_and_attributed_to_their_sender,
    metrics_show_the_analytics_counters,
    the_status_report_names_the_database_and_the_limiter_state,
);
