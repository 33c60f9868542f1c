//! Entry points for the property tests (`proptests.rs`) and the cargo-fuzz targets (`fuzz/`):
//! each runs what the API runs on text a caller sends, against a fixed table and record,
//! without a database, so that any input can be thrown at it and only a panic is a failure.

use serde_json::{Map, Value, json};

use super::cells;
use super::formula::{Budget, Formula, Row};
use super::listing::{Output, render};
use super::store::StoredRecord;
use super::{SandboxError, SandboxSettings, WriteRequest};
use crate::model::airtable::{Record, Table};

/// 2024-03-15T12:00:00Z, the clock formulas see.
pub const NOW_MS: i64 = 1_710_504_000_000;
/// 2024-03-01T10:00:00Z, when the sample record was created.
pub const CREATED_MS: i64 = 1_709_287_200_000;
/// 2024-03-10T08:30:00Z, when the sample record was last modified.
pub const MODIFIED_MS: i64 = 1_710_059_400_000;
pub const RECORD_ID: &str = "recAAAAAAAAAAAAAA";

/// A record's cells as a formula sees them, keyed by name: text beyond ASCII, a number, a
/// list, a date and a regular expression.
pub fn sample_fields() -> Map<String, Value> {
    let value = json!({
        "Name": "Ada é 😀", "N": 42.5, "Tags": ["a", "b", 3], "Due": "2024-03-14T10:00:00.000Z", "Pattern": "^a.+",
    });
    value.as_object().cloned().unwrap_or_default()
}

/// Parses `source` as a `filterByFormula` and, when it parses, evaluates it against
/// [`sample_fields`], both alone and within one listing's [`Budget`].
pub fn evaluate_formula(source: &str) {
    let Ok(parsed) = Formula::parse(source) else { return };
    let fields = sample_fields();
    let row = Row { id: RECORD_ID, created_ms: CREATED_MS, modified_ms: MODIFIED_MS, fields: &fields, now_ms: NOW_MS };
    let _ = parsed.field_names();
    let _ = parsed.eval(&row);
    let _ = parsed.matches_within(&row, &Budget::per_listing());
}

/// One field of every type the sandbox models, with options, and one it does not (`barcode`).
pub fn sample_table() -> Table {
    let fields = json!([
        { "id": "fldAAAAAAAAAAAAA1", "name": "Text", "type": "singleLineText" },
        { "id": "fldAAAAAAAAAAAAA2", "name": "Notes", "type": "multilineText" },
        { "id": "fldAAAAAAAAAAAAA3", "name": "Email", "type": "email" },
        { "id": "fldAAAAAAAAAAAAA4", "name": "Number", "type": "number", "options": { "precision": 2 } },
        { "id": "fldAAAAAAAAAAAAA5", "name": "Price", "type": "currency", "options": { "precision": 2, "symbol": "€" } },
        { "id": "fldAAAAAAAAAAAAA6", "name": "Share", "type": "percent", "options": { "precision": 1 } },
        { "id": "fldAAAAAAAAAAAAA7", "name": "Stars", "type": "rating", "options": { "max": 5 } },
        { "id": "fldAAAAAAAAAAAAA8", "name": "Time", "type": "duration", "options": { "durationFormat": "h:mm:ss.SS" } },
        { "id": "fldAAAAAAAAAAAAA9", "name": "Done", "type": "checkbox" },
        { "id": "fldAAAAAAAAAAAAB1", "name": "Status", "type": "singleSelect", "options": { "choices": [{ "id": "selAAAAAAAAAAAAA1", "name": "Open" }] } },
        { "id": "fldAAAAAAAAAAAAB2", "name": "Tags", "type": "multipleSelects", "options": { "choices": [{ "id": "selAAAAAAAAAAAAA2", "name": "é" }] } },
        { "id": "fldAAAAAAAAAAAAB3", "name": "Due", "type": "date", "options": { "dateFormat": { "name": "friendly" } } },
        { "id": "fldAAAAAAAAAAAAB4", "name": "At", "type": "dateTime", "options": { "dateFormat": { "name": "iso" }, "timeFormat": { "name": "24hour" } } },
        { "id": "fldAAAAAAAAAAAAB5", "name": "Links", "type": "multipleRecordLinks", "options": { "linkedTableId": "tblAAAAAAAAAAAAA2" } },
        { "id": "fldAAAAAAAAAAAAB6", "name": "Created", "type": "createdTime", "options": { "result": { "type": "date" } } },
        { "id": "fldAAAAAAAAAAAAB7", "name": "Other", "type": "barcode" },
        { "id": "fldAAAAAAAAAAAAB8", "name": "Site", "type": "url" },
        { "id": "fldAAAAAAAAAAAAB9", "name": "Phone", "type": "phoneNumber" },
        { "id": "fldAAAAAAAAAAAAC1", "name": "Rich", "type": "richText" },
        { "id": "fldAAAAAAAAAAAAC2", "name": "Row", "type": "autoNumber" },
        { "id": "fldAAAAAAAAAAAAC3", "name": "Modified", "type": "lastModifiedTime", "options": { "result": { "type": "dateTime" } } },
    ]);
    let table = json!({ "id": "tblAAAAAAAAAAAAA1", "name": "Items", "primaryFieldId": "fldAAAAAAAAAAAAA1", "fields": fields });
    serde_json::from_value(table).unwrap_or_else(|e| panic!("the sample table is valid: {e}"))
}

