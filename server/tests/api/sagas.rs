//! Sagas against the sandbox over HTTP: every write is a change that Undo reverses, a failed
//! write leaves nothing half-done, a lost answer is found rather than repeated, and a
//! multi-step saga from the REST API finishes or is undone whole.

use backend::db::Dialect;
use backend::model::auth::Scope;
use backend::model::sagas::SagaStatus;
use backend::tools::{ToolContext, ToolError};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_databases, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

/// A user's tools and their demo base, as MCP and the REST API run them.
struct Caller {
    context: ToolContext,
    app_tools: backend::tools::Catalog,
    base: String,
}

impl Caller {
    async fn new(app: &TestApp, email: &str) -> Self {
        let user = app.services.auth.users.create(email, PASSWORD, false).await.unwrap();
        let connection = app.services.connections.for_user(&user.id).await.unwrap();
        let context = ToolContext::new(connection.client, backend::model::analytics::ToolSource::Mcp, Some(user.id.to_string()));
        let app_tools = app.services.tools.clone();
        let bases = app_tools.call(&context, Scope::Read, "list_bases", json!({})).await.unwrap();
        let base = bases["bases"][0]["id"].as_str().unwrap().to_owned();
        Self { context, app_tools, base }
    }

    async fn call(&self, name: &str, mut arguments: Value) -> Result<Value, ToolError> {
        if name != "undo_change" {
            arguments["base_id"] = json!(self.base);
        }
        self.app_tools.call(&self.context, Scope::Write, name, arguments).await
    }

    async fn ok(&self, name: &str, arguments: Value) -> Value {
        self.call(name, arguments).await.unwrap_or_else(|e| panic!("{name} failed: {e}"))
    }

