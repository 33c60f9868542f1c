//! Checks a definition before it is saved: every problem, each with its step and field, so a
//! template that reads a step that doesn't exist (or comes later) is caught then, not at 3 a.m.

use std::collections::HashSet;

use serde_json::Value;

use super::schedule::Schedule;
use super::template::Templates;
use crate::model::airtable::BaseId;
use crate::model::workflows::{Problem, Step, Trigger, Workflow};
use crate::tools::{Catalog, WORKFLOW_TOOLS};

/// The most steps a workflow holds, inner steps of loops included.
pub const MAX_STEPS: usize = 50;
/// How deep loops may nest.
const MAX_DEPTH: usize = 3;
/// minijinja's own functions, which templates may call.
const GLOBALS: [&str; 4] = ["range", "dict", "namespace", "debug"];
/// HTTP methods a step may use.
pub const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// Every problem with `workflow`; empty when it can be saved.
pub fn problems(workflow: &Workflow, catalog: &Catalog, templates: &Templates) -> Vec<Problem> {
    let mut all = HashSet::new();
    every_id(&workflow.steps, &mut all);
    let mut check = Check { catalog, templates, trigger: &workflow.trigger, problems: Vec::new(), seen: HashSet::new(), all, count: 0 };
    check.workflow(workflow);
    check.problems
}

struct Check<'a> {
    catalog: &'a Catalog,
    templates: &'a Templates,
    trigger: &'a Trigger,
    problems: Vec<Problem>,
    /// Step IDs met so far, in the order they run.
    seen: HashSet<String>,
    /// Every step ID of the workflow, loops' steps included.
    all: HashSet<String>,
    count: usize,
}

/// Where a template is: the step, and the loops around it.
struct Place<'a> {
    step: &'a str,
    in_loop: bool,
    /// The steps a template here may read.
    visible: &'a [String],
}

