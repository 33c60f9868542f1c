//! `make bench`: workflows.
//!
//! - Trigger to first step: 200 webhook deliveries sent one after another over HTTP, each to a
//!   workflow whose one step is a condition; the time from sending to the step's start as the
//!   run's log records it (wall clock, milliseconds). Mostly the job queue's polling.
//! - Throughput: 500 runs of a trivial workflow (one condition step, up to 8 at once) queued
//!   together; runs finished per second.
//!
//! Prints figures; asserts nothing about time.

use std::time::{Duration, Instant};

use serde_json::json;

mod support;

const DELIVERIES: usize = 200;
const RUNS: usize = 500;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bench = support::start_with(|s| s.sandbox_requests_per_second = Some("0".into())).await?;
    latency(&bench).await?;
    throughput(&bench).await
}

async fn latency(bench: &support::Bench) -> anyhow::Result<()> {
    let workflows = &bench.services.workflows;
    let definition = json!({"name": "Hook", "trigger": {"kind": "webhook"}, "steps": [{"id": "ok", "kind": "condition", "if": "true"}]});
    let saved = workflows.save(&bench.user.id, None, &definition).await?;
    let secret = saved.webhook_secret.clone().ok_or_else(|| anyhow::anyhow!("a webhook has a secret"))?;
    let client = reqwest::Client::new();
    let url = format!("http://{}/hooks/{}", bench.address, saved.id);
    let mut times = Vec::with_capacity(DELIVERIES);
    for n in 0..DELIVERIES {
        let sent_ms = backend::clock::now_ms();
        let answer: serde_json::Value = client.post(&url).bearer_auth(&secret).header("x-delivery-id", format!("d{n}")).body("{}").send().await?.json().await?;
        let run_id = answer["run_id"].as_str().ok_or_else(|| anyhow::anyhow!("no run: {answer}"))?.to_owned();
        let deadline = Instant::now() + Duration::from_secs(30);
        let started_ms = loop {
            let view = workflows.run_view(&bench.user.id, &run_id).await?;
            if let Some(step) = view.steps.first() {
                break step.started_ms;
            }
            anyhow::ensure!(Instant::now() < deadline, "the run never started");
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        times.push(Duration::from_millis(u64::try_from(started_ms - sent_ms).unwrap_or(0)));
    }
    println!(
        "webhook to first step: {DELIVERIES} deliveries, p50 {:.0} ms, p99 {:.0} ms",
        support::ms(support::median(&mut times)),
        support::ms(support::percentile(&mut times, 99))
    );
    Ok(())
}

async fn throughput(bench: &support::Bench) -> anyhow::Result<()> {
    let workflows = &bench.services.workflows;
    let definition = json!({"name": "Trivial", "concurrency": 8, "trigger": {"kind": "manual"}, "steps": [{"id": "ok", "kind": "condition", "if": "true"}]});
    let saved = workflows.save(&bench.user.id, None, &definition).await?;
    let started = Instant::now();
    for _ in 0..RUNS {
        workflows.run(&bench.user.id, &saved.id, json!({}), false).await?;
    }
    let queued = started.elapsed();
    loop {
        let (done,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM workflow_runs WHERE workflow_id = $1 AND status = 'succeeded'")
            .bind(&saved.id)
            .fetch_one(bench.services.db.pool())
            .await?;
        if done as usize >= RUNS {
            break;
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(600), "only {done} runs finished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let elapsed = started.elapsed();
    println!(
        "trivial workflow: {RUNS} runs queued in {:.1} s, all finished in {:.1} s = {:.1} runs/s (up to 8 at once)",
        queued.as_secs_f64(),
        elapsed.as_secs_f64(),
        RUNS as f64 / elapsed.as_secs_f64()
    );
    Ok(())
}
