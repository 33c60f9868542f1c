//! `/files/:id`: one file's first rows with each column's inferred type, the mapping of its
//! columns to a table's fields (existing or new, or skipped), and its imports' progress.

use std::time::Duration;

use backend::model::airtable::{BaseSchema, BaseSummary, FieldType};
use backend::model::files::{Column, ColumnMapping, ColumnType, DateOrder, FileSummary, ImportProgress, ImportRequest, Preview};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::progress::{ImportList, ticker};
use super::{CancelImport, ImportFile, get_file, list_imports, preview_file, size};
use crate::components::numbers::grouped;
use crate::components::signed_in::SignedIn;
use crate::error::AppError;
use crate::pages::bases::{get_base_schema, list_bases, type_label};

/// The rows of the preview.
const PREVIEW_ROWS: usize = 10;
/// The choice in a column's field list that makes a new field.
const NEW_FIELD: &str = "+new";
/// The types a new field can have: those a file's values are read as.
const NEW_FIELD_TYPES: [FieldType; 13] = [
    FieldType::SingleLineText,
    FieldType::MultilineText,
    FieldType::Number,
    FieldType::Currency,
    FieldType::Percent,
    FieldType::Checkbox,
    FieldType::Date,
    FieldType::DateTime,
    FieldType::Email,
    FieldType::Url,
    FieldType::PhoneNumber,
    FieldType::SingleSelect,
    FieldType::MultipleSelects,
];

#[component]
pub fn FilePage() -> impl IntoView {
    view! {
        <Title text="File" />
        <SignedIn let:_me>
            <FileScreen />
        </SignedIn>
    }
}

/// What the file's page loads, made once at its top so that hydration finds every resource
/// where the server rendered it.
#[derive(Clone, Copy)]
struct Screen {
    file: Resource<Result<FileSummary, AppError>>,
    /// The workbook sheet shown; `None` for the first.
    sheet: RwSignal<Option<String>>,
    preview: Resource<Result<Preview, AppError>>,
    /// The base chosen in the form; `None` for the first.
    base: RwSignal<Option<String>>,
    target: Resource<Result<Target, AppError>>,
    imports: Resource<Result<Vec<ImportProgress>, AppError>>,
    running: RwSignal<bool>,
    import: ServerAction<ImportFile>,
    cancel: ServerAction<CancelImport>,
}

/// The bases to choose from, the chosen one, and its tables.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Target {
    bases: Vec<BaseSummary>,
    base_id: String,
    schema: BaseSchema,
}

async fn load_target(chosen: Option<String>) -> Result<Target, AppError> {
    let bases = list_bases().await?.bases;
    let Some(base_id) = chosen.or_else(|| bases.first().map(|b| b.id.to_string())) else {
        return Ok(Target { bases, base_id: String::new(), schema: BaseSchema { tables: vec![] } });
    };
    let schema = get_base_schema(base_id.clone()).await?;
    Ok(Target { bases, base_id, schema })
}

