//! A real MCP client (rmcp's) against `/mcp` over Streamable HTTP and against `pyairtable mcp`
//! over stdio.

use backend::model::auth::Scope;
use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::service::RunningService;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{ConfigureCommandExt, StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_databases};

const PASSWORD: &str = "correct horse battery";

on_both_databases!(
    an_mcp_client_over_http_lists_reads_writes_and_is_held_to_its_scope,
    pyairtable_mcp_serves_the_same_tools_over_stdio,
);

pub(crate) async fn http_client(app: &TestApp, key: &str) -> RunningService<RoleClient, ()> {
    let config = StreamableHttpClientTransportConfig::with_uri(app.url("/mcp")).auth_header(key.to_owned());
    let transport = StreamableHttpClientTransport::with_client(reqwest::Client::new(), config);
    ().serve(transport).await.expect("the MCP client initializes")
}

fn arguments(value: Value) -> serde_json::Map<String, Value> {
    value.as_object().unwrap().clone()
}

pub(crate) async fn call(client: &RunningService<RoleClient, ()>, name: &str, args: Value) -> CallToolResult {
    client.call_tool(CallToolRequestParams::new(name.to_owned()).with_arguments(arguments(args))).await.unwrap()
}

pub(crate) fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect()
}

fn json_of(result: &CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "{}", text(result));
    serde_json::from_str(&text(result)).unwrap()
}

/// What the tests expect of every listed tool.
fn check_tools(tools: &[Tool]) {
    for tool in tools {
        assert_eq!(tool.input_schema.get("type"), Some(&json!("object")), "{}", tool.name);
        let hints = tool.annotations.as_ref().expect("annotations");
        assert!(hints.read_only_hint.is_some() && hints.destructive_hint.is_some() && hints.idempotent_hint.is_some());
    }
}

async fn keys(app: &TestApp) -> (String, String) {
    let user = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let read = app.services.auth.api_keys.create(&user.id, "reader", Scope::Read).await.unwrap().key;
    let write = app.services.auth.api_keys.create(&user.id, "writer", Scope::Write).await.unwrap().key;
    (read, write)
}

async fn an_mcp_client_over_http_lists_reads_writes_and_is_held_to_its_scope(app: TestApp) {
    let (read, write) = keys(&app).await;

    let client = http_client(&app, &write).await;
    let info = client.peer_info().expect("the server introduced itself");
    assert_eq!(info.server_info.as_ref().map(|s| s.name.as_str()), Some("pyairtable"));
    assert!(["2025-06-18", "2025-11-25"].contains(&info.protocol_version.to_string().as_str()), "{}", info.protocol_version);
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 27);
    check_tools(&tools);
    let delete = tools.iter().find(|t| t.name == "delete_records").unwrap();
    assert_eq!(delete.annotations.as_ref().unwrap().destructive_hint, Some(true));
    let list = tools.iter().find(|t| t.name == "list_records").unwrap();
    assert_eq!(list.annotations.as_ref().unwrap().read_only_hint, Some(true));
    assert!(list.input_schema["properties"].get("cursor").is_some());

    let bases = json_of(&call(&client, "list_bases", json!({})).await);
    let base = bases["bases"][0]["id"].as_str().unwrap().to_owned();
    let page = json_of(&call(&client, "list_records", json!({"base_id": base, "table": "Team", "page_size": 5})).await);
    assert_eq!(page["count"], 5);
    let created = json_of(&call(&client, "create_records", json!({"base_id": base, "table": "Team", "records": [{"Name": "Over MCP"}]})).await);
    assert_eq!(created["created"], 1);
    // A failing call comes back as a tool error the model can read, not a protocol error.
    let wrong = call(&client, "list_records", json!({"base_id": base, "table": "Nope"})).await;
    assert_eq!(wrong.is_error, Some(true));
    assert!(text(&wrong).contains("Its tables are"));
    client.cancel().await.unwrap();

    // A read key sees only the read-only tools, and a write tool is refused.
    let reader = http_client(&app, &read).await;
    let tools = reader.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 13);
    assert!(tools.iter().all(|t| t.annotations.as_ref().unwrap().read_only_hint == Some(true)));
    let refused = call(&reader, "create_records", json!({"base_id": base, "table": "Team", "records": [{"Name": "No"}]})).await;
    assert_eq!(refused.is_error, Some(true));
    assert!(text(&refused).contains("read-only"), "{}", text(&refused));
    reader.cancel().await.unwrap();

    // Without a key, or with a bad one: 401 and a challenge, before any MCP message is read.
    for bearer in [None, Some("pyat_not_a_real_key")] {
        let mut request = app
            .client
            .post(app.url("/mcp"))
            .header("accept", "application/json, text/event-stream")
            .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        assert!(response.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    }
    let config = StreamableHttpClientTransportConfig::with_uri(app.url("/mcp")).auth_header("pyat_not_a_real_key".to_owned());
    let refused = ().serve(StreamableHttpClientTransport::with_client(reqwest::Client::new(), config)).await;
    assert!(refused.is_err(), "the client can't initialize with a bad key");

    // Another site's page can't drive the endpoint through a signed-in browser.
    let foreign = app
        .client
        .post(app.url("/mcp"))
        .bearer_auth(&write)
        .header("origin", "https://evil.example")
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "x", "version": "1"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), 403);
}

