//! What the model reads each step: the instructions with the selected base's schema in brief,
//! and the conversation so far, trimmed to a token budget.

use std::fmt::Write;

use serde_json::{Value, json};

use super::documents::StoredAttachment;
use super::store::{StoredCall, StoredMessage};
use crate::llm::documents::with_documents;
use crate::llm::{Message, ToolCall, ToolResult};
use crate::model::airtable::BaseSchema;
use crate::model::chat::{MessageStatus, Role};

/// The schema summary stops here, so a base of many wide tables can't crowd out the chat.
const SCHEMA_BUDGET_CHARS: usize = 6_000;
/// Older tool results longer than this are replaced by a summary in the history.
const OLD_RESULT_CHARS: usize = 2_000;

/// The instructions, with the base (if any) and its schema in brief. `base` is the base's ID,
/// its name, and its schema or why it could not be read.
pub(crate) fn system(base: Option<(&str, &str, Result<&BaseSchema, String>)>) -> String {
    let mut text = String::from(
        "You are PyAirtable's assistant. You help the user read and change their Airtable bases, \
         only through the tools you are given; never invent records, IDs or field names. \
         Prefer one well-aimed call over many, and answer in brief Markdown (tables for records). \
         When a tool fails, read its message, fix the arguments and try again, or tell the user what is needed. \
         Tools that change data may need the user's approval; if the user denies a call, do not try it again \
         differently: say what was not done. \
         Files the user attached follow their message in <document> blocks; when a block's parts say only some \
         of it is there, the rest did not fit: say so rather than guess at it.\n",
    );
    match base {
        None => text.push_str("\nNo base is selected. Use list_bases to find one, or ask the user to pick one in the base selector.\n"),
        Some((id, name, Err(problem))) => {
            let _ = write!(text, "\nThe selected base is “{name}” ({id}), but its schema could not be read: {problem}\n");
        }
        Some((id, name, Ok(schema))) => {
            let _ = writeln!(text, "\nThe selected base is “{name}”. Pass base_id \"{id}\" to the tools; the user never needs to give it.");
            text.push_str(&schema_summary(schema));
        }
    }
    text
}

/// Each table with its fields and types, select choices included, within the budget.
fn schema_summary(schema: &BaseSchema) -> String {
    let mut text = String::from("Tables (field: type):\n");
    for table in &schema.tables {
        let mut line = format!("- {} ({}):", table.name, table.id.as_str());
        for (i, field) in table.fields.iter().enumerate() {
            let primary = if field.id == table.primary_field_id { ", primary" } else { "" };
            let _ = write!(line, "{} {}: {}{primary}{}", if i == 0 { "" } else { ";" }, field.name, field.field_type.name(), choices(field.options.as_ref()));
        }
        line.push('\n');
        if text.len() + line.len() > SCHEMA_BUDGET_CHARS {
            let _ = writeln!(text, "- … {} more tables: call list_tables or describe_table.", schema.tables.len() - text.lines().count() + 1);
            break;
        }
        text.push_str(&line);
    }
    text
}

/// A select field's choices, ` [A|B|C]`, at most ten.
fn choices(options: Option<&Value>) -> String {
    let Some(list) = options.and_then(|o| o.get("choices")).and_then(Value::as_array) else { return String::new() };
    let names: Vec<&str> = list.iter().filter_map(|c| c.get("name").and_then(Value::as_str)).take(10).collect();
    if names.is_empty() {
        return String::new();
    }
    let more = if list.len() > names.len() { "|…" } else { "" };
    format!(" [{}{more}]", names.join("|"))
}

