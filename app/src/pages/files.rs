//! `/files`: the user's uploaded files, a place to drop more, and their imports; `/files/:id`:
//! one file's preview, its mapping to a table and its imports' progress. Also the server
//! functions scripts use. Uploads themselves arrive at `POST /api/files/upload`
//! (server/src/routes/files.rs), which streams past the 2 MiB limit server functions have.

mod detail;
pub(crate) mod progress;
pub(crate) mod upload;

use std::time::Duration;

use backend::model::files::{FileSummary, ImportProgress, ImportRequest, Preview};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;

use crate::components::numbers::grouped;
use crate::components::signed_in::SignedIn;
use crate::components::time::format_ms;
use crate::error::AppError;

pub use detail::FilePage;
use progress::{ImportList, ticker};


/// The caller's files, newest first.
#[server(prefix = "/api", endpoint = "files/list", input = Json)]
pub async fn list_files() -> Result<Vec<FileSummary>, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().files.list(&principal.user.id).await?)
}

/// One of the caller's files, with its columns and their inferred types.
#[server(prefix = "/api", endpoint = "files/get", input = Json)]
pub async fn get_file(id: String) -> Result<FileSummary, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().files.get(&principal.user.id, id.trim()).await?)
}

/// A table file's first rows as read (at most 50), under the chosen sheet's columns.
#[server(prefix = "/api", endpoint = "files/preview", input = Json)]
pub async fn preview_file(id: String, sheet: Option<String>, rows: Option<usize>) -> Result<Preview, AppError> {
    /// The most rows a preview shows.
    const PREVIEW_ROWS: usize = 50;
    let principal = crate::auth::require_user()?;
    let rows = rows.unwrap_or(PREVIEW_ROWS).clamp(1, PREVIEW_ROWS);
    let sheet = sheet.as_deref().map(str::trim).filter(|s| !s.is_empty());
    Ok(crate::auth::services().files.preview(&principal.user.id, id.trim(), sheet, rows).await?)
}

/// Deletes one of the caller's files.
#[server(prefix = "/api", endpoint = "files/delete", input = Json)]
pub async fn delete_file(id: String) -> Result<(), AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().files.delete(&principal.user.id, id.trim()).await?)
}

/// Starts importing one of the caller's table files; answers at once with its progress.
#[server(prefix = "/api", endpoint = "files/import", input = Json)]
pub async fn import_file(request: ImportRequest) -> Result<ImportProgress, AppError> {
    let principal = crate::auth::require_writer()?;
    let services = crate::auth::services();
    let client = services.connections.for_user(&principal.user.id).await?.client;
    let origin = backend::files::ImportOrigin { source: backend::model::sagas::SagaSource::Import, conversation_id: None };
    Ok(services.files.import(&principal.user.id, &client, &request, origin).await?)
}

/// How far one of the caller's imports has got.
#[server(prefix = "/api", endpoint = "files/import-status", input = Json)]
pub async fn import_status(id: String) -> Result<ImportProgress, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().files.import_status(&principal.user.id, id.trim()).await?)
}

/// The caller's imports of one file, or of all their files, newest first.
#[server(prefix = "/api", endpoint = "files/imports", input = Json)]
pub async fn list_imports(file_id: Option<String>) -> Result<Vec<ImportProgress>, AppError> {
    let principal = crate::auth::require_user()?;
    let file_id = file_id.as_deref().map(str::trim).filter(|f| !f.is_empty());
    Ok(crate::auth::services().files.imports(&principal.user.id, file_id).await?)
}

/// Stops a running import, keeping what it imported (`keep`) or undoing it.
#[server(prefix = "/api", endpoint = "files/cancel", input = Json)]
pub async fn cancel_import(id: String, keep: bool) -> Result<ImportProgress, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().files.cancel_import(&principal.user.id, id.trim(), keep).await?)
}

