//! The new-record form: one input per field Airtable lets us write.

use backend::model::airtable::{Field, FieldType, Fields, Record};
use leptos::prelude::*;
use serde_json::Value;

use super::cells::{input_value, is_writable, select_choices};
use super::create_record;

/// What a field's input takes, said under it.
fn hint(field: &Field) -> Option<String> {
    let choices = select_choices(field);
    match field.field_type {
        FieldType::SingleSelect if !choices.is_empty() => Some(format!("One of: {}.", choices.join(", "))),
        FieldType::MultipleSelects if !choices.is_empty() => Some(format!("Separate with commas. Options: {}.", choices.join(", "))),
        FieldType::MultipleRecordLinks => Some("Record IDs (rec…), separated by commas.".into()),
        FieldType::Percent => Some("A percentage, such as 40%.".into()),
        FieldType::DateTime => Some("A date and time, such as 2026-11-03T14:30:00Z.".into()),
        FieldType::Rating => Some("A whole number of stars.".into()),
        _ => None,
    }
}

/// One input's state: text for most fields, a tick for checkboxes.
#[derive(Clone)]
struct Input {
    field: Field,
    text: RwSignal<String>,
    checked: RwSignal<bool>,
}

#[component]
pub fn RecordForm(base_id: String, table: String, fields: Vec<Field>, on_done: Callback<Option<Record>>) -> impl IntoView {
    let inputs: Vec<Input> = fields
        .into_iter()
        .filter(is_writable)
        .map(|field| Input { field, text: RwSignal::new(String::new()), checked: RwSignal::new(false) })
        .collect();
    let inputs = StoredValue::new(inputs);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    let target = StoredValue::new((base_id, table));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        let mut fields = Fields::new();
        inputs.with_value(|inputs| {
            for input in inputs {
                let value = if input.field.field_type == FieldType::Checkbox {
                    if input.checked.get_untracked() { Value::Bool(true) } else { Value::Null }
                } else {
                    input_value(&input.field, &input.text.get_untracked())
                };
                if !value.is_null() {
                    fields.insert(input.field.name.clone(), value);
                }
            }
        });
        let (base_id, table) = target.get_value();
        pending.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match create_record(base_id, table, fields).await {
                Ok(record) => on_done.run(Some(record)),
                Err(e) => error.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    };
    let rows = inputs.with_value(|inputs| {
        inputs.iter().enumerate().map(|(i, input)| view! { <FieldInput input=input.clone() first=i == 0 /> }).collect_view()
    });
    view! {
        <section class="card record-form" aria-labelledby="new-record-title">
            <h2 id="new-record-title">"New record"</h2>
            <form class="form form-grid" on:submit=submit>
                {rows}
                {move || error.get().map(|e| view! { <p class="error form-wide" role="alert">{e}</p> })}
                <div class="form-actions form-wide">
                    <button type="submit" class="button" disabled=move || pending.get()>
                        {move || if pending.get() { "Creating…" } else { "Create record" }}
                    </button>
                    <button type="button" class="button secondary" on:click=move |_| on_done.run(None)>"Cancel"</button>
                </div>
            </form>
        </section>
    }
}

#[component]
fn FieldInput(input: Input, first: bool) -> impl IntoView {
    let field = input.field;
    let id = format!("new-{}", field.id);
    let hint_id = format!("{id}-hint");
    let hint = hint(&field);
    let described = hint.as_ref().map(|_| hint_id.clone());
    let wide = matches!(field.field_type, FieldType::MultilineText | FieldType::RichText);
    let control = match field.field_type {
        FieldType::Checkbox => view! {
            <input id=id.clone() type="checkbox" bind:checked=input.checked aria-describedby=described />
        }
        .into_any(),
        FieldType::MultilineText | FieldType::RichText => view! {
            <textarea id=id.clone() rows="3" bind:value=input.text aria-describedby=described></textarea>
        }
        .into_any(),
        FieldType::SingleSelect => {
            let options = select_choices(&field).into_iter().map(|c| {
                let value = c.clone();
                view! { <option value=value>{c}</option> }
            }).collect_view();
            view! {
                <select id=id.clone() bind:value=input.text aria-describedby=described>
                    <option value="">"—"</option>
                    {options}
                </select>
            }
            .into_any()
        }
        ref t => {
            let (kind, mode) = match t {
                FieldType::Email => ("email", None),
                FieldType::Url => ("url", None),
                FieldType::PhoneNumber => ("tel", None),
                FieldType::Date => ("date", None),
                FieldType::Number | FieldType::Currency | FieldType::Percent | FieldType::Rating | FieldType::Duration => {
                    ("text", Some("decimal"))
                }
                _ => ("text", None),
            };
            let node = NodeRef::<leptos::html::Input>::new();
            if first {
                node.on_load(|el| {
                    let _ = el.focus();
                });
            }
            view! { <input node_ref=node id=id.clone() type=kind inputmode=mode bind:value=input.text aria-describedby=described /> }
                .into_any()
        }
    };
    let checkbox = field.field_type == FieldType::Checkbox;
    view! {
        <div class="field" class:form-wide=wide class:field-check=checkbox>
            <label for=id>{field.name.clone()}</label>
            {control}
            {hint.map(|h| view! { <span id=hint_id class="hint">{h}</span> })}
        </div>
    }
}
