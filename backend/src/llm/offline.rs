//! The offline assistant: chat without an LLM key. It reads a documented set of plain commands
//! and answers them with the same tool calls a model would make, through the same agent loop;
//! then it turns the tools' results into Markdown.

mod calls;
mod command;
mod markdown;
mod results;

use std::collections::HashMap;

use async_trait::async_trait;
use serde_json::Value;

use super::documents::split_documents;
use super::{LlmError, Message, Provider, Reply, Request, TextSink, ToolCall, Usage};
use crate::model::llm::LlmProvider;

/// The commands the offline assistant understands, as shown to users.
pub const GRAMMAR: &str = "\
- `help`: what I understand
- `list bases`: the bases this connection reaches
- `list tables`: the tables of the selected base
- `describe Tasks`: a table's fields
- `show 5 records from Tasks where Status is Done`: records, with conditions (`is`, `is not`, `contains`, `>`, `<`, `is empty`) joined by `and`
- `search Tasks for launch` (or `find launch in Tasks`): records containing some text
- `show recAbC123dEf456gH from Tasks`: one whole record
- `add a record to Tasks with Name=\"Write report\", Status=Todo`: a new record
- `add a record to Tasks for each line of the attached file as Name`: a record for each line of a text file attached to the message (the line goes in Name unless another field is named)
- `import people.csv into Tasks`: import an uploaded file into a table (a new table when none has that name), in the background
- `update recAbC123dEf456gH in Tasks set Status=Done`: change a record's fields
- `delete recAbC123dEf456gH from Tasks`: delete a record
- `count records in Tasks`: how many records a table has
- `more`: the next page of the last listing

Put double quotes around a name or value that holds a comma or one of these keywords.";

pub(crate) struct Offline;

#[async_trait]
impl Provider for Offline {
    fn kind(&self) -> LlmProvider {
        LlmProvider::Offline
    }

    async fn generate(&self, request: &Request) -> Result<Reply, LlmError> {
        Ok(answer(request))
    }

    async fn stream(&self, request: &Request, text: &TextSink) -> Result<Reply, LlmError> {
        let reply = answer(request);
        for piece in pieces(&reply.text) {
            // A listener that hung up doesn't stop the answer.
            let _ = text.send(piece);
        }
        Ok(reply)
    }
}

