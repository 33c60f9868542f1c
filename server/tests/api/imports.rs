//! Imports into the sandbox over HTTP: files of every kind the tests write themselves land
//! with every value as its field stores it; a mapping skips columns and makes fields; a key
//! column updates instead of duplicating; rows that can't be written are set aside with the
//! reason and download as a CSV; and an import can be stopped, keeping or undoing its rows.

use std::time::{Duration, Instant};

use backend::auth::User;
use backend::db::Dialect;
use backend::model::auth::Scope;
use backend::model::files::{ColumnMapping, ColumnType, FileSummary, ImportProgress, ImportRequest, ImportStatus};
use backend::tools::ToolContext;
use serde_json::{Value, json};

use crate::files::{utf16le_with_bom, windows_1252, workbook};
use crate::helpers::{TestApp, on_both_databases, spawn_app_with};

/// An app whose sandbox takes requests as fast as they come, where the pace is not what is tested.
async fn spawn(dialect: Dialect) -> TestApp {
    spawn_app_with(dialect, |s| s.sandbox_requests_per_second = Some("0".into())).await
}

const PASSWORD: &str = "correct horse battery";

/// A user with a token for HTTP, their connection's tools and their demo base.
struct Importer {
    user: User,
    token: String,
    context: ToolContext,
    base: String,
}

impl Importer {
    async fn new(app: &TestApp, email: &str) -> Self {
        let user = app.services.auth.users.create(email, PASSWORD, false).await.unwrap();
        let token = app.access_token(email, PASSWORD).await;
        let client = app.services.connections.for_user(&user.id).await.unwrap().client;
        let context = ToolContext::new(client, backend::model::analytics::ToolSource::Rest, Some(user.id.to_string()));
        let bases = app.services.tools.call(&context, Scope::Read, "list_bases", json!({})).await.unwrap();
        let base = bases["bases"][0]["id"].as_str().unwrap().to_owned();
        Self { user, token, context, base }
    }

    async fn upload(&self, app: &TestApp, name: &str, bytes: Vec<u8>) -> FileSummary {
        app.uploaded(&self.token, name, bytes).await
    }

    fn request(&self, file: &FileSummary, table: &str) -> ImportRequest {
        ImportRequest { file_id: file.id.clone(), sheet: None, base_id: self.base.clone(), table: table.into(), mapping: None, key_field: None }
    }

    /// Starts an import through the server function, as the Files page does.
    async fn start(&self, app: &TestApp, request: &ImportRequest) -> ImportProgress {
        let answer = app.post_as(&self.token, "/api/files/import", json!({ "request": request })).await;
        serde_json::from_value(answer).unwrap()
    }

    async fn status(&self, app: &TestApp, id: &str) -> ImportProgress {
        serde_json::from_value(app.post_as(&self.token, "/api/files/import-status", json!({ "id": id })).await).unwrap()
    }

    /// Imports and waits for the import to finish; its last progress.
    async fn import(&self, app: &TestApp, request: &ImportRequest) -> ImportProgress {
        let started = self.start(app, request).await;
        self.finished(app, &started.id).await
    }

