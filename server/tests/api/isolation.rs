//! One user can't reach another's objects: user B tries every server function and every plain
//! route with user A's IDs, and A's data reads back unchanged. The endpoints come from the
//! server-function registry and from `server::routes::plain_routes`, and the sweep's table must
//! name each of them, so a new endpoint fails here until it has a case.
//!
//! Also: the session cookie's flags as a browser receives them.

use std::collections::{BTreeMap, BTreeSet};

use backend::db::Dialect;
use backend::model::auth::Scope;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_databases, spawn_app_with};

const ADA_PASSWORD: &str = "ada's own password";
const BOB_PASSWORD: &str = "bob's own password";
/// Text that exists only in Ada's data.
const ADA_TASK: &str = "Ada private task";
const ADA_TITLE: &str = "Ada plans Q3";
const ADA_MODEL: &str = "ada-private-model";
const ADA_NOTE: &str = "ada-secret-note-7731";

on_both_databases!(user_b_can_not_reach_user_a_objects_through_any_endpoint);

/// How a request's body is sent.
enum Body {
    None,
    Json(Value),
    Form(Vec<(&'static str, String)>),
}

/// What B's request must get.
enum Expect {
    /// 403 or 404: the object is someone else's.
    Refused,
    /// A 4xx other than 403/404, for calls that are refused for another reason than ownership
    /// (a password that isn't the caller's, a tool error the caller can read).
    ClientError,
    /// Success (or a redirect), answering about B's own things only: nothing of A's in it.
    OwnOnly,
}

struct Call {
    method: Method,
    path: String,
    body: Body,
    /// The bearer credential B sends (an access token, API key or sandbox token).
    bearer: String,
    headers: Vec<(&'static str, String)>,
    expect: Expect,
}

/// What the sweep does for one endpoint.
enum Case {
    Calls(Vec<Call>),
    /// The endpoint names no per-user object; why.
    NoObject(&'static str),
}

/// Ada's objects, and what identifies them.
struct Ada {
    token: String,
    cookie: String,
    base: String,
    table: String,
    field: String,
    record: String,
    conversation: String,
    call: String,
    mcp_session: String,
    /// A second MCP session of Ada's, for the case that may end it.
    spare_mcp_session: String,
    /// A saga of Ada's: a write recorded as a change.
    saga: String,
    /// A file Ada uploaded.
    file: String,
    /// Ada's import of that file.
    import: String,
    /// A webhook workflow of Ada's, and one of its runs.
    workflow: String,
    run: String,
    key: String,
    key_id: String,
    handle: String,
    user_id: String,
    sandbox_token: String,
    secrets: Vec<String>,
}

/// Bob's credentials, and his own sandbox base.
struct Bob {
    token: String,
    key: String,
    sandbox_token: String,
    base: String,
}

impl TestApp {
    /// B's request and its answer; an answer still streaming after a few seconds (an event
    /// stream that was opened) comes back as what arrived.
    async fn send(&self, call: &Call) -> (StatusCode, String) {
        let mut request = self
            .client
            .request(call.method.clone(), self.url(&call.path))
            .bearer_auth(&call.bearer);
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        request = match &call.body {
            Body::None => request,
            Body::Json(value) => request.json(value),
            Body::Form(fields) => request.form(fields),
        };
        let mut response = request.send().await.expect("the request is answered");
        let status = response.status();
        let mut body = Vec::new();
        let read = tokio::time::timeout(std::time::Duration::from_secs(2), async {
            while let Ok(Some(chunk)) = response.chunk().await {
                body.extend_from_slice(&chunk);
            }
        });
        let finished = read.await.is_ok();
        let mut text = String::from_utf8_lossy(&body).into_owned();
        if !finished {
            text.push_str(" [still streaming after 2 s]");
        }
        (status, text)
    }

    async fn form_as(&self, bearer: &str, path: &str, form: &[(&str, &str)]) -> Value {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(bearer)
            .form(form)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path} answered {status}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    }

    /// A raw MCP message with `key`, in the session `session` if given.
    async fn mcp_message(
        &self,
        key: &str,
        session: Option<&str>,
        message: Value,
    ) -> reqwest::Response {
        let mut request = self
            .client
            .post(self.url("/mcp"))
            .bearer_auth(key)
            .header("accept", "application/json, text/event-stream")
            .json(&message);
        if let Some(session) = session {
            request = request.header("mcp-session-id", session);
        }
        request.send().await.unwrap()
    }
}

/// Signs in as a browser would and returns the response, for its `Set-Cookie`.
async fn browser_log_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/session/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

async fn set_up_ada(app: &TestApp) -> Ada {
    let ada = app
        .services
        .auth
        .users
        .create("ada@example.com", ADA_PASSWORD, false)
        .await
        .unwrap();
    assert!(
        ada.is_admin,
        "the first account is the admin, so B is refused the admin endpoints"
    );
    let key = app
        .services
        .auth
        .api_keys
        .create(&ada.id, "ada's script", Scope::Write)
        .await
        .unwrap();
    let login = browser_log_in(app, "ada@example.com", ADA_PASSWORD).await;
    let cookie = login.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let pair = app.token_pair("ada@example.com", ADA_PASSWORD).await;
    let token = pair["access_token"].as_str().unwrap().to_owned();
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    let (_, sandbox_token) = app.services.connections.sandbox_for(&ada.id).await.unwrap();

    let sessions = app
        .client
        .post(app.url("/api/sessions/list"))
        .header("cookie", &cookie)
        .header("origin", app.address.clone())
        .send()
        .await
        .unwrap();
    let sessions: Value = sessions.json().await.unwrap();
    let handle = sessions[0]["handle"].as_str().unwrap().to_owned();

    let bases = app.post_as(&token, "/api/bases/list", json!({})).await;
    let base = bases["bases"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a base in {bases}"))
        .to_owned();
    let schema = app
        .post_as(&token, "/api/bases/schema", json!({ "base_id": base }))
        .await;
    let tasks = schema["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "Tasks")
        .expect("a Tasks table")
        .clone();
    let table = tasks["id"].as_str().unwrap().to_owned();
    let field = tasks["fields"][0]["id"].as_str().unwrap().to_owned();
    let record = app.post_as(&token, "/api/records/create", json!({ "base_id": base, "table": "Tasks", "fields": { "Name": ADA_TASK, "Notes": ADA_NOTE } })).await;
    let record = record["id"].as_str().unwrap().to_owned();

    // A conversation with messages, waiting for Ada to approve a write.
    let chat = |message: &str, session: Option<&str>| {
        let body = json!({ "message": message, "session_id": session, "base_id": base });
        app.post_as(&token, "/api/chat", body)
    };
    let first = chat("list tables", None).await;
    let conversation = first["session_id"].as_str().unwrap().to_owned();
    let asked = chat(
        "add a record to Tasks with Name=Ada pending task",
        Some(&conversation),
    )
    .await;
    assert_eq!(asked["status"], "awaiting_approval", "{asked}");
    let call = asked["pending_approvals"][0]["call_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post_as(
        &token,
        "/api/chat/rename",
        json!({ "conversation_id": conversation, "title": ADA_TITLE }),
    )
    .await;
    app.form_as(
        &token,
        "/api/chat/preferences/save",
        &[
            ("approval_policy", "always_ask"),
            ("daily_budget_usd", "4.25"),
            ("monthly_budget_usd", ""),
        ],
    )
    .await;
    let choice = backend::llm::LlmChoice {
        provider: backend::model::llm::LlmProvider::OpenaiCompatible,
        model: ADA_MODEL.into(),
        base_url: "https://llm.ada.example/v1".into(),
        api_key: secrecy::SecretString::from("sk-ada-private-key".to_owned()),
    };
    app.services
        .llm_settings
        .save(&ada.id, &choice)
        .await
        .unwrap();

    // An MCP session of Ada's.
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "ada", "version": "1"}}});
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let opened = app.mcp_message(&key.key, None, initialize.clone()).await;
        assert_eq!(opened.status(), StatusCode::OK);
        let session = opened.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let initialized = app
            .mcp_message(
                &key.key,
                Some(&session),
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
            )
            .await;
        assert!(
            initialized.status().is_success(),
            "{}",
            initialized.status()
        );
        sessions.push(session);
    }
    let (mcp_session, spare_mcp_session) = (sessions[0].clone(), sessions[1].clone());

