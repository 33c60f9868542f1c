//! Gemini's JSON: the `generateContent` body built from a provider-neutral [`Request`], and
//! answers read back into a [`Reply`], whole or one streamed chunk at a time.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{PROVIDER, schema};
use crate::llm::error::log_upstream;
use crate::llm::{LlmError, Message, Reply, Request, ToolCall, ToolResult, ToolSpec, Usage};

/// The body of `generateContent` and `streamGenerateContent`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Body {
    #[serde(skip_serializing_if = "Option::is_none")]
    system_instruction: Option<Content>,
    contents: Vec<Content>,
    /// Left out when empty: Google refuses a tool with no declarations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<Tool>,
}

impl Body {
    pub(super) fn new(request: &Request) -> Self {
        let system_instruction =
            (!request.system.trim().is_empty()).then(|| Content { role: None, parts: vec![Part::text(&request.system)] });
        let contents = request.messages.iter().filter_map(content).collect();
        let tools = if request.tools.is_empty() {
            Vec::new()
        } else {
            vec![Tool { function_declarations: request.tools.iter().map(declaration).collect() }]
        };
        Self { system_instruction, contents, tools }
    }
}

/// One turn of the conversation: `user` or `model`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Content {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    role: Option<String>,
    #[serde(default)]
    parts: Vec<Part>,
}

/// One piece of a turn: text, a function call or a function's answer.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Part {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<String>,
    /// Set on a thinking model's summary of its thoughts, which isn't part of the answer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    thought: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    function_call: Option<FunctionCall>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    function_response: Option<FunctionResponse>,
    /// Opaque; it belongs to the part it came on and goes back on that same part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    thought_signature: Option<String>,
}

