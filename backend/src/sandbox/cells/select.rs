//! Single and multiple select cells, and the choices they pick from.
//!
//! Cells store choice names, as Airtable's API reads and writes them. An unknown name is refused
//! unless `typecast` is on; then it is kept and reported, so the caller adds it to the field.

use rand::Rng;
use serde_json::{Value, json};

use super::{CellError, CellWrite, Written, invalid, number, quote};
use crate::model::airtable::Field;

/// Airtable's palette, in the order it colours new choices: each hue in its lightest shade, then
/// each hue a shade darker, and so on.
#[rustfmt::skip]
const COLORS: [&str; 40] = [
    "blueLight2", "cyanLight2", "tealLight2", "greenLight2", "yellowLight2",
    "orangeLight2", "redLight2", "pinkLight2", "purpleLight2", "grayLight2",
    "blueLight1", "cyanLight1", "tealLight1", "greenLight1", "yellowLight1",
    "orangeLight1", "redLight1", "pinkLight1", "purpleLight1", "grayLight1",
    "blueBright", "cyanBright", "tealBright", "greenBright", "yellowBright",
    "orangeBright", "redBright", "pinkBright", "purpleBright", "grayBright",
    "blueDark1", "cyanDark1", "tealDark1", "greenDark1", "yellowDark1",
    "orangeDark1", "redDark1", "pinkDark1", "purpleDark1", "grayDark1",
];

/// Makes a select choice as Airtable returns it: {"id":"sel…14 alnum…","name":…,"color":…}.
///
/// `index` is the choice's position in the field, which picks its colour.
pub fn new_choice(name: &str, index: usize) -> Value {
    let suffix: String = rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(14)
        .map(char::from)
        .collect();
    json!({ "id": format!("sel{suffix}"), "name": name, "color": COLORS[index % COLORS.len()] })
}

/// The position of `name` among the field's choices, which is the order Airtable sorts by.
pub fn position(field: &Field, name: &str) -> Option<usize> {
    choices(field).position(|choice| choice == name)
}

fn choices(field: &Field) -> impl Iterator<Item = &str> {
    field
        .options
        .as_ref()
        .and_then(|o| o.get("choices"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|choice| choice.get("name").and_then(Value::as_str))
}

/// Takes the name of one choice; with `typecast`, also a number, and names not yet in the field.
pub fn write_single(field: &Field, input: &Value, typecast: bool) -> Result<Written, CellError> {
    let name = match input {
        Value::String(s) => s.clone(),
        Value::Number(n) if typecast => number::text_of(n),
        _ => {
            return Err(invalid(
                field,
                format!(
                    "{} is not an option name; send the name of one of its options as a string",
                    quote(input)
                ),
            ));
        }
    };
    if name.is_empty() {
        return Ok(Written::clear());
    }
    let new_choices = new_choices(field, std::slice::from_ref(&name), typecast)?;
    Ok(Written {
        write: CellWrite::Set(Value::String(name)),
        new_choices,
    })
}

/// Takes a list of choice names, dropping repeats; with `typecast`, also one comma-separated
/// string, numbers, and names not yet in the field.
pub fn write_multiple(field: &Field, input: &Value, typecast: bool) -> Result<Written, CellError> {
    let names: Vec<String> = match input {
        Value::Array(items) => items
            .iter()
            .map(|item| match item {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) if typecast => Ok(number::text_of(n)),
                _ => Err(invalid(
                    field,
                    format!(
                        "{} is not an option name; list option names as strings",
                        quote(item)
                    ),
                )),
            })
            .collect::<Result<_, _>>()?,
        Value::String(s) if typecast => s.split(',').map(|name| name.trim().to_owned()).collect(),
        _ => {
            return Err(invalid(
                field,
                format!(
                    "{} is not a list; send option names as a list such as [\"Red\", \"Blue\"]",
                    quote(input)
                ),
            ));
        }
    };
    let mut unique: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        if !name.is_empty() && !unique.contains(&name) {
            unique.push(name);
        }
    }
    if unique.is_empty() {
        return Ok(Written::clear());
    }
    let new_choices = new_choices(field, &unique, typecast)?;
    Ok(Written {
        write: CellWrite::Set(json!(unique)),
        new_choices,
    })
}

