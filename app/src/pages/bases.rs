//! The base browser: `/bases` lists the user's bases, `/bases/:base` a base's tables, and
//! `/bases/:base/:table` a table's records and schema. Also the server functions they call.

mod cells;
mod record_form;
mod schema;
mod table;

use backend::model::airtable::{BaseSchema, BaseSummary, ConnectionKind, Fields, Record, RecordId, RecordPage};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::loading::Loading;
use crate::components::signed_in::SignedIn;
use crate::error::AppError;

pub use schema::type_label;
pub use table::TablePage;

/// Records per page in the grid.
pub const PAGE_SIZE: u32 = 25;

/// The bases a user can open, and what they are connected to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseList {
    /// `Sandbox` when the user works in the local sandbox rather than on Airtable.
    pub kind: ConnectionKind,
    pub bases: Vec<BaseSummary>,
}

/// The caller's bases, on Airtable or in their sandbox.
#[server(prefix = "/api", endpoint = "bases/list", input = Json)]
pub async fn list_bases() -> Result<BaseList, AppError> {
    let principal = crate::auth::require_user()?;
    let connection = crate::auth::services().connections.for_user(&principal.user.id).await?;
    let bases = connection.client.list_bases().await?;
    Ok(BaseList { kind: connection.kind, bases })
}

/// A base's tables and their fields.
#[server(prefix = "/api", endpoint = "bases/schema", input = Json)]
pub async fn get_base_schema(base_id: String) -> Result<BaseSchema, AppError> {
    let principal = crate::auth::require_user()?;
    let base = ssr::base_id(&base_id)?;
    let connection = crate::auth::services().connections.for_user(&principal.user.id).await?;
    Ok(connection.client.base_schema(&base).await?.as_ref().clone())
}

/// One page of a table's records (25), after `offset`, sorted by one field, narrowed by a search
/// of its text fields and by one filter (`filter_op` is `is` or `contains`).
#[allow(clippy::too_many_arguments)]
#[server(prefix = "/api", endpoint = "records/list", input = Json)]
pub async fn list_records(
    base_id: String,
    table: String,
    offset: Option<String>,
    sort_field: Option<String>,
    sort_direction: Option<String>,
    search: Option<String>,
    filter_field: Option<String>,
    filter_op: Option<String>,
    filter_value: Option<String>,
) -> Result<RecordPage, AppError> {
    let principal = crate::auth::require_user()?;
    let base = ssr::base_id(&base_id)?;
    let connection = crate::auth::services().connections.for_user(&principal.user.id).await?;
    let schema = connection.client.base_schema(&base).await?;
    let table = ssr::table(&schema, &table)?;
    let listing = ssr::Listing {
        offset,
        sort_field,
        sort_direction,
        search,
        filter_field,
        filter_op,
        filter_value,
    };
    let query = ssr::list_query(table, listing)?;
    Ok(connection.client.list_records(&base, table.id.as_str(), &query).await?)
}

/// Creates one record. Text is read as Airtable's `typecast` reads it, so "12" fills a number.
#[server(prefix = "/api", endpoint = "records/create", input = Json)]
pub async fn create_record(base_id: String, table: String, fields: Fields) -> Result<Record, AppError> {
    let principal = crate::auth::require_writer()?;
    let base = ssr::base_id(&base_id)?;
    let connection = crate::auth::services().connections.for_user(&principal.user.id).await?;
    let created = connection.client.create_records(&base, &table, &[fields], true).await?;
    created.into_iter().next().ok_or_else(|| AppError::Upstream("Airtable did not return the new record. Reload the table to check whether it was created.".into()).with_status())
}

/// Changes some of a record's fields; the others keep their values.
#[server(prefix = "/api", endpoint = "records/update", input = Json)]
pub async fn update_record(base_id: String, table: String, record_id: String, fields: Fields) -> Result<Record, AppError> {
    use backend::airtable::{RecordUpdate, UpdateMode};

    let principal = crate::auth::require_writer()?;
    let base = ssr::base_id(&base_id)?;
    let id = ssr::record_id(&record_id)?;
    let connection = crate::auth::services().connections.for_user(&principal.user.id).await?;
    let update = RecordUpdate { id, fields };
    let updated = connection.client.update_records(&base, &table, &[update], UpdateMode::Merge, true).await?;
    updated.into_iter().next().ok_or_else(|| AppError::Upstream("Airtable did not return the changed record. Reload the table to check the change.".into()).with_status())
}

