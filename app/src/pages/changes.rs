//! `/changes`: every change the user's writes made (sagas), newest first, and `/changes/:id`:
//! one change's steps with the records each touched, before and after, and what can be done
//! with it (undo, cancel, retry, mark resolved). Also the server functions behind them.

mod detail;
mod undo;

use backend::model::sagas::{SagaStatus, SagaSummary, SagaView, UndoOutcome};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;

use crate::components::signed_in::SignedIn;
use crate::components::time::format_ms;
use crate::error::AppError;

pub use detail::ChangePage;
pub use undo::{UndoButton, UndoTarget};

/// The caller's changes, newest first.
#[server(prefix = "/api", endpoint = "sagas/list", input = Json)]
pub async fn list_sagas() -> Result<Vec<SagaSummary>, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().sagas.list(&principal.user.id).await?)
}

/// One of the caller's changes with its steps.
#[server(prefix = "/api", endpoint = "sagas/get", input = Json)]
pub async fn get_saga(id: String) -> Result<SagaView, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().sagas.get(&principal.user.id, id.trim()).await?)
}

/// Undoes a finished change; without `overwrite`, later edits are listed instead.
#[server(prefix = "/api", endpoint = "sagas/undo", input = Json)]
pub async fn undo_saga(id: String, overwrite: bool) -> Result<UndoOutcome, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().sagas.undo(&principal.user.id, id.trim(), overwrite).await?)
}

/// Undoes every finished change of a chat conversation, newest first.
#[server(prefix = "/api", endpoint = "sagas/undo_conversation", input = Json)]
pub async fn undo_conversation(conversation_id: String, overwrite: bool) -> Result<UndoOutcome, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().sagas.undo_conversation(&principal.user.id, conversation_id.trim(), overwrite).await?)
}

/// Tries again to compensate a change that needs attention.
#[server(prefix = "/api", endpoint = "sagas/retry", input = Json)]
pub async fn retry_saga(id: String) -> Result<SagaSummary, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().sagas.retry(&principal.user.id, id.trim()).await?)
}

/// Marks a change that needs attention as fixed by hand.
#[server(prefix = "/api", endpoint = "sagas/resolve", input = Json)]
pub async fn resolve_saga(id: String) -> Result<SagaSummary, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().sagas.resolve(&principal.user.id, id.trim()).await?)
}

/// Stops a running change and undoes what it applied.
#[server(prefix = "/api", endpoint = "sagas/cancel", input = Json)]
pub async fn cancel_saga(id: String) -> Result<SagaSummary, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().sagas.cancel(&principal.user.id, id.trim()).await?)
}

#[component]
pub fn ChangesPage() -> impl IntoView {
    view! {
        <Title text="Changes" />
        <SignedIn let:_me>
            <ChangesScreen />
        </SignedIn>
    }
}

#[component]
fn ChangesScreen() -> impl IntoView {
    let refreshes = RwSignal::new(0u32);
    let sagas = Resource::new(move || refreshes.get(), |_| list_sagas());
    view! {
        <section class="page changes-page">
            <div class="analytics-head">
                <h1>"Changes"</h1>
                <button type="button" class="button secondary" on:click=move |_| refreshes.update(|n| *n += 1)>"Refresh"</button>
            </div>
            <p class="hint">
                "Every write to your records, from the chat, MCP, the API or the base browser. A change finishes whole or is undone whole; a finished one can be undone here."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading changes…"</p> }>
                {move || Suspend::new(async move {
                    match sagas.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No changes yet. Writes you make from the chat or the API will be listed here."</p> }.into_any(),
                        Ok(list) => view! { <ChangeTable list /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ChangeTable(list: Vec<SagaSummary>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|saga| {
            let href = format!("/changes/{}", saga.id);
            view! {
                <tr>
                    <td>{format_ms(saga.created_ms)}</td>
                    <td><a href=href>{saga.title}</a></td>
                    <td>{saga.source.label()}</td>
                    <td><StatusBadge status=saga.status /></td>
                    <td class="num">{saga.steps}</td>
                    <td class="num">{saga.records}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-testid="changes">
            <thead>
                <tr><th>"When"</th><th>"Change"</th><th>"From"</th><th>"Status"</th><th class="num">"Steps"</th><th class="num">"Records"</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
pub fn StatusBadge(status: SagaStatus) -> impl IntoView {
    let class = match status {
        SagaStatus::Done => "badge badge-done",
        SagaStatus::Running | SagaStatus::Compensating => "badge badge-running",
        SagaStatus::Compensated => "badge badge-undone",
        SagaStatus::NeedsAttention => "badge badge-failed",
    };
    view! { <span class=class>{status.label()}</span> }
}