    async fn finished(&self, app: &TestApp, id: &str) -> ImportProgress {
        let since = Instant::now();
        loop {
            let progress = self.status(app, id).await;
            if progress.status.is_finished() {
                return progress;
            }
            assert!(since.elapsed() < Duration::from_secs(120), "the import did not finish: {progress:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the import has written some rows (however slow the machine), so a stop
    /// then has something to keep or undo.
    async fn writing(&self, app: &TestApp, id: &str) {
        let since = Instant::now();
        loop {
            let progress = self.status(app, id).await;
            if progress.done > 0 {
                return;
            }
            assert!(since.elapsed() < Duration::from_secs(60) && !progress.status.is_finished(), "the import wrote nothing: {progress:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Every record's fields of a table, in creation order.
    async fn records(&self, app: &TestApp, table: &str) -> Vec<Value> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = app
                .services
                .tools
                .call(&self.context, Scope::Read, "list_records", json!({"base_id": self.base, "table": table, "page_size": 100, "cursor": cursor}))
                .await
                .unwrap();
            all.extend(page["records"].as_array().unwrap().iter().map(|r| r["fields"].clone()));
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return all,
            }
        }
    }
}

fn done(progress: &ImportProgress, rows: u64) {
    assert_eq!((progress.status, progress.done, progress.rejected), (ImportStatus::Done, rows, 0), "{progress:?}");
}

async fn each_kind_of_file_lands_with_every_value_as_its_field_stores_it(dialect: Dialect) {
    let app = spawn(dialect).await;
    let ada = Importer::new(&app, "ada@example.com").await;

    let bom = ada.upload(&app, "people.csv", [b"\xEF\xBB\xBF".as_slice(), b"Name,Hours,Start,Email\nAda,12.5,2024-03-25,ada@example.com\nBob,7,2024-04-01,bob@example.com\n"].concat()).await;
    done(&ada.import(&app, &ada.request(&bom, "People")).await, 2);
    assert_eq!(
        ada.records(&app, "People").await,
        [
            json!({"Name": "Ada", "Hours": 12.5, "Start": "2024-03-25", "Email": "ada@example.com"}),
            json!({"Name": "Bob", "Hours": 7, "Start": "2024-04-01", "Email": "bob@example.com"}),
        ]
    );

    let utf16 = ada.upload(&app, "team.tsv", utf16le_with_bom("Name\tTeam\nZoë\tOps\nŁukasz\tOps\nAda\tSales\nBob\tSales\n")).await;
    done(&ada.import(&app, &ada.request(&utf16, "Teams")).await, 4);
    let teams = ada.records(&app, "Teams").await;
    assert_eq!((teams[1].clone(), teams.len()), (json!({"Name": "Łukasz", "Team": "Ops"}), 4));

    let european = ada.upload(&app, "ventes.csv", windows_1252("Nom;Montant;Ville\nFrançoise;1.234,50;Besançon\nJosé;12,75;Málaga\nRenée;3;Besançon\nAndré;4,5;Málaga\n")).await;
    done(&ada.import(&app, &ada.request(&european, "Ventes")).await, 4);
    let ventes = ada.records(&app, "Ventes").await;
    assert_eq!(ventes[0], json!({"Nom": "Françoise", "Montant": 1234.5, "Ville": "Besançon"}));
    assert_eq!(ventes.iter().map(|r| r["Montant"].as_f64().unwrap()).collect::<Vec<_>>(), [1234.5, 12.75, 3.0, 4.5]);

    for (epoch_1904, table) in [(false, "Joiners 1900"), (true, "Joiners 1904")] {
        let book = ada.upload(&app, "people.xlsx", workbook(epoch_1904)).await;
        done(&ada.import(&app, &ada.request(&book, table)).await, 2);
        let joiners = ada.records(&app, table).await;
        assert_eq!(
            joiners.iter().map(|r| (r["Name"].clone(), r["Joined"].clone(), r["Phone 2"].clone())).collect::<Vec<_>>(),
            [(json!("Ada"), json!("2024-03-25"), json!("+44 20 7946 0959")), (json!("Bob"), json!("2023-12-31"), json!("+44 20 7946 0959"))],
            "dates with the 1904 system: {epoch_1904}"
        );
        let notes = ImportRequest { sheet: Some("Notes".into()), ..ada.request(&book, &format!("{table} notes")) };
        done(&ada.import(&app, &notes).await, 1);
        assert_eq!(ada.records(&app, &format!("{table} notes")).await, [json!({"Note": "Second sheet"})]);
    }

    let nested = br#"[
        {"name": "Ada", "team": {"name": "Ops", "lead": true}, "tags": ["a", "b"], "hours": 12.5},
        {"name": "Bob", "team": {"name": "Sales", "lead": false}, "tags": ["b"], "hours": 7}
    ]"#;
    let json_file = ada.upload(&app, "people.json", nested.to_vec()).await;
    done(&ada.import(&app, &ada.request(&json_file, "Staff")).await, 2);
    let staff = ada.records(&app, "Staff").await;
    assert_eq!(staff[0], json!({"name": "Ada", "team.name": "Ops", "team.lead": true, "tags": ["a", "b"], "hours": 12.5}));
    assert_eq!(staff[1]["tags"], json!(["b"]));
    assert_eq!(staff[1].get("team.lead"), None, "an unticked checkbox is left out, as Airtable does");

    let ndjson = ada.upload(&app, "events.ndjson", b"{\"id\": 1, \"at\": \"2024-03-25T10:00:00Z\"}\n{\"id\": 2, \"at\": \"2024-03-26T11:30:00Z\"}\n".to_vec()).await;
    done(&ada.import(&app, &ada.request(&ndjson, "Events")).await, 2);
    let events = ada.records(&app, "Events").await;
    assert_eq!(events[1]["id"], json!(2));
    assert_eq!(events[1]["at"], json!("2024-03-26T11:30:00.000Z"));
}

const CONTACTS: &str = "Email,Name,Team,Hours,Internal note\n\
ada@example.com,Ada,Ops,12,skip me\n\
bob@example.com,Bob,Sales,lots,skip me\n\
cy@example.com,Cy,Ops,3,skip me\n";

async fn a_mapping_skips_makes_fields_and_a_key_column_updates_instead_of_duplicating(dialect: Dialect) {
    let app = spawn(dialect).await;
    let ada = Importer::new(&app, "ada@example.com").await;
    let file = ada.upload(&app, "contacts.csv", CONTACTS.as_bytes().to_vec()).await;
    let to = |column: &str, field: Option<&str>| ColumnMapping { column: column.into(), field: field.map(Into::into), column_type: None };
    let select = ColumnType { choices: vec!["Ops".into(), "Sales".into()], ..ColumnType::of(backend::model::airtable::FieldType::SingleSelect) };
    let mapping = vec![
        to("Email", Some("Email")),
        to("Name", Some("Full name")),
        ColumnMapping { column: "Team".into(), field: Some("Squad".into()), column_type: Some(select) },
        ColumnMapping { column: "Hours".into(), field: Some("Hours".into()), column_type: Some(ColumnType::of(backend::model::airtable::FieldType::Number)) },
        to("Internal note", None),
    ];
    let request = ImportRequest { mapping: Some(mapping), key_field: Some("Email".into()), ..ada.request(&file, "Contacts") };
    let first = ada.import(&app, &request).await;
    assert_eq!((first.status, first.done, first.rejected, first.written()), (ImportStatus::Done, 3, 1, 2), "{first:?}");
    let contacts = ada.records(&app, "Contacts").await;
    assert_eq!(contacts, [json!({"Email": "ada@example.com", "Full name": "Ada", "Squad": "Ops", "Hours": 12}), json!({"Email": "cy@example.com", "Full name": "Cy", "Squad": "Ops", "Hours": 3})]);
    let schema = app.services.tools.call(&ada.context, Scope::Read, "describe_table", json!({"base_id": ada.base, "table": "Contacts"})).await.unwrap();
    let squad = schema["fields"].as_array().unwrap().iter().find(|f| f["name"] == "Squad").unwrap().clone();
    assert_eq!(squad["type"], "singleSelect", "{schema}");
    assert!(schema["fields"].as_array().unwrap().iter().all(|f| f["name"] != "Internal note"), "a skipped column makes no field");

    // The set-aside row downloads with its values and the reason.
    let rejected = app.client.get(app.url(&format!("/api/files/imports/{}/rejected.csv", first.id))).bearer_auth(&ada.token).send().await.unwrap();
    assert_eq!(rejected.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = rejected.text().await.unwrap();
    assert_eq!(csv.lines().next(), Some("Email,Name,Team,Hours,Internal note,reason"));
    assert!(csv.contains("bob@example.com,Bob,Sales,lots,skip me,Column “Hours”: “lots” is not a number."), "{csv}");
    assert_eq!(csv.lines().count(), 2, "{csv}");

    // The same file again, with the key column: the same records, updated, none added.
    let again = ada.import(&app, &request).await;
    assert_eq!((again.status, again.written()), (ImportStatus::Done, 2));
    assert_eq!(ada.records(&app, "Contacts").await.len(), 2, "importing twice with a key column doesn't duplicate");
    let changed = CONTACTS.replace("Ada,Ops,12", "Ada Lovelace,Ops,14");
    let newer = ada.upload(&app, "contacts.csv", changed.into_bytes()).await;
    ada.import(&app, &ImportRequest { file_id: newer.id.clone(), ..request.clone() }).await;
    let contacts = ada.records(&app, "Contacts").await;
    assert_eq!((contacts.len(), contacts[0]["Full name"].clone(), contacts[0]["Hours"].clone()), (2, json!("Ada Lovelace"), json!(14)));

    // Another user sees none of it.
    let bob = Importer::new(&app, "bob@example.com").await;
    let other = app.client.post(app.url("/api/files/import-status")).bearer_auth(&bob.token).json(&json!({"id": first.id})).send().await.unwrap();
    assert_eq!(other.status(), reqwest::StatusCode::NOT_FOUND);
    let csv = app.client.get(app.url(&format!("/api/files/imports/{}/rejected.csv", first.id))).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(csv.status(), reqwest::StatusCode::NOT_FOUND);
    let theirs = bob.start_raw(&app, &ada.request(&file, "Stolen")).await;
    assert_eq!(theirs.status(), reqwest::StatusCode::NOT_FOUND, "nobody imports another user's file");
}

impl Importer {
    async fn start_raw(&self, app: &TestApp, request: &ImportRequest) -> reqwest::Response {
        app.client.post(app.url("/api/files/import")).bearer_auth(&self.token).json(&json!({ "request": request })).send().await.unwrap()
    }
}

async fn a_row_airtable_refuses_is_set_aside_and_the_rest_carry_on(dialect: Dialect) {
    let app = spawn(dialect).await;
    let ada = Importer::new(&app, "ada@example.com").await;
    let call = |name: &str, arguments: Value| {
        let (tools, context) = (app.services.tools.clone(), ada.context.clone());
        let name = name.to_owned();
        async move { tools.call(&context, Scope::Write, &name, arguments).await.unwrap() }
    };
    let projects = call("create_table", json!({"base_id": ada.base, "name": "Projects", "fields": [{"name": "Name", "type": "singleLineText"}]})).await;
    call(
        "create_table",
        json!({"base_id": ada.base, "name": "Work", "fields": [
            {"name": "Name", "type": "singleLineText"},
            {"name": "Project", "type": "multipleRecordLinks", "options": {"linkedTableId": projects["table"]["id"]}}
        ]}),
    )
    .await;
    // Twelve rows, the fourth naming a project by a name the link field can't take.
    let mut csv = "Name,Project\n".to_owned();
    for i in 0..12 {
        csv.push_str(&format!("Task {i},{}\n", if i == 3 { "Launch" } else { "" }));
    }
    let file = ada.upload(&app, "work.csv", csv.into_bytes()).await;
    let progress = ada.import(&app, &ada.request(&file, "Work")).await;
    assert_eq!((progress.status, progress.done, progress.rejected, progress.written()), (ImportStatus::Done, 12, 1, 11), "{progress:?}");
    let names: Vec<Value> = ada.records(&app, "Work").await.iter().map(|r| r["Name"].clone()).collect();
    assert_eq!(names.len(), 11);
    assert!(!names.contains(&json!("Task 3")));
    let rejected = app.services.files.rejected_csv(&ada.user.id, &progress.id).await.unwrap();
    assert!(rejected.contains("Task 3,Launch,\"Airtable refused it: ") && rejected.contains("is not a record ID"), "{rejected}");
}

async fn stopping_keeps_what_was_imported_and_cancelling_undoes_it(dialect: Dialect) {
    // Airtable's own pace (five requests a second), so the imports are still running when stopped.
    let app = spawn_app_with(dialect, |s| s.sandbox_requests_per_second = Some("5".into())).await;
    let ada = Importer::new(&app, "ada@example.com").await;
    let csv: String = std::iter::once("Name\n".to_owned()).chain((0..400).map(|i| format!("Row {i}\n"))).collect();
    let file = ada.upload(&app, "rows.csv", csv.into_bytes()).await;

    let kept = ada.start(&app, &ada.request(&file, "Kept")).await;
    ada.writing(&app, &kept.id).await;
    let stopping: ImportProgress = serde_json::from_value(app.post_as(&ada.token, "/api/files/cancel", json!({"id": kept.id, "keep": true})).await).unwrap();
    assert!(matches!(stopping.status, ImportStatus::Stopping | ImportStatus::Stopped), "{stopping:?}");
    let kept = ada.finished(&app, &kept.id).await;
    assert_eq!(kept.status, ImportStatus::Stopped, "{kept:?}");
    let rows = ada.records(&app, "Kept").await.len() as u64;
    assert!(rows > 0 && rows < 400, "{rows} rows kept");
    assert_eq!(rows, kept.written(), "the progress counts what is in the table");

    let undone = ada.start(&app, &ada.request(&file, "Undone")).await;
    ada.writing(&app, &undone.id).await;
    app.post_as(&ada.token, "/api/files/cancel", json!({"id": undone.id, "keep": false})).await;
    let undone = ada.finished(&app, &undone.id).await;
    assert_eq!(undone.status, ImportStatus::Undone, "{undone:?}");
    assert!(ada.records(&app, "Undone").await.is_empty(), "cancelling removes what the import wrote");
    let late = app.client.post(app.url("/api/files/cancel")).bearer_auth(&ada.token).json(&json!({"id": undone.id, "keep": true})).send().await.unwrap();
    assert_eq!(late.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY, "a finished import can't be cancelled");
}

async fn the_assistants_import_file_tool_starts_an_import_and_list_files_finds_the_file(dialect: Dialect) {
    let app = spawn(dialect).await;
    let ada = Importer::new(&app, "ada@example.com").await;
    let file = ada.upload(&app, "people.csv", b"Name,Hours\nAda,12\nBob,7\n".to_vec()).await;
    let listed = app.services.tools.call(&ada.context, Scope::Read, "list_files", json!({})).await.unwrap();
    assert_eq!(listed["files"][0]["file_id"], json!(file.id));
    assert_eq!(listed["files"][0]["columns"][1], json!({"name": "Hours", "type": "number"}));
    let started = app
        .services
        .tools
        .call(&ada.context, Scope::Write, "import_file", json!({"file_id": file.id, "base_id": ada.base, "table": "People", "mapping": {"Name": "Name", "Hours": null}}))
        .await
        .unwrap();
    let id = started["import_id"].as_str().unwrap().to_owned();
    assert_eq!(started["rows"], json!(2));
    let finished = ada.finished(&app, &id).await;
    assert_eq!(finished.written(), 2);
    assert_eq!(ada.records(&app, "People").await, [json!({"Name": "Ada"}), json!({"Name": "Bob"})]);
    let refused = app.services.tools.call(&ada.context, Scope::Read, "import_file", json!({"file_id": file.id, "base_id": ada.base, "table": "People"})).await;
    assert!(refused.is_err(), "a read-only caller can't import");
    // The whole import is one change, undone at once.
    let undo = app.services.tools.call(&ada.context, Scope::Write, "undo_change", json!({"change_id": started["change_id"]})).await.unwrap();
    assert_eq!(undo["outcome"], "undone", "{undo}");
    assert!(ada.records(&app, "People").await.is_empty());
}

on_both_databases!(dialect:
    each_kind_of_file_lands_with_every_value_as_its_field_stores_it,
    a_mapping_skips_makes_fields_and_a_key_column_updates_instead_of_duplicating,
    a_row_airtable_refuses_is_set_aside_and_the_rest_carry_on,
    the_assistants_import_file_tool_starts_an_import_and_list_files_finds_the_file,
    stopping_keeps_what_was_imported_and_cancelling_undoes_it,
);
