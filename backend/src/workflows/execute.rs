//! Running a workflow's steps in order: each step's input rendered from what ran before it,
//! its input, output, time and error logged, and a failure ending the run (after undoing a
//! transactional run's Airtable writes).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use super::http::StepHttp;
use super::store::{RunRow, Store};
use super::template::Templates;
use super::{WorkflowError, WorkflowParts};
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::llm::{Message, Request};
use crate::model::analytics::ToolSource;
use crate::model::auth::Scope;
use crate::model::workflows::{Step, StepRun, StepStatus, Workflow};
use crate::shown::Shown;
use crate::tools::{ToolContext, WORKFLOW_TOOLS};

/// The most items a loop goes through in one run.
pub const MAX_LOOP_ITEMS: usize = 500;
/// Header names whose values are not kept in the run's log.
const SECRET_HEADERS: [&str; 6] = ["authorization", "cookie", "x-api-key", "api-key", "token", "secret"];

/// What steps reach.
pub(crate) struct Parts {
    pub services: Arc<WorkflowParts>,
    pub http: StepHttp,
    pub templates: Arc<Templates>,
    pub store: Arc<Store>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ending {
    Succeeded,
    Failed(String),
    Cancelled(String),
}

/// What to do after a step.
enum Flow {
    Next,
    /// A condition was false: the run (or the loop's iteration) ends here.
    Stop,
}

/// One run in progress.
struct Running<'a> {
    run: &'a RunRow,
    user: UserId,
    test: bool,
    /// The next step's place in the log.
    position: i64,
    /// Airtable changes made so far, for a transactional run to undo.
    changes: Vec<String>,
    /// Set by the lease keeper when someone asks to cancel.
    cancel: &'a AtomicBool,
    /// The owner's Airtable connection, made at the first tool step.
    tools: Option<ToolContext>,
}

pub(crate) struct Executor {
    parts: Parts,
}

impl Executor {
    pub fn new(parts: Parts) -> Self {
        Self { parts }
    }

    /// Runs `run` to its end. Steps the log shows as finished (copied by a retry, or done
    /// before this run's last holder died) are not run again; their output is reused.
    ///
    /// # Errors
    /// Only when the log can't be read or written; a failing step is an `Ending`.
    pub async fn execute(&self, run: &RunRow, cancel: &AtomicBool) -> Result<Ending, WorkflowError> {
        let workflow: Workflow = serde_json::from_str(&run.definition).map_err(|e| WorkflowError::Corrupt(e.to_string()))?;
        let user = UserId::parse(&run.user_id).ok_or(WorkflowError::NotFound)?;
        let trigger: Value = serde_json::from_str(&run.trigger_data).unwrap_or(Value::Null);
        let logged = self.parts.store.steps(&run.id).await?;
        let finished: HashMap<String, Value> = logged
            .iter()
            .filter(|s| s.view.status.is_done())
            .map(|s| (s.view.step_id.clone(), s.view.output.clone().unwrap_or(Value::Null)))
            .collect();
        let mut running = Running {
            run,
            user,
            test: run.test != 0,
            position: logged.iter().map(|s| s.position + 1).max().unwrap_or(0),
            changes: Vec::new(),
            cancel,
            tools: None,
        };
        // Changes a copied step made belong to this run too, for a transactional run's undo.
        running.changes.extend(finished.values().filter_map(change_id));
        let mut context = json!({"trigger": trigger, "steps": {}});
        for step in &workflow.steps {
            if let Some(output) = finished.get(step.id()) {
                context["steps"][step.id()] = json!({"output": output});
                continue;
            }
            if cancel.load(Ordering::Relaxed) {
                let undone = self.undo(&mut running, workflow.transactional).await;
                return Ok(Ending::Cancelled(format!("Cancelled before step “{}”.{undone}", step.id())));
            }
            match self.step(&mut running, step, step.id().to_owned(), &mut context).await {
                Ok(Flow::Next) => {}
                Ok(Flow::Stop) => break,
                Err(message) => {
                    let undone = self.undo(&mut running, workflow.transactional).await;
                    if cancel.load(Ordering::Relaxed) {
                        return Ok(Ending::Cancelled(format!("Cancelled during step “{}”.{undone}", step.id())));
                    }
                    return Ok(Ending::Failed(format!("Step “{}” failed: {message}{undone}", step.id())));
                }
            }
        }
        Ok(Ending::Succeeded)
    }

    /// Undoes a transactional run's changes, newest first; says what happened, for the error.
    async fn undo(&self, running: &mut Running<'_>, transactional: bool) -> String {
        if !transactional || running.changes.is_empty() {
            return String::new();
        }
        let mut failures = Vec::new();
        let count = running.changes.len();
        for change in running.changes.drain(..).rev() {
            if let Err(e) = self.parts.services.sagas.undo(&running.user, &change, true).await {
                tracing::warn!(run.id = %running.run.id, change.id = %change, error = %e, "undoing a transactional run's change failed");
                failures.push(format!("{change} ({})", e.shown()));
            }
        }
        if failures.is_empty() {
            format!(" The run's {count} Airtable change(s) were undone.")
        } else {
            format!(" Undoing its changes failed for {}; see them on the Changes page.", failures.join(", "))
        }
    }

