//! The Undo button the chat, the base browser and a change's page share: it undoes, says what
//! it restored, and when records were edited since, shows the edits and asks before
//! overwriting them.

use backend::model::sagas::{Conflict, UndoOutcome};
use leptos::prelude::*;
use serde_json::Value;

use super::{undo_conversation, undo_saga};

/// What an Undo button undoes.
#[derive(Debug, Clone, PartialEq)]
pub enum UndoTarget {
    /// One change, by its ID.
    Change(String),
    /// Every finished change of a chat conversation.
    Conversation(String),
}

#[component]
pub fn UndoButton(
    target: UndoTarget,
    /// The button's text.
    label: &'static str,
    /// Runs once something was undone, so the page can show the records as they are now.
    #[prop(optional)]
    on_undone: Option<Callback<()>>,
    /// Where the result is kept when it must outlive this button, as in a header that is
    /// drawn again once the undo is done.
    #[prop(optional)]
    outcome: Option<RwSignal<Option<Result<UndoOutcome, String>>>>,
) -> impl IntoView {
    let outcome = outcome.unwrap_or_else(|| RwSignal::new(None));
    let pending = RwSignal::new(false);
    let target = StoredValue::new(target);
    let run = Callback::new(move |overwrite: bool| {
        pending.set(true);
        let target = target.get_value();
        leptos::task::spawn_local(async move {
            let result = match target {
                UndoTarget::Change(id) => undo_saga(id, overwrite).await,
                UndoTarget::Conversation(id) => undo_conversation(id, overwrite).await,
            };
            let undone = matches!(result, Ok(UndoOutcome::Undone { .. }));
            outcome.set(Some(result.map_err(|e| e.to_string())));
            pending.set(false);
            if let (true, Some(on_undone)) = (undone, on_undone) {
                on_undone.run(());
            }
        });
    });
    let done = move || matches!(outcome.get(), Some(Ok(UndoOutcome::Undone { .. })));
    view! {
        <span class="undo">
            <button type="button" class="button secondary small" disabled=move || pending.get() || done() on:click=move |_| run.run(false)>
                {move || if pending.get() { "Undoing…" } else { label }}
            </button>
            <UndoResult outcome=outcome.into() on_overwrite=Callback::new(move |()| run.run(true)) />
        </span>
    }
}

/// What an Undo did: a confirmation, the conflicting edits with "Undo anyway", or the error.
#[component]
pub fn UndoResult(outcome: Signal<Option<Result<UndoOutcome, String>>>, on_overwrite: Callback<()>) -> impl IntoView {
    move || {
        outcome.get().map(|result| match result {
            Ok(UndoOutcome::Conflicts { conflicts }) => {
                let message = UndoOutcome::Conflicts { conflicts: conflicts.clone() }.message();
                view! {
                    <div class="undo-conflicts" role="alert">
                        <p>{message}</p>
                        <ConflictTable conflicts />
                        <button type="button" class="button danger small" on:click=move |_| on_overwrite.run(())>"Undo anyway"</button>
                    </div>
                }
                .into_any()
            }
            Ok(outcome @ UndoOutcome::Undone { .. }) => view! { <p class="undo-done" role="status">{outcome.message()}</p> }.into_any(),
            Ok(outcome) => view! {
                <p class="error" role="alert">{outcome.message()} " " <a href="/changes">"See Changes"</a></p>
            }
            .into_any(),
            Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
        })
    }
}

#[component]
fn ConflictTable(conflicts: Vec<Conflict>) -> impl IntoView {
    let rows = conflicts
        .into_iter()
        .map(|c| {
            view! {
                <tr>
                    <td><code>{c.record_id}</code></td>
                    <td>{c.field}</td>
                    <td>{cell(&c.written)}</td>
                    <td>{cell(&c.now)}</td>
                    <td>{cell(&c.before)}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table">
            <thead><tr><th>"Record"</th><th>"Field"</th><th>"Written"</th><th>"Now"</th><th>"Undo puts back"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// A field's value as plain text; empty values show as a dash.
pub fn cell(value: &Value) -> String {
    match value {
        Value::Null => "—".into(),
        Value::String(s) if s.is_empty() => "—".into(),
        Value::String(s) => s.clone(),
        Value::Array(items) if items.is_empty() => "—".into(),
        Value::Array(items) => items.iter().map(cell).collect::<Vec<_>>().join(", "),
        other => other.to_string(),
    }
}
