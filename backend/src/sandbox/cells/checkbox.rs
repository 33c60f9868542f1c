//! Checkbox cells: Airtable stores only ticked boxes, so `false` clears the cell.

use serde_json::Value;

use super::{CellError, Written, invalid, quote};
use crate::model::airtable::Field;

/// Takes a boolean; with `typecast`, also the words and numbers people use for one.
pub fn write(field: &Field, input: &Value, typecast: bool) -> Result<Written, CellError> {
    let ticked = match input {
        Value::Bool(b) => Some(*b),
        Value::String(s) if typecast => match s.trim().to_lowercase().as_str() {
            "true" | "yes" | "checked" | "1" => Some(true),
            "false" | "no" | "" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) if typecast => match n.as_f64() {
            Some(1.0) => Some(true),
            Some(0.0) => Some(false),
            _ => None,
        },
        _ => None,
    };
    match ticked {
        Some(true) => Ok(Written::set(true)),
        Some(false) => Ok(Written::clear()),
        None if typecast => Err(invalid(
            field,
            format!(
                "{} is not a checkbox value; send true or false, \"yes\" or \"no\", 1 or 0",
                quote(input)
            ),
        )),
        None => Err(invalid(
            field,
            format!(
                "{} is not a checkbox value; send true or false",
                quote(input)
            ),
        )),
    }
}

/// "checked" for a ticked box and nothing otherwise, as Airtable's string cell format shows it.
pub fn display(value: &Value) -> String {
    if value == &Value::Bool(true) {
        "checked".into()
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::CellWrite;
    use super::*;
    use crate::model::airtable::{FieldId, FieldType};

    fn field() -> Field {
        Field {
            id: FieldId::parse("fldAAAAAAAAAAAAAA").unwrap(),
            name: "Done".into(),
            field_type: FieldType::Checkbox,
            description: None,
            options: None,
        }
    }

    fn stored(input: Value, typecast: bool) -> Result<CellWrite, CellError> {
        write(&field(), &input, typecast).map(|w| w.write)
    }

    #[test]
    fn true_ticks_the_box() {
        assert_eq!(
            stored(json!(true), false).unwrap(),
            CellWrite::Set(json!(true))
        );
    }

    #[test]
    fn false_clears_the_box() {
        assert_eq!(stored(json!(false), false).unwrap(), CellWrite::Clear);
    }

    #[test]
    fn words_without_typecast_are_refused() {
        let err = stored(json!("yes"), false).unwrap_err();
        assert!(matches!(err, CellError::InvalidValue { .. }), "{err:?}");
    }

    #[test]
    fn typecast_reads_words_for_ticked() {
        for word in ["true", "Yes", "checked", "1"] {
            assert_eq!(
                stored(json!(word), true).unwrap(),
                CellWrite::Set(json!(true)),
                "{word}"
            );
        }
        assert_eq!(stored(json!(1), true).unwrap(), CellWrite::Set(json!(true)));
    }

    #[test]
    fn typecast_reads_words_for_unticked() {
        for word in ["false", "NO", "", "0"] {
            assert_eq!(
                stored(json!(word), true).unwrap(),
                CellWrite::Clear,
                "{word}"
            );
        }
        assert_eq!(stored(json!(0), true).unwrap(), CellWrite::Clear);
    }

    #[test]
    fn typecast_refuses_other_words() {
        assert!(stored(json!("maybe"), true).is_err());
        assert!(stored(json!(2), true).is_err());
    }

    #[test]
    fn a_ticked_box_shows_as_checked() {
        assert_eq!(display(&json!(true)), "checked");
        assert_eq!(display(&Value::Null), "");
    }
}