#[component]
pub fn FilesPage() -> impl IntoView {
    view! {
        <Title text="Files" />
        <SignedIn let:_me>
            <FilesScreen />
        </SignedIn>
    }
}

#[component]
fn FilesScreen() -> impl IntoView {
    let delete = ServerAction::<DeleteFile>::new();
    let cancel = ServerAction::<CancelImport>::new();
    let running = RwSignal::new(false);
    let ticks = ticker(running.into(), Duration::from_secs(1));
    let files = Resource::new(move || delete.version().get(), |_| list_files());
    let imports = Resource::new(move || (ticks.get(), cancel.version().get()), |_| list_imports(None));
    view! {
        <section class="page files-page">
            <h1>"Files"</h1>
            <p class="hint">
                "Bring CSV, Excel (XLSX, XLS, ODS) and JSON files into your tables: drop one here, check how its columns will be written, map them to fields and import. Documents for the assistant (text, Markdown, PDF, Word) are attached in the chat. Uploaded files are deleted after 30 days, or the period your administrator set."
            </p>
            <UploadZone />
            {move || delete.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading files…"</p> }>
                {move || Suspend::new(async move {
                    match files.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No files yet."</p> }.into_any(),
                        Ok(list) => view! { <FileTable list delete /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <ImportList imports running cancel with_file=true />
        </section>
    }
}

/// Drop a file here or pick one; once uploaded, its page opens.
#[component]
fn UploadZone() -> impl IntoView {
    let (state, set_state) = signal(None::<Result<String, String>>);
    #[cfg(feature = "hydrate")]
    let send = move |file: web_sys::File| {
        set_state.set(Some(Ok(format!("Uploading {}…", file.name()))));
        leptos::task::spawn_local(async move {
            match upload::send(file).await {
                Ok(summary) => {
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().set_href(&format!("/files/{}", summary.id));
                    }
                }
                Err(message) => set_state.set(Some(Err(message))),
            }
        });
    };
    let on_change = move |_ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(file) = _ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).and_then(|i| i.files()).and_then(|f| f.get(0)) {
                send(file);
            }
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        if let Some(file) = ev.data_transfer().and_then(|d| d.files()).and_then(|f| f.get(0)) {
            send(file);
        }
    };
    let _ = set_state;
    view! {
        <label class="dropzone" on:dragover=|ev: leptos::ev::DragEvent| ev.prevent_default() on:drop=on_drop>
            <strong>"Drop a file here"</strong>
            <span class="hint">"or choose one: CSV, Excel (XLSX, XLS, ODS) or JSON"</span>
            <input type="file" name="file" data-testid="upload" on:change=on_change />
        </label>
        {move || state.get().map(|s| match s {
            Ok(message) => view! { <p class="muted" role="status">{message}</p> }.into_any(),
            Err(message) => view! { <p class="error" role="alert">{message}</p> }.into_any(),
        })}
    }
}

#[component]
fn FileTable(list: Vec<FileSummary>, delete: ServerAction<DeleteFile>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|file| {
            let id = file.id.clone();
            let name = file.name.clone();
            view! {
                <tr>
                    <td><a href=format!("/files/{}", file.id)>{file.name}</a></td>
                    <td>{file.kind.label()}</td>
                    <td class="num">{size(file.size)}</td>
                    <td class="num">{file.rows.map(grouped).unwrap_or_else(|| "—".into())}</td>
                    <td>{format_ms(file.created_ms)}</td>
                    <td>
                        <button type="button" class="button secondary" aria-label=format!("Delete {name}")
                            on:click=move |_| { delete.dispatch(DeleteFile { id: id.clone() }); }>"Delete"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-testid="files">
            <thead>
                <tr><th>"Name"</th><th>"Type"</th><th class="num">"Size"</th><th class="num">"Rows"</th><th>"Uploaded"</th><th></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Bytes as "812 B", "4.2 KB" or "12.5 MB".
pub fn size(bytes: u64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}