impl Check<'_> {
    fn problem(&mut self, step: Option<&str>, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem { step: step.map(str::to_owned), field: field.into(), message: message.into() });
    }

    fn workflow(&mut self, workflow: &Workflow) {
        if workflow.name.trim().is_empty() {
            self.problem(None, "name", "Give the workflow a name.");
        } else if workflow.name.chars().count() > 200 {
            self.problem(None, "name", "A name has at most 200 characters.");
        }
        if workflow.concurrency == Some(0) {
            self.problem(None, "concurrency", "At least one run must be allowed at a time; leave it out for one.");
        }
        self.trigger();
        if workflow.steps.is_empty() {
            self.problem(None, "steps", "Add at least one step.");
        }
        self.steps(&workflow.steps, &mut Vec::new(), 0, false);
        if self.count > MAX_STEPS {
            self.problem(None, "steps", format!("A workflow has at most {MAX_STEPS} steps (loops' steps included); this one has {}.", self.count));
        }
    }

    fn trigger(&mut self) {
        match self.trigger {
            Trigger::Manual { inputs } => {
                let mut names = HashSet::new();
                for (i, input) in inputs.iter().enumerate() {
                    if !is_identifier(&input.name) {
                        self.problem(None, format!("trigger.inputs[{i}].name"), "An input's name is letters, digits and _, starting with a letter, such as title.");
                    } else if !names.insert(input.name.as_str()) {
                        self.problem(None, format!("trigger.inputs[{i}].name"), format!("There are two inputs named {}.", input.name));
                    }
                }
            }
            Trigger::Schedule { cron, timezone } => {
                if let Err(e) = Schedule::parse(cron, timezone) {
                    let field = match e {
                        super::schedule::ScheduleError::Zone(_) => "trigger.timezone",
                        super::schedule::ScheduleError::Cron(_) => "trigger.cron",
                    };
                    self.problem(None, field, e.to_string());
                }
            }
            Trigger::Record { base_id, table, .. } => {
                if BaseId::parse(base_id).is_err() {
                    self.problem(None, "trigger.base_id", "A base ID starts with app and has 17 characters, such as appXXXXXXXXXXXXXX.");
                }
                if table.trim().is_empty() {
                    self.problem(None, "trigger.table", "Name the table (its name or ID).");
                }
            }
            Trigger::File { pattern: Some(pattern) } if pattern.trim().is_empty() || pattern.chars().count() > 100 => {
                self.problem(None, "trigger.pattern", "A pattern is a file name with * for any text, such as *.csv; leave it out for every file.");
            }
            Trigger::Webhook {} | Trigger::File { .. } => {}
        }
    }

    /// Checks `steps` in order; `visible` holds the steps they may read (those before them,
    /// and before the loops around them).
    fn steps(&mut self, steps: &[Step], visible: &mut Vec<String>, depth: usize, in_loop: bool) {
        for step in steps {
            self.count += 1;
            let id = step.id();
            if !is_identifier(id) {
                self.problem(Some(id), "id", "A step's ID is letters, digits and _, starting with a letter, such as summarize; templates read it as steps.<id>.");
            } else if !self.seen.insert(id.to_owned()) {
                self.problem(Some(id), "id", "Another step has this ID; each step needs its own.");
            }
            let place = Place { step: id, in_loop, visible };
            match step {
                Step::Tool { tool, arguments, .. } => {
                    match self.catalog.info(tool) {
                        Some(_) if WORKFLOW_TOOLS.contains(&tool.as_str()) => self.problem(Some(id), "tool", "A workflow's steps can't list, create or start workflows."),
                        None => self.problem(Some(id), "tool", format!("There is no tool named “{}”.", tool.chars().take(80).collect::<String>())),
                        Some(info) => {
                            let required = info.input_schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default();
                            for name in required.iter().filter_map(Value::as_str) {
                                if arguments.get(name).is_none() {
                                    self.problem(Some(id), format!("arguments.{name}"), format!("{tool} needs {name}."));
                                }
                            }
                        }
                    }
                    if !arguments.is_object() && !arguments.is_null() {
                        self.problem(Some(id), "arguments", "A tool's arguments are an object, such as {\"base_id\": \"app…\"}.");
                    }
                    self.templates_in(&place, "arguments", arguments);
                }
                Step::Llm { prompt, schema, .. } => {
                    if prompt.trim().is_empty() {
                        self.problem(Some(id), "prompt", "Write the prompt.");
                    }
                    if schema.as_ref().is_some_and(|s| s.get("type").is_none()) {
                        self.problem(Some(id), "schema", "A schema is a JSON Schema object with a type, such as {\"type\": \"object\", \"properties\": {…}}.");
                    }
                    self.template(&place, "prompt", prompt, false);
                }
                Step::Http { method, url, headers, body, .. } => {
                    if !METHODS.contains(&method.to_ascii_uppercase().as_str()) {
                        self.problem(Some(id), "method", format!("The method is one of {}.", METHODS.join(", ")));
                    }
                    let templated = url.contains("{{") || url.contains("{%");
                    if !templated && !url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
                        self.problem(Some(id), "url", "The URL is a full http or https address, such as https://example.com/hook.");
                    }
                    self.template(&place, "url", url, false);
                    for (name, value) in headers {
                        self.template(&place, &format!("headers.{name}"), value, false);
                    }
                    if let Some(body) = body {
                        self.templates_in(&place, "body", body);
                    }
                }
                Step::Condition { condition, .. } => {
                    if condition.trim().is_empty() {
                        self.problem(Some(id), "if", "Write the condition, such as trigger.record.fields.Status == 'Done'.");
                    } else {
                        self.template(&place, "if", condition, true);
                    }
                }
                Step::Loop { over, steps: inner, .. } => {
                    self.template(&place, "over", over, true);
                    if depth + 1 >= MAX_DEPTH {
                        self.problem(Some(id), "steps", format!("Loops nest at most {MAX_DEPTH} deep."));
                    } else if inner.is_empty() {
                        self.problem(Some(id), "steps", "A loop needs at least one step.");
                    } else {
                        let before = visible.len();
                        self.steps(inner, visible, depth + 1, true);
                        visible.truncate(before);
                    }
                }
            }
            visible.push(id.to_owned());
        }
    }

    /// Checks every string inside `value`, naming each by its path.
    fn templates_in(&mut self, place: &Place<'_>, field: &str, value: &Value) {
        match value {
            Value::String(text) => self.template(place, field, text, false),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.templates_in(place, &format!("{field}[{i}]"), item);
                }
            }
            Value::Object(map) => {
                for (key, item) in map {
                    self.templates_in(place, &format!("{field}.{key}"), item);
                }
            }
            _ => {}
        }
    }

    fn template(&mut self, place: &Place<'_>, field: &str, text: &str, expression: bool) {
        let references = match self.templates.references(text, expression) {
            Ok(references) => references,
            Err(e) => return self.problem(Some(place.step), field, format!("The template doesn't read: {e}.")),
        };
        for reference in references {
            if let Some(message) = self.reference_problem(place, &reference) {
                self.problem(Some(place.step), field, message);
            }
        }
    }

    fn reference_problem(&self, place: &Place<'_>, reference: &str) -> Option<String> {
        let mut parts = reference.split('.');
        let root = parts.next().unwrap_or_default();
        match root {
            "trigger" => {
                let key = parts.next()?;
                let keys = trigger_keys(self.trigger);
                if !keys.contains(&key) {
                    return Some(format!("{{{{ {reference} }}}}: a {} trigger gives {}.", self.trigger.kind(), keys.iter().map(|k| format!("trigger.{k}")).collect::<Vec<_>>().join(", ")));
                }
                if let (Trigger::Manual { inputs }, "inputs", Some(name)) = (self.trigger, key, parts.next()) {
                    if !inputs.iter().any(|i| i.name == name) {
                        return Some(format!("{{{{ {reference} }}}}: the trigger has no input named {name}; add it to the trigger's inputs."));
                    }
                }
                None
            }
            "steps" => {
                let Some(step) = parts.next() else {
                    return Some("{{ steps }} alone can't be used; read one step's output, such as steps.find.output.".into());
                };
                if !place.visible.iter().any(|s| s == step) {
                    let why = if self.all.contains(step) && step != place.step { "comes later, or inside a loop, so its output is not there yet" } else if step == place.step { "is this step itself" } else { "is not a step of this workflow" };
                    return Some(format!("{{{{ {reference} }}}}: “{step}” {why}."));
                }
                match parts.next() {
                    None | Some("output") => None,
                    Some(other) => Some(format!("{{{{ {reference} }}}}: a step gives only its output; read steps.{step}.output, not .{other}.")),
                }
            }
            "item" | "index" if place.in_loop => None,
            "item" | "index" => Some(format!("{{{{ {reference} }}}}: {root} is only there inside a loop's steps.")),
            _ if GLOBALS.contains(&root) => None,
            _ => Some(format!("{{{{ {reference} }}}}: unknown name {root}; templates read trigger, steps (earlier steps' output), and item and index inside a loop.")),
        }
    }
}

