//! The OpenAI-compatible provider against a local server speaking the chat-completions API:
//! function calling over several steps, parallel and streamed calls, streamed text, usage,
//! retries, a rejected key and timeouts.

use std::sync::Arc;
use std::time::Duration;

use backend::llm::{HttpPolicy, Llm, LlmError, Message, Provider, Reply, Request, ToolResult, ToolSpec, Usage};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::fake_openai::{FakeOpenAi, FakeReply, FakeUsage};

/// Retries that wait milliseconds, not seconds.
fn quick_policy() -> HttpPolicy {
    HttpPolicy {
        retries: 2,
        first_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        timeout: Duration::from_secs(10),
    }
}

fn provider(fake: &FakeOpenAi, key: Option<&str>, policy: HttpPolicy) -> Arc<dyn Provider> {
    Llm::new(policy).provider(&fake.endpoint(key))
}

fn tools() -> Vec<ToolSpec> {
    let table = json!({"type": "object", "properties": {"table": {"type": "string"}}, "required": ["table"]});
    vec![
        ToolSpec { name: "list_tables".into(), description: "Lists the base's tables.".into(), parameters: json!({"type": "object", "properties": {}}) },
        ToolSpec { name: "list_records".into(), description: "Lists a table's records.".into(), parameters: table },
    ]
}

fn request(messages: Vec<Message>) -> Request {
    Request { model: "gpt-4o-mini".into(), system: "You help with Airtable.".into(), messages, tools: tools(), base_id: None }
}

fn asking(question: &str) -> Request {
    request(vec![Message::User(question.into())])
}

/// Streams `request` and returns the pieces of text the sink received, and the reply.
async fn stream(provider: &dyn Provider, request: &Request) -> (Vec<String>, Result<Reply, LlmError>) {
    let (sink, mut pieces) = mpsc::unbounded_channel();
    let reply = provider.stream(request, &sink).await;
    drop(sink);
    let mut received = Vec::new();
    while let Some(piece) = pieces.recv().await {
        received.push(piece);
    }
    (received, reply)
}

#[tokio::test]
async fn a_call_its_result_and_the_final_answer_make_a_multi_step_exchange() {
    let fake = FakeOpenAi::start(vec![
        FakeReply::call("list_records", json!({"table": "Tasks"})),
        FakeReply::text("There are 12 open tasks."),
    ])
    .await;
    let llm = provider(&fake, Some("sk-test"), quick_policy());

    let first = asking("How many open tasks?");
    let (pieces, reply) = stream(llm.as_ref(), &first).await;
    let reply = reply.unwrap();
    assert!(pieces.is_empty(), "a call alone has no text: {pieces:?}");
    assert_eq!(reply.tool_calls.len(), 1);
    let call = &reply.tool_calls[0];
    assert_eq!((call.name.as_str(), &call.arguments), ("list_records", &json!({"table": "Tasks"})));

    let result = ToolResult { call_id: call.id.clone(), name: call.name.clone(), content: json!({"records": 12}) };
    let mut messages = first.messages.clone();
    messages.push(Message::Assistant { text: reply.text.clone(), tool_calls: reply.tool_calls.clone() });
    messages.push(Message::ToolResults(vec![result]));
    let (pieces, answer) = stream(llm.as_ref(), &request(messages)).await;
    assert_eq!(answer.unwrap().text, "There are 12 open tasks.");
    assert_eq!(pieces.concat(), "There are 12 open tasks.");

    let sent = fake.requests();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0]["model"], "gpt-4o-mini");
    assert_eq!(sent[0]["stream"], true);
    assert_eq!(sent[0]["stream_options"], json!({"include_usage": true}));
    assert_eq!(sent[0]["tools"][1], json!({"type": "function", "function": {
        "name": "list_records", "description": "Lists a table's records.", "parameters": tools()[1].parameters,
    }}));
    assert_eq!(
        sent[1]["messages"],
        json!([
            {"role": "system", "content": "You help with Airtable."},
            {"role": "user", "content": "How many open tasks?"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": call.id, "type": "function", "function": {"name": "list_records", "arguments": "{\"table\":\"Tasks\"}"}},
            ]},
            {"role": "tool", "tool_call_id": call.id, "content": "{\"records\":12}"},
        ])
    );
    assert_eq!(fake.seen()[1].bearer.as_deref(), Some("sk-test"));
}

