//! The editor's fields, each bound to one place in the workflow's JSON (a JSON pointer such as
//! `/steps/2/arguments/table`), and a tool's argument form built from its JSON Schema.

use leptos::prelude::*;
use serde_json::{Value, json};

/// The workflow being edited, as JSON. Cheap to copy.
#[derive(Clone, Copy)]
pub struct Draft(pub RwSignal<Value>);

impl Draft {
    pub fn get(&self, pointer: &str) -> Value {
        self.0.with(|v| v.pointer(pointer).cloned().unwrap_or(Value::Null))
    }

    /// The text at `pointer`: strings as they are, other values as JSON, nothing as "".
    pub fn text(&self, pointer: &str) -> String {
        match self.get(pointer) {
            Value::Null => String::new(),
            Value::String(s) => s,
            other => other.to_string(),
        }
    }

    pub fn len(&self, pointer: &str) -> usize {
        self.0.with(|v| v.pointer(pointer).and_then(Value::as_array).map_or(0, Vec::len))
    }

    pub fn set(&self, pointer: &str, value: Value) {
        self.0.update(|root| set_pointer(root, pointer, value));
    }

    /// Removes the key or item at `pointer`.
    pub fn remove(&self, pointer: &str) {
        let Some((parent, last)) = pointer.rsplit_once('/') else { return };
        self.0.update(|root| match root.pointer_mut(parent) {
            Some(Value::Object(map)) => {
                map.remove(&unescape(last));
            }
            Some(Value::Array(items)) => {
                if let Ok(i) = last.parse::<usize>() {
                    if i < items.len() {
                        items.remove(i);
                    }
                }
            }
            _ => {}
        });
    }

    /// Appends `value` to the list at `pointer`, making the list when there is none.
    pub fn push(&self, pointer: &str, value: Value) {
        self.0.update(|root| {
            if !root.pointer(pointer).is_some_and(Value::is_array) {
                set_pointer(root, pointer, json!([]));
            }
            if let Some(Value::Array(items)) = root.pointer_mut(pointer) {
                items.push(value);
            }
        });
    }

    /// Swaps items `a` and `b` of the list at `pointer`.
    pub fn swap(&self, pointer: &str, a: usize, b: usize) {
        self.0.update(|root| {
            if let Some(Value::Array(items)) = root.pointer_mut(pointer) {
                if a < items.len() && b < items.len() {
                    items.swap(a, b);
                }
            }
        });
    }
}

/// Sets the value at `pointer`, making the objects on the way.
fn set_pointer(root: &mut Value, pointer: &str, value: Value) {
    let mut at = root;
    let parts: Vec<String> = pointer.split('/').skip(1).map(unescape).collect();
    let Some((last, path)) = parts.split_last() else {
        *at = value;
        return;
    };
    for part in path {
        let next = match at {
            Value::Array(items) => match part.parse::<usize>() {
                Ok(i) if i < items.len() => &mut items[i],
                _ => return,
            },
            other => {
                if !other.is_object() {
                    *other = json!({});
                }
                other.as_object_mut().expect("made an object just above").entry(part.clone()).or_insert(Value::Null)
            }
        };
        at = next;
    }
    match at {
        Value::Array(items) => {
            if let Ok(i) = last.parse::<usize>() {
                if i < items.len() {
                    items[i] = value;
                }
            }
        }
        other => {
            if !other.is_object() {
                *other = json!({});
            }
            other.as_object_mut().expect("made an object just above").insert(last.clone(), value);
        }
    }
}

fn unescape(part: &str) -> String {
    part.replace("~1", "/").replace("~0", "~")
}

/// A key as a JSON pointer's part.
pub fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// A one-line text field for the string at `pointer`; empty text removes the key.
#[component]
pub fn TextField(draft: Draft, pointer: String, label: String, #[prop(optional, into)] hint: String, #[prop(optional)] multiline: bool) -> impl IntoView {
    let read = pointer.clone();
    let write = move |text: String| if text.is_empty() { draft.remove(&pointer) } else { draft.set(&pointer, Value::String(text)) };
    let input = if multiline {
        view! { <textarea rows="3" aria-label=label.clone() prop:value=move || draft.text(&read) on:input=move |ev| write(event_target_value(&ev))></textarea> }.into_any()
    } else {
        view! { <input type="text" aria-label=label.clone() prop:value=move || draft.text(&read) on:input=move |ev| write(event_target_value(&ev)) /> }.into_any()
    };
    view! {
        <label class="field">
            <span>{label}</span>
            {input}
            {(!hint.is_empty()).then(|| view! { <small class="hint">{hint}</small> })}
        </label>
    }
}

