//! Cell values as text, for counting distinct values, comparing keys and writing CSV.

use serde_json::Value;

/// Whether a cell counts as empty: nothing, blank text, an empty list, or an unticked box.
pub(crate) fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Bool(b) => !b,
        _ => false,
    }
}

/// Each item of a list on its own; any other value as one item.
pub(crate) fn items(value: &Value) -> Vec<String> {
    match value {
        Value::Array(list) => list.iter().map(text).collect(),
        other => vec![text(other)],
    }
}

/// A value as text: strings as they are, lists joined with ", ", collaborators and attachments
/// by name, the rest as JSON.
pub(crate) fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Array(_) => items(value).join(", "),
        Value::Object(map) => map.get("name").or_else(|| map.get("email")).or_else(|| map.get("filename")).map_or_else(|| value.to_string(), text),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_read_as_people_see_them() {
        assert_eq!(text(&json!(["a", "b"])), "a, b");
        assert_eq!(text(&json!({"id": "usr1", "email": "ada@example.com"})), "ada@example.com");
        assert_eq!(text(&json!(2.5)), "2.5");
        assert!(is_empty(&json!("  ")) && is_empty(&json!([])) && !is_empty(&json!(0)));
    }
}
