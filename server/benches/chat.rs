//! `make bench`: the server's own time per chat turn. The model is a local OpenAI-compatible
//! server that answers at once, so what is left is this process's work: authentication, the
//! budget check, storing messages, building the prompt (with the base's schema), streaming,
//! running the tool against the sandbox, and the answer.
//!
//! Prints figures; asserts nothing about time.

use std::time::{Duration, Instant};

use backend::model::auth::Scope;
use serde_json::{Value, json};
use support::{median, ms, percentile};

#[path = "../tests/api/fake_openai.rs"]
mod fake_openai;
mod support;

use fake_openai::{FakeOpenAi, FakeReply};

const RUNS: usize = 100;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // A text answer to "hello"; for "list bases", a call of list_bases, then a text answer.
    let model = FakeOpenAi::answering(|request: &Value| {
        let messages = request["messages"].as_array().cloned().unwrap_or_default();
        let last = messages.last().cloned().unwrap_or_default();
        if last["role"] == "user" && last["content"].as_str().is_some_and(|t| t.contains("list bases")) {
            FakeReply::call("list_bases", json!({}))
        } else {
            FakeReply::text("Here is what I found.")
        }
    })
    .await;
    let base_url = model.base_url.clone();
    let bench = support::start_with(|s| {
        s.llm_provider = Some("openai_compatible".into());
        s.llm_base_url = Some(base_url);
        s.llm_api_key = Some("sk-bench".into());
    })
    .await?;
    let key = bench.services.auth.api_keys.create(&bench.user.id, "bench", Scope::Write).await?.key;
    let base = bench.services.connections.for_user(&bench.user.id).await?.client.list_bases().await?[0].id.as_str().to_owned();
    let http = reqwest::Client::new();
    let url = format!("http://{}/api/chat", bench.address);

    let turn = |message: &'static str| {
        let (http, url, key, base) = (http.clone(), url.clone(), key.clone(), base.clone());
        async move {
            let started = Instant::now();
            let reply: Value = http.post(&url).bearer_auth(&key).json(&json!({ "message": message, "base_id": base })).send().await?.error_for_status()?.json().await?;
            anyhow::ensure!(reply["status"] == "complete", "the turn did not complete: {reply}");
            Ok::<_, anyhow::Error>(started.elapsed())
        }
    };
    // The model alone, asked directly, for the part of a turn that is not ours.
    let model_alone = || {
        let http = http.clone();
        let url = format!("{}/chat/completions", model.base_url);
        async move {
            let started = Instant::now();
            let body = json!({ "model": "gpt-4o-mini", "stream": true, "messages": [{ "role": "user", "content": "hello" }] });
            http.post(&url).json(&body).send().await?.error_for_status()?.bytes().await?;
            Ok::<_, anyhow::Error>(started.elapsed())
        }
    };

    for _ in 0..5 {
        turn("hello").await?;
    }
    let (mut text_turns, mut tool_turns, mut model_calls) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        text_turns.push(turn("hello").await?);
        model_calls.push(model_alone().await?);
        // The client's limiter spaces a base's requests 206 ms apart; waiting keeps it out.
        tokio::time::sleep(Duration::from_millis(250)).await;
        tool_turns.push(turn("list bases").await?);
    }
    let model_ms = ms(median(&mut model_calls));
    let report = |name: &str, times: &mut Vec<Duration>, model_calls: f64| {
        let (p50, p99) = (ms(percentile(times, 50)), ms(percentile(times, 99)));
        println!(
            "chat turn, {name}: p50 {p50:.1} ms, p99 {p99:.1} ms; the model alone {:.1} ms, so the server's own work p50 {:.1} ms ({RUNS} turns)",
            model_ms * model_calls,
            p50 - model_ms * model_calls,
        );
    };
    report("text answer (1 model call)", &mut text_turns, 1.0);
    report("one tool call (2 model calls, list_bases on the sandbox)", &mut tool_turns, 2.0);
    Ok(())
}
