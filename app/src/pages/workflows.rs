//! `/workflows`: the user's workflows with their triggers and last runs, the editor, and the
//! run view. Also the server functions behind them, which scripts call as the workflows API.

mod editor;
mod fields;
mod run;

use backend::model::tools::ToolInfo;
use backend::model::workflows::{RunStatus, RunSummary, RunView, Saved, WorkflowSummary, WorkflowView};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use serde_json::Value;

use crate::components::signed_in::SignedIn;
use crate::components::time::format_ms;
use crate::error::AppError;

pub use editor::WorkflowPage;
pub use run::RunPage;

/// The caller's workflows, most recently changed first.
#[server(prefix = "/api", endpoint = "workflows/list", input = Json)]
pub async fn list_workflows() -> Result<Vec<WorkflowSummary>, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().workflows.list(&principal.user.id).await?)
}

/// One workflow with its definition, next runs and webhook address.
#[server(prefix = "/api", endpoint = "workflows/get", input = Json)]
pub async fn get_workflow(id: String) -> Result<WorkflowView, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().workflows.get(&principal.user.id, id.trim()).await?)
}

/// Saves a workflow's JSON as a new workflow (no `id`) or a new version; answers its ID and
/// version, or every problem with its step and field.
#[server(prefix = "/api", endpoint = "workflows/save", input = Json)]
pub async fn save_workflow(#[server(default)] id: Option<String>, workflow: Value) -> Result<Saved, AppError> {
    let principal = crate::auth::require_writer()?;
    let id = id.as_deref().map(str::trim).filter(|id| !id.is_empty());
    Ok(crate::auth::services().workflows.save(&principal.user.id, id, &workflow).await?)
}

/// Deletes a workflow with its history.
#[server(prefix = "/api", endpoint = "workflows/delete", input = Json)]
pub async fn delete_workflow(id: String) -> Result<(), AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().workflows.delete(&principal.user.id, id.trim()).await?)
}

/// Turns a workflow on or off.
#[server(prefix = "/api", endpoint = "workflows/enable", input = Json)]
pub async fn enable_workflow(id: String, enabled: bool) -> Result<WorkflowSummary, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().workflows.set_enabled(&principal.user.id, id.trim(), enabled).await?)
}

/// Replaces a webhook workflow's secret; the new one is in the answer, once.
#[server(prefix = "/api", endpoint = "workflows/new-secret", input = Json)]
pub async fn new_webhook_secret(id: String) -> Result<Saved, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().workflows.new_webhook_secret(&principal.user.id, id.trim()).await?)
}

/// Starts a run with the given inputs; a `test` run performs no writes. Answers the run's ID.
#[server(prefix = "/api", endpoint = "workflows/run", input = Json)]
pub async fn run_workflow(id: String, #[server(default)] inputs: Value, #[server(default)] test: bool) -> Result<String, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().workflows.run(&principal.user.id, id.trim(), inputs, test).await?)
}

/// A workflow's runs, newest first.
#[server(prefix = "/api", endpoint = "workflows/runs", input = Json)]
pub async fn list_runs(workflow_id: String) -> Result<Vec<RunSummary>, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().workflows.runs(&principal.user.id, workflow_id.trim()).await?)
}

/// One run with each step's input, output, time and error.
#[server(prefix = "/api", endpoint = "workflows/run-get", input = Json)]
pub async fn get_run(id: String) -> Result<RunView, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().workflows.run_view(&principal.user.id, id.trim()).await?)
}

/// Runs a finished run again, from its failed step or from the start; answers the new run's ID.
#[server(prefix = "/api", endpoint = "workflows/retry", input = Json)]
pub async fn retry_run(id: String, #[server(default)] from_start: bool) -> Result<String, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().workflows.retry(&principal.user.id, id.trim(), from_start).await?)
}

/// Stops a run.
#[server(prefix = "/api", endpoint = "workflows/cancel", input = Json)]
pub async fn cancel_run(id: String) -> Result<RunSummary, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().workflows.cancel(&principal.user.id, id.trim()).await?)
}

