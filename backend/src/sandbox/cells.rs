//! What each field type accepts in a cell, and how its values are stored, shown and sorted,
//! following Airtable's Web API so its official clients work against the sandbox unchanged.
//!
//! Writes are checked one cell at a time; anything that needs the database (whether linked
//! records exist, saving new select choices to the schema) is left to the caller.

mod checkbox;
mod date;
mod link;
mod number;
mod order;
mod select;
mod text;

use std::cmp::Ordering;

use serde_json::Value;

use crate::model::airtable::{Field, FieldType};

pub use date::parse_time_zone;
pub use select::new_choice;

/// What a write to one cell turns into.
#[derive(Debug, Clone, PartialEq)]
pub enum CellWrite {
    /// The normalized value to store.
    Set(Value),
    /// Null, "", an unticked checkbox, an empty list: Airtable stores nothing for these.
    Clear,
}

/// The outcome of a valid write: the cell's new state and any select choices it introduces.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub write: CellWrite,
    /// Choices that `typecast` created; the caller must add them to the field's options, in order.
    pub new_choices: Vec<String>,
}

impl Written {
    fn set(value: impl Into<Value>) -> Self {
        Self {
            write: CellWrite::Set(value.into()),
            new_choices: Vec::new(),
        }
    }

    fn clear() -> Self {
        Self {
            write: CellWrite::Clear,
            new_choices: Vec::new(),
        }
    }
}

/// Why a value cannot go into a cell; each variant maps to one of Airtable's 422 error types.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CellError {
    /// The value has the wrong shape for the field; `message` says what the field accepts.
    #[error("Field \"{field}\" cannot accept the provided value: {message}")]
    InvalidValue { field: String, message: String },
    /// A select option that the field does not have, written without `typecast`.
    #[error(
        "Field \"{field}\" has no select option \"{choice}\"; use one of its existing options, \
         or send \"typecast\": true to add it"
    )]
    InvalidChoice { field: String, choice: String },
    /// The field is computed by Airtable (created time, autonumber, …), so no value may be sent.
    #[error("Field \"{field}\" is computed and cannot be set; leave it out of the request")]
    Computed { field: String },
}

impl CellError {
    /// The `error.type` Airtable answers with, so clients that match on it behave the same.
    pub fn airtable_type(&self) -> &'static str {
        match self {
            Self::InvalidValue { .. } | Self::Computed { .. } => "INVALID_VALUE_FOR_COLUMN",
            Self::InvalidChoice { .. } => "INVALID_MULTIPLE_CHOICE_OPTIONS",
        }
    }

    /// The name of the field the value was meant for.
    pub fn field(&self) -> &str {
        match self {
            Self::InvalidValue { field, .. }
            | Self::InvalidChoice { field, .. }
            | Self::Computed { field } => field,
        }
    }
}

/// Builds the error for a value `field` cannot take; `accepts` tells the sender what would work.
fn invalid(field: &Field, accepts: impl Into<String>) -> CellError {
    CellError::InvalidValue {
        field: field.name.clone(),
        message: accepts.into(),
    }
}

/// A short quotation of a sent value for error messages, so a huge payload is not echoed back.
fn quote(value: &Value) -> String {
    const MAX: usize = 40;
    let text = match value {
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) => return "a list".into(),
        Value::Object(_) => return "an object".into(),
        other => other.to_string(),
    };
    if text.chars().count() > MAX {
        format!("{}…", text.chars().take(MAX).collect::<String>())
    } else {
        text
    }
}

/// Validates and normalizes a value written to `field`, as Airtable does with and without
/// `typecast`.
///
/// # Errors
/// `InvalidValue` for a value of the wrong shape, `InvalidChoice` for an unknown select option
/// without `typecast`, and `Computed` for any value sent to a computed field.
pub fn write(field: &Field, input: &Value, typecast: bool) -> Result<Written, CellError> {
    if field.field_type.is_computed() {
        return Err(CellError::Computed {
            field: field.name.clone(),
        });
    }
    if input.is_null() {
        return Ok(Written::clear());
    }
    match &field.field_type {
        FieldType::SingleLineText
        | FieldType::MultilineText
        | FieldType::RichText
        | FieldType::Email
        | FieldType::Url
        | FieldType::PhoneNumber => text::write(field, input, typecast),
        FieldType::Number | FieldType::Currency | FieldType::Percent | FieldType::Duration => {
            number::write(field, input, typecast)
        }
        FieldType::Rating => number::write_rating(field, input, typecast),
        FieldType::Checkbox => checkbox::write(field, input, typecast),
        FieldType::SingleSelect => select::write_single(field, input, typecast),
        FieldType::MultipleSelects => select::write_multiple(field, input, typecast),
        FieldType::Date => date::write_date(field, input, typecast),
        FieldType::DateTime => date::write_date_time(field, input, typecast),
        FieldType::MultipleRecordLinks => link::write(field, input, typecast),
        // Types this product does not model keep whatever the client sent.
        FieldType::Other(_) => Ok(Written::set(input.clone())),
        FieldType::CreatedTime | FieldType::LastModifiedTime | FieldType::AutoNumber => {
            Err(CellError::Computed {
                field: field.name.clone(),
            })
        }
    }
}

