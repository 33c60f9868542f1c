//! A record trigger's polling: the records of a table created (or changed) since the trigger
//! last looked, found with `CREATED_TIME()` or `LAST_MODIFIED_TIME()` through the client's
//! shared rate limiter.
//!
//! The cursor is the time of the last look. Each look reaches back a minute before it, so
//! that a write Airtable had not finished showing, or a clock a little off, is not missed; what
//! is seen twice is told apart by the run's key (the record, and for changes a digest of its
//! fields), which the database keeps unique per workflow.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::airtable::{AirtableError, Client, ListQuery};
use crate::clock::iso;
use crate::model::airtable::{BaseId, Record};
use crate::model::workflows::RecordEvent;

/// How far before the cursor each look reaches.
const OVERLAP_MS: i64 = 60_000;
/// The most records one look reads (100 a page).
const MAX_PAGES: usize = 20;

/// What the trigger keeps between looks.
#[derive(Debug, Serialize, Deserialize)]
struct Cursor {
    since_ms: i64,
}

/// One record event, and the key that makes its run unique.
pub(crate) struct Event {
    pub key: String,
    /// `created` or `changed`.
    pub kind: &'static str,
    pub record: Value,
}

/// The events found, and the cursor to keep.
pub(crate) struct Found {
    pub events: Vec<Event>,
    pub cursor: String,
}

/// The records created (or changed) in `table` since `cursor`. No look reaches back before
/// `saved_ms` (when the workflow was saved or turned on), so records older than the workflow
/// don't start runs.
///
/// # Errors
/// What Airtable answered, or a base ID that is not one.
pub(crate) async fn changed_since(client: &Client, base_id: &str, table: &str, on: RecordEvent, cursor: Option<&str>, saved_ms: i64, now_ms: i64) -> Result<Found, AirtableError> {
    let next = serde_json::to_string(&Cursor { since_ms: now_ms }).unwrap_or_default();
    let window_start = match cursor.and_then(|c| serde_json::from_str::<Cursor>(c).ok()) {
        Some(cursor) => (cursor.since_ms - OVERLAP_MS).max(saved_ms),
        None => saved_ms,
    };
    let base = BaseId::parse(base_id).map_err(|e| AirtableError::InvalidRequest(e.to_string()))?;
    let from = iso(window_start);
    let time = match on {
        RecordEvent::Created => "CREATED_TIME()",
        RecordEvent::Changed => "LAST_MODIFIED_TIME()",
    };
    let mut query = ListQuery { filter_by_formula: Some(format!("IS_AFTER({time}, '{from}')")), page_size: Some(100), ..ListQuery::default() };
    let mut events = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = client.list_records(&base, table, &query).await?;
        events.extend(page.records.iter().map(|record| event(record, on, window_start)));
        match page.offset {
            Some(offset) => query.offset = Some(offset),
            None => break,
        }
    }
    Ok(Found { events, cursor: next })
}

fn event(record: &Record, on: RecordEvent, window_start_ms: i64) -> Event {
    let created_ms = chrono::DateTime::parse_from_rfc3339(&record.created_time).map_or(0, |t| t.timestamp_millis());
    let kind = if created_ms >= window_start_ms { "created" } else { "changed" };
    let key = match on {
        RecordEvent::Created => format!("record:{}", record.id.as_str()),
        RecordEvent::Changed => {
            let digest = Sha256::digest(serde_json::to_vec(&record.fields).unwrap_or_default());
            format!("record:{}:{}", record.id.as_str(), hex::encode(&digest[..12]))
        }
    };
    Event { key, kind, record: json!({"id": record.id.as_str(), "createdTime": record.created_time, "fields": record.fields}) }
}
