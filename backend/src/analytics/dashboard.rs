//! The dashboard's numbers, read from hourly rollups (and the newest failures from raw events),
//! for one user or for everyone.

use std::collections::BTreeMap;

use sqlx::Row;

use super::event::{EventKind, NEW_MESSAGE_TURN};
use super::histogram::{self, BUCKETS};
use super::store::{EVERYONE, HOUR_MS, hour_of};
use crate::db::{Db, DbError};
use crate::model::analytics::{Dashboard, DashboardQuery, Kpis, RecentError, SeriesPoint, TopItem};

pub const DAY_MS: i64 = 24 * HOUR_MS;
/// Ranges longer than this are shown by day.
const HOURLY_UP_TO_MS: i64 = 3 * DAY_MS;
/// The longest range one dashboard covers: a year and a bit, 400 daily points at most.
pub const MAX_RANGE_MS: i64 = 400 * DAY_MS;
const TOP: i64 = 10;
const RECENT_ERRORS: i64 = 20;

/// The series' bucket width for a range: an hour, or a day past three days.
pub fn bucket_ms(from_ms: i64, to_ms: i64) -> i64 {
    if to_ms - from_ms > HOURLY_UP_TO_MS { DAY_MS } else { HOUR_MS }
}

/// Every bucket start from the one holding `from_ms` to the one holding the last moment before `to_ms`.
pub fn bucket_starts(from_ms: i64, to_ms: i64, bucket_ms: i64) -> Vec<i64> {
    let first = from_ms.div_euclid(bucket_ms) * bucket_ms;
    (0..).map(|i| first + i * bucket_ms).take_while(|&start| start < to_ms).collect()
}

/// Whose data a query reads: `None` is everyone's.
pub struct Scope<'a> {
    pub user_id: Option<&'a str>,
}

impl Scope<'_> {
    /// `AND user_id = $n` for one user, nothing for everyone; constant text either way.
    fn filter(&self, n: usize) -> String {
        if self.user_id.is_some() { format!(" AND user_id = ${n}") } else { String::new() }
    }

    fn bind<'q>(&self, query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        match self.user_id {
            Some(user) => query.bind(user.to_owned()),
            None => query,
        }
    }

    /// The rollup rows to read: the user's own, or the rows kept for everyone.
    fn rollup_user(&self) -> String {
        self.user_id.unwrap_or(EVERYONE).to_owned()
    }
}

/// Sums of a bigint column that both dialects decode as `i64`.
fn sum(expr: &str) -> String {
    format!("CAST(COALESCE(SUM({expr}), 0) AS BIGINT)")
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// Builds the dashboard for `query`, already checked, over the `scope` it may see.
///
/// # Errors
/// `Query` when the database fails.
pub async fn build(db: &Db, query: &DashboardQuery, scope: &Scope<'_>) -> Result<Dashboard, DbError> {
    let (from, to) = (hour_of(query.from_ms), query.to_ms);
    let bucket = bucket_ms(query.from_ms, query.to_ms);
    Ok(Dashboard {
        query: query.clone(),
        bucket_ms: bucket,
        kpis: kpis(db, from, to, scope).await?,
        series: series(db, from, to, bucket, query.from_ms, scope).await?,
        top_tools: top(db, from, to, EventKind::ToolCall, "name", scope).await?,
        top_bases: top(db, from, to, EventKind::AirtableRequest, "base_id", scope).await?,
        recent_errors: recent_errors(db, query.from_ms, query.to_ms, scope).await?,
    })
}

async fn kpis(db: &Db, from: i64, to: i64, scope: &Scope<'_>) -> Result<Kpis, DbError> {
    let hist: Vec<String> = histogram::columns().map(|h| sum(&h)).collect();
    let sql = format!(
        "SELECT kind, source, {}, {}, {}, CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION), {} \
         FROM event_rollups WHERE hour_ms >= $1 AND hour_ms < $2 AND user_id = $3 GROUP BY kind, source",
        sum("n"),
        sum("errors"),
        sum("tokens"),
        hist.join(", "),
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).bind(scope.rollup_user()).fetch_all(db.pool()).await?;
    let mut kpis = Kpis::default();
    let (mut measured, mut failed) = (0i64, 0i64);
    let mut latencies = [0i64; BUCKETS];
    for row in rows {
        let kind: String = row.try_get(0)?;
        let source: String = row.try_get(1)?;
        let (n, errors, tokens): (i64, i64, i64) = (row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
        kpis.tokens += count(tokens);
        kpis.cost_usd += row.try_get::<f64, _>(5)?;
        let timed = [EventKind::ChatTurn, EventKind::ToolCall, EventKind::AirtableRequest].iter().any(|k| k.as_str() == kind);
        if kind == EventKind::ChatTurn.as_str() && source == NEW_MESSAGE_TURN {
            kpis.messages += count(n);
        }
        if kind == EventKind::ToolCall.as_str() {
            kpis.tool_calls += count(n);
        }
        if timed {
            measured += n;
            failed += errors;
            for (i, slot) in latencies.iter_mut().enumerate() {
                *slot += row.try_get::<i64, _>(6 + i)?;
            }
        }
    }
    kpis.error_rate = if measured > 0 { failed as f64 / measured as f64 } else { 0.0 };
    kpis.p95_latency_ms = histogram::percentile(&latencies, 95.0);

    let sql = format!(
        "SELECT COUNT(DISTINCT user_id) FROM event_rollups WHERE hour_ms >= $1 AND hour_ms < $2 AND user_id <> '' AND user_id <> '{EVERYONE}'{}",
        scope.filter(3)
    );
    let users: i64 = scope.bind(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to)).fetch_one(db.pool()).await?.try_get(0)?;
    kpis.active_users = count(users);
    let sql = format!("SELECT COUNT(DISTINCT conversation_id) FROM conversation_hours WHERE hour_ms >= $1 AND hour_ms < $2{}", scope.filter(3));
    let conversations: i64 = scope.bind(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to)).fetch_one(db.pool()).await?.try_get(0)?;
    kpis.conversations = count(conversations);
    Ok(kpis)
}

