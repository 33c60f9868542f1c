//! `make bench`: the Airtable client against the sandbox, with Airtable's limits on.
//!
//! - Bulk create: 1,000 records into one base through the client. The ceiling is 5 requests/s
//!   × 10 records = 50 records/s; the figure is the share of it reached, and the 429s met.
//! - Saga overhead: the same 1,000 records as one saga (ten steps of 100, each chunk logged
//!   before and after it lands, driven by a background job), as a ratio to the plain create.
//! - Formula scan: `filterByFormula` over 10,000 sandbox records, median of several listings.
//!
//! Prints figures; asserts nothing about time.

use std::time::{Duration, Instant};

use backend::airtable::{ListQuery, formula};
use backend::model::airtable::{Fields, NewTable};
use backend::model::sagas::SagaSource;
use backend::sagas::{Call, NewSaga};
use backend::sandbox::WriteRequest;
use serde_json::json;
use support::{median, ms};

const BULK_RECORDS: usize = 1_000;
const SCAN_RECORDS: usize = 10_000;
const SCAN_RUNS: usize = 15;

mod support;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `bench` keeps the data folder until the end.
    let bench = support::start().await?;
    let (services, user) = (bench.services.clone(), bench.user.clone());
    let client = services.connections.for_user(&user.id).await?.client;
    let table: NewTable = serde_json::from_value(json!({ "name": "Items", "fields": [
        { "name": "Name", "type": "singleLineText" },
        { "name": "Count", "type": "number", "options": { "precision": 0 } },
        { "name": "Status", "type": "singleSelect", "options": { "choices": [{ "name": "Open" }, { "name": "Done" }] } },
    ]}))?;

    // Bulk create, through the client and the sandbox's HTTP API, limits on.
    let base = client.create_base("Bulk", "wspBENCH", std::slice::from_ref(&table)).await?;
    let records: Vec<Fields> = (0..BULK_RECORDS).map(|i| item(i)).collect();
    let started = Instant::now();
    client.create_records(&base, "Items", &records, false).await?;
    let elapsed = started.elapsed();
    let rate = BULK_RECORDS as f64 / elapsed.as_secs_f64();
    let limited: u64 = services.airtable.limiter().snapshot().iter().map(|s| s.rate_limited).sum();
    println!(
        "bulk create: {BULK_RECORDS} records in {:.1} s = {rate:.1} records/s, {:.1}% of the 50 records/s ceiling, {limited} responses with 429",
        elapsed.as_secs_f64(),
        rate / 50.0 * 100.0
    );

    // The same create as a saga, started as the REST API starts one, timed until it settles.
    let saga_base = client.create_base("Saga", "wspBENCH", std::slice::from_ref(&table)).await?;
    let steps: Vec<Call> = records
        .chunks(100)
        .map(|chunk| Call { tool: "create_records".into(), arguments: json!({ "base_id": saga_base.as_str(), "table": "Items", "records": chunk }) })
        .collect();
    let limited_before: u64 = services.airtable.limiter().snapshot().iter().map(|s| s.rate_limited).sum();
    let started = Instant::now();
    let saga = NewSaga { user: &user.id, source: SagaSource::Rest, title: "Bench", base_id: saga_base.as_str(), conversation_id: None, calls: &steps };
    let id = services.sagas.start(saga).await?;
    let status = loop {
        let summary = services.sagas.get(&user.id, &id).await?.summary;
        if summary.status.is_settled() {
            break summary.status;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let saga_elapsed = started.elapsed();
    let limited_saga = services.airtable.limiter().snapshot().iter().map(|s| s.rate_limited).sum::<u64>() - limited_before;
    println!(
        "saga overhead: the same {BULK_RECORDS} records as one saga ({status:?}) in {:.1} s = {:.2}× the plain create, {limited_saga} responses with 429",
        saga_elapsed.as_secs_f64(),
        saga_elapsed.as_secs_f64() / elapsed.as_secs_f64()
    );

    // Formula scan: 10,000 records loaded straight through the sandbox, then listed over HTTP.
    let scan_base = client.create_base("Scan", "wspBENCH", std::slice::from_ref(&table)).await?;
    let write = services.sandbox.settings().records_per_write;
    for chunk in (0..SCAN_RECORDS).collect::<Vec<_>>().chunks(write) {
        let request = WriteRequest { records: chunk.iter().map(|&i| (None, item(i))).collect(), ..WriteRequest::default() };
        services.sandbox.create_records(&user.id, scan_base.as_str(), "Items", &request).await?;
    }
    let query = ListQuery {
        filter_by_formula: Some(formula::and(&[
            formula::contains_text("Name", "item 99"),
            "{Count} >= 5".to_owned(),
        ])),
        ..ListQuery::default()
    };
    // Timed over HTTP without the client's limiter, which would add its spacing to every run;
    // the pause between runs keeps the sandbox's own limit from answering 429.
    let url = client.listing_url(&scan_base, "Items", &query)?;
    let token = services.sandbox.provision(&user.id).await?;
    let http = reqwest::Client::new();
    let mut over_http = Vec::with_capacity(SCAN_RUNS);
    let mut in_process = Vec::with_capacity(SCAN_RUNS);
    let mut matched = 0;
    for _ in 0..SCAN_RUNS {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let started = Instant::now();
        let response = http.get(url.clone()).bearer_auth(secrecy::ExposeSecret::expose_secret(&token)).send().await?.error_for_status()?;
        let page: serde_json::Value = response.json().await?;
        over_http.push(started.elapsed());
        matched = page["records"].as_array().map_or(0, Vec::len);

        let started = Instant::now();
        services.sandbox.list_records(&user.id, scan_base.as_str(), "Items", &query).await?;
        in_process.push(started.elapsed());
    }
    println!(
        "formula scan: {SCAN_RECORDS} records, {matched} matched; median {:.1} ms over HTTP, {:.1} ms in the sandbox itself ({SCAN_RUNS} runs each)",
        ms(median(&mut over_http)),
        ms(median(&mut in_process)),
    );
    Ok(())
}

fn item(i: usize) -> Fields {
    json!({ "Name": format!("Item {i}"), "Count": i % 10, "Status": if i % 3 == 0 { "Done" } else { "Open" } })
        .as_object()
        .cloned()
        .unwrap_or_default()
}
