//! `/workflows/new` and `/workflows/:id`: the editor. The trigger and a list of steps, each
//! step's form built for its kind (a tool's from its JSON Schema), reordering, the problems a
//! save finds shown at their step, a test run that writes nothing, Run now with the manual
//! trigger's inputs, the workflow's JSON to download or load, and its runs.

use backend::model::tools::ToolInfo;
use backend::model::airtable::BaseSummary;
use backend::model::workflows::{Problem, RunSummary, Saved, WorkflowView};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::{Value, json};

use super::fields::{Draft, JsonField, SchemaForm, TextField};
use super::{RunList, RunWorkflow, SaveWorkflow, get_workflow, list_runs, list_step_tools};
use crate::components::download::download;
use crate::components::signed_in::SignedIn;
use crate::components::time::format_ms;
use crate::error::AppError;
use crate::pages::bases::list_bases;

/// Step kinds, as the add-step menu offers them.
const KINDS: [(&str, &str); 5] = [("tool", "Tool"), ("llm", "LLM prompt"), ("http", "HTTP request"), ("condition", "Condition"), ("loop", "Loop")];
/// Trigger kinds, as the trigger menu offers them.
const TRIGGERS: [(&str, &str); 5] = [("manual", "By hand"), ("schedule", "On a schedule"), ("webhook", "Webhook"), ("record", "Record created or changed"), ("file", "File uploaded")];

#[component]
pub fn WorkflowPage() -> impl IntoView {
    view! {
        <Title text="Workflow" />
        <SignedIn let:_me>
            <EditorScreen />
        </SignedIn>
    }
}