#[tokio::test]
async fn parallel_calls_come_back_in_order_and_each_result_is_its_own_tool_message() {
    let fake = FakeOpenAi::start(vec![
        FakeReply::call("list_tables", json!({})).and_call("list_records", json!({"table": "Team"})),
        FakeReply::text("Done."),
    ])
    .await;
    let llm = provider(&fake, None, quick_policy());

    let reply = llm.generate(&asking("Tables and team?")).await.unwrap();
    let names: Vec<&str> = reply.tool_calls.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["list_tables", "list_records"]);
    assert_ne!(reply.tool_calls[0].id, reply.tool_calls[1].id);

    let results = reply
        .tool_calls
        .iter()
        .map(|c| ToolResult { call_id: c.id.clone(), name: c.name.clone(), content: json!({"ok": c.name}) })
        .collect();
    let messages = vec![
        Message::User("Tables and team?".into()),
        Message::Assistant { text: String::new(), tool_calls: reply.tool_calls.clone() },
        Message::ToolResults(results),
    ];
    assert_eq!(llm.generate(&request(messages)).await.unwrap().text, "Done.");

    let sent = &fake.requests()[1]["messages"];
    assert_eq!(sent[2]["tool_calls"].as_array().unwrap().len(), 2);
    assert_eq!(sent[3], json!({"role": "tool", "tool_call_id": reply.tool_calls[0].id, "content": "{\"ok\":\"list_tables\"}"}));
    assert_eq!(sent[4], json!({"role": "tool", "tool_call_id": reply.tool_calls[1].id, "content": "{\"ok\":\"list_records\"}"}));
    assert_eq!(fake.requests()[0]["stream"], false);
    assert!(fake.requests()[0].get("stream_options").is_none());
}

#[tokio::test]
async fn interleaved_streamed_call_fragments_are_assembled_by_index() {
    let arguments = [
        json!({"table": "Tasks", "filter": "{Status} = 'Open'", "fields": ["Task", "Owner", "Due"]}),
        json!({"table": "Milestones", "max_records": 25}),
        json!({}),
    ];
    let fake = FakeOpenAi::start(vec![
        FakeReply::text("Looking now. ")
            .and_call("list_records", arguments[0].clone())
            .and_call("list_records", arguments[1].clone())
            .and_call("list_tables", arguments[2].clone())
            .interleaved(),
    ])
    .await;
    let (pieces, reply) = stream(provider(&fake, None, quick_policy()).as_ref(), &asking("Plan?")).await;
    let reply = reply.unwrap();
    assert_eq!(pieces.concat(), "Looking now. ");
    let calls: Vec<(&str, &Value)> = reply.tool_calls.iter().map(|c| (c.name.as_str(), &c.arguments)).collect();
    assert_eq!(calls, [("list_records", &arguments[0]), ("list_records", &arguments[1]), ("list_tables", &arguments[2])]);
    let ids: Vec<&str> = reply.tool_calls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["call_1_0", "call_1_1", "call_1_2"]);
}

#[tokio::test]
async fn streamed_text_reaches_the_sink_in_order_while_the_answer_is_still_open() {
    let text = "Twelve tasks are open, three of them overdue.";
    let fake = FakeOpenAi::start(vec![FakeReply::text(text).then_hang()]).await;
    let llm = provider(&fake, None, quick_policy());
    let (sink, mut pieces) = mpsc::unbounded_channel();
    let answering = tokio::spawn(async move { llm.stream(&asking("Open tasks?"), &sink).await });

    let mut received: Vec<String> = Vec::new();
    while received.concat().len() < text.len() {
        received.push(pieces.recv().await.expect("a piece of text"));
    }
    assert_eq!(received.concat(), text);
    assert!(received.len() > 5, "the text came a word at a time: {received:?}");
    assert!(!answering.is_finished(), "the text arrived before the stream ended");
    answering.abort();
}

#[tokio::test]
async fn an_answer_goes_on_when_the_reader_has_left() {
    let fake = FakeOpenAi::start(vec![FakeReply::text("Nobody reads this.").and_call("list_tables", json!({}))]).await;
    let (sink, pieces) = mpsc::unbounded_channel();
    drop(pieces);
    let reply = provider(&fake, None, quick_policy()).stream(&asking("Hi"), &sink).await.unwrap();
    assert_eq!((reply.text.as_str(), reply.tool_calls.len()), ("Nobody reads this.", 1));
}

#[tokio::test]
async fn usage_counts_cached_tokens_as_input_and_reasoning_apart_from_output() {
    let counts = FakeUsage { prompt_tokens: 1200, completion_tokens: 300, cached_tokens: 1024, reasoning_tokens: 200 };
    let expected = Usage { input_tokens: 1200, cached_tokens: 1024, output_tokens: 100, thinking_tokens: 200 };
    let fake = FakeOpenAi::start(vec![FakeReply::text("Hi.").usage(counts), FakeReply::call("list_tables", json!({})).usage(counts)]).await;
    let llm = provider(&fake, None, quick_policy());

    assert_eq!(llm.generate(&asking("Hi")).await.unwrap().usage, expected);
    let (_, streamed) = stream(llm.as_ref(), &asking("Hi")).await;
    assert_eq!(streamed.unwrap().usage, expected, "the closing usage chunk is read");
}

#[tokio::test]
async fn a_rate_limit_is_retried_and_the_retry_answers() {
    let fake = FakeOpenAi::start(vec![FakeReply::error(429), FakeReply::error(429), FakeReply::text("Here you are.")]).await;
    let (_, reply) = stream(provider(&fake, None, quick_policy()).as_ref(), &asking("Hi")).await;
    assert_eq!(reply.unwrap().text, "Here you are.");
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(fake.requests()[0], fake.requests()[2], "the retry sends the same request");
}

