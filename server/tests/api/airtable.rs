//! The Airtable client against the sandbox, over real HTTP: records, the Meta API, formulas,
//! errors and rate limits, as any Airtable client would meet them.


use backend::airtable::{Airtable, AirtableSettings, Client, ListQuery, LimiterSettings, RecordUpdate, UpdateMode, formula};
use backend::auth::User;
use backend::model::airtable::{BaseId, Direction, FieldType, Fields, NewField, NewTable, Rename, Sort};
use backend::sandbox::DEMO_BASE_NAME;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_databases, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// A new user and a client on their sandbox, with Airtable's default limits.
    async fn sandbox_user(&self, email: &str) -> (User, Client) {
        let user = self.services.auth.users.create(email, PASSWORD, false).await.unwrap();
        let connection = self.services.connections.for_user(&user.id).await.unwrap();
        (user, connection.client)
    }

    /// A fresh base with one table of the given fields, so a test starts from a known state.
    async fn scratch_base(&self, client: &Client, fields: Value) -> BaseId {
        let table: NewTable = serde_json::from_value(json!({ "name": "Items", "fields": fields })).unwrap();
        client.create_base("Scratch", "wspSANDBOX", &[table]).await.unwrap()
    }
}

fn fields(value: Value) -> Fields {
    value.as_object().unwrap().clone()
}

fn item_fields() -> Value {
    json!([
        { "name": "Name", "type": "singleLineText" },
        { "name": "Count", "type": "number", "options": { "precision": 0 } },
        { "name": "Status", "type": "singleSelect", "options": { "choices": [{ "name": "Open" }, { "name": "Done" }] } },
        { "name": "Done", "type": "checkbox" },
        { "name": "Due", "type": "date" },
        { "name": "Serial", "type": "autoNumber" },
    ])
}

async fn a_new_users_sandbox_holds_the_linked_demo_base(app: TestApp) {
    let (_, client) = app.sandbox_user("ada@example.com").await;
    let bases = client.list_bases().await.unwrap();
    assert_eq!(bases.len(), 1);
    assert_eq!(bases[0].name, DEMO_BASE_NAME);
    let schema = client.base_schema(&bases[0].id).await.unwrap();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["Team", "Customers", "Tasks", "Milestones"]);
    let tasks = schema.table("Tasks").unwrap();
    let owner = tasks.field("Owner").unwrap();
    assert_eq!(owner.field_type, FieldType::MultipleRecordLinks);
    assert_eq!(owner.options.as_ref().unwrap()["linkedTableId"], json!(schema.table("Team").unwrap().id));
    assert_eq!(tasks.primary_field().unwrap().name, "Name");
    assert!(!tasks.views.is_empty());

    let mut total = 0;
    for table in &schema.tables {
        total += client.list_all(&bases[0].id, table.id.as_str(), &ListQuery::default()).await.unwrap().len();
    }
    assert!(total >= 100, "the demo base has {total} records");
    let task = &client.list_records(&bases[0].id, "Tasks", &ListQuery { max_records: Some(1), ..ListQuery::default() }).await.unwrap().records[0];
    assert!(task.fields["Owner"].as_array().unwrap()[0].as_str().unwrap().starts_with("rec"));
    assert!(task.fields["Task #"].is_number());
}

/// A new user's first pages ask for their bases several at once; each must see the demo base,
/// made once, rather than an empty list while another request is still making it.
async fn requests_racing_a_users_first_use_all_find_one_demo_base(app: TestApp) {
    let user = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let lists = (0..4).map(|_| async {
        let connection = app.services.connections.for_user(&user.id).await.unwrap();
        connection.client.list_bases().await.unwrap()
    });
    for bases in futures::future::join_all(lists).await {
        let names: Vec<&str> = bases.iter().map(|b| b.name.as_str()).collect();
        assert_eq!(names, [DEMO_BASE_NAME]);
    }
}

