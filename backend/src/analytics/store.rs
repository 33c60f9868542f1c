//! Writing events: raw rows, the hourly rollups they add to, and conversation hours, in one
//! transaction per batch; and deleting raw events past their retention.

use std::collections::HashMap;

use super::event::{Event, EventKind};
use super::histogram::{self, BUCKETS};
use crate::db::{Db, DbError};

pub const HOUR_MS: i64 = 3_600_000;

/// The start of the hour `at_ms` falls in.
pub fn hour_of(at_ms: i64) -> i64 {
    at_ms.div_euclid(HOUR_MS) * HOUR_MS
}

/// Rows per multi-row statement: far under SQLite's 32,766 bound parameters.
const ROWS_PER_STATEMENT: usize = 200;

const EVENT_COLUMNS: [&str; 18] = [
    "at_ms", "kind", "user_id", "name", "source", "base_id", "conversation_id", "model", "ok", "outcome", "status", "latency_ms",
    "waited_ms", "rate_limited", "tokens", "cost_usd", "detail", "properties",
];

/// What a rollup row is keyed by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RollupKey {
    hour_ms: i64,
    user_id: String,
    kind: &'static str,
    name: String,
    source: String,
    base_id: String,
}

/// What a batch adds to one rollup row.
#[derive(Debug, Clone, Default, PartialEq)]
struct Rollup {
    n: i64,
    errors: i64,
    latency_ms: i64,
    tokens: i64,
    cost_usd: f64,
    waited_ms: i64,
    limited: i64,
    rate_limited: i64,
    histogram: [i64; BUCKETS],
}

/// The rollup rows that add up every user's events, so an admin's "all users" dashboard reads
/// as few rows as one user's does.
pub const EVERYONE: &str = "*";

/// Adds `events` up by hour, user, kind, name, source and base, and once more for everyone.
fn roll_up(events: &[Event]) -> HashMap<RollupKey, Rollup> {
    let mut rollups: HashMap<RollupKey, Rollup> = HashMap::new();
    for e in events {
        let key = RollupKey {
            hour_ms: hour_of(e.at_ms),
            user_id: e.user_id.clone().unwrap_or_default(),
            kind: e.kind.as_str(),
            name: e.name.clone(),
            source: e.source.clone(),
            base_id: e.base_id.clone(),
        };
        let everyone = RollupKey { user_id: EVERYONE.to_owned(), ..key.clone() };
        add(rollups.entry(key).or_default(), e);
        add(rollups.entry(everyone).or_default(), e);
    }
    rollups
}

fn add(r: &mut Rollup, e: &Event) {
        r.n += 1;
        r.errors += i64::from(!e.ok);
        r.latency_ms += e.latency_ms;
        r.tokens += e.tokens;
        r.cost_usd += e.cost_usd;
        r.waited_ms += e.waited_ms;
        r.limited += i64::from(e.waited_ms > 0 || e.rate_limited);
        r.rate_limited += i64::from(e.rate_limited);
        r.histogram[histogram::bucket(e.latency_ms)] += 1;
}

