//! `make bench`: MCP `tools/call` over Streamable HTTP, `list_records` of 100 records from the
//! sandbox, against the same listing asked of the sandbox directly. The difference is what
//! this process adds per call: authentication, MCP framing, argument checks, table lookup and
//! the size budget.
//!
//! Prints figures; asserts nothing about time.

use std::time::{Duration, Instant};

use backend::model::auth::Scope;
use backend::model::airtable::Fields;
use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::json;
use support::{median, ms};

const RUNS: usize = 40;
const RECORDS: usize = 100;

mod support;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // `bench` keeps the data folder until the end.
    let bench = support::start().await?;
    let (services, user) = (bench.services.clone(), bench.user.clone());
    let address = bench.address;
    let key = services.auth.api_keys.create(&user.id, "bench", Scope::Read).await?.key;
    let client = services.connections.for_user(&user.id).await?.client;
    let base = client.list_bases().await?[0].id.clone();
    // The demo's Customers table grows to 100 records.
    let existing = client.list_all(&base, "Customers", &backend::airtable::ListQuery::default()).await?.len();
    let more: Vec<Fields> = (existing..RECORDS).map(|i| json!({ "Company": format!("Bench {i}") }).as_object().cloned().unwrap_or_default()).collect();
    client.create_records(&base, "Customers", &more, false).await?;

    let config = StreamableHttpClientTransportConfig::with_uri(format!("http://{address}/mcp")).auth_header(key);
    let mcp = ().serve(StreamableHttpClientTransport::with_client(reqwest::Client::new(), config)).await?;
    let arguments = json!({ "base_id": base, "table": "Customers", "page_size": RECORDS, "fields": ["Company", "Segment", "ARR"] }).as_object().cloned().unwrap_or_default();
    let token = services.sandbox.provision(&user.id).await?;
    let direct_url = format!("http://{address}/sandbox/v0/{base}/Customers?pageSize={RECORDS}&fields%5B%5D=Company&fields%5B%5D=Segment&fields%5B%5D=ARR");
    let http = reqwest::Client::new();

    let mut over_mcp = Vec::with_capacity(RUNS);
    let mut direct = Vec::with_capacity(RUNS);
    let mut returned = 0;
    let mut bytes = 0;
    for _ in 0..RUNS {
        // A pause between calls, so neither the client's limiter nor the sandbox's adds a wait.
        tokio::time::sleep(Duration::from_millis(250)).await;
        let started = Instant::now();
        let result = mcp.call_tool(CallToolRequestParams::new("list_records").with_arguments(arguments.clone())).await?;
        over_mcp.push(started.elapsed());
        let text: String = result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect();
        bytes = text.len();
        returned = serde_json::from_str::<serde_json::Value>(&text)?["count"].as_u64().unwrap_or(0);

        tokio::time::sleep(Duration::from_millis(250)).await;
        let started = Instant::now();
        http.get(&direct_url).bearer_auth(secrecy::ExposeSecret::expose_secret(&token)).send().await?.error_for_status()?.bytes().await?;
        direct.push(started.elapsed());
    }
    mcp.cancel().await?;
    let (mcp_ms, direct_ms) = (ms(median(&mut over_mcp)), ms(median(&mut direct)));
    println!(
        "mcp tools/call list_records: {returned} records ({} KB), median {mcp_ms:.1} ms; the same listing from the sandbox directly {direct_ms:.1} ms; overhead per call {:.1} ms ({RUNS} runs each)",
        bytes / 1024,
        mcp_ms - direct_ms,
    );
    Ok(())
}
