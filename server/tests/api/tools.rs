//! The tool catalog against the sandbox over HTTP: every tool, its answers and its error paths.

use backend::model::auth::Scope;
use backend::tools::{RESULT_BUDGET, ToolContext, ToolError};
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_databases};

const PASSWORD: &str = "correct horse battery";

/// A user's tools, as the chat and MCP run them.
struct Tools {
    context: ToolContext,
    catalog: backend::tools::Catalog,
    base: String,
}

impl Tools {
    async fn for_new_user(app: &TestApp, email: &str) -> Self {
        let user = app.services.auth.users.create(email, PASSWORD, false).await.unwrap();
        let connection = app.services.connections.for_user(&user.id).await.unwrap();
        let context = ToolContext::new(connection.client, backend::model::analytics::ToolSource::Rest, Some(user.id.to_string()));
        let catalog = app.services.tools.clone();
        let bases = catalog.call(&context, Scope::Read, "list_bases", json!({})).await.unwrap();
        let base = bases["bases"][0]["id"].as_str().unwrap().to_owned();
        Self { context, catalog, base }
    }

    async fn call(&self, name: &str, mut arguments: Value) -> Result<Value, ToolError> {
        if arguments.get("base_id").is_none() && name != "list_bases" {
            arguments["base_id"] = json!(self.base);
        }
        self.catalog.call(&self.context, Scope::Write, name, arguments).await
    }

    async fn ok(&self, name: &str, arguments: Value) -> Value {
        self.call(name, arguments).await.unwrap_or_else(|e| panic!("{name} failed: {e}"))
    }

    async fn refused(&self, name: &str, arguments: Value) -> String {
        match self.call(name, arguments).await {
            Ok(value) => panic!("{name} should have failed, but answered {value}"),
            Err(e) => e.to_string(),
        }
    }
}

