//! The chat through the whole app: `POST /api/chat`, approvals, the step limit, cancelling,
//! history, cost and budgets, with the offline assistant and with an OpenAI-compatible model
//! played by a local server that speaks its protocol.

use std::time::Duration;

use backend::auth::UserId;
use backend::db::Dialect;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::fake_openai::{FakeOpenAi, FakeReply, FakeUsage};
use crate::helpers::{TestApp, on_both_databases, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

/// A signed-in user with their sandbox base, chatting over HTTP.
pub(crate) struct Chatter {
    pub(crate) app: TestApp,
    pub(crate) token: String,
    pub(crate) user: UserId,
    pub(crate) base: String,
}

impl Chatter {
    pub(crate) async fn new(app: TestApp) -> Self {
        let user = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap().id;
        let token = app.access_token("ada@example.com", PASSWORD).await;
        let client = app.services.connections.for_user(&user).await.unwrap().client;
        let base = client.list_bases().await.unwrap()[0].id.as_str().to_owned();
        Self { app, token, user, base }
    }

    /// `POST /api/chat`, which answers once the turn is over.
    pub(crate) async fn chat(&self, message: &str, session: Option<&str>) -> Value {
        let response = self.post_chat(message, session).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub(crate) async fn post_chat(&self, message: &str, session: Option<&str>) -> reqwest::Response {
        self.post_chat_with(message, session, &[]).await
    }

    /// `POST /api/chat` with the files `attachments` (IDs from an upload).
    pub(crate) async fn post_chat_with(&self, message: &str, session: Option<&str>, attachments: &[&str]) -> reqwest::Response {
        let body = json!({ "message": message, "session_id": session, "base_id": self.base, "attachments": attachments });
        self.app.client.post(self.app.url("/api/chat")).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }

    /// The chat page's server functions, as a script calls them (JSON in, JSON out).
    pub(crate) async fn call(&self, endpoint: &str, body: Value) -> reqwest::Response {
        self.app.client.post(self.app.url(endpoint)).bearer_auth(&self.token).json(&body).send().await.unwrap()
    }

    /// The chat's preferences, saved as the Settings form does.
    pub(crate) async fn save_preferences(&self, form: &[(&str, &str)]) -> reqwest::Response {
        self.app.client.post(self.app.url("/api/chat/preferences/save")).bearer_auth(&self.token).form(form).send().await.unwrap()
    }

    /// Answers the approval, then waits for the resumed turn to end.
    pub(crate) async fn answer(&self, session: &str, call_id: &str, answer: &str) -> Value {
        let response = self.call("/api/chat/answer", json!({ "conversation_id": session, "call_id": call_id, "answer": answer })).await;
        assert_eq!(response.status(), StatusCode::OK, "{}", response.text().await.unwrap());
        self.idle(session).await
    }

    /// The conversation once no turn runs in it.
    /// Patient, because a loaded CI machine can take seconds over a turn; only a turn that
    /// never ends fails it.
    pub(crate) async fn idle(&self, session: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while tokio::time::Instant::now() < deadline {
            let conversation = self.app.services.chat.conversation(&self.user, session).await.unwrap();
            if !conversation.running {
                return serde_json::to_value(conversation).unwrap();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the turn in {session} never ended");
    }

    pub(crate) async fn task_names(&self) -> Vec<String> {
        let client = self.app.services.connections.for_user(&self.user).await.unwrap().client;
        let base = backend::model::airtable::BaseId::parse(&self.base).unwrap();
        let records = client.list_all(&base, "Tasks", &backend::airtable::ListQuery::default()).await.unwrap();
        records.into_iter().filter_map(|r| r.fields.get("Name").and_then(Value::as_str).map(str::to_owned)).collect()
    }
}

/// The last message of a conversation view.
pub(crate) fn last_message(conversation: &Value) -> &Value {
    conversation["messages"].as_array().unwrap().last().unwrap()
}

/// An app whose default LLM is the fake, with `change` applied to its settings.
pub(crate) async fn app_with_model(dialect: Dialect, fake: &FakeOpenAi, change: impl FnOnce(&mut server::config::Settings)) -> TestApp {
    let base_url = fake.base_url.clone();
    spawn_app_with(dialect, move |s| {
        s.llm_provider = Some("openai_compatible".into());
        s.llm_base_url = Some(base_url);
        s.llm_api_key = Some("sk-test-key".into());
        change(s);
    })
    .await
}

async fn the_offline_assistant_lists_tables_and_adds_a_record_once_allowed(app: TestApp) {
    let ada = Chatter::new(app).await;
    let listed = ada.chat("list tables", None).await;
    assert_eq!(listed["tools_used"], json!(["list_tables"]));
    assert!(listed["response"].as_str().unwrap().contains("Tasks"), "{listed}");
    assert_eq!(listed["status"], "complete");
    let session = listed["session_id"].as_str().unwrap().to_owned();

    let asked = ada.chat("add a record to Tasks with Name=Launch post", Some(&session)).await;
    assert_eq!(asked["session_id"], session.as_str(), "the same conversation goes on");
    assert_eq!(asked["status"], "awaiting_approval");
    let pending = &asked["pending_approvals"][0];
    assert_eq!(pending["tool"], "create_records");
    assert!(!ada.task_names().await.contains(&"Launch post".to_owned()), "nothing is written before the user allows it");

    let after = ada.answer(&session, pending["call_id"].as_str().unwrap(), "allow_once").await;
    assert!(ada.task_names().await.contains(&"Launch post".to_owned()));
    let call = &after["messages"].as_array().unwrap().iter().flat_map(|m| m["tool_calls"].as_array().unwrap().clone()).last().unwrap().clone();
    assert_eq!(call["state"], "done");
    assert_eq!(last_message(&after)["status"], "complete");

    // The list finds it by title or by message text, with its totals, in one query.
    let chat = &ada.app.services.chat;
    let listed = chat.conversations(&ada.user, "").await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].id.as_str(), listed[0].title.as_str()), (session.as_str(), "list tables"));
    let single = chat.conversation(&ada.user, &session).await.unwrap().summary;
    assert_eq!((listed[0].usage, listed[0].cost_usd), (single.usage, single.cost_usd));
    assert_eq!(chat.conversations(&ada.user, "LAUNCH POST").await.unwrap().len(), 1, "found by a message's text");
    assert!(chat.conversations(&ada.user, "100%_").await.unwrap().is_empty(), "wildcards are taken literally");

    // Each user sees only their own conversations.
    app_user_isolation(&ada, &session).await;
}

async fn app_user_isolation(ada: &Chatter, session: &str) {
    let app = &ada.app;
    app.services.auth.users.create("bob@example.com", PASSWORD, false).await.unwrap();
    let bob = app.access_token("bob@example.com", PASSWORD).await;
    let read = app.client.post(app.url("/api/chat/conversation")).bearer_auth(&bob).json(&json!({ "conversation_id": session })).send().await.unwrap();
    assert_eq!(read.status(), StatusCode::NOT_FOUND);
    let events = app.client.get(app.url(&format!("/api/chat/conversations/{session}/events"))).bearer_auth(&bob).send().await.unwrap();
    assert_eq!(events.status(), StatusCode::NOT_FOUND);
    let hijack = json!({ "message": "list tables", "session_id": session });
    let answer: Value = app.client.post(app.url("/api/chat")).bearer_auth(&bob).json(&hijack).send().await.unwrap().json().await.unwrap();
    assert_ne!(answer["session_id"], session, "another user's session ID starts a conversation of one's own");
}

on_both_databases!(the_offline_assistant_lists_tables_and_adds_a_record_once_allowed);

async fn a_write_waits_for_approval_then_its_result_goes_back_to_the_model(dialect: Dialect) {
    let fake = FakeOpenAi::start(vec![]).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    fake.push(FakeReply::call("create_records", json!({ "base_id": ada.base, "table": "Tasks", "records": [{ "Name": "Written by the model" }] })));
    fake.push(FakeReply::text("I created the task."));

    let asked = ada.chat("Create a task called Written by the model", None).await;
    assert_eq!(asked["status"], "awaiting_approval");
    assert_eq!(fake.requests().len(), 1, "the model waits with the turn");
    let session = asked["session_id"].as_str().unwrap();
    let call_id = asked["pending_approvals"][0]["call_id"].as_str().unwrap();

    // The pending approval is stored: a reload shows it.
    let reloaded = ada.idle(session).await;
    assert_eq!(last_message(&reloaded)["tool_calls"][0]["state"], "awaiting_approval");
    assert_eq!(last_message(&reloaded)["tool_calls"][0]["writes"], true);

    let after = ada.answer(session, call_id, "allow_once").await;
    assert!(ada.task_names().await.contains(&"Written by the model".to_owned()));
    assert_eq!(last_message(&after)["text"], "I created the task.");
    let second = &fake.requests()[1];
    let tool_message = second["messages"].as_array().unwrap().iter().find(|m| m["role"] == "tool").unwrap();
    assert_eq!(tool_message["tool_call_id"], call_id);
    assert!(tool_message["content"].as_str().unwrap().contains("rec"), "the created record's ID reaches the model: {tool_message}");
}

async fn a_denied_write_is_not_made_and_the_model_is_told(dialect: Dialect) {
    let fake = FakeOpenAi::start(vec![]).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    fake.push(FakeReply::call("delete_records", json!({ "base_id": ada.base, "table": "Tasks", "record_ids": ["recAAAAAAAAAAAAAA"] })));
    fake.push(FakeReply::text("Understood, I deleted nothing."));

    let asked = ada.chat("Delete that task", None).await;
    let session = asked["session_id"].as_str().unwrap();
    let after = ada.answer(session, asked["pending_approvals"][0]["call_id"].as_str().unwrap(), "deny").await;
    let denied = &after["messages"][1]["tool_calls"][0];
    assert_eq!(denied["state"], "denied");
    assert_eq!(denied["destructive"], true);
    let tool_message = fake.requests()[1]["messages"].as_array().unwrap().iter().find(|m| m["role"] == "tool").unwrap().clone();
    assert!(tool_message["content"].as_str().unwrap().contains("denied"), "{tool_message}");
    assert_eq!(last_message(&after)["text"], "Understood, I deleted nothing.");
}

async fn allowing_for_the_conversation_lets_later_calls_of_that_tool_run_without_asking(dialect: Dialect) {
    let fake = FakeOpenAi::start(vec![]).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    let create = |name: &str| FakeReply::call("create_records", json!({ "base_id": ada.base, "table": "Tasks", "records": [{ "Name": name }] }));
    fake.push(create("First"));
    fake.push(FakeReply::text("Made the first."));
    fake.push(create("Second"));
    fake.push(FakeReply::text("Made the second."));

    let asked = ada.chat("Make one", None).await;
    let session = asked["session_id"].as_str().unwrap();
    ada.answer(session, asked["pending_approvals"][0]["call_id"].as_str().unwrap(), "allow_conversation").await;
    let again = ada.chat("Make another", Some(session)).await;
    assert_eq!(again["status"], "complete", "{again}");
    let names = ada.task_names().await;
    assert!(names.contains(&"First".to_owned()) && names.contains(&"Second".to_owned()));
}

async fn the_read_only_policy_offers_no_writing_tools_and_refuses_a_write(dialect: Dialect) {
    let fake = FakeOpenAi::start(vec![]).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    let saved = ada.save_preferences(&[("approval_policy", "read_only"), ("daily_budget_usd", ""), ("monthly_budget_usd", "")]).await;
    assert_eq!(saved.status(), StatusCode::OK, "{}", saved.text().await.unwrap());
    fake.push(FakeReply::call("create_records", json!({ "base_id": ada.base, "table": "Tasks", "records": [{ "Name": "Sneaky" }] })));
    fake.push(FakeReply::text("I can't change data here."));

    let reply = ada.chat("Create a task", None).await;
    assert_eq!(reply["status"], "complete");
    let offered: Vec<String> = fake.requests()[0]["tools"].as_array().unwrap().iter().map(|t| t["function"]["name"].as_str().unwrap().to_owned()).collect();
    assert!(offered.contains(&"list_records".to_owned()) && !offered.contains(&"create_records".to_owned()), "{offered:?}");
    assert!(!ada.task_names().await.contains(&"Sneaky".to_owned()));
}

async fn a_model_that_keeps_calling_tools_stops_at_the_step_limit(dialect: Dialect) {
    let fake = FakeOpenAi::answering(|_| FakeReply::call("list_bases", json!({}))).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |s| s.chat_max_steps = Some("3".into())).await).await;
    let reply = ada.chat("Loop forever", None).await;
    assert_eq!(reply["status"], "step_limit");
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(reply["tools_used"].as_array().unwrap().len(), 3);
    assert!(reply["response"].as_str().unwrap().contains("3 steps"));
}

