//! Tool schemas as Gemini reads them. The catalog's schemas come from schemars; they go to
//! Google as `parametersJsonSchema` (which, unlike `parameters`, takes JSON Schema and so can
//! say "an object of any fields", as Airtable's `fields` are), narrowed to the keywords Google
//! documents: references are inlined, `oneOf` and `const` are said with `anyOf` and `enum`, and
//! keywords Google doesn't list are dropped rather than risk a refused request.

use serde_json::{Map, Value};

/// `schema` in the subset Gemini documents, with an object at its root.
pub(super) fn parameters(schema: &Value) -> Value {
    let definitions = definitions(schema);
    let mut root = convert(schema, &definitions, &mut Vec::new());
    root.entry("type").or_insert_with(|| "object".into());
    Value::Object(root)
}

/// Keywords kept as they are. `type` may be a list such as `["string", "null"]`, which is how
/// Google documents a nullable value.
const KEPT: &[&str] = &[
    "type", "title", "description", "enum", "minimum", "maximum", "minItems", "maxItems", "required", "propertyOrdering",
];

/// String formats Google documents; others (schemars writes `uint32`, `uri`…) are dropped.
const FORMATS: &[&str] = &["date-time", "date", "time"];

/// A definition that refers to itself is cut off where it recurs, this many levels down at most.
const MAX_DEPTH: usize = 8;

fn definitions(root: &Value) -> Map<String, Value> {
    let mut all = Map::new();
    for key in ["definitions", "$defs"] {
        if let Some(Value::Object(defs)) = root.get(key) {
            all.extend(defs.clone());
        }
    }
    all
}

fn convert(schema: &Value, definitions: &Map<String, Value>, expanding: &mut Vec<String>) -> Map<String, Value> {
    // `true` is how schemars writes a `serde_json::Value`: anything. (`false`, nothing, has no
    // use in a tool's arguments.)
    let Value::Object(schema) = schema else { return Map::new() };
    // A reference stands for its definition; the keywords beside it refine that.
    let mut out = schema.get("$ref").and_then(Value::as_str).map(|r| inline(r, definitions, expanding)).unwrap_or_default();
    let defined_description = out.remove("description");
    for (key, value) in schema {
        match key.as_str() {
            key if KEPT.contains(&key) => {
                out.insert(key.to_owned(), value.clone());
            }
            "format" if value.as_str().is_some_and(|f| FORMATS.contains(&f)) => {
                out.insert(key.clone(), value.clone());
            }
            "const" => {
                out.insert("enum".into(), Value::Array(vec![value.clone()]));
            }
            "items" => match value {
                // The tuple form of older drafts.
                Value::Array(items) => {
                    out.insert("prefixItems".into(), Value::Array(items.iter().map(|i| convert(i, definitions, expanding).into()).collect()));
                }
                item => {
                    out.insert(key.clone(), convert(item, definitions, expanding).into());
                }
            },
            "prefixItems" => {
                let items = value.as_array().into_iter().flatten();
                out.insert(key.clone(), Value::Array(items.map(|i| convert(i, definitions, expanding).into()).collect()));
            }
            "properties" => {
                let properties = value.as_object().into_iter().flatten();
                let properties = properties.map(|(name, p)| (name.clone(), Value::Object(convert(p, definitions, expanding))));
                out.insert(key.clone(), Value::Object(properties.collect()));
            }
            "additionalProperties" => {
                let allowed = if value.is_boolean() { value.clone() } else { convert(value, definitions, expanding).into() };
                out.insert(key.clone(), allowed);
            }
            _ => {}
        }
    }
    // Said after the keywords beside them, so that variant notes add to this level's description.
    if let Some(Value::Array(alternatives)) = schema.get("anyOf").or_else(|| schema.get("oneOf")) {
        let alternatives: Vec<_> = alternatives.iter().map(|a| convert(a, definitions, expanding)).collect();
        either(&mut out, alternatives);
    }
    for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
        merge(&mut out, convert(part, definitions, expanding));
    }
    // The field's words and its type's both help the model: the field's first.
    if let Some(Value::String(defined)) = defined_description {
        let description = match out.get("description").and_then(Value::as_str) {
            Some(own) if own != defined => format!("{own} {defined}"),
            _ => defined,
        };
        out.insert("description".into(), description.into());
    }
    out
}