async fn pyairtable_mcp_serves_the_same_tools_over_stdio(app: TestApp) {
    let (read, write) = keys(&app).await;
    let data_dir = app.db.dir();
    let database_url = app.db.url.clone();
    let command = |key: String| {
        let data_dir = data_dir.clone();
        let database_url = database_url.clone();
        tokio::process::Command::new(env!("CARGO_BIN_EXE_pyairtable")).configure(move |c| {
            c.arg("mcp")
                .env_clear()
                .env("PYAIRTABLE_API_KEY", &key)
                .env("DATABASE_URL", &database_url)
                .env("PYAIRTABLE_DATA_DIR", &data_dir)
                .env("PYAIRTABLE_LOG", "warn");
        })
    };

    let client = ().serve(TokioChildProcess::new(command(write)).unwrap()).await.expect("the stdio server initializes");
    let tools = client.list_all_tools().await.unwrap();
    assert_eq!(tools.len(), 27);
    check_tools(&tools);
    let bases = json_of(&call(&client, "list_bases", json!({})).await);
    let base = bases["bases"][0]["id"].as_str().unwrap().to_owned();
    let created = json_of(&call(&client, "create_records", json!({"base_id": base, "table": "Team", "records": [{"Name": "Over stdio"}]})).await);
    assert_eq!(created["created"], 1);
    let found = json_of(&call(&client, "search_records", json!({"base_id": base, "table": "Team", "query": "over stdio"})).await);
    assert_eq!(found["count"], 1);
    client.cancel().await.unwrap();

    // The HTTP server sees what the stdio process wrote: one workspace, one database.
    let user = app.services.auth.users.authenticate("ada@example.com", PASSWORD).await.unwrap();
    let connection = app.services.connections.for_user(&user.id).await.unwrap();
    let base_id = backend::model::airtable::BaseId::parse(&base).unwrap();
    let team = connection.client.list_all(&base_id, "Team", &backend::airtable::ListQuery::default()).await.unwrap();
    assert!(team.iter().any(|r| r.fields["Name"] == "Over stdio"));

    let reader = ().serve(TokioChildProcess::new(command(read)).unwrap()).await.unwrap();
    let refused = call(&reader, "delete_records", json!({"base_id": base, "table": "Team", "record_ids": [created["records"][0]["id"]]})).await;
    assert_eq!(refused.is_error, Some(true));
    reader.cancel().await.unwrap();

    // A bad key stops the process with a message on stderr, and stdout stays clean.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_pyairtable"))
        .arg("mcp")
        .env_clear()
        .env("PYAIRTABLE_API_KEY", "pyat_wrong")
        .env("DATABASE_URL", &app.db.url)
        .env("PYAIRTABLE_DATA_DIR", app.db.dir())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("PYAIRTABLE_API_KEY is not a valid API key"));
}
