//! `/bases/:base/:table`: a table's records in a grid (paged, sorted, searched, filtered,
//! edited in place, created and deleted) and its schema.

use backend::model::airtable::{BaseSchema, Direction, Field, Record, RecordId, RecordPage, Sort, Table};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::cells::{CellOwner, GridCell, plain_text};
use super::record_form::RecordForm;
use super::schema::SchemaPanel;
use super::{ErrorNotice, PAGE_SIZE, Trail, delete_record, get_base_schema, list_bases, list_records};
use crate::components::dialog::modal_while;
use crate::components::loading::Loading;
use crate::components::signed_in::SignedIn;
use crate::error::AppError;
use crate::pages::changes::{UndoButton, UndoTarget};

#[component]
pub fn TablePage() -> impl IntoView {
    let params = use_params_map();
    let ids = move || params.with(|p| (p.get("base").unwrap_or_default(), p.get("table").unwrap_or_default()));
    view! {
        <SignedIn let:_user>
            {move || {
                let (base_id, table) = ids();
                view! { <TableScreen base_id table /> }
            }}
        </SignedIn>
    }
}

/// The grid's view of the table: which page, in what order, narrowed how.
#[derive(Debug, Clone, Default, PartialEq)]
struct Listing {
    /// The offsets of the pages before this one; the last is this page's.
    offsets: Vec<String>,
    sort: Option<Sort>,
    search: String,
    filter: Option<Filter>,
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    field: String,
    op: String,
    value: String,
}

impl Listing {
    fn is_narrowed(&self) -> bool {
        !self.search.is_empty() || self.filter.is_some()
    }
}

/// Everything the parts of a table screen share.
#[derive(Clone, Copy)]
struct Screen {
    base_id: StoredValue<String>,
    table_id: StoredValue<String>,
    listing: RwSignal<Listing>,
    /// Counts writes, so the current page is fetched again after one.
    version: RwSignal<u32>,
    /// The record waiting for the user to confirm its deletion, with its name.
    deleting: RwSignal<Option<(RecordId, String)>>,
    creating: RwSignal<bool>,
    status: RwSignal<Option<String>>,
    /// The change that deleted a record just now, which the status line offers to undo.
    undoable: RwSignal<Option<String>>,
}

#[component]
fn TableScreen(base_id: String, table: String) -> impl IntoView {
    let bases = Resource::new(|| (), |_| list_bases());
    let schema = {
        let base_id = base_id.clone();
        Resource::new(move || base_id.clone(), get_base_schema)
    };
    let screen = Screen {
        base_id: StoredValue::new(base_id.clone()),
        table_id: StoredValue::new(table.clone()),
        listing: RwSignal::new(Listing::default()),
        version: RwSignal::new(0),
        deleting: RwSignal::new(None),
        creating: RwSignal::new(false),
        status: RwSignal::new(None),
        undoable: RwSignal::new(None),
    };
    let records = Resource::new(
        move || (screen.listing.get(), screen.version.get()),
        move |(listing, _)| {
            let (base_id, table) = (screen.base_id.get_value(), screen.table_id.get_value());
            let (sort_field, sort_direction) = match listing.sort {
                Some(sort) => (Some(sort.field), Some(if sort.direction == Direction::Desc { "desc" } else { "asc" }.to_owned())),
                None => (None, None),
            };
            let (filter_field, filter_op, filter_value) = match listing.filter {
                Some(f) => (Some(f.field), Some(f.op), Some(f.value)),
                None => (None, None, None),
            };
            let search = Some(listing.search).filter(|s| !s.is_empty());
            list_records(base_id, table, listing.offsets.last().cloned(), sort_field, sort_direction, search, filter_field, filter_op, filter_value)
        },
    );
    view! {
        <section class="page table-page">
            <Suspense fallback=move || view! { <Loading what="the table" /> }>
                {
                    let base_id = base_id.clone();
                    let table = table.clone();
                    move || {
                        let (base_id, table) = (base_id.clone(), table.clone());
                        Suspend::new(async move {
                            match schema.await {
                                Ok(schema) => match schema.table(&table).cloned() {
                                    Some(found) => view! { <TableView bases base_id schema table=found screen records /> }.into_any(),
                                    None => view! {
                                        <Trail bases base_id=base_id.clone() table=Some((table.clone(), table.clone())) />
                                        <ErrorNotice error=AppError::NotFound(format!("The table “{table}”")) />
                                    }
                                    .into_any(),
                                },
                                Err(e) => view! {
                                    <Trail bases base_id=base_id.clone() table=None />
                                    <ErrorNotice error=e />
                                }
                                .into_any(),
                            }
                        })
                    }
                }
            </Suspense>
        </section>
    }
}

