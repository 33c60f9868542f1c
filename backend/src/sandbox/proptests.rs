//! Property tests: whatever text an API caller sends (formulas, cell values, time zones,
//! locales), the sandbox answers without panicking.
//!
//! Each property runs `PROPTEST_CASES` cases, [`DEFAULT_CASES`] when unset, which keeps
//! `cargo test` quick. For over a million inputs over the six properties:
//! `PROPTEST_CASES=200000 cargo test --release -p backend --features server proptest_`
//! (about 18 s on two cores before the write-body property was added; not measured since).

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Map, Value, json};

use super::cells;
use super::harness::{evaluate_formula as evaluate, sample_table as table, write_body};
use super::listing::{Output, render};
use super::store::StoredRecord;
use crate::airtable::{CellFormat, ListQuery};
use crate::model::airtable::Field;

/// Cases per property when `PROPTEST_CASES` is unset.
const DEFAULT_CASES: u32 = 2_000;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_CASES);
    Config { cases, failure_persistence: None, ..Config::default() }
}

/// Any text, weighted towards what breaks parsers: control characters, multi-byte characters
/// next to ASCII digits and signs, and very short strings.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(?s).{0,40}",
        "[0-9+\\-:.,/ TZtz%$€é😀\u{0}\u{301}]{0,24}",
        "(UTC|GMT|utc|Etc/)?[+\\-]?[0-9é:😀]{0,6}",
        "[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9é]{0,4})?)?)?[Zz+\\-é0-9:]{0,6}",
    ]
}

/// A formula built from Airtable's grammar, with arbitrary literals and function names
/// (mostly real ones), so evaluation is reached, not just the parser's error paths.
fn formula() -> impl Strategy<Value = String> {
    const FUNCTIONS: &[&str] = &[
        "AND", "OR", "NOT", "XOR", "IF", "SWITCH", "ISERROR", "ERROR", "BLANK", "TRUE", "FALSE", "RECORD_ID", "CREATED_TIME",
        "FIND", "SEARCH", "LOWER", "UPPER", "LEN", "TRIM", "LEFT", "RIGHT", "MID", "SUBSTITUTE", "CONCATENATE", "REPLACE",
        "REPT", "T", "ENCODE_URL_COMPONENT", "ARRAYJOIN", "ARRAYCOMPACT", "ARRAYUNIQUE", "ARRAYFLATTEN", "REGEX_MATCH",
        "REGEX_EXTRACT", "REGEX_REPLACE", "VALUE", "ROUND", "ROUNDUP", "ROUNDDOWN", "ABS", "MIN", "MAX", "SUM", "AVERAGE",
        "COUNT", "COUNTA", "COUNTALL", "INT", "CEILING", "FLOOR", "MOD", "POWER", "SQRT", "EXP", "LOG", "EVEN", "ODD",
        "TODAY", "NOW", "IS_BEFORE", "IS_AFTER", "IS_SAME", "DATEADD", "DATETIME_DIFF", "DATETIME_FORMAT", "DATETIME_PARSE",
        "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "WEEKDAY", "DATESTR", "TIMESTR", "LAST_MODIFIED_TIME",
        "NOPE",
    ];
    const OPS: &[&str] = &["+", "-", "*", "/", "&", "=", "!=", "<>", "<", ">", "<=", ">="];
    let leaf = prop_oneof![
        any::<f64>().prop_map(|n| if n.is_finite() { n.abs().to_string() } else { "0".into() }),
        (-5i64..5_000).prop_map(|n| n.to_string()),
        text().prop_map(|t| format!("'{}'", t.replace('\\', "\\\\").replace('\'', "\\'"))),
        prop::sample::select(vec!["{Name}", "{N}", "{Tags}", "{Due}", "{Missing}", "{Pattern}", "Name", "TRUE()"]).prop_map(str::to_owned),
        prop::sample::select(vec!["'YYYY-MM-DD [é] LLLL Do'", "'days'", "'months'", "'%Y'", "'(a+)+$'", "'\\\\d'"]).prop_map(str::to_owned),
    ];
    leaf.prop_recursive(4, 48, 4, move |inner| {
        prop_oneof![
            (prop::sample::select(FUNCTIONS), prop::collection::vec(inner.clone(), 0..4))
                .prop_map(|(name, args)| format!("{name}({})", args.join(", "))),
            (inner.clone(), prop::sample::select(OPS), inner.clone()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|e| format!("-({e})")),
        ]
    })
}

