//! Values during evaluation, and Airtable's loose conversions and comparisons between them.

use std::cmp::Ordering;

use chrono::{DateTime, Utc};
use serde_json::Value as Json;

use super::dates;

/// Longest text a formula may build, in bytes. `REPT` and nested `SUBSTITUTE` could otherwise
/// grow a string exponentially; past this the result is an error value instead.
pub(super) const MAX_TEXT_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    Blank,
    Number(f64),
    Text(String),
    Bool(bool),
    Date(DateTime<Utc>),
    Array(Vec<Value>),
    /// Airtable's `#ERROR!`: it spreads through most operations and is falsy.
    Error,
}

impl Value {
    /// A number, or an error value for NaN and infinities, which Airtable shows as errors.
    pub(super) fn number(n: f64) -> Value {
        if n.is_finite() {
            Value::Number(n)
        } else {
            Value::Error
        }
    }

    /// Text, or an error value when it is over [`MAX_TEXT_BYTES`].
    pub(super) fn text(text: String) -> Value {
        if text.len() > MAX_TEXT_BYTES {
            Value::Error
        } else {
            Value::Text(text)
        }
    }

    /// Reads a cell in Airtable's JSON form. Objects (collaborators, attachments, buttons) read
    /// as the text Airtable shows for them.
    pub(super) fn from_json(json: &Json) -> Value {
        match json {
            Json::Null => Value::Blank,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => n.as_f64().map_or(Value::Error, Value::number),
            Json::String(s) => Value::Text(s.clone()),
            Json::Array(items) => Value::Array(items.iter().map(Value::from_json).collect()),
            Json::Object(object) => ["name", "label", "text", "filename", "email", "url", "id"]
                .iter()
                .find_map(|key| object.get(*key).and_then(Json::as_str))
                .map_or_else(
                    || Value::Text(json.to_string()),
                    |s| Value::Text(s.to_owned()),
                ),
        }
    }

    pub(super) fn to_json(&self) -> Json {
        match self {
            Value::Blank | Value::Error => Json::Null,
            Value::Number(n) => number_json(*n),
            Value::Text(s) => Json::String(s.clone()),
            Value::Bool(b) => Json::Bool(*b),
            Value::Date(d) => Json::String(dates::iso(d)),
            Value::Array(items) => Json::Array(items.iter().map(Value::to_json).collect()),
        }
    }

    /// Roughly how many bytes the value holds, for the evaluation budget.
    pub(super) fn size(&self) -> usize {
        match self {
            Value::Text(s) => s.len(),
            Value::Array(items) => items.iter().map(|item| item.size().saturating_add(8)).fold(0, usize::saturating_add),
            _ => 0,
        }
    }

    pub(super) fn is_error(&self) -> bool {
        matches!(self, Value::Error)
    }

    pub(super) fn is_truthy(&self) -> bool {
        match self {
            Value::Blank | Value::Error => false,
            Value::Number(n) => *n != 0.0,
            Value::Text(s) => !s.is_empty(),
            Value::Bool(b) => *b,
            Value::Date(_) => true,
            Value::Array(items) => !items.is_empty(),
        }
    }

    /// Blank as Airtable's `BLANK()` sees it: an empty cell, empty text or an empty list.
    pub(super) fn is_blank(&self) -> bool {
        match self {
            Value::Blank => true,
            Value::Text(s) => s.is_empty(),
            Value::Array(items) => items.iter().all(Value::is_blank),
            _ => false,
        }
    }

    /// The value in text context: blank is empty, numbers lose a trailing `.0`, true is `1`,
    /// dates are ISO 8601 and arrays are joined with `, `.
    pub(super) fn to_text(&self) -> String {
        match self {
            Value::Blank => String::new(),
            Value::Number(n) => format_number(*n),
            Value::Text(s) => s.clone(),
            Value::Bool(b) => if *b { "1" } else { "0" }.into(),
            Value::Date(d) => dates::iso(d),
            Value::Array(items) => join(items, ", "),
            Value::Error => "#ERROR!".into(),
        }
    }