/// The tools a workflow's steps may call, with their JSON Schemas, for the editor's forms.
#[server(prefix = "/api", endpoint = "workflows/tools", input = Json)]
pub async fn list_step_tools() -> Result<Vec<ToolInfo>, AppError> {
    crate::auth::require_user()?;
    let catalog = &crate::auth::services().tools;
    Ok(catalog
        .list(backend::model::auth::Scope::Write)
        .into_iter()
        .filter(|info| !backend::tools::WORKFLOW_TOOLS.contains(&info.name.as_str()))
        .cloned()
        .collect())
}

#[component]
pub fn WorkflowsPage() -> impl IntoView {
    view! {
        <Title text="Workflows" />
        <SignedIn let:_me>
            <WorkflowsScreen />
        </SignedIn>
    }
}

#[component]
fn WorkflowsScreen() -> impl IntoView {
    let enable = ServerAction::<EnableWorkflow>::new();
    let workflows = Resource::new(move || enable.version().get(), |_| list_workflows());
    view! {
        <section class="page workflows-page">
            <div class="analytics-head">
                <h1>"Workflows"</h1>
                <a class="button" href="/workflows/new">"New workflow"</a>
            </div>
            <p class="hint">
                "A workflow runs its steps (tools, LLM prompts, HTTP requests, conditions and loops) when its trigger fires: by hand, on a schedule, from a webhook, when a record is created or changed, or when a file is uploaded."
            </p>
            {move || enable.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading workflows…"</p> }>
                {move || Suspend::new(async move {
                    match workflows.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No workflows yet. Make one with New workflow, or ask the chat to build one."</p> }.into_any(),
                        Ok(list) => view! { <WorkflowTable list enable /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn WorkflowTable(list: Vec<WorkflowSummary>, enable: ServerAction<EnableWorkflow>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|workflow| {
            let href = format!("/workflows/{}", workflow.id);
            let (id, enabled) = (workflow.id.clone(), workflow.enabled);
            let toggle_label = format!("{} {}", if enabled { "Turn off" } else { "Turn on" }, workflow.name);
            let last = workflow.last_run.map(|run| {
                let href = format!("/workflows/runs/{}", run.id);
                view! { <a href=href><RunBadge status=run.status /></a> " " <span class="muted">{format_ms(run.created_ms)}</span> }
            });
            view! {
                <tr>
                    <td><a href=href>{workflow.name}</a></td>
                    <td>{workflow.trigger_text}</td>
                    <td>
                        {if enabled { view! { <span class="badge badge-done">"On"</span> }.into_any() } else { view! { <span class="badge">"Off"</span> }.into_any() }}
                        {workflow.disabled_reason.map(|reason| view! { <p class="error">{reason}</p> })}
                    </td>
                    <td>{last}</td>
                    <td>{workflow.next_run_ms.map(format_ms)}</td>
                    <td>
                        <button type="button" class="button secondary" aria-label=toggle_label
                            on:click=move |_| { enable.dispatch(EnableWorkflow { id: id.clone(), enabled: !enabled }); }>
                            {if enabled { "Turn off" } else { "Turn on" }}
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-testid="workflows">
            <thead>
                <tr><th>"Workflow"</th><th>"Trigger"</th><th>"State"</th><th>"Last run"</th><th>"Next run"</th><th></th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
pub fn RunBadge(status: RunStatus) -> impl IntoView {
    let class = match status {
        RunStatus::Succeeded => "badge badge-done",
        RunStatus::Queued | RunStatus::Running => "badge badge-running",
        RunStatus::Cancelled => "badge badge-undone",
        RunStatus::Failed => "badge badge-failed",
    };
    view! { <span class=class>{status.label()}</span> }
}

/// A run in a list: its status, when, and whether it was a test.
#[component]
pub fn RunList(runs: Vec<RunSummary>) -> impl IntoView {
    if runs.is_empty() {
        return view! { <p class="muted">"No runs yet."</p> }.into_any();
    }
    let rows = runs
        .into_iter()
        .map(|run| {
            let href = format!("/workflows/runs/{}", run.id);
            view! {
                <tr>
                    <td><a href=href>{format_ms(run.created_ms)}</a></td>
                    <td><RunBadge status=run.status /></td>
                    <td>{if run.test { "Test run" } else { "" }}</td>
                    <td>{format!("v{}", run.version)}</td>
                    <td class="muted">{run.error}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-testid="runs">
            <thead><tr><th>"Started"</th><th>"Status"</th><th></th><th>"Version"</th><th>"Error"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}