    let mut secrets = vec![
        "ada@example.com".to_owned(),
        key.id.clone(),
        key.prefix.clone(),
        key.key.clone(),
        handle.clone(),
        base.clone(),
        record.clone(),
        conversation.clone(),
        call.clone(),
        mcp_session.clone(),
        spare_mcp_session.clone(),
        ADA_TASK.into(),
        ADA_NOTE.into(),
        ADA_TITLE.into(),
        ADA_MODEL.into(),
        "llm.ada.example".into(),
        "sk-ada-private-key".into(),
        sandbox_token.expose_secret().to_owned(),
        token.clone(),
        refresh,
        ada.id.to_string(),
    ];
    let (key_id, user_id) = (key.id, ada.id.to_string());
    let written = app
        .post_as(&token, "/api/execute-tool", json!({ "tool_name": "create_records", "arguments": { "base_id": base, "table": "Tasks", "records": [{ "Name": "Ada's change" }] } }))
        .await;
    let saga = written["result"]["change_id"].as_str().expect("a write is recorded as a change").to_owned();
    let upload = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(b"Name,Hours\nAda,12\n".to_vec()).file_name("ada.csv"));
    let uploaded: Value = app.client.post(app.url("/api/files/upload")).bearer_auth(&token).multipart(upload).send().await.unwrap().json().await.unwrap();
    let file = uploaded["id"].as_str().expect("Ada's upload is kept").to_owned();
    secrets.push(file.clone());
    let imported = app.post_as(&token, "/api/files/import", json!({ "request": { "file_id": file, "base_id": base, "table": "Ada's import" } })).await;
    let import = imported["id"].as_str().expect("Ada's import starts").to_owned();
    secrets.push(import.clone());
    let steps = json!([{ "id": "look", "kind": "tool", "tool": "list_tables", "arguments": { "base_id": base } }]);
    let saved = app.post_as(&token, "/api/workflows/save", json!({ "workflow": { "name": "Ada's workflow", "trigger": { "kind": "webhook" }, "steps": steps } })).await;
    let workflow = saved["id"].as_str().expect("Ada's workflow is saved").to_owned();
    secrets.push(saved["webhook_secret"].as_str().expect("a webhook secret").to_owned());
    let run = app.post_as(&token, "/api/workflows/run", json!({ "id": workflow, "inputs": {} })).await.as_str().expect("a run ID").to_owned();
    secrets.push(run.clone());
    Ada {
        saga,
        workflow,
        run,
        file,
        import,
        token,
        cookie,
        base,
        table,
        field,
        record,
        conversation,
        call,
        mcp_session,
        spare_mcp_session,
        key: key.key,
        key_id,
        handle,
        user_id,
        sandbox_token: sandbox_token.expose_secret().to_owned(),
        secrets,
    }
}

async fn set_up_bob(app: &TestApp) -> Bob {
    let bob = app
        .services
        .auth
        .users
        .create("bob@example.com", BOB_PASSWORD, false)
        .await
        .unwrap();
    let token = app.access_token("bob@example.com", BOB_PASSWORD).await;
    let key = app
        .services
        .auth
        .api_keys
        .create(&bob.id, "bob's script", Scope::Write)
        .await
        .unwrap()
        .key;
    let (connection, sandbox_token) = app.services.connections.sandbox_for(&bob.id).await.unwrap();
    let base = connection.client.list_bases().await.unwrap()[0]
        .id
        .to_string();
    Bob {
        token,
        key,
        sandbox_token: sandbox_token.expose_secret().to_owned(),
        base,
    }
}

