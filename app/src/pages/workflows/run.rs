//! `/workflows/runs/:id`: one run as a timeline of its steps, each with its input, output,
//! time and error, refreshed while it runs, with Retry and Cancel.

use backend::model::workflows::{RunView, StepRun, StepStatus};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::{CancelRun, RetryRun, RunBadge, get_run};
use crate::components::signed_in::SignedIn;
use crate::components::time::format_ms;

#[component]
pub fn RunPage() -> impl IntoView {
    view! {
        <Title text="Workflow run" />
        <SignedIn let:_me>
            <RunScreen />
        </SignedIn>
    }
}

#[component]
fn RunScreen() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let ticks = RwSignal::new(0u32);
    let retry = ServerAction::<RetryRun>::new();
    let cancel = ServerAction::<CancelRun>::new();
    let run = Resource::new(move || (id(), ticks.get(), cancel.version().get()), |(id, ..)| get_run(id));
    // A retry is a new run: go to it.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(new_id)) = retry.value().get() {
            navigate(&format!("/workflows/runs/{new_id}"), Default::default());
        }
    });
    // While the run is unfinished, look again every second.
    Effect::new(move |_| {
        let unfinished = run.get().and_then(Result::ok).is_some_and(|r| !r.summary.status.is_finished());
        if unfinished {
            set_timeout(move || ticks.update(|n| *n += 1), std::time::Duration::from_secs(1));
        }
    });
    view! {
        <section class="page run-page">
            {move || [retry.value().get().map(|r| r.map(|_| ())), cancel.value().get().map(|r| r.map(|_| ()))]
                .into_iter()
                .flatten()
                .find_map(Result::err)
                .map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading the run…"</p> }>
                {move || Suspend::new(async move {
                    match run.await {
                        Ok(view) => view! { <Run view retry cancel /> }.into_any(),
                        Err(e) => view! { <h1>"Workflow run"</h1><p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Run(view: RunView, retry: ServerAction<RetryRun>, cancel: ServerAction<CancelRun>) -> impl IntoView {
    let summary = view.summary;
    let back = format!("/workflows/{}", summary.workflow_id);
    let id = summary.id.clone();
    let actions = if summary.status.is_finished() {
        let (again, from_start) = (id.clone(), id.clone());
        let failed = summary.error.is_some();
        view! {
            <div class="row-actions">
                {failed.then(|| view! {
                    <button type="button" class="button" on:click=move |_| { retry.dispatch(RetryRun { id: again.clone(), from_start: false }); }>"Retry from the failed step"</button>
                })}
                <button type="button" class="button secondary" on:click=move |_| { retry.dispatch(RetryRun { id: from_start.clone(), from_start: true }); }>"Run again from the start"</button>
            </div>
        }
        .into_any()
    } else {
        view! { <button type="button" class="button secondary" on:click=move |_| { cancel.dispatch(CancelRun { id: id.clone() }); }>"Cancel"</button> }.into_any()
    };
    let mut heading = format!("{} · started {}", if summary.test { "Test run" } else { "Run" }, format_ms(summary.created_ms));
    if let Some(finished) = summary.finished_ms {
        heading.push_str(&format!(" · finished {}", format_ms(finished)));
    }
    if let Some(step) = &summary.start_at {
        heading.push_str(&format!(" · a retry from step “{step}”"));
    }
    let steps = view.steps.into_iter().map(|step| view! { <Step step /> }).collect_view();
    view! {
        <p><a href=back>{format!("← {}", view.workflow_name)}</a></p>
        <div class="analytics-head">
            <h1>{view.workflow_name.clone()}</h1>
            <RunBadge status=summary.status />
        </div>
        <p class="muted">{heading}{format!(" · version {}", summary.version)}</p>
        {summary.error.map(|e| view! { <p class="error" role="status">{e}</p> })}
        <div class="change-actions">{actions}</div>
        <details class="run-trigger">
            <summary>"What the trigger passed"</summary>
            <pre>{pretty(&view.trigger)}</pre>
        </details>
        <ol class="timeline" aria-label="Steps">{steps}</ol>
    }
}

#[component]
fn Step(step: StepRun) -> impl IntoView {
    let state = match step.status {
        StepStatus::Running => ("badge badge-running", "Running"),
        StepStatus::Succeeded => ("badge badge-done", "Done"),
        StepStatus::Failed => ("badge badge-failed", "Failed"),
        StepStatus::Stopped => ("badge badge-undone", "Stopped the run"),
        StepStatus::Skipped => ("badge", "Test run: not done"),
    };
    let time = step.duration_ms.map(|ms| format!(" · {ms} ms")).unwrap_or_default();
    let label = format!("Step {}", step.step_id);
    view! {
        <li class="timeline-step" aria-label=label>
            <p class="step-head">
                <strong><code>{step.step_id}</code></strong>
                " " <span class="muted">{step.kind}</span> " "
                <span class=state.0>{state.1}</span>
                <span class="muted">{format!(" · {}{time}", format_ms(step.started_ms))}</span>
            </p>
            {step.error.map(|e| view! { <p class="error">{e}</p> })}
            {step.input.map(|input| view! { <details><summary>"Input"</summary><pre>{pretty(&input)}</pre></details> })}
            {step.output.map(|output| view! { <details open=true><summary>"Output"</summary><pre class="step-output">{pretty(&output)}</pre></details> })}
        </li>
    }
}

fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
