//! Uploads over HTTP: files the tests write themselves in each encoding and format are read
//! with their columns, types and values; a file over the limit or lying about its kind is
//! refused and leaves nothing behind; and files belong to whoever uploaded them.

use std::io::{Cursor, Read, Write};

use backend::auth::User;
use backend::db::Dialect;
use backend::model::airtable::FieldType;
use backend::model::files::{DateOrder, FileKind, FileSummary};
use reqwest::StatusCode;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::Value;

use crate::helpers::{TestApp, on_both_databases, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

struct Uploader {
    user: User,
    token: String,
}

impl Uploader {
    async fn new(app: &TestApp, email: &str) -> Self {
        let user = app.services.auth.users.create(email, PASSWORD, false).await.unwrap();
        let token = app.access_token(email, PASSWORD).await;
        Self { user, token }
    }

    async fn upload(&self, app: &TestApp, name: &str, bytes: Vec<u8>) -> reqwest::Response {
        app.upload(&self.token, name, bytes).await
    }

    async fn uploaded(&self, app: &TestApp, name: &str, bytes: Vec<u8>) -> FileSummary {
        let response = self.upload(app, name, bytes).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{name}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    /// The first rows as the file holds them, each value as text.
    async fn rows(&self, app: &TestApp, file: &FileSummary, sheet: Option<&str>) -> Vec<Vec<String>> {
        app.services.files.preview(&self.user.id, &file.id, sheet, 100).await.unwrap().rows
    }
}

fn column<'a>(file: &'a FileSummary, name: &str) -> &'a backend::model::files::Column {
    file.columns.iter().find(|c| c.name == name).unwrap_or_else(|| panic!("no column {name} in {:?}", file.columns))
}

pub(crate) fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut bytes = vec![0xFF, 0xFE];
    bytes.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    bytes
}

/// Windows-1252 for the Latin-1 range these tests use: one byte per character.
pub(crate) fn windows_1252(text: &str) -> Vec<u8> {
    text.chars().map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character")).collect()
}

async fn csv_in_each_encoding_is_read_with_its_columns_types_and_values(app: TestApp) {
    let ada = Uploader::new(&app, "ada@example.com").await;

    let bytes = [b"\xEF\xBB\xBF".as_slice(), b"Name,Hours,Start,Email\nAda,12.5,2024-03-25,ada@example.com\nBob,7,2024-04-01,bob@example.com\n"].concat();
    let size = bytes.len() as u64;
    let bom = ada.uploaded(&app, "people.csv", bytes).await;
    assert_eq!((bom.kind, bom.rows, bom.size), (FileKind::Csv, Some(2), size));
    assert_eq!(bom.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Name", "Hours", "Start", "Email"], "the mark is not part of the first name");
    assert_eq!((column(&bom, "Hours").inferred.field_type.clone(), column(&bom, "Hours").inferred.precision), (FieldType::Number, Some(1)));
    assert_eq!(column(&bom, "Start").inferred.date_order, Some(DateOrder::Iso));
    assert_eq!(column(&bom, "Email").inferred.field_type, FieldType::Email);
    assert_eq!(ada.rows(&app, &bom, None).await, [["Ada", "12.5", "2024-03-25", "ada@example.com"], ["Bob", "7", "2024-04-01", "bob@example.com"]]);

    let utf16 = ada.uploaded(&app, "team.tsv", utf16le_with_bom("Name\tTeam\nZoë\tOps\nŁukasz\tOps\nAda\tSales\nBob\tSales\n")).await;
    assert_eq!(utf16.rows, Some(4));
    assert_eq!(column(&utf16, "Team").inferred.choices, ["Ops", "Sales"]);
    assert_eq!(ada.rows(&app, &utf16, None).await[1], ["Łukasz", "Ops"]);

    let european = ada.uploaded(&app, "ventes.csv", windows_1252("Nom;Montant;Ville\nFrançoise;1.234,50;Besançon\nJosé;12,75;Málaga\nRenée;3;Besançon\nAndré;4,5;Málaga\n")).await;
    let amount = column(&european, "Montant");
    assert_eq!((amount.inferred.field_type.clone(), amount.inferred.precision, amount.misfits_for(&FieldType::Number)), (FieldType::Number, Some(2), 0));
    assert_eq!(column(&european, "Ville").inferred.choices, ["Besançon", "Málaga"]);
    assert_eq!(ada.rows(&app, &european, None).await[0], ["Françoise", "1.234,50", "Besançon"]);
}

/// An XLSX written here; with `epoch_1904`, its dates are stored as serials from 1904, as
/// workbooks from old Macs store them.
pub(crate) fn workbook(epoch_1904: bool) -> Vec<u8> {
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let people = book.add_worksheet();
    people.set_name("People").unwrap();
    people.write_string(0, 0, "Name").unwrap();
    people.write_string(0, 1, "Joined").unwrap();
    // A header merged across two columns names both.
    people.merge_range(0, 2, 0, 3, "Phone", &Format::new()).unwrap();
    let joined = [(2024, 3, 25), (2023, 12, 31)];
    for (i, (name, (y, m, d))) in ["Ada", "Bob"].iter().zip(joined).enumerate() {
        let row = u32::try_from(i).unwrap() + 1;
        people.write_string(row, 0, *name).unwrap();
        let serial = ExcelDateTime::from_ymd(y, m, d).unwrap().to_excel();
        // The 1904 system counts 1,462 days fewer to the same date.
        let serial = if epoch_1904 { serial - 1462.0 } else { serial };
        people.write_number_with_format(row, 1, serial, &date).unwrap();
        people.write_string(row, 2, "+44 20 7946 0958").unwrap();
        people.write_string(row, 3, "+44 20 7946 0959").unwrap();
    }
    let notes = book.add_worksheet();
    notes.set_name("Notes").unwrap();
    notes.write_string(0, 0, "Note").unwrap();
    notes.write_string(1, 0, "Second sheet").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    if epoch_1904 { with_1904_epoch(&bytes) } else { bytes }
}

/// The same workbook with `date1904` set, which rust_xlsxwriter does not write itself.
fn with_1904_epoch(xlsx: &[u8]) -> Vec<u8> {
    let mut source = zip::ZipArchive::new(Cursor::new(xlsx)).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..source.len() {
        let mut entry = source.by_index(i).unwrap();
        let name = entry.name().unwrap().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).unwrap();
        if name == "xl/workbook.xml" {
            let text = String::from_utf8(content).unwrap();
            assert!(text.contains("<workbookPr"), "the workbook has a workbookPr element to mark");
            content = text.replacen("<workbookPr", "<workbookPr date1904=\"1\"", 1).into_bytes();
        }
        out.start_file(name, zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&content).unwrap();
    }
    out.finish().unwrap().into_inner()
}