/// Reads `body` as the body of a create or update (`POST`/`PATCH /v0/{base}/{table}`),
/// validates its records against [`sample_table`] with the default limits, and answers them
/// as the API would, keyed as asked and as `cellFormat=string` text. Each stored cell is also
/// compared, as a sort compares, with the value that was sent.
///
/// # Errors
/// The 422 the API would answer for this body.
pub fn write_body(body: &[u8]) -> Result<Vec<Record>, SandboxError> {
    let table = sample_table();
    let (request, _) = WriteRequest::from_body(body, false, Some(RECORD_ID.to_owned()))?;
    let written = request.validate(&table, SandboxSettings::default().records_per_write)?;
    let as_asked = Output { by_field_id: request.return_fields_by_field_id, ..Output::default() };
    let as_text = Output { as_text: Some("+02:00".into()), ..Output::default() };
    let mut answered = Vec::with_capacity(written.len());
    for ((_, sent), cells) in request.records.iter().zip(written) {
        for field in &table.fields {
            let sent = sent.get(field.id.as_str()).or_else(|| sent.get(&field.name));
            let _ = cells::compare(field, cells.get(field.id.as_str()), sent);
        }
        let record = StoredRecord { id: RECORD_ID.into(), created_ms: CREATED_MS, modified_ms: MODIFIED_MS, auto_number: 1, cells };
        let _ = render(&table, &record, &as_text);
        answered.push(render(&table, &record, &as_asked));
    }
    Ok(answered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_body_is_answered_with_its_records() {
        let body = br#"{"records": [{"fields": {"Text": "Ada", "Number": 1.5, "Status": "Open"}}, {"fields": {"Done": true}}]}"#;
        let records = write_body(body).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].fields.get("Text"), Some(&json!("Ada")));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_refused() {
        for body in [&b"[]"[..], b"", b"null", b"{\"records\": 1}"] {
            assert_eq!(write_body(body).map(|r| r.len()).unwrap_err().status, 422);
        }
    }

    #[test]
    fn too_many_records_are_refused_before_any_cell_is_read() {
        let body = format!(r#"{{"records": [{}]}}"#, vec![r#"{"fields": {"Nope": 1}}"#; 11].join(","));
        let err = write_body(body.as_bytes()).map(|r| r.len()).unwrap_err();
        assert!(err.message.contains("at most 10 records"), "{err}");
    }
}
