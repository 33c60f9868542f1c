//! Workflows over HTTP, against the sandbox and a local LLM server: every trigger kind
//! (manual, schedule, webhook, record, file) and step kind (tool, llm, http, condition, loop),
//! templates checked at save time, transactional runs undone, retries, test runs, and the
//! catalog's workflow tools.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use backend::db::Dialect;
use serde_json::{Value, json};

use crate::fake_openai::{FakeOpenAi, FakeReply};
use crate::helpers::{TestApp, on_both_databases, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

/// A signed-in user with the demo base, calling the workflows API as a script would.
struct Author {
    app: TestApp,
    token: String,
    base: String,
}

impl Author {
    async fn new(app: TestApp) -> Self {
        let user = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap().id;
        let token = app.access_token("ada@example.com", PASSWORD).await;
        let client = app.services.connections.for_user(&user).await.unwrap().client;
        let base = client.list_bases().await.unwrap()[0].id.as_str().to_owned();
        Self { app, token, base }
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.app.client.post(self.app.url(path)).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }

    async fn ok(&self, path: &str, body: Value) -> Value {
        self.app.post_as(&self.token, path, body).await
    }

    /// Saves a new workflow, which must be valid; its ID.
    async fn save(&self, workflow: Value) -> String {
        let saved = self.ok("/api/workflows/save", json!({"workflow": workflow})).await;
        saved["id"].as_str().unwrap().to_owned()
    }

    async fn run(&self, id: &str, inputs: Value) -> String {
        self.ok("/api/workflows/run", json!({"id": id, "inputs": inputs})).await.as_str().unwrap().to_owned()
    }

    async fn run_view(&self, run_id: &str) -> Value {
        self.ok("/api/workflows/run-get", json!({"id": run_id})).await
    }

    /// Waits until the run has finished; its view.
    async fn finished(&self, run_id: &str) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let view = self.run_view(run_id).await;
            if ["succeeded", "failed", "cancelled"].contains(&view["summary"]["status"].as_str().unwrap()) {
                return view;
            }
            assert!(std::time::Instant::now() < deadline, "the run did not finish: {view}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn runs(&self, workflow_id: &str) -> Vec<Value> {
        self.ok("/api/workflows/runs", json!({"workflow_id": workflow_id})).await.as_array().unwrap().clone()
    }

    /// Waits until the workflow has at least `n` runs, all finished; them, newest first.
    async fn wait_for_runs(&self, workflow_id: &str, n: usize) -> Vec<Value> {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let runs = self.runs(workflow_id).await;
            let finished = runs.iter().filter(|r| ["succeeded", "failed", "cancelled"].contains(&r["status"].as_str().unwrap())).count();
            if runs.len() >= n && finished == runs.len() {
                return runs;
            }
            assert!(std::time::Instant::now() < deadline, "expected {n} finished runs: {runs:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn tool(&self, name: &str, mut arguments: Value) -> Value {
        arguments["base_id"] = json!(self.base);
        let answer = self.ok("/api/execute-tool", json!({"tool_name": name, "arguments": arguments})).await;
        answer["result"].clone()
    }

    /// The Tasks records named `name`.
    async fn tasks_named(&self, name: &str) -> Vec<Value> {
        let formula = format!("{{Name}} = '{}'", name.replace('\'', "\\'"));
        let found = self.tool("list_records", json!({"table": "Tasks", "filter_by_formula": formula})).await;
        found["records"].as_array().unwrap().clone()
    }
}

fn faster(settings: &mut server::config::Settings) {
    // Airtable's rate limit is not what these tests are about.
    settings.sandbox_requests_per_second = Some("0".into());
}

fn add_task(base: &str, name: &str) -> Value {
    json!({"id": "add", "kind": "tool", "tool": "create_records", "arguments": {"base_id": base, "table": "Tasks", "records": [{"Name": name}]}})
}

async fn a_manual_workflow_adds_a_task_from_its_input(dialect: Dialect) {
    let ada = Author::new(spawn_app_with(dialect, faster).await).await;
    let id = ada
        .save(json!({"name": "Add a task", "trigger": {"kind": "manual", "inputs": [{"name": "title", "required": true}]},
                     "steps": [add_task(&ada.base, "{{trigger.inputs.title}}")]}))
        .await;
    let missing = ada.post("/api/workflows/run", json!({"id": id, "inputs": {}})).await;
    assert_eq!(missing.status(), 409);
    assert!(missing.text().await.unwrap().contains("Fill in title"));

    let run = ada.run(&id, json!({"title": "Call the printer <today>"})).await;
    let view = ada.finished(&run).await;
    assert_eq!(view["summary"]["status"], "succeeded", "{view}");
    assert_eq!(view["steps"][0]["step_id"], "add");
    assert_eq!(view["steps"][0]["input"]["records"][0]["Name"], "Call the printer <today>");
    assert!(view["steps"][0]["output"]["change_id"].is_string(), "a write is a change that can be undone: {view}");
    assert_eq!(view["trigger"]["inputs"]["title"], "Call the printer <today>");
    assert_eq!(ada.tasks_named("Call the printer <today>").await.len(), 1);

    let listed = ada.ok("/api/workflows/list", json!({})).await;
    assert_eq!(listed[0]["name"], "Add a task");
    assert_eq!(listed[0]["trigger_text"], "Run by hand with title");
    assert_eq!(listed[0]["last_run"]["status"], "succeeded");
}

async fn a_template_error_is_caught_at_save_time_with_its_step_and_field(dialect: Dialect) {
    let ada = Author::new(spawn_app_with(dialect, faster).await).await;
    let workflow = json!({"name": "Broken", "trigger": {"kind": "manual"}, "steps": [
        {"id": "add", "kind": "tool", "tool": "create_records",
         "arguments": {"base_id": ada.base, "table": "Tasks", "records": [{"Name": "{{ steps.summarize.output.text }}"}]}},
        {"id": "summarize", "kind": "llm", "prompt": "Say hi"}]});
    let refused = ada.post("/api/workflows/save", json!({"workflow": workflow})).await;
    assert_eq!(refused.status(), 422);
    let error: Value = refused.json().await.unwrap();
    let problems = &error["InvalidWorkflow"]["problems"];
    assert_eq!(problems.as_array().unwrap().len(), 1, "{error}");
    assert_eq!(problems[0]["step"], "add");
    assert_eq!(problems[0]["field"], "arguments.records[0].Name");
    assert!(problems[0]["message"].as_str().unwrap().contains("comes later"), "{error}");
    assert_eq!(ada.ok("/api/workflows/list", json!({})).await, json!([]), "nothing was saved");

    // Each save of a valid workflow is a new version.
    let id = ada.save(json!({"name": "Fine", "trigger": {"kind": "manual"}, "steps": [add_task(&ada.base, "x")]})).await;
    let saved = ada.ok("/api/workflows/save", json!({"id": id, "workflow": {"name": "Fine, renamed", "trigger": {"kind": "manual"}, "steps": [add_task(&ada.base, "y")]}})).await;
    assert_eq!(saved["version"], 2);
    let view = ada.ok("/api/workflows/get", json!({"id": id})).await;
    assert_eq!(view["summary"]["name"], "Fine, renamed");
    assert_eq!(view["workflow"]["steps"][0]["arguments"]["records"][0]["Name"], "y");
}

async fn an_llm_step_in_a_loop_writes_a_summary_to_each_record(dialect: Dialect) {
    let fake = FakeOpenAi::answering(|request| {
        let prompt = request["messages"].as_array().unwrap().last().unwrap()["content"].as_str().unwrap_or_default().to_owned();
        if prompt.contains("JSON") {
            FakeReply::text("```json\n{\"priority\": \"High\"}\n```")
        } else {
            FakeReply::text(&format!("Summary of {}", prompt.trim_start_matches("Summarize: ")))
        }
    })
    .await;
    let ada = Author::new(crate::chat::app_with_model(dialect, &fake, faster).await).await;
    ada.tool("create_records", json!({"table": "Tasks", "records": [{"Name": "Loop one"}, {"Name": "Loop two"}]})).await;
    let id = ada
        .save(json!({"name": "Summaries", "trigger": {"kind": "manual"}, "steps": [
            {"id": "find", "kind": "tool", "tool": "list_records", "arguments": {"base_id": ada.base, "table": "Tasks", "filter_by_formula": "LEFT({Name}, 4) = 'Loop'"}},
            {"id": "each", "kind": "loop", "over": "steps.find.output.records", "steps": [
                {"id": "say", "kind": "llm", "prompt": "Summarize: {{ item.fields.Name }}"},
                {"id": "save", "kind": "tool", "tool": "update_records", "arguments": {"base_id": ada.base, "table": "Tasks",
                    "records": [{"id": "{{ item.id }}", "fields": {"Notes": "{{ steps.say.output.text }}"}}]}}]},
            {"id": "rate", "kind": "llm", "prompt": "Rate these as JSON: {{ steps.each.output | length }}",
             "schema": {"type": "object", "required": ["priority"], "properties": {"priority": {"type": "string"}}}}]}))
        .await;
    let view = ada.finished(&ada.run(&id, json!({})).await).await;
    assert_eq!(view["summary"]["status"], "succeeded", "{view}");
    for name in ["Loop one", "Loop two"] {
        let task = &ada.tasks_named(name).await[0];
        assert_eq!(task["fields"]["Notes"], format!("Summary of {name}"));
    }
    let ids: Vec<&str> = view["steps"].as_array().unwrap().iter().map(|s| s["step_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["find", "each", "each[0].say", "each[0].save", "each[1].say", "each[1].save", "rate"]);
    let rate = view["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(rate["output"]["data"], json!({"priority": "High"}));
    assert!(rate["input"]["prompt"].as_str().unwrap().ends_with(": 2"), "{rate}");
    // Three model calls, each counted against the owner's budgets as a chat message's is.
    assert_eq!(fake.request_count(), 3);
    let (calls,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM model_calls WHERE conversation_id IS NULL").fetch_one(ada.app.services.db.pool()).await.unwrap();
    assert_eq!(calls, 3);
}

/// A local server that records what HTTP steps send it.
async fn receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let kept = seen.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let kept = kept.clone();
            async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                kept.lock().unwrap().push(json!({"auth": auth, "body": serde_json::from_str::<Value>(&body).unwrap_or(Value::Null)}));
                axum::Json(json!({"received": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    (address, seen)
}

async fn an_http_step_reaches_an_allowed_host_and_refuses_private_ones(dialect: Dialect) {
    let (address, seen) = receiver().await;
    let ada = Author::new(
        spawn_app_with(dialect, |s| {
            faster(s);
            s.workflow_allowed_hosts = Some("127.0.0.1".into());
        })
        .await,
    )
    .await;
    let id = ada
        .save(json!({"name": "Notify", "trigger": {"kind": "manual", "inputs": [{"name": "who"}]}, "steps": [
            {"id": "post", "kind": "http", "method": "POST", "url": format!("{address}/hook"),
             "headers": {"Authorization": "Bearer s3cret"}, "body": {"text": "Hello {{ trigger.inputs.who }}"}},
            {"id": "check", "kind": "condition", "if": "steps.post.output.body.received"}]}))
        .await;
    let view = ada.finished(&ada.run(&id, json!({"who": "Ada"})).await).await;
    assert_eq!(view["summary"]["status"], "succeeded", "{view}");
    assert_eq!(*seen.lock().unwrap(), vec![json!({"auth": "Bearer s3cret", "body": {"text": "Hello Ada"}})]);
    assert_eq!(view["steps"][0]["output"]["status"], 200);
    assert_eq!(view["steps"][0]["input"]["headers"]["Authorization"], "(hidden)", "secrets stay out of the run's log");

    let private = ada
        .save(json!({"name": "Metadata", "trigger": {"kind": "manual"}, "steps": [
            {"id": "get", "kind": "http", "url": "http://169.254.169.254/latest/meta-data/"}]}))
        .await;
    let view = ada.finished(&ada.run(&private, json!({})).await).await;
    assert_eq!(view["summary"]["status"], "failed");
    assert!(view["summary"]["error"].as_str().unwrap().contains("PYAIRTABLE_WORKFLOW_ALLOWED_HOSTS"), "{view}");
}

async fn a_false_condition_ends_the_run_before_its_later_steps(dialect: Dialect) {
    let ada = Author::new(spawn_app_with(dialect, faster).await).await;
    let id = ada
        .save(json!({"name": "Only urgent", "trigger": {"kind": "manual", "inputs": [{"name": "urgent", "type": "boolean"}]}, "steps": [
            {"id": "gate", "kind": "condition", "if": "trigger.inputs.urgent"},
            add_task(&ada.base, "Urgent thing")]}))
        .await;
    let view = ada.finished(&ada.run(&id, json!({"urgent": false})).await).await;
    assert_eq!(view["summary"]["status"], "succeeded");
    assert_eq!(view["steps"].as_array().unwrap().len(), 1);
    assert_eq!(view["steps"][0]["status"], "stopped");
    assert!(ada.tasks_named("Urgent thing").await.is_empty());
    ada.finished(&ada.run(&id, json!({"urgent": "on"})).await).await;
    assert_eq!(ada.tasks_named("Urgent thing").await.len(), 1);
}

async fn a_transactional_workflow_undoes_its_writes_when_a_step_fails(dialect: Dialect) {
    let ada = Author::new(spawn_app_with(dialect, faster).await).await;
    let workflow = |transactional: bool| {
        json!({"name": "All or nothing", "transactional": transactional, "trigger": {"kind": "manual"}, "steps": [
            {"id": "first", "kind": "tool", "tool": "create_records", "arguments": {"base_id": ada.base, "table": "Tasks", "records": [{"Name": "Txn first"}]}},
            {"id": "second", "kind": "tool", "tool": "update_records", "arguments": {"base_id": ada.base, "table": "Tasks",
                "records": [{"id": "{{ steps.first.output.records[0].id }}", "fields": {"Notes": "second"}}]}},
            {"id": "third", "kind": "tool", "tool": "create_records", "arguments": {"base_id": ada.base, "table": "No such table", "records": [{"Name": "x"}]}}]})
    };
    let id = ada.save(workflow(true)).await;
    let view = ada.finished(&ada.run(&id, json!({})).await).await;
    assert_eq!(view["summary"]["status"], "failed");
    let error = view["summary"]["error"].as_str().unwrap();
    assert!(error.starts_with("Step “third” failed"), "{error}");
    assert!(error.contains("2 Airtable change(s) were undone"), "{error}");
    assert!(ada.tasks_named("Txn first").await.is_empty(), "the created record was deleted again");

    // Without it, what was written stays.
    let plain = ada.save(workflow(false)).await;
    ada.finished(&ada.run(&plain, json!({})).await).await;
    let kept = ada.tasks_named("Txn first").await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0]["fields"]["Notes"], "second");
}

async fn a_retry_starts_from_the_failed_step_with_the_earlier_output(dialect: Dialect) {
    let fake = FakeOpenAi::start(vec![FakeReply::error(400)]).await;
    let ada = Author::new(crate::chat::app_with_model(dialect, &fake, faster).await).await;
    let id = ada
        .save(json!({"name": "Add and describe", "trigger": {"kind": "manual"}, "steps": [
            add_task(&ada.base, "Retry me"),
            {"id": "describe", "kind": "llm", "prompt": "Describe {{ steps.add.output.records[0].id }}"},
            {"id": "save", "kind": "tool", "tool": "update_records", "arguments": {"base_id": ada.base, "table": "Tasks",
                "records": [{"id": "{{ steps.add.output.records[0].id }}", "fields": {"Notes": "{{ steps.describe.output.text }}"}}]}}]}))
        .await;
    let failed = ada.finished(&ada.run(&id, json!({})).await).await;
    assert_eq!(failed["summary"]["status"], "failed");
    assert!(failed["summary"]["error"].as_str().unwrap().contains("“describe”"), "{failed}");

    fake.push(FakeReply::text("A described task"));
    let retried = ada.ok("/api/workflows/retry", json!({"id": failed["summary"]["id"]})).await;
    let view = ada.finished(retried.as_str().unwrap()).await;
    assert_eq!(view["summary"]["status"], "succeeded", "{view}");
    assert_eq!(view["summary"]["retry_of"], failed["summary"]["id"]);
    assert_eq!(view["summary"]["start_at"], "describe");
    let tasks = ada.tasks_named("Retry me").await;
    assert_eq!(tasks.len(), 1, "the first step was not run again");
    assert_eq!(tasks[0]["fields"]["Notes"], "A described task");
}

async fn a_test_run_performs_no_writes_and_says_what_it_would_do(dialect: Dialect) {
    let ada = Author::new(spawn_app_with(dialect, faster).await).await;
    let id = ada.save(json!({"name": "Dry", "trigger": {"kind": "manual"}, "steps": [add_task(&ada.base, "Dry run task")]})).await;
    let run = ada.ok("/api/workflows/run", json!({"id": id, "inputs": {}, "test": true})).await;
    let view = ada.finished(run.as_str().unwrap()).await;
    assert_eq!(view["summary"]["test"], true);
    assert_eq!(view["steps"][0]["status"], "skipped");
    assert_eq!(view["steps"][0]["output"]["would_call"], "create_records");
    assert!(ada.tasks_named("Dry run task").await.is_empty());
}

async fn a_webhook_needs_its_secret_and_a_resent_delivery_runs_once(dialect: Dialect) {
    let ada = Author::new(spawn_app_with(dialect, faster).await).await;
    let saved = ada
        .ok("/api/workflows/save", json!({"workflow": {"name": "Inbound", "trigger": {"kind": "webhook"},
            "steps": [add_task(&ada.base, "Hook {{ trigger.body.title }}")]}}))
        .await;
    let (id, secret) = (saved["id"].as_str().unwrap(), saved["webhook_secret"].as_str().unwrap());
    assert!(secret.starts_with("whsec_"));
    let view = ada.ok("/api/workflows/get", json!({"id": id})).await;
    assert_eq!(view["webhook_url"], ada.app.url(&format!("/hooks/{id}")));
    assert!(!view.to_string().contains(secret), "the secret is shown once, at the save");

    let hook = |auth: Option<String>, delivery: &str, body: &'static str| {
        let mut request = ada.app.client.post(ada.app.url(&format!("/hooks/{id}"))).header("content-type", "application/json").header("x-delivery-id", delivery).body(body);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    assert_eq!(hook(None, "d0", r#"{"title": "x"}"#).await.unwrap().status(), 401);
    assert_eq!(hook(Some("Bearer whsec_wrong".into()), "d0", r#"{"title": "x"}"#).await.unwrap().status(), 401);
    for _ in 0..3 {
        let sent = hook(Some(format!("Bearer {secret}")), "d1", r#"{"title": "one"}"#).await.unwrap();
        assert_eq!(sent.status(), 202);
    }
    // Signed instead: an HMAC-SHA256 of the body under the secret.
    use hmac::{Hmac, KeyInit, Mac};
    let body = r#"{"title": "two"}"#;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let signature = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    let signed = ada.app.client.post(ada.app.url(&format!("/hooks/{id}"))).header("x-signature-256", signature).body(body).send().await.unwrap();
    assert_eq!(signed.status(), 202);

    let runs = ada.wait_for_runs(id, 2).await;
    assert_eq!(runs.len(), 2, "three sends of delivery d1 ran once: {runs:?}");
    assert_eq!(ada.tasks_named("Hook one").await.len(), 1);
    assert_eq!(ada.tasks_named("Hook two").await.len(), 1);
    let missing = ada.app.client.post(ada.app.url("/hooks/not-a-workflow")).header("authorization", format!("Bearer {secret}")).body("{}").send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

async fn a_schedule_runs_once_per_tick(dialect: Dialect) {
    let ada = Author::new(spawn_app_with(dialect, faster).await).await;
    let id = ada
        .save(json!({"name": "Every second", "trigger": {"kind": "schedule", "cron": "* * * * * *", "timezone": "Europe/Paris"},
                     "steps": [{"id": "look", "kind": "tool", "tool": "list_tables", "arguments": {"base_id": ada.base}}]}))
        .await;
    let view = ada.ok("/api/workflows/get", json!({"id": id})).await;
    let next: Vec<i64> = view["next_runs_ms"].as_array().unwrap().iter().map(|t| t.as_i64().unwrap()).collect();
    assert_eq!(next.len(), 5);
    assert!(next.windows(2).all(|w| w[1] - w[0] == 1000), "{next:?}");
    let runs = ada.wait_for_runs(&id, 3).await;
    let mut ticks: Vec<String> = Vec::new();
    for run in &runs {
        let view = ada.run_view(run["id"].as_str().unwrap()).await;
        assert_eq!(view["summary"]["status"], "succeeded", "{view}");
        ticks.push(view["trigger"]["scheduled_at"].as_str().unwrap().to_owned());
    }
    let distinct: std::collections::BTreeSet<&String> = ticks.iter().collect();
    assert_eq!(distinct.len(), ticks.len(), "each tick ran once: {ticks:?}");
    // Turned off, it stops.
    ada.ok("/api/workflows/enable", json!({"id": id, "enabled": false})).await;
    let count = ada.wait_for_runs(&id, 1).await.len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(ada.runs(&id).await.len() <= count + 1, "a run already queued may finish, no more");
}

async fn a_record_trigger_runs_once_for_each_new_task(dialect: Dialect) {
    let ada = Author::new(
        spawn_app_with(dialect, |s| {
            faster(s);
            s.workflow_record_poll_seconds = Some("1".into());
        })
        .await,
    )
    .await;
    let id = ada
        .save(json!({"name": "New tasks", "trigger": {"kind": "record", "base_id": ada.base, "table": "Tasks"}, "steps": [
            {"id": "mark", "kind": "tool", "tool": "update_records", "arguments": {"base_id": ada.base, "table": "Tasks",
                "records": [{"id": "{{ trigger.record.id }}", "fields": {"Notes": "Seen: {{ trigger.record.fields.Name }}"}}]}}]}))
        .await;
    // The first look only notes the time, so the demo's tasks don't start runs.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !cursor_set(&ada, &id).await {
        assert!(std::time::Instant::now() < deadline, "the trigger never looked at the table");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    ada.tool("create_records", json!({"table": "Tasks", "records": [{"Name": "Fresh task"}]})).await;
    let runs = ada.wait_for_runs(&id, 1).await;
    let view = ada.run_view(runs[0]["id"].as_str().unwrap()).await;
    assert_eq!(view["summary"]["status"], "succeeded", "{view}");
    assert_eq!(view["trigger"]["event"], "created");
    assert_eq!(ada.tasks_named("Fresh task").await[0]["fields"]["Notes"], "Seen: Fresh task");
    // Later looks overlap the earlier ones, and still start no second run.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(ada.runs(&id).await.len(), 1);
}

async fn cursor_set(ada: &Author, id: &str) -> bool {
    let row: Option<(Option<String>,)> = sqlx::query_as("SELECT record_cursor FROM workflows WHERE id = $1").bind(id).fetch_optional(ada.app.services.db.pool()).await.unwrap();
    row.and_then(|(c,)| c).is_some()
}

async fn an_upload_starts_the_workflows_whose_pattern_it_matches(dialect: Dialect) {
    let ada = Author::new(spawn_app_with(dialect, faster).await).await;
    let id = ada
        .save(json!({"name": "CSV arrivals", "trigger": {"kind": "file", "pattern": "*.csv"},
                     "steps": [add_task(&ada.base, "Arrived {{ trigger.file.name }} with {{ trigger.file.rows }} rows")]}))
        .await;
    ada.app.uploaded(&ada.token, "notes.txt", b"just text".to_vec()).await;
    ada.app.uploaded(&ada.token, "people.CSV", b"Name,Age\nAda,36\nGrace,45\n".to_vec()).await;
    let runs = ada.wait_for_runs(&id, 1).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(ada.tasks_named("Arrived people.CSV with 2 rows").await.len(), 1);
}

async fn a_workflow_that_keeps_failing_turns_itself_off(dialect: Dialect) {
    let ada = Author::new(
        spawn_app_with(dialect, |s| {
            faster(s);
            s.workflow_disable_after = Some("2".into());
        })
        .await,
    )
    .await;
    let id = ada
        .save(json!({"name": "Doomed", "trigger": {"kind": "manual"}, "steps": [
            {"id": "add", "kind": "tool", "tool": "create_records", "arguments": {"base_id": ada.base, "table": "Nowhere", "records": [{"Name": "x"}]}}]}))
        .await;
    for _ in 0..2 {
        ada.finished(&ada.run(&id, json!({})).await).await;
    }
    let summary = &ada.ok("/api/workflows/get", json!({"id": id})).await["summary"];
    assert_eq!(summary["enabled"], false);
    assert!(summary["disabled_reason"].as_str().unwrap().contains("2 failed runs in a row"), "{summary}");
    let on = ada.ok("/api/workflows/enable", json!({"id": id, "enabled": true})).await;
    assert_eq!((on["enabled"].clone(), on["disabled_reason"].clone()), (json!(true), Value::Null));
}

async fn a_running_run_can_be_cancelled_between_steps(dialect: Dialect) {
    let fake = FakeOpenAi::answering(|_| FakeReply::text("slow").after(Duration::from_millis(700))).await;
    let ada = Author::new(crate::chat::app_with_model(dialect, &fake, faster).await).await;
    let id = ada
        .save(json!({"name": "Long", "trigger": {"kind": "manual"}, "steps": [
            {"id": "each", "kind": "loop", "over": "range(20)", "steps": [{"id": "think", "kind": "llm", "prompt": "Think {{ item }}"}]}]}))
        .await;
    let run = ada.run(&id, json!({})).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while fake.request_count() == 0 {
        assert!(std::time::Instant::now() < deadline);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    ada.ok("/api/workflows/cancel", json!({"id": run})).await;
    let view = ada.finished(&run).await;
    assert_eq!(view["summary"]["status"], "cancelled", "{view}");
    assert!(fake.request_count() < 20, "it stopped before the end: {}", fake.request_count());
}

async fn the_workflow_tools_create_run_and_list_from_the_rest_api(dialect: Dialect) {
    let ada = Author::new(spawn_app_with(dialect, faster).await).await;
    let call = |name: &str, arguments: Value| ada.post("/api/execute-tool", json!({"tool_name": name, "arguments": arguments}));
    let bad = call("create_workflow", json!({"workflow": {"name": "x", "trigger": {"kind": "manual"}, "steps": [{"id": "a", "kind": "tool", "tool": "nope"}]}})).await;
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("step “a”, tool"));
    let created = call("create_workflow", json!({"workflow": {"name": "From a model", "trigger": {"kind": "manual", "inputs": [{"name": "title"}]},
        "steps": [add_task(&ada.base, "{{ trigger.inputs.title }}")]}}))
    .await;
    let created: Value = created.json().await.unwrap();
    let id = created["result"]["workflow_id"].as_str().unwrap().to_owned();
    assert_eq!(created["result"]["version"], 1);
    let listed: Value = call("list_workflows", json!({})).await.json().await.unwrap();
    assert_eq!(listed["result"]["workflows"][0]["name"], "From a model");
    let ran: Value = call("run_workflow", json!({"workflow_id": id, "inputs": {"title": "Tool-made task"}})).await.json().await.unwrap();
    let run_id = ran["result"]["run_id"].as_str().unwrap().to_owned();
    ada.finished(&run_id).await;
    let runs: Value = call("list_workflow_runs", json!({"workflow_id": id})).await.json().await.unwrap();
    assert_eq!(runs["result"]["runs"][0]["run_id"], run_id);
    assert_eq!(runs["result"]["runs"][0]["status"], "succeeded");
    assert_eq!(ada.tasks_named("Tool-made task").await.len(), 1);
    // A workflow can't start workflows.
    let nested = call("create_workflow", json!({"workflow": {"name": "Loop", "trigger": {"kind": "manual"}, "steps": [
        {"id": "again", "kind": "tool", "tool": "run_workflow", "arguments": {"workflow_id": id}}]}})).await;
    assert_eq!(nested.status(), 422);
}

on_both_databases!(
    dialect: a_manual_workflow_adds_a_task_from_its_input,
    a_template_error_is_caught_at_save_time_with_its_step_and_field,
    an_llm_step_in_a_loop_writes_a_summary_to_each_record,
    an_http_step_reaches_an_allowed_host_and_refuses_private_ones,
    a_false_condition_ends_the_run_before_its_later_steps,
    a_transactional_workflow_undoes_its_writes_when_a_step_fails,
    a_retry_starts_from_the_failed_step_with_the_earlier_output,
    a_test_run_performs_no_writes_and_says_what_it_would_do,
    a_webhook_needs_its_secret_and_a_resent_delivery_runs_once,
    a_schedule_runs_once_per_tick,
    a_record_trigger_runs_once_for_each_new_task,
    an_upload_starts_the_workflows_whose_pattern_it_matches,
    a_workflow_that_keeps_failing_turns_itself_off,
    a_running_run_can_be_cancelled_between_steps,
    the_workflow_tools_create_run_and_list_from_the_rest_api,
);

/// Two instances on one PostgreSQL database, as a deployment with two servers: a workflow
/// scheduled every second runs once per tick over 100 ticks, and a webhook delivery sent three
/// times, to either instance, runs once.
#[tokio::test]
async fn two_instances_run_each_tick_and_each_delivery_once() {
    let ada = Author::new(spawn_app_with(Dialect::Postgres, faster).await).await;
    let second = crate::helpers::spawn_instance(&ada.app.db, faster).await;
    let ticking = ada
        .save(json!({"name": "Every second", "trigger": {"kind": "schedule", "cron": "* * * * * *", "timezone": "UTC"},
                     "steps": [{"id": "ok", "kind": "condition", "if": "trigger.scheduled_at"}]}))
        .await;
    let saved = ada.ok("/api/workflows/save", json!({"workflow": {"name": "Hook", "trigger": {"kind": "webhook"},
        "steps": [{"id": "ok", "kind": "condition", "if": "trigger.body.n"}]}})).await;
    let (hook, secret) = (saved["id"].as_str().unwrap().to_owned(), saved["webhook_secret"].as_str().unwrap().to_owned());
    for address in [&ada.app.address, &second.address, &ada.app.address] {
        let sent = ada.app.client.post(format!("{address}/hooks/{hook}")).bearer_auth(&secret).header("x-delivery-id", "same").body(r#"{"n": 1}"#).send().await.unwrap();
        assert_eq!(sent.status(), 202);
    }

    let pool = ada.app.services.db.pool();
    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    loop {
        let (runs,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workflow_runs WHERE workflow_id = $1 AND status = 'succeeded'").bind(&ticking).fetch_one(pool).await.unwrap();
        if runs >= 100 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "only {runs} ticks ran");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    ada.ok("/api/workflows/enable", json!({"id": ticking, "enabled": false})).await;
    tokio::time::sleep(Duration::from_secs(2)).await;

    let keys: Vec<(String,)> = sqlx::query_as("SELECT trigger_key FROM workflow_runs WHERE workflow_id = $1 ORDER BY trigger_key").bind(&ticking).fetch_all(pool).await.unwrap();
    let mut ticks: Vec<i64> = keys.iter().map(|(k,)| k.strip_prefix("schedule:").unwrap().parse().unwrap()).collect();
    ticks.sort_unstable();
    assert!(ticks.len() >= 100);
    assert!(ticks.windows(2).all(|w| w[1] - w[0] == 1000), "one run for every second, none twice: {ticks:?}");
    // Each run's one step ran once: a run taken by both instances would log it twice.
    let steps: Vec<(String, i64)> = sqlx::query_as(
        "SELECT r.id, COUNT(s.run_id) FROM workflow_runs r LEFT JOIN workflow_run_steps s ON s.run_id = r.id WHERE r.workflow_id IN ($1, $2) GROUP BY r.id",
    )
    .bind(&ticking)
    .bind(&hook)
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(steps.iter().all(|(_, n)| *n == 1), "{steps:?}");
    let hook_runs = ada.runs(&hook).await;
    assert_eq!(hook_runs.len(), 1, "the delivery sent three times ran once: {hook_runs:?}");
    assert_eq!(hook_runs[0]["status"], "succeeded");
}