#[component]
fn FileScreen() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let sheet = RwSignal::new(None::<String>);
    let base = RwSignal::new(None::<String>);
    let running = RwSignal::new(false);
    let ticks = ticker(running.into(), Duration::from_secs(1));
    let import = ServerAction::<ImportFile>::new();
    let cancel = ServerAction::<CancelImport>::new();
    let screen = Screen {
        file: Resource::new(id, get_file),
        sheet,
        preview: Resource::new(move || (id(), sheet.get()), |(id, sheet)| preview_file(id, sheet, Some(PREVIEW_ROWS))),
        base,
        target: Resource::new(move || base.get(), load_target),
        imports: Resource::new(move || (id(), ticks.get(), import.version().get(), cancel.version().get()), |(id, ..)| list_imports(Some(id))),
        running,
        import,
        cancel,
    };
    let Screen { imports, running, cancel, .. } = screen;
    // One suspense for everything the form needs (no suspense inside another), so the page
    // hydrates the same however the server's answers arrive.
    view! {
        <section class="page file-page">
            <p><a href="/files">"← All files"</a></p>
            <Transition fallback=|| view! { <p class="muted">"Loading the file…"</p> }>
                {move || Suspend::new(async move {
                    let file = match screen.file.await {
                        Ok(file) => file,
                        Err(e) => return view! { <h1>"File"</h1><p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    };
                    let table = if file.kind.is_table() { Some((screen.preview.await, screen.target.await)) } else { None };
                    view! { <FileView file table screen /> }.into_any()
                })}
            </Transition>
            {move || screen.import.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            {move || cancel.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            <ImportList imports running cancel with_file=false />
        </section>
    }
}

#[component]
fn FileView(file: FileSummary, table: Option<(Result<Preview, AppError>, Result<Target, AppError>)>, screen: Screen) -> impl IntoView {
    let sheet = screen.sheet;
    let rows = file.rows.unwrap_or_default();
    let summary = format!("{} · {} · {} rows", file.kind.label(), size(file.size), grouped(rows));
    let sheets = file.sheets.clone();
    let body = match table {
        None => view! { <p>"This is a document, not a table, so it can't be imported. Attach it to a message in the chat (Attach, beside the message box) and the assistant reads it."</p> }.into_any(),
        Some((Ok(preview), Ok(target))) => view! {
            <PreviewTable preview=preview.clone() />
            <MappingForm file_id=file.id.clone() file_name=file.name.clone() sheet=sheet.get_untracked() columns=preview.columns target screen />
        }
        .into_any(),
        Some((Err(e), _) | (_, Err(e))) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    };
    view! {
        <h1>{file.name.clone()}</h1>
        <p class="muted">{summary}</p>
        {(sheets.len() > 1).then(|| view! {
            <label class="field-inline">"Sheet "
                <select on:change=move |ev| sheet.set(Some(event_target_value(&ev)))>
                    {sheets.iter().map(|s| { let selected = sheet.get_untracked().as_ref() == Some(s); view! { <option value=s.clone() selected=selected>{s.clone()}</option> } }).collect_view()}
                </select>
            </label>
        })}
        {body}
    }
}

/// The first rows as read, under each column's name and inferred type.
#[component]
fn PreviewTable(preview: Preview) -> impl IntoView {
    let head = preview
        .columns
        .iter()
        .map(|c| view! { <th>{c.name.clone()}<span class="hint column-type">{type_label(&c.inferred.field_type)}</span></th> })
        .collect_view();
    let body = preview
        .rows
        .into_iter()
        .map(|row| view! { <tr>{row.into_iter().map(|v| view! { <td>{v}</td> }).collect_view()}</tr> })
        .collect_view();
    view! {
        <h2>"First rows"</h2>
        <div class="table-scroll">
            <table class="table preview" data-testid="preview"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>
        </div>
    }
}

/// One column's choices in the mapping.
#[derive(Clone, Copy)]
struct ColumnChoice {
    /// "" to skip, [`NEW_FIELD`], or an existing field's name.
    target: RwSignal<String>,
    new_name: RwSignal<String>,
    new_type: RwSignal<FieldType>,
    date_order: RwSignal<Option<DateOrder>>,
}

#[component]
fn MappingForm(file_id: String, file_name: String, sheet: Option<String>, columns: Vec<Column>, target: Target, screen: Screen) -> impl IntoView {
    let Screen { base, import, .. } = screen;
    let base_id = target.base_id.clone();
    let (bases, current) = (target.bases.clone(), target.base_id.clone());
    let schema = StoredValue::new(target.schema);
    let schema_now = move || Some(schema.get_value());
    // "" is a new table, named below; otherwise an existing table's ID.
    let table = RwSignal::new(String::new());
    let stem = file_name.rsplit_once('.').map_or(file_name.as_str(), |(stem, _)| stem).to_owned();
    let new_table = RwSignal::new(stem);
    let key = RwSignal::new(String::new());
    let choices: Vec<ColumnChoice> = columns
        .iter()
        .map(|c| ColumnChoice {
            target: RwSignal::new(NEW_FIELD.to_owned()),
            new_name: RwSignal::new(c.name.clone()),
            new_type: RwSignal::new(c.inferred.field_type.clone()),
            date_order: RwSignal::new(c.inferred.date_order.filter(|o| *o != DateOrder::Ambiguous)),
        })
        .collect();
    let field_names = move || -> Vec<String> {
        let id = table.get();
        schema_now().and_then(|s| s.tables.into_iter().find(|t| t.id.as_str() == id)).map(|t| t.fields.into_iter().map(|f| f.name).collect()).unwrap_or_default()
    };
    // A column goes to the field of its name when the table has one, else to a new field.
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    let defaults = choices.clone();
    Effect::new(move |_| {
        let fields = field_names();
        for (choice, name) in defaults.iter().zip(&names) {
            let existing = fields.iter().find(|f| f.eq_ignore_ascii_case(name)).cloned();
            choice.target.set(existing.unwrap_or_else(|| NEW_FIELD.to_owned()));
        }
    });
    let field_type_of = move |name: &str| -> Option<FieldType> {
        let id = table.get();
        schema_now()?.tables.into_iter().find(|t| t.id.as_str() == id)?.fields.into_iter().find(|f| f.name == name).map(|f| f.field_type)
    };
    let rows = columns.clone();
    let request = {
        let choices = choices.clone();
        move || ImportRequest {
            file_id: file_id.clone(),
            sheet: sheet.clone(),
            base_id: base_id.clone(),
            table: match table.get_untracked() {
                id if id.is_empty() => new_table.get_untracked(),
                id => id,
            },
            mapping: Some(
                columns
                    .iter()
                    .zip(&choices)
                    .map(|(column, choice)| {
                        let target = choice.target.get_untracked();
                        let field = match target.as_str() {
                            "" => None,
                            NEW_FIELD => Some(choice.new_name.get_untracked()),
                            existing => Some(existing.to_owned()),
                        };
                        let column_type =
                            ColumnType { field_type: choice.new_type.get_untracked(), date_order: choice.date_order.get_untracked(), ..column.inferred.clone() };
                        ColumnMapping { column: column.name.clone(), field, column_type: Some(column_type) }
                    })
                    .collect(),
            ),
            key_field: Some(key.get_untracked()).filter(|k| !k.is_empty()),
        }
    };
    let mapped = {
        let choices = choices.clone();
        move || -> Vec<String> {
            choices
                .iter()
                .filter_map(|c| match c.target.get().as_str() {
                    "" => None,
                    NEW_FIELD => Some(c.new_name.get()),
                    existing => Some(existing.to_owned()),
                })
                .collect()
        }
    };
    view! {
        <h2>"Import into a table"</h2>
        <form class="import-form" on:submit=move |ev| {
            ev.prevent_default();
            import.dispatch(ImportFile { request: request() });
        }>
            <div class="import-target">
                <label>"Base"
                    <select name="base" aria-label="Base" on:change=move |ev| { base.set(Some(event_target_value(&ev))); table.set(String::new()); }>
                        {bases.into_iter().map(|b| { let id = b.id.to_string(); let selected = id == current; view! { <option value=id selected=selected>{b.name}</option> } }).collect_view()}
                    </select>
                </label>
                <label>"Table"
                    <select name="table" aria-label="Table" on:change=move |ev| table.set(event_target_value(&ev))>
                        <option value="" selected=move || table.get().is_empty()>"A new table"</option>
                        {move || schema_now().map(|s| s.tables.into_iter().map(|t| {
                            let id = t.id.to_string();
                            view! { <option value=id.clone() selected=move || table.get() == id>{t.name}</option> }
                        }).collect_view())}
                    </select>
                </label>
                {move || table.get().is_empty().then(|| view! {
                    <label>"New table's name"
                        <input type="text" name="new_table" prop:value=move || new_table.get() on:input=move |ev| new_table.set(event_target_value(&ev)) />
                    </label>
                })}
            </div>
            <table class="table mapping" data-testid="mapping">
                <thead><tr><th>"Column"</th><th>"Field"</th><th>"Type"</th><th>"Values that won't fit"</th></tr></thead>
                <tbody>
                    {rows.into_iter().zip(choices.clone()).map(|(column, choice)| view! { <MappingRow column choice field_names field_type_of /> }).collect_view()}
                </tbody>
            </table>
            <label class="field-inline">"Key field "
                <select name="key" on:change=move |ev| key.set(event_target_value(&ev))>
                    <option value="">"None: add every row"</option>
                    {move || mapped().into_iter().map(|name| view! { <option value=name.clone()>{name.clone()}</option> }).collect_view()}
                </select>
                <span class="hint">" Rows whose key matches a record update it, so importing again doesn't duplicate."</span>
            </label>
            <button type="submit" class="button" disabled=move || import.pending().get()>
                {move || if import.pending().get() { "Starting…".to_owned() } else { "Import".to_owned() }}
            </button>
        </form>
    }
}

#[component]
fn MappingRow(
    column: Column,
    choice: ColumnChoice,
    field_names: impl Fn() -> Vec<String> + Copy + Send + Sync + 'static,
    field_type_of: impl Fn(&str) -> Option<FieldType> + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let ambiguous = column.inferred.date_order == Some(DateOrder::Ambiguous);
    let name = column.name.clone();
    let (name_label, type_aria) = (format!("New field name for {name}"), format!("Type for {name}"));
    // The type values are read as: the new field's, or the existing field's.
    let read_as = move || match choice.target.get().as_str() {
        NEW_FIELD => Some(choice.new_type.get()),
        "" => None,
        existing => field_type_of(existing),
    };
    let is_date = move || matches!(read_as(), Some(FieldType::Date | FieldType::DateTime));
    view! {
        <tr data-column=name.clone()>
            <td>{name.clone()}</td>
            <td>
                <select aria-label=format!("Field for {name}") on:change=move |ev| choice.target.set(event_target_value(&ev))>
                    <option value="" selected=move || choice.target.get().is_empty()>"Skip this column"</option>
                    <option value=NEW_FIELD selected=move || choice.target.get() == NEW_FIELD>"New field"</option>
                    {move || field_names().into_iter().map(|f| {
                        let (value, label) = (f.clone(), f.clone());
                        view! { <option value=f selected=move || choice.target.get() == value>{label}</option> }
                    }).collect_view()}
                </select>
                {move || (choice.target.get() == NEW_FIELD).then(|| view! {
                    <input type="text" aria-label=name_label.clone() prop:value=move || choice.new_name.get() on:input=move |ev| choice.new_name.set(event_target_value(&ev)) />
                })}
            </td>
            <td>
                {move || match choice.target.get().as_str() {
                    NEW_FIELD => view! {
                        <select aria-label=type_aria.clone() on:change=move |ev| {
                            if let Ok(t) = serde_json::from_value(serde_json::Value::String(event_target_value(&ev))) { choice.new_type.set(t); }
                        }>
                            {NEW_FIELD_TYPES.iter().map(|t| {
                                let (value, current) = (t.name(), t.clone());
                                view! { <option value=value selected=move || choice.new_type.get() == current>{type_label(t)}</option> }
                            }).collect_view()}
                        </select>
                    }.into_any(),
                    "" => view! { <span class="muted">"—"</span> }.into_any(),
                    _ => view! { <span>{read_as().map(|t| type_label(&t)).unwrap_or_default()}</span> }.into_any(),
                }}
                {move || (ambiguous && is_date()).then(|| view! {
                    <select aria-label="Date order" required=true on:change=move |ev| choice.date_order.set(match event_target_value(&ev).as_str() {
                        "day_first" => Some(DateOrder::DayFirst),
                        "month_first" => Some(DateOrder::MonthFirst),
                        _ => None,
                    })>
                        <option value="">"Dates like 03/04: choose the order"</option>
                        <option value="day_first">"Day first (25/03/2024)"</option>
                        <option value="month_first">"Month first (03/25/2024)"</option>
                    </select>
                })}
            </td>
            <td class="num">{move || read_as().map(|t| grouped(column.misfits_for(&t))).unwrap_or_default()}</td>
        </tr>
    }
}