/// The definition a local reference (`#/$defs/Name` or `#/definitions/Name`) names, converted;
/// nothing for one that can't be followed.
fn inline(reference: &str, definitions: &Map<String, Value>, expanding: &mut Vec<String>) -> Map<String, Value> {
    let name = reference.strip_prefix("#/$defs/").or_else(|| reference.strip_prefix("#/definitions/"));
    let Some((name, definition)) = name.and_then(|n| definitions.get_key_value(n)) else { return Map::new() };
    if expanding.len() >= MAX_DEPTH || expanding.contains(name) {
        return Map::new();
    }
    expanding.push(name.clone());
    let out = convert(definition, definitions, expanding);
    expanding.pop();
    out
}

/// `anyOf`, or a plain `enum` when every alternative is a choice of strings (how schemars
/// writes an enum whose variants are documented), with each variant's note added to the
/// description.
fn either(out: &mut Map<String, Value>, alternatives: Vec<Map<String, Value>>) {
    let choices: Option<Vec<(Vec<Value>, Option<&str>)>> = alternatives.iter().map(string_choices).collect();
    match choices {
        Some(choices) if !choices.is_empty() => {
            let notes: Vec<String> = choices
                .iter()
                .filter_map(|(values, note)| {
                    let values: Vec<String> = values.iter().map(Value::to_string).collect();
                    note.map(|note| format!("{}: {note}", values.join(", ")))
                })
                .collect();
            let own = out.get("description").and_then(Value::as_str).map(|d| format!("{d} ")).unwrap_or_default();
            if !notes.is_empty() {
                out.insert("description".into(), format!("{own}{}", notes.join(" ")).into());
            }
            out.insert("type".into(), "string".into());
            out.insert("enum".into(), choices.into_iter().flat_map(|(values, _)| values).collect());
        }
        _ => {
            out.insert("anyOf".into(), alternatives.into_iter().map(Value::Object).collect());
        }
    }
}

/// The strings an alternative allows, and its description, if it is only that.
fn string_choices(alternative: &Map<String, Value>) -> Option<(Vec<Value>, Option<&str>)> {
    let only_words = alternative.keys().all(|k| matches!(k.as_str(), "enum" | "type" | "description" | "title"));
    let values = alternative.get("enum")?.as_array()?;
    let strings = !values.is_empty() && values.iter().all(Value::is_string);
    (only_words && strings).then(|| (values.clone(), alternative.get("description").and_then(Value::as_str)))
}

