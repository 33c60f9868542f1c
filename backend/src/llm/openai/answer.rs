//! Reading OpenAI's answers: the whole completion, token usage, tool calls and their arguments,
//! and errors sent inside a successful response.

use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::llm::error::{log_upstream, upstream_message};
use crate::llm::{LlmError, Reply, ToolCall, Usage};
use crate::model::llm::LlmProvider;

/// A non-streamed answer (`object: "chat.completion"`).
#[derive(Debug, Deserialize)]
pub(super) struct Completion {
    #[serde(default, deserialize_with = "nullable")]
    choices: Vec<Choice>,
    usage: Option<WireUsage>,
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    message: AnswerMessage,
}

#[derive(Debug, Deserialize)]
struct AnswerMessage {
    content: Option<String>,
    /// What a model says instead of its answer when it declines (OpenAI's safety refusals).
    refusal: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    tool_calls: Vec<WireCall>,
}

#[derive(Debug, Deserialize)]
struct WireCall {
    id: Option<String>,
    function: WireFunctionCall,
}

#[derive(Debug, Deserialize)]
struct WireFunctionCall {
    name: Option<String>,
    /// A JSON string by the documentation; some local servers send the object itself.
    #[serde(default)]
    arguments: Value,
}

impl Completion {
    /// The first choice as a [`Reply`]: we never ask for more than one.
    ///
    /// # Errors
    /// `Protocol` for an answer without choices or with unreadable tool calls; an error the
    /// server sent with a success status, as [`error_in_answer`] reads it.
    pub(super) fn into_reply(self, provider: LlmProvider) -> Result<Reply, LlmError> {
        if let Some(error) = self.error {
            return Err(error_in_answer(provider, &error));
        }
        let Some(choice) = self.choices.into_iter().next() else {
            return Err(LlmError::Protocol { provider, detail: "the answer has no choices".into() });
        };
        let message = choice.message;
        let text = message.content.filter(|c| !c.is_empty()).or(message.refusal).unwrap_or_default();
        let tool_calls = message
            .tool_calls
            .into_iter()
            .enumerate()
            .map(|(position, call)| tool_call(provider, position, call.id, call.function.name, call.function.arguments))
            .collect::<Result<_, _>>()?;
        Ok(Reply { text, tool_calls, usage: self.usage.map(WireUsage::into_usage).unwrap_or_default() })
    }
}

/// `usage`, in either mode. Every field may be missing or null on OpenAI-compatible servers.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireUsage {
    prompt_tokens: Option<u64>,
    completion_tokens: Option<u64>,
    prompt_tokens_details: Option<PromptDetails>,
    completion_tokens_details: Option<CompletionDetails>,
}

#[derive(Debug, Deserialize)]
struct PromptDetails {
    cached_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct CompletionDetails {
    reasoning_tokens: Option<u64>,
}

impl WireUsage {
    /// OpenAI counts cached tokens inside `prompt_tokens` and reasoning inside
    /// `completion_tokens`; [`Usage`] keeps reasoning apart, as Gemini reports it.
    pub(super) fn into_usage(self) -> Usage {
        let input = self.prompt_tokens.unwrap_or(0);
        let reasoning = self.completion_tokens_details.and_then(|d| d.reasoning_tokens).unwrap_or(0);
        Usage {
            input_tokens: input,
            cached_tokens: self.prompt_tokens_details.and_then(|d| d.cached_tokens).unwrap_or(0).min(input),
            output_tokens: self.completion_tokens.unwrap_or(0).saturating_sub(reasoning),
            thinking_tokens: reasoning,
        }
    }
}

/// One tool call as the rest of the app sees it: a name, an ID, and arguments that are a JSON
/// object.
///
/// # Errors
/// `Protocol` when the name is missing or the arguments aren't a JSON object. A call whose
/// arguments were cut off or garbled is refused rather than run with guessed arguments: a
/// tool that writes to Airtable must not act on half a request.
pub(super) fn tool_call(
    provider: LlmProvider,
    position: usize,
    id: Option<String>,
    name: Option<String>,
    arguments: Value,
) -> Result<ToolCall, LlmError> {
    let Some(name) = name.filter(|n| !n.is_empty()) else {
        return Err(LlmError::Protocol { provider, detail: format!("tool call {} came without a function name", position + 1) });
    };
    let arguments = object(arguments).ok_or_else(|| LlmError::Protocol {
        provider,
        detail: format!("the model called {name} with arguments that are not a JSON object"),
    })?;
    // Every call needs an ID to match its result; a few local servers leave it out.
    let id = id.filter(|id| !id.is_empty()).unwrap_or_else(|| format!("call_{position}"));
    Ok(ToolCall { id, name, arguments: Value::Object(arguments), signature: None })
}

/// The arguments as an object: from the documented JSON string, from an object sent as is, or
/// from a string encoded twice, which some small models produce. Nothing at all means none.
fn object(arguments: Value) -> Option<Map<String, Value>> {
    match arguments {
        Value::Null => Some(Map::new()),
        Value::Object(map) => Some(map),
        Value::String(text) if text.trim().is_empty() => Some(Map::new()),
        Value::String(text) => match serde_json::from_str::<Value>(&text).ok()? {
            inner @ (Value::Object(_) | Value::Null) => object(inner),
            Value::String(twice) if twice.trim_start().starts_with('{') => object(Value::String(twice)),
            _ => None,
        },
        _ => None,
    }
}

/// An `{"error": …}` sent with a 200 status, which proxies such as OpenRouter do when the model
/// behind them fails after the response began.
pub(super) fn error_in_answer(provider: LlmProvider, error: &Value) -> LlmError {
    let status = error
        .get("code")
        .and_then(Value::as_u64)
        .and_then(|code| u16::try_from(code).ok())
        .filter(|code| (400..=599).contains(code))
        .unwrap_or(502);
    log_upstream(provider, status, &upstream_message(&serde_json::json!({ "error": error }).to_string()));
    match status {
        401 | 403 => LlmError::KeyRejected { provider },
        429 => LlmError::RateLimited { provider, attempts: 1 },
        _ => LlmError::Unavailable { provider, status, attempts: 1 },
    }
}

/// A list that may also be sent as `null` or left out, as some compatible servers do.
pub(super) fn nullable<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PROVIDER: LlmProvider = LlmProvider::OpenaiCompatible;

