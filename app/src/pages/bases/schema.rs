//! A table's schema as a list of fields: type, options in a few words, description, primary.

use backend::model::airtable::{BaseSchema, Field, FieldType, Table};
use leptos::prelude::*;
use serde_json::Value;

use super::cells::select_choices;

/// The name a person reads for a field type.
pub fn type_label(field_type: &FieldType) -> String {
    match field_type {
        FieldType::SingleLineText => "Single line text".into(),
        FieldType::MultilineText => "Long text".into(),
        FieldType::RichText => "Rich text".into(),
        FieldType::Email => "Email".into(),
        FieldType::Url => "URL".into(),
        FieldType::PhoneNumber => "Phone number".into(),
        FieldType::Number => "Number".into(),
        FieldType::Currency => "Currency".into(),
        FieldType::Percent => "Percent".into(),
        FieldType::Rating => "Rating".into(),
        FieldType::Duration => "Duration".into(),
        FieldType::Checkbox => "Checkbox".into(),
        FieldType::SingleSelect => "Single select".into(),
        FieldType::MultipleSelects => "Multiple select".into(),
        FieldType::Date => "Date".into(),
        FieldType::DateTime => "Date and time".into(),
        FieldType::MultipleRecordLinks => "Link to another record".into(),
        FieldType::CreatedTime => "Created time".into(),
        FieldType::LastModifiedTime => "Last modified time".into(),
        FieldType::AutoNumber => "Autonumber".into(),
        FieldType::Other(name) => name.clone(),
    }
}

/// The options that matter to someone filling the field in, in a few words.
fn options_summary(field: &Field, schema: &BaseSchema) -> String {
    let options = field.options.as_ref();
    let get = |key: &str| options.and_then(|o| o.get(key));
    let decimals = |p: u64| match p {
        0 => "Whole numbers".to_owned(),
        1 => "1 decimal place".to_owned(),
        p => format!("{p} decimal places"),
    };
    match field.field_type {
        FieldType::SingleSelect | FieldType::MultipleSelects => {
            let choices = select_choices(field);
            if choices.is_empty() { "No options yet".into() } else { choices.join(", ") }
        }
        FieldType::MultipleRecordLinks => {
            let linked = get("linkedTableId").and_then(Value::as_str).unwrap_or_default();
            match schema.table(linked) {
                Some(table) => format!("Links to {}", table.name),
                None => "Links to another table".into(),
            }
        }
        FieldType::Currency => {
            let symbol = get("symbol").and_then(Value::as_str).unwrap_or("$");
            let places = get("precision").and_then(Value::as_u64).map(decimals).unwrap_or_default();
            format!("{symbol} · {places}").trim_end_matches(" · ").to_owned()
        }
        FieldType::Number | FieldType::Percent => get("precision").and_then(Value::as_u64).map(decimals).unwrap_or_default(),
        FieldType::Rating => get("max").and_then(Value::as_u64).map(|m| format!("Out of {m}")).unwrap_or_default(),
        FieldType::Date | FieldType::DateTime => get("dateFormat")
            .and_then(|d| d.get("format"))
            .and_then(Value::as_str)
            .map(|f| format!("Format {f}"))
            .unwrap_or_default(),
        FieldType::CreatedTime | FieldType::LastModifiedTime | FieldType::AutoNumber => "Set by Airtable".into(),
        _ => String::new(),
    }
}

#[component]
pub fn SchemaPanel(table: Table, schema: BaseSchema) -> impl IntoView {
    let rows = table
        .fields
        .iter()
        .map(|field| {
            let primary = field.id == table.primary_field_id;
            let summary = options_summary(field, &schema);
            view! {
                <tr>
                    <th scope="row">
                        {field.name.clone()}
                        {primary.then(|| view! { <span class="badge badge-primary">"Primary"</span> })}
                    </th>
                    <td>{type_label(&field.field_type)}</td>
                    <td class="muted">{summary}</td>
                    <td class="muted">{field.description.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="card schema-card">
            <table class="table">
                <caption class="visually-hidden">{format!("Fields of {}", table.name)}</caption>
                <thead>
                    <tr><th scope="col">"Field"</th><th scope="col">"Type"</th><th scope="col">"Options"</th><th scope="col">"Description"</th></tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