#[component]
fn TableView(
    bases: Resource<Result<super::BaseList, AppError>>,
    base_id: String,
    schema: BaseSchema,
    table: Table,
    screen: Screen,
    records: Resource<Result<RecordPage, AppError>>,
) -> impl IntoView {
    let tab = RwSignal::new(Tab::Records);
    let field_count = table.fields.len();
    let columns = StoredValue::new(columns(&table));
    let table_name = table.name.clone();
    view! {
        <Trail bases base_id table=Some((table.id.to_string(), table.name.clone())) />
        {table.description.clone().map(|d| view! { <p class="muted table-description">{d}</p> })}
        <div class="tabs" role="tablist" aria-label="Table views">
            <TabButton tab current=Tab::Records label="Records".to_owned() />
            <TabButton tab current=Tab::Fields label=format!("Fields ({field_count})") />
        </div>
        <div id="panel-records" role="tabpanel" aria-labelledby="tab-records" hidden=move || tab.get() != Tab::Records>
            <Toolbar screen columns />
            {move || screen.status.get().map(|s| view! {
                <div class="status-line">
                    <p class="success" role="status">{s}</p>
                    {screen.undoable.get().map(|id| view! {
                        <UndoButton target=UndoTarget::Change(id) label="Undo"
                            on_undone=Callback::new(move |()| screen.version.update(|v| *v += 1)) />
                    })}
                </div>
            })}
            {move || screen.creating.get().then(|| view! {
                <RecordForm base_id=screen.base_id.get_value() table=screen.table_id.get_value() fields=columns.get_value()
                    on_done=Callback::new(move |created: Option<Record>| {
                        screen.creating.set(false);
                        if let Some(record) = created {
                            let name = columns.with_value(|c| primary_text(c, &record));
                            screen.status.set(Some(format!("Created “{name}”. New records are added at the end of the table.")));
                            screen.version.update(|v| *v += 1);
                        }
                    }) />
            })}
            <RecordsGrid screen columns records table_name />
        </div>
        <div id="panel-fields" role="tabpanel" aria-labelledby="tab-fields" hidden=move || tab.get() != Tab::Fields>
            <SchemaPanel table schema />
        </div>
        <DeleteDialog screen />
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tab {
    Records,
    Fields,
}

#[component]
fn TabButton(tab: RwSignal<Tab>, current: Tab, label: String) -> impl IntoView {
    let id = if current == Tab::Records { "tab-records" } else { "tab-fields" };
    let controls = if current == Tab::Records { "panel-records" } else { "panel-fields" };
    view! {
        <button type="button" role="tab" id=id aria-controls=controls class="tab"
            aria-selected=move || (tab.get() == current).to_string()
            tabindex=move || if tab.get() == current { "0" } else { "-1" }
            on:click=move |_| tab.set(current)>
            {label}
        </button>
    }
}

/// The table's fields as the grid's columns, the primary field first.
fn columns(table: &Table) -> Vec<Field> {
    let mut fields = table.fields.clone();
    if let Some(i) = fields.iter().position(|f| f.id == table.primary_field_id) {
        let primary = fields.remove(i);
        fields.insert(0, primary);
    }
    fields
}

/// The record's name: its primary field's text, or its ID when that is empty.
fn primary_text(columns: &[Field], record: &Record) -> String {
    columns
        .first()
        .and_then(|f| record.fields.get(&f.name))
        .map(plain_text)
        .filter(|t| !t.trim().is_empty())
        .unwrap_or_else(|| record.id.to_string())
}

#[component]
fn Toolbar(screen: Screen, columns: StoredValue<Vec<Field>>) -> impl IntoView {
    let search = RwSignal::new(String::new());
    let filter_field = RwSignal::new(String::new());
    let filter_op = RwSignal::new("contains".to_owned());
    let filter_value = RwSignal::new(String::new());
    let submit_search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = search.get_untracked().trim().to_owned();
        screen.listing.update(|l| {
            l.search = text;
            l.offsets.clear();
        });
    };
    let clear_search = move |_| {
        search.set(String::new());
        screen.listing.update(|l| {
            l.search.clear();
            l.offsets.clear();
        });
    };
    let submit_filter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let field = filter_field.get_untracked();
        let filter = (!field.is_empty()).then(|| Filter { field, op: filter_op.get_untracked(), value: filter_value.get_untracked() });
        screen.listing.update(|l| {
            l.filter = filter;
            l.offsets.clear();
        });
    };
    let clear_filter = move |_| {
        filter_field.set(String::new());
        filter_value.set(String::new());
        screen.listing.update(|l| {
            l.filter = None;
            l.offsets.clear();
        });
    };
    let field_options = columns.with_value(|c| {
        c.iter().map(|f| view! { <option value=f.name.clone()>{f.name.clone()}</option> }).collect_view()
    });
    view! {
        <div class="toolbar">
            <form class="toolbar-group" role="search" on:submit=submit_search>
                <label class="visually-hidden" for="record-search">"Search records"</label>
                <input id="record-search" type="search" placeholder="Search text fields" bind:value=search />
                <button type="submit" class="button secondary small">"Search"</button>
                {move || (!screen.listing.with(|l| l.search.is_empty())).then(|| view! {
                    <button type="button" class="button secondary small" on:click=clear_search>"Clear search"</button>
                })}
            </form>
            <form class="toolbar-group" aria-label="Filter" on:submit=submit_filter>
                <label class="visually-hidden" for="filter-field">"Filter field"</label>
                <select id="filter-field" bind:value=filter_field>
                    <option value="">"Filter by field…"</option>
                    {field_options}
                </select>
                <label class="visually-hidden" for="filter-op">"Filter operator"</label>
                <select id="filter-op" bind:value=filter_op>
                    <option value="contains">"contains"</option>
                    <option value="is">"is"</option>
                </select>
                <label class="visually-hidden" for="filter-value">"Filter value"</label>
                <input id="filter-value" type="text" placeholder="Value" bind:value=filter_value />
                <button type="submit" class="button secondary small">"Apply filter"</button>
                {move || screen.listing.with(|l| l.filter.is_some()).then(|| view! {
                    <button type="button" class="button secondary small" on:click=clear_filter>"Clear filter"</button>
                })}
            </form>
            <button type="button" class="button small toolbar-new" on:click=move |_| {
                screen.status.set(None);
                screen.undoable.set(None);
                screen.creating.set(true);
            }>"New record"</button>
        </div>
    }
}

