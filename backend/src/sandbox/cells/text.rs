//! Text-like cells: single and multi-line text, rich text, email, URL and phone number.

use serde_json::Value;

use super::{CellError, Written, invalid, number, quote};
use crate::model::airtable::{Field, FieldType};

/// The longest single line of text we store, in characters. Airtable documents no limit; ours
/// keeps one cell from swelling every listing of its table.
pub const MAX_SINGLE_LINE_CHARS: usize = 100_000;

/// Keeps strings exactly as sent (Airtable neither trims nor reformats them); with `typecast`,
/// numbers and booleans become their text.
pub fn write(field: &Field, input: &Value, typecast: bool) -> Result<Written, CellError> {
    let text = match input {
        Value::String(s) => s.clone(),
        Value::Number(n) if typecast => number::text_of(n),
        Value::Bool(b) if typecast => b.to_string(),
        Value::Number(_) | Value::Bool(_) => {
            return Err(invalid(
                field,
                format!(
                    "{} is not text; send a string, or \"typecast\": true to convert it",
                    quote(input)
                ),
            ));
        }
        _ => {
            return Err(invalid(
                field,
                format!("{} is not text; send a string", quote(input)),
            ));
        }
    };
    if text.is_empty() {
        return Ok(Written::clear());
    }
    if field.field_type == FieldType::SingleLineText && text.chars().count() > MAX_SINGLE_LINE_CHARS
    {
        return Err(invalid(
            field,
            format!(
                "the text is longer than {MAX_SINGLE_LINE_CHARS} characters; use a long text field for more"
            ),
        ));
    }
    Ok(Written::set(text))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::CellWrite;
    use super::*;
    use crate::model::airtable::FieldId;

    fn field(field_type: FieldType) -> Field {
        Field {
            id: FieldId::parse("fldAAAAAAAAAAAAAA").unwrap(),
            name: "Notes".into(),
            field_type,
            description: None,
            options: None,
        }
    }

    fn stored(ty: FieldType, input: Value, typecast: bool) -> Result<CellWrite, CellError> {
        write(&field(ty), &input, typecast).map(|w| w.write)
    }

    #[test]
    fn text_is_kept_exactly_as_sent() {
        let sent = "  two\nlines  ";
        let got = stored(FieldType::SingleLineText, json!(sent), false).unwrap();
        assert_eq!(got, CellWrite::Set(json!(sent)));
    }

    #[test]
    fn every_text_like_type_takes_a_string() {
        for ty in [
            FieldType::MultilineText,
            FieldType::RichText,
            FieldType::Email,
            FieldType::Url,
            FieldType::PhoneNumber,
        ] {
            assert_eq!(
                stored(ty, json!("a@b.c"), false).unwrap(),
                CellWrite::Set(json!("a@b.c"))
            );
        }
    }

    #[test]
    fn an_empty_string_clears_a_text_cell() {
        assert_eq!(
            stored(FieldType::MultilineText, json!(""), false).unwrap(),
            CellWrite::Clear
        );
    }

    #[test]
    fn a_number_without_typecast_is_refused_by_a_text_field() {
        let err = stored(FieldType::SingleLineText, json!(12), false).unwrap_err();
        assert!(matches!(err, CellError::InvalidValue { .. }), "{err:?}");
        assert!(err.to_string().contains("typecast"), "{err}");
    }

    #[test]
    fn a_boolean_without_typecast_is_refused_by_a_text_field() {
        assert!(stored(FieldType::Email, json!(true), false).is_err());
    }

    #[test]
    fn a_list_is_refused_by_a_text_field_even_with_typecast() {
        assert!(stored(FieldType::SingleLineText, json!(["a"]), true).is_err());
    }

    #[test]
    fn typecast_turns_numbers_into_their_text() {
        let got = stored(FieldType::SingleLineText, json!(12.0), true).unwrap();
        assert_eq!(got, CellWrite::Set(json!("12")));
        let got = stored(FieldType::PhoneNumber, json!(1.5), true).unwrap();
        assert_eq!(got, CellWrite::Set(json!("1.5")));
    }

    #[test]
    fn typecast_turns_booleans_into_their_text() {
        let got = stored(FieldType::MultilineText, json!(false), true).unwrap();
        assert_eq!(got, CellWrite::Set(json!("false")));
    }

    #[test]
    fn single_line_text_over_the_limit_is_refused() {
        let long = "é".repeat(MAX_SINGLE_LINE_CHARS + 1);
        let err = stored(FieldType::SingleLineText, json!(long), false).unwrap_err();
        assert!(err.to_string().contains("100000 characters"), "{err}");
    }

    #[test]
    fn single_line_text_at_the_limit_is_kept() {
        let long = "é".repeat(MAX_SINGLE_LINE_CHARS);
        assert!(stored(FieldType::SingleLineText, json!(long), false).is_ok());
    }

    #[test]
    fn long_text_is_not_held_to_the_single_line_limit() {
        let long = "a".repeat(MAX_SINGLE_LINE_CHARS + 1);
        assert!(stored(FieldType::MultilineText, json!(long), false).is_ok());
    }
}