/// The names among `names` that the field lacks, which only `typecast` may add.
fn new_choices(field: &Field, names: &[String], typecast: bool) -> Result<Vec<String>, CellError> {
    let mut added = Vec::new();
    for name in names.iter().filter(|name| position(field, name).is_none()) {
        if !typecast {
            return Err(CellError::InvalidChoice {
                field: field.name.clone(),
                choice: name.clone(),
            });
        }
        added.push(name.clone());
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::airtable::{FieldId, FieldType};

    fn field(field_type: FieldType) -> Field {
        Field {
            id: FieldId::parse("fldAAAAAAAAAAAAAA").unwrap(),
            name: "Status".into(),
            field_type,
            description: None,
            options: Some(json!({"choices": [
                {"id": "selAAAAAAAAAAAAAA", "name": "Todo", "color": "blueLight2"},
                {"id": "selBBBBBBBBBBBBBB", "name": "Done", "color": "cyanLight2"},
                {"id": "selCCCCCCCCCCCCCC", "name": "2", "color": "tealLight2"},
            ]})),
        }
    }

    #[test]
    fn a_known_choice_is_stored_by_name() {
        let written = write_single(&field(FieldType::SingleSelect), &json!("Done"), false).unwrap();
        assert_eq!(written, Written::set("Done"));
    }

    #[test]
    fn an_unknown_choice_without_typecast_is_refused() {
        let err =
            write_single(&field(FieldType::SingleSelect), &json!("Doing"), false).unwrap_err();
        assert_eq!(
            err,
            CellError::InvalidChoice {
                field: "Status".into(),
                choice: "Doing".into()
            }
        );
    }

    #[test]
    fn choice_names_match_exactly() {
        assert!(write_single(&field(FieldType::SingleSelect), &json!("done"), false).is_err());
    }

    #[test]
    fn an_unknown_choice_with_typecast_is_kept_and_reported_as_new() {
        let written = write_single(&field(FieldType::SingleSelect), &json!("Doing"), true).unwrap();
        assert_eq!(written.write, CellWrite::Set(json!("Doing")));
        assert_eq!(written.new_choices, ["Doing"]);
    }

    #[test]
    fn typecast_reads_a_number_as_a_choice_name() {
        let written = write_single(&field(FieldType::SingleSelect), &json!(2), true).unwrap();
        assert_eq!(written, Written::set("2"));
    }

    #[test]
    fn a_number_without_typecast_is_not_a_choice() {
        let err = write_single(&field(FieldType::SingleSelect), &json!(2), false).unwrap_err();
        assert!(matches!(err, CellError::InvalidValue { .. }), "{err:?}");
    }

    #[test]
    fn an_empty_name_clears_a_single_select() {
        let written = write_single(&field(FieldType::SingleSelect), &json!(""), false).unwrap();
        assert_eq!(written.write, CellWrite::Clear);
    }

    #[test]
    fn multiple_choices_keep_their_order_and_drop_repeats() {
        let sent = json!(["Done", "Todo", "Done"]);
        let written = write_multiple(&field(FieldType::MultipleSelects), &sent, false).unwrap();
        assert_eq!(written, Written::set(json!(["Done", "Todo"])));
    }

    #[test]
    fn a_single_multiple_choice_is_still_a_list() {
        let written = write_multiple(&field(FieldType::MultipleSelects), &json!(["Done"]), false);
        assert_eq!(written.unwrap(), Written::set(json!(["Done"])));
    }

    #[test]
    fn an_empty_list_clears_multiple_selects() {
        let written =
            write_multiple(&field(FieldType::MultipleSelects), &json!([]), false).unwrap();
        assert_eq!(written.write, CellWrite::Clear);
    }

    #[test]
    fn a_string_for_multiple_selects_needs_typecast() {
        let err =
            write_multiple(&field(FieldType::MultipleSelects), &json!("Done"), false).unwrap_err();
        assert!(matches!(err, CellError::InvalidValue { .. }), "{err:?}");
    }

    #[test]
    fn typecast_splits_a_comma_separated_string() {
        let sent = json!("Todo, Done ,Todo,");
        let written = write_multiple(&field(FieldType::MultipleSelects), &sent, true).unwrap();
        assert_eq!(written, Written::set(json!(["Todo", "Done"])));
    }

    #[test]
    fn an_unknown_multiple_choice_without_typecast_is_refused() {
        let sent = json!(["Done", "Blocked"]);
        let err = write_multiple(&field(FieldType::MultipleSelects), &sent, false).unwrap_err();
        assert_eq!(
            err,
            CellError::InvalidChoice {
                field: "Status".into(),
                choice: "Blocked".into()
            }
        );
    }

    #[test]
    fn typecast_reports_each_new_multiple_choice_once() {
        let sent = json!(["Blocked", "Done", "Later", "Blocked"]);
        let written = write_multiple(&field(FieldType::MultipleSelects), &sent, true).unwrap();
        assert_eq!(
            written.write,
            CellWrite::Set(json!(["Blocked", "Done", "Later"]))
        );
        assert_eq!(written.new_choices, ["Blocked", "Later"]);
    }

    #[test]
    fn a_non_text_item_in_multiple_selects_is_refused() {
        let sent = json!(["Done", {"name": "Todo"}]);
        assert!(write_multiple(&field(FieldType::MultipleSelects), &sent, true).is_err());
    }

    #[test]
    fn a_new_choice_has_an_airtable_shaped_id_name_and_colour() {
        let choice = new_choice("Blocked", 1);
        let id = choice["id"].as_str().unwrap();
        assert_eq!(id.len(), 17);
        assert!(
            id.starts_with("sel") && id.bytes().all(|b| b.is_ascii_alphanumeric()),
            "{id}"
        );
        assert_eq!(choice["name"], "Blocked");
        assert_eq!(choice["color"], "cyanLight2");
    }

    #[test]
    fn new_choices_get_different_ids() {
        assert_ne!(new_choice("A", 0)["id"], new_choice("A", 0)["id"]);
    }

    #[test]
    fn choice_colours_cycle_through_the_palette() {
        assert_eq!(new_choice("A", COLORS.len())["color"], "blueLight2");
    }
}
