//! An import's progress as its file's page shows it: a bar, rows done out of total, the pace
//! and the time left, what was set aside, and Stop or Cancel while it runs. The page asks for
//! fresh figures every second while an import runs, so it shows the state when reopened too.

use std::time::Duration;

use backend::model::files::{ImportProgress, ImportStatus};
use leptos::prelude::*;

use crate::error::AppError;

use super::{CancelImport, import_status};
use crate::components::numbers::grouped;

/// A count that goes up every `every` while `active` holds, for resources to follow.
pub fn ticker(active: Signal<bool>, every: Duration) -> ReadSignal<u32> {
    let (ticks, set_ticks) = signal(0u32);
    // Effects run only in the browser, where timers exist.
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if active.get_untracked() {
                    set_ticks.update(|n| *n += 1);
                }
            },
            every,
        ) {
            on_cleanup(move || handle.clear());
        }
    });
    ticks
}

/// A page's imports, each as its card (under its file's name when `with_file`). Tells the page
/// through `running` whether one still runs, so that it keeps asking for fresh figures.
#[component]
pub fn ImportList(
    imports: Resource<Result<Vec<ImportProgress>, AppError>>,
    running: RwSignal<bool>,
    cancel: ServerAction<CancelImport>,
    with_file: bool,
) -> impl IntoView {
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = imports.await.unwrap_or_default();
                running.set(list.iter().any(|i| !i.status.is_finished()));
                (!list.is_empty()).then(|| view! {
                    <h2>"Imports"</h2>
                    <div class="imports">
                        {list.into_iter().map(|import| view! {
                            {with_file.then(|| view! {
                                <p class="import-file"><a href=format!("/files/{}", import.file_id)>{import.file_name.clone()}</a></p>
                            })}
                            <ImportCard import cancel />
                        }).collect_view()}
                    </div>
                })
            })}
        </Transition>
    }
}

/// One import followed from elsewhere (the chat): fetched in the browser every second until it
/// ends, so it needs no suspense around it.
#[component]
pub fn ImportWatch(id: String) -> impl IntoView {
    let cancel = ServerAction::<CancelImport>::new();
    let running = RwSignal::new(true);
    let ticks = ticker(running.into(), Duration::from_secs(1));
    let id = StoredValue::new(id);
    let progress = LocalResource::new(move || {
        (ticks.get(), cancel.version().get());
        import_status(id.get_value())
    });
    move || {
        progress.get().map(|answer| match answer {
            Ok(import) => {
                running.set(!import.status.is_finished());
                view! { <ImportCard import cancel /> }.into_any()
            }
            Err(e) => view! { <p class="error">{e.to_string()}</p> }.into_any(),
        })
    }
}

#[component]
pub fn ImportCard(import: ImportProgress, cancel: ServerAction<CancelImport>) -> impl IntoView {
    let percent = import.percent();
    let status = import.status;
    let running = matches!(status, ImportStatus::Running);
    let mut figures = vec![format!("{} of {} rows", grouped(import.done), grouped(import.total))];
    if let Some(rate) = import.rows_per_second.filter(|_| !status.is_finished()) {
        figures.push(format!("{rate:.1} rows/s"));
    }
    if let Some(left) = import.seconds_left {
        figures.push(format!("about {} left", duration(left)));
    }
    if import.rejected > 0 {
        figures.push(format!("{} set aside", grouped(import.rejected)));
    }
    let (stop_id, undo_id) = (import.id.clone(), import.id.clone());
    let table_href = format!("/bases/{}/{}", import.base_id, import.table_id);
    let rejected_href = format!("/api/files/imports/{}/rejected.csv", import.id);
    let change_href = format!("/changes/{}", import.change_id);
    view! {
        <div class="import" data-testid="import" data-status=format!("{status:?}").to_lowercase()>
            <div class="import-head">
                <span>"Into " <a href=table_href>{import.table_name.clone()}</a></span>
                <span class=badge_class(status)>{status.label()}</span>
            </div>
            <div class="import-bar">
                <progress max="100" value=percent aria-label="Import progress"></progress>
                <span class="import-percent">{format!("{percent}%")}</span>
            </div>
            <p class="hint">{figures.join(" · ")}</p>
            {import.error.clone().map(|e| view! { <p class="error">{e}</p> })}
            <div class="row-actions">
                {running.then(|| view! {
                    <button type="button" class="button secondary" on:click=move |_| { cancel.dispatch(CancelImport { id: stop_id.clone(), keep: true }); }>
                        "Stop and keep rows"
                    </button>
                    <button type="button" class="button secondary" on:click=move |_| { cancel.dispatch(CancelImport { id: undo_id.clone(), keep: false }); }>
                        "Cancel and undo"
                    </button>
                })}
                {(import.rejected > 0).then(|| view! { <a class="button secondary" href=rejected_href download="rejected-rows.csv">"Download set-aside rows"</a> })}
                <a class="button secondary" href=change_href>"Change log"</a>
            </div>
        </div>
    }
}

fn badge_class(status: ImportStatus) -> &'static str {
    match status {
        ImportStatus::Done => "badge badge-done",
        ImportStatus::Running | ImportStatus::Stopping | ImportStatus::Undoing => "badge badge-running",
        ImportStatus::Stopped | ImportStatus::Undone => "badge badge-undone",
        ImportStatus::NeedsAttention => "badge badge-failed",
    }
}

/// Seconds as "40 s", "3 min" or "2 h 5 min".
fn duration(seconds: u64) -> String {
    match seconds {
        s if s < 90 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s.div_ceil(60)),
        s => format!("{} h {} min", s / 3600, (s % 3600) / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_reads_in_the_unit_that_fits() {
        assert_eq!(duration(40), "40 s");
        assert_eq!(duration(200), "4 min");
        assert_eq!(duration(7500), "2 h 5 min");
    }
}
