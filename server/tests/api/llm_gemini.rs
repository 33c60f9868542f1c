//! The Gemini provider against a local server that speaks Gemini's REST API: function calling
//! over several steps and in parallel, streaming, usage, retries and a rejected key.

use std::time::Duration;

use backend::llm::{HttpPolicy, Llm, LlmError, Message, Reply, Request, ToolResult, ToolSpec, Usage};
use serde_json::{Value, json};

use crate::fake_gemini::{Answer, FakeGemini};

const BASE: &str = "appAAAAAAAAAAAAAA";

/// Quick retries, so a test that waits out a 429 takes milliseconds.
fn llm() -> Llm {
    Llm::new(HttpPolicy {
        retries: 2,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        timeout: Duration::from_secs(10),
    })
}

fn request(messages: Vec<Message>) -> Request {
    let tool = |name: &str, description: &str| ToolSpec {
        name: name.into(),
        description: description.into(),
        parameters: json!({
            "type": "object",
            "properties": {"base_id": {"type": "string"}, "table": {"type": ["string", "null"]}},
            "required": ["base_id"],
        }),
    };
    Request {
        model: "gemini-2.5-flash".into(),
        system: "You help with Airtable.".into(),
        messages,
        tools: vec![tool("list_tables", "Lists a base's tables."), tool("describe_table", "Describes a table.")],
        base_id: Some(BASE.into()),
    }
}

/// The history after `reply`, with each call answered by `answer(call's arguments)`.
fn answered(mut messages: Vec<Message>, reply: &Reply, answer: impl Fn(&Value) -> Value) -> Vec<Message> {
    let results = reply
        .tool_calls
        .iter()
        .map(|call| ToolResult { call_id: call.id.clone(), name: call.name.clone(), content: answer(&call.arguments) })
        .collect();
    messages.push(Message::Assistant { text: reply.text.clone(), tool_calls: reply.tool_calls.clone() });
    messages.push(Message::ToolResults(results));
    messages
}

#[tokio::test]
async fn a_call_its_result_and_the_final_answer_go_back_and_forth_with_the_signature_unchanged() {
    let gemini = FakeGemini::start(vec![
        Answer::call("list_tables", json!({"base_id": BASE})).signed("c2lnbmF0dXJlLW9uZQ=="),
        Answer::text("There are two tables: Tasks and Team."),
    ])
    .await;
    let provider = llm().provider(&gemini.endpoint());
    let history = vec![Message::User("Which tables are there?".into())];

    let first = provider.generate(&request(history.clone())).await.unwrap();
    assert_eq!(first.text, "");
    assert_eq!(first.tool_calls.len(), 1);
    assert_eq!(first.tool_calls[0].name, "list_tables");
    assert_eq!(first.tool_calls[0].arguments, json!({"base_id": BASE}));
    assert_eq!(first.tool_calls[0].signature.as_deref(), Some("c2lnbmF0dXJlLW9uZQ=="));

    let history = answered(history, &first, |_| json!({"tables": ["Tasks", "Team"]}));
    let second = provider.generate(&request(history)).await.unwrap();
    assert_eq!(second.text, "There are two tables: Tasks and Team.");
    assert!(second.tool_calls.is_empty());

    let requests = gemini.requests();
    assert_eq!(requests.len(), 2);
    for sent in &requests {
        assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent", "the key goes in a header, not the URL");
        assert_eq!(sent.body["systemInstruction"], json!({"parts": [{"text": "You help with Airtable."}]}));
        let declared = &sent.body["tools"][0]["functionDeclarations"];
        assert_eq!(declared[0]["name"], "list_tables");
        assert_eq!(declared[1]["parametersJsonSchema"]["properties"]["table"], json!({"type": ["string", "null"]}));
    }
    assert_eq!(
        requests[1].body["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Which tables are there?"}]},
            {"role": "model", "parts": [
                {"functionCall": {"name": "list_tables", "args": {"base_id": BASE}}, "thoughtSignature": "c2lnbmF0dXJlLW9uZQ=="},
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"name": "list_tables", "response": {"tables": ["Tasks", "Team"]}}},
            ]},
        ])
    );
}

#[tokio::test]
async fn parallel_calls_come_back_apart_and_their_results_go_back_together() {
    let gemini = FakeGemini::start(vec![
        Answer::call("describe_table", json!({"base_id": BASE, "table": "Tasks"}))
            .signed("c2lnLXBhcmFsbGVs")
            .then_call("describe_table", json!({"base_id": BASE, "table": "Team"})),
        Answer::text("Tasks has 5 fields and Team has 3."),
    ])
    .await;
    let provider = llm().provider(&gemini.endpoint());
    let history = vec![Message::User("Describe Tasks and Team.".into())];

    let first = provider.generate(&request(history.clone())).await.unwrap();
    assert_eq!(first.tool_calls.len(), 2);
    assert_ne!(first.tool_calls[0].id, first.tool_calls[1].id, "results are matched to calls by ID");
    assert_eq!(first.tool_calls[0].signature.as_deref(), Some("c2lnLXBhcmFsbGVs"));
    assert_eq!(first.tool_calls[1].signature, None, "only the first of parallel calls is signed");

    // A list is not an object: it goes back under "output".
    let history = answered(history, &first, |args| json!([args["table"], "fields"]));
    let second = provider.generate(&request(history)).await.unwrap();
    assert_eq!(second.text, "Tasks has 5 fields and Team has 3.");

    let contents = &gemini.requests()[1].body["contents"];
    assert_eq!(contents.as_array().unwrap().len(), 3, "both calls in one model turn, both results in one user turn");
    assert_eq!(
        contents[1]["parts"],
        json!([
            {"functionCall": {"name": "describe_table", "args": {"base_id": BASE, "table": "Tasks"}}, "thoughtSignature": "c2lnLXBhcmFsbGVs"},
            {"functionCall": {"name": "describe_table", "args": {"base_id": BASE, "table": "Team"}}},
        ])
    );
    assert_eq!(
        contents[2],
        json!({"role": "user", "parts": [
            {"functionResponse": {"name": "describe_table", "response": {"output": ["Tasks", "fields"]}}},
            {"functionResponse": {"name": "describe_table", "response": {"output": ["Team", "fields"]}}},
        ]})
    );
}