async fn parallel_calls_all_run_and_all_results_go_back_together(dialect: Dialect) {
    let fake = FakeOpenAi::start(vec![]).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    fake.push(FakeReply::call("list_tables", json!({ "base_id": ada.base })).and_call("describe_table", json!({ "base_id": ada.base, "table": "Tasks", "detail": "names" })));
    fake.push(FakeReply::text("Four tables; Tasks has a Name."));
    let reply = ada.chat("What's in my base?", None).await;
    assert_eq!(reply["tools_used"], json!(["list_tables", "describe_table"]));
    let tool_messages: Vec<Value> = fake.requests()[1]["messages"].as_array().unwrap().iter().filter(|m| m["role"] == "tool").cloned().collect();
    assert_eq!(tool_messages.len(), 2);
    assert!(tool_messages[0]["content"].as_str().unwrap().contains("Milestones"));
}

async fn history_and_the_selected_base_reach_the_model_on_the_second_turn(dialect: Dialect) {
    let fake = FakeOpenAi::start(vec![FakeReply::text("Nice to meet you, Ada."), FakeReply::text("You are Ada.")]).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    let first = ada.chat("My name is Ada.", None).await;
    ada.chat("What is my name?", first["session_id"].as_str()).await;

    let second = &fake.requests()[1]["messages"];
    let said: Vec<(String, String)> = second
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["role"].as_str().unwrap().to_owned(), m["content"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert_eq!(said[1..], [
        ("user".into(), "My name is Ada.".into()),
        ("assistant".into(), "Nice to meet you, Ada.".into()),
        ("user".into(), "What is my name?".into()),
    ]);
    let system = &said[0].1;
    assert_eq!(said[0].0, "system");
    assert!(system.contains(&ada.base) && system.contains("Product launch (demo)") && system.contains("Tasks ("), "{system}");
}

async fn tokens_and_cost_are_counted_per_message_and_a_reached_budget_stops_the_next_turn(dialect: Dialect) {
    let usage = FakeUsage { prompt_tokens: 100_000, completion_tokens: 20_000, cached_tokens: 40_000, reasoning_tokens: 5_000 };
    let fake = FakeOpenAi::answering(move |_| FakeReply::text("Counted.").usage(usage)).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    let reply = ada.chat("Hello", None).await;
    // gpt-4o-mini: 60k fresh × 0.15 + 40k cached × 0.075 + 20k output × 0.60, per million.
    let expected = (60_000.0 * 0.15 + 40_000.0 * 0.075 + 20_000.0 * 0.60) / 1_000_000.0;
    assert!((reply["cost_info"]["cost_usd"].as_f64().unwrap() - expected).abs() < 1e-9, "{reply}");
    assert_eq!(reply["cost_info"]["thinking_tokens"], 5_000);
    assert_eq!(reply["cost_info"]["output_tokens"], 15_000);
    assert_eq!(reply["cost_info"]["cached_tokens"], 40_000);

    let listed = ada.app.services.chat.conversations(&ada.user, "").await.unwrap();
    assert!((listed[0].cost_usd - expected).abs() < 1e-9, "the list adds up each conversation's cost");
    assert_eq!(listed[0].usage.thinking_tokens, 5_000);

    let spending: Value = ada.call("/api/chat/spending", json!({})).await.json().await.unwrap();
    assert!((spending["today_usd"].as_f64().unwrap() - expected).abs() < 1e-9, "{spending}");

    let saved = ada.save_preferences(&[("approval_policy", "always_ask"), ("daily_budget_usd", "0.02"), ("monthly_budget_usd", "")]).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let refused = ada.post_chat("Hello again", reply["session_id"].as_str()).await;
    assert_eq!(refused.status(), StatusCode::PAYMENT_REQUIRED);
    let message = refused.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(message.contains("daily chat budget") && message.contains("Settings → Chat"), "{message}");
    assert_eq!(fake.requests().len(), 1, "no model call once the budget is reached");
    let from_the_page = ada.call("/api/chat/send", json!({ "message": "Hello from the page", "base_id": ada.base })).await;
    assert_eq!(from_the_page.status(), StatusCode::PAYMENT_REQUIRED, "the page's server function refuses with the same status");

    // Deleting the conversation doesn't give the money back.
    let deleted = ada.call("/api/chat/delete", json!({ "conversation_id": reply["session_id"] })).await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(ada.post_chat("Hello once more", None).await.status(), StatusCode::PAYMENT_REQUIRED);
}

async fn a_rejected_key_fails_the_turn_with_a_message_naming_the_provider_and_the_fix(dialect: Dialect) {
    let fake = FakeOpenAi::requiring_key("sk-the-right-key").start(vec![]).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    let reply = ada.chat("Hello", None).await;
    assert_eq!(reply["status"], "failed");
    let error = reply["error"].as_str().unwrap();
    assert!(error.contains("OpenAI-compatible endpoint rejected the API key") && error.contains("Settings"), "{error}");
}

async fn stopping_a_turn_keeps_the_text_that_arrived_and_marks_it(dialect: Dialect) {
    let fake = FakeOpenAi::start(vec![FakeReply::text("The first words of a long answer").then_hang()]).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    let sent = ada.call("/api/chat/send", json!({ "message": "Tell me everything", "base_id": ada.base })).await;
    assert_eq!(sent.status(), StatusCode::OK, "{}", sent.text().await.unwrap());
    let session: String = sent.json().await.unwrap();

    // The page's event stream carries the text as it arrives.
    let events = ada.app.client.get(ada.app.url(&format!("/api/chat/conversations/{session}/events"))).bearer_auth(&ada.token).send().await.unwrap();
    assert_eq!(events.headers()["content-type"], "text/event-stream");
    let mut events = events.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("answer") {
        let chunk = tokio::time::timeout(Duration::from_secs(10), futures::StreamExt::next(&mut events)).await.expect("events arrive").unwrap().unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains(r#""type":"snapshot""#) || seen.contains(r#""type":"text""#), "{seen}");

    let stopped = ada.call("/api/chat/cancel", json!({ "conversation_id": session })).await;
    assert_eq!(stopped.status(), StatusCode::OK);
    let after = ada.idle(&session).await;
    let last = last_message(&after);
    assert_eq!(last["status"], "cancelled");
    assert_eq!(last["text"], "The first words of a long answer");
    while !seen.contains(r#""type":"done""#) {
        let Ok(Some(Ok(chunk))) = tokio::time::timeout(Duration::from_secs(10), futures::StreamExt::next(&mut events)).await else { break };
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(seen.contains(r#""status":"cancelled""#), "the stream ends with the turn: {seen}");
}

/// An administrator's budget on the server's key stops users chatting on it, but not a user
/// who saved a key of their own.
async fn the_budget_on_the_servers_key_stops_its_users_but_not_those_with_their_own_key(dialect: Dialect) {
    let usage = FakeUsage { prompt_tokens: 100_000, completion_tokens: 20_000, cached_tokens: 0, reasoning_tokens: 0 };
    let fake = FakeOpenAi::answering(move |_| FakeReply::text("Counted.").usage(usage)).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    let app = &ada.app;
    let saved = app.client.post(app.url("/api/admin/budget/save")).bearer_auth(&ada.token).form(&[("daily_usd", "0.01"), ("monthly_usd", "")]).send().await.unwrap();
    assert_eq!(saved.status(), StatusCode::OK, "Ada, the first account, is the administrator");

    // Bob chats with a key of his own, at the same (fake) provider.
    let bob = app.services.auth.users.create("bob@example.com", PASSWORD, false).await.unwrap();
    let choice = backend::llm::LlmChoice {
        provider: backend::model::llm::LlmProvider::OpenaiCompatible,
        model: "gpt-4o-mini".into(),
        base_url: fake.base_url.clone(),
        api_key: "sk-bobs-own".to_owned().into(),
    };
    app.services.llm_settings.save(&bob.id, &choice).await.unwrap();
    let bob_token = app.access_token("bob@example.com", PASSWORD).await;
    for n in 0..2 {
        let body = json!({ "message": format!("Bob's message {n}") });
        let answered = app.client.post(app.url("/api/chat")).bearer_auth(&bob_token).json(&body).send().await.unwrap();
        assert_eq!(answered.status(), StatusCode::OK, "Bob's own key is not held to the server's budget");
    }

    // Ada's first message fits; it costs more than the budget, so the next one is refused.
    let reply = ada.chat("Hello", None).await;
    let refused = ada.post_chat("Hello again", reply["session_id"].as_str()).await;
    assert_eq!(refused.status(), StatusCode::PAYMENT_REQUIRED);
    let message = refused.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(message.contains("your administrator set") && message.contains("Settings → LLM provider"), "{message}");
    assert_eq!(fake.requests().len(), 3, "no model call once the budget is reached");
}

on_both_databases!(
    dialect:
    a_write_waits_for_approval_then_its_result_goes_back_to_the_model,
    a_denied_write_is_not_made_and_the_model_is_told,
    allowing_for_the_conversation_lets_later_calls_of_that_tool_run_without_asking,
    the_read_only_policy_offers_no_writing_tools_and_refuses_a_write,
    a_model_that_keeps_calling_tools_stops_at_the_step_limit,
    parallel_calls_all_run_and_all_results_go_back_together,
    history_and_the_selected_base_reach_the_model_on_the_second_turn,
    tokens_and_cost_are_counted_per_message_and_a_reached_budget_stops_the_next_turn,
    the_budget_on_the_servers_key_stops_its_users_but_not_those_with_their_own_key,
    a_rejected_key_fails_the_turn_with_a_message_naming_the_provider_and_the_fix,
    stopping_a_turn_keeps_the_text_that_arrived_and_marks_it,
);

#[tokio::test]
async fn a_step_runs_at_most_32_tool_calls_and_the_model_is_told_why_the_rest_did_not_run() {
    let fake = FakeOpenAi::start(vec![]).await;
    let ada = Chatter::new(app_with_model(Dialect::Sqlite, &fake, |_| {}).await).await;
    let mut calls = FakeReply::call("no_such_tool", json!({ "n": 0 }));
    for n in 1..40 {
        calls = calls.and_call("no_such_tool", json!({ "n": n }));
    }
    fake.push(calls);
    fake.push(FakeReply::text("Done."));
    let reply = ada.chat("Go", None).await;
    let conversation = ada.idle(reply["session_id"].as_str().unwrap()).await;
    let calls: Vec<Value> = conversation["messages"].as_array().unwrap().iter().flat_map(|m| m["tool_calls"].as_array().unwrap().clone()).collect();
    assert_eq!(calls.len(), 40);
    let refused: Vec<&Value> = calls.iter().filter(|c| c["result"]["error"].as_str().is_some_and(|e| e.contains("at most 32"))).collect();
    assert_eq!(refused.len(), 8, "{calls:?}");
    assert!(refused.iter().all(|c| c["state"] == "failed"));
    let tool_messages = fake.requests()[1]["messages"].as_array().unwrap().iter().filter(|m| m["role"] == "tool").count();
    assert_eq!(tool_messages, 40, "every call the model made gets its result");
}

#[tokio::test]
async fn a_providers_error_body_never_reaches_the_chat() {
    let fake = FakeOpenAi::start(vec![FakeReply::error(404)]).await;
    let ada = Chatter::new(app_with_model(Dialect::Sqlite, &fake, |_| {}).await).await;
    let reply = ada.chat("Hello", None).await;
    assert_eq!(reply["status"], "failed");
    let error = reply["error"].as_str().unwrap();
    assert!(error.contains("refused the request (HTTP 404)"), "{error}");
    assert!(!error.contains("does not exist"), "the provider's own words stay in the log: {error}");
}

#[tokio::test]
async fn an_endpoint_saved_at_a_local_address_before_it_was_refused_is_not_called_by_the_chat() {
    let fake = FakeOpenAi::start(vec![FakeReply::text("You should not see this.")]).await;
    let ada = Chatter::new(spawn_app_with(Dialect::Sqlite, |s| s.llm_allowed_hosts = None).await).await;
    // As saved by an earlier version, which did not check the address.
    sqlx::query("INSERT INTO llm_settings (user_id, provider, model, base_url, saved_ms) VALUES ($1, 'openai_compatible', 'gpt-4o-mini', $2, 0)")
        .bind(ada.user.as_str())
        .bind(&fake.base_url)
        .execute(ada.app.services.db.pool())
        .await
        .unwrap();
    let reply = ada.chat("Hello", None).await;
    assert_eq!(reply["status"], "failed");
    let error = reply["error"].as_str().unwrap();
    assert!(error.contains("local or private network address") && error.contains("PYAIRTABLE_LLM_ALLOWED_HOSTS"), "{error}");
    assert_eq!(fake.request_count(), 0, "no request reached it");
}