/// The conversation as the model reads it: the newest messages that fit `token_budget`,
/// starting at one of the user's messages, with older bulky tool results summarized.
pub(crate) fn history(messages: &[StoredMessage], token_budget: usize) -> Vec<Message> {
    let last_step = messages.iter().rposition(|m| m.role == Role::Assistant);
    let mut turned: Vec<(usize, Vec<Message>)> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| (i, to_messages(m, Some(i) != last_step)))
        .collect();
    // Drop whole turns from the front until the rest fits; the latest turn always stays.
    let mut used: usize = turned.iter().map(|(_, ms)| ms.iter().map(estimate_tokens).sum::<usize>()).sum();
    let turn_starts: Vec<usize> = messages.iter().enumerate().filter(|(_, m)| m.role == Role::User).map(|(i, _)| i).collect();
    let mut first_kept = 0;
    for &start in turn_starts.iter().skip(1) {
        if used <= token_budget {
            break;
        }
        used -= turned[first_kept..start].iter().map(|(_, ms)| ms.iter().map(estimate_tokens).sum::<usize>()).sum::<usize>();
        first_kept = start;
    }
    turned.drain(..first_kept);
    turned.into_iter().flat_map(|(_, ms)| ms).collect()
}

/// One stored message as the model's messages: an assistant step is its text and calls,
/// followed by the calls' results.
fn to_messages(message: &StoredMessage, old: bool) -> Vec<Message> {
    match message.role {
        Role::User if message.attachments.is_empty() => vec![Message::User(message.text.clone())],
        Role::User => {
            let documents: Vec<_> = message.attachments.iter().map(StoredAttachment::for_model).collect();
            vec![Message::User(with_documents(&message.text, &documents))]
        }
        Role::Assistant if message.tool_calls.is_empty() => {
            if message.text.trim().is_empty() || message.status == MessageStatus::Failed && message.text.is_empty() {
                vec![]
            } else {
                vec![Message::Assistant { text: message.text.clone(), tool_calls: vec![] }]
            }
        }
        Role::Assistant => {
            let calls = message
                .tool_calls
                .iter()
                .map(|c| ToolCall { id: c.id.clone(), name: c.name.clone(), arguments: c.arguments.clone(), signature: c.signature.clone() })
                .collect();
            let results = message.tool_calls.iter().map(|c| ToolResult { call_id: c.id.clone(), name: c.name.clone(), content: result_for_model(c, old) }).collect();
            vec![Message::Assistant { text: message.text.clone(), tool_calls: calls }, Message::ToolResults(results)]
        }
    }
}

/// A call's result as the model reads it: whole for the latest step, summarized when old and
/// bulky. Providers need an answer to every call, so one that never finished says so.
fn result_for_model(call: &StoredCall, old: bool) -> Value {
    let Some(result) = &call.result else {
        return json!({ "error": "This call did not finish (the turn was stopped). Call it again if it is still needed." });
    };
    let size = result.to_string().len();
    if !old || size <= OLD_RESULT_CHARS {
        return result.clone();
    }
    let mut summary = json!({
        "summary": describe(result),
        "note": format!("This {size}-character result was shortened in the history. Call {} again to read it; pass next_cursor to go on from where it stopped.", call.name),
    });
    if let Some(cursor) = result.get("next_cursor").filter(|c| !c.is_null()) {
        summary["next_cursor"] = cursor.clone();
    }
    summary
}

/// What a result held, in a sentence: its keys, and how many items each list had.
fn describe(result: &Value) -> String {
    match result {
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(key, value)| match value {
                    Value::Array(items) => format!("{key}: {} items", items.len()),
                    Value::Object(_) => format!("{key}: an object"),
                    other => {
                        let text = other.to_string();
                        if text.len() > 80 { format!("{key}: {}…", text.chars().take(80).collect::<String>()) } else { format!("{key}: {text}") }
                    }
                })
                .collect();
            parts.join("; ")
        }
        Value::Array(items) => format!("a list of {} items", items.len()),
        other => other.to_string().chars().take(200).collect(),
    }
}