/// A JSON value as a client might send one for a cell.
fn cell_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        text().prop_map(Value::from),
        any::<f64>().prop_map(|n| serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)),
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        Just(Value::Null),
        prop::collection::vec(text(), 0..4).prop_map(|items| json!(items)),
        (text(), text()).prop_map(|(id, name)| json!([{ "id": id, "name": name }])),
        text().prop_map(|name| json!({ "name": name })),
    ]
}

#[test]
fn proptest_formula_text_never_panics() {
    proptest!(config(), |(source in text())| { evaluate(&source); });
}

#[test]
fn proptest_structured_formulas_never_panic() {
    proptest!(config(), |(source in formula())| { evaluate(&source); });
}

#[test]
fn proptest_cell_writes_never_panic() {
    let table = table();
    proptest!(config(), |(index in 0..table.fields.len(), value in cell_value(), typecast in any::<bool>(), zone in text())| {
        let field: &Field = &table.fields[index];
        if let Ok(written) = cells::write(field, &value, typecast)
            && let cells::CellWrite::Set(stored) = written.write
        {
            let _ = cells::to_string(field, &stored, &zone);
            let _ = cells::compare(field, Some(&stored), Some(&value));
        }
        // Whatever is stored (older rows, other types), it renders.
        let _ = cells::to_string(field, &value, &zone);
    });
}

#[test]
fn proptest_write_bodies_never_panic() {
    let names: Vec<String> = table().fields.iter().map(|f| f.name.clone()).collect();
    proptest!(config(), |(cells in prop::collection::vec((0..names.len(), cell_value()), 0..6), typecast in any::<bool>())| {
        let fields: Map<String, Value> = cells.into_iter().map(|(i, value)| (names[i].clone(), value)).collect();
        let body = json!({ "records": [{ "fields": fields }], "typecast": typecast, "returnFieldsByFieldId": typecast });
        let _ = write_body(body.to_string().as_bytes());
    });
}

#[test]
fn proptest_string_cell_format_never_panics() {
    let table = table();
    let record = StoredRecord {
        id: "recAAAAAAAAAAAAA1".into(),
        created_ms: 1_709_287_200_000,
        modified_ms: 1_710_059_400_000,
        auto_number: 1,
        cells: serde_json::from_value(json!({
            "fldAAAAAAAAAAAAA1": "Ada", "fldAAAAAAAAAAAAA4": 12.5, "fldAAAAAAAAAAAAA5": -3, "fldAAAAAAAAAAAAA6": 0.15,
            "fldAAAAAAAAAAAAA8": 3723.5, "fldAAAAAAAAAAAAA9": true, "fldAAAAAAAAAAAAB2": ["é"], "fldAAAAAAAAAAAAB3": "2024-03-14",
            "fldAAAAAAAAAAAAB4": "2024-03-14T23:30:00.000Z", "fldAAAAAAAAAAAAB7": { "text": "x" },
        }))
        .unwrap_or_default(),
    };
    proptest!(config(), |(zone in text(), locale in text())| {
        let query = ListQuery { cell_format: Some(CellFormat::String), time_zone: Some(zone), user_locale: Some(locale), ..ListQuery::default() };
        if let Ok(output) = Output::from_query(&table, &query) {
            let _ = render(&table, &record, &output);
        }
    });
}

#[test]
fn proptest_time_zones_never_panic() {
    proptest!(config(), |(zone in text())| {
        if let Some(minutes) = cells::parse_time_zone(&zone) {
            prop_assert!(minutes.abs() <= 14 * 60);
        }
    });
}

/// The inputs that the finding named, kept as plain regression tests.
#[test]
fn a_non_ascii_offset_is_no_time_zone_and_no_date() {
    for text in ["+1é1", "-é", "+😀", "UTC+1é1", "+01é"] {
        assert_eq!(cells::parse_time_zone(text), None, "{text}");
    }
    let table = table();
    let at = table.field("At").unwrap_or_else(|| panic!("the At field"));
    for text in ["2024-03-14T10:00+1é1", "2024-03-14T10:00:00.é", "2024-03-1é", "é024-03-14T10:00:00Z"] {
        assert!(cells::write(at, &json!(text), false).is_err(), "{text}");
        assert!(cells::write(at, &json!(text), true).is_err(), "{text}");
    }
}