/// Everything of Ada's that B's calls could change, read back through Ada, without what
/// changes by itself (last-seen times, a running turn).
async fn ada_state(app: &TestApp, ada: &Ada) -> Value {
    let token = &ada.token;
    let keys = app.post_as(token, "/api/keys/list", json!({})).await;
    let keys: Vec<Value> = keys
        .as_array()
        .unwrap()
        .iter()
        .map(|k| json!([k["id"], k["name"], k["prefix"], k["scope"]]))
        .collect();
    let sessions = app
        .client
        .post(app.url("/api/sessions/list"))
        .header("cookie", &ada.cookie)
        .header("origin", app.address.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(
        sessions.status(),
        StatusCode::OK,
        "Ada's browser session still works"
    );
    let sandbox = app.client.get(app.url("/sandbox/v0/meta/bases")).bearer_auth(&ada.sandbox_token).send().await.unwrap();
    assert_eq!(sandbox.status(), StatusCode::OK, "Ada's sandbox token still works");
    let sessions: Value = sessions.json().await.unwrap();
    let handles: BTreeSet<String> = sessions
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["handle"].as_str().unwrap().to_owned())
        .collect();
    let mut conversation = app
        .post_as(
            token,
            "/api/chat/conversation",
            json!({ "conversation_id": ada.conversation }),
        )
        .await;
    conversation.as_object_mut().unwrap().remove("running");
    let records = app
        .post_as(
            token,
            "/api/records/list",
            json!({ "base_id": ada.base, "table": "Tasks", "page_size": 100 }),
        )
        .await;
    let mut more = records.clone();
    let mut all = records["records"].as_array().cloned().unwrap_or_default();
    while let Some(offset) = more["offset"].as_str().map(str::to_owned) {
        more = app.post_as(token, "/api/records/list", json!({ "base_id": ada.base, "table": "Tasks", "page_size": 100, "offset": offset })).await;
        all.extend(more["records"].as_array().cloned().unwrap_or_default());
    }
    let mcp = app
        .mcp_message(
            &ada.key,
            Some(&ada.mcp_session),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        )
        .await;
    let mcp_alive =
        mcp.status() == StatusCode::OK && mcp.text().await.unwrap().contains("list_records");
    json!({
        "me": app.form_as(token, "/api/session/me", &[]).await,
        "keys": keys,
        "sessions": handles,
        "conversations": app.post_as(token, "/api/chat/conversations", json!({})).await,
        "conversation": conversation,
        "preferences": app.post_as(token, "/api/chat/preferences", json!({})).await,
        "llm": app.form_as(token, "/api/llm/settings", &[]).await,
        "connection": app.form_as(token, "/api/airtable/connection", &[]).await,
        "bases": app.post_as(token, "/api/bases/list", json!({})).await,
        "files": app.post_as(token, "/api/files/list", json!({})).await,
        "preview": app.post_as(token, "/api/files/preview", json!({ "id": ada.file })).await,
        "import": app.post_as(token, "/api/files/import-status", json!({ "id": ada.import })).await["table_name"],
        "schema": app.post_as(token, "/api/bases/schema", json!({ "base_id": ada.base })).await,
        "records": all,
        "mcp_session_alive": mcp_alive,
        "signs_in": app.client.post(app.url("/api/auth/token")).json(&json!({"email": "ada@example.com", "password": ADA_PASSWORD})).send().await.unwrap().status().as_u16(),
    })
}

/// One call with B's access token.
fn server_fn(bob: &Bob, path: &str, body: Body, expect: Expect) -> Call {
    Call {
        method: Method::POST,
        path: path.into(),
        body,
        bearer: bob.token.clone(),
        headers: vec![],
        expect,
    }
}

fn json_call(bob: &Bob, path: &str, body: Value, expect: Expect) -> Case {
    Case::Calls(vec![server_fn(bob, path, Body::Json(body), expect)])
}

