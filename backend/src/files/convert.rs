//! A file's value as an Airtable field of a given type takes it: the preview shows these, and
//! the import writes them. A value that can't be one is a misfit, with the reason a person
//! reads beside the row.

use serde_json::{Value, json};

use super::cell::{self, Cell, DateText};
use super::infer::split_list;
use crate::model::airtable::FieldType;
use crate::model::files::{ColumnType, DateOrder};

/// Why a value does not fit its column's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Misfit(pub String);

/// `value` as a field of `column`'s type; `Null` for an empty value (the field is left out).
/// `decimal_comma` is the file's number convention.
pub fn convert(value: &Cell, column: &ColumnType, decimal_comma: bool) -> Result<Value, Misfit> {
    if value.is_empty() {
        return Ok(Value::Null);
    }
    let text = || value.to_text();
    let misfit = |what: &str| Misfit(format!("“{}” is not {what}", shorten(&value.to_text())));
    match &column.field_type {
        FieldType::Number | FieldType::Currency | FieldType::Percent | FieldType::Rating | FieldType::Duration => {
            number(value, &column.field_type, decimal_comma).map(|n| json!(n)).ok_or_else(|| misfit("a number"))
        }
        FieldType::Checkbox => match value {
            Cell::Bool(b) => Ok(json!(b)),
            Cell::Number(n) if *n == 0.0 || *n == 1.0 => Ok(json!(*n == 1.0)),
            _ => cell::parse_checkbox(&text()).map(|b| json!(b)).ok_or_else(|| misfit("yes or no")),
        },
        FieldType::Date => date(value, column.date_order)?.map(|(date, _)| json!(date.format("%Y-%m-%d").to_string())).ok_or_else(|| misfit("a date")),
        FieldType::DateTime => date(value, column.date_order)?
            .map(|(date, time)| json!(date.and_time(time).format("%Y-%m-%dT%H:%M:%S.000Z").to_string()))
            .ok_or_else(|| misfit("a date and time")),
        FieldType::Email => Some(text()).filter(|t| cell::is_email(t)).map(Value::String).ok_or_else(|| misfit("an email address")),
        FieldType::Url => Some(text()).filter(|t| cell::is_url(t)).map(Value::String).ok_or_else(|| misfit("a web address")),
        FieldType::PhoneNumber => Some(text()).filter(|t| cell::is_phone(t)).map(Value::String).ok_or_else(|| misfit("a phone number")),
        FieldType::MultipleSelects => Ok(match value {
            Cell::List(items) => json!(items),
            _ => json!(split_list(&text())),
        }),
        FieldType::SingleLineText => Ok(json!(text().replace(['\r', '\n'], " "))),
        // Long text, selects (the import sends typecast, so new choices are made), and types
        // a file never infers: the text as written.
        _ => Ok(json!(text())),
    }
}

/// A number as the field stores it: percent fields hold fractions, so `15%` and a typed 0.15
/// are both 0.15, while a bare `15` in a percent column means 15 points.
fn number(value: &Cell, field_type: &FieldType, decimal_comma: bool) -> Option<f64> {
    match value {
        Cell::Number(n) => Some(*n),
        Cell::Text(text) if *field_type == FieldType::Percent => cell::parse_percent(text, decimal_comma)
            .map(|(n, _)| n)
            .or_else(|| cell::parse_number(text, decimal_comma).map(|(n, _)| n / 100.0)),
        Cell::Text(text) => cell::parse_amount(text, decimal_comma).map(|(n, _, _)| n),
        _ => None,
    }
}