async fn reading_tools_describe_list_page_and_search_the_demo_base(app: TestApp) {
    let tools = Tools::for_new_user(&app, "ada@example.com").await;

    let tables = tools.ok("list_tables", json!({})).await;
    let names: Vec<&str> = tables["tables"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Team", "Customers", "Tasks", "Milestones"]);

    let brief = tools.ok("describe_table", json!({"table": "Tasks", "detail": "names"})).await;
    assert!(brief["fields"].as_array().unwrap().contains(&json!("Estimate (hours)")));
    assert!(brief["fields"][0].is_string());
    let full = tools.ok("describe_table", json!({"table": "Tasks", "detail": "full"})).await;
    let status = full["fields"].as_array().unwrap().iter().find(|f| f["name"] == "Status").unwrap();
    assert_eq!(status["options"]["choices"].as_array().unwrap().len(), 4);

    // Every one of the 70 tasks, once, by following the cursor.
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = tools.ok("list_records", json!({"table": "Tasks", "page_size": 30, "cursor": cursor, "fields": ["Name"]})).await;
        pages += 1;
        for record in page["records"].as_array().unwrap() {
            assert!(seen.insert(record["id"].as_str().unwrap().to_owned()), "a record came twice");
            assert!(record["fields"].get("Status").is_none(), "only the asked fields");
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (70, 3));

    let blocked = tools
        .ok("list_records", json!({"table": "Tasks", "filter": [{"field": "Status", "op": "is", "value": "Blocked"}], "sort": [{"field": "Task #", "direction": "desc"}], "page_size": 100}))
        .await;
    let records = blocked["records"].as_array().unwrap();
    assert!(!records.is_empty() && records.len() < 70);
    assert!(records.iter().all(|r| r["fields"]["Status"] == "Blocked"));
    let numbers: Vec<i64> = records.iter().map(|r| r["fields"]["Task #"].as_i64().unwrap()).collect();
    assert!(numbers.windows(2).all(|w| w[0] > w[1]), "sorted descending: {numbers:?}");

    let first = records[0]["id"].as_str().unwrap();
    let one = tools.ok("get_record", json!({"table": "Tasks", "record_id": first})).await;
    assert_eq!(one["record"]["id"], first);

    // A search for text that would break a formula finds exactly its record.
    let hostile = r#"it's "quoted" {Task} \ '), TRUE()"#;
    let created = tools.ok("create_records", json!({"table": "Tasks", "records": [{"Name": format!("Plan {hostile} launch")}]})).await;
    let id = created["records"][0]["id"].clone();
    let found = tools.ok("search_records", json!({"table": "Tasks", "query": hostile})).await;
    assert_eq!(found["count"], 1, "{found}");
    assert_eq!(found["records"][0]["id"], id);
    let lowercase = tools.ok("search_records", json!({"table": "Tasks", "query": "PLAN IT'S"})).await;
    assert_eq!(lowercase["count"], 1);
    let filtered = tools.ok("list_records", json!({"table": "Tasks", "filter": [{"field": "Name", "op": "contains", "value": hostile}]})).await;
    assert_eq!(filtered["count"], 1);

    let info = tools.ok("get_field_info", json!({"table": "Tasks", "field": "Status"})).await;
    assert_eq!(info["type"], "singleSelect");
    assert_eq!(info["writable"], true);
    assert_eq!(tools.ok("get_field_info", json!({"table": "Tasks", "field": "Task #"})).await["writable"], false);
}

async fn tool_errors_say_what_exists_and_what_to_do(app: TestApp) {
    let tools = Tools::for_new_user(&app, "ada@example.com").await;
    let table = tools.refused("list_records", json!({"table": "Taks"})).await;
    assert!(table.contains("no table “Taks”") && table.contains("Team, Customers, Tasks, Milestones"), "{table}");
    let field = tools.refused("list_records", json!({"table": "Tasks", "filter": [{"field": "Stauts", "op": "is", "value": "Done"}]})).await;
    assert!(field.contains("no field “Stauts”") && field.contains("Status"), "{field}");
    let number = tools.refused("list_records", json!({"table": "Tasks", "filter": [{"field": "Estimate (hours)", "op": "at_least", "value": "lots"}]})).await;
    assert!(number.contains("is not a number"), "{number}");
    let base = tools.refused("list_tables", json!({"base_id": "tblNotABase000000"})).await;
    assert!(base.contains("list_bases"), "{base}");
    let missing_record = tools.refused("get_record", json!({"table": "Tasks", "record_id": "recAAAAAAAAAAAAAA"})).await;
    assert!(missing_record.contains("has no record"), "{missing_record}");
    let cursor = tools.refused("list_records", json!({"table": "Tasks", "cursor": "forged"})).await;
    assert!(cursor.contains("cursor"), "{cursor}");
    let bad_args = tools.refused("list_records", json!({"table": 12})).await;
    assert!(bad_args.contains("arguments for list_records"), "{bad_args}");
    let unknown = tools.refused("drop_everything", json!({})).await;
    assert!(unknown.contains("no tool named"), "{unknown}");
    let bad_value = tools.refused("create_records", json!({"table": "Tasks", "records": [{"Estimate (hours)": "lots"}]})).await;
    assert!(bad_value.contains("INVALID_VALUE_FOR_COLUMN") || bad_value.contains("cannot accept"), "{bad_value}");
    let unknown_field = tools.refused("create_records", json!({"table": "Tasks", "records": [{"Colour": "red"}]})).await;
    assert!(unknown_field.contains("no field “Colour”"), "{unknown_field}");
    let computed = tools.refused("update_records", json!({"table": "Tasks", "records": [{"id": "recAAAAAAAAAAAAAA", "fields": {"Task #": 3}}]})).await;
    assert!(computed.contains("computed"), "{computed}");
    // A raw formula the caller wrote is passed on, and Airtable's answer explains it.
    let formula = tools.refused("list_records", json!({"table": "Tasks", "filter_by_formula": "{Status = 'x'"})).await;
    assert!(formula.to_lowercase().contains("formula"), "{formula}");

    // A read-only caller can't run a writing tool.
    let read_only = tools.catalog.call(&tools.context, Scope::Read, "delete_records", json!({})).await.unwrap_err();
    assert!(matches!(read_only, ToolError::ReadOnly(_)));
}

async fn writing_tools_create_update_upsert_and_delete(app: TestApp) {
    let tools = Tools::for_new_user(&app, "ada@example.com").await;
    let created = tools
        .ok("create_records", json!({"table": "Team", "records": [{"Name": "Grace", "Role": "Engineer"}, {"Name": "Linus", "Weekly hours": "20"}], "typecast": true}))
        .await;
    assert_eq!(created["created"], 2);
    let grace = created["records"][0]["id"].as_str().unwrap().to_owned();
    let linus = created["records"][1]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["records"][1]["fields"]["Weekly hours"], 20);

    let updated = tools.ok("update_records", json!({"table": "Team", "records": [{"id": grace, "fields": {"Weekly hours": 32}}]})).await;
    assert_eq!(updated["records"][0]["fields"]["Weekly hours"], 32);
    assert_eq!(updated["records"][0]["fields"]["Name"], "Grace", "a merge keeps other fields");

    let upserted = tools
        .ok("upsert_records", json!({"table": "Team", "merge_on": ["Name"], "records": [{"Name": "Grace", "Remote": true}, {"Name": "Hedy", "Remote": false}]}))
        .await;
    assert_eq!(upserted["updated_records"], json!([grace]));
    assert_eq!(upserted["created_records"].as_array().unwrap().len(), 1);

    let deleted = tools.ok("delete_records", json!({"table": "Team", "record_ids": [linus]})).await;
    assert_eq!(deleted["deleted"], 1);
    let gone = tools.refused("get_record", json!({"table": "Team", "record_id": linus})).await;
    assert!(gone.contains("has no record"));
    let too_many: Vec<Value> = (0..101).map(|i| json!({"Name": format!("n{i}")})).collect();
    assert!(tools.refused("create_records", json!({"table": "Team", "records": too_many})).await.contains("at most 100"));
}