async fn workbooks_read_dates_in_both_systems_merged_headers_and_other_sheets(app: TestApp) {
    let ada = Uploader::new(&app, "ada@example.com").await;
    for epoch_1904 in [false, true] {
        let book = ada.uploaded(&app, "people.xlsx", workbook(epoch_1904)).await;
        assert_eq!((book.kind, book.rows), (FileKind::Xlsx, Some(2)));
        assert_eq!(book.sheets, ["People", "Notes"]);
        assert_eq!(book.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["Name", "Joined", "Phone", "Phone 2"]);
        assert_eq!(column(&book, "Joined").inferred.field_type, FieldType::Date);
        assert_eq!(column(&book, "Phone 2").inferred.field_type, FieldType::PhoneNumber);
        let rows = ada.rows(&app, &book, None).await;
        assert_eq!((rows[0][1].as_str(), rows[1][1].as_str()), ("2024-03-25", "2023-12-31"), "dates with the 1904 system: {epoch_1904}");
        let notes = app.services.files.preview(&ada.user.id, &book.id, Some("Notes"), 10).await.unwrap();
        assert_eq!((notes.columns[0].name.as_str(), notes.rows.clone()), ("Note", vec![vec!["Second sheet".to_owned()]]));
    }
}

async fn nested_json_and_ndjson_become_columns(app: TestApp) {
    let ada = Uploader::new(&app, "ada@example.com").await;
    let json = br#"[
        {"name": "Ada", "team": {"name": "Ops", "lead": true}, "tags": ["a", "b"], "hours": 12.5},
        {"name": "Bob", "team": {"name": "Sales", "lead": false}, "tags": ["b"], "hours": 7}
    ]"#;
    let file = ada.uploaded(&app, "people.json", json.to_vec()).await;
    assert_eq!((file.kind, file.rows), (FileKind::Json, Some(2)));
    assert_eq!(file.columns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["name", "team.name", "team.lead", "tags", "hours"]);
    assert_eq!(column(&file, "team.lead").inferred.field_type, FieldType::Checkbox);
    assert_eq!(column(&file, "hours").inferred.precision, Some(1));
    assert_eq!(ada.rows(&app, &file, None).await[0], ["Ada", "Ops", "true", "a, b", "12.5"]);

    let ndjson = ada.uploaded(&app, "events.ndjson", b"{\"id\": 1, \"at\": \"2024-03-25T10:00:00Z\"}\n{\"id\": 2, \"at\": \"2024-03-26T11:30:00Z\"}\n".to_vec()).await;
    assert_eq!((ndjson.kind, ndjson.rows), (FileKind::Ndjson, Some(2)));
    assert_eq!(column(&ndjson, "at").inferred.field_type, FieldType::DateTime);

    let broken = ada.upload(&app, "broken.json", b"[{\"a\": 1}, {\"a\": ".to_vec()).await;
    assert_eq!(broken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(broken.text().await.unwrap().contains("can't be read"));
}

