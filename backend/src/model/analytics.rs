//! Analytics as the dashboard, the status page and the API see them.

use serde::{Deserialize, Serialize};

use super::health::HealthReport;
use super::jobs::QueueStats;

/// Where an event came from, for tool calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolSource {
    Chat,
    Mcp,
    Rest,
    Workflow,
}

/// What the dashboard asks for: a time range, and (admins only) everyone's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DashboardQuery {
    pub from_ms: i64,
    pub to_ms: i64,
    pub all_users: bool,
}

/// The KPI tiles.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Kpis {
    pub active_users: u64,
    pub conversations: u64,
    /// Chat turns: messages the users sent.
    pub messages: u64,
    pub tool_calls: u64,
    pub tokens: u64,
    pub cost_usd: f64,
    /// Failed chat turns, tool calls and Airtable requests over all of them, from 0 to 1.
    pub error_rate: f64,
    /// Of chat turns, tool calls and Airtable requests together, in milliseconds.
    pub p95_latency_ms: f64,
}

/// One bucket of the time series.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// The bucket's start, unix milliseconds.
    pub at_ms: i64,
    pub messages: u64,
    pub tool_calls: u64,
    pub cost_usd: f64,
    pub airtable_requests: u64,
    /// Airtable requests that waited on the rate limiter (or met a 429).
    pub rate_limit_waits: u64,
}

/// A row of a top-N list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopItem {
    pub name: String,
    pub count: u64,
    pub errors: u64,
    pub avg_latency_ms: f64,
}

/// A recent failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentError {
    pub at_ms: i64,
    /// The event kind: `chat_turn`, `tool_call`, `airtable_request`, `login`…
    pub kind: String,
    /// What failed: the tool, the Airtable operation, the provider.
    pub name: String,
    pub detail: String,
}

/// Everything the dashboard shows for a query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub query: DashboardQuery,
    /// The width of each series bucket: an hour, or a day for long ranges.
    pub bucket_ms: i64,
    pub kpis: Kpis,
    pub series: Vec<SeriesPoint>,
    pub top_tools: Vec<TopItem>,
    pub top_bases: Vec<TopItem>,
    pub recent_errors: Vec<RecentError>,
}

/// The Airtable limiter's state for one base.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LimiterBase {
    pub base_id: String,
    pub requests: u64,
    pub waited_ms: u64,
    pub rate_limited: u64,
    pub penalty_left_ms: Option<u64>,
}

/// The status page, for admins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusReport {
    pub health: HealthReport,
    pub database: String,
    pub database_bytes: Option<u64>,
    /// Events waiting to be written.
    pub event_queue_depth: u64,
    /// Events dropped because the queue was full.
    pub events_dropped: u64,
    pub limiter: Vec<LimiterBase>,
    /// The background job queue; `None` when it could not be read (the `jobs` check says why).
    pub jobs: Option<QueueStats>,
}