/// A deleted record, and the change that can bring it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeletedRecord {
    pub record_id: RecordId,
    pub change_id: Option<String>,
}

/// Deletes one record, as a change that Undo reverses.
#[server(prefix = "/api", endpoint = "records/delete", input = Json)]
pub async fn delete_record(base_id: String, table: String, record_id: String) -> Result<DeletedRecord, AppError> {
    use backend::model::analytics::ToolSource;
    use backend::model::sagas::SagaSource;
    use backend::tools::ToolContext;

    let principal = crate::auth::require_writer()?;
    let base = ssr::base_id(&base_id)?;
    let id = ssr::record_id(&record_id)?;
    let services = crate::auth::services();
    let connection = services.connections.for_user(&principal.user.id).await?;
    // A record that can't be reached is reported as Airtable reports it (not found), before a
    // change is recorded for it.
    connection.client.get_record(&base, &table, &id).await?;
    let context = ToolContext::new(connection.client, ToolSource::Rest, Some(principal.user.id.to_string()));
    let arguments = serde_json::json!({ "base_id": base_id, "table": table, "record_ids": [record_id] });
    let answer = services.sagas.write_as(&context, SagaSource::Browser, "delete_records", arguments).await?;
    let change_id = answer.get("change_id").and_then(|c| c.as_str()).map(str::to_owned);
    Ok(DeletedRecord { record_id: id, change_id })
}

#[cfg(feature = "ssr")]
mod ssr {
    use backend::airtable::filters::{self, FilterOp};
    use backend::airtable::{ListQuery, formula};
    use backend::model::airtable::{BaseId, BaseSchema, Direction, Field, RecordId, Sort, Table};

    use crate::error::AppError;

    fn invalid(message: String) -> AppError {
        AppError::Invalid(message).with_status()
    }

    pub fn base_id(raw: &str) -> Result<BaseId, AppError> {
        BaseId::parse(raw).map_err(|e| invalid(format!("{e}.")))
    }

    pub fn record_id(raw: &str) -> Result<RecordId, AppError> {
        RecordId::parse(raw).map_err(|e| invalid(format!("{e}.")))
    }