#[tokio::test]
async fn streamed_text_arrives_piece_by_piece_in_order_and_a_streamed_call_is_whole() {
    let gemini = FakeGemini::start(vec![
        Answer::text("There are ").then_text("two tables: ").then_text("Tasks and Team."),
        Answer::text("Let me look.").then_call("list_tables", json!({"base_id": BASE})).signed("c2lnLXN0cmVhbQ=="),
    ])
    .await;
    let provider = llm().provider(&gemini.endpoint());
    let ask = request(vec![Message::User("Which tables?".into())]);

    let (sink, mut pieces) = tokio::sync::mpsc::unbounded_channel();
    let reply = provider.stream(&ask, &sink).await.unwrap();
    drop(sink);
    let mut received = Vec::new();
    while let Some(piece) = pieces.recv().await {
        received.push(piece);
    }
    assert_eq!(received, ["There are ", "two tables: ", "Tasks and Team."]);
    assert_eq!(reply.text, "There are two tables: Tasks and Team.");
    assert!(reply.tool_calls.is_empty());

    // Nobody listening any more doesn't stop the answer.
    let (sink, pieces) = tokio::sync::mpsc::unbounded_channel();
    drop(pieces);
    let reply = provider.stream(&ask, &sink).await.unwrap();
    assert_eq!(reply.text, "Let me look.");
    assert_eq!(reply.tool_calls.len(), 1);
    assert_eq!(reply.tool_calls[0].name, "list_tables");
    assert_eq!(reply.tool_calls[0].arguments, json!({"base_id": BASE}));
    assert_eq!(reply.tool_calls[0].signature.as_deref(), Some("c2lnLXN0cmVhbQ=="));

    let paths: Vec<String> = gemini.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"; 2]);
}

#[tokio::test]
async fn usage_counts_input_cached_output_and_thinking_whole_or_streamed() {
    let gemini = FakeGemini::start(vec![
        Answer::text("Done.").usage(1200, 1000, 35, 80),
        Answer::text("Done ").then_text("again.").usage(1300, 0, 40, 90),
    ])
    .await;
    let provider = llm().provider(&gemini.endpoint());
    let ask = request(vec![Message::User("Count.".into())]);

    let whole = provider.generate(&ask).await.unwrap();
    assert_eq!(whole.usage, Usage { input_tokens: 1200, cached_tokens: 1000, output_tokens: 35, thinking_tokens: 80 });

    let (sink, _pieces) = tokio::sync::mpsc::unbounded_channel();
    let streamed = provider.stream(&ask, &sink).await.unwrap();
    assert_eq!(streamed.usage, Usage { input_tokens: 1300, cached_tokens: 0, output_tokens: 40, thinking_tokens: 90 });
    assert_eq!(streamed.usage.total(), 1430);
}

#[tokio::test]
async fn a_rate_limit_is_waited_out_and_the_retry_answers() {
    let gemini = FakeGemini::start(vec![Answer::error(429), Answer::text("Hello after waiting.")]).await;
    let reply = llm().provider(&gemini.endpoint()).generate(&request(vec![Message::User("Hi".into())])).await.unwrap();
    assert_eq!(reply.text, "Hello after waiting.");
    let requests = gemini.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].body, requests[1].body, "the retry sends the same request");
}

#[tokio::test]
async fn a_rate_limit_that_lasts_past_the_retries_says_so() {
    let gemini = FakeGemini::start(vec![Answer::error(429), Answer::error(429), Answer::error(429)]).await;
    let error = llm().provider(&gemini.endpoint()).generate(&request(vec![Message::User("Hi".into())])).await.unwrap_err();
    assert!(matches!(error, LlmError::RateLimited { attempts: 3, .. }), "{error:?}");
    assert_eq!(gemini.requests().len(), 3);
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_rejected_with_a_message_naming_gemini_and_settings() {
    let gemini = FakeGemini::start(vec![Answer::text("never sent")]).await;
    let ask = request(vec![Message::User("Hi".into())]);
    let wrong = backend::llm::LlmEndpoint { api_key: Some("AIzaSyNotTheRightKey".to_owned().into()), ..gemini.endpoint() };
    let missing = backend::llm::LlmEndpoint { api_key: None, ..gemini.endpoint() };
    for endpoint in [wrong, missing] {
        let error = llm().provider(&endpoint).generate(&ask).await.unwrap_err();
        assert!(matches!(error, LlmError::KeyRejected { .. }), "{error:?}");
        let message = error.to_string();
        assert!(message.contains("Gemini") && message.contains("Settings"), "{message}");
    }
    assert_eq!(gemini.requests().len(), 2, "a rejected key is not retried");
}
