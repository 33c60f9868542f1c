//! Reading the table to learn what a write in doubt did: the current state of named records,
//! and the records an ambiguous create (or re-creation) left.

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

use crate::airtable::{AirtableError, Client, ListQuery, formula};
use crate::model::airtable::{BaseId, Fields, Record};

/// A record's creation time may come from a clock this far behind ours.
const CLOCK_SKEW_MS: i64 = 60_000;
/// Record IDs per listing, so the formula stays a modest size.
const IDS_PER_LISTING: usize = 100;

/// The records among `ids` that exist now, by ID.
pub(super) async fn current(client: &Client, base: &BaseId, table_id: &str, ids: &[String]) -> Result<BTreeMap<String, Record>, AirtableError> {
    let mut found = BTreeMap::new();
    for chunk in ids.chunks(IDS_PER_LISTING) {
        let query = ListQuery { filter_by_formula: Some(formula::record_id_in(chunk)), ..ListQuery::default() };
        for record in client.list_all(base, table_id, &query).await? {
            found.insert(record.id.as_str().to_owned(), record);
        }
    }
    Ok(found)
}

/// The records a create of `sent` (started at `since_ms`) made, if it was applied: one
/// unclaimed, recently created record matching each sent record. `None` when not all are
/// found, which for a request Airtable applies whole means it was not applied.
pub(super) async fn created(
    client: &Client,
    base: &BaseId,
    table_id: &str,
    sent: &[Fields],
    since_ms: i64,
    claimed: &HashSet<String>,
) -> Result<Option<Vec<Record>>, AirtableError> {
    let all = client.list_all(base, table_id, &ListQuery::default()).await?;
    let mut candidates: Vec<Record> = all
        .into_iter()
        .filter(|r| !claimed.contains(r.id.as_str()))
        .filter(|r| created_ms(&r.created_time).is_none_or(|at| at >= since_ms - CLOCK_SKEW_MS))
        .collect();
    let mut found = Vec::with_capacity(sent.len());
    for fields in sent {
        let Some(position) = candidates.iter().position(|r| same_values(fields, &r.fields)) else { return Ok(None) };
        found.push(candidates.remove(position));
    }
    Ok(Some(found))
}

fn created_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
}

/// Whether a stored record holds what was sent: every sent value, compared loosely, since
/// Airtable normalizes (typecast turns "12" into 12; an empty value is left out).
pub(super) fn same_values(sent: &Fields, stored: &Fields) -> bool {
    sent.iter().all(|(name, value)| loosely_equal(value, stored.get(name).unwrap_or(&Value::Null)))
}

/// Equal as Airtable would store them: empty values alike, numbers by value, lists by items.
pub(super) fn loosely_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        _ if is_empty(a) && is_empty(b) => true,
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| loosely_equal(p, q)),
        (Value::Object(x), Value::Object(y)) => x.len() == y.len() && x.iter().all(|(k, v)| loosely_equal(v, y.get(k).unwrap_or(&Value::Null))),
        (Value::String(_) | Value::Number(_) | Value::Bool(_), Value::String(_) | Value::Number(_) | Value::Bool(_)) => text(a) == text(b),
        _ => a == b,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string()),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn fields(value: Value) -> Fields {
        value.as_object().cloned().unwrap()
    }

    #[test]
    fn values_airtable_normalized_still_match() {
        assert!(same_values(&fields(json!({"Name": "Ada", "Age": "12", "Done": false, "Note": ""})), &fields(json!({"Name": "Ada", "Age": 12}))));
        assert!(same_values(&fields(json!({"Score": 1.0})), &fields(json!({"Score": 1}))));
        assert!(same_values(&fields(json!({"Tags": ["a", "b"]})), &fields(json!({"Tags": ["a", "b"]}))));
    }

    #[test]
    fn different_values_do_not_match() {
        assert!(!same_values(&fields(json!({"Name": "Ada"})), &fields(json!({"Name": "Grace"}))));
        assert!(!same_values(&fields(json!({"Name": "Ada"})), &fields(json!({}))));
        assert!(!same_values(&fields(json!({"Tags": ["a", "b"]})), &fields(json!({"Tags": ["b", "a", "c"]}))));
        assert!(!same_values(&fields(json!({"Done": true})), &fields(json!({}))));
    }

    #[test]
    fn a_creation_time_is_read_from_airtables_format() {
        assert_eq!(created_ms("2024-03-01T10:00:00.000Z"), Some(1_709_287_200_000));
        assert_eq!(created_ms("yesterday"), None);
    }
}