async fn schema_tools_create_and_rename_tables_and_fields(app: TestApp) {
    let tools = Tools::for_new_user(&app, "ada@example.com").await;
    let table = tools
        .ok("create_table", json!({"name": "Vendors", "fields": [{"name": "Vendor", "type": "singleLineText"}, {"name": "Rating", "type": "rating", "options": {"max": 5, "icon": "star", "color": "yellowBright"}}]}))
        .await;
    assert_eq!(table["table"]["name"], "Vendors");
    let field = tools.ok("create_field", json!({"table": "Vendors", "name": "Tier", "type": "singleSelect", "options": {"choices": [{"name": "Gold"}]}})).await;
    assert_eq!(field["field"]["name"], "Tier");
    assert!(tools.refused("create_field", json!({"table": "Vendors", "name": "Tier", "type": "singleLineText"})).await.contains("already has a field"));
    tools.ok("update_field", json!({"table": "Vendors", "field": "Tier", "name": "Level", "description": "Contract tier"})).await;
    tools.ok("update_table", json!({"table": "Vendors", "name": "Suppliers"})).await;
    let described = tools.ok("describe_table", json!({"table": "Suppliers"})).await;
    let level = described["fields"].as_array().unwrap().iter().find(|f| f["name"] == "Level").unwrap();
    assert_eq!(level["description"], "Contract tier");
    assert!(tools.refused("update_table", json!({"table": "Suppliers"})).await.contains("new name"));
}

