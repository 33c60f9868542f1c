//! The body of a chat-completions request, in OpenAI's wire format.

use serde::Serialize;
use serde_json::Value;

use crate::llm::{Message, Request, ToolCall, ToolResult, ToolSpec};

/// `POST /chat/completions`'s JSON body, borrowing from the [`Request`] it was built from.
#[derive(Debug, Serialize)]
pub(super) struct Body<'a> {
    model: &'a str,
    messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tools: Vec<WireTool<'a>>,
    stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    stream_options: Option<StreamOptions>,
}

impl<'a> Body<'a> {
    pub(super) fn new(request: &'a Request, stream: bool) -> Self {
        let system = (!request.system.is_empty()).then(|| WireMessage::System { content: &request.system });
        let messages = system.into_iter().chain(request.messages.iter().flat_map(WireMessage::from_message)).collect();
        Self {
            model: &request.model,
            messages,
            tools: request.tools.iter().map(WireTool::new).collect(),
            stream,
            // Without it a streamed answer carries no token counts at all.
            stream_options: stream.then_some(StreamOptions { include_usage: true }),
        }
    }
}

#[derive(Debug, Serialize)]
struct StreamOptions {
    include_usage: bool,
}

#[derive(Debug, Serialize)]
#[serde(tag = "role", rename_all = "lowercase")]
enum WireMessage<'a> {
    System {
        content: &'a str,
    },
    User {
        content: &'a str,
    },
    Assistant {
        content: Option<&'a str>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<WireCall<'a>>,
    },
    Tool {
        tool_call_id: &'a str,
        /// The tool's JSON as a string: the API takes only text here.
        content: String,
    },
}

impl<'a> WireMessage<'a> {
    /// One message, or one `tool` message per result: OpenAI has no message holding several.
    fn from_message(message: &'a Message) -> Vec<Self> {
        match message {
            Message::User(text) => vec![Self::User { content: text }],
            Message::Assistant { text, tool_calls } => {
                // The API wants `content` or `tool_calls`; an empty string beside calls is sent
                // as null, as OpenAI itself returns it, but a bare empty answer stays "".
                let content = (!text.is_empty() || tool_calls.is_empty()).then_some(text.as_str());
                vec![Self::Assistant { content, tool_calls: tool_calls.iter().map(WireCall::new).collect() }]
            }
            Message::ToolResults(results) => results.iter().map(Self::tool_result).collect(),
        }
    }

    fn tool_result(result: &'a ToolResult) -> Self {
        Self::Tool { tool_call_id: &result.call_id, content: result.content.to_string() }
    }
}

#[derive(Debug, Serialize)]
struct WireCall<'a> {
    id: &'a str,
    r#type: &'static str,
    function: WireFunctionCall<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunctionCall<'a> {
    name: &'a str,
    /// The arguments as a JSON string, as the model first sent them.
    arguments: String,
}

impl<'a> WireCall<'a> {
    fn new(call: &'a ToolCall) -> Self {
        Self { id: &call.id, r#type: "function", function: WireFunctionCall { name: &call.name, arguments: call.arguments.to_string() } }
    }
}

#[derive(Debug, Serialize)]
struct WireTool<'a> {
    r#type: &'static str,
    function: WireFunction<'a>,
}

#[derive(Debug, Serialize)]
struct WireFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a Value,
}

impl<'a> WireTool<'a> {
    fn new(tool: &'a ToolSpec) -> Self {
        Self { r#type: "function", function: WireFunction { name: &tool.name, description: &tool.description, parameters: &tool.parameters } }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request(messages: Vec<Message>, tools: Vec<ToolSpec>) -> Request {
        Request { model: "gpt-4o-mini".into(), system: "You help with Airtable.".into(), messages, tools, base_id: None }
    }

    fn body(request: &Request, stream: bool) -> Value {
        serde_json::to_value(Body::new(request, stream)).unwrap()
    }

    #[test]
    fn the_system_prompt_comes_first_and_no_tools_means_no_tools_field() {
        let sent = body(&request(vec![Message::User("Open tasks?".into())], vec![]), false);
        assert_eq!(
            sent,
            json!({
                "model": "gpt-4o-mini",
                "messages": [
                    {"role": "system", "content": "You help with Airtable."},
                    {"role": "user", "content": "Open tasks?"},
                ],
                "stream": false,
            })
        );
    }

    #[test]
    fn an_empty_system_prompt_is_left_out() {
        let mut without = request(vec![Message::User("Hi".into())], vec![]);
        without.system.clear();
        assert_eq!(body(&without, false)["messages"], json!([{"role": "user", "content": "Hi"}]));
    }

    #[test]
    fn tools_are_functions_with_their_schema() {
        let schema = json!({"type": "object", "properties": {"table": {"type": "string"}}, "required": ["table"]});
        let tool = ToolSpec { name: "list_records".into(), description: "Lists records.".into(), parameters: schema.clone() };
        let sent = body(&request(vec![Message::User("Hi".into())], vec![tool]), false);
        assert_eq!(
            sent["tools"],
            json!([{"type": "function", "function": {"name": "list_records", "description": "Lists records.", "parameters": schema}}])
        );
    }

    #[test]
    fn a_streamed_request_asks_for_usage() {
        let sent = body(&request(vec![Message::User("Hi".into())], vec![]), true);
        assert_eq!(sent["stream"], json!(true));
        assert_eq!(sent["stream_options"], json!({"include_usage": true}));
    }

    #[test]
    fn calls_go_back_as_json_strings_and_each_result_is_its_own_tool_message() {
        let calls = vec![
            ToolCall { id: "call_a".into(), name: "list_tables".into(), arguments: json!({}), signature: None },
            ToolCall { id: "call_b".into(), name: "get_record".into(), arguments: json!({"id": "rec1"}), signature: None },
        ];
        let results = vec![
            ToolResult { call_id: "call_a".into(), name: "list_tables".into(), content: json!({"tables": ["Tasks"]}) },
            ToolResult { call_id: "call_b".into(), name: "get_record".into(), content: json!({"error": "Not found."}) },
        ];
        let messages = vec![
            Message::User("Hi".into()),
            Message::Assistant { text: String::new(), tool_calls: calls },
            Message::ToolResults(results),
            Message::Assistant { text: "Done.".into(), tool_calls: vec![] },
        ];
        let sent = body(&request(messages, vec![]), false);
        let messages = sent["messages"].as_array().unwrap();
        assert_eq!(
            messages[2],
            json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_a", "type": "function", "function": {"name": "list_tables", "arguments": "{}"}},
                {"id": "call_b", "type": "function", "function": {"name": "get_record", "arguments": "{\"id\":\"rec1\"}"}},
            ]})
        );
        assert_eq!(messages[3], json!({"role": "tool", "tool_call_id": "call_a", "content": "{\"tables\":[\"Tasks\"]}"}));
        assert_eq!(messages[4], json!({"role": "tool", "tool_call_id": "call_b", "content": "{\"error\":\"Not found.\"}"}));
        assert_eq!(messages[5], json!({"role": "assistant", "content": "Done."}));
    }

    #[test]
    fn an_empty_answer_without_calls_is_sent_as_empty_text_not_null() {
        let messages = vec![Message::User("Hi".into()), Message::Assistant { text: String::new(), tool_calls: vec![] }];
        let sent = body(&request(messages, vec![]), false);
        assert_eq!(sent["messages"][2], json!({"role": "assistant", "content": ""}));
    }
}