    fn reply(answer: Value) -> Result<Reply, LlmError> {
        serde_json::from_value::<Completion>(answer).unwrap().into_reply(PROVIDER)
    }

    #[test]
    fn a_text_answer_is_read_with_its_usage() {
        let answer = reply(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "12 open tasks.", "refusal": null}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 100, "completion_tokens": 30, "total_tokens": 130,
                "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 20, "audio_tokens": 0}},
        }))
        .unwrap();
        assert_eq!(answer.text, "12 open tasks.");
        assert!(answer.tool_calls.is_empty());
        assert_eq!(answer.usage, Usage { input_tokens: 100, cached_tokens: 64, output_tokens: 10, thinking_tokens: 20 });
    }

    #[test]
    fn tool_calls_have_their_arguments_parsed() {
        let answer = reply(json!({
            "choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "list_records", "arguments": "{\"table\":\"Tasks\"}"}},
                {"id": "call_2", "type": "function", "function": {"name": "list_tables", "arguments": ""}},
            ]}}],
        }))
        .unwrap();
        assert_eq!(answer.text, "");
        assert_eq!(answer.tool_calls[0].arguments, json!({"table": "Tasks"}));
        assert_eq!((answer.tool_calls[1].id.as_str(), &answer.tool_calls[1].arguments), ("call_2", &json!({})));
        assert_eq!(answer.usage, Usage::default(), "a server that counts nothing costs nothing");
    }

    #[test]
    fn arguments_that_are_not_an_object_are_refused_with_the_tools_name() {
        let answer = reply(json!({
            "choices": [{"message": {"tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "delete_records", "arguments": "{\"ids\": [\"rec1\""}},
            ]}}],
        }));
        let error = answer.unwrap_err();
        assert!(matches!(error, LlmError::Protocol { .. }));
        assert!(error.to_string().contains("delete_records with arguments that are not a JSON object"), "{error}");
    }

    #[test]
    fn arguments_sent_as_an_object_or_encoded_twice_are_accepted() {
        assert_eq!(object(json!({"a": 1})), Some(json!({"a": 1}).as_object().unwrap().clone()));
        assert_eq!(object(json!("\"{\\\"a\\\":1}\"")), Some(json!({"a": 1}).as_object().unwrap().clone()));
        assert_eq!(object(json!("null")), Some(Map::new()));
        assert_eq!(object(json!("[1]")), None);
        assert_eq!(object(json!("\"just words\"")), None);
    }

    #[test]
    fn a_call_without_an_id_gets_one_and_without_a_name_is_refused() {
        let call = tool_call(PROVIDER, 2, None, Some("list_tables".into()), json!("{}")).unwrap();
        assert_eq!(call.id, "call_2");
        assert!(matches!(tool_call(PROVIDER, 0, Some("call_1".into()), None, json!("{}")), Err(LlmError::Protocol { .. })));
    }

    #[test]
    fn a_refusal_is_the_answers_text() {
        let answer = reply(json!({"choices": [{"message": {"content": null, "refusal": "I can't help with that."}}]})).unwrap();
        assert_eq!(answer.text, "I can't help with that.");
    }

    #[test]
    fn an_answer_without_choices_is_a_protocol_error() {
        assert!(matches!(reply(json!({"choices": []})), Err(LlmError::Protocol { .. })));
        assert!(matches!(reply(json!({"object": "chat.completion"})), Err(LlmError::Protocol { .. })));
    }

    #[test]
    fn an_error_inside_a_successful_response_keeps_its_status_but_not_its_message() {
        let error = reply(json!({"error": {"code": 502, "message": "Provider returned error"}})).unwrap_err();
        assert!(matches!(error, LlmError::Unavailable { status: 502, .. }));
        assert!(!error.to_string().contains("Provider returned error"), "{error}");
        let error = reply(json!({"error": {"code": "server_error", "message": "The model crashed"}})).unwrap_err();
        assert!(matches!(error, LlmError::Unavailable { status: 502, .. }), "a code that is no status reads as a bad gateway");
    }

    #[test]
    fn cached_tokens_never_exceed_the_input() {
        let usage: WireUsage = serde_json::from_value(json!({"prompt_tokens": 10, "completion_tokens": null, "prompt_tokens_details": {"cached_tokens": 50}})).unwrap();
        assert_eq!(usage.into_usage(), Usage { input_tokens: 10, cached_tokens: 10, output_tokens: 0, thinking_tokens: 0 });
    }
}