#[component]
fn EditorScreen() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.read().get("id"));
    let workflow = Resource::new(move || id.get(), |id| async move {
        match id {
            Some(id) => get_workflow(id).await.map(Some),
            None => Ok(None),
        }
    });
    let tools = Resource::new(|| (), |_| list_step_tools());
    let bases = Resource::new(|| (), |_| list_bases());
    let runs = Resource::new(move || id.get(), |id| async move {
        match id {
            Some(id) => list_runs(id).await,
            None => Ok(Vec::new()),
        }
    });
    view! {
        <section class="page workflow-page">
            <p><a href="/workflows">"← All workflows"</a></p>
            <Transition fallback=|| view! { <p class="muted">"Loading the workflow…"</p> }>
                {move || Suspend::new(async move {
                    let tools = tools.await.unwrap_or_default();
                    let bases = bases.await.map(|list| list.bases).unwrap_or_default();
                    let runs = runs.await;
                    match workflow.await {
                        Ok(view) => view! { <Editor view tools bases runs /> }.into_any(),
                        Err(e) => view! { <h1>"Workflow"</h1><p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// Everything the parts of the editor share.
#[derive(Clone, Copy)]
struct Editing {
    draft: Draft,
    problems: RwSignal<Vec<Problem>>,
    tools: StoredValue<Vec<ToolInfo>>,
    /// The user's bases, for a record trigger.
    bases: StoredValue<Vec<BaseSummary>>,
}

#[component]
fn Editor(view: Option<WorkflowView>, tools: Vec<ToolInfo>, bases: Vec<BaseSummary>, runs: Result<Vec<RunSummary>, AppError>) -> impl IntoView {
    let initial = view.as_ref().map_or_else(new_workflow, |v| serde_json::to_value(&v.workflow).unwrap_or_default());
    let editing = Editing {
        draft: Draft(RwSignal::new(initial.clone())),
        problems: RwSignal::new(Vec::new()),
        tools: StoredValue::new(tools),
        bases: StoredValue::new(bases),
    };
    let draft = editing.draft;
    let id = view.as_ref().map(|v| v.summary.id.clone());
    let saved_as = RwSignal::new(initial);
    let dirty = Memo::new(move |_| draft.0.with(|now| saved_as.with(|then| now != then)));
    // Loading a file replaces the whole form.
    let generation = RwSignal::new(0u32);
    let save = ServerAction::<SaveWorkflow>::new();
    let run = ServerAction::<RunWorkflow>::new();
    let secret = RwSignal::new(None::<Saved>);
    let error = RwSignal::new(None::<String>);
    let navigate = use_navigate();
    {
        let (id, navigate) = (id.clone(), navigate.clone());
        Effect::new(move |_| match save.value().get() {
            Some(Ok(saved)) => {
                editing.problems.set(Vec::new());
                error.set(None);
                saved_as.set(draft.0.get_untracked());
                if saved.webhook_secret.is_some() {
                    secret.set(Some(saved.clone()));
                }
                if id.is_none() {
                    navigate(&format!("/workflows/{}", saved.id), Default::default());
                }
            }
            Some(Err(AppError::InvalidWorkflow { problems, .. })) => {
                error.set(Some("The workflow was not saved: fix the problems shown at their steps.".into()));
                editing.problems.set(problems);
            }
            Some(Err(e)) => error.set(Some(e.to_string())),
            None => {}
        });
    }
    Effect::new(move |_| match run.value().get() {
        Some(Ok(run_id)) => navigate(&format!("/workflows/runs/{run_id}"), Default::default()),
        Some(Err(e)) => error.set(Some(e.to_string())),
        None => {}
    });
    let save_id = id.clone();
    let on_save = move |_| {
        save.dispatch(SaveWorkflow { id: save_id.clone(), workflow: draft.0.get_untracked() });
    };
    let inputs = RwSignal::new(serde_json::Map::new());
    let start = {
        let id = id.clone();
        move |test: bool| {
            let Some(id) = id.clone() else { return };
            if dirty.get_untracked() {
                error.set(Some("Save the workflow first: a run uses the saved version.".into()));
                return;
            }
            run.dispatch(RunWorkflow { id, inputs: Value::Object(inputs.get_untracked()), test });
        }
    };
    let (test_run, run_now) = (start.clone(), start);
    let title = view.as_ref().map_or_else(|| "New workflow".to_owned(), |v| v.summary.name.clone());
    let summary = view.as_ref().map(|v| {
        let next = (!v.next_runs_ms.is_empty()).then(|| {
            let times = v.next_runs_ms.iter().map(|t| view! { <li>{format_ms(*t)}</li> }).collect_view();
            view! { <p class="muted">"Next runs:"</p><ul class="next-runs">{times}</ul> }
        });
        let hook = v.webhook_url.clone().map(|url| view! { <p>"Webhook address: " <code>{url}</code> " — POST with " <code>"Authorization: Bearer <secret>"</code> " or an " <code>"X-Signature-256"</code> " HMAC of the body."</p> });
        view! {
            <p class="muted">{format!("{} · version {} · {}", v.summary.trigger_text, v.summary.version, if v.summary.enabled { "on" } else { "off" })}</p>
            {v.summary.disabled_reason.clone().map(|r| view! { <p class="error">{r}</p> })}
            {next}
            {hook}
        }
    });
    let runs = id.is_some().then(|| match runs {
        Ok(runs) => view! { <h2>"Runs"</h2><RunList runs /> }.into_any(),
        Err(e) => view! { <h2>"Runs"</h2><p class="error" role="alert">{e.to_string()}</p> }.into_any(),
    });
    let saved = id.is_some();
    view! {
        <h1>{title}</h1>
        {summary}
        {move || secret.get().and_then(|s| s.webhook_secret).map(|s| view! {
            <p class="notice" role="status">"The webhook's secret, shown only this once: " <code data-testid="webhook-secret">{s}</code></p>
        })}
        <Problems editing step=None />
        {move || {
            generation.get();
            view! { <WorkflowForm editing /> }
        }}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <div class="row-actions editor-actions">
            <button type="button" class="button" disabled=move || save.pending().get() on:click=on_save>
                {move || if save.pending().get() { "Saving…" } else { "Save" }}
            </button>
            {saved.then(|| view! {
                <button type="button" class="button secondary" on:click=move |_| test_run(true)>"Test run"</button>
            })}
            <span class="muted">{move || if dirty.get() { "Unsaved changes" } else { "" }}</span>
        </div>
        {saved.then(|| view! { <RunNow editing inputs run={move || run_now(false)} /> })}
        <JsonTools editing generation />
        {runs}
    }
}

/// A new workflow's JSON: run by hand, with no steps yet.
fn new_workflow() -> Value {
    json!({"name": "", "trigger": {"kind": "manual"}, "steps": []})
}

#[component]
fn Problems(editing: Editing, step: Option<Memo<String>>) -> impl IntoView {
    move || {
        let step = step.map(|s| s.get());
        let list: Vec<Problem> = editing.problems.get().into_iter().filter(|p| p.step == step).collect();
        (!list.is_empty()).then(|| {
            let items = list.into_iter().map(|p| view! { <li><code>{p.field}</code> ": " {p.message}</li> }).collect_view();
            view! { <ul class="error problems" role="alert">{items}</ul> }
        })
    }
}

#[component]
fn WorkflowForm(editing: Editing) -> impl IntoView {
    let draft = editing.draft;
    view! {
        <div class="workflow-form">
            <TextField draft pointer="/name".to_owned() label="Name".to_owned() />
            <TextField draft pointer="/description".to_owned() label="Description".to_owned() />
            <TriggerForm editing />
            <label class="field checkbox">
                <input type="checkbox" prop:checked=move || draft.get("/transactional") == Value::Bool(true)
                    on:change=move |ev| if event_target_checked(&ev) { draft.set("/transactional", Value::Bool(true)) } else { draft.remove("/transactional") } />
                <span>"Transactional: undo its Airtable writes together if a later step fails"</span>
            </label>
            <h2>"Steps"</h2>
            <p class="hint">"Text may read earlier steps and the trigger: " <code>"{{ steps.<id>.output… }}"</code> ", " <code>"{{ trigger.record.fields.Name }}"</code> ", " <code>"{{ trigger.inputs.title }}"</code> "; inside a loop, " <code>"{{ item }}"</code> "."</p>
            <StepList editing pointer="/steps".to_owned() />
        </div>
    }
}

#[component]
fn TriggerForm(editing: Editing) -> impl IntoView {
    let draft = editing.draft;
    let kind = Memo::new(move |_| draft.text("/trigger/kind"));
    let choose = move |ev| {
        let trigger = match event_target_value(&ev).as_str() {
            "schedule" => json!({"kind": "schedule", "cron": "0 9 * * 1-5", "timezone": "UTC"}),
            "record" => json!({"kind": "record", "base_id": "", "table": "", "on": "created"}),
            other => json!({"kind": other}),
        };
        draft.set("/trigger", trigger);
    };
    let options = TRIGGERS.iter().map(|(value, label)| view! { <option value=*value selected=move || kind.get() == *value>{*label}</option> }).collect_view();
    view! {
        <fieldset class="trigger">
            <legend>"Trigger"</legend>
            <label class="field">
                <span>"When"</span>
                <select aria-label="Trigger" on:change=choose>{options}</select>
            </label>
            {move || match kind.get().as_str() {
                "manual" => view! { <InputNames draft /> }.into_any(),
                "schedule" => view! {
                    <TextField draft pointer="/trigger/cron".to_owned() label="Cron expression".to_owned() hint="Minute hour day month weekday, such as 0 9 * * 1-5 (09:00 on weekdays); add a first field for seconds." />
                    <TextField draft pointer="/trigger/timezone".to_owned() label="Time zone".to_owned() hint="An IANA name such as Europe/Paris." />
                }.into_any(),
                "webhook" => view! { <p class="hint">"Saving gives the workflow its webhook address and secret."</p> }.into_any(),
                "record" => view! { <RecordTrigger editing /> }.into_any(),
                _ => view! { <TextField draft pointer="/trigger/pattern".to_owned() label="File name pattern".to_owned() hint="Such as *.csv; empty for every upload." /> }.into_any(),
            }}
        </fieldset>
    }
}

/// A manual trigger's inputs, as a list of names.
#[component]
fn InputNames(draft: Draft) -> impl IntoView {
    let initial = draft.get("/trigger/inputs").as_array().into_iter().flatten().filter_map(|i| i["name"].as_str()).collect::<Vec<_>>().join(", ");
    let write = move |text: String| {
        let inputs: Vec<Value> = text.split(',').map(str::trim).filter(|n| !n.is_empty()).map(|name| json!({"name": name})).collect();
        if inputs.is_empty() { draft.remove("/trigger/inputs") } else { draft.set("/trigger/inputs", Value::Array(inputs)) }
    };
    view! {
        <label class="field">
            <span>"Inputs"</span>
            <input type="text" aria-label="Inputs" value=initial on:input=move |ev| write(event_target_value(&ev)) />
            <small class="hint">"Names separated by commas, such as title, due; Run now asks for each."</small>
        </label>
    }
}

#[component]
fn RecordTrigger(editing: Editing) -> impl IntoView {
    let draft = editing.draft;
    let on = Memo::new(move |_| draft.text("/trigger/on"));
    let current = draft.text("/trigger/base_id");
    let options = editing.bases.with_value(|bases| {
        bases
            .iter()
            .map(|b| {
                let selected = b.id.as_str() == current;
                view! { <option value=b.id.as_str().to_owned() selected=selected>{b.name.clone()}</option> }
            })
            .collect_view()
    });
    view! {
        <label class="field">
            <span>"Base"</span>
            <select aria-label="Base" on:change=move |ev| draft.set("/trigger/base_id", Value::String(event_target_value(&ev)))>
                <option value="">"Choose a base"</option>
                {options}
            </select>
        </label>
        <TextField draft pointer="/trigger/table".to_owned() label="Table".to_owned() hint="The table's name or ID." />
        <label class="field">
            <span>"Runs for"</span>
            <select aria-label="Runs for" on:change=move |ev| draft.set("/trigger/on", Value::String(event_target_value(&ev)))>
                <option value="created" selected=move || on.get() != "changed">"New records"</option>
                <option value="changed" selected=move || on.get() == "changed">"New and changed records"</option>
            </select>
        </label>
    }
}

#[component]
fn StepList(editing: Editing, pointer: String) -> impl IntoView {
    let draft = editing.draft;
    let count = {
        let pointer = pointer.clone();
        Memo::new(move |_| draft.len(&pointer))
    };
    let list = pointer.clone();
    let adding = RwSignal::new("tool".to_owned());
    let add = move |_| {
        let kind = adding.get_untracked();
        let id = fresh_id(&draft.0.get_untracked(), &kind);
        let step = match kind.as_str() {
            "tool" => json!({"id": id, "kind": "tool", "tool": "list_records", "arguments": {}}),
            "llm" => json!({"id": id, "kind": "llm", "prompt": ""}),
            "http" => json!({"id": id, "kind": "http", "method": "POST", "url": ""}),
            "condition" => json!({"id": id, "kind": "condition", "if": ""}),
            _ => json!({"id": id, "kind": "loop", "over": "", "steps": []}),
        };
        draft.push(&pointer, step);
    };
    let options = KINDS.iter().map(|(value, label)| view! { <option value=*value>{*label}</option> }).collect_view();
    view! {
        <ol class="step-list">
            {move || (0..count.get()).map(|i| view! { <StepCard editing list=list.clone() index=i count /> }.into_any()).collect_view()}
        </ol>
        <div class="row-actions add-step">
            <select aria-label="New step's kind" on:change=move |ev| adding.set(event_target_value(&ev))>{options}</select>
            <button type="button" class="button secondary" on:click=add>"Add step"</button>
        </div>
    }
}

#[component]
fn StepCard(editing: Editing, list: String, index: usize, count: Memo<usize>) -> impl IntoView {
    let draft = editing.draft;
    let at = format!("{list}/{index}");
    let kind = {
        let at = at.clone();
        Memo::new(move |_| draft.text(&format!("{at}/kind")))
    };
    let id = {
        let at = at.clone();
        Memo::new(move |_| draft.text(&format!("{at}/id")))
    };
    let (up, down, remove) = (list.clone(), list.clone(), at.clone());
    let body = {
        let at = at.clone();
        move || {
            let at = at.clone();
            match kind.get().as_str() {
                "tool" => view! { <ToolStep editing at /> }.into_any(),
                "llm" => view! {
                    <TextField draft pointer=format!("{at}/prompt") label="Prompt".to_owned() multiline=true />
                    <JsonField draft pointer=format!("{at}/schema") label="Answer schema (optional)".to_owned() hint="A JSON Schema; the answer is then JSON, at steps.<id>.output.data." />
                }
                .into_any(),
                "http" => view! {
                    <TextField draft pointer=format!("{at}/method") label="Method".to_owned() hint="GET, POST, PUT, PATCH or DELETE." />
                    <TextField draft pointer=format!("{at}/url") label="URL".to_owned() />
                    <JsonField draft pointer=format!("{at}/headers") label="Headers (optional)".to_owned() />
                    <JsonField draft pointer=format!("{at}/body") label="Body (optional)".to_owned() />
                }
                .into_any(),
                "condition" => view! {
                    <TextField draft pointer=format!("{at}/if") label="Go on only if".to_owned() hint="An expression, such as trigger.record.fields.Status == 'Done'." />
                }
                .into_any(),
                _ => view! {
                    <TextField draft pointer=format!("{at}/over") label="For each item of".to_owned() hint="An expression giving a list, such as steps.find.output.records." />
                    <div class="loop-steps"><StepList editing pointer=format!("{at}/steps") /></div>
                }
                .into_any(),
            }
        }
    };
    let label = move || format!("Step {}", id.get());
    view! {
        <li class="step-card" aria-label=label>
            <div class="step-card-head">
                <strong>{move || KINDS.iter().find(|(k, _)| *k == kind.get()).map_or("Step", |(_, l)| *l)}</strong>
                <TextField draft pointer=format!("{at}/id") label="Step ID".to_owned() />
                <div class="row-actions">
                    <button type="button" class="button secondary" aria-label=move || format!("Move {} up", id.get()) disabled=index == 0 on:click=move |_| draft.swap(&up, index, index - 1)>"↑"</button>
                    <button type="button" class="button secondary" aria-label=move || format!("Move {} down", id.get()) disabled={move || index + 1 >= count.get()} on:click=move |_| draft.swap(&down, index, index + 1)>"↓"</button>
                    <button type="button" class="button secondary" aria-label=move || format!("Remove {}", id.get()) on:click=move |_| draft.remove(&remove)>"Remove"</button>
                </div>
            </div>
            <Problems editing step=Some(id) />
            {body}
        </li>
    }
}

#[component]
fn ToolStep(editing: Editing, at: String) -> impl IntoView {
    let draft = editing.draft;
    let tool = {
        let at = at.clone();
        Memo::new(move |_| draft.text(&format!("{at}/tool")))
    };
    let choose = {
        let at = at.clone();
        move |ev| {
            draft.set(&format!("{at}/tool"), Value::String(event_target_value(&ev)));
            draft.set(&format!("{at}/arguments"), json!({}));
        }
    };
    let options = editing.tools.with_value(|tools| {
        tools.iter().map(|t| {
            let name = t.name.clone();
            let label = format!("{} ({})", t.title, t.name);
            view! { <option value=name.clone() selected=move || tool.get() == name>{label}</option> }
        }).collect_view()
    });
    let form = move || {
        let schema = editing.tools.with_value(|tools| tools.iter().find(|t| t.name == tool.get()).map(|t| (t.description.clone(), t.input_schema.clone())));
        schema.map(|(description, schema)| view! {
            <p class="hint">{description}</p>
            <SchemaForm draft pointer=format!("{at}/arguments") schema />
        })
    };
    view! {
        <label class="field">
            <span>"Tool"</span>
            <select aria-label="Tool" on:change=choose>{options}</select>
        </label>
        {form}
    }
}

/// Run now, with a field for each input of a manual trigger.
#[component]
fn RunNow(editing: Editing, inputs: RwSignal<serde_json::Map<String, Value>>, run: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let names = Memo::new(move |_| {
        let trigger = editing.draft.get("/trigger");
        if trigger["kind"] != "manual" {
            return Vec::new();
        }
        trigger["inputs"].as_array().into_iter().flatten().filter_map(|i| i["name"].as_str().map(str::to_owned)).collect::<Vec<_>>()
    });
    view! {
        <fieldset class="run-now">
            <legend>"Run now"</legend>
            {move || names.get().into_iter().map(|name| {
                let key = name.clone();
                view! {
                    <label class="field">
                        <span>{name.clone()}</span>
                        <input type="text" aria-label=name on:input=move |ev| { let text = event_target_value(&ev); inputs.update(|m| { m.insert(key.clone(), Value::String(text)); }); } />
                    </label>
                }
            }).collect_view()}
            <button type="button" class="button" on:click=move |_| run()>"Run now"</button>
        </fieldset>
    }
}

/// The workflow's JSON: downloaded as a file, or loaded from one.
#[component]
fn JsonTools(editing: Editing, generation: RwSignal<u32>) -> impl IntoView {
    let draft = editing.draft;
    let problem = RwSignal::new(None::<String>);
    let export = move |_| {
        let workflow = draft.0.get_untracked();
        let name = workflow["name"].as_str().filter(|n| !n.trim().is_empty()).unwrap_or("workflow").to_owned();
        let file: String = name.chars().map(|c| if c.is_alphanumeric() || c == '-' { c } else { '-' }).collect();
        let text = serde_json::to_string_pretty(&workflow).unwrap_or_default();
        if download(&format!("{file}.json"), "application/json", &text).is_err() {
            problem.set(Some("The browser refused the download. Allow downloads for this site and try again.".into()));
        }
    };
    let load = move |ev: leptos::ev::Event| {
        let Some(file) = picked_file(&ev) else { return };
        leptos::task::spawn_local(async move {
            match read_text(file).await.map(|text| serde_json::from_str::<Value>(&text)) {
                Some(Ok(value)) if value.is_object() => {
                    draft.0.set(value);
                    editing.problems.set(Vec::new());
                    problem.set(Some("Loaded. Check it, then Save.".into()));
                    generation.update(|n| *n += 1);
                }
                _ => problem.set(Some("That file is not a workflow's JSON.".into())),
            }
        });
    };
    view! {
        <fieldset class="json-tools">
            <legend>"As a file"</legend>
            <div class="row-actions">
                <button type="button" class="button secondary" on:click=export>"Download JSON"</button>
                <label class="button secondary">
                    "Load JSON…"
                    <input type="file" class="visually-hidden" accept=".json,application/json" aria-label="Load a workflow file" on:change=load />
                </label>
            </div>
            {move || problem.get().map(|p| view! { <p class="hint" role="status">{p}</p> })}
        </fieldset>
    }
}

#[cfg(feature = "hydrate")]
fn picked_file(ev: &leptos::ev::Event) -> Option<web_sys::File> {
    use wasm_bindgen::JsCast;
    ev.target()?.dyn_into::<web_sys::HtmlInputElement>().ok()?.files()?.get(0)
}

#[cfg(feature = "hydrate")]
async fn read_text(file: web_sys::File) -> Option<String> {
    wasm_bindgen_futures::JsFuture::from(file.text()).await.ok()?.as_string()
}

#[cfg(not(feature = "hydrate"))]
fn picked_file(_ev: &leptos::ev::Event) -> Option<()> {
    None
}

#[cfg(not(feature = "hydrate"))]
async fn read_text(_file: ()) -> Option<String> {
    None
}

/// A step ID not used yet: the kind and the first free number.
fn fresh_id(workflow: &Value, kind: &str) -> String {
    let mut used = Vec::new();
    collect_ids(&workflow["steps"], &mut used);
    (1..).map(|n| format!("{kind}{n}")).find(|id| !used.contains(id)).unwrap_or_else(|| kind.to_owned())
}

fn collect_ids(steps: &Value, used: &mut Vec<String>) {
    for step in steps.as_array().into_iter().flatten() {
        if let Some(id) = step["id"].as_str() {
            used.push(id.to_owned());
        }
        collect_ids(&step["steps"], used);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fresh_step_id_skips_those_in_use_inside_loops_too() {
        let workflow = json!({"steps": [{"id": "tool1"}, {"id": "each", "steps": [{"id": "tool2"}]}]});
        assert_eq!(fresh_id(&workflow, "tool"), "tool3");
        assert_eq!(fresh_id(&workflow, "llm"), "llm1");
    }
}
