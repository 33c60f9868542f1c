//! Reading records: listing with `filterByFormula`, sorting, field selection, cell formats and
//! offsets that expire, and getting one record.

use std::cmp::Ordering;
use std::collections::HashSet;

use chrono::DateTime;
use serde_json::{Map, Value, json};

use super::cells;
use super::formula::{self, Budget, Formula, Row};
use super::store::StoredRecord;
use super::{Sandbox, SandboxError};
use crate::airtable::{CellFormat, ListQuery};
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::model::airtable::{Direction, FieldType, Record, RecordPage, Table};

/// How records are written out: which fields, keyed how, formatted how.
#[derive(Debug, Clone, Default)]
pub(super) struct Output {
    pub by_field_id: bool,
    /// Field IDs to include; all when `None`.
    pub only: Option<HashSet<String>>,
    /// `Some(time zone)` for `cellFormat=string`.
    pub as_text: Option<String>,
}

impl Output {
    /// Reads `returnFieldsByFieldId` and `cellFormat`, which a single-record GET takes too.
    pub fn from_query(table: &Table, query: &ListQuery) -> Result<Self, SandboxError> {
        let as_text = match query.cell_format {
            Some(CellFormat::String) => {
                let zone = query.time_zone.clone().ok_or_else(|| {
                    SandboxError::invalid_request("cellFormat=string needs timeZone and userLocale as well.")
                })?;
                if query.user_locale.is_none() {
                    return Err(SandboxError::invalid_request("cellFormat=string needs userLocale as well."));
                }
                if cells::parse_time_zone(&zone).is_none() {
                    return Err(SandboxError::invalid_request(format!(
                        "The sandbox formats times in UTC or a fixed offset such as +02:00, not \"{zone}\"."
                    )));
                }
                Some(zone)
            }
            _ => None,
        };
        let only = if query.fields.is_empty() {
            None
        } else {
            let mut ids = HashSet::new();
            for name in &query.fields {
                let field = table.field(name).ok_or_else(|| SandboxError::unknown_field(name))?;
                ids.insert(field.id.to_string());
            }
            Some(ids)
        };
        Ok(Self { by_field_id: query.return_fields_by_field_id, only, as_text })
    }
}

/// The ISO form Airtable gives times: `2024-03-01T10:00:00.000Z`.
pub(super) fn iso_time(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).unwrap_or_default().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A record's cells keyed by field ID, with the computed fields filled in.
pub(super) fn full_cells(table: &Table, record: &StoredRecord) -> Map<String, Value> {
    let mut cells = record.cells.clone();
    for field in &table.fields {
        match field.field_type {
            FieldType::CreatedTime | FieldType::LastModifiedTime => {
                cells.insert(field.id.to_string(), json!(iso_time(record.created_ms)));
            }
            FieldType::AutoNumber => {
                cells.insert(field.id.to_string(), json!(record.auto_number));
            }
            _ => {}
        }
    }
    cells
}

/// A record's cells keyed by field name, as formulas see them.
fn named_cells(table: &Table, cells: &Map<String, Value>) -> Map<String, Value> {
    table.fields.iter().filter_map(|f| cells.get(f.id.as_str()).map(|v| (f.name.clone(), v.clone()))).collect()
}

/// The record as the API returns it.
pub(super) fn render(table: &Table, record: &StoredRecord, output: &Output) -> Record {
    let cells = full_cells(table, record);
    let mut fields = Map::new();
    for field in &table.fields {
        if output.only.as_ref().is_some_and(|only| !only.contains(field.id.as_str())) {
            continue;
        }
        let Some(value) = cells.get(field.id.as_str()) else { continue };
        let value = match &output.as_text {
            Some(zone) => json!(cells::to_string(field, value, zone)),
            None => value.clone(),
        };
        let key = if output.by_field_id { field.id.to_string() } else { field.name.clone() };
        fields.insert(key, value);
    }
    let json = json!({ "id": record.id, "createdTime": iso_time(record.created_ms), "fields": fields });
    serde_json::from_value(json).expect("a stored record has a valid ID")
}

/// An offset: when the listing's first page was served, and where the next page starts.
fn offset_text(issued_ms: i64, position: usize) -> String {
    format!("itr{issued_ms:x}/rec{position:x}")
}

fn parse_offset(text: &str) -> Option<(i64, usize)> {
    let (issued, position) = text.strip_prefix("itr")?.split_once("/rec")?;
    Some((i64::from_str_radix(issued, 16).ok()?, usize::from_str_radix(position, 16).ok()?))
}