    /// The table named or identified by `id_or_name`.
    pub fn table<'a>(schema: &'a BaseSchema, id_or_name: &str) -> Result<&'a Table, AppError> {
        schema
            .table(id_or_name)
            .ok_or_else(|| AppError::NotFound(format!("The table “{id_or_name}”")).with_status())
    }

    /// What the grid asks of a listing, as typed in the browser.
    #[derive(Debug, Default)]
    pub struct Listing {
        pub offset: Option<String>,
        pub sort_field: Option<String>,
        pub sort_direction: Option<String>,
        pub search: Option<String>,
        pub filter_field: Option<String>,
        pub filter_op: Option<String>,
        pub filter_value: Option<String>,
    }

    /// Turns the grid's settings into Airtable's listing parameters. User text only enters the
    /// formula through `formula`'s builders, never by concatenation.
    pub fn list_query(table: &Table, listing: Listing) -> Result<ListQuery, AppError> {
        let given = |text: Option<String>| text.filter(|t| !t.trim().is_empty());
        let mut query = ListQuery {
            page_size: Some(super::PAGE_SIZE),
            offset: given(listing.offset),
            ..ListQuery::default()
        };
        if let Some(name) = given(listing.sort_field) {
            let field = field(table, &name)?;
            let direction = match given(listing.sort_direction).as_deref().map(str::trim) {
                None | Some("asc") => Direction::Asc,
                Some("desc") => Direction::Desc,
                Some(other) => {
                    return Err(invalid(format!("“{other}” is not a sort direction: use “asc” or “desc”.")));
                }
            };
            query.sort = vec![Sort { field: field.name.clone(), direction }];
        }
        let mut parts = Vec::new();
        if let Some(needle) = given(listing.search) {
            parts.push(filters::search(table, &needle, &[]).map_err(|e| invalid(e.0))?);
        }
        if let Some(name) = given(listing.filter_field) {
            let field = field(table, &name)?;
            let value = listing.filter_value.unwrap_or_default();
            let op = listing.filter_op.unwrap_or_else(|| "is".into());
            let op = match FilterOp::parse(&op) {
                Some(op @ (FilterOp::Is | FilterOp::Contains)) => op,
                _ => return Err(invalid(format!("“{}” is not a filter: use “is” or “contains”.", op.trim()))),
            };
            parts.push(filters::condition(field, op, &value).map_err(|e| invalid(e.0))?);
        }
        if !parts.is_empty() {
            query.filter_by_formula = Some(formula::and(&parts));
        }
        Ok(query)
    }

    fn field<'a>(table: &'a Table, name: &str) -> Result<&'a Field, AppError> {
        filters::field(table, name).map_err(|e| invalid(e.0))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// The table as Airtable's Meta API would describe it.
        fn tasks() -> Table {
            serde_json::from_value(serde_json::json!({
                "id": "tblAAAAAAAAAAAAAA",
                "name": "Tasks",
                "primaryFieldId": "fldAAAAAAAAAAAAAA",
                "fields": [
                    { "id": "fldAAAAAAAAAAAAAA", "name": "Task", "type": "singleLineText" },
                    { "id": "fldBAAAAAAAAAAAAA", "name": "Status", "type": "singleSelect" },
                    { "id": "fldCAAAAAAAAAAAAA", "name": "Estimate", "type": "number" },
                    { "id": "fldDAAAAAAAAAAAAA", "name": "Done", "type": "checkbox" },
                    { "id": "fldEAAAAAAAAAAAAA", "name": "Due", "type": "date" }
                ]
            }))
            .expect("a valid table")
        }

        fn listing() -> Listing {
            Listing::default()
        }

        #[test]
        fn a_plain_listing_asks_for_one_page_of_25() {
            let query = list_query(&tasks(), listing()).unwrap();
            assert_eq!(query.page_size, Some(25));
            assert_eq!(query.filter_by_formula, None);
            assert!(query.sort.is_empty());
        }

        #[test]
        fn a_search_looks_in_every_text_field_and_nowhere_else() {
            let query = list_query(&tasks(), Listing { search: Some("it's".into()), ..listing() }).unwrap();
            let formula = query.filter_by_formula.unwrap();
            assert!(formula.starts_with("OR("), "{formula}");
            assert!(formula.contains("{Task}") && formula.contains("{Status}"), "{formula}");
            assert!(!formula.contains("{Estimate}"), "{formula}");
            assert!(formula.contains(r"'it\'s'"), "the quote is escaped: {formula}");
        }

        #[test]
        fn a_filter_value_cannot_break_out_of_its_string() {
            let hostile = "x') & TRUE() & ('";
            let query = list_query(
                &tasks(),
                Listing { filter_field: Some("Task".into()), filter_op: Some("is".into()), filter_value: Some(hostile.into()), ..listing() },
            )
            .unwrap();
            assert_eq!(query.filter_by_formula.unwrap(), r"{Task} = 'x\') & TRUE() & (\''");
        }

        #[test]
        fn is_compares_numbers_checkboxes_and_dates_by_their_type() {
            let filter_on = |name: &str, value: &str| {
                list_query(
                    &tasks(),
                    Listing { filter_field: Some(name.into()), filter_op: Some("is".into()), filter_value: Some(value.into()), ..listing() },
                )
                .map(|q| q.filter_by_formula.unwrap())
            };
            assert_eq!(filter_on("Estimate", "2.5").unwrap(), "{Estimate} = 2.5");
            assert_eq!(filter_on("Done", "checked").unwrap(), "{Done} = TRUE()");
            assert!(filter_on("Due", "2026-11-01").unwrap().starts_with("IS_SAME({Due}"));
            assert!(matches!(filter_on("Estimate", "lots"), Err(AppError::Invalid(_))));
        }

        #[test]
        fn search_and_filter_must_both_hold() {
            let query = list_query(
                &tasks(),
                Listing {
                    search: Some("ship".into()),
                    filter_field: Some("Status".into()),
                    filter_op: Some("contains".into()),
                    filter_value: Some("Do".into()),
                    ..listing()
                },
            )
            .unwrap();
            assert!(query.filter_by_formula.unwrap().starts_with("AND(OR("));
        }

        #[test]
        fn unknown_fields_and_operators_are_explained() {
            let sorted = list_query(&tasks(), Listing { sort_field: Some("Nope".into()), ..listing() });
            assert_eq!(sorted.unwrap_err().to_string(), "The table “Tasks” has no field “Nope”. Its fields are: Task, Status, Estimate, Done, Due.");
            let op = list_query(&tasks(), Listing { filter_field: Some("Task".into()), filter_op: Some("like".into()), ..listing() });
            assert_eq!(op.unwrap_err().to_string(), "“like” is not a filter: use “is” or “contains”.");
            let direction = list_query(
                &tasks(),
                Listing { sort_field: Some("Due".into()), sort_direction: Some("up".into()), ..listing() },
            );
            assert!(matches!(direction, Err(AppError::Invalid(_))));
        }

        #[test]
        fn a_sort_uses_the_field_name() {
            let query = list_query(
                &tasks(),
                Listing { sort_field: Some("Estimate".into()), sort_direction: Some("desc".into()), ..listing() },
            )
            .unwrap();
            assert_eq!(query.sort, vec![Sort { field: "Estimate".into(), direction: Direction::Desc }]);
        }

        #[test]
        fn ids_of_the_wrong_kind_are_refused_with_a_clear_message() {
            let err = base_id("tblAAAAAAAAAAAAAA").unwrap_err();
            assert!(err.to_string().contains("start with “app”"), "{err}");
            assert!(record_id("recAAAAAAAAAAAAAA").is_ok());
        }
    }
}