/// Renders a stored value as Airtable's `cellFormat=string` does, for the "en-us" locale.
///
/// `time_zone` only affects date-times; see [`parse_time_zone`] for the zones understood.
/// An unsupported zone renders in UTC rather than failing, so callers that want to refuse it
/// should check it with [`parse_time_zone`] first. Linked records render as their IDs: putting
/// their primary field values in their place needs the database, so is the caller's job.
pub fn to_string(field: &Field, value: &Value, time_zone: &str) -> String {
    let options = field.options.as_ref();
    match &field.field_type {
        FieldType::Number
        | FieldType::Currency
        | FieldType::Percent
        | FieldType::Duration
        | FieldType::Rating
        | FieldType::AutoNumber => match value.as_f64() {
            Some(n) => number::display(&field.field_type, options, n),
            None => generic_text(value),
        },
        FieldType::Checkbox => checkbox::display(value),
        FieldType::Date => date::display_date(options, value),
        FieldType::DateTime => date::display_date_time(options, value, time_zone),
        FieldType::CreatedTime | FieldType::LastModifiedTime => {
            date::display_computed(options, value, time_zone)
        }
        _ => generic_text(value),
    }
}

/// Text for a value whose field has no display rules of its own: strings as they are, lists
/// joined with ", " as Airtable joins them, and named objects (collaborators, attachments,
/// linked records) by their name.
fn generic_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => number::text_of(n),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items
            .iter()
            .map(generic_text)
            .collect::<Vec<_>>()
            .join(", "),
        Value::Object(map) => ["name", "filename", "id"]
            .iter()
            .find_map(|key| map.get(*key).and_then(Value::as_str))
            .map_or_else(|| value.to_string(), str::to_owned),
    }
}

/// Orders two stored values of `field` for sorting; blanks (None) sort first ascending, as in
/// Airtable. Reverse the result for a descending sort, which puts blanks last as Airtable does.
pub fn compare(field: &Field, a: Option<&Value>, b: Option<&Value>) -> Ordering {
    order::compare(field, a, b)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::airtable::FieldId;

    fn field(field_type: FieldType) -> Field {
        Field {
            id: FieldId::parse("fldAAAAAAAAAAAAAA").unwrap(),
            name: "Budget".into(),
            field_type,
            description: None,
            options: None,
        }
    }

    #[test]
    fn null_clears_every_writable_type() {
        for ty in [
            FieldType::SingleLineText,
            FieldType::Number,
            FieldType::Rating,
            FieldType::Checkbox,
            FieldType::SingleSelect,
            FieldType::MultipleSelects,
            FieldType::Date,
            FieldType::DateTime,
            FieldType::MultipleRecordLinks,
            FieldType::Other("multipleAttachments".into()),
        ] {
            let written = write(&field(ty.clone()), &Value::Null, false).unwrap();
            assert_eq!(written.write, CellWrite::Clear, "{ty:?}");
        }
    }

    #[test]
    fn computed_fields_refuse_any_value_even_null() {
        for ty in [
            FieldType::CreatedTime,
            FieldType::LastModifiedTime,
            FieldType::AutoNumber,
        ] {
            let err = write(&field(ty), &Value::Null, true).unwrap_err();
            assert_eq!(
                err,
                CellError::Computed {
                    field: "Budget".into()
                }
            );
        }
    }

    #[test]
    fn a_computed_field_error_is_an_invalid_value_for_airtable() {
        let err = write(&field(FieldType::AutoNumber), &json!(3), false).unwrap_err();
        assert_eq!(err.airtable_type(), "INVALID_VALUE_FOR_COLUMN");
        assert!(err.to_string().contains("\"Budget\" is computed"), "{err}");
    }

    #[test]
    fn an_invalid_value_names_the_field_and_what_it_accepts() {
        let err = write(&field(FieldType::Number), &json!("abc"), true).unwrap_err();
        assert_eq!(err.airtable_type(), "INVALID_VALUE_FOR_COLUMN");
        assert_eq!(err.field(), "Budget");
        let text = err.to_string();
        assert!(
            text.starts_with("Field \"Budget\" cannot accept the provided value"),
            "{text}"
        );
        assert!(text.contains("\"abc\""), "{text}");
    }

    #[test]
    fn an_invalid_choice_is_a_multiple_choice_options_error() {
        let err = CellError::InvalidChoice {
            field: "Status".into(),
            choice: "Done".into(),
        };
        assert_eq!(err.airtable_type(), "INVALID_MULTIPLE_CHOICE_OPTIONS");
        assert!(err.to_string().contains("\"typecast\": true"), "{err}");
    }

    #[test]
    fn an_unmodelled_type_stores_the_json_as_sent() {
        let sent = json!([{"url": "https://example.com/a.png"}]);
        let written = write(
            &field(FieldType::Other("multipleAttachments".into())),
            &sent,
            false,
        );
        assert_eq!(written.unwrap(), Written::set(sent));
    }

    #[test]
    fn a_long_value_is_shortened_in_error_messages() {
        let quoted = quote(&json!("x".repeat(500)));
        assert!(quoted.chars().count() <= 41, "{quoted}");
        assert!(quoted.ends_with('…'));
    }

    #[test]
    fn an_unmodelled_type_renders_lists_and_names_as_text() {
        let value = json!([{"id": "usrA", "name": "Ada"}, "x", 3]);
        let f = field(FieldType::Other("multipleLookupValues".into()));
        assert_eq!(to_string(&f, &value, "UTC"), "Ada, x, 3");
    }

    #[test]
    fn a_number_field_holding_text_still_renders_it() {
        assert_eq!(
            to_string(&field(FieldType::Number), &json!("n/a"), "UTC"),
            "n/a"
        );
    }
}