impl Sandbox {
    /// `GET /v0/{base}/{table}` and `POST …/listRecords`: one page of the listing.
    ///
    /// # Errors
    /// 422 for an unknown field or view, a bad formula, a page size over the limit, or an
    /// expired offset; 404 for an unknown table.
    pub async fn list_records(&self, owner: &UserId, base: &str, table: &str, query: &ListQuery) -> Result<RecordPage, SandboxError> {
        let table = self.table(owner, base, table).await?;
        let output = Output::from_query(&table, query)?;
        let max_page = self.settings.max_page_size;
        let page_size = query.page_size.map_or(max_page, |n| n as usize);
        if page_size == 0 || page_size > max_page {
            return Err(SandboxError::invalid_request(format!("pageSize must be between 1 and {max_page}.")));
        }
        if let Some(view) = &query.view
            && !table.views.iter().any(|v| v.id.as_str() == view || &v.name == view)
        {
            return Err(SandboxError::view_not_found(view));
        }
        let now = now_ms();
        let (issued_ms, start) = match &query.offset {
            None => (now, 0),
            Some(text) => {
                let (issued, start) = parse_offset(text).ok_or_else(SandboxError::expired_offset)?;
                let age = now - issued;
                if age < 0 || age as u128 > self.settings.offset_ttl.as_millis() {
                    return Err(SandboxError::expired_offset());
                }
                (issued, start)
            }
        };
        let mut rows = self.matching(&table, query.filter_by_formula.as_deref(), now).await?;
        sort(&table, &mut rows, query)?;
        if let Some(max) = query.max_records {
            rows.truncate(max as usize);
        }
        let end = (start + page_size).min(rows.len());
        let records = rows.get(start..end).unwrap_or_default().iter().map(|r| render(&table, r, &output)).collect();
        let offset = (end < rows.len()).then(|| offset_text(issued_ms, end));
        Ok(RecordPage { records, offset })
    }

    /// `GET /v0/{base}/{table}/{record}`.
    ///
    /// # Errors
    /// 404 for an unknown table or record.
    pub async fn get_record(&self, owner: &UserId, base: &str, table: &str, record: &str, query: &ListQuery) -> Result<Record, SandboxError> {
        let table = self.table(owner, base, table).await?;
        let output = Output::from_query(&table, query)?;
        let found = self.store.records_by_id(table.id.as_str(), &[record.to_owned()]).await?;
        let stored = found.first().ok_or_else(|| SandboxError::record_not_found(record))?;
        Ok(render(&table, stored, &output))
    }

    /// The table's records that pass `formula`, in creation order.
    ///
    /// The formula runs on a blocking thread, a few listings at a time,
    /// within one [`Budget`] for the whole listing, so a costly formula neither stalls the
    /// async workers nor runs for long.
    async fn matching(&self, table: &Table, formula: Option<&str>, now: i64) -> Result<Vec<StoredRecord>, SandboxError> {
        let formula = match formula.map(str::trim).filter(|f| !f.is_empty()) {
            None => None,
            Some(source) => {
                let parsed = Formula::parse(source).map_err(SandboxError::invalid_formula)?;
                if let Some(unknown) = parsed.field_names().into_iter().find(|name| table.field(name).is_none()) {
                    return Err(SandboxError::invalid_formula(format!("Unknown field names: {unknown}")));
                }
                Some(parsed)
            }
        };
        let records = self.store.records(table.id.as_str()).await?;
        let Some(formula) = formula else { return Ok(records) };
        let permit = tokio::time::timeout(formula::MAX_TIME, self.evaluators.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or_else(SandboxError::busy)?;
        let table = table.clone();
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            filter(&table, records, &formula, now)
        });
        task.await.map_err(|e| {
            tracing::error!(error = %e, "a sandbox formula evaluation did not finish");
            SandboxError::server_error()
        })?
    }
}

/// The records that pass `formula`, all evaluated within one [`Budget`].
fn filter(table: &Table, records: Vec<StoredRecord>, formula: &Formula, now: i64) -> Result<Vec<StoredRecord>, SandboxError> {
    let budget = Budget::per_listing();
    let mut kept = Vec::new();
    for record in records {
        let named = named_cells(table, &full_cells(table, &record));
        let row = Row { id: &record.id, created_ms: record.created_ms, fields: &named, now_ms: now };
        if formula.matches_within(&row, &budget).map_err(SandboxError::invalid_formula)? {
            kept.push(record);
        }
    }
    Ok(kept)
}

/// Orders records by the query's sort keys; ties keep creation order.
fn sort(table: &Table, rows: &mut [StoredRecord], query: &ListQuery) -> Result<(), SandboxError> {
    if query.sort.is_empty() {
        return Ok(());
    }
    let mut keys = Vec::with_capacity(query.sort.len());
    for sort in &query.sort {
        let field = table.field(&sort.field).ok_or_else(|| SandboxError::unknown_field(&sort.field))?;
        keys.push((field, sort.direction));
    }
    let cells: Vec<Map<String, Value>> = rows.iter().map(|r| full_cells(table, r)).collect();
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| {
        keys.iter()
            .map(|(field, direction)| {
                let ordering = cells::compare(field, cells[a].get(field.id.as_str()), cells[b].get(field.id.as_str()));
                if *direction == Direction::Desc { ordering.reverse() } else { ordering }
            })
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal)
    });
    let sorted: Vec<StoredRecord> = order.into_iter().map(|i| rows[i].clone()).collect();
    rows.clone_from_slice(&sorted);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_offset_reads_back_what_it_says() {
        assert_eq!(parse_offset(&offset_text(1_700_000_000_000, 200)), Some((1_700_000_000_000, 200)));
        assert_eq!(parse_offset("itrzz/rec1"), None);
        assert_eq!(parse_offset("garbage"), None);
    }

    #[test]
    fn times_are_written_as_airtable_writes_them() {
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
    }
}