    /// The table's records as `Name → fields`, the way a person would compare them.
    async fn table(&self, table: &str) -> std::collections::BTreeMap<String, Value> {
        let mut all = std::collections::BTreeMap::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.ok("list_records", json!({"table": table, "page_size": 100, "cursor": cursor})).await;
            for record in page["records"].as_array().unwrap() {
                let name = record["fields"]["Name"].as_str().unwrap_or_default().to_owned();
                let previous = all.insert(format!("{name}#{}", all.len()), record["fields"].clone());
                assert!(previous.is_none());
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        all
    }

    async fn names(&self, table: &str) -> Vec<String> {
        let mut names: Vec<String> =
            self.table(table).await.values().map(|fields| fields["Name"].as_str().unwrap_or_default().to_owned()).collect();
        names.sort();
        names
    }
}

fn faster(settings: &mut server::config::Settings) {
    // The limit is not what these tests are about.
    settings.sandbox_requests_per_second = Some("0".into());
}

async fn every_write_is_a_change_that_undo_reverses(dialect: Dialect) {
    let app = spawn_app_with(dialect, faster).await;
    let ada = Caller::new(&app, "ada@example.com").await;
    let before = ada.table("Team").await;

    let created = ada.ok("create_records", json!({"table": "Team", "records": [{"Name": "Zed"}, {"Name": "Yun"}, {"Name": "Xia"}]})).await;
    let create_change = created["change_id"].as_str().expect("a write's answer carries its change").to_owned();
    let zed = created["records"][0]["id"].as_str().unwrap().to_owned();
    let updated = ada.ok("update_records", json!({"table": "Team", "records": [{"id": zed, "fields": {"Name": "Zed Two"}}]})).await;
    let update_change = updated["change_id"].as_str().unwrap().to_owned();
    let first = before.values().next().unwrap()["Name"].as_str().unwrap().to_owned();
    let first_id = ada.ok("search_records", json!({"table": "Team", "query": first})).await["records"][0]["id"].as_str().unwrap().to_owned();
    let deleted = ada.ok("delete_records", json!({"table": "Team", "record_ids": [first_id]})).await;
    let delete_change = deleted["change_id"].as_str().unwrap().to_owned();
    assert!(!ada.names("Team").await.contains(&first));

    let undone = ada.ok("undo_change", json!({"change_id": delete_change})).await;
    assert_eq!(undone["outcome"], "undone", "{undone}");
    assert_eq!(undone["recreated"], 1);
    assert!(ada.names("Team").await.contains(&first), "the deleted record is back");

    let undone = ada.ok("undo_change", json!({"change_id": update_change})).await;
    assert_eq!(undone["restored"], 1, "{undone}");
    assert!(ada.names("Team").await.contains(&"Zed".to_owned()));

    let undone = ada.ok("undo_change", json!({"change_id": create_change})).await;
    assert_eq!(undone["deleted"], 3, "{undone}");
    assert_eq!(ada.table("Team").await.values().collect::<Vec<_>>(), before.values().collect::<Vec<_>>(), "the table is as it was");

    let again = ada.call("undo_change", json!({"change_id": create_change})).await.unwrap_err().to_string();
    assert!(again.contains("already undone"), "{again}");

    let listed = app.services.sagas.list(&app.services.auth.users.id_for_email("ada@example.com").await.unwrap().unwrap()).await.unwrap();
    assert_eq!(listed.len(), 3);
    assert!(listed.iter().all(|s| s.status == SagaStatus::Compensated));
}

async fn undo_shows_later_edits_and_overwrites_only_when_asked(dialect: Dialect) {
    let app = spawn_app_with(dialect, faster).await;
    let ada = Caller::new(&app, "ada@example.com").await;
    let created = ada.ok("create_records", json!({"table": "Team", "records": [{"Name": "Quinn"}]})).await;
    let id = created["records"][0]["id"].as_str().unwrap().to_owned();
    let change = created["change_id"].as_str().unwrap().to_owned();

    // Someone edits the record outside the chat (straight through the client, unrecorded).
    let base = backend::model::airtable::BaseId::parse(&ada.base).unwrap();
    let update = backend::airtable::RecordUpdate {
        id: backend::model::airtable::RecordId::parse(&id).unwrap(),
        fields: json!({"Name": "Quinn (edited)"}).as_object().unwrap().clone(),
    };
    ada.context.client.update_records(&base, "Team", &[update], backend::airtable::UpdateMode::Merge, false).await.unwrap();

    let asked = ada.ok("undo_change", json!({"change_id": change})).await;
    assert_eq!(asked["outcome"], "conflicts", "{asked}");
    assert_eq!(asked["conflicts"][0]["field"], "Name");
    assert_eq!(asked["conflicts"][0]["written"], "Quinn");
    assert_eq!(asked["conflicts"][0]["now"], "Quinn (edited)");
    assert!(ada.names("Team").await.contains(&"Quinn (edited)".to_owned()), "nothing was undone yet");

    let forced = ada.ok("undo_change", json!({"change_id": change, "overwrite": true})).await;
    assert_eq!(forced["outcome"], "undone", "{forced}");
    assert!(!ada.names("Team").await.iter().any(|n| n.starts_with("Quinn")));
}

async fn a_refused_write_leaves_nothing_half_done(dialect: Dialect) {
    // The third record write the sandbox sees is refused: 25 records go in three requests.
    let app = spawn_app_with(dialect, |s| {
        faster(s);
        s.sandbox_fault = Some("fail:3".into());
    })
    .await;
    let ada = Caller::new(&app, "ada@example.com").await;
    let before = ada.names("Team").await;
    let records: Vec<Value> = (0..25).map(|i| json!({"Name": format!("Batch {i}")})).collect();
    let error = ada.call("create_records", json!({"table": "Team", "records": records})).await.unwrap_err().to_string();
    assert!(error.contains("refused on purpose"), "{error}");
    assert!(error.contains("undone"), "the caller is told nothing was left behind: {error}");
    assert_eq!(ada.names("Team").await, before, "the 20 records written before the failure were removed");
}

async fn a_lost_answer_is_looked_for_not_sent_again(dialect: Dialect) {
    // The second write is applied, but its answer is lost; a resend would duplicate ten records.
    let app = spawn_app_with(dialect, |s| {
        faster(s);
        s.sandbox_fault = Some("drop:2".into());
    })
    .await;
    let ada = Caller::new(&app, "ada@example.com").await;
    let records: Vec<Value> = (0..25).map(|i| json!({"Name": format!("Lost {i:02}")})).collect();
    let created = ada.ok("create_records", json!({"table": "Team", "records": records})).await;
    assert_eq!(created["created"], 25);
    let ids: std::collections::HashSet<&str> = created["records"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 25);
    let lost: Vec<String> = ada.names("Team").await.into_iter().filter(|n| n.starts_with("Lost ")).collect();
    let expected: Vec<String> = (0..25).map(|i| format!("Lost {i:02}")).collect();
    assert_eq!(lost, expected, "each record once: none missing, none twice");

    // And Undo removes exactly those.
    let undone = ada.ok("undo_change", json!({"change_id": created["change_id"]})).await;
    assert_eq!(undone["deleted"], 25, "{undone}");
    assert!(!ada.names("Team").await.iter().any(|n| n.starts_with("Lost ")));
}

/// Waits for a saga started over REST to settle, and returns its page.
async fn settled(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..600 {
        let saga: Value = app.client.get(app.url(&format!("/api/sagas/{id}"))).bearer_auth(token).send().await.unwrap().json().await.unwrap();
        if ["done", "compensated", "needs_attention"].contains(&saga["summary"]["status"].as_str().unwrap_or_default()) {
            return saga;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the saga {id} did not settle within a minute");
}

async fn a_rest_saga_finishes_or_is_undone_whole(dialect: Dialect) {
    // Write 6: the first step (two writes), the update (one), then the second create's fourth.
    let app = spawn_app_with(dialect, |s| {
        faster(s);
        s.sandbox_fault = Some("fail:6".into());
    })
    .await;
    let ada = Caller::new(&app, "ada@example.com").await;
    let token = app.access_token("ada@example.com", PASSWORD).await;
    let before = ada.table("Team").await;
    let first = before.values().next().unwrap()["Name"].as_str().unwrap().to_owned();
    let first_id = ada.ok("search_records", json!({"table": "Team", "query": first})).await["records"][0]["id"].as_str().unwrap().to_owned();

    let steps = json!([
        {"tool": "create_records", "arguments": {"table": "Team", "records": (0..15).map(|i| json!({"Name": format!("Saga A{i}")})).collect::<Vec<_>>()}},
        {"tool": "update_records", "arguments": {"table": "Team", "records": [{"id": first_id, "fields": {"Name": "Renamed by the saga"}}]}},
        {"tool": "create_records", "arguments": {"table": "Team", "records": (0..40).map(|i| json!({"Name": format!("Saga B{i}")})).collect::<Vec<_>>()}},
    ]);
    let started = app.post_as(&token, "/api/sagas", json!({"title": "Three steps", "base_id": ada.base, "steps": steps})).await;
    let id = started["saga_id"].as_str().unwrap();
    let saga = settled(&app, &token, id).await;
    assert_eq!(saga["summary"]["status"], "compensated", "{saga}");
    assert!(saga["summary"]["error"].as_str().unwrap().contains("Step 3"), "{saga}");
    assert_eq!(saga["steps"][2]["state"], "compensated");
    assert_eq!(ada.table("Team").await.values().collect::<Vec<_>>(), before.values().collect::<Vec<_>>(), "every step was undone");

    // Without a fault left to hit, the same saga finishes.
    let steps = json!([{"tool": "create_records", "arguments": {"table": "Team", "records": [{"Name": "Saga C"}]}}]);
    let started = app.post_as(&token, "/api/sagas", json!({"base_id": ada.base, "steps": steps})).await;
    let saga = settled(&app, &token, started["saga_id"].as_str().unwrap()).await;
    assert_eq!(saga["summary"]["status"], "done", "{saga}");
    assert_eq!(saga["summary"]["records"], 1);

    // Another user can't see or undo it.
    app.services.auth.users.create("bob@example.com", PASSWORD, false).await.unwrap();
    let bob = app.access_token("bob@example.com", PASSWORD).await;
    let id = started["saga_id"].as_str().unwrap();
    let seen = app.client.get(app.url(&format!("/api/sagas/{id}"))).bearer_auth(&bob).send().await.unwrap();
    assert_eq!(seen.status(), 404);
    let undo = app.client.post(app.url(&format!("/api/sagas/{id}/undo"))).bearer_auth(&bob).send().await.unwrap();
    assert_eq!(undo.status(), 404);
    let listed: Value = app.client.get(app.url("/api/sagas")).bearer_auth(&bob).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed, json!([]));
}

on_both_databases!(
    dialect: every_write_is_a_change_that_undo_reverses,
    undo_shows_later_edits_and_overwrites_only_when_asked,
    a_refused_write_leaves_nothing_half_done,
    a_lost_answer_is_looked_for_not_sent_again,
    a_rest_saga_finishes_or_is_undone_whole,
);