    /// Runs one step with its log entry; `path` is its ID, or `loop[i].id` inside a loop.
    async fn step(&self, running: &mut Running<'_>, step: &Step, path: String, context: &mut Value) -> Result<Flow, String> {
        let position = running.position;
        running.position += 1;
        let started = now_ms();
        let mut entry = StepRun { step_id: path.clone(), kind: step.kind().into(), status: StepStatus::Running, input: None, output: None, error: None, started_ms: started, duration_ms: None };
        let log = |e: WorkflowError| format!("the run's log could not be written ({})", e.shown());
        self.parts.store.start_step(&running.run.id, position, &entry).await.map_err(log)?;
        let result = self.perform(running, step, &path, context, &mut entry).await;
        entry.duration_ms = Some(now_ms() - started);
        let flow = match result {
            Ok((status, output, flow)) => {
                entry.status = status;
                context["steps"][step.id()] = json!({"output": &output});
                entry.output = Some(output);
                Ok(flow)
            }
            Err(message) => {
                entry.status = StepStatus::Failed;
                entry.error = Some(message.clone());
                Err(message)
            }
        };
        self.parts.store.end_step(&running.run.id, position, &entry).await.map_err(log)?;
        flow
    }

    async fn perform(&self, running: &mut Running<'_>, step: &Step, path: &str, context: &mut Value, entry: &mut StepRun) -> Result<(StepStatus, Value, Flow), String> {
        let templates = &self.parts.templates;
        let render = |value: &Value, context: &Value| templates.render(value, context).map_err(|e| format!("a template failed: {e}"));
        match step {
            Step::Tool { tool, arguments, .. } => {
                let arguments = render(arguments, context)?;
                entry.input = Some(arguments.clone());
                let info = self.parts.services.catalog.info(tool).filter(|_| !WORKFLOW_TOOLS.contains(&tool.as_str())).ok_or_else(|| format!("a workflow can't call “{tool}”"))?;
                if running.test && !info.annotations.read_only_hint {
                    return Ok((StepStatus::Skipped, json!({"test_run": true, "would_call": tool, "with": arguments}), Flow::Next));
                }
                let ctx = self.tool_context(running).await?;
                let output = self.parts.services.catalog.call(&ctx, Scope::Write, tool, arguments).await.map_err(|e| e.to_string())?;
                running.changes.extend(change_id(&output));
                Ok((StepStatus::Succeeded, output, Flow::Next))
            }
            Step::Llm { prompt, schema, .. } => {
                let prompt = render(&json!(prompt), context)?;
                let prompt = prompt.as_str().map_or_else(|| prompt.to_string(), str::to_owned);
                entry.input = Some(json!({"prompt": prompt, "schema": schema}));
                let output = self.ask(&running.user, &prompt, schema.as_ref()).await?;
                Ok((StepStatus::Succeeded, output, Flow::Next))
            }
            Step::Http { method, url, headers, body, .. } => {
                let url = render(&json!(url), context)?;
                let url = url.as_str().map_or_else(|| url.to_string(), str::to_owned);
                let headers = render(&serde_json::to_value(headers).unwrap_or_default(), context)?;
                let body = body.as_ref().map(|b| render(b, context)).transpose()?;
                entry.input = Some(json!({"method": method, "url": url, "headers": redacted(&headers), "body": body}));
                if running.test && !method.eq_ignore_ascii_case("GET") {
                    return Ok((StepStatus::Skipped, json!({"test_run": true, "would_send": method.to_ascii_uppercase(), "to": url}), Flow::Next));
                }
                let output = self.parts.http.send(method, &url, &headers, body.as_ref()).await.map_err(|e| e.to_string())?;
                Ok((StepStatus::Succeeded, output, Flow::Next))
            }
            Step::Condition { condition, .. } => {
                entry.input = Some(json!({"if": condition}));
                let passed = templates.is_true(condition, context).map_err(|e| format!("the condition failed: {e}"))?;
                let (status, flow) = if passed { (StepStatus::Succeeded, Flow::Next) } else { (StepStatus::Stopped, Flow::Stop) };
                Ok((status, json!({"passed": passed}), flow))
            }
            Step::Loop { over, steps, .. } => {
                let items = match templates.eval(super::template::strip_braces(over), context).map_err(|e| format!("the list failed: {e}"))? {
                    Value::Array(items) => items,
                    Value::Null => Vec::new(),
                    other => return Err(format!("“over” gave {}, not a list", kind_of(&other))),
                };
                if items.len() > MAX_LOOP_ITEMS {
                    return Err(format!("the list has {} items; a loop goes through at most {MAX_LOOP_ITEMS}", items.len()));
                }
                entry.input = Some(json!({"items": items.len()}));
                let mut outputs = Vec::with_capacity(items.len());
                for (index, item) in items.into_iter().enumerate() {
                    if running.cancel.load(Ordering::Relaxed) {
                        return Err("cancelled".into());
                    }
                    let mut inner = context.clone();
                    inner["item"] = item;
                    inner["index"] = json!(index);
                    for step in steps {
                        let flow = Box::pin(self.step(running, step, format!("{path}[{index}].{}", step.id()), &mut inner)).await?;
                        if matches!(flow, Flow::Stop) {
                            break;
                        }
                    }
                    let done: serde_json::Map<String, Value> =
                        steps.iter().filter_map(|s| inner["steps"].get(s.id()).map(|v| (s.id().to_owned(), v["output"].clone()))).collect();
                    outputs.push(Value::Object(done));
                }
                Ok((StepStatus::Succeeded, Value::Array(outputs), Flow::Next))
            }
        }
    }

