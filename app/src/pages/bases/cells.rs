//! One cell of the records grid: how each field type is shown, how typed text becomes a value,
//! and editing a cell in place (click, type, Enter or leave the cell to save, Escape to cancel).

use backend::model::airtable::{Field, FieldType, Fields, RecordId};
use leptos::prelude::*;
use serde_json::Value;

use super::update_record;

/// Whether the grid and the new-record form offer to write this field.
pub fn is_writable(field: &Field) -> bool {
    !field.field_type.is_computed() && !matches!(field.field_type, FieldType::Other(_))
}

/// Whether values of this type line up on the right, as numbers do.
pub fn is_numeric(field_type: &FieldType) -> bool {
    matches!(
        field_type,
        FieldType::Number | FieldType::Currency | FieldType::Percent | FieldType::Duration | FieldType::AutoNumber
    )
}

/// The value to send for text typed into a cell of `field`. Blank text clears the cell; numbers
/// and lists are converted here, and everything else goes as text for Airtable's `typecast`.
pub fn input_value(field: &Field, text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Null;
    }
    let list = |separators: &[char]| {
        Value::Array(
            text.split(separators)
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| Value::String(item.to_owned()))
                .collect(),
        )
    };
    match &field.field_type {
        t if is_numeric(t) || *t == FieldType::Rating => t.parse_number(text)
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::String(text.trim().to_owned()), Value::Number),
        FieldType::MultipleSelects => list(&[',']),
        FieldType::MultipleRecordLinks => list(&[',', ' ', '\n']),
        FieldType::Checkbox => Value::String(text.trim().to_owned()),
        _ => Value::String(text.to_owned()),
    }
}

/// The text an editor starts from: what [`input_value`] reads back to the same value.
pub fn edit_text(field: &Field, value: Option<&Value>) -> String {
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Number(n)) if field.field_type == FieldType::Percent => {
            format!("{}%", plain(n.as_f64().unwrap_or_default() * 100.0))
        }
        Some(Value::Number(n)) => n.as_f64().map(plain).unwrap_or_else(|| n.to_string()),
        Some(other) => plain_text(other),
    }
}

/// A number without float noise: 0.1 * 3 shows as 0.3.
fn plain(n: f64) -> String {
    let rounded = (n * 1e9).round() / 1e9;
    rounded.to_string()
}

/// Text for any value: lists joined with ", ", objects by their name or ID.
pub fn plain_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "true" } else { "" }.to_owned(),
        Value::Number(n) => n.as_f64().map(plain).unwrap_or_else(|| n.to_string()),
        Value::Array(items) => items.iter().map(plain_text).collect::<Vec<_>>().join(", "),
        Value::Object(map) => ["name", "filename", "id"]
            .iter()
            .find_map(|key| map.get(*key).and_then(Value::as_str))
            .map_or_else(|| value.to_string(), str::to_owned),
    }
}

fn precision(field: &Field) -> Option<usize> {
    field.options.as_ref().and_then(|o| o.get("precision")).and_then(Value::as_u64).map(|p| p.min(8) as usize)
}

/// Digits with thousands separators: 12000.5 → "12,000.5".
fn grouped(text: &str) -> String {
    let (sign, rest) = text.strip_prefix('-').map_or(("", text), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// A number as its field shows it: "$12,000", "50%", "2.5", "1:30" for a duration.
pub fn number_text(field: &Field, n: f64) -> String {
    let fixed = |n: f64, default: Option<usize>| match precision(field).or(default) {
        Some(p) => format!("{n:.p$}"),
        None => plain(n),
    };
    match field.field_type {
        FieldType::Currency => {
            let symbol = field.options.as_ref().and_then(|o| o.get("symbol")).and_then(Value::as_str).unwrap_or("$");
            let text = grouped(&fixed(n.abs(), Some(2)));
            if n < 0.0 { format!("-{symbol}{text}") } else { format!("{symbol}{text}") }
        }
        FieldType::Percent => format!("{}%", fixed(n * 100.0, Some(0))),
        FieldType::Duration => {
            let total = n.round() as i64;
            format!("{}:{:02}", total / 3600, (total % 3600) / 60)
        }
        FieldType::Number => fixed(n, None),
        _ => plain(n),
    }
}

/// The colour family of a select choice, from Airtable's colour name (e.g. `blueLight2`).
fn choice_hue(field: &Field, name: &str) -> &'static str {
    const HUES: [&str; 10] = ["blue", "cyan", "teal", "green", "yellow", "orange", "red", "pink", "purple", "gray"];
    let color = field
        .options
        .as_ref()
        .and_then(|o| o.get("choices"))
        .and_then(Value::as_array)
        .and_then(|choices| choices.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(name)))
        .and_then(|c| c.get("color"))
        .and_then(Value::as_str)
        .unwrap_or("");
    HUES.iter().find(|hue| color.starts_with(**hue)).copied().unwrap_or("none")
}