/// About four characters a token: close enough to keep a request within a model's window.
fn estimate_tokens(message: &Message) -> usize {
    let chars = match message {
        Message::User(text) => text.len(),
        Message::Assistant { text, tool_calls } => text.len() + tool_calls.iter().map(|c| c.name.len() + c.arguments.to_string().len()).sum::<usize>(),
        Message::ToolResults(results) => results.iter().map(|r| r.content.to_string().len()).sum(),
    };
    chars / 4 + 4
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::chat::ToolCallState;
    use crate::model::llm::Usage;

    fn message(role: Role, text: &str, tool_calls: Vec<StoredCall>) -> StoredMessage {
        StoredMessage {
            id: "m".into(),
            seq: 0,
            role,
            text: text.into(),
            tool_calls,
            status: MessageStatus::Complete,
            error: None,
            provider: None,
            model: None,
            usage: Usage::default(),
            cost_usd: 0.0,
            created_ms: 0,
            attachments: vec![],
        }
    }

    fn call(id: &str, result: Value) -> StoredCall {
        StoredCall { id: id.into(), name: "list_records".into(), arguments: json!({}), signature: Some("sig".into()), state: ToolCallState::Done, result: Some(result) }
    }

    #[test]
    fn a_step_with_calls_is_followed_by_their_results_and_keeps_signatures() {
        let history = history(&[message(Role::User, "hi", vec![]), message(Role::Assistant, "", vec![call("c1", json!({"n": 1}))])], 10_000);
        assert_eq!(history.len(), 3);
        let Message::Assistant { tool_calls, .. } = &history[1] else { panic!("{history:?}") };
        assert_eq!(tool_calls[0].signature.as_deref(), Some("sig"));
        assert_eq!(history[2], Message::ToolResults(vec![ToolResult { call_id: "c1".into(), name: "list_records".into(), content: json!({"n": 1}) }]));
    }

    #[test]
    fn old_bulky_results_are_summarized_with_their_cursor_but_the_latest_stays_whole() {
        let bulky = json!({"records": vec![json!({"id": "rec", "fields": {"Name": "x".repeat(100)}}); 40], "next_cursor": "abc"});
        let messages = [
            message(Role::User, "first", vec![]),
            message(Role::Assistant, "", vec![call("c1", bulky.clone())]),
            message(Role::Assistant, "", vec![call("c2", bulky.clone())]),
        ];
        let history = history(&messages, 100_000);
        let Message::ToolResults(old) = &history[2] else { panic!() };
        assert_eq!(old[0].content["next_cursor"], "abc");
        assert!(old[0].content["summary"].as_str().unwrap().contains("records: 40 items"));
        let Message::ToolResults(latest) = &history[4] else { panic!() };
        assert_eq!(latest[0].content, bulky);
    }

    #[test]
    fn the_oldest_turns_go_first_when_the_budget_is_small() {
        let long = "word ".repeat(400);
        let messages = [message(Role::User, &long, vec![]), message(Role::Assistant, &long, vec![]), message(Role::User, "latest", vec![])];
        let history = history(&messages, 100);
        assert_eq!(history, vec![Message::User("latest".into())]);
        assert_eq!(super::history(&messages, 100_000).len(), 3);
    }

    #[test]
    fn an_unfinished_call_is_answered_for_the_model() {
        let mut unfinished = call("c1", json!(null));
        unfinished.result = None;
        let history = history(&[message(Role::User, "hi", vec![]), message(Role::Assistant, "", vec![unfinished])], 10_000);
        let Message::ToolResults(results) = &history[2] else { panic!() };
        assert!(results[0].content["error"].as_str().unwrap().contains("did not finish"));
    }

    #[test]
    fn the_system_prompt_names_the_base_and_its_fields_and_choices() {
        let schema: BaseSchema = serde_json::from_value(json!({"tables": [{
            "id": "tblAAAAAAAAAAAAAA", "name": "Tasks", "primaryFieldId": "fldAAAAAAAAAAAAAA",
            "fields": [
                {"id": "fldAAAAAAAAAAAAAA", "name": "Name", "type": "singleLineText"},
                {"id": "fldBBBBBBBBBBBBBB", "name": "Status", "type": "singleSelect", "options": {"choices": [{"name": "Todo"}, {"name": "Done"}]}}
            ]
        }]}))
        .unwrap();
        let text = system(Some(("appAAAAAAAAAAAAAA", "Launch", Ok(&schema))));
        assert!(text.contains("base_id \"appAAAAAAAAAAAAAA\""));
        assert!(text.contains("- Tasks (tblAAAAAAAAAAAAAA): Name: singleLineText, primary; Status: singleSelect [Todo|Done]"));
        assert!(system(None).contains("No base is selected"));
    }
}
