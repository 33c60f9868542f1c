//! One analytics event, as each layer records it.

use crate::clock::now_ms;
use crate::model::analytics::ToolSource;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Signup,
    Login,
    ChatTurn,
    ToolCall,
    AirtableRequest,
    /// A saga settling: done, compensated (after a failure, a cancel or an Undo) or needing
    /// attention; `source` says who started it.
    Saga,
    /// Sent by the browser through `POST /api/analytics/events`.
    Client,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Signup => "signup",
            Self::Login => "login",
            Self::ChatTurn => "chat_turn",
            Self::ToolCall => "tool_call",
            Self::AirtableRequest => "airtable_request",
            Self::Saga => "saga",
            Self::Client => "client",
        }
    }
}

/// `source` of a chat turn that answers a new message; a turn resumed after an approval has
/// [`RESUMED_TURN`], so that "messages" counts what users sent.
pub const NEW_MESSAGE_TURN: &str = "message";
pub const RESUMED_TURN: &str = "approval";

/// One event. Fields an event kind doesn't use stay at their defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: EventKind,
    pub at_ms: i64,
    pub user_id: Option<String>,
    /// The tool, the provider, the Airtable operation, the client event's name…
    pub name: String,
    /// Where a tool call came from, or whether a chat turn answered a new message.
    pub source: String,
    pub base_id: String,
    pub conversation_id: Option<String>,
    pub model: Option<String>,
    pub ok: bool,
    /// The outcome as the metrics label it: `ok`, `error`, `complete`, `failed`…
    pub outcome: String,
    /// The HTTP status of an Airtable request.
    pub status: Option<i64>,
    pub latency_ms: i64,
    pub waited_ms: i64,
    pub rate_limited: bool,
    pub tokens: i64,
    pub cost_usd: f64,
    /// What went wrong, for the dashboard's recent errors.
    pub detail: Option<String>,
    /// A client event's properties, as JSON.
    pub properties: Option<String>,
}

impl Event {
    /// A successful event of `kind` named `name`, now.
    pub fn new(kind: EventKind, name: impl Into<String>) -> Self {
        Self {
            kind,
            at_ms: now_ms(),
            user_id: None,
            name: name.into(),
            source: String::new(),
            base_id: String::new(),
            conversation_id: None,
            model: None,
            ok: true,
            outcome: "ok".into(),
            status: None,
            latency_ms: 0,
            waited_ms: 0,
            rate_limited: false,
            tokens: 0,
            cost_usd: 0.0,
            detail: None,
            properties: None,
        }
    }

    pub fn by(mut self, user_id: Option<&str>) -> Self {
        self.user_id = user_id.map(str::to_owned);
        self
    }

    /// Marks the event failed, with what went wrong (kept short).
    pub fn failed(mut self, detail: impl Into<String>) -> Self {
        self.ok = false;
        self.outcome = "error".into();
        self.detail = Some(truncate(detail.into(), 500));
        self
    }

    pub fn took(mut self, latency: std::time::Duration) -> Self {
        self.latency_ms = i64::try_from(latency.as_millis()).unwrap_or(i64::MAX);
        self
    }

    /// A tool call, successful unless `error` is given.
    pub fn tool_call(tool: &str, source: ToolSource, user_id: Option<&str>, latency: std::time::Duration, error: Option<String>) -> Self {
        let event = Self { source: tool_source(source).into(), ..Self::new(EventKind::ToolCall, tool) }.by(user_id).took(latency);
        match error {
            Some(error) => event.failed(error),
            None => event,
        }
    }
}

pub fn tool_source(source: ToolSource) -> &'static str {
    match source {
        ToolSource::Chat => "chat",
        ToolSource::Mcp => "mcp",
        ToolSource::Rest => "rest",
        ToolSource::Workflow => "workflow",
    }
}

/// At most `max` characters, cut on a character boundary.
pub(crate) fn truncate(mut text: String, max: usize) -> String {
    if let Some((i, _)) = text.char_indices().nth(max) {
        text.truncate(i);
    }
    text
}