/// A text area holding the JSON value at `pointer`, written back once it parses.
#[component]
pub fn JsonField(draft: Draft, pointer: String, label: String, #[prop(optional, into)] hint: String) -> impl IntoView {
    let initial = {
        let value = draft.get(&pointer);
        if value.is_null() { String::new() } else { serde_json::to_string_pretty(&value).unwrap_or_default() }
    };
    let problem = RwSignal::new(None::<String>);
    let write = move |text: String| {
        if text.trim().is_empty() {
            draft.remove(&pointer);
            problem.set(None);
            return;
        }
        match serde_json::from_str::<Value>(&text) {
            Ok(value) => {
                draft.set(&pointer, value);
                problem.set(None);
            }
            Err(e) => problem.set(Some(format!("Not JSON yet: {e}"))),
        }
    };
    view! {
        <label class="field">
            <span>{label.clone()}</span>
            <textarea rows="4" class="code" aria-label=label on:input=move |ev| write(event_target_value(&ev))>{initial}</textarea>
            {(!hint.is_empty()).then(|| view! { <small class="hint">{hint}</small> })}
            {move || problem.get().map(|p| view! { <small class="error">{p}</small> })}
        </label>
    }
}

/// A tool's arguments as a form: one field per property of its input schema.
#[component]
pub fn SchemaForm(draft: Draft, pointer: String, schema: Value) -> impl IntoView {
    let required: Vec<String> = schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect();
    let properties = schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
    properties
        .into_iter()
        .map(|(name, property)| {
            let at = format!("{pointer}/{}", escape(&name));
            let label = if required.contains(&name) { format!("{name} *") } else { name.clone() };
            let hint = property.get("description").and_then(Value::as_str).unwrap_or_default().to_owned();
            match kind_of(&property) {
                "boolean" => {
                    let read = at.clone();
                    view! {
                        <label class="field checkbox">
                            <input type="checkbox" aria-label=label.clone() prop:checked=move || draft.get(&read) == Value::Bool(true)
                                on:change=move |ev| draft.set(&at, Value::Bool(event_target_checked(&ev))) />
                            <span>{label}</span>
                        </label>
                    }
                    .into_any()
                }
                "array" | "object" => view! { <JsonField draft pointer=at label hint /> }.into_any(),
                _ => view! { <TextField draft pointer=at label hint /> }.into_any(),
            }
        })
        .collect_view()
}

/// A property's JSON type, looking through `anyOf` (schemars writes optional values so).
fn kind_of(property: &Value) -> &str {
    let direct = match property.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null"),
        _ => None,
    };
    direct
        .or_else(|| property.get("anyOf").and_then(Value::as_array).into_iter().flatten().filter_map(|p| p.get("type")?.as_str()).find(|t| *t != "null"))
        .unwrap_or("string")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pointer_write_makes_the_objects_on_its_way() {
        let mut root = json!({"steps": [{"id": "a"}]});
        set_pointer(&mut root, "/steps/0/arguments/records", json!([]));
        set_pointer(&mut root, "/steps/0/arguments/a~1b", json!(1));
        assert_eq!(root, json!({"steps": [{"id": "a", "arguments": {"records": [], "a/b": 1}}]}));
        set_pointer(&mut root, "/steps/5/id", json!("x"));
        assert_eq!(root["steps"].as_array().unwrap().len(), 1, "no item is made past the end");
    }

    #[test]
    fn optional_properties_are_read_through_any_of() {
        assert_eq!(kind_of(&json!({"anyOf": [{"type": "null"}, {"type": "boolean"}]})), "boolean");
        assert_eq!(kind_of(&json!({"type": ["array", "null"]})), "array");
        assert_eq!(kind_of(&json!({})), "string");
    }
}