    /// The value in number context: blank is 0, true is 1, text must look like a number, and a
    /// one-item array is its item. `None` where Airtable would give `#ERROR!`.
    pub(super) fn to_number(&self) -> Option<f64> {
        match self {
            Value::Blank => Some(0.0),
            Value::Number(n) => Some(*n),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            Value::Text(s) if s.trim().is_empty() => Some(0.0),
            Value::Text(s) => parse_number(s),
            Value::Array(items) => match items.as_slice() {
                [] => Some(0.0),
                [only] => only.to_number(),
                _ => None,
            },
            Value::Date(_) | Value::Error => None,
        }
    }
}

/// Joins items' text with `separator`.
pub(super) fn join(items: &[Value], separator: &str) -> String {
    items
        .iter()
        .map(Value::to_text)
        .collect::<Vec<_>>()
        .join(separator)
}

/// Parses text that is a plain decimal number, allowing surrounding spaces. Rust's own parser
/// would also take "inf" and "NaN", which are not numbers to Airtable.
pub(super) fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let plausible = text.bytes().any(|b| b.is_ascii_digit())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    plausible
        .then(|| text.parse::<f64>().ok())
        .flatten()
        .filter(|n| n.is_finite())
}

/// Formats a number as Airtable does in text: no trailing `.0`, no `-0`.
pub(super) fn format_number(n: f64) -> String {
    if n == 0.0 { "0".into() } else { n.to_string() }
}

/// Whole numbers become JSON integers, so `3` is not sent as `3.0`.
fn number_json(n: f64) -> Json {
    const EXACT: f64 = 9_007_199_254_740_992.0; // 2^53: every integer below is exact.
    if n.fract() == 0.0 && n.abs() < EXACT {
        Json::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Json::Null, Json::Number)
    }
}

/// An array in a comparison behaves as its joined text, and an empty one as blank.
fn flatten_for_comparison(value: &Value) -> Value {
    match value {
        Value::Array(items) if items.is_empty() => Value::Blank,
        Value::Array(items) => Value::Text(join(items, ", ")),
        Value::Text(s) if s.is_empty() => Value::Blank,
        other => other.clone(),
    }
}

/// Airtable's `=`: blank equals `''`, 0 and false; text is case-sensitive; a number equals
/// text that reads as the same number.
pub(super) fn equal(a: &Value, b: &Value) -> bool {
    let (a, b) = (flatten_for_comparison(a), flatten_for_comparison(b));
    match (&a, &b) {
        (Value::Blank, Value::Blank) => true,
        (Value::Blank, other) | (other, Value::Blank) => match other {
            Value::Number(n) => *n == 0.0,
            Value::Bool(b) => !b,
            _ => false,
        },
        (Value::Text(x), Value::Text(y)) => x == y,
        (Value::Date(x), Value::Date(y)) => x == y,
        (Value::Date(d), Value::Text(t)) | (Value::Text(t), Value::Date(d)) => {
            dates::parse(t).is_some_and(|parsed| parsed == *d)
        }
        (Value::Date(_), _) | (_, Value::Date(_)) => false,
        (Value::Text(t), n @ (Value::Number(_) | Value::Bool(_)))
        | (n @ (Value::Number(_) | Value::Bool(_)), Value::Text(t)) => {
            parse_number(t).is_some_and(|t| Some(t) == n.to_number())
        }
        (x, y) => x.to_number().is_some() && x.to_number() == y.to_number(),
    }
}