fn stored_files(app: &TestApp) -> usize {
    std::fs::read_dir(app.db.dir().join("files")).map_or(0, |entries| entries.count())
}

async fn a_file_over_the_limit_or_lying_about_its_kind_is_refused_and_leaves_nothing(app: TestApp) {
    let ada = Uploader::new(&app, "ada@example.com").await;
    let too_big = ada.upload(&app, "big.csv", "Name\n".repeat(300_000).into_bytes()).await;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = too_big.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("upload limit of 1 MB"), "{body}");

    let lying = ada.upload(&app, "report.xlsx", b"Name,Hours\nAda,12\n".to_vec()).await;
    assert_eq!(lying.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = lying.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("named as an Excel workbook"), "{body}");

    let binary = ada.upload(&app, "photo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10".to_vec()).await;
    assert_eq!(binary.status(), StatusCode::UNPROCESSABLE_ENTITY);

    assert_eq!(stored_files(&app), 0, "refused uploads leave nothing on disk");
    assert!(app.services.files.list(&ada.user.id).await.unwrap().is_empty());

    let no_file = app
        .client
        .post(app.url("/api/files/upload"))
        .bearer_auth(&ada.token)
        .multipart(reqwest::multipart::Form::new().text("note", "hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_file.status(), StatusCode::BAD_REQUEST);
    let anonymous = app.client.post(app.url("/api/files/upload")).multipart(reqwest::multipart::Form::new()).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let read_key = app.post_as(&ada.token, "/api/keys/create", serde_json::json!({"name": "reader", "scope": "read"})).await;
    let reader = Uploader { user: ada.user.clone(), token: read_key["key"].as_str().unwrap().to_owned() };
    assert_eq!(reader.upload(&app, "people.csv", b"Name\nAda\n".to_vec()).await.status(), StatusCode::FORBIDDEN, "a read-only key can't upload");
    assert_eq!(stored_files(&app), 0);
}

async fn files_belong_to_their_uploader_and_deleting_removes_the_bytes(app: TestApp) {
    let ada = Uploader::new(&app, "ada@example.com").await;
    let bob = Uploader::new(&app, "bob@example.com").await;
    let file = ada.uploaded(&app, "notes.md", b"# Launch\n\n- Book the room\n- Call Ada\n".to_vec()).await;
    assert_eq!((file.kind, file.rows), (FileKind::Text, None));
    assert_eq!(stored_files(&app), 1);

    let files = &app.services.files;
    assert_eq!(files.list(&ada.user.id).await.unwrap().len(), 1);
    assert!(files.list(&bob.user.id).await.unwrap().is_empty());
    assert!(matches!(files.get(&bob.user.id, &file.id).await, Err(backend::files::FileError::NotFound)));
    assert!(matches!(files.delete(&bob.user.id, &file.id).await, Err(backend::files::FileError::NotFound)));
    assert_eq!(stored_files(&app), 1, "another user's delete does nothing");

    files.delete(&ada.user.id, &file.id).await.unwrap();
    assert_eq!(stored_files(&app), 0);
    assert!(files.list(&ada.user.id).await.unwrap().is_empty());
}

async fn spawn_with_a_small_limit(dialect: Dialect) -> TestApp {
    spawn_app_with(dialect, |s| s.upload_max_mb = Some("1".into())).await
}

on_both_databases!(
    csv_in_each_encoding_is_read_with_its_columns_types_and_values,
    workbooks_read_dates_in_both_systems_merged_headers_and_other_sheets,
    nested_json_and_ndjson_become_columns,
    files_belong_to_their_uploader_and_deleting_removes_the_bytes,
);

#[tokio::test]
async fn a_file_over_the_limit_or_lying_about_its_kind_is_refused_on_sqlite() {
    a_file_over_the_limit_or_lying_about_its_kind_is_refused_and_leaves_nothing(spawn_with_a_small_limit(Dialect::Sqlite).await).await;
}

#[tokio::test]
async fn a_file_over_the_limit_or_lying_about_its_kind_is_refused_on_postgres() {
    a_file_over_the_limit_or_lying_about_its_kind_is_refused_and_leaves_nothing(spawn_with_a_small_limit(Dialect::Postgres).await).await;
}
