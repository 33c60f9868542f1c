//! Templates that pass data between steps, on minijinja: `{{ trigger.record.fields.Name }}`,
//! `{{ steps.summarize.output.text }}`. A string that is one `{{ … }}` and nothing else is an
//! expression, and passes its value as it is (a list of records, a number); any other string
//! is rendered to text.

use minijinja::{Environment, UndefinedBehavior};
use serde_json::Value;

/// How much work one template may do (minijinja's fuel: about one unit per instruction), so a
/// loop in a template can't hold a worker.
const FUEL: u64 = 200_000;

/// The template engine. Cheap to share.
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

/// Why a template failed, as the run's step error reads it.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
#[error("{0}")]
pub struct TemplateError(String);

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        // Airtable leaves empty fields out of a record, so a missing value reads as empty
        // rather than failing the run; references to steps are checked when a workflow is saved.
        env.set_undefined_behavior(UndefinedBehavior::Chainable);
        env.set_fuel(Some(FUEL));
        env.set_recursion_limit(50);
        Self { env }
    }

    /// Every string in `value` rendered against `context`.
    ///
    /// # Errors
    /// The first template that fails, with the reason.
    pub fn render(&self, value: &Value, context: &Value) -> Result<Value, TemplateError> {
        Ok(match value {
            Value::String(text) => self.render_text(text, context)?,
            Value::Array(items) => Value::Array(items.iter().map(|v| self.render(v, context)).collect::<Result<_, _>>()?),
            Value::Object(map) => {
                let mut out = serde_json::Map::with_capacity(map.len());
                for (key, v) in map {
                    out.insert(key.clone(), self.render(v, context)?);
                }
                Value::Object(out)
            }
            other => other.clone(),
        })
    }

    fn render_text(&self, text: &str, context: &Value) -> Result<Value, TemplateError> {
        if let Some(expression) = lone_expression(text) {
            return self.eval(expression, context);
        }
        if !text.contains("{{") && !text.contains("{%") {
            return Ok(Value::String(text.to_owned()));
        }
        self.env.render_str(text, context).map(Value::String).map_err(explain)
    }

    /// The value of an expression (without braces), such as a condition or a loop's list.
    ///
    /// # Errors
    /// When it can't be compiled or evaluated.
    pub fn eval(&self, expression: &str, context: &Value) -> Result<Value, TemplateError> {
        let compiled = self.env.compile_expression(expression).map_err(explain)?;
        let value = compiled.eval(context).map_err(explain)?;
        if value.is_undefined() {
            return Ok(Value::Null);
        }
        serde_json::to_value(&value).map_err(|e| TemplateError(format!("the value can't be passed on: {e}")))
    }

    /// Whether an expression (with or without braces) is true.
    ///
    /// # Errors
    /// When it can't be compiled or evaluated.
    pub fn is_true(&self, expression: &str, context: &Value) -> Result<bool, TemplateError> {
        let compiled = self.env.compile_expression(strip_braces(expression)).map_err(explain)?;
        Ok(compiled.eval(context).map_err(explain)?.is_true())
    }

    /// The variables a string's templates read, as dotted paths (`steps.find.output`), or why it
    /// doesn't compile. `expression` marks text that is an expression without braces.
    ///
    /// # Errors
    /// The syntax error, with its place.
    pub fn references(&self, text: &str, expression: bool) -> Result<Vec<String>, TemplateError> {
        let found = match lone_expression(text).or(expression.then_some(text)) {
            Some(expression) => self.env.compile_expression(expression).map_err(explain)?.undeclared_variables(true),
            None if !text.contains("{{") && !text.contains("{%") => return Ok(Vec::new()),
            None => self.env.template_from_str(text).map_err(explain)?.undeclared_variables(true),
        };
        let mut found: Vec<String> = found.into_iter().collect();
        found.sort();
        Ok(found)
    }
}

/// An expression written with or without its braces, without them.
pub fn strip_braces(text: &str) -> &str {
    lone_expression(text).unwrap_or(text)
}

/// The expression inside a string that is one `{{ … }}` and nothing else.
fn lone_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    let single = !inner.contains("{{") && !inner.contains("}}") && !inner.contains("{%");
    single.then_some(inner.trim()).filter(|e| !e.is_empty())
}

fn explain(e: minijinja::Error) -> TemplateError {
    let mut text = e.detail().map_or_else(|| e.kind().to_string(), |detail| format!("{}: {detail}", e.kind()));
    if let Some(line) = e.line() {
        text.push_str(&format!(" (line {line})"));
    }
    TemplateError(text)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn context() -> Value {
        json!({"trigger": {"record": {"id": "rec1", "fields": {"Name": "Write <report>", "Hours": 3}}},
               "steps": {"find": {"output": {"records": [{"id": "recA"}, {"id": "recB"}]}}}})
    }

    #[test]
    fn a_lone_expression_passes_its_value_and_text_is_rendered() {
        let templates = Templates::new();
        let out = templates
            .render(&json!({"records": "{{ steps.find.output.records }}", "hours": "{{trigger.record.fields.Hours}}", "title": "Task: {{ trigger.record.fields.Name }}!"}), &context())
            .unwrap();
        assert_eq!(out["records"], json!([{"id": "recA"}, {"id": "recB"}]));
        assert_eq!(out["hours"], json!(3));
        // Text is passed on as it is: nothing here becomes HTML.
        assert_eq!(out["title"], json!("Task: Write <report>!"));
    }

    #[test]
    fn a_missing_field_reads_as_empty() {
        let templates = Templates::new();
        assert_eq!(templates.render(&json!("[{{ trigger.record.fields.Notes }}]"), &context()).unwrap(), json!("[]"));
        assert_eq!(templates.render(&json!("{{ trigger.record.fields.Notes.x }}"), &context()).unwrap(), json!(null));
        assert!(!templates.is_true("trigger.record.fields.Notes", &context()).unwrap());
        assert!(templates.is_true("{{ trigger.record.fields.Hours > 2 }}", &context()).unwrap());
    }

    #[test]
    fn references_are_found_as_dotted_paths() {
        let templates = Templates::new();
        let found = templates.references("{{ steps.summarize.output.text }} for {{ trigger.record.fields.Name }}", false).unwrap();
        assert_eq!(found, vec!["steps.summarize.output.text", "trigger.record.fields.Name"]);
        assert_eq!(templates.references("item.id == 'x'", true).unwrap(), vec!["item.id"]);
        assert!(templates.references("{{ steps.", false).is_err());
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel() {
        let templates = Templates::new();
        let err = templates.render(&json!("{% for i in range(10000) %}{% for j in range(10000) %}x{% endfor %}{% endfor %}"), &json!({})).unwrap_err();
        assert!(err.to_string().contains("fuel"), "{err}");
    }
}