async fn series(db: &Db, from: i64, to: i64, bucket: i64, from_ms: i64, scope: &Scope<'_>) -> Result<Vec<SeriesPoint>, DbError> {
    let sql = format!(
        "SELECT (hour_ms / $3) * $3 AS at, kind, source, {}, CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION), {} \
         FROM event_rollups WHERE hour_ms >= $1 AND hour_ms < $2 AND user_id = $4 GROUP BY 1, kind, source",
        sum("n"),
        sum("limited"),
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).bind(bucket).bind(scope.rollup_user()).fetch_all(db.pool()).await?;
    let mut points: BTreeMap<i64, SeriesPoint> =
        bucket_starts(from_ms, to, bucket).into_iter().map(|at_ms| (at_ms, SeriesPoint { at_ms, ..SeriesPoint::default() })).collect();
    for row in rows {
        let at: i64 = row.try_get(0)?;
        let kind: String = row.try_get(1)?;
        let source: String = row.try_get(2)?;
        let n = count(row.try_get(3)?);
        let point = points.entry(at).or_insert_with(|| SeriesPoint { at_ms: at, ..SeriesPoint::default() });
        point.cost_usd += row.try_get::<f64, _>(4)?;
        if kind == EventKind::ChatTurn.as_str() && source == NEW_MESSAGE_TURN {
            point.messages += n;
        } else if kind == EventKind::ToolCall.as_str() {
            point.tool_calls += n;
        } else if kind == EventKind::AirtableRequest.as_str() {
            point.airtable_requests += n;
            point.rate_limit_waits += count(row.try_get(5)?);
        }
    }
    Ok(points.into_values().collect())
}

/// The most used tools (`column` = `name`) or bases (`base_id`) of one event kind.
async fn top(db: &Db, from: i64, to: i64, kind: EventKind, column: &'static str, scope: &Scope<'_>) -> Result<Vec<TopItem>, DbError> {
    let sql = format!(
        "SELECT {column}, {n}, {}, {} FROM event_rollups \
         WHERE hour_ms >= $1 AND hour_ms < $2 AND kind = $3 AND {column} <> '' AND user_id = $4 \
         GROUP BY {column} ORDER BY {n} DESC, {column} LIMIT {TOP}",
        sum("errors"),
        sum("latency_ms"),
        n = sum("n"),
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from).bind(to).bind(kind.as_str()).bind(scope.rollup_user()).fetch_all(db.pool()).await?;
    rows.into_iter()
        .map(|row| {
            let n: i64 = row.try_get(1)?;
            let latency: i64 = row.try_get(3)?;
            Ok(TopItem {
                name: row.try_get(0)?,
                count: count(n),
                errors: count(row.try_get(2)?),
                avg_latency_ms: if n > 0 { latency as f64 / n as f64 } else { 0.0 },
            })
        })
        .collect()
}

async fn recent_errors(db: &Db, from_ms: i64, to_ms: i64, scope: &Scope<'_>) -> Result<Vec<RecentError>, DbError> {
    let sql = format!(
        "SELECT at_ms, kind, name, COALESCE(detail, '') FROM events WHERE ok = 0 AND at_ms >= $1 AND at_ms < $2{} \
         ORDER BY at_ms DESC, id DESC LIMIT {RECENT_ERRORS}",
        scope.filter(3)
    );
    let rows = scope.bind(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(from_ms).bind(to_ms)).fetch_all(db.pool()).await?;
    rows.into_iter()
        .map(|row| Ok(RecentError { at_ms: row.try_get(0)?, kind: row.try_get(1)?, name: row.try_get(2)?, detail: row.try_get(3)? }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_to_three_days_is_shown_by_hour_and_longer_by_day() {
        assert_eq!(bucket_ms(0, 3 * DAY_MS), HOUR_MS);
        assert_eq!(bucket_ms(0, 3 * DAY_MS + 1), DAY_MS);
    }

    #[test]
    fn buckets_cover_the_range_from_the_bucket_holding_its_start() {
        let starts = bucket_starts(HOUR_MS + 5, 3 * HOUR_MS + 1, HOUR_MS);
        assert_eq!(starts, [HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS]);
        assert_eq!(bucket_starts(0, 2 * HOUR_MS, HOUR_MS), [0, HOUR_MS]);
        assert_eq!(bucket_starts(DAY_MS / 2, 7 * DAY_MS + DAY_MS / 2, DAY_MS).len(), 8);
    }
}