fn form_call(bob: &Bob, path: &str, form: &[(&'static str, &str)], expect: Expect) -> Case {
    let form = form
        .iter()
        .map(|(name, value)| (*name, (*value).to_owned()))
        .collect();
    Case::Calls(vec![server_fn(bob, path, Body::Form(form), expect)])
}

/// The sweep's table: every server function (by path) and every plain route (by method and
/// path pattern), with how B tries it on Ada's objects.
fn cases(ada: &Ada, bob: &Bob) -> BTreeMap<String, Case> {
    use Expect::{ClientError, OwnOnly, Refused};
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let month = json!({ "from_ms": now_ms - 30 * 86_400_000, "to_ms": now_ms + 60_000 });
    let everyone =
        json!({ "from_ms": now_ms - 30 * 86_400_000, "to_ms": now_ms + 60_000, "all_users": true });
    let conversation = |extra: Value| {
        let mut body = json!({ "conversation_id": ada.conversation });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let record_in =
        |base: &str| json!({ "base_id": base, "table": "Tasks", "record_id": ada.record });
    let with_fields = |mut body: Value| {
        body["fields"] = json!({ "Name": "Bob was here" });
        body
    };
    let tool = |name: &str, arguments: Value| Call {
        method: Method::POST,
        path: "/api/execute-tool".into(),
        body: Body::Json(json!({ "tool_name": name, "arguments": arguments })),
        bearer: bob.token.clone(),
        headers: vec![],
        expect: ClientError,
    };
    let saga_call = |method: Method, path: String, expect: Expect| Call {
        method,
        path,
        body: Body::None,
        bearer: bob.token.clone(),
        headers: vec![],
        expect,
    };
    let sandbox = |method: Method, path: String, body: Body| Call {
        method,
        path: format!("/sandbox/v0{path}"),
        body,
        bearer: bob.sandbox_token.clone(),
        headers: vec![],
        expect: Refused,
    };
    let (base, table, record, field) = (&ada.base, &ada.table, &ada.record, &ada.field);
    let one_record = json!({ "records": [{ "id": record, "fields": { "Name": "Bob was here" } }] });
    let chat_body = json!({ "message": format!("show 5 records from Tasks where Name is {ADA_TASK}"), "session_id": ada.conversation, "base_id": base });
    let mcp_call = |method: Method, session: &str, body: Body| Call {
        method,
        path: "/mcp".into(),
        body,
        bearer: bob.key.clone(),
        headers: vec![
            ("accept", "application/json, text/event-stream".into()),
            ("mcp-session-id", session.to_owned()),
        ],
        expect: Refused,
    };

    let mut table_of_cases: Vec<(String, Case)> = vec![
        // Accounts and credentials.
        (
            "/api/auth/token".into(),
            Case::NoObject("signs in with an email and password; names no object"),
        ),
        (
            "/api/auth/refresh".into(),
            Case::NoObject(
                "the refresh token is the credential itself (rotation and reuse: auth.rs)",
            ),
        ),
        (
            "/api/auth/logout".into(),
            Case::NoObject("the refresh token is the credential itself (revocation: auth.rs)"),
        ),
        (
            "/api/session/login".into(),
            Case::NoObject("signs in with an email and password; names no object"),
        ),
        (
            "/api/session/register".into(),
            Case::NoObject("creates a new account; names no object"),
        ),
        (
            "/api/session/registration".into(),
            Case::NoObject("public: who may register, for the registration page"),
        ),
        (
            "/api/session/reset-password".into(),
            Case::NoObject("the reset link's secret is the credential itself (one-time links: registration.rs)"),
        ),
        (
            "/api/session/logout".into(),
            form_call(bob, "/api/session/logout", &[], OwnOnly),
        ),
        (
            "/api/session/me".into(),
            form_call(bob, "/api/session/me", &[], OwnOnly),
        ),
        (
            "/api/keys/create".into(),
            json_call(
                bob,
                "/api/keys/create",
                json!({ "name": "bob's", "scope": "read" }),
                OwnOnly,
            ),
        ),
        (
            "/api/keys/list".into(),
            json_call(bob, "/api/keys/list", json!({}), OwnOnly),
        ),
        (
            "/api/keys/revoke".into(),
            json_call(
                bob,
                "/api/keys/revoke",
                json!({ "id": ada.key_id }),
                Refused,
            ),
        ),
        (
            "/api/sessions/list".into(),
            form_call(bob, "/api/sessions/list", &[], OwnOnly),
        ),
        (
            "/api/sessions/revoke".into(),
            form_call(
                bob,
                "/api/sessions/revoke",
                &[("handle", &ada.handle)],
                Refused,
            ),
        ),
        // Ada's password in B's hands deletes neither account.
        (
            "/api/account/delete".into(),
            form_call(
                bob,
                "/api/account/delete",
                &[("password", ADA_PASSWORD)],
                ClientError,
            ),
        ),
        (
            "/api/account/password".into(),
            form_call(
                bob,
                "/api/account/password",
                &[
                    ("current_password", ADA_PASSWORD),
                    ("new_password", "taken over by bob"),
                ],
                ClientError,
            ),
        ),
        (
            "/api/admin/users/list".into(),
            json_call(bob, "/api/admin/users/list", json!({}), Refused),
        ),
        (
            "/api/admin/users/set-disabled".into(),
            json_call(
                bob,
                "/api/admin/users/set-disabled",
                json!({ "id": ada.user_id, "disabled": true }),
                Refused,
            ),
        ),
        (
            "/api/admin/users/reset-link".into(),
            json_call(bob, "/api/admin/users/reset-link", json!({ "id": ada.user_id }), Refused),
        ),
        (
            "/api/admin/invites/create".into(),
            json_call(bob, "/api/admin/invites/create", json!({}), Refused),
        ),
        (
            "/api/admin/invites/list".into(),
            json_call(bob, "/api/admin/invites/list", json!({}), Refused),
        ),
        (
            "/api/admin/invites/revoke".into(),
            json_call(bob, "/api/admin/invites/revoke", json!({ "id": ada.user_id }), Refused),
        ),
        (
            "/api/admin/budget".into(),
            json_call(bob, "/api/admin/budget", json!({}), Refused),
        ),
        (
            "/api/admin/budget/save".into(),
            form_call(bob, "/api/admin/budget/save", &[("daily_usd", "0"), ("monthly_usd", "")], Refused),
        ),
        // Connections and settings: each acts on the caller's own.
        (
            "/api/airtable/connection".into(),
            form_call(bob, "/api/airtable/connection", &[], OwnOnly),
        ),
        (
            "/api/airtable/connect".into(),
            Case::NoObject(
                "stores the caller's own Airtable token, checked against api.airtable.com, which tests can't reach",
            ),
        ),
        (
            "/api/airtable/disconnect".into(),
            form_call(bob, "/api/airtable/disconnect", &[], OwnOnly),
        ),
        (
            "/api/sandbox/credentials".into(),
            json_call(bob, "/api/sandbox/credentials", json!({}), OwnOnly),
        ),
        (
            "/api/sandbox/rotate".into(),
            Case::NoObject("rotates the caller's own token; called after the sweep (it retires B's token), with Ada's token read back"),
        ),
        (
            "/api/mcp/endpoint".into(),
            form_call(bob, "/api/mcp/endpoint", &[], OwnOnly),
        ),
        (
            "/api/llm/settings".into(),
            form_call(bob, "/api/llm/settings", &[], OwnOnly),
        ),
        (
            "/api/llm/save".into(),
            form_call(
                bob,
                "/api/llm/save",
                &[("provider", "offline"), ("model", "")],
                OwnOnly,
            ),
        ),
        (
            "/api/llm/reset".into(),
            form_call(bob, "/api/llm/reset", &[], OwnOnly),
        ),
        (
            "/api/system/health".into(),
            Case::NoObject("public: the health checks"),
        ),
        (
            "/api/status/report".into(),
            json_call(bob, "/api/status/report", json!({}), Refused),
        ),
        // Bases and records: Ada's base, and Ada's record in B's own base.
        (
            "/api/bases/list".into(),
            json_call(bob, "/api/bases/list", json!({}), OwnOnly),
        ),
        (
            "/api/bases/schema".into(),
            json_call(
                bob,
                "/api/bases/schema",
                json!({ "base_id": base }),
                Refused,
            ),
        ),
        (
            "/api/records/list".into(),
            json_call(
                bob,
                "/api/records/list",
                json!({ "base_id": base, "table": "Tasks" }),
                Refused,
            ),
        ),
        (
            "/api/records/create".into(),
            json_call(
                bob,
                "/api/records/create",
                json!({ "base_id": base, "table": "Tasks", "fields": { "Name": "Bob was here" } }),
                Refused,
            ),
        ),
        (
            "/api/records/update".into(),
            Case::Calls(vec![
                server_fn(
                    bob,
                    "/api/records/update",
                    Body::Json(with_fields(record_in(base))),
                    Refused,
                ),
                server_fn(
                    bob,
                    "/api/records/update",
                    Body::Json(with_fields(record_in(&bob.base))),
                    Refused,
                ),
            ]),
        ),
        ("/api/files/list".into(), Case::Calls(vec![server_fn(bob, "/api/files/list", Body::Json(json!({})), OwnOnly)])),
        ("/api/files/get".into(), Case::Calls(vec![server_fn(bob, "/api/files/get", Body::Json(json!({ "id": ada.file })), Refused)])),
        ("/api/files/preview".into(), Case::Calls(vec![server_fn(bob, "/api/files/preview", Body::Json(json!({ "id": ada.file })), Refused)])),
        ("/api/files/delete".into(), Case::Calls(vec![server_fn(bob, "/api/files/delete", Body::Json(json!({ "id": ada.file })), Refused)])),
        (
            "/api/files/import".into(),
            json_call(bob, "/api/files/import", json!({ "request": { "file_id": ada.file, "base_id": bob.base, "table": "Stolen" } }), Refused),
        ),
        ("/api/files/import-status".into(), json_call(bob, "/api/files/import-status", json!({ "id": ada.import }), Refused)),
        ("/api/files/imports".into(), json_call(bob, "/api/files/imports", json!({ "file_id": ada.file }), OwnOnly)),
        ("/api/files/cancel".into(), json_call(bob, "/api/files/cancel", json!({ "id": ada.import, "keep": false }), Refused)),
        ("/api/sagas/list".into(), Case::Calls(vec![server_fn(bob, "/api/sagas/list", Body::Json(json!({})), OwnOnly)])),
        ("/api/workflows/list".into(), json_call(bob, "/api/workflows/list", json!({}), OwnOnly)),
        ("/api/workflows/tools".into(), Case::NoObject("the catalog's tools and their schemas; no per-user object")),
        ("/api/workflows/get".into(), json_call(bob, "/api/workflows/get", json!({ "id": ada.workflow }), Refused)),
        (
            "/api/workflows/save".into(),
            json_call(bob, "/api/workflows/save", json!({ "id": ada.workflow, "workflow": { "name": "Taken", "trigger": { "kind": "manual" }, "steps": [{ "id": "look", "kind": "tool", "tool": "list_bases" }] } }), Refused),
        ),
        ("/api/workflows/delete".into(), json_call(bob, "/api/workflows/delete", json!({ "id": ada.workflow }), Refused)),
        ("/api/workflows/enable".into(), json_call(bob, "/api/workflows/enable", json!({ "id": ada.workflow, "enabled": false }), Refused)),
        ("/api/workflows/new-secret".into(), json_call(bob, "/api/workflows/new-secret", json!({ "id": ada.workflow }), Refused)),
        ("/api/workflows/run".into(), json_call(bob, "/api/workflows/run", json!({ "id": ada.workflow, "inputs": {} }), Refused)),
        ("/api/workflows/runs".into(), json_call(bob, "/api/workflows/runs", json!({ "workflow_id": ada.workflow }), Refused)),
        ("/api/workflows/run-get".into(), json_call(bob, "/api/workflows/run-get", json!({ "id": ada.run }), Refused)),
        ("/api/workflows/retry".into(), json_call(bob, "/api/workflows/retry", json!({ "id": ada.run }), Refused)),
        ("/api/workflows/cancel".into(), json_call(bob, "/api/workflows/cancel", json!({ "id": ada.run }), Refused)),
        ("/api/sagas/get".into(), Case::Calls(vec![server_fn(bob, "/api/sagas/get", Body::Json(json!({ "id": ada.saga })), Refused)])),
        (
            "/api/sagas/undo".into(),
            Case::Calls(vec![server_fn(bob, "/api/sagas/undo", Body::Json(json!({ "id": ada.saga, "overwrite": true })), Refused)]),
        ),
        // Bob has no changes in Ada's conversation, so there is nothing of his to undo there.
        (
            "/api/sagas/undo_conversation".into(),
            Case::Calls(vec![server_fn(
                bob,
                "/api/sagas/undo_conversation",
                Body::Json(json!({ "conversation_id": ada.conversation, "overwrite": true })),
                ClientError,
            )]),
        ),
        ("/api/sagas/retry".into(), Case::Calls(vec![server_fn(bob, "/api/sagas/retry", Body::Json(json!({ "id": ada.saga })), Refused)])),
        ("/api/sagas/resolve".into(), Case::Calls(vec![server_fn(bob, "/api/sagas/resolve", Body::Json(json!({ "id": ada.saga })), Refused)])),
        ("/api/sagas/cancel".into(), Case::Calls(vec![server_fn(bob, "/api/sagas/cancel", Body::Json(json!({ "id": ada.saga })), Refused)])),
        (
            "/api/records/delete".into(),
            Case::Calls(vec![
                server_fn(
                    bob,
                    "/api/records/delete",
                    Body::Json(record_in(base)),
                    Refused,
                ),
                server_fn(
                    bob,
                    "/api/records/delete",
                    Body::Json(record_in(&bob.base)),
                    Refused,
                ),
            ]),
        ),
        // The chat.
        (
            "/api/chat/conversations".into(),
            Case::Calls(vec![
                server_fn(
                    bob,
                    "/api/chat/conversations",
                    Body::Json(json!({})),
                    OwnOnly,
                ),
                server_fn(
                    bob,
                    "/api/chat/conversations",
                    Body::Json(json!({ "search": ADA_TITLE })),
                    OwnOnly,
                ),
            ]),
        ),
        (
            "/api/chat/conversation".into(),
            json_call(
                bob,
                "/api/chat/conversation",
                conversation(json!({})),
                Refused,
            ),
        ),
        (
            "/api/chat/send".into(),
            Case::Calls(vec![
                server_fn(bob, "/api/chat/send", Body::Json(conversation(json!({ "message": "list tables" }))), Refused),
                // A new conversation of B's own, with Ada's file attached.
                server_fn(bob, "/api/chat/send", Body::Json(json!({ "message": "read this", "attachments": [ada.file] })), Refused),
            ]),
        ),
        (
            "/api/chat/answer".into(),
            json_call(
                bob,
                "/api/chat/answer",
                conversation(json!({ "call_id": ada.call, "answer": "allow_once" })),
                Refused,
            ),
        ),
        (
            "/api/chat/cancel".into(),
            json_call(bob, "/api/chat/cancel", conversation(json!({})), Refused),
        ),
        (
            "/api/chat/rename".into(),
            json_call(
                bob,
                "/api/chat/rename",
                conversation(json!({ "title": "Renamed by Bob" })),
                Refused,
            ),
        ),
        (
            "/api/chat/delete".into(),
            json_call(bob, "/api/chat/delete", conversation(json!({})), Refused),
        ),
        (
            "/api/chat/base".into(),
            Case::Calls(vec![
                server_fn(
                    bob,
                    "/api/chat/base",
                    Body::Json(conversation(json!({ "base_id": null }))),
                    Refused,
                ),
                server_fn(
                    bob,
                    "/api/chat/base",
                    Body::Json(conversation(json!({ "base_id": bob.base }))),
                    Refused,
                ),
            ]),
        ),
        (
            "/api/chat/spending".into(),
            json_call(bob, "/api/chat/spending", json!({}), OwnOnly),
        ),
        (
            "/api/chat/preferences".into(),
            json_call(bob, "/api/chat/preferences", json!({}), OwnOnly),
        ),
        (
            "/api/chat/preferences/save".into(),
            form_call(
                bob,
                "/api/chat/preferences/save",
                &[
                    ("approval_policy", "read_only"),
                    ("daily_budget_usd", "1"),
                    ("monthly_budget_usd", ""),
                ],
                OwnOnly,
            ),
        ),
        (
            "/api/chat/assistant".into(),
            json_call(bob, "/api/chat/assistant", json!({}), OwnOnly),
        ),
        // Analytics: B's own figures; everyone's only for an admin.
        (
            "/api/analytics/dashboard".into(),
            Case::Calls(vec![
                server_fn(
                    bob,
                    "/api/analytics/dashboard",
                    Body::Json(month.clone()),
                    OwnOnly,
                ),
                server_fn(
                    bob,
                    "/api/analytics/dashboard",
                    Body::Json(everyone.clone()),
                    Refused,
                ),
            ]),
        ),
        (
            "/api/analytics/csv".into(),
            Case::Calls(vec![
                server_fn(bob, "/api/analytics/csv", Body::Json(month), OwnOnly),
                server_fn(bob, "/api/analytics/csv", Body::Json(everyone), Refused),
            ]),
        ),
        // Plain routes.
        (
            "GET /api/health".into(),
            Case::NoObject("public: the health checks"),
        ),
        (
            "GET /metrics".into(),
            Case::NoObject("operational counters with no per-user object"),
        ),
        (
            "GET /api/tools".into(),
            Case::Calls(vec![Call {
                method: Method::GET,
                path: "/api/tools".into(),
                body: Body::None,
                bearer: bob.token.clone(),
                headers: vec![],
                expect: OwnOnly,
            }]),
        ),
        (
            "POST /api/execute-tool".into(),
            Case::Calls(vec![
                tool("list_records", json!({ "base_id": base, "table": "Tasks" })),
                tool(
                    "get_record",
                    json!({ "base_id": base, "table": "Tasks", "record_id": record }),
                ),
                tool(
                    "search_records",
                    json!({ "base_id": base, "table": "Tasks", "query": ADA_TASK }),
                ),
                tool(
                    "create_records",
                    json!({ "base_id": base, "table": "Tasks", "records": [{ "Name": "Bob was here" }] }),
                ),
                tool(
                    "update_records",
                    json!({ "base_id": base, "table": "Tasks", "records": [{ "id": record, "fields": { "Name": "Bob was here" } }] }),
                ),
                tool(
                    "delete_records",
                    json!({ "base_id": base, "table": "Tasks", "record_ids": [record] }),
                ),
                tool("undo_change", json!({ "change_id": ada.saga })),
                tool(
                    "describe_table",
                    json!({ "base_id": base, "table": "Tasks" }),
                ),
            ]),
        ),
        (
            "POST /api/analytics/events".into(),
            Case::Calls(vec![Call {
                method: Method::POST,
                path: "/api/analytics/events".into(),
                body: Body::Json(
                    json!({ "events": [{ "name": "page_view", "properties": { "path": "/chat" } }] }),
                ),
                bearer: bob.token.clone(),
                headers: vec![],
                expect: OwnOnly,
            }]),
        ),
        (
            "POST /api/sagas".into(),
            Case::Calls(vec![Call {
                method: Method::POST,
                path: "/api/sagas".into(),
                body: Body::Json(json!({ "base_id": base, "steps": [{ "tool": "delete_records", "arguments": { "table": "Tasks", "record_ids": [record] } }] })),
                bearer: bob.token.clone(),
                headers: vec![],
                // Accepted, but its job fails its step: Ada's base is not Bob's to reach.
                expect: OwnOnly,
            }]),
        ),
        ("GET /api/sagas".into(), Case::Calls(vec![saga_call(Method::GET, "/api/sagas".into(), OwnOnly)])),
        ("GET /api/sagas/{id}".into(), Case::Calls(vec![saga_call(Method::GET, format!("/api/sagas/{}", ada.saga), Refused)])),
        ("POST /api/sagas/{id}/undo".into(), Case::Calls(vec![saga_call(Method::POST, format!("/api/sagas/{}/undo", ada.saga), Refused)])),
        ("POST /api/sagas/{id}/cancel".into(), Case::Calls(vec![saga_call(Method::POST, format!("/api/sagas/{}/cancel", ada.saga), Refused)])),
        (
            "GET /api/files/imports/{id}/rejected.csv".into(),
            Case::Calls(vec![saga_call(Method::GET, format!("/api/files/imports/{}/rejected.csv", ada.import), Refused)]),
        ),
        // A webhook takes its workflow's secret, never B's own credentials.
        ("POST /hooks/{id}".into(), Case::Calls(vec![saga_call(Method::POST, format!("/hooks/{}", ada.workflow), ClientError)])),
        (
            "POST /api/files/upload".into(),
            Case::NoObject("an upload makes a new file of the caller's own and names none"),
        ),
        // Ada's conversation ID starts one of B's own, which can't read Ada's base.
        (
            "POST /api/chat".into(),
            Case::Calls(vec![
                Call {
                    method: Method::POST,
                    path: "/api/chat".into(),
                    body: Body::Json(chat_body.clone()),
                    bearer: bob.token.clone(),
                    headers: vec![],
                    expect: OwnOnly,
                },
                server_fn(bob, "/api/chat", Body::Json(json!({ "message": "read this", "attachments": [ada.file] })), Refused),
            ]),
        ),
        (
            "POST /api/chat/stream".into(),
            Case::Calls(vec![Call {
                method: Method::POST,
                path: "/api/chat/stream".into(),
                body: Body::Json(chat_body),
                bearer: bob.token.clone(),
                headers: vec![],
                expect: OwnOnly,
            }]),
        ),
        (
            "GET /api/chat/conversations/{id}/events".into(),
            Case::Calls(vec![Call {
                method: Method::GET,
                path: format!("/api/chat/conversations/{}/events", ada.conversation),
                body: Body::None,
                bearer: bob.token.clone(),
                headers: vec![],
                expect: Refused,
            }]),
        ),
        // MCP: B's key in Ada's MCP session. The tools themselves run as their caller (below).
        (
            "POST /mcp".into(),
            Case::Calls(vec![Call {
                expect: Refused,
                ..mcp_call(
                    Method::POST,
                    &ada.mcp_session,
                    Body::Json(
                        json!({"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "list_records", "arguments": {"base_id": base, "table": "Tasks"}}}),
                    ),
                )
            }]),
        ),
        (
            "GET /mcp".into(),
            Case::Calls(vec![Call {
                expect: Refused,
                ..mcp_call(Method::GET, &ada.mcp_session, Body::None)
            }]),
        ),
        (
            "DELETE /mcp".into(),
            Case::Calls(vec![Call {
                expect: Refused,
                ..mcp_call(Method::DELETE, &ada.spare_mcp_session, Body::None)
            }]),
        ),
        // The sandbox, with B's sandbox token.
        (
            "GET /sandbox/v0/meta/bases".into(),
            Case::Calls(vec![Call {
                expect: OwnOnly,
                ..sandbox(Method::GET, "/meta/bases".into(), Body::None)
            }]),
        ),
        (
            "POST /sandbox/v0/meta/bases".into(),
            Case::NoObject("creates a base in the caller's own sandbox"),
        ),
        (
            "GET /sandbox/v0/meta/bases/{base}/tables".into(),
            Case::Calls(vec![sandbox(
                Method::GET,
                format!("/meta/bases/{base}/tables"),
                Body::None,
            )]),
        ),
        (
            "POST /sandbox/v0/meta/bases/{base}/tables".into(),
            Case::Calls(vec![sandbox(
                Method::POST,
                format!("/meta/bases/{base}/tables"),
                Body::Json(
                    json!({ "name": "Bob's", "fields": [{ "name": "Name", "type": "singleLineText" }] }),
                ),
            )]),
        ),
        (
            "PATCH /sandbox/v0/meta/bases/{base}/tables/{table}".into(),
            Case::Calls(vec![sandbox(
                Method::PATCH,
                format!("/meta/bases/{base}/tables/{table}"),
                Body::Json(json!({ "name": "Taken" })),
            )]),
        ),
        (
            "POST /sandbox/v0/meta/bases/{base}/tables/{table}/fields".into(),
            Case::Calls(vec![sandbox(
                Method::POST,
                format!("/meta/bases/{base}/tables/{table}/fields"),
                Body::Json(json!({ "name": "Bob's field", "type": "singleLineText" })),
            )]),
        ),
        (
            "PATCH /sandbox/v0/meta/bases/{base}/tables/{table}/fields/{field}".into(),
            Case::Calls(vec![sandbox(
                Method::PATCH,
                format!("/meta/bases/{base}/tables/{table}/fields/{field}"),
                Body::Json(json!({ "name": "Taken" })),
            )]),
        ),
        (
            "GET /sandbox/v0/{base}/{table}".into(),
            Case::Calls(vec![sandbox(
                Method::GET,
                format!("/{base}/Tasks"),
                Body::None,
            )]),
        ),
        (
            "POST /sandbox/v0/{base}/{table}".into(),
            Case::Calls(vec![sandbox(
                Method::POST,
                format!("/{base}/Tasks"),
                Body::Json(json!({ "records": [{ "fields": { "Name": "Bob was here" } }] })),
            )]),
        ),
        (
            "PATCH /sandbox/v0/{base}/{table}".into(),
            Case::Calls(vec![sandbox(
                Method::PATCH,
                format!("/{base}/Tasks"),
                Body::Json(one_record.clone()),
            )]),
        ),
        (
            "PUT /sandbox/v0/{base}/{table}".into(),
            Case::Calls(vec![sandbox(
                Method::PUT,
                format!("/{base}/Tasks"),
                Body::Json(one_record),
            )]),
        ),
        (
            "DELETE /sandbox/v0/{base}/{table}".into(),
            Case::Calls(vec![sandbox(
                Method::DELETE,
                format!("/{base}/Tasks?records[]={record}"),
                Body::None,
            )]),
        ),
        (
            "POST /sandbox/v0/{base}/{table}/listRecords".into(),
            Case::Calls(vec![sandbox(
                Method::POST,
                format!("/{base}/Tasks/listRecords"),
                Body::Json(json!({})),
            )]),
        ),
        (
            "GET /sandbox/v0/{base}/{table}/{record}".into(),
            Case::Calls(vec![
                sandbox(Method::GET, format!("/{base}/Tasks/{record}"), Body::None),
                sandbox(
                    Method::GET,
                    format!("/{}/Tasks/{record}", bob.base),
                    Body::None,
                ),
            ]),
        ),
        (
            "PATCH /sandbox/v0/{base}/{table}/{record}".into(),
            Case::Calls(vec![
                sandbox(
                    Method::PATCH,
                    format!("/{base}/Tasks/{record}"),
                    Body::Json(json!({ "fields": { "Name": "Bob was here" } })),
                ),
                sandbox(
                    Method::PATCH,
                    format!("/{}/Tasks/{record}", bob.base),
                    Body::Json(json!({ "fields": { "Name": "Bob was here" } })),
                ),
            ]),
        ),
        (
            "PUT /sandbox/v0/{base}/{table}/{record}".into(),
            Case::Calls(vec![sandbox(
                Method::PUT,
                format!("/{base}/Tasks/{record}"),
                Body::Json(json!({ "fields": { "Name": "Bob was here" } })),
            )]),
        ),
        (
            "DELETE /sandbox/v0/{base}/{table}/{record}".into(),
            Case::Calls(vec![
                sandbox(
                    Method::DELETE,
                    format!("/{base}/Tasks/{record}"),
                    Body::None,
                ),
                sandbox(
                    Method::DELETE,
                    format!("/{}/Tasks/{record}", bob.base),
                    Body::None,
                ),
            ]),
        ),
    ];
    let mut cases = BTreeMap::new();
    for (key, case) in table_of_cases.drain(..) {
        assert!(
            cases.insert(key.clone(), case).is_none(),
            "{key} is in the table twice"
        );
    }
    cases
}

/// Every endpoint the router serves besides pages: server functions by path, plain routes as
/// "METHOD path".
fn registered_endpoints() -> BTreeSet<String> {
    let server_fns = leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.to_owned());
    let plain = server::routes::plain_routes()
        .into_iter()
        .map(|(method, path)| format!("{method} {path}"));
    server_fns.chain(plain).collect()
}

#[test]
fn the_server_function_registry_is_filled_in_the_test_binary() {
    let server_fns: Vec<String> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect();
    assert!(
        server_fns.len() >= 40,
        "the registry lists the app's server functions: {server_fns:?}"
    );
    assert!(server_fns.iter().any(|p| p == "/api/records/update"));
}

async fn user_b_can_not_reach_user_a_objects_through_any_endpoint(app: TestApp) {
    let ada = set_up_ada(&app).await;
    let bob = set_up_bob(&app).await;
    let before = ada_state(&app, &ada).await;
    assert_eq!(before["mcp_session_alive"], true);

    let cases = cases(&ada, &bob);
    let covered: BTreeSet<String> = cases.keys().cloned().collect();
    let registered = registered_endpoints();
    let missing: Vec<&String> = registered.difference(&covered).collect();
    let stale: Vec<&String> = covered.difference(&registered).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "the sweep must have a case for every endpoint: no case for {missing:?}; cases for endpoints that don't exist: {stale:?}"
    );

    let mut failures = Vec::new();
    let mut tried = 0;
    for (endpoint, case) in &cases {
        let calls = match case {
            Case::Calls(calls) => calls,
            Case::NoObject(reason) => {
                assert!(
                    !reason.is_empty(),
                    "{endpoint} needs a reason for having no case"
                );
                continue;
            }
        };
        for call in calls {
            tried += 1;
            let (status, body) = app.send(call).await;
            let what = format!("{endpoint} ({} {})", call.method, call.path);
            // A refusal may repeat the IDs it was given; an answer about B's own things
            // names nothing of Ada's, bar text B typed in.
            let may_repeat = |s: &str| match call.expect {
                Expect::OwnOnly => call_names(call, s) && s != ada.conversation,
                Expect::Refused | Expect::ClientError => call_names(call, s),
            };
            let leaked: Vec<&String> = ada
                .secrets
                .iter()
                .filter(|s| body.contains(s.as_str()) && !may_repeat(s))
                .collect();
            if !leaked.is_empty() {
                failures.push(format!(
                    "{what} answered {status} showing Ada's {leaked:?}: {body}"
                ));
            }
            let refused = matches!(status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND);
            let ok = match call.expect {
                Expect::Refused => refused,
                Expect::ClientError => status.is_client_error(),
                Expect::OwnOnly => status.is_success() || status.is_redirection(),
            };
            if !ok {
                failures.push(format!("{what} answered {status}: {body}"));
            }
        }
    }
    // The tools run as their caller over MCP too, whatever the session.
    let mcp = crate::mcp::http_client(&app, &bob.key).await;
    for (name, arguments) in [
        (
            "list_records",
            json!({ "base_id": ada.base, "table": "Tasks" }),
        ),
        (
            "create_records",
            json!({ "base_id": ada.base, "table": "Tasks", "records": [{ "Name": "Bob was here" }] }),
        ),
        (
            "delete_records",
            json!({ "base_id": ada.base, "table": "Tasks", "record_ids": [ada.record] }),
        ),
    ] {
        tried += 1;
        let result = crate::mcp::call(&mcp, name, arguments).await;
        let text = crate::mcp::text(&result);
        if result.is_error != Some(true) || text.contains(ADA_TASK) {
            failures.push(format!("MCP {name} on Ada's base answered: {text}"));
        }
    }
    mcp.cancel().await.unwrap();
    let no_fields: [(&str, &str); 0] = [];
    let rotated = app.client.post(app.url("/api/sandbox/rotate")).bearer_auth(&bob.token).form(&no_fields).send().await.unwrap();
    assert_eq!(rotated.status(), StatusCode::OK, "B rotates B's own sandbox token");
    assert!(
        failures.is_empty(),
        "{} of {tried} calls reached Ada's objects or answered wrongly:\n{}",
        failures.len(),
        failures.join("\n")
    );

    let after = ada_state(&app, &ada).await;
    assert_eq!(after, before, "Ada's data changed");
}

/// Whether `call` itself carries `secret` (an ID B was given to try), which an error message
/// may repeat without leaking anything.
fn call_names(call: &Call, secret: &str) -> bool {
    let in_body = match &call.body {
        Body::None => false,
        Body::Json(value) => value.to_string().contains(secret),
        Body::Form(fields) => fields.iter().any(|(_, v)| v.contains(secret)),
    };
    in_body || call.path.contains(secret) || call.headers.iter().any(|(_, v)| v.contains(secret))
}

/// The `Set-Cookie` attributes of the session cookie a browser gets on signing in.
async fn session_cookie_attributes(app: &TestApp) -> BTreeMap<String, String> {
    app.services
        .auth
        .users
        .create("ada@example.com", ADA_PASSWORD, false)
        .await
        .unwrap();
    let response = browser_log_in(app, "ada@example.com", ADA_PASSWORD).await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("pyairtable_session="))
        .expect("a session cookie")
        .to_owned();
    cookie
        .split(';')
        .skip(1)
        .map(|attribute| {
            let (name, value) = attribute.split_once('=').unwrap_or((attribute, ""));
            (name.trim().to_ascii_lowercase(), value.trim().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn the_session_cookie_is_http_only_same_site_and_not_secure_over_http() {
    let app = crate::helpers::spawn_app(Dialect::Sqlite).await;
    let attributes = session_cookie_attributes(&app).await;
    assert!(attributes.contains_key("httponly"), "{attributes:?}");
    let same_site = attributes.get("samesite").map(|s| s.to_ascii_lowercase());
    assert!(
        matches!(same_site.as_deref(), Some("lax" | "strict")),
        "{attributes:?}"
    );
    assert!(
        !attributes.contains_key("secure"),
        "a browser drops a Secure cookie over plain http: {attributes:?}"
    );
}

#[tokio::test]
async fn the_session_cookie_is_secure_when_the_public_url_is_https() {
    let app = spawn_app_with(Dialect::Sqlite, |s| {
        s.public_url = Some("https://pyairtable.example".into())
    })
    .await;
    let attributes = session_cookie_attributes(&app).await;
    assert!(attributes.contains_key("secure"), "{attributes:?}");
    assert!(attributes.contains_key("httponly"), "{attributes:?}");
    let same_site = attributes.get("samesite").map(|s| s.to_ascii_lowercase());
    assert!(
        matches!(same_site.as_deref(), Some("lax" | "strict")),
        "{attributes:?}"
    );
}

/// Each plain route answers something other than 404 or 405 with the method it is listed
/// with, so the list and the router agree.
#[tokio::test]
async fn every_listed_plain_route_is_served() {
    let app = crate::helpers::spawn_app(Dialect::Sqlite).await;
    let unknown = app
        .client
        .get(app.url("/api/no-such-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        unknown.status(),
        StatusCode::NOT_FOUND,
        "an unknown path is a 404, so the check below means something"
    );
    let unknown = app
        .client
        .get(app.url("/sandbox/v0/meta/no/such/route"))
        .bearer_auth("x")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    for (method, pattern) in server::routes::plain_routes() {
        let path = pattern
            .replace("{id}", "conv_0")
            .replace("{base}", "appAAAAAAAAAAAAAA")
            .replace("{table}", "tblAAAAAAAAAAAAAA")
            .replace("{field}", "fldAAAAAAAAAAAAAA")
            .replace("{record}", "recAAAAAAAAAAAAAA");
        let response = app
            .client
            .request(method.clone(), app.url(&path))
            .send()
            .await
            .unwrap();
        let status = response.status();
        assert!(
            ![StatusCode::NOT_FOUND, StatusCode::METHOD_NOT_ALLOWED].contains(&status),
            "{method} {path} answered {status}"
        );
    }
}
