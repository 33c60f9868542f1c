//! Sort order of stored cell values, as Airtable sorts a field in ascending order.

use std::cmp::Ordering;
use std::iter::Peekable;
use std::str::Chars;

use serde_json::Value;

use super::{date, select};
use crate::model::airtable::{Field, FieldType};

/// Blanks first, then by the field type's own order: numbers by value, dates on one timeline,
/// single selects by the order of their choices, everything else by its text.
pub fn compare(field: &Field, a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a.filter(|v| !is_blank(v)), b.filter(|v| !is_blank(v))) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(a), Some(b)) => compare_present(field, a, b),
    }
}

/// What Airtable shows as an empty cell; a value like this may be stored by older data.
fn is_blank(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn compare_present(field: &Field, a: &Value, b: &Value) -> Ordering {
    let by_text = || natural(&as_text(field, a), &as_text(field, b));
    match &field.field_type {
        FieldType::Number
        | FieldType::Currency
        | FieldType::Percent
        | FieldType::Duration
        | FieldType::Rating
        | FieldType::AutoNumber => match (a.as_f64(), b.as_f64()) {
            (Some(x), Some(y)) => x.total_cmp(&y),
            _ => by_text(),
        },
        FieldType::Date
        | FieldType::DateTime
        | FieldType::CreatedTime
        | FieldType::LastModifiedTime => match (date::sort_key(a), date::sort_key(b)) {
            (Some(x), Some(y)) => x.cmp(&y),
            _ => by_text(),
        },
        // Airtable sorts a single select by where each choice sits in the field's list, so
        // "Todo, Doing, Done" stays in that order; names no longer in the list go last.
        FieldType::SingleSelect => {
            let place = |v: &Value| v.as_str().and_then(|name| select::position(field, name));
            match (place(a), place(b)) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => by_text(),
            }
        }
        _ => by_text(),
    }
}

/// The text a value sorts by; lists sort by their items joined, as Airtable shows them.
fn as_text(field: &Field, value: &Value) -> String {
    super::to_string(field, value, "UTC")
}

/// Compares text ignoring case, with runs of digits compared by value, so "Item 2" comes
/// before "Item 10".
fn natural(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.chars().peekable(), b.chars().peekable());
    loop {
        let step = match (a.peek(), b.peek()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                compare_numbers(&digit_run(&mut a), &digit_run(&mut b))
            }
            (Some(_), Some(_)) => {
                let (x, y) = (a.next().unwrap_or_default(), b.next().unwrap_or_default());
                x.to_lowercase().cmp(y.to_lowercase())
            }
        };
        if step != Ordering::Equal {
            return step;
        }
    }
}

fn digit_run(chars: &mut Peekable<Chars<'_>>) -> String {
    let mut run = String::new();
    while let Some(c) = chars.next_if(char::is_ascii_digit) {
        run.push(c);
    }
    run
}

/// Compares two digit runs by value without parsing, so runs of any length work.
fn compare_numbers(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::airtable::FieldId;

    fn field(field_type: FieldType) -> Field {
        Field {
            id: FieldId::parse("fldAAAAAAAAAAAAAA").unwrap(),
            name: "Name".into(),
            field_type,
            description: None,
            options: Some(
                json!({"choices": [{"name": "Todo"}, {"name": "Doing"}, {"name": "Done"}]}),
            ),
        }
    }

    fn sorted(field_type: FieldType, mut values: Vec<Option<Value>>) -> Vec<Option<Value>> {
        let f = field(field_type);
        values.sort_by(|a, b| compare(&f, a.as_ref(), b.as_ref()));
        values
    }

    #[test]
    fn blanks_sort_first() {
        let got = sorted(
            FieldType::Number,
            vec![Some(json!(1)), None, Some(json!(-5))],
        );
        assert_eq!(got, [None, Some(json!(-5)), Some(json!(1))]);
    }

    #[test]
    fn stored_empties_count_as_blanks() {
        let f = field(FieldType::SingleLineText);
        assert_eq!(compare(&f, Some(&json!("")), None), Ordering::Equal);
        assert_eq!(
            compare(&f, Some(&Value::Null), Some(&json!("a"))),
            Ordering::Less
        );
    }

    #[test]
    fn numbers_sort_by_value_not_text() {
        let got = sorted(FieldType::Currency, vec![Some(json!(10)), Some(json!(9.5))]);
        assert_eq!(got, [Some(json!(9.5)), Some(json!(10))]);
    }

    #[test]
    fn an_unticked_checkbox_sorts_before_a_ticked_one() {
        let f = field(FieldType::Checkbox);
        assert_eq!(
            compare(&f, Some(&json!(false)), Some(&json!(true))),
            Ordering::Less
        );
    }

    #[test]
    fn dates_sort_chronologically() {
        let got = sorted(
            FieldType::DateTime,
            vec![
                Some(json!("2024-03-14T10:00:00.000Z")),
                Some(json!("2024-03-14T09:00:00.000Z")),
            ],
        );
        assert_eq!(got[0], Some(json!("2024-03-14T09:00:00.000Z")));
    }

    #[test]
    fn text_sorts_ignoring_case() {
        let f = field(FieldType::SingleLineText);
        assert_eq!(
            compare(&f, Some(&json!("apple")), Some(&json!("Banana"))),
            Ordering::Less
        );
        assert_eq!(
            compare(&f, Some(&json!("APPLE")), Some(&json!("apple"))),
            Ordering::Equal
        );
    }

    #[test]
    fn numbers_inside_text_sort_by_value() {
        let got = sorted(
            FieldType::SingleLineText,
            vec![
                Some(json!("Item 10")),
                Some(json!("item 2")),
                Some(json!("Item 1")),
            ],
        );
        assert_eq!(
            got,
            [
                Some(json!("Item 1")),
                Some(json!("item 2")),
                Some(json!("Item 10"))
            ]
        );
    }

    #[test]
    fn a_shorter_text_sorts_before_its_continuation() {
        assert_eq!(natural("Item", "Item 2"), Ordering::Less);
    }

    #[test]
    fn a_single_select_sorts_by_its_choice_order() {
        let got = sorted(
            FieldType::SingleSelect,
            vec![
                Some(json!("Done")),
                Some(json!("Todo")),
                Some(json!("Doing")),
            ],
        );
        assert_eq!(
            got,
            [
                Some(json!("Todo")),
                Some(json!("Doing")),
                Some(json!("Done"))
            ]
        );
    }

    #[test]
    fn a_single_select_name_missing_from_the_choices_sorts_last() {
        let f = field(FieldType::SingleSelect);
        assert_eq!(
            compare(&f, Some(&json!("Archived")), Some(&json!("Done"))),
            Ordering::Greater
        );
    }

    #[test]
    fn lists_sort_by_their_joined_text() {
        let got = sorted(
            FieldType::MultipleSelects,
            vec![
                Some(json!(["b", "a"])),
                Some(json!(["a", "z"])),
                Some(json!(["a"])),
            ],
        );
        assert_eq!(
            got,
            [
                Some(json!(["a"])),
                Some(json!(["a", "z"])),
                Some(json!(["b", "a"]))
            ]
        );
    }
}