/// A cell's value, shown as its type is: ticks, chips, counts, aligned numbers, text.
pub fn cell_view(field: &Field, value: Option<&Value>) -> AnyView {
    let Some(value) = value.filter(|v| !v.is_null()) else {
        return ().into_any();
    };
    match (&field.field_type, value) {
        (FieldType::Checkbox, Value::Bool(checked)) => {
            checked.then(|| view! { <span class="check" title="Checked">"✓"</span> }).into_any()
        }
        (FieldType::SingleSelect, Value::String(name)) => {
            let class = format!("chip chip-{}", choice_hue(field, name));
            view! { <span class=class>{name.clone()}</span> }.into_any()
        }
        (FieldType::MultipleSelects, Value::Array(items)) => items
            .iter()
            .map(|item| {
                let name = plain_text(item);
                let class = format!("chip chip-{}", choice_hue(field, &name));
                view! { <span class=class>{name}</span> }
            })
            .collect_view()
            .into_any(),
        (FieldType::MultipleRecordLinks, Value::Array(items)) => {
            let ids = items.iter().map(plain_text).collect::<Vec<_>>().join(", ");
            let label = if items.len() == 1 { "1 record".to_owned() } else { format!("{} records", items.len()) };
            view! { <span class="chip chip-link" title=ids>{label}</span> }.into_any()
        }
        (FieldType::Rating, Value::Number(n)) => {
            let max = field.options.as_ref().and_then(|o| o.get("max")).and_then(Value::as_u64).unwrap_or(5).min(10) as usize;
            let stars = (n.as_f64().unwrap_or_default().round().max(0.0) as usize).min(max);
            let text = format!("{}{}", "★".repeat(stars), "☆".repeat(max - stars));
            view! { <span class="rating" title=format!("{stars} of {max}")>{text}</span> }.into_any()
        }
        (t, Value::Number(n)) if is_numeric(t) => number_text(field, n.as_f64().unwrap_or_default()).into_any(),
        (FieldType::MultilineText | FieldType::RichText, Value::String(text)) => {
            view! { <span class="cell-long" title=text.clone()>{text.clone()}</span> }.into_any()
        }
        (_, other) => plain_text(other).into_any(),
    }
}

/// The record a cell belongs to, for saving it.
#[derive(Debug, Clone, PartialEq)]
pub struct CellOwner {
    pub base_id: String,
    pub table: String,
    pub record_id: RecordId,
}