impl Part {
    fn text(text: &str) -> Self {
        Self { text: Some(text.to_owned()), ..Self::default() }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct FunctionCall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    name: String,
    /// Missing for a function without parameters.
    #[serde(default)]
    args: Option<Map<String, Value>>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FunctionResponse {
    name: String,
    response: Map<String, Value>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Tool {
    function_declarations: Vec<Declaration>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Declaration {
    name: String,
    description: String,
    parameters_json_schema: Value,
}

/// A message as Gemini's content, or nothing for an empty one (Google refuses a content without
/// parts).
fn content(message: &Message) -> Option<Content> {
    let (role, parts) = match message {
        Message::User(text) => ("user", vec![Part::text(text)]),
        Message::Assistant { text, tool_calls } => {
            let text = (!text.is_empty()).then(|| Part::text(text));
            ("model", text.into_iter().chain(tool_calls.iter().map(call_part)).collect())
        }
        // Every answer to one turn's calls goes in one content, in the calls' order.
        Message::ToolResults(results) => ("user", results.iter().map(response_part).collect()),
    };
    (!parts.is_empty()).then(|| Content { role: Some(role.to_owned()), parts })
}

/// A call the model made earlier, as it made it. Its ID is not sent: Google gives IDs only on
/// some surfaces and matches answers to calls by order and name, and an ID it didn't make up
/// (ours, or another provider's from earlier in the chat) is better left out than invented.
fn call_part(call: &ToolCall) -> Part {
    let args = match &call.arguments {
        Value::Object(args) => args.clone(),
        _ => Map::new(),
    };
    Part {
        function_call: Some(FunctionCall { id: None, name: call.name.clone(), args: Some(args) }),
        thought_signature: call.signature.clone(),
        ..Part::default()
    }
}

/// A tool's answer. Google takes a JSON object only, and reads a lone value under `output`.
fn response_part(result: &ToolResult) -> Part {
    let response = match &result.content {
        Value::Object(object) => object.clone(),
        other => Map::from_iter([("output".to_owned(), other.clone())]),
    };
    Part { function_response: Some(FunctionResponse { name: result.name.clone(), response }), ..Part::default() }
}

fn declaration(tool: &ToolSpec) -> Declaration {
    Declaration {
        name: tool.name.clone(),
        description: tool.description.clone(),
        parameters_json_schema: schema::parameters(&tool.parameters),
    }
}

/// One `GenerateContentResponse`: the whole answer, or one chunk of a streamed one.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Chunk {
    #[serde(default)]
    candidates: Vec<Candidate>,
    prompt_feedback: Option<PromptFeedback>,
    usage_metadata: Option<UsageMetadata>,
    /// An error reported inside a stream that had already started.
    error: Option<ApiError>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Candidate {
    content: Option<Content>,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PromptFeedback {
    block_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UsageMetadata {
    /// The whole prompt, cached part included.
    #[serde(default)]
    prompt_token_count: u64,
    #[serde(default)]
    cached_content_token_count: u64,
    /// The answer, thoughts excluded.
    #[serde(default)]
    candidates_token_count: u64,
    #[serde(default)]
    thoughts_token_count: u64,
}

impl From<UsageMetadata> for Usage {
    fn from(u: UsageMetadata) -> Self {
        Usage {
            input_tokens: u.prompt_token_count,
            cached_tokens: u.cached_content_token_count,
            output_tokens: u.candidates_token_count,
            thinking_tokens: u.thoughts_token_count,
        }
    }
}

#[derive(Debug, Deserialize)]
struct ApiError {
    #[serde(default)]
    code: u16,
    #[serde(default)]
    message: String,
}

/// An answer put together from one response or many streamed chunks.
#[derive(Debug, Default)]
pub(super) struct Answer {
    text: String,
    tool_calls: Vec<ToolCall>,
    usage: Usage,
    finish_reason: Option<String>,
}

impl Answer {
    /// Adds a response or chunk and returns the answer text it brought, for streaming.
    ///
    /// # Errors
    /// `NoAnswer` when Google blocked the prompt; what a stream reported as its error.
    pub(super) fn add(&mut self, chunk: Chunk) -> Result<String, LlmError> {
        if let Some(error) = chunk.error {
            return Err(streamed_error(error));
        }
        if let Some(reason) = chunk.prompt_feedback.and_then(|f| f.block_reason) {
            return Err(LlmError::NoAnswer { provider: PROVIDER, reason: prompt_blocked(&reason) });
        }
        // Each chunk counts everything so far, so the last one is the total.
        if let Some(usage) = chunk.usage_metadata {
            self.usage = usage.into();
        }
        // Only one candidate is asked for.
        let Some(candidate) = chunk.candidates.into_iter().next() else {
            return Ok(String::new());
        };
        if candidate.finish_reason.is_some() {
            self.finish_reason = candidate.finish_reason;
        }
        let mut piece = String::new();
        for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
            if let Some(call) = part.function_call {
                let id = call
                    .id
                    .filter(|id| !id.is_empty() && !self.tool_calls.iter().any(|c| &c.id == id))
                    .unwrap_or_else(|| format!("call_{}", self.tool_calls.len()));
                let arguments = Value::Object(call.args.unwrap_or_default());
                self.tool_calls.push(ToolCall { id, name: call.name, arguments, signature: part.thought_signature });
            } else if let Some(text) = part.text.filter(|_| !part.thought) {
                piece.push_str(&text);
            }
        }
        self.text.push_str(&piece);
        Ok(piece)
    }

    /// The whole reply.
    ///
    /// # Errors
    /// `NoAnswer` when Google stopped the answer before any of it, saying why.
    pub(super) fn finish(self) -> Result<Reply, LlmError> {
        let nothing = self.text.is_empty() && self.tool_calls.is_empty();
        if let Some(reason) = self.finish_reason.as_deref().filter(|_| nothing).and_then(stopped) {
            return Err(LlmError::NoAnswer { provider: PROVIDER, reason });
        }
        Ok(Reply { text: self.text, tool_calls: self.tool_calls, usage: self.usage })
    }
}

/// Why an answer that says nothing ended, unless it simply ended.
fn stopped(reason: &str) -> Option<String> {
    Some(match reason {
        "STOP" | "FINISH_REASON_UNSPECIFIED" => return None,
        "MAX_TOKENS" => "the answer reached its length limit before any of it was written (MAX_TOKENS); send again, or ask for less at once".into(),
        "SAFETY" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY" => {
            format!("it withheld the answer under its safety rules ({reason}); rephrase the message")
        }
        "RECITATION" => "it withheld the answer because it repeated published text too closely (RECITATION); ask differently".into(),
        "MALFORMED_FUNCTION_CALL" | "UNEXPECTED_TOOL_CALL" => {
            format!("the model wrote a tool call it could not finish ({reason}); send again")
        }
        other => format!("it stopped without an answer ({other}); send again"),
    })
}

fn prompt_blocked(reason: &str) -> String {
    format!("it would not answer this conversation under its safety rules ({reason}); rephrase the message or start a new chat")
}

/// An error event in a stream: the HTTP status it would have had, had it come first.
fn streamed_error(error: ApiError) -> LlmError {
    let message: String = error.message.chars().take(300).collect();
    log_upstream(PROVIDER, error.code, &message);
    match error.code {
        429 => LlmError::RateLimited { provider: PROVIDER, attempts: 1 },
        status @ 500..=599 => LlmError::Unavailable { provider: PROVIDER, status, attempts: 1 },
        status => LlmError::Refused { provider: PROVIDER, status },
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn body_json(request: &Request) -> Value {
        serde_json::to_value(Body::new(request)).unwrap()
    }

    fn request(messages: Vec<Message>, tools: Vec<ToolSpec>) -> Request {
        Request { model: "gemini-2.5-flash".into(), system: "Be brief.".into(), messages, tools, base_id: None }
    }

    fn call(id: &str, name: &str, arguments: Value, signature: Option<&str>) -> ToolCall {
        ToolCall { id: id.into(), name: name.into(), arguments, signature: signature.map(str::to_owned) }
    }

    fn answer_from(chunks: &[Value]) -> Result<Reply, LlmError> {
        let mut answer = Answer::default();
        for chunk in chunks {
            answer.add(serde_json::from_value(chunk.clone()).unwrap())?;
        }
        answer.finish()
    }

    #[test]
    fn the_system_prompt_goes_in_system_instruction_and_turns_alternate_user_and_model() {
        let body = body_json(&request(
            vec![Message::User("Hi".into()), Message::Assistant { text: "Hello!".into(), tool_calls: vec![] }, Message::User("Bye".into())],
            vec![],
        ));
        assert_eq!(
            body,
            json!({
                "systemInstruction": {"parts": [{"text": "Be brief."}]},
                "contents": [
                    {"role": "user", "parts": [{"text": "Hi"}]},
                    {"role": "model", "parts": [{"text": "Hello!"}]},
                    {"role": "user", "parts": [{"text": "Bye"}]},
                ],
            })
        );
    }

    #[test]
    fn calls_go_back_with_their_signatures_and_results_answer_them_in_one_content() {
        let calls = vec![
            call("call_0", "list_tables", json!({"base_id": "appA"}), Some("c2lnbmF0dXJlLTE=")),
            call("call_1", "list_bases", json!({}), None),
        ];
        let results = vec![
            ToolResult { call_id: "call_0".into(), name: "list_tables".into(), content: json!({"tables": ["Tasks"]}) },
            ToolResult { call_id: "call_1".into(), name: "list_bases".into(), content: json!(["appA"]) },
        ];
        let body = body_json(&request(
            vec![
                Message::User("What is there?".into()),
                Message::Assistant { text: "Looking.".into(), tool_calls: calls },
                Message::ToolResults(results),
            ],
            vec![],
        ));
        assert_eq!(
            body["contents"][1],
            json!({"role": "model", "parts": [
                {"text": "Looking."},
                {"functionCall": {"name": "list_tables", "args": {"base_id": "appA"}}, "thoughtSignature": "c2lnbmF0dXJlLTE="},
                {"functionCall": {"name": "list_bases", "args": {}}},
            ]})
        );
        assert_eq!(
            body["contents"][2],
            json!({"role": "user", "parts": [
                {"functionResponse": {"name": "list_tables", "response": {"tables": ["Tasks"]}}},
                {"functionResponse": {"name": "list_bases", "response": {"output": ["appA"]}}},
            ]})
        );
    }

    #[test]
    fn an_empty_assistant_turn_and_an_empty_system_prompt_are_left_out() {
        let mut request = request(vec![Message::User("Hi".into()), Message::Assistant { text: String::new(), tool_calls: vec![] }], vec![]);
        request.system = "  ".into();
        let body = body_json(&request);
        assert!(body.get("systemInstruction").is_none());
        assert_eq!(body["contents"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn tools_are_declared_with_their_json_schema_and_left_out_when_there_are_none() {
        let tool = ToolSpec {
            name: "list_tables".into(),
            description: "Lists tables.".into(),
            parameters: json!({"type": "object", "properties": {"base_id": {"type": "string"}}, "required": ["base_id"]}),
        };
        let body = body_json(&request(vec![Message::User("Hi".into())], vec![tool]));
        assert_eq!(
            body["tools"],
            json!([{"functionDeclarations": [{
                "name": "list_tables",
                "description": "Lists tables.",
                "parametersJsonSchema": {"type": "object", "properties": {"base_id": {"type": "string"}}, "required": ["base_id"]},
            }]}])
        );
        assert!(body_json(&request(vec![Message::User("Hi".into())], vec![])).get("tools").is_none());
    }

    #[test]
    fn a_reply_gives_its_text_without_thoughts_its_calls_with_signatures_and_its_usage() {
        let reply = answer_from(&[json!({
            "candidates": [{"content": {"role": "model", "parts": [
                {"text": "Let me think about tables.", "thought": true},
                {"text": "Checking "},
                {"text": "both."},
                {"functionCall": {"name": "list_tables", "args": {"base_id": "appA"}}, "thoughtSignature": "sig-A"},
                {"functionCall": {"name": "list_bases"}},
            ]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 120, "cachedContentTokenCount": 100, "candidatesTokenCount": 30, "thoughtsTokenCount": 45, "totalTokenCount": 195},
            "modelVersion": "gemini-2.5-flash",
        })])
        .unwrap();
        assert_eq!(reply.text, "Checking both.");
        assert_eq!(
            reply.tool_calls,
            vec![call("call_0", "list_tables", json!({"base_id": "appA"}), Some("sig-A")), call("call_1", "list_bases", json!({}), None)]
        );
        assert_eq!(reply.usage, Usage { input_tokens: 120, cached_tokens: 100, output_tokens: 30, thinking_tokens: 45 });
    }

    #[test]
    fn a_call_id_from_google_is_kept_unless_it_repeats() {
        let reply = answer_from(&[json!({"candidates": [{"content": {"parts": [
            {"functionCall": {"id": "fc-7", "name": "a"}},
            {"functionCall": {"id": "fc-7", "name": "b"}},
        ]}}]})])
        .unwrap();
        let ids: Vec<&str> = reply.tool_calls.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["fc-7", "call_1"]);
    }

    #[test]
    fn streamed_chunks_add_up_and_the_last_usage_counts() {
        let mut answer = Answer::default();
        let chunks = [
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Two "}]}}], "usageMetadata": {"promptTokenCount": 50}}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "tables."}]}}], "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 2}}),
            json!({"candidates": [{"content": {"role": "model", "parts": [{"functionCall": {"name": "list_tables", "args": {}}, "thoughtSignature": "sig"}]}, "finishReason": "STOP"}],
                   "usageMetadata": {"promptTokenCount": 50, "candidatesTokenCount": 9, "thoughtsTokenCount": 4}}),
        ];
        let pieces: Vec<String> = chunks.iter().map(|c| answer.add(serde_json::from_value(c.clone()).unwrap()).unwrap()).collect();
        assert_eq!(pieces, ["Two ", "tables.", ""]);
        let reply = answer.finish().unwrap();
        assert_eq!(reply.text, "Two tables.");
        assert_eq!(reply.tool_calls[0].signature.as_deref(), Some("sig"));
        assert_eq!(reply.usage, Usage { input_tokens: 50, cached_tokens: 0, output_tokens: 9, thinking_tokens: 4 });
    }

    #[test]
    fn a_blocked_prompt_is_refused_with_the_reason() {
        let error = answer_from(&[json!({"promptFeedback": {"blockReason": "SAFETY"}, "usageMetadata": {"promptTokenCount": 8}})]).unwrap_err();
        assert!(matches!(&error, LlmError::NoAnswer { reason, .. } if reason.contains("SAFETY")), "{error}");
        assert!(error.to_string().starts_with("Gemini "), "{error}");
    }

    #[test]
    fn an_answer_withheld_for_safety_says_so_instead_of_being_blank() {
        let error = answer_from(&[json!({"candidates": [{"finishReason": "SAFETY", "index": 0}]})]).unwrap_err();
        assert!(matches!(&error, LlmError::NoAnswer { reason, .. } if reason.contains("safety")), "{error}");
    }

    #[test]
    fn an_answer_that_simply_ends_empty_is_an_empty_reply() {
        let reply = answer_from(&[json!({"candidates": [{"content": {"role": "model"}, "finishReason": "STOP"}]})]).unwrap();
        assert_eq!(reply, Reply::default());
        assert_eq!(answer_from(&[json!({})]).unwrap(), Reply::default());
    }

    #[test]
    fn text_cut_short_by_a_later_safety_stop_is_kept() {
        let reply = answer_from(&[
            json!({"candidates": [{"content": {"parts": [{"text": "Partly"}]}}]}),
            json!({"candidates": [{"finishReason": "SAFETY"}]}),
        ])
        .unwrap();
        assert_eq!(reply.text, "Partly");
    }

    #[test]
    fn an_error_inside_a_stream_becomes_the_matching_error() {
        let busy = answer_from(&[json!({"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}})]).unwrap_err();
        assert!(matches!(busy, LlmError::Unavailable { status: 503, .. }));
        let limited = answer_from(&[json!({"error": {"code": 429, "message": "Quota", "status": "RESOURCE_EXHAUSTED"}})]).unwrap_err();
        assert!(matches!(limited, LlmError::RateLimited { .. }));
    }
}