/// What the assistant does next: answer in text, or call tools (with a line saying what for).
#[derive(Debug, Clone, PartialEq)]
enum Step {
    Say(String),
    Call { text: String, calls: Vec<(&'static str, Value)> },
}

impl Step {
    fn call(text: impl Into<String>, name: &'static str, arguments: Value) -> Self {
        Step::Call { text: text.into(), calls: vec![(name, arguments)] }
    }
}

/// The reply to the conversation so far.
fn answer(request: &Request) -> Reply {
    let step = match request.messages.last() {
        Some(Message::User(text)) => {
            let (said, documents) = split_documents(text);
            calls::for_message(said, &documents, request)
        }
        Some(Message::ToolResults(results)) => results::answer(request, results),
        Some(Message::Assistant { .. }) | None => Step::Say(help()),
    };
    let step = match step {
        Step::Call { calls, .. } if calls.iter().any(|(name, _)| !request.tools.iter().any(|t| t.name == *name)) => Step::Say(NOT_OFFERED.to_owned()),
        step => step,
    };
    let (text, tool_calls) = match step {
        Step::Say(text) => (text, Vec::new()),
        Step::Call { text, calls } => {
            let made = request.messages.iter().map(|m| if let Message::Assistant { tool_calls, .. } = m { tool_calls.len() } else { 0 }).sum::<usize>();
            let tool_calls = calls
                .into_iter()
                .enumerate()
                .map(|(i, (name, arguments))| ToolCall { id: format!("offline-{}", made + i + 1), name: name.to_owned(), arguments, signature: None })
                .collect();
            (text, tool_calls)
        }
    };
    // No model ran, so nothing was used: tokens and cost stay zero rather than an invented count.
    Reply { text, tool_calls, usage: Usage::default() }
}

/// The text in pieces of a few words, each keeping the spaces after it.
fn pieces(text: &str) -> Vec<String> {
    let words: Vec<&str> = text.split_inclusive(' ').collect();
    words.chunks(4).map(|chunk| chunk.concat()).collect()
}

/// Every tool call of the conversation, by its ID.
fn calls_by_id(messages: &[Message]) -> HashMap<&str, &ToolCall> {
    messages
        .iter()
        .filter_map(|m| if let Message::Assistant { tool_calls, .. } = m { Some(tool_calls) } else { None })
        .flatten()
        .map(|call| (call.id.as_str(), call))
        .collect()
}

/// The user's latest message, without its documents.
fn last_user_text(messages: &[Message]) -> Option<&str> {
    messages.iter().rev().find_map(|m| if let Message::User(text) = m { Some(split_documents(text).0) } else { None })
}

fn help() -> String {
    format!(
        "I'm the offline assistant: I answer a fixed set of commands, with no LLM behind me (one can be set up in Settings → LLM). Table commands work on the base picked in the chat's base selector.\n\n{GRAMMAR}"
    )
}

/// The answer to a message that is none of the commands: what wasn't understood, the nearest
/// command's example, and the whole list.
fn unknown(message: &str) -> String {
    let shown = markdown::escape(&markdown::shorten(message, 80));
    let first = message.split_whitespace().next().unwrap_or("").to_lowercase();
    let nearest = match first.trim_matches(|c: char| !c.is_alphanumeric()) {
        "show" | "list" | "get" | "display" | "give" => Some("show 5 records from Tasks where Status is Done"),
        "describe" | "fields" | "columns" => Some("describe Tasks"),
        "search" | "find" | "look" => Some("search Tasks for launch"),
        "add" | "create" | "insert" | "new" => Some("add a record to Tasks with Name=\"Write report\", Status=Todo"),
        "update" | "change" | "edit" | "set" | "modify" => Some("update recAbC123dEf456gH in Tasks set Status=Done"),
        "delete" | "remove" => Some("delete recAbC123dEf456gH from Tasks"),
        "count" => Some("count records in Tasks"),
        _ => None,
    };
    let nearest = nearest.map(|example| format!(" Did you mean something like `{example}`?")).unwrap_or_default();
    format!(
        "I didn't understand “{shown}”.{nearest} I'm the offline assistant, so I only understand these commands (an LLM, which understands anything, can be set up in Settings → LLM):\n\n{GRAMMAR}"
    )
}

/// Table commands need a base; the chat page has a selector for it.
const NO_BASE: &str = "Pick a base in the chat's base selector first: table commands work on the selected base. (`list bases` shows the bases this connection reaches.)";

/// A command needs a tool this chat doesn't offer: the user's settings or key only let it read.
const NOT_OFFERED: &str = "This chat can only read data (your chat settings or your API key allow no changes), so I can't do that here. You can make the change in Airtable, or allow changes in Settings → Chat.";

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::{ToolResult, ToolSpec};
    use super::*;
    use crate::model::auth::Scope;
    use crate::tools::Catalog;

    pub(super) const BASE: &str = "appAAAAAAAAAAAAAA";

    /// The tools the agent loop offers a read-write chat.
    pub(super) fn tools(scope: Scope) -> Vec<ToolSpec> {
        Catalog::new()
            .list(scope)
            .into_iter()
            .map(|info| ToolSpec { name: info.name.clone(), description: info.description.clone(), parameters: info.input_schema.clone() })
            .collect()
    }

    pub(super) fn request(base: Option<&str>, messages: Vec<Message>) -> Request {
        Request { model: "offline-assistant".into(), system: "You help with Airtable.".into(), messages, tools: tools(Scope::Write), base_id: base.map(Into::into) }
    }

    fn ask(text: &str) -> Reply {
        answer(&request(Some(BASE), vec![Message::User(text.into())]))
    }

    #[test]
    fn a_command_becomes_a_tool_call_with_a_short_line_and_no_answer_yet() {
        let reply = ask("list tables");
        assert_eq!(reply.tool_calls.len(), 1);
        assert_eq!(reply.tool_calls[0].name, "list_tables");
        assert_eq!(reply.tool_calls[0].arguments, json!({ "base_id": BASE }));
        assert_eq!(reply.tool_calls[0].signature, None);
        assert!(reply.text.starts_with("Looking at"), "{}", reply.text);
    }

    #[test]
    fn the_results_of_a_call_become_a_markdown_answer_without_calls() {
        let call = ask("list tables").tool_calls.remove(0);
        let results = vec![ToolResult {
            call_id: call.id.clone(),
            name: call.name.clone(),
            content: json!({ "tables": [{ "id": "tblAAAAAAAAAAAAAA", "name": "Tasks", "description": null, "primary_field": "Name", "field_count": 4 }] }),
        }];
        let messages = vec![Message::User("list tables".into()), Message::Assistant { text: String::new(), tool_calls: vec![call] }, Message::ToolResults(results)];
        let reply = answer(&request(Some(BASE), messages));
        assert!(reply.tool_calls.is_empty());
        assert!(reply.text.contains("- **Tasks**: 4 fields"), "{}", reply.text);
    }

    #[test]
    fn call_ids_are_unique_across_the_conversation() {
        let first = ask("list tables").tool_calls.remove(0);
        let messages = vec![
            Message::User("list tables".into()),
            Message::Assistant { text: String::new(), tool_calls: vec![first.clone()] },
            Message::ToolResults(vec![ToolResult { call_id: first.id.clone(), name: first.name.clone(), content: json!({ "tables": [] }) }]),
            Message::Assistant { text: "This base has no tables.".into(), tool_calls: vec![] },
            Message::User("list bases".into()),
        ];
        let second = answer(&request(Some(BASE), messages)).tool_calls.remove(0);
        assert_ne!(first.id, second.id);
    }

    #[test]
    fn help_lists_the_grammar_and_calls_nothing() {
        let reply = ask("help");
        assert!(reply.tool_calls.is_empty());
        assert!(reply.text.contains(GRAMMAR));
    }

    #[test]
    fn unknown_input_says_what_was_not_understood_and_shows_examples() {
        let reply = ask("make <b>me</b> a sandwich");
        assert!(reply.tool_calls.is_empty());
        assert!(reply.text.contains("I didn't understand “make \\<b\\>me\\</b\\> a sandwich”"), "{}", reply.text);
        assert!(reply.text.contains(GRAMMAR));
    }

    #[test]
    fn a_half_known_command_points_at_its_nearest_example() {
        let reply = ask("show records");
        assert!(reply.text.contains("Did you mean something like `show 5 records from Tasks where Status is Done`?"), "{}", reply.text);
    }

    #[test]
    fn without_a_base_table_commands_ask_for_one() {
        for text in ["list tables", "show records from Tasks", "add a record to Tasks with Name=Ada"] {
            let reply = answer(&request(None, vec![Message::User(text.into())]));
            assert!(reply.tool_calls.is_empty(), "{text}");
            assert_eq!(reply.text, NO_BASE);
        }
    }

    #[test]
    fn listing_bases_needs_no_base() {
        let reply = answer(&request(None, vec![Message::User("list bases".into())]));
        assert_eq!(reply.tool_calls[0].name, "list_bases");
        assert_eq!(reply.tool_calls[0].arguments, json!({}));
    }

    #[test]
    fn a_write_the_chat_does_not_offer_is_explained_instead_of_called() {
        let mut request = request(Some(BASE), vec![Message::User("delete recAbC123dEf456gH from Tasks".into())]);
        request.tools = tools(Scope::Read);
        let reply = answer(&request);
        assert!(reply.tool_calls.is_empty());
        assert_eq!(reply.text, NOT_OFFERED);
    }

    #[test]
    fn no_tokens_are_counted_because_no_model_ran() {
        assert_eq!(ask("help").usage, Usage::default());
    }

    #[tokio::test]
    async fn streaming_sends_the_text_in_pieces_and_returns_the_same_reply() {
        let request = request(Some(BASE), vec![Message::User("help".into())]);
        let (sink, mut received) = tokio::sync::mpsc::unbounded_channel();
        let reply = Offline.stream(&request, &sink).await.unwrap();
        drop(sink);
        let mut pieces = Vec::new();
        while let Some(piece) = received.recv().await {
            pieces.push(piece);
        }
        assert!(pieces.len() > 1);
        assert_eq!(pieces.concat(), reply.text);
        assert_eq!(reply, Offline.generate(&request).await.unwrap());
    }

    #[tokio::test]
    async fn streaming_to_a_receiver_that_hung_up_still_answers() {
        let request = request(Some(BASE), vec![Message::User("list tables".into())]);
        let (sink, received) = tokio::sync::mpsc::unbounded_channel();
        drop(received);
        let reply = Offline.stream(&request, &sink).await.unwrap();
        assert_eq!(reply.tool_calls[0].name, "list_tables");
    }
}