    async fn tool_context(&self, running: &mut Running<'_>) -> Result<ToolContext, String> {
        if let Some(ctx) = &running.tools {
            return Ok(ctx.clone());
        }
        let connection = self.parts.services.connections.for_user(&running.user).await.map_err(|e| e.shown())?;
        let ctx = ToolContext::new(connection.client, ToolSource::Workflow, Some(running.user.as_str().to_owned()));
        running.tools = Some(ctx.clone());
        Ok(ctx)
    }

    /// Asks the owner's model; with a schema, the answer must be JSON that has its required
    /// properties.
    async fn ask(&self, user: &UserId, prompt: &str, schema: Option<&Value>) -> Result<Value, String> {
        self.parts.services.chat.check_budget(user).await.map_err(|e| e.shown())?;
        let endpoint = self.parts.services.llm_settings.endpoint(user).await.map_err(|e| e.to_string())?;
        let mut system = "You are one step of an automated workflow. Answer the prompt directly, with no greeting and no questions back.".to_owned();
        if let Some(schema) = schema {
            system.push_str(&format!(" Answer with only a JSON value matching this JSON Schema, with no prose and no code fences: {schema}"));
        }
        let request = Request { model: endpoint.model.clone(), system, messages: vec![Message::User(prompt.to_owned())], tools: Vec::new(), base_id: None };
        let reply = self.parts.services.llm.provider(&endpoint).generate(&request).await.map_err(|e| e.to_string())?;
        let cost_usd = self.parts.services.chat.record_model_call(user, &endpoint, &reply.usage).await.map_err(|e| e.shown())?;
        let mut output = json!({"text": reply.text.trim(), "model": endpoint.model, "cost_usd": cost_usd});
        if let Some(schema) = schema {
            output["data"] = structured(&reply.text, schema)?;
        }
        Ok(output)
    }
}

/// The JSON in a model's answer, checked for the schema's required properties.
fn structured(text: &str, schema: &Value) -> Result<Value, String> {
    let text = text.trim();
    let text = text.strip_prefix("```json").or_else(|| text.strip_prefix("```")).and_then(|t| t.strip_suffix("```")).unwrap_or(text).trim();
    let data: Value = serde_json::from_str(text).map_err(|_| "the model's answer is not the JSON the schema asks for".to_owned())?;
    let wanted = schema.get("type").and_then(Value::as_str);
    if wanted.is_some_and(|t| t != json_type(&data) && !(t == "number" && data.is_i64())) {
        return Err(format!("the model answered {}, and the schema asks for {}", kind_of(&data), wanted.unwrap_or_default()));
    }
    let required = schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str);
    let missing: Vec<&str> = required.filter(|name| data.get(*name).is_none()).collect();
    if !missing.is_empty() {
        return Err(format!("the model's answer lacks {}", missing.join(", ")));
    }
    Ok(data)
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "nothing",
        Value::Bool(_) => "true or false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// The change a record write's answer names, which undoes it.
fn change_id(output: &Value) -> Option<String> {
    output.get("change_id").and_then(Value::as_str).map(str::to_owned)
}

/// Headers as the log keeps them: secret ones hidden.
fn redacted(headers: &Value) -> Value {
    let Some(map) = headers.as_object() else { return headers.clone() };
    map.iter()
        .map(|(name, value)| {
            let lower = name.to_ascii_lowercase();
            let secret = SECRET_HEADERS.iter().any(|s| lower.contains(s));
            (name.clone(), if secret { json!("(hidden)") } else { value.clone() })
        })
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structured_answers_are_read_from_fences_and_checked() {
        let schema = json!({"type": "object", "required": ["summary"]});
        assert_eq!(structured("```json\n{\"summary\": \"ok\"}\n```", &schema).unwrap(), json!({"summary": "ok"}));
        assert!(structured("{\"other\": 1}", &schema).unwrap_err().contains("summary"));
        assert!(structured("Sure! Here it is", &schema).is_err());
        assert!(structured("[1]", &schema).unwrap_err().contains("object"));
    }

    #[test]
    fn secret_headers_are_not_logged() {
        let logged = redacted(&json!({"Authorization": "Bearer abc", "X-Api-Key": "k", "Accept": "text/plain"}));
        assert_eq!(logged, json!({"Authorization": "(hidden)", "X-Api-Key": "(hidden)", "Accept": "text/plain"}));
    }
}