/// `allOf`'s parts folded into one schema: properties and required names joined, other
/// keywords kept where this level has none.
fn merge(out: &mut Map<String, Value>, part: Map<String, Value>) {
    for (key, value) in part {
        match (out.get_mut(&key), value) {
            (None, value) => {
                out.insert(key, value);
            }
            (Some(Value::Object(mine)), Value::Object(theirs)) if key == "properties" => mine.extend(theirs),
            (Some(Value::Array(mine)), Value::Array(theirs)) if key == "required" => {
                for name in theirs {
                    if !mine.contains(&name) {
                        mine.push(name);
                    }
                }
            }
            (Some(_), _) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn references_are_inlined_with_the_fields_words_before_the_types() {
        let schema = json!({
            "type": "object",
            "properties": {
                "sort": {"$ref": "#/$defs/SortBy", "description": "How to order them."},
                "also": {"type": "array", "items": {"$ref": "#/definitions/Old"}},
            },
            "$defs": {"SortBy": {"type": "object", "description": "One sort key.", "properties": {"field": {"type": "string"}}, "required": ["field"]}},
            "definitions": {"Old": {"type": "integer"}},
        });
        assert_eq!(
            parameters(&schema),
            json!({
                "type": "object",
                "properties": {
                    "sort": {"type": "object", "description": "How to order them. One sort key.", "properties": {"field": {"type": "string"}}, "required": ["field"]},
                    "also": {"type": "array", "items": {"type": "integer"}},
                },
            })
        );
    }

    #[test]
    fn documented_enum_variants_become_an_enum_that_explains_each_value() {
        let schema = json!({"type": "object", "properties": {"detail": {
            "description": "How much to show.",
            "oneOf": [
                {"type": "string", "enum": ["fields", "views"]},
                {"type": "string", "const": "names", "description": "Field names only."},
                {"type": "string", "const": "full", "description": "Everything."},
            ],
        }}});
        assert_eq!(
            parameters(&schema)["properties"]["detail"],
            json!({
                "type": "string",
                "enum": ["fields", "views", "names", "full"],
                "description": "How much to show. \"names\": Field names only. \"full\": Everything.",
            })
        );
    }

    #[test]
    fn other_alternatives_become_any_of_and_nullable_types_stay_as_google_documents_them() {
        let schema = json!({"type": "object", "properties": {
            "value": {"oneOf": [{"type": "string"}, {"type": "number"}]},
            "note": {"type": ["string", "null"]},
            "maybe": {"anyOf": [{"$ref": "#/$defs/Order"}, {"type": "null"}]},
        }, "$defs": {"Order": {"type": "string", "enum": ["asc", "desc"]}}});
        let properties = &parameters(&schema)["properties"];
        assert_eq!(properties["value"], json!({"anyOf": [{"type": "string"}, {"type": "number"}]}));
        assert_eq!(properties["note"], json!({"type": ["string", "null"]}));
        assert_eq!(properties["maybe"], json!({"anyOf": [{"type": "string", "enum": ["asc", "desc"]}, {"type": "null"}]}));
    }

    #[test]
    fn free_form_objects_and_any_values_are_kept_open() {
        let schema = json!({"type": "object", "properties": {
            "fields": {"type": "object", "additionalProperties": true},
            "counts": {"type": "object", "additionalProperties": {"type": "integer", "format": "uint32", "minimum": 0}},
            "value": true,
        }, "additionalProperties": false});
        assert_eq!(
            parameters(&schema),
            json!({"type": "object", "properties": {
                "fields": {"type": "object", "additionalProperties": true},
                "counts": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
                "value": {},
            }, "additionalProperties": false})
        );
    }

    #[test]
    fn keywords_google_does_not_list_are_dropped_and_const_is_an_enum() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {
                "when": {"type": "string", "format": "date-time", "default": "now", "examples": ["2024-01-01T00:00:00Z"]},
                "url": {"type": "string", "format": "uri", "minLength": 1, "pattern": "^https://"},
                "kind": {"const": "record"},
            },
        });
        assert_eq!(
            parameters(&schema),
            json!({"type": "object", "properties": {
                "when": {"type": "string", "format": "date-time"},
                "url": {"type": "string"},
                "kind": {"enum": ["record"]},
            }})
        );
    }

    #[test]
    fn a_recursive_definition_is_cut_where_it_recurs() {
        let schema = json!({
            "type": "object",
            "properties": {"tree": {"$ref": "#/$defs/Node"}},
            "$defs": {"Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}},
        });
        assert_eq!(
            parameters(&schema)["properties"]["tree"],
            json!({"type": "object", "properties": {"children": {"type": "array", "items": {}}}})
        );
    }

    #[test]
    fn all_of_parts_are_merged_into_one_object() {
        let schema = json!({"allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"properties": {"b": {"type": "string"}}, "required": ["a", "b"]},
        ]});
        assert_eq!(
            parameters(&schema),
            json!({"type": "object", "properties": {"a": {"type": "string"}, "b": {"type": "string"}}, "required": ["a", "b"]})
        );
    }

    /// Keywords anywhere in a converted schema that Gemini's documented subset lacks.
    fn unsupported(schema: &Value, found: &mut Vec<String>) {
        match schema {
            Value::Object(map) => {
                for (key, value) in map {
                    let known = KEPT.contains(&key.as_str())
                        || matches!(key.as_str(), "format" | "items" | "prefixItems" | "properties" | "additionalProperties" | "anyOf");
                    if !known {
                        found.push(key.clone());
                    }
                    match key.as_str() {
                        "properties" => value.as_object().into_iter().flatten().for_each(|(_, p)| unsupported(p, found)),
                        "items" => unsupported(value, found),
                        "additionalProperties" if !value.is_boolean() => unsupported(value, found),
                        "anyOf" | "prefixItems" => value.as_array().into_iter().flatten().for_each(|s| unsupported(s, found)),
                        _ => {}
                    }
                }
            }
            Value::Bool(_) => found.push("a boolean schema".into()),
            _ => {}
        }
    }

    #[test]
    fn every_catalog_tool_converts_to_the_documented_subset() {
        let catalog = crate::tools::Catalog::new();
        for tool in catalog.list(crate::model::auth::Scope::Write) {
            let converted = parameters(&tool.input_schema);
            let mut found = Vec::new();
            unsupported(&converted, &mut found);
            assert!(found.is_empty(), "{}: {found:?} in {converted:#}", tool.name);
            assert_eq!(converted["type"], "object", "{}", tool.name);
        }
    }
}
