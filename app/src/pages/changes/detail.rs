//! `/changes/:id`: one change's steps on a timeline, each with the records it touched (before
//! and after), its error, and the actions its status allows.

use backend::model::airtable::Fields;
use backend::model::sagas::{SagaStatus, SagaView, StepState, StepView, TouchedRecord};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::undo::{UndoButton, UndoTarget, cell};
use super::{CancelSaga, ResolveSaga, RetrySaga, StatusBadge, get_saga};
use crate::components::signed_in::SignedIn;
use crate::components::time::format_ms;

#[component]
pub fn ChangePage() -> impl IntoView {
    view! {
        <Title text="Change" />
        <SignedIn let:_me>
            <ChangeScreen />
        </SignedIn>
    }
}

#[component]
fn ChangeScreen() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let refreshes = RwSignal::new(0u32);
    let retry = ServerAction::<RetrySaga>::new();
    let resolve = ServerAction::<ResolveSaga>::new();
    let cancel = ServerAction::<CancelSaga>::new();
    let saga = Resource::new(
        move || (id(), refreshes.get(), retry.version().get(), resolve.version().get(), cancel.version().get()),
        |(id, ..)| get_saga(id),
    );
    let refresh = Callback::new(move |()| refreshes.update(|n| *n += 1));
    view! {
        <section class="page change-page">
            <p><a href="/changes">"← All changes"</a></p>
            {move || [retry.value().get(), resolve.value().get(), cancel.value().get()]
                .into_iter()
                .flatten()
                .find_map(Result::err)
                .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading the change…"</p> }>
                {move || Suspend::new(async move {
                    match saga.await {
                        Ok(saga) => view! { <Change saga refresh retry resolve cancel /> }.into_any(),
                        Err(e) => view! { <h1>"Change"</h1><p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Change(
    saga: SagaView,
    refresh: Callback<()>,
    retry: ServerAction<RetrySaga>,
    resolve: ServerAction<ResolveSaga>,
    cancel: ServerAction<CancelSaga>,
) -> impl IntoView {
    let summary = saga.summary;
    let id = summary.id.clone();
    let actions = match summary.status {
        SagaStatus::Done => view! { <UndoButton target=UndoTarget::Change(id) label="Undo this change" on_undone=refresh /> }.into_any(),
        SagaStatus::Running => {
            view! { <button type="button" class="button secondary" on:click=move |_| { cancel.dispatch(CancelSaga { id: id.clone() }); }>"Cancel and undo"</button> }.into_any()
        }
        SagaStatus::NeedsAttention => {
            let again = id.clone();
            view! {
                <div class="row-actions">
                    <button type="button" class="button" on:click=move |_| { retry.dispatch(RetrySaga { id: again.clone() }); }>"Retry the undo"</button>
                    <button type="button" class="button secondary" on:click=move |_| { resolve.dispatch(ResolveSaga { id: id.clone() }); }>"Mark resolved"</button>
                </div>
            }
            .into_any()
        }
        SagaStatus::Compensating => {
            view! { <button type="button" class="button secondary" on:click=move |_| refresh.run(())>"Refresh"</button> }.into_any()
        }
        SagaStatus::Compensated => ().into_any(),
    };
    let steps = saga.steps.into_iter().map(|step| view! { <Step step /> }).collect_view();
    view! {
        <div class="analytics-head">
            <h1>{summary.title}</h1>
            <StatusBadge status=summary.status />
        </div>
        <p class="muted">
            {format!("From {} · base {} · started {} · last change {}", summary.source.label(), summary.base_id, format_ms(summary.created_ms), format_ms(summary.updated_ms))}
        </p>
        {summary.error.map(|e| view! { <p class=if summary.status == SagaStatus::NeedsAttention { "error" } else { "notice" } role="status">{e}</p> })}
        <div class="change-actions">{actions}</div>
        <ol class="timeline" aria-label="Steps">{steps}</ol>
    }
}

#[component]
fn Step(step: StepView) -> impl IntoView {
    let state = match step.state {
        StepState::Pending => ("badge", "Waiting"),
        StepState::Applying => ("badge badge-running", "Applying"),
        StepState::Applied => ("badge badge-done", "Applied"),
        StepState::Failed => ("badge badge-failed", "Failed"),
        StepState::Compensating => ("badge badge-running", "Undoing"),
        StepState::Compensated => ("badge badge-undone", "Undone"),
        StepState::Skipped => ("badge", "Set aside"),
    };
    let table = step.arguments.get("table").and_then(|t| t.as_str()).unwrap_or_default().to_owned();
    let records = (!step.records.is_empty()).then(|| {
        let rows = step.records.into_iter().map(|record| view! { <RecordRow record /> }).collect_view();
        view! {
            <table class="table step-records">
                <thead><tr><th>"Record"</th><th>"Before"</th><th>"After"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }
    });
    view! {
        <li class="timeline-step">
            <p class="step-head">
                <strong>{format!("Step {}", step.position + 1)}</strong>
                " " <code>{step.tool}</code> " on " {table} " "
                <span class=state.0>{state.1}</span>
                <span class="muted">{format!(" · {}", format_ms(step.updated_ms))}</span>
            </p>
            {step.error.map(|e| view! { <p class="error">{e}</p> })}
            {records}
        </li>
    }
}

#[component]
fn RecordRow(record: TouchedRecord) -> impl IntoView {
    let before = record.before.as_ref().map_or_else(|| "(created)".to_owned(), summary);
    let after = record.after.as_ref().map_or_else(|| "(deleted)".to_owned(), summary);
    let id = match record.restored_as {
        Some(new) => format!("{} → {new}", record.id),
        None => record.id,
    };
    view! {
        <tr>
            <td><code>{id}</code></td>
            <td>{before}</td>
            <td>{after}</td>
        </tr>
    }
}

/// A record's fields on one line: `Name: Ada · Status: Done`.
fn summary(fields: &Fields) -> String {
    if fields.is_empty() {
        return "(empty)".into();
    }
    fields.iter().map(|(name, value)| format!("{name}: {}", cell(value))).collect::<Vec<_>>().join(" · ")
}
