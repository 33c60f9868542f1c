//! Linked-record cells: lists of record IDs.
//!
//! Only the IDs' shape is checked here; whether the records exist needs the database, so the
//! caller checks that.

use serde_json::Value;

use super::{CellError, Written, invalid, quote};
use crate::model::airtable::{Field, RecordId};

/// Takes a list of record IDs, or of objects like `{"id": "rec…"}`, dropping repeats; with
/// `typecast`, also a single ID on its own.
pub fn write(field: &Field, input: &Value, typecast: bool) -> Result<Written, CellError> {
    let items = match input {
        Value::Array(items) => items.as_slice(),
        Value::String(_) if typecast => std::slice::from_ref(input),
        _ => {
            return Err(invalid(
                field,
                format!(
                    "{} is not a list; send linked record IDs as a list such as [\"recXXXXXXXXXXXXXX\"]",
                    quote(input)
                ),
            ));
        }
    };
    let mut ids: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let id = record_id(item).ok_or_else(|| {
            invalid(
                field,
                format!(
                    "{} is not a record ID; IDs start with \"rec\" followed by 14 letters and digits",
                    quote(item.get("id").unwrap_or(item))
                ),
            )
        })?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Ok(Written::clear());
    }
    Ok(Written::set(ids))
}

/// The record ID in a list item: either the ID itself or an object carrying it as `id`.
fn record_id(item: &Value) -> Option<String> {
    let id = match item {
        Value::String(id) => id,
        Value::Object(map) => map.get("id")?.as_str()?,
        _ => return None,
    };
    RecordId::parse(id).ok().map(String::from)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::CellWrite;
    use super::*;
    use crate::model::airtable::{FieldId, FieldType};

    const A: &str = "recAAAAAAAAAAAAAA";
    const B: &str = "recBBBBBBBBBBBBBB";

    fn field() -> Field {
        Field {
            id: FieldId::parse("fldAAAAAAAAAAAAAA").unwrap(),
            name: "Project".into(),
            field_type: FieldType::MultipleRecordLinks,
            description: None,
            options: None,
        }
    }

    fn stored(input: Value, typecast: bool) -> Result<CellWrite, CellError> {
        write(&field(), &input, typecast).map(|w| w.write)
    }

    #[test]
    fn a_list_of_ids_is_stored_in_order() {
        assert_eq!(
            stored(json!([B, A]), false).unwrap(),
            CellWrite::Set(json!([B, A]))
        );
    }

    #[test]
    fn objects_with_ids_become_plain_ids() {
        assert_eq!(
            stored(json!([{"id": A}, B]), false).unwrap(),
            CellWrite::Set(json!([A, B]))
        );
    }

    #[test]
    fn repeated_links_are_stored_once() {
        assert_eq!(
            stored(json!([A, B, {"id": A}]), false).unwrap(),
            CellWrite::Set(json!([A, B]))
        );
    }

    #[test]
    fn an_empty_list_clears_the_links() {
        assert_eq!(stored(json!([]), false).unwrap(), CellWrite::Clear);
    }

    #[test]
    fn something_that_is_not_a_record_id_is_refused() {
        let err = stored(json!([A, "tblAAAAAAAAAAAAAA"]), false).unwrap_err();
        assert!(
            err.to_string()
                .contains("\"tblAAAAAAAAAAAAAA\" is not a record ID"),
            "{err}"
        );
        assert!(stored(json!([{"name": "x"}]), false).is_err());
    }

    #[test]
    fn a_lone_id_needs_typecast() {
        assert!(stored(json!(A), false).is_err());
        assert_eq!(stored(json!(A), true).unwrap(), CellWrite::Set(json!([A])));
    }
}
