//! Putting a streamed answer back together from its `chat.completion.chunk`s: the text piece
//! by piece, tool calls from fragments keyed by index, and the usage of the last chunk.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::answer::{WireUsage, error_in_answer, nullable, tool_call};
use crate::llm::{LlmError, Reply, Usage};
use crate::model::llm::LlmProvider;

/// One streamed event's data.
#[derive(Debug, Deserialize)]
pub(super) struct Chunk {
    /// Empty (or, on some servers, null) in the closing usage chunk.
    #[serde(default, deserialize_with = "nullable")]
    choices: Vec<ChunkChoice>,
    usage: Option<WireUsage>,
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    index: u32,
    delta: Option<Delta>,
}

#[derive(Debug, Deserialize)]
struct Delta {
    content: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    tool_calls: Vec<CallFragment>,
}

/// A piece of one call: the first carries its ID and name, the rest more of the arguments.
#[derive(Debug, Deserialize)]
struct CallFragment {
    /// Which call this piece belongs to. Parallel calls may be interleaved.
    index: Option<usize>,
    id: Option<String>,
    function: Option<FunctionFragment>,
}

#[derive(Debug, Deserialize)]
struct FunctionFragment {
    name: Option<String>,
    arguments: Option<Value>,
}

/// The answer so far.
#[derive(Debug, Default)]
pub(super) struct Assembly {
    text: String,
    calls: BTreeMap<usize, PartialCall>,
    usage: Usage,
}

#[derive(Debug, Default)]
struct PartialCall {
    id: Option<String>,
    name: Option<String>,
    arguments: String,
}

impl Assembly {
    /// Adds one chunk and returns the text it brought, for the reader waiting on it.
    ///
    /// # Errors
    /// An error the server sent in place of the next chunk, as [`error_in_answer`] reads it.
    pub(super) fn add(&mut self, provider: LlmProvider, chunk: Chunk) -> Result<Option<String>, LlmError> {
        if let Some(error) = chunk.error {
            return Err(error_in_answer(provider, &error));
        }
        if let Some(usage) = chunk.usage {
            self.usage = usage.into_usage();
        }
        let mut added = String::new();
        // We ask for one choice; anything else a server sends is not part of it.
        for delta in chunk.choices.into_iter().filter(|c| c.index == 0).filter_map(|c| c.delta) {
            added.push_str(delta.content.as_deref().unwrap_or_default());
            for fragment in delta.tool_calls {
                self.add_fragment(fragment);
            }
        }
        self.text.push_str(&added);
        Ok((!added.is_empty()).then_some(added))
    }

    fn add_fragment(&mut self, fragment: CallFragment) {
        let index = fragment.index.unwrap_or_else(|| self.index_of_unindexed(fragment.id.as_deref()));
        let call = self.calls.entry(index).or_default();
        if let Some(id) = fragment.id.filter(|id| !id.is_empty()) {
            call.id = Some(id);
        }
        let Some(function) = fragment.function else { return };
        // Some servers repeat the name in every fragment, so it is kept, not appended.
        if let Some(name) = function.name.filter(|n| !n.is_empty()) {
            call.name = Some(name);
        }
        match function.arguments {
            Some(Value::String(piece)) => call.arguments.push_str(&piece),
            Some(Value::Null) | None => {}
            Some(whole) => call.arguments.push_str(&whole.to_string()),
        }
    }

    /// Where a fragment without an `index` goes, as a few local servers send them: a new ID
    /// starts a new call, anything else continues the last one.
    fn index_of_unindexed(&self, id: Option<&str>) -> usize {
        let last = self.calls.last_key_value().map(|(&index, _)| index);
        let Some(id) = id.filter(|id| !id.is_empty()) else { return last.unwrap_or(0) };
        match self.calls.iter().find(|(_, call)| call.id.as_deref() == Some(id)) {
            Some((&index, _)) => index,
            None => last.map_or(0, |index| index + 1),
        }
    }