async fn analysis_and_export_tools_read_the_whole_table(app: TestApp) {
    let tools = Tools::for_new_user(&app, "ada@example.com").await;
    let analysis = tools.ok("analyze_table_data", json!({"table": "Tasks"})).await;
    assert_eq!(analysis["records"], 70);
    let estimate = analysis["fields"].as_array().unwrap().iter().find(|f| f["name"] == "Estimate (hours)").unwrap();
    let stats = &estimate["stats"];
    assert!(stats["min"].as_f64().unwrap() <= stats["median"].as_f64().unwrap());
    assert!(stats["median"].as_f64().unwrap() <= stats["max"].as_f64().unwrap());
    let task_number = analysis["fields"].as_array().unwrap().iter().find(|f| f["name"] == "Task #").unwrap();
    assert_eq!(task_number["distinct"], 70);
    assert!(analysis["insights"].as_array().unwrap().iter().any(|i| i.as_str().unwrap().contains("“Task #” is filled and different")));

    // Duplicates across the whole table, whatever the case and spacing.
    tools.ok("create_records", json!({"table": "Customers", "records": [{"Company": "Acme  Corp"}, {"Company": "acme corp"}, {"Company": "ACME CORP"}]})).await;
    let duplicates = tools.ok("find_duplicates", json!({"table": "Customers"})).await;
    assert_eq!(duplicates["records_scanned"], 33);
    let acme = duplicates["groups"].as_array().unwrap().iter().find(|g| g["count"] == 3).expect("the three Acme records");
    assert_eq!(acme["record_ids"].as_array().unwrap().len(), 3);

    let csv = tools.ok("export_table_csv", json!({"table": "Team", "fields": ["Name", "Role"]})).await;
    let text = csv["csv"].as_str().unwrap();
    assert!(text.starts_with("Name,Role\n"), "{text}");
    assert_eq!(text.lines().count(), 13, "a header and 12 people");
    assert!(csv["next_cursor"].is_null());

    let metadata = tools.ok("create_metadata_table", json!({})).await;
    assert_eq!((metadata["created_table"].clone(), metadata["records_created"].clone()), (json!(true), json!(4)));
    let again = tools.ok("create_metadata_table", json!({})).await;
    assert_eq!((again["created_table"].clone(), again["records_updated"].clone(), again["records_created"].clone()), (json!(false), json!(4), json!(0)));
    let rows = tools.ok("list_records", json!({"table": "Table metadata", "filter": [{"field": "Table", "op": "is", "value": "Tasks"}]})).await;
    assert!(rows["records"][0]["fields"]["Fields"].as_str().unwrap().contains("Status (singleSelect)"));
}

async fn sync_reports_a_dry_run_then_applies_it(app: TestApp) {
    let tools = Tools::for_new_user(&app, "ada@example.com").await;
    tools
        .ok("create_table", json!({"name": "Team copy", "fields": [{"name": "Name", "type": "singleLineText"}, {"name": "Email", "type": "email"}, {"name": "Weekly hours", "type": "number", "options": {"precision": 0}}]}))
        .await;
    tools.ok("create_records", json!({"table": "Team copy", "records": [{"Name": "Nobody", "Email": "nobody@example.com"}]})).await;
    let arguments = json!({"source_table": "Team", "target_table": "Team copy", "key_field": "Email", "delete_missing": true});
    let dry = tools.ok("sync_tables", arguments.clone()).await;
    assert_eq!((dry["to_create"].clone(), dry["to_delete"].clone(), dry["dry_run"].clone()), (json!(12), json!(1), json!(true)));
    assert_eq!(dry["fields_copied"], json!(["Name", "Weekly hours"]));
    let copy = tools.ok("list_records", json!({"table": "Team copy"})).await;
    assert_eq!(copy["count"], 1, "a dry run changes nothing");

    let mut apply = arguments.clone();
    apply["dry_run"] = json!(false);
    let applied = tools.ok("sync_tables", apply).await;
    assert_eq!(applied["applied"], true);
    let copy = tools.ok("list_records", json!({"table": "Team copy", "page_size": 100})).await;
    assert_eq!(copy["count"], 12);
    let after = tools.ok("sync_tables", arguments).await;
    assert_eq!((after["to_create"].clone(), after["to_update"].clone(), after["to_delete"].clone(), after["unchanged"].clone()), (json!(0), json!(0), json!(0), json!(12)));
}