/// What each trigger kind passes to its run, under `trigger`.
pub fn trigger_keys(trigger: &Trigger) -> &'static [&'static str] {
    match trigger {
        Trigger::Manual { .. } => &["inputs"],
        Trigger::Schedule { .. } => &["scheduled_at"],
        Trigger::Webhook {} => &["body", "headers", "delivery_id"],
        Trigger::Record { .. } => &["record", "event", "base_id", "table"],
        Trigger::File { .. } => &["file"],
    }
}

fn every_id(steps: &[Step], ids: &mut HashSet<String>) {
    for step in steps {
        ids.insert(step.id().to_owned());
        if let Step::Loop { steps, .. } = step {
            every_id(steps, ids);
        }
    }
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && text.len() <= 64
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(definition: Value) -> Vec<Problem> {
        let workflow: Workflow = serde_json::from_value(definition).unwrap();
        problems(&workflow, &Catalog::new(), &Templates::new())
    }

    #[test]
    fn the_issues_example_is_valid() {
        let found = check(json!({"name": "Add a task", "trigger": {"kind": "manual", "inputs": [{"name": "title"}]},
            "steps": [{"id": "add", "kind": "tool", "tool": "create_records",
                       "arguments": {"base_id": "appAAAAAAAAAAAAAA", "table": "Tasks", "records": [{"Name": "{{trigger.inputs.title}}"}]}}]}));
        assert_eq!(found, vec![]);
    }

    #[test]
    fn a_reference_to_a_later_step_names_the_step_and_field() {
        let found = check(json!({"name": "x", "trigger": {"kind": "manual"}, "steps": [
            {"id": "add", "kind": "tool", "tool": "create_records",
             "arguments": {"base_id": "appAAAAAAAAAAAAAA", "table": "Tasks", "records": [{"Name": "{{ steps.summarize.output.text }}"}]}},
            {"id": "summarize", "kind": "llm", "prompt": "Say hi"}]}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].step.as_deref(), Some("add"));
        assert_eq!(found[0].field, "arguments.records[0].Name");
        assert!(found[0].message.contains("comes later"), "{}", found[0].message);
    }

    #[test]
    fn unknown_tools_inputs_and_names_are_each_reported() {
        let found = check(json!({"name": "", "trigger": {"kind": "schedule", "cron": "0 9 * * *", "timezone": "Nowhere/City"}, "steps": [
            {"id": "a", "kind": "tool", "tool": "make_coffee"},
            {"id": "b", "kind": "llm", "prompt": "{{ trigger.inputs.title }} {{ item }} {{ secrets.key }}"},
            {"id": "b", "kind": "condition", "if": "steps.a.result"}]}));
        let fields: Vec<(Option<&str>, &str)> = found.iter().map(|p| (p.step.as_deref(), p.field.as_str())).collect();
        assert!(fields.contains(&(None, "name")));
        assert!(fields.contains(&(None, "trigger.timezone")));
        assert!(fields.contains(&(Some("a"), "tool")));
        assert_eq!(fields.iter().filter(|f| **f == (Some("b"), "prompt")).count(), 3, "{found:?}");
        assert!(fields.contains(&(Some("b"), "id")));
        assert!(fields.contains(&(Some("b"), "if")));
    }

    #[test]
    fn a_loops_steps_read_item_and_earlier_steps_of_the_loop() {
        let found = check(json!({"name": "x", "trigger": {"kind": "manual"}, "steps": [
            {"id": "find", "kind": "tool", "tool": "list_records", "arguments": {"base_id": "appAAAAAAAAAAAAAA", "table": "Tasks"}},
            {"id": "each", "kind": "loop", "over": "steps.find.output.records", "steps": [
                {"id": "say", "kind": "llm", "prompt": "{{ item.fields.Name }} #{{ index }}"},
                {"id": "save", "kind": "tool", "tool": "update_records", "arguments": {"base_id": "appAAAAAAAAAAAAAA", "table": "Tasks",
                    "records": [{"id": "{{ item.id }}", "fields": {"Notes": "{{ steps.say.output.text }}"}}]}}]},
            {"id": "after", "kind": "llm", "prompt": "{{ steps.each.output }} but not {{ steps.say.output }}"}]}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].step.as_deref(), found[0].field.as_str()), (Some("after"), "prompt"));
    }

    #[test]
    fn a_template_that_does_not_parse_is_reported_where_it_is() {
        let found = check(json!({"name": "x", "trigger": {"kind": "webhook"}, "steps": [
            {"id": "post", "kind": "http", "method": "POST", "url": "https://example.com/{{ trigger.body.id", "body": {"a": "{{ trigger.delivery_id }}"}}]}));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].field, "url");
        assert!(found[0].message.contains("doesn't read"), "{}", found[0].message);
    }
}