async fn records_are_created_read_updated_and_deleted_in_chunks(app: TestApp) {
    let (_, client) = app.sandbox_user("ada@example.com").await;
    let base = app.scratch_base(&client, item_fields()).await;
    let new: Vec<Fields> = (0..25).map(|i| fields(json!({ "Name": format!("Item {i}"), "Count": i }))).collect();
    let created = client.create_records(&base, "Items", &new, false).await.unwrap();
    assert_eq!(created.len(), 25, "25 records take three writes of at most ten");
    assert_eq!(created[24].fields["Name"], "Item 24");
    assert_eq!(created[0].fields["Serial"], 1);

    let one = client.get_record(&base, "Items", &created[3].id).await.unwrap();
    assert_eq!(one.fields["Count"], 3);

    let merged = client
        .update_records(&base, "Items", &[RecordUpdate { id: created[3].id.clone(), fields: fields(json!({ "Status": "Done" })) }], UpdateMode::Merge, false)
        .await
        .unwrap();
    assert_eq!(merged[0].fields["Name"], "Item 3", "a merge keeps the fields not sent");
    assert_eq!(merged[0].fields["Status"], "Done");
    let replaced = client
        .update_records(&base, "Items", &[RecordUpdate { id: created[3].id.clone(), fields: fields(json!({ "Name": "Renamed" })) }], UpdateMode::Replace, false)
        .await
        .unwrap();
    assert_eq!(replaced[0].fields.get("Status"), None, "a replace clears the fields not sent");

    let ids: Vec<_> = created.iter().take(12).map(|r| r.id.clone()).collect();
    assert_eq!(client.delete_records(&base, "Items", &ids).await.unwrap(), ids);
    let left = client.list_all(&base, "Items", &ListQuery::default()).await.unwrap();
    assert_eq!(left.len(), 13);
    let gone = client.get_record(&base, "Items", &ids[0]).await.unwrap_err();
    assert!(gone.is_not_found(), "{gone}");
}

async fn a_formula_built_from_hostile_text_finds_exactly_that_record(app: TestApp) {
    let (_, client) = app.sandbox_user("ada@example.com").await;
    let base = app.scratch_base(&client, item_fields()).await;
    let hostile = ["O'Brien", "say \"hi\"", "back\\slash", "'); DELETE", "} & {Count", "line\nbreak"];
    let new: Vec<Fields> = hostile.iter().map(|name| fields(json!({ "Name": name }))).collect();
    client.create_records(&base, "Items", &new, false).await.unwrap();
    for name in hostile {
        let query = ListQuery { filter_by_formula: Some(formula::eq("Name", name)), ..ListQuery::default() };
        let found = client.list_all(&base, "Items", &query).await.unwrap();
        assert_eq!(found.len(), 1, "exactly one match for {name:?}");
        assert_eq!(found[0].fields["Name"], name);
    }
    let search = ListQuery { filter_by_formula: Some(formula::contains_text("Name", "o'bri")), ..ListQuery::default() };
    assert_eq!(client.list_all(&base, "Items", &search).await.unwrap().len(), 1);
}

async fn listings_sort_select_fields_page_and_stop_at_max_records(app: TestApp) {
    let (_, client) = app.sandbox_user("ada@example.com").await;
    let base = app.scratch_base(&client, item_fields()).await;
    let new: Vec<Fields> = (0..30).map(|i| fields(json!({ "Name": format!("N{i:02}"), "Count": (i * 7) % 30 }))).collect();
    client.create_records(&base, "Items", &new, false).await.unwrap();

    let query = ListQuery {
        page_size: Some(7),
        fields: vec!["Count".into()],
        sort: vec![Sort { field: "Count".into(), direction: Direction::Desc }],
        filter_by_formula: Some("{Count} >= 10".into()),
        ..ListQuery::default()
    };
    let first = client.list_records(&base, "Items", &query).await.unwrap();
    assert_eq!(first.records.len(), 7);
    assert!(first.offset.is_some());
    assert!(first.records[0].fields.get("Name").is_none(), "only the chosen fields come back");
    let all = client.list_all(&base, "Items", &query).await.unwrap();
    let counts: Vec<i64> = all.iter().map(|r| r.fields["Count"].as_i64().unwrap()).collect();
    assert_eq!(counts, (10..30).rev().collect::<Vec<_>>());

    let capped = client.list_all(&base, "Items", &ListQuery { max_records: Some(12), page_size: Some(5), ..ListQuery::default() }).await.unwrap();
    assert_eq!(capped.len(), 12);
    let by_id = client.list_records(&base, "Items", &ListQuery { return_fields_by_field_id: true, max_records: Some(1), ..ListQuery::default() }).await.unwrap();
    assert!(by_id.records[0].fields.keys().all(|k| k.starts_with("fld")));
}

async fn a_very_long_formula_is_sent_as_a_post_and_still_filters(app: TestApp) {
    let (_, client) = app.sandbox_user("ada@example.com").await;
    let base = app.scratch_base(&client, item_fields()).await;
    client.create_records(&base, "Items", &[fields(json!({ "Name": "keep" })), fields(json!({ "Name": "drop" }))], false).await.unwrap();
    let before = sandbox_requests(&app, "POST").await;
    let decoys: Vec<String> = (0..700).map(|i| formula::eq("Name", &format!("decoy number {i}"))).collect();
    let mut parts = decoys;
    parts.push(formula::eq("Name", "keep"));
    let long = formula::or(&parts);
    assert!(long.len() > 16_000 && long.len() < 32_768, "long enough for a POST, within the formula limit");
    let found = client.list_all(&base, "Items", &ListQuery { filter_by_formula: Some(long), ..ListQuery::default() }).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].fields["Name"], "keep");
    assert_eq!(sandbox_requests(&app, "POST").await, before + 1, "the listing went by POST");
}