async fn a_huge_cell_is_cut_and_pages_stay_within_the_budget(app: TestApp) {
    let tools = Tools::for_new_user(&app, "ada@example.com").await;
    let long = "launch notes ".repeat(4_000);
    let records: Vec<Value> = (0..20).map(|i| json!({"Name": format!("Long {i}"), "Notes": long})).collect();
    tools.ok("create_records", json!({"table": "Tasks", "records": records})).await;
    let page = tools.ok("search_records", json!({"table": "Tasks", "query": "Long ", "fields": ["Name"], "page_size": 100})).await;
    assert!(serde_json::to_string(&page).unwrap().len() <= RESULT_BUDGET);
    let notes = page["records"][0]["fields"]["Notes"].as_str().unwrap();
    assert!(notes.ends_with("get_record shows the whole cell]"), "{}", &notes[notes.len() - 80..]);
    assert!((page["count"].as_u64().unwrap()) < 20, "the budget cut the page short");
    let rest = tools.ok("search_records", json!({"table": "Tasks", "query": "Long ", "fields": ["Name"], "page_size": 100, "cursor": page["next_cursor"]})).await;
    assert!(rest["count"].as_u64().unwrap() >= 1);
    assert_ne!(rest["records"][0]["id"], page["records"][0]["id"]);
}

/// `GET /api/tools` and `POST /api/execute-tool`, with a read key and a write key.
async fn the_rest_api_lists_and_runs_tools_by_scope(app: TestApp) {
    let user = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let read = app.services.auth.api_keys.create(&user.id, "reader", Scope::Read).await.unwrap().key;
    let write = app.services.auth.api_keys.create(&user.id, "writer", Scope::Write).await.unwrap().key;
    let listed = |key: String| {
        let request = app.client.get(app.url("/api/tools")).bearer_auth(key);
        async move { request.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let all = listed(write.clone()).await;
    let names: Vec<&str> = all["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 27, "{names:?}");
    for tool in all["tools"].as_array().unwrap() {
        assert_eq!(tool["input_schema"]["type"], "object", "{}", tool["name"]);
        assert!(tool["annotations"]["readOnlyHint"].is_boolean());
    }
    let reading = listed(read.clone()).await;
    assert!(reading["tools"].as_array().unwrap().iter().all(|t| t["annotations"]["readOnlyHint"] == true));
    assert_eq!(reading["tools"].as_array().unwrap().len(), 13);

    let run = |key: &str, body: Value| app.client.post(app.url("/api/execute-tool")).bearer_auth(key).json(&body).send();
    let bases = run(&read, json!({"tool_name": "list_bases", "arguments": {}})).await.unwrap();
    assert_eq!(bases.status(), 200);
    let bases: Value = bases.json().await.unwrap();
    assert_eq!(bases["tool"], "list_bases");
    let base = bases["result"]["bases"][0]["id"].as_str().unwrap();
    let refused = run(&read, json!({"tool_name": "create_records", "arguments": {"base_id": base, "table": "Team", "records": [{"Name": "x"}]}})).await.unwrap();
    assert_eq!(refused.status(), 403);
    let created = run(&write, json!({"tool_name": "create_records", "arguments": {"base_id": base, "table": "Team", "records": [{"Name": "x"}]}})).await.unwrap();
    assert_eq!(created.status(), 200);
    let bad = run(&write, json!({"tool_name": "list_records", "arguments": {"base_id": base, "table": "Nope"}})).await.unwrap();
    assert_eq!(bad.status(), 422);
    assert!(bad.text().await.unwrap().contains("Its tables are"));
    let anonymous = app.client.get(app.url("/api/tools")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
}

on_both_databases!(
    reading_tools_describe_list_page_and_search_the_demo_base,
    tool_errors_say_what_exists_and_what_to_do,
    writing_tools_create_update_upsert_and_delete,
    schema_tools_create_and_rename_tables_and_fields,
    analysis_and_export_tools_read_the_whole_table,
    sync_reports_a_dry_run_then_applies_it,
    a_huge_cell_is_cut_and_pages_stay_within_the_budget,
    the_rest_api_lists_and_runs_tools_by_scope,
);