    /// The whole reply, its calls in index order.
    ///
    /// # Errors
    /// `Protocol` for a call without a name or whose arguments don't make a JSON object.
    pub(super) fn finish(self, provider: LlmProvider) -> Result<Reply, LlmError> {
        let tool_calls = self
            .calls
            .into_values()
            .enumerate()
            .map(|(position, call)| tool_call(provider, position, call.id, call.name, Value::String(call.arguments)))
            .collect::<Result<_, _>>()?;
        Ok(Reply { text: self.text, tool_calls, usage: self.usage })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PROVIDER: LlmProvider = LlmProvider::OpenaiCompatible;

    /// Feeds chunks as a server sends them and returns the pieces of text seen, and the reply.
    fn assemble(chunks: Vec<Value>) -> (Vec<String>, Result<Reply, LlmError>) {
        let mut assembly = Assembly::default();
        let mut pieces = Vec::new();
        for chunk in chunks {
            match assembly.add(PROVIDER, serde_json::from_value(chunk).unwrap()) {
                Ok(piece) => pieces.extend(piece),
                Err(e) => return (pieces, Err(e)),
            }
        }
        (pieces, assembly.finish(PROVIDER))
    }

    fn delta(delta: Value) -> Value {
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": null}], "usage": null})
    }

    fn call_piece(index: usize, arguments: &str) -> Value {
        delta(json!({"tool_calls": [{"index": index, "function": {"arguments": arguments}}]}))
    }

    fn call_start(index: usize, id: &str, name: &str) -> Value {
        delta(json!({"tool_calls": [{"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}]}))
    }

    #[test]
    fn text_arrives_in_pieces_and_the_usage_chunk_closes_the_answer() {
        let (pieces, reply) = assemble(vec![
            delta(json!({"role": "assistant", "content": ""})),
            delta(json!({"content": "12 open"})),
            delta(json!({"content": " tasks."})),
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": null}),
            json!({"choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 9,
                "prompt_tokens_details": {"cached_tokens": 32}, "completion_tokens_details": {"reasoning_tokens": 4}}}),
        ]);
        assert_eq!(pieces, ["12 open", " tasks."]);
        let reply = reply.unwrap();
        assert_eq!(reply.text, "12 open tasks.");
        assert_eq!(reply.usage, Usage { input_tokens: 50, cached_tokens: 32, output_tokens: 5, thinking_tokens: 4 });
    }

    #[test]
    fn a_call_split_over_many_chunks_is_put_back_together() {
        let (pieces, reply) = assemble(vec![
            delta(json!({"role": "assistant", "content": null})),
            call_start(0, "call_abc", "list_records"),
            call_piece(0, "{\"ta"),
            call_piece(0, "ble\": \"Ta"),
            call_piece(0, "sks\"}"),
        ]);
        assert!(pieces.is_empty());
        let calls = reply.unwrap().tool_calls;
        assert_eq!(calls.len(), 1);
        assert_eq!((calls[0].id.as_str(), calls[0].name.as_str()), ("call_abc", "list_records"));
        assert_eq!(calls[0].arguments, json!({"table": "Tasks"}));
    }

    #[test]
    fn interleaved_parallel_calls_come_out_in_index_order() {
        let (_, reply) = assemble(vec![
            call_start(1, "call_second", "get_record"),
            call_start(0, "call_first", "list_tables"),
            call_piece(1, "{\"id\":"),
            call_piece(0, "{"),
            call_piece(1, "\"rec1\"}"),
            call_piece(0, "}"),
        ]);
        let calls = reply.unwrap().tool_calls;
        let summary: Vec<_> = calls.iter().map(|c| (c.id.as_str(), c.name.as_str(), c.arguments.clone())).collect();
        assert_eq!(summary, [("call_first", "list_tables", json!({})), ("call_second", "get_record", json!({"id": "rec1"}))]);
    }

    #[test]
    fn several_calls_in_one_delta_are_kept_apart() {
        let (_, reply) = assemble(vec![delta(json!({"tool_calls": [
            {"index": 0, "id": "call_a", "type": "function", "function": {"name": "list_tables", "arguments": "{}"}},
            {"index": 1, "id": "call_b", "type": "function", "function": {"name": "list_bases", "arguments": "{}"}},
        ]}))]);
        let names: Vec<_> = reply.unwrap().tool_calls.into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["list_tables", "list_bases"]);
    }

    #[test]
    fn fragments_without_an_index_follow_their_ids() {
        let (_, reply) = assemble(vec![
            delta(json!({"tool_calls": [{"id": "call_a", "function": {"name": "list_tables", "arguments": "{"}}]})),
            delta(json!({"tool_calls": [{"function": {"arguments": "}"}}]})),
            delta(json!({"tool_calls": [{"id": "call_b", "function": {"name": "list_bases", "arguments": "{}"}}]})),
        ]);
        let calls: Vec<_> = reply.unwrap().tool_calls.into_iter().map(|c| (c.id, c.arguments)).collect();
        assert_eq!(calls, [("call_a".to_owned(), json!({})), ("call_b".to_owned(), json!({}))]);
    }

    #[test]
    fn a_name_repeated_in_every_fragment_is_not_doubled() {
        let (_, reply) = assemble(vec![
            delta(json!({"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "list_tables", "arguments": "{"}}]})),
            delta(json!({"tool_calls": [{"index": 0, "id": "call_a", "function": {"name": "list_tables", "arguments": "}"}}]})),
        ]);
        assert_eq!(reply.unwrap().tool_calls[0].name, "list_tables");
    }

    #[test]
    fn text_and_calls_in_one_answer_are_both_kept() {
        let (pieces, reply) = assemble(vec![
            delta(json!({"content": "Let me look."})),
            call_start(0, "call_a", "list_tables"),
            call_piece(0, "{}"),
        ]);
        assert_eq!(pieces, ["Let me look."]);
        let reply = reply.unwrap();
        assert_eq!((reply.text.as_str(), reply.tool_calls.len()), ("Let me look.", 1));
    }

    #[test]
    fn arguments_cut_off_mid_stream_are_a_protocol_error() {
        let (_, reply) = assemble(vec![call_start(0, "call_a", "update_records"), call_piece(0, "{\"records\": [")]);
        assert!(matches!(reply, Err(LlmError::Protocol { .. })));
    }

    #[test]
    fn an_error_event_ends_the_answer_with_its_status_but_not_its_message() {
        let (pieces, reply) = assemble(vec![
            delta(json!({"content": "Hel"})),
            json!({"error": {"code": 502, "message": "Upstream model crashed"}, "choices": [{"index": 0, "delta": {}, "finish_reason": "error"}]}),
        ]);
        assert_eq!(pieces, ["Hel"]);
        let error = reply.unwrap_err();
        assert!(matches!(error, LlmError::Unavailable { status: 502, .. }), "{error:?}");
        assert!(!error.to_string().contains("Upstream model crashed"), "{error}");
    }

    #[test]
    fn a_usage_chunk_with_null_choices_is_read() {
        let (_, reply) = assemble(vec![delta(json!({"content": "Hi"})), json!({"choices": null, "usage": {"prompt_tokens": 3, "completion_tokens": 1}})]);
        assert_eq!(reply.unwrap().usage, Usage { input_tokens: 3, cached_tokens: 0, output_tokens: 1, thinking_tokens: 0 });
    }

    #[test]
    fn other_choices_and_reasoning_text_stay_out_of_the_answer() {
        let (pieces, reply) = assemble(vec![
            delta(json!({"reasoning_content": "The user wants…"})),
            json!({"choices": [{"index": 1, "delta": {"content": "another answer"}}]}),
            delta(json!({"content": "Answer"})),
        ]);
        assert_eq!(pieces, ["Answer"]);
        assert_eq!(reply.unwrap().text, "Answer");
    }
}