/// A date (and the time, midnight when none): typed, or read from text in the column's order.
/// An order nobody chose is a misfit of the whole column, said as such.
fn date(value: &Cell, order: Option<DateOrder>) -> Result<Option<(chrono::NaiveDate, chrono::NaiveTime)>, Misfit> {
    let midnight = chrono::NaiveTime::MIN;
    let text = match value {
        Cell::Date(date) => return Ok(Some((*date, midnight))),
        Cell::DateTime(at) => return Ok(Some((at.date(), at.time()))),
        Cell::Text(text) => text,
        _ => return Ok(None),
    };
    let (parts, time) = match cell::parse_date(text) {
        Some(parts) => (parts, midnight),
        None => match cell::parse_date_time(text) {
            Some(found) => found,
            None => return Ok(None),
        },
    };
    let read = match (parts, order.unwrap_or(DateOrder::Iso)) {
        (DateText::Iso(date), _) => Some(date),
        (slashed, DateOrder::DayFirst) => slashed.day_first(),
        (slashed, DateOrder::MonthFirst) => slashed.month_first(),
        (_, DateOrder::Ambiguous | DateOrder::Iso) => {
            return Err(Misfit("the dates read both day first and month first; choose the order before importing".into()));
        }
    };
    Ok(read.map(|date| (date, time)))
}

/// At most 40 characters of a value, for a message.
fn shorten(text: &str) -> String {
    let mut short: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(field_type: FieldType) -> ColumnType {
        ColumnType::of(field_type)
    }

    #[test]
    fn numbers_amounts_and_percentages_become_what_their_fields_store() {
        assert_eq!(convert(&Cell::text("1.234,5"), &typed(FieldType::Number), true), Ok(json!(1234.5)));
        assert_eq!(convert(&Cell::text("$12.50"), &typed(FieldType::Currency), false), Ok(json!(12.5)));
        assert_eq!(convert(&Cell::text("15%"), &typed(FieldType::Percent), false), Ok(json!(0.15)));
        assert_eq!(convert(&Cell::Number(0.15), &typed(FieldType::Percent), false), Ok(json!(0.15)));
        let misfit = convert(&Cell::text("twelve"), &typed(FieldType::Number), false).unwrap_err();
        assert_eq!(misfit.0, "“twelve” is not a number");
    }

    #[test]
    fn dates_follow_the_chosen_order_and_an_unchosen_one_is_refused() {
        let day_first = ColumnType { date_order: Some(DateOrder::DayFirst), ..typed(FieldType::Date) };
        let month_first = ColumnType { date_order: Some(DateOrder::MonthFirst), ..typed(FieldType::Date) };
        assert_eq!(convert(&Cell::text("03/04/2024"), &day_first, false), Ok(json!("2024-04-03")));
        assert_eq!(convert(&Cell::text("03/04/2024"), &month_first, false), Ok(json!("2024-03-04")));
        let ambiguous = ColumnType { date_order: Some(DateOrder::Ambiguous), ..typed(FieldType::Date) };
        assert!(convert(&Cell::text("03/04/2024"), &ambiguous, false).unwrap_err().0.contains("choose the order"));
        assert_eq!(convert(&Cell::text("2024-03-25"), &ambiguous, false), Ok(json!("2024-03-25")), "ISO dates need no order");
        let at = ColumnType { date_order: Some(DateOrder::Iso), ..typed(FieldType::DateTime) };
        assert_eq!(convert(&Cell::text("2024-03-25 14:30"), &at, false), Ok(json!("2024-03-25T14:30:00.000Z")));
    }

    #[test]
    fn text_lists_and_yes_no() {
        assert_eq!(convert(&Cell::text("Design, Ops"), &typed(FieldType::MultipleSelects), false), Ok(json!(["Design", "Ops"])));
        assert_eq!(convert(&Cell::List(vec!["a".into()]), &typed(FieldType::MultipleSelects), false), Ok(json!(["a"])));
        assert_eq!(convert(&Cell::text("Yes"), &typed(FieldType::Checkbox), false), Ok(json!(true)));
        assert_eq!(convert(&Cell::text("a\nb"), &typed(FieldType::SingleLineText), false), Ok(json!("a b")));
        assert_eq!(convert(&Cell::text("a\nb"), &typed(FieldType::MultilineText), false), Ok(json!("a\nb")));
        assert_eq!(convert(&Cell::Empty, &typed(FieldType::Number), false), Ok(Value::Null));
        assert!(convert(&Cell::text("not mail"), &typed(FieldType::Email), false).is_err());
    }
}