#[tokio::test]
async fn a_rate_limit_that_lasts_says_how_often_it_was_tried() {
    let fake = FakeOpenAi::start(vec![FakeReply::error(429), FakeReply::error(429), FakeReply::error(429)]).await;
    let error = provider(&fake, None, quick_policy()).generate(&asking("Hi")).await.unwrap_err();
    assert!(matches!(error, LlmError::RateLimited { attempts: 3, .. }), "{error:?}");
    assert_eq!((fake.request_count(), fake.unused_replies()), (3, 0));
}

#[tokio::test]
async fn a_bad_key_is_rejected_at_once_with_a_message_pointing_to_settings() {
    let fake = FakeOpenAi::builder().key("sk-right-key-0000").start(vec![FakeReply::text("Never sent.")]).await;
    let error = provider(&fake, Some("sk-wrong-key-1234"), quick_policy()).generate(&asking("Hi")).await.unwrap_err();
    assert!(matches!(error, LlmError::KeyRejected { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("The OpenAI-compatible endpoint rejected the API key"), "{message}");
    assert!(message.contains("Settings"), "{message}");
    assert!(!message.contains("sk-wrong"), "the key never shows in the message: {message}");
    assert_eq!(fake.requests().len(), 1, "a rejected key is not retried");
    assert_eq!(fake.seen()[0].bearer.as_deref(), Some("sk-wrong-key-1234"));
}

#[tokio::test]
async fn the_right_key_is_let_in_and_no_key_is_sent_when_none_is_set() {
    let fake = FakeOpenAi::builder().key("sk-right-key-0000").start(vec![FakeReply::text("Hi.")]).await;
    let reply = provider(&fake, Some("sk-right-key-0000"), quick_policy()).generate(&asking("Hi")).await;
    assert_eq!(reply.unwrap().text, "Hi.");

    let local = FakeOpenAi::start(vec![FakeReply::text("Hi."), FakeReply::text("Hi.")]).await;
    provider(&local, None, quick_policy()).generate(&asking("Hi")).await.unwrap();
    provider(&local, Some(""), quick_policy()).generate(&asking("Hi")).await.unwrap();
    let bearers: Vec<Option<String>> = local.seen().into_iter().map(|s| s.bearer).collect();
    assert_eq!(bearers, [None, None]);
}

#[tokio::test]
async fn an_unknown_model_is_refused_with_its_status_and_without_the_servers_words() {
    let fake = FakeOpenAi::start(vec![FakeReply::error(404)]).await;
    let error = provider(&fake, None, quick_policy()).generate(&asking("Hi")).await.unwrap_err();
    assert!(matches!(error, LlmError::Refused { status: 404, .. }), "{error:?}");
    assert!(error.to_string().contains("refused the request (HTTP 404)"), "{error}");
    assert!(!error.to_string().contains("does not exist"), "the server's words are only logged: {error}");
}

#[tokio::test]
async fn an_answer_that_never_comes_times_out() {
    let policy = HttpPolicy { timeout: Duration::from_millis(300), ..quick_policy() };
    let fake = FakeOpenAi::start(vec![FakeReply::no_answer(), FakeReply::text("Half an").then_hang()]).await;
    let llm = provider(&fake, None, policy);

    let error = llm.generate(&asking("Hi")).await.unwrap_err();
    assert!(matches!(error, LlmError::Timeout { .. }), "{error:?}");
    let (pieces, reply) = stream(llm.as_ref(), &asking("Hi")).await;
    assert!(matches!(reply, Err(LlmError::Timeout { .. })), "a stream gone silent times out: {reply:?}");
    assert_eq!(pieces.concat(), "Half an");
}

#[tokio::test]
async fn a_scripted_fake_answers_from_the_request() {
    let fake = FakeOpenAi::answering(|body| {
        let question = body["messages"].as_array().and_then(|m| m.last()).and_then(|m| m["content"].as_str()).unwrap_or_default();
        FakeReply::text(&format!("You said: {question}"))
    })
    .await;
    let llm = provider(&fake, None, quick_policy());
    for question in ["one", "two"] {
        assert_eq!(llm.generate(&asking(question)).await.unwrap().text, format!("You said: {question}"));
    }
}

#[tokio::test]
async fn a_fake_can_be_given_replies_later_and_forget_what_it_was_sent() {
    let fake = FakeOpenAi::builder().forget_requests().start(vec![]).await;
    fake.push(FakeReply::text("Late but here."));
    let llm = provider(&fake, None, quick_policy());
    assert_eq!(llm.generate(&asking("Hi")).await.unwrap().text, "Late but here.");
    let error = llm.generate(&asking("Again")).await.unwrap_err();
    assert!(matches!(error, LlmError::Refused { status: 400, .. }), "a missing reply is a 400: {error:?}");
    assert_eq!((fake.request_count(), fake.requests().len()), (2, 0));
}