/// Sandbox requests so far with `method`, from `/metrics`.
async fn sandbox_requests(app: &TestApp, method: &str) -> u64 {
    let metrics = app.get("/metrics").await.text().await.unwrap();
    metrics
        .lines()
        .filter(|l| l.starts_with("http_requests_total{") && l.contains(&format!("method=\"{method}\"")) && l.contains("route=\"/sandbox/v0"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

async fn upserts_report_what_they_created_and_updated(app: TestApp) {
    let (_, client) = app.sandbox_user("ada@example.com").await;
    let base = app.scratch_base(&client, item_fields()).await;
    client.create_records(&base, "Items", &[fields(json!({ "Name": "a", "Count": 1 }))], false).await.unwrap();
    let result = client
        .upsert_records(&base, "Items", &[fields(json!({ "Name": "a", "Count": 5 })), fields(json!({ "Name": "b", "Count": 2 }))], &["Name".into()], false)
        .await
        .unwrap();
    assert_eq!(result.updated_records.len(), 1);
    assert_eq!(result.created_records.len(), 1);
    let a = client.list_all(&base, "Items", &ListQuery { filter_by_formula: Some(formula::eq("Name", "a")), ..ListQuery::default() }).await.unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].fields["Count"], 5);
}

async fn invalid_writes_get_airtables_error_types(app: TestApp) {
    let (_, client) = app.sandbox_user("ada@example.com").await;
    let base = app.scratch_base(&client, item_fields()).await;
    let kind = |r: Result<Vec<backend::model::airtable::Record>, backend::airtable::AirtableError>| {
        let err = r.unwrap_err();
        assert_eq!(err.status(), Some(422), "{err}");
        err.error_type().unwrap().to_owned()
    };
    let unknown = client.create_records(&base, "Items", &[fields(json!({ "Nmae": "typo" }))], false).await;
    assert_eq!(kind(unknown), "UNKNOWN_FIELD_NAME");
    let bad_number = client.create_records(&base, "Items", &[fields(json!({ "Count": "many" }))], false).await;
    assert_eq!(kind(bad_number), "INVALID_VALUE_FOR_COLUMN");
    let bad_choice = client.create_records(&base, "Items", &[fields(json!({ "Status": "Maybe" }))], false).await;
    assert_eq!(kind(bad_choice), "INVALID_MULTIPLE_CHOICE_OPTIONS");
    let computed = client.create_records(&base, "Items", &[fields(json!({ "Serial": 5 }))], false).await;
    assert_eq!(kind(computed), "INVALID_VALUE_FOR_COLUMN");

    let typecast = client.create_records(&base, "Items", &[fields(json!({ "Status": "Maybe", "Count": "42" }))], true).await.unwrap();
    assert_eq!(typecast[0].fields["Count"], 42);
    let schema = client.base_schema(&base).await.unwrap();
    let choices = &schema.table("Items").unwrap().field("Status").unwrap().options.as_ref().unwrap()["choices"];
    assert!(choices.as_array().unwrap().iter().any(|c| c["name"] == "Maybe"), "typecast added the choice: {choices}");

    let formula_err = client
        .list_records(&base, "Items", &ListQuery { filter_by_formula: Some("{Name} = ".into()), ..ListQuery::default() })
        .await
        .unwrap_err();
    assert_eq!(formula_err.error_type(), Some("INVALID_FILTER_BY_FORMULA"));
    assert!(formula_err.to_string().contains("Fix the formula"), "{formula_err}");

    let missing_table = client.list_records(&base, "Nope", &ListQuery::default()).await.unwrap_err();
    assert_eq!(missing_table.status(), Some(404));
    let expired = client.list_records(&base, "Items", &ListQuery { offset: Some("itr1/rec5".into()), ..ListQuery::default() }).await.unwrap_err();
    assert_eq!(expired.error_type(), Some("LIST_RECORDS_ITERATOR_NOT_AVAILABLE"));
}

async fn one_users_token_cannot_reach_anothers_base(app: TestApp) {
    let (_, ada) = app.sandbox_user("ada@example.com").await;
    let (_, bob) = app.sandbox_user("bob@example.com").await;
    let ada_base = ada.list_bases().await.unwrap()[0].id.clone();
    assert!(bob.list_bases().await.unwrap().iter().all(|b| b.id != ada_base));
    let err = bob.list_records(&ada_base, "Tasks", &ListQuery::default()).await.unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert!(bob.base_schema(&ada_base).await.is_err());
    assert!(bob.create_records(&ada_base, "Tasks", &[fields(json!({ "Name": "sneaky" }))], false).await.is_err());

    let stranger = Airtable::new(&AirtableSettings::default()).client(ada.api_url().clone(), "patNOTAREALTOKEN.0".to_owned().into());
    let refused = stranger.list_bases().await.unwrap_err();
    assert_eq!(refused.status(), Some(401));
    assert!(refused.to_string().contains("Settings"), "{refused}");
}

async fn schema_writes_show_at_once_despite_the_cache(app: TestApp) {
    let (_, client) = app.sandbox_user("ada@example.com").await;
    let base = app.scratch_base(&client, item_fields()).await;
    let before = client.base_schema(&base).await.unwrap();
    let items = before.table("Items").unwrap().id.clone();
    let notes: NewField = serde_json::from_value(json!({ "name": "Notes", "type": "multilineText" })).unwrap();
    let field = client.create_field(&base, items.as_str(), &notes).await.unwrap();
    assert!(client.base_schema(&base).await.unwrap().table("Items").unwrap().field("Notes").is_some());
    client.update_field(&base, items.as_str(), &field.id, &Rename { name: Some("Remarks".into()), description: None }).await.unwrap();
    client.update_table(&base, items.as_str(), &Rename { name: Some("Things".into()), description: Some("Renamed".into()) }).await.unwrap();
    let table: NewTable = serde_json::from_value(json!({ "name": "People", "fields": [{ "name": "Name", "type": "singleLineText" }] })).unwrap();
    client.create_table(&base, &table).await.unwrap();
    let after = client.base_schema(&base).await.unwrap();
    let things = after.table("Things").unwrap();
    assert!(things.field("Remarks").is_some());
    assert_eq!(things.description.as_deref(), Some("Renamed"));
    assert!(after.table("People").is_some());

    let duplicate = client.create_table(&base, &table).await.unwrap_err();
    assert_eq!(duplicate.status(), Some(422));
}

async fn the_sandbox_answers_in_airtables_error_shapes(app: TestApp) {
    let unknown = app.get("/sandbox/v0/meta/nothing/here/at/all").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(unknown.json::<Value>().await.unwrap(), json!({ "error": "NOT_FOUND" }));
    let anonymous = app.get("/sandbox/v0/meta/bases").await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.json::<Value>().await.unwrap()["error"]["type"], "AUTHENTICATION_REQUIRED");
}