/// One cell, editable in place unless Airtable computes it. A failed save keeps the editor open
/// with the typed text and says why.
#[component]
pub fn GridCell(owner: CellOwner, field: Field, value: Option<Value>) -> impl IntoView {
    let numeric = is_numeric(&field.field_type);
    let writable = is_writable(&field);
    let owner = StoredValue::new(owner);
    let field = StoredValue::new(field);
    let value = RwSignal::new(value);
    let editing = RwSignal::new(false);
    let draft = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    // After a save or a cancel, the cell's button takes the focus back from the editor.
    let refocus = RwSignal::new(false);

    let save = move |new: Value| {
        let (base_id, table, record_id) = owner.with_value(|o| (o.base_id.clone(), o.table.clone(), o.record_id.to_string()));
        let name = field.with_value(|f| f.name.clone());
        let mut fields = Fields::new();
        fields.insert(name.clone(), new);
        saving.set(true);
        leptos::task::spawn_local(async move {
            match update_record(base_id, table, record_id, fields).await {
                Ok(record) => {
                    value.set(record.fields.get(&name).cloned());
                    error.set(None);
                    refocus.set(true);
                    editing.set(false);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            saving.set(false);
        });
    };
    let commit = move || {
        if saving.get_untracked() || !editing.get_untracked() {
            return;
        }
        let text = draft.get_untracked();
        let unchanged = field.with_value(|f| value.with_untracked(|v| edit_text(f, v.as_ref()) == text));
        if unchanged {
            error.set(None);
            refocus.set(true);
            editing.set(false);
        } else {
            save(field.with_value(|f| input_value(f, &text)));
        }
    };
    let cancel = move || {
        error.set(None);
        refocus.set(true);
        editing.set(false);
    };
    let start = move || {
        draft.set(field.with_value(|f| value.with_untracked(|v| edit_text(f, v.as_ref()))));
        error.set(None);
        editing.set(true);
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Enter" if !ev.shift_key() => {
            ev.prevent_default();
            commit();
        }
        "Escape" => {
            ev.prevent_default();
            cancel();
        }
        _ => {}
    };

    let content = move || {
        let name = field.with_value(|f| f.name.clone());
        let is_checkbox = field.with_value(|f| f.field_type == FieldType::Checkbox);
        if !writable {
            return view! { <span class="cell-static">{move || field.with_value(|f| value.with(|v| cell_view(f, v.as_ref())))}</span> }
                .into_any();
        }
        if is_checkbox {
            let checked = move || value.with(|v| v.as_ref().and_then(Value::as_bool).unwrap_or(false));
            let toggle = move |_| {
                if !saving.get_untracked() {
                    save(Value::Bool(!checked()));
                }
            };
            return view! {
                <button type="button" class="cell-button cell-toggle" aria-pressed=move || checked().to_string()
                    aria-label=name disabled=move || saving.get() on:click=toggle>
                    {move || checked().then_some("✓")}
                </button>
            }
            .into_any();
        }
        if editing.get() {
            let multiline = field.with_value(|f| matches!(f.field_type, FieldType::MultilineText | FieldType::RichText));
            let label = format!("Edit {name}");
            let list_id = format!("choices-{}-{}", owner.with_value(|o| o.record_id.to_string()), field.with_value(|f| f.id.to_string()));
            let choices = field.with_value(select_choices);
            let input_type = field.with_value(|f| match f.field_type {
                FieldType::Date => "date",
                FieldType::Email => "email",
                FieldType::Url => "url",
                FieldType::PhoneNumber => "tel",
                _ => "text",
            });
            let editor = if multiline {
                let area = NodeRef::<leptos::html::Textarea>::new();
                area.on_load(|el| {
                    let _ = el.focus();
                    el.select();
                });
                view! {
                    <textarea node_ref=area class="cell-input" aria-label=label rows="3" bind:value=draft
                        aria-invalid=move || error.with(Option::is_some).to_string()
                        on:keydown=on_key on:blur=move |_| commit() readonly=move || saving.get()></textarea>
                }
                .into_any()
            } else {
                let input = NodeRef::<leptos::html::Input>::new();
                input.on_load(|el| {
                    let _ = el.focus();
                    if el.type_() == "text" {
                        el.select();
                    }
                });
                let list = (!choices.is_empty()).then(|| list_id.clone());
                view! {
                    <input node_ref=input class="cell-input" type=input_type aria-label=label bind:value=draft list=list
                        aria-invalid=move || error.with(Option::is_some).to_string()
                        on:keydown=on_key on:blur=move |_| commit() readonly=move || saving.get() />
                }
                .into_any()
            };
            let datalist = (!choices.is_empty()).then(|| {
                view! { <datalist id=list_id>{choices.into_iter().map(|c| view! { <option value=c></option> }).collect_view()}</datalist> }
            });
            return view! {
                <div class="cell-editor">
                    {editor}
                    {datalist}
                    {move || saving.get().then(|| view! { <span class="cell-saving" role="status">"Saving…"</span> })}
                </div>
            }
            .into_any();
        }
        let button = NodeRef::<leptos::html::Button>::new();
        if refocus.get_untracked() {
            refocus.set(false);
            button.on_load(|el| {
                let _ = el.focus();
            });
        }
        view! {
            <button type="button" class="cell-button" node_ref=button title=format!("Edit {name}") on:click=move |_| start()>
                {move || field.with_value(|f| value.with(|v| cell_view(f, v.as_ref())))}
            </button>
        }
        .into_any()
    };
    view! {
        <div class="cell" class:num=numeric>
            {content}
            {move || error.get().map(|e| view! { <p class="cell-error" role="alert">{e}</p> })}
        </div>
    }
}

/// The names of a select field's choices, offered while typing.
pub fn select_choices(field: &Field) -> Vec<String> {
    if !matches!(field.field_type, FieldType::SingleSelect | FieldType::MultipleSelects) {
        return Vec::new();
    }
    field
        .options
        .as_ref()
        .and_then(|o| o.get("choices"))
        .and_then(Value::as_array)
        .map(|choices| choices.iter().filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_owned)).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use backend::model::airtable::FieldId;
    use serde_json::json;

    use super::*;

    fn field(field_type: FieldType, options: Option<Value>) -> Field {
        Field { id: FieldId::parse("fldAAAAAAAAAAAAAA").unwrap(), name: "F".into(), field_type, description: None, options }
    }

    #[test]
    fn typed_numbers_are_sent_as_numbers() {
        assert_eq!(input_value(&field(FieldType::Number, None), "1,200.5"), json!(1200.5));
        assert_eq!(input_value(&field(FieldType::Currency, None), "$12"), json!(12.0));
        assert_eq!(input_value(&field(FieldType::Percent, None), "15%"), json!(0.15));
        assert_eq!(input_value(&field(FieldType::Percent, None), "15"), json!(0.15));
    }

    #[test]
    fn text_that_is_not_a_number_is_left_for_airtable_to_refuse() {
        assert_eq!(input_value(&field(FieldType::Number, None), "lots"), json!("lots"));
    }

    #[test]
    fn blank_text_clears_a_cell() {
        assert_eq!(input_value(&field(FieldType::SingleLineText, None), "  "), Value::Null);
    }

    #[test]
    fn lists_are_split_on_commas() {
        assert_eq!(input_value(&field(FieldType::MultipleSelects, None), "QA, Docs,"), json!(["QA", "Docs"]));
        assert_eq!(
            input_value(&field(FieldType::MultipleRecordLinks, None), "recAAAAAAAAAAAAAA, recBBBBBBBBBBBBBB"),
            json!(["recAAAAAAAAAAAAAA", "recBBBBBBBBBBBBBB"])
        );
    }

    #[test]
    fn the_editor_starts_from_text_that_reads_back_the_same() {
        let percent = field(FieldType::Percent, None);
        assert_eq!(edit_text(&percent, Some(&json!(0.3))), "30%");
        assert_eq!(input_value(&percent, &edit_text(&percent, Some(&json!(0.3)))), json!(0.3));
        let tags = field(FieldType::MultipleSelects, None);
        assert_eq!(edit_text(&tags, Some(&json!(["QA", "Docs"]))), "QA, Docs");
        assert_eq!(edit_text(&field(FieldType::Number, None), Some(&json!(2.5))), "2.5");
    }

    #[test]
    fn numbers_show_as_their_field_formats_them() {
        let money = field(FieldType::Currency, Some(json!({ "precision": 0, "symbol": "$" })));
        assert_eq!(number_text(&money, 125000.0), "$125,000");
        assert_eq!(number_text(&money, -5.0), "-$5");
        assert_eq!(number_text(&field(FieldType::Percent, Some(json!({ "precision": 0 }))), 0.5), "50%");
        assert_eq!(number_text(&field(FieldType::Number, Some(json!({ "precision": 1 }))), 3.0), "3.0");
        assert_eq!(number_text(&field(FieldType::Number, None), 3.0), "3");
        assert_eq!(number_text(&field(FieldType::Duration, None), 5400.0), "1:30");
    }
}