#[component]
pub fn BasesPage() -> impl IntoView {
    view! {
        <Title text="Bases" />
        <SignedIn let:_user>
            <section class="page bases-page">
                <h1>"Bases"</h1>
                <BaseListing />
            </section>
        </SignedIn>
    }
}

#[component]
fn BaseListing() -> impl IntoView {
    let bases = Resource::new(|| (), |_| list_bases());
    view! {
        <Suspense fallback=|| view! { <Loading what="bases" /> }>
            {move || Suspend::new(async move {
                match bases.await {
                    Ok(list) => view! { <BaseCards list /> }.into_any(),
                    Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn BaseCards(list: BaseList) -> impl IntoView {
    let sandbox = list.kind == ConnectionKind::Sandbox;
    let empty = list.bases.is_empty();
    let cards = list
        .bases
        .into_iter()
        .map(|base| {
            let href = format!("/bases/{}", base.id);
            view! {
                <li class="card base-card">
                    <h2><a href=href>{base.name}</a></h2>
                    <p class="base-meta">
                        <code>{base.id.to_string()}</code>
                        {sandbox.then(|| view! { <span class="badge badge-sandbox">"Sandbox"</span> })}
                        <span class="muted">{permission_label(&base.permission_level)}</span>
                    </p>
                </li>
            }
        })
        .collect_view();
    view! {
        {sandbox.then(|| view! {
            <p class="muted sandbox-note">
                "You are working in the "<strong>"sandbox"</strong>
                ": a local stand-in for Airtable with a demo base to try things on. Nothing here changes your Airtable bases."
            </p>
        })}
        {if empty {
            view! { <p class="empty-state">"No bases yet. Bases your Airtable token can reach appear here."</p> }.into_any()
        } else {
            view! { <ul class="base-cards" aria-label="Bases">{cards}</ul> }.into_any()
        }}
    }
}

fn permission_label(level: &str) -> String {
    match level {
        "create" => "Creator".into(),
        "edit" => "Editor".into(),
        "comment" => "Commenter".into(),
        "read" => "Read only".into(),
        other => other.to_owned(),
    }
}

#[component]
pub fn BasePage() -> impl IntoView {
    let params = use_params_map();
    let base_id = move || params.read().get("base").unwrap_or_default();
    view! {
        <SignedIn let:_user>
            {move || view! { <BaseTables base_id=base_id() /> }}
        </SignedIn>
    }
}

#[component]
fn BaseTables(base_id: String) -> impl IntoView {
    let bases = Resource::new(|| (), |_| list_bases());
    let schema = {
        let base_id = base_id.clone();
        Resource::new(move || base_id.clone(), get_base_schema)
    };
    view! {
        <section class="page bases-page">
            <Trail bases base_id=base_id.clone() table=None />
            <Suspense fallback=|| view! { <Loading what="tables" /> }>
                {
                    let base_id = base_id.clone();
                    move || {
                        let base_id = base_id.clone();
                        Suspend::new(async move {
                            match schema.await {
                                Ok(schema) => view! { <TableCards base_id schema /> }.into_any(),
                                Err(e) => view! { <ErrorNotice error=e /> }.into_any(),
                            }
                        })
                    }
                }
            </Suspense>
        </section>
    }
}

#[component]
fn TableCards(base_id: String, schema: BaseSchema) -> impl IntoView {
    if schema.tables.is_empty() {
        return view! { <p class="empty-state">"This base has no tables yet."</p> }.into_any();
    }
    let rows = schema
        .tables
        .into_iter()
        .map(|table| {
            let href = format!("/bases/{base_id}/{}", table.id);
            let count = table.fields.len();
            view! {
                <tr>
                    <th scope="row"><a href=href>{table.name}</a></th>
                    <td class="muted">{table.description.unwrap_or_default()}</td>
                    <td class="num">{count}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="card">
            <table class="table">
                <thead><tr><th scope="col">"Table"</th><th scope="col">"Description"</th><th scope="col" class="num">"Fields"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
    .into_any()
}

/// The page's heading and breadcrumb: Bases › base › table, with the base's name once known.
#[component]
fn Trail(bases: Resource<Result<BaseList, AppError>>, base_id: String, table: Option<(String, String)>) -> impl IntoView {
    let fallback_name = base_id.clone();
    let heading_fallback = table.as_ref().map(|(_, name)| name.clone()).unwrap_or_else(|| base_id.clone());
    let trail = move |name: String, sandbox: bool| {
        let base_href = format!("/bases/{base_id}");
        let heading = table.as_ref().map(|(_, t)| t.clone()).unwrap_or_else(|| name.clone());
        view! {
            <Title text=heading.clone() />
            <nav aria-label="Breadcrumb" class="breadcrumb">
                <ol>
                    <li><a href="/bases">"Bases"</a></li>
                    {match &table {
                        Some(_) => view! { <li><a href=base_href>{name.clone()}</a></li> }.into_any(),
                        None => view! { <li><a href=base_href aria-current="page">{name.clone()}</a></li> }.into_any(),
                    }}
                </ol>
            </nav>
            <h1 class="page-title">
                {heading}
                {sandbox.then(|| view! { <span class="badge badge-sandbox">"Sandbox"</span> })}
            </h1>
        }
    };
    view! {
        <Suspense fallback=move || view! { <h1 class="page-title">{heading_fallback.clone()}</h1> }>
            {
                let trail = trail.clone();
                let fallback_name = fallback_name.clone();
                move || {
                    let trail = trail.clone();
                    let fallback_name = fallback_name.clone();
                    Suspend::new(async move {
                        let (name, sandbox) = match bases.await {
                            Ok(list) => {
                                let name = list.bases.iter().find(|b| b.id.as_str() == fallback_name).map(|b| b.name.clone());
                                (name.unwrap_or(fallback_name), list.kind == ConnectionKind::Sandbox)
                            }
                            Err(_) => (fallback_name, false),
                        };
                        trail(name, sandbox)
                    })
                }
            }
        </Suspense>
    }
}

/// A failed call, with the server's explanation of what to do.
#[component]
fn ErrorNotice(error: AppError) -> impl IntoView {
    view! { <p class="error" role="alert">{error.to_string()}</p> }
}