/// `($1, $2, …), (…)` for `rows` rows of `columns` parameters each.
fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", (1..=columns).map(|c| format!("${}", r * columns + c)).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes `events` and their rollups in one transaction: either all of it counts, or none.
///
/// # Errors
/// `Query` when the database refuses the batch.
pub async fn write(db: &Db, events: &[Event]) -> Result<(), DbError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut tx = db.pool().begin().await?;
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        // Only column names and numbered placeholders are formatted in; every value is bound.
        let sql = format!("INSERT INTO events ({}) VALUES {}", EVENT_COLUMNS.join(", "), placeholders(chunk.len(), EVENT_COLUMNS.len()));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in chunk {
            query = query
                .bind(e.at_ms)
                .bind(e.kind.as_str())
                .bind(e.user_id.clone())
                .bind(e.name.clone())
                .bind(e.source.clone())
                .bind(e.base_id.clone())
                .bind(e.conversation_id.clone())
                .bind(e.model.clone())
                .bind(i64::from(e.ok))
                .bind(e.outcome.clone())
                .bind(e.status)
                .bind(e.latency_ms)
                .bind(e.waited_ms)
                .bind(i64::from(e.rate_limited))
                .bind(e.tokens)
                .bind(e.cost_usd)
                .bind(e.detail.clone())
                .bind(e.properties.clone());
        }
        query.execute(&mut *tx).await?;
    }

    let rollups: Vec<(RollupKey, Rollup)> = roll_up(events).into_iter().collect();
    let hist: Vec<String> = histogram::columns().collect();
    let columns = 14 + BUCKETS;
    // Several servers write into the same rows: every value is added, never overwritten.
    let mut updates = vec![
        "n = event_rollups.n + excluded.n".to_owned(),
        "errors = event_rollups.errors + excluded.errors".to_owned(),
        "latency_ms = event_rollups.latency_ms + excluded.latency_ms".to_owned(),
        "tokens = event_rollups.tokens + excluded.tokens".to_owned(),
        "cost_usd = event_rollups.cost_usd + excluded.cost_usd".to_owned(),
        "waited_ms = event_rollups.waited_ms + excluded.waited_ms".to_owned(),
        "limited = event_rollups.limited + excluded.limited".to_owned(),
        "rate_limited = event_rollups.rate_limited + excluded.rate_limited".to_owned(),
    ];
    updates.extend(hist.iter().map(|h| format!("{h} = event_rollups.{h} + excluded.{h}")));
    for chunk in rollups.chunks(ROWS_PER_STATEMENT / 2) {
        let sql = format!(
            "INSERT INTO event_rollups (hour_ms, user_id, kind, name, source, base_id, n, errors, latency_ms, tokens, cost_usd, \
             waited_ms, limited, rate_limited, {}) VALUES {} \
             ON CONFLICT (hour_ms, user_id, kind, name, source, base_id) DO UPDATE SET {}",
            hist.join(", "),
            placeholders(chunk.len(), columns),
            updates.join(", ")
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (k, r) in chunk {
            query = query
                .bind(k.hour_ms)
                .bind(k.user_id.clone())
                .bind(k.kind)
                .bind(k.name.clone())
                .bind(k.source.clone())
                .bind(k.base_id.clone())
                .bind(r.n)
                .bind(r.errors)
                .bind(r.latency_ms)
                .bind(r.tokens)
                .bind(r.cost_usd)
                .bind(r.waited_ms)
                .bind(r.limited)
                .bind(r.rate_limited);
            for &count in &r.histogram {
                query = query.bind(count);
            }
        }
        query.execute(&mut *tx).await?;
    }

    let mut conversations: Vec<(i64, String, String)> = events
        .iter()
        .filter(|e| e.kind == EventKind::ChatTurn)
        .filter_map(|e| Some((hour_of(e.at_ms), e.user_id.clone().unwrap_or_default(), e.conversation_id.clone()?)))
        .collect();
    conversations.sort();
    conversations.dedup();
    for chunk in conversations.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO conversation_hours (hour_ms, user_id, conversation_id) VALUES {} ON CONFLICT DO NOTHING",
            placeholders(chunk.len(), 3)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (hour, user, conversation) in chunk {
            query = query.bind(*hour).bind(user.clone()).bind(conversation.clone());
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes raw events older than `before_ms`; rollups stay. Returns how many went.
///
/// # Errors
/// `Query` when the database fails.
pub async fn delete_before(db: &Db, before_ms: i64) -> Result<u64, DbError> {
    let done = sqlx::query("DELETE FROM events WHERE at_ms < $1").bind(before_ms).execute(db.pool()).await?;
    Ok(done.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_start_on_the_hour_even_before_1970() {
        assert_eq!(hour_of(HOUR_MS * 5 + 1), HOUR_MS * 5);
        assert_eq!(hour_of(HOUR_MS * 5), HOUR_MS * 5);
        assert_eq!(hour_of(-1), -HOUR_MS);
    }

    #[test]
    fn events_of_one_hour_tool_and_user_add_into_one_rollup() {
        let at = HOUR_MS * 10;
        let call = |ms: i64, ok: bool| {
            let e = Event { at_ms: at + ms, latency_ms: ms, ..Event::new(EventKind::ToolCall, "list_tables").by(Some("u1")) };
            if ok { e } else { e.failed("no such table") }
        };
        let other_hour = Event { at_ms: at + HOUR_MS, ..call(1, true) };
        let rollups = roll_up(&[call(3, true), call(40, false), call(400, true), other_hour]);
        assert_eq!(rollups.len(), 4, "two hours, each for the user and for everyone");
        let key = RollupKey { hour_ms: at, user_id: "u1".into(), kind: "tool_call", name: "list_tables".into(), source: String::new(), base_id: String::new() };
        let r = &rollups[&key];
        assert_eq!((r.n, r.errors, r.latency_ms), (3, 1, 443));
        assert_eq!(r.histogram.iter().sum::<i64>(), 3);
        assert_eq!(rollups[&RollupKey { user_id: EVERYONE.into(), ..key }], *r);
    }

    #[test]
    fn placeholders_number_every_row() {
        assert_eq!(placeholders(2, 2), "($1, $2), ($3, $4)");
    }
}