on_both_databases!(
    a_new_users_sandbox_holds_the_linked_demo_base,
    requests_racing_a_users_first_use_all_find_one_demo_base,
    records_are_created_read_updated_and_deleted_in_chunks,
    a_formula_built_from_hostile_text_finds_exactly_that_record,
    listings_sort_select_fields_page_and_stop_at_max_records,
    a_very_long_formula_is_sent_as_a_post_and_still_filters,
    upserts_report_what_they_created_and_updated,
    invalid_writes_get_airtables_error_types,
    one_users_token_cannot_reach_anothers_base,
    schema_writes_show_at_once_despite_the_cache,
    the_sandbox_answers_in_airtables_error_shapes,
);

/// A client that goes faster than the sandbox allows meets a 429, waits out the sandbox's
/// penalty (its `Retry-After`, not Airtable's 30 seconds) and finishes; the limiter counts the 429.
#[tokio::test]
async fn a_client_that_outruns_the_limit_waits_out_the_penalty_and_finishes() {
    let app = spawn_app_with(backend::db::Dialect::Sqlite, |s| {
        s.sandbox_requests_per_second = Some("2".into());
        s.sandbox_penalty_seconds = Some("1".into());
    })
    .await;
    let user = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let token = app.services.sandbox.provision(&user.id).await.unwrap();
    let eager = Airtable::new(&AirtableSettings {
        limits: LimiterSettings { requests_per_second_per_base: 20, ..LimiterSettings::default() },
        ..AirtableSettings::default()
    });
    let client = eager.client(url::Url::parse(&app.url("/sandbox")).unwrap(), token.clone());
    let base = client.list_bases().await.unwrap()[0].id.clone();
    for _ in 0..4 {
        client.list_records(&base, "Team", &ListQuery { max_records: Some(1), ..ListQuery::default() }).await.unwrap();
    }
    let state = eager.limiter().snapshot();
    assert!(state[0].rate_limited >= 1, "the sandbox answered 429 at least once: {state:?}");

    // The refusal itself names the wait.
    let http = reqwest::Client::new();
    let url = app.url(&format!("/sandbox/v0/{base}/Team"));
    let mut refused = None;
    for _ in 0..4 {
        let response = http.get(&url).bearer_auth(secrecy::ExposeSecret::expose_secret(&token)).send().await.unwrap();
        if response.status() == 429 {
            refused = Some(response);
            break;
        }
    }
    let refused = refused.expect("four quick requests at 2/s meet a 429");
    assert_eq!(refused.headers()["retry-after"], "1");
}