#[component]
fn RecordsGrid(
    screen: Screen,
    columns: StoredValue<Vec<Field>>,
    records: Resource<Result<RecordPage, AppError>>,
    table_name: String,
) -> impl IntoView {
    let (pending, set_pending) = signal(false);
    let table_name = StoredValue::new(table_name);
    view! {
        <div class="grid-area" aria-busy=move || pending.get().to_string()>
            {move || pending.get().then(|| view! { <span class="grid-busy" role="status">"Loading…"</span> })}
            <Transition fallback=|| view! { <GridSkeleton /> } set_pending>
                {move || Suspend::new(async move {
                    match records.await {
                        Ok(page) => view! { <GridPage screen columns page table_name=table_name.get_value() /> }.into_any(),
                        Err(e) => view! {
                            <div class="error-state">
                                <ErrorNotice error=e />
                                <button type="button" class="button secondary small" on:click=move |_| screen.version.update(|v| *v += 1)>"Try again"</button>
                            </div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

/// Grey rows in the grid's shape while the first page loads.
#[component]
fn GridSkeleton() -> impl IntoView {
    view! {
        <div class="grid-skeleton" role="status">
            <span class="visually-hidden">"Loading records…"</span>
            {(0..6).map(|_| view! { <div class="skeleton-row" aria-hidden="true"></div> }).collect_view()}
        </div>
    }
}

#[component]
fn GridPage(screen: Screen, columns: StoredValue<Vec<Field>>, page: RecordPage, table_name: String) -> impl IntoView {
    let listing = screen.listing.get_untracked();
    let page_number = listing.offsets.len() + 1;
    if page.records.is_empty() && page_number == 1 {
        return if listing.is_narrowed() {
            view! {
                <div class="empty-state">
                    <p>"No records match your search or filter."</p>
                    <button type="button" class="button secondary small" on:click=move |_| screen.listing.update(|l| {
                        l.search.clear();
                        l.filter = None;
                        l.offsets.clear();
                    })>"Show all records"</button>
                </div>
            }
            .into_any()
        } else {
            view! {
                <div class="empty-state">
                    <p>"This table has no records yet."</p>
                    <button type="button" class="button small" on:click=move |_| screen.creating.set(true)>"Create a record"</button>
                </div>
            }
            .into_any()
        };
    }
    let first = (page_number - 1) * PAGE_SIZE as usize + 1;
    let last = first + page.records.len().saturating_sub(1);
    let range = if page.records.is_empty() { "No records on this page".to_owned() } else { format!("Records {first}–{last}") };
    let next = page.offset.clone();
    let has_next = next.is_some();
    let headers = columns.with_value(|c| c.iter().enumerate().map(|(i, f)| view! { <ColumnHeader screen field=f.clone() primary=i == 0 /> }).collect_view());
    let rows = page
        .records
        .into_iter()
        .map(|record| view! { <GridRow screen columns record /> })
        .collect_view();
    view! {
        <div class="grid-scroll" role="region" aria-label=format!("{table_name} records") tabindex="0">
            <table class="grid">
                <thead>
                    <tr>
                        {headers}
                        <th scope="col" class="grid-actions"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <button type="button" class="button secondary small" disabled=page_number == 1
                on:click=move |_| screen.listing.update(|l| { l.offsets.pop(); })>"Previous"</button>
            <span class="muted">{format!("Page {page_number} · {range}")}</span>
            <button type="button" class="button secondary small" disabled=!has_next
                on:click=move |_| if let Some(offset) = next.clone() { screen.listing.update(|l| l.offsets.push(offset)) }>"Next"</button>
        </nav>
    }
    .into_any()
}

/// A column's header; clicking it sorts by the field, then reverses, then stops sorting.
#[component]
fn ColumnHeader(screen: Screen, field: Field, primary: bool) -> impl IntoView {
    let name = field.name.clone();
    let direction = {
        let name = name.clone();
        move || screen.listing.with(|l| l.sort.as_ref().filter(|s| s.field == name).map(|s| s.direction))
    };
    let aria_sort = {
        let direction = direction.clone();
        move || match direction() {
            Some(Direction::Asc) => "ascending",
            Some(Direction::Desc) => "descending",
            None => "none",
        }
    };
    let arrow = {
        let direction = direction.clone();
        move || match direction() {
            Some(Direction::Asc) => "▲",
            Some(Direction::Desc) => "▼",
            None => "",
        }
    };
    let click = {
        let name = name.clone();
        move |_| {
            let next = match direction() {
                None => Some(Sort { field: name.clone(), direction: Direction::Asc }),
                Some(Direction::Asc) => Some(Sort { field: name.clone(), direction: Direction::Desc }),
                Some(Direction::Desc) => None,
            };
            screen.listing.update(|l| {
                l.sort = next;
                l.offsets.clear();
            });
        }
    };
    let numeric = super::cells::is_numeric(&field.field_type);
    view! {
        <th scope="col" aria-sort=aria_sort class:primary=primary class:num=numeric>
            <button type="button" class="sort-button" on:click=click title=format!("Sort by {name}")>
                <span>{name.clone()}</span>
                <span class="sort-arrow" aria-hidden="true">{arrow}</span>
            </button>
        </th>
    }
}

#[component]
fn GridRow(screen: Screen, columns: StoredValue<Vec<Field>>, record: Record) -> impl IntoView {
    let name = columns.with_value(|c| primary_text(c, &record));
    let owner = CellOwner { base_id: screen.base_id.get_value(), table: screen.table_id.get_value(), record_id: record.id.clone() };
    let cells = columns.with_value(|c| {
        c.iter()
            .enumerate()
            .map(|(i, field)| {
                let cell = view! { <GridCell owner=owner.clone() field=field.clone() value=record.fields.get(&field.name).cloned() /> };
                if i == 0 {
                    view! { <th scope="row" class="primary">{cell}</th> }.into_any()
                } else {
                    view! { <td>{cell}</td> }.into_any()
                }
            })
            .collect_view()
    });
    let id = record.id.clone();
    let ask = {
        let name = name.clone();
        move |_| {
            screen.status.set(None);
            screen.undoable.set(None);
            screen.deleting.set(Some((id.clone(), name.clone())));
        }
    };
    view! {
        <tr>
            {cells}
            <td class="grid-actions">
                <button type="button" class="button danger small" aria-label=format!("Delete {name}") on:click=ask>"Delete"</button>
            </td>
        </tr>
    }
}

/// Asks before a record is deleted, in a modal dialog; Escape or Cancel keeps it.
#[component]
fn DeleteDialog(screen: Screen) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    modal_while(dialog, move || screen.deleting.with(Option::is_some));
    let confirm = move |_| {
        let Some((id, name)) = screen.deleting.get_untracked() else { return };
        pending.set(true);
        error.set(None);
        let (base_id, table) = (screen.base_id.get_value(), screen.table_id.get_value());
        leptos::task::spawn_local(async move {
            match delete_record(base_id, table, id.to_string()).await {
                Ok(deleted) => {
                    screen.deleting.set(None);
                    screen.undoable.set(deleted.change_id);
                    screen.status.set(Some(format!("Deleted “{name}”.")));
                    screen.version.update(|v| *v += 1);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            pending.set(false);
        });
    };
    let cancel = move |_| screen.deleting.set(None);
    view! {
        <dialog node_ref=dialog class="dialog" aria-labelledby="delete-title" aria-describedby="delete-text"
            on:close=move |_| {
                error.set(None);
                screen.deleting.set(None);
            }>
            <h2 id="delete-title">"Delete this record?"</h2>
            <p id="delete-text">
                {move || screen.deleting.get().map(|(_, name)| format!("“{name}” will be deleted. You can undo it afterwards, here or from Changes."))}
            </p>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="dialog-actions">
                <button type="button" class="button secondary" on:click=cancel autofocus>"Cancel"</button>
                <button type="button" class="button danger" on:click=confirm disabled=move || pending.get()>"Delete record"</button>
            </div>
        </dialog>
    }
}