/// Airtable's `<` and friends. Numbers compare as numbers (converting numeric text), dates as
/// instants, and other text by code point. `None` when the two cannot be ordered.
pub(super) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let (a, b) = (flatten_for_comparison(a), flatten_for_comparison(b));
    match (&a, &b) {
        (Value::Error, _) | (_, Value::Error) => None,
        (Value::Date(_), _) | (_, Value::Date(_)) => {
            dates::to_date(&a)?.partial_cmp(&dates::to_date(&b)?)
        }
        (Value::Number(_) | Value::Bool(_), _) | (_, Value::Number(_) | Value::Bool(_)) => {
            match (a.to_number(), b.to_number()) {
                (Some(x), Some(y)) => x.partial_cmp(&y),
                _ => Some(a.to_text().cmp(&b.to_text())),
            }
        }
        (Value::Text(x), Value::Text(y)) => match (dates::parse(x), dates::parse(y)) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => Some(x.cmp(y)),
        },
        _ => Some(a.to_text().cmp(&b.to_text())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn a_missing_field_equals_the_empty_string() {
        assert!(equal(&Value::Blank, &text("")));
    }

    #[test]
    fn blank_equals_zero_and_false_but_not_other_numbers() {
        assert!(equal(&Value::Blank, &Value::Number(0.0)));
        assert!(equal(&Value::Blank, &Value::Bool(false)));
        assert!(!equal(&Value::Blank, &Value::Number(1.0)));
    }

    #[test]
    fn blank_does_not_equal_non_empty_text() {
        assert!(!equal(&Value::Blank, &text("x")));
    }

    #[test]
    fn text_equality_is_case_sensitive() {
        assert!(!equal(&text("Done"), &text("done")));
    }

    #[test]
    fn a_number_equals_text_that_reads_as_the_same_number() {
        assert!(equal(&Value::Number(5.0), &text(" 5.0 ")));
        assert!(!equal(&Value::Number(5.0), &text("five")));
    }

    #[test]
    fn a_checkbox_equals_one_when_ticked() {
        assert!(equal(&Value::Bool(true), &Value::Number(1.0)));
    }

    #[test]
    fn an_array_compares_as_its_joined_text() {
        let tags = Value::Array(vec![text("a"), text("b")]);
        assert!(equal(&tags, &text("a, b")));
        assert!(!equal(&tags, &text("a")));
    }

    #[test]
    fn an_empty_array_equals_blank() {
        assert!(equal(&Value::Array(vec![]), &text("")));
    }

    #[test]
    fn a_date_equals_text_naming_the_same_instant() {
        let date = dates::parse("2024-03-01").unwrap();
        assert!(equal(&Value::Date(date), &text("2024-03-01T00:00:00.000Z")));
    }

    #[test]
    fn numbers_order_numerically_even_as_text() {
        assert_eq!(
            compare(&Value::Number(10.0), &text("9")),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn text_orders_by_code_point() {
        assert_eq!(
            compare(&text("apple"), &text("banana")),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn date_text_orders_by_instant() {
        assert_eq!(
            compare(
                &text("2024-03-01T10:00:00+02:00"),
                &text("2024-03-01T09:00:00Z")
            ),
            Some(Ordering::Less)
        );
    }

    #[test]
    fn a_blank_date_cannot_be_ordered_against_a_date() {
        let date = Value::Date(dates::parse("2024-03-01").unwrap());
        assert_eq!(compare(&Value::Blank, &date), None);
    }

    #[test]
    fn blank_orders_as_zero_against_numbers() {
        assert_eq!(
            compare(&Value::Blank, &Value::Number(-1.0)),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn numbers_in_text_drop_a_trailing_point_zero() {
        assert_eq!(Value::Number(3.0).to_text(), "3");
        assert_eq!(Value::Number(-0.0).to_text(), "0");
        assert_eq!(Value::Number(0.1 + 0.2).to_text(), "0.30000000000000004");
    }

    #[test]
    fn arrays_in_text_are_joined_with_a_comma_and_space() {
        let value = Value::from_json(&json!(["a", 2, null]));
        assert_eq!(value.to_text(), "a, 2, ");
    }

    #[test]
    fn numeric_text_converts_to_a_number_but_inf_and_nan_do_not() {
        assert_eq!(text("-1.5e2").to_number(), Some(-150.0));
        assert_eq!(text("inf").to_number(), None);
        assert_eq!(text("NaN").to_number(), None);
        assert_eq!(text("").to_number(), Some(0.0));
    }

    #[test]
    fn collaborators_and_attachments_read_as_their_names() {
        let value =
            Value::from_json(&json!([{"id": "usr1", "name": "Ada"}, {"filename": "a.pdf"}]));
        assert_eq!(value.to_text(), "Ada, a.pdf");
    }

    #[test]
    fn non_finite_results_become_errors() {
        assert_eq!(Value::number(f64::INFINITY), Value::Error);
    }

    #[test]
    fn oversized_text_becomes_an_error() {
        assert_eq!(Value::text("x".repeat(MAX_TEXT_BYTES + 1)), Value::Error);
    }

    #[test]
    fn whole_numbers_serialize_as_integers_and_fractions_as_floats() {
        assert_eq!(Value::Number(2.0).to_json().to_string(), "2");
        assert_eq!(Value::Number(2.5).to_json().to_string(), "2.5");
    }
}
