//! Reading records: listing with `filterByFormula`, sorting, field selection, cell formats and
//! offsets that expire, and getting one record.

use std::cmp::Ordering;
use std::collections::HashSet;

use serde_json::{Map, Value, json};

use super::cells;
use super::formula::{self, Budget, Formula, Row};
use super::store::StoredRecord;
use super::{Sandbox, SandboxError};
use crate::airtable::{CellFormat, ListQuery};
use crate::auth::UserId;
use crate::clock::{iso, now_ms};
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


/// A record's cells keyed by field ID, with the computed fields filled in.
pub(super) fn full_cells(table: &Table, record: &StoredRecord) -> Map<String, Value> {
    let mut cells = record.cells.clone();
    for field in &table.fields {
        match field.field_type {
            FieldType::CreatedTime => {
                cells.insert(field.id.to_string(), json!(iso(record.created_ms)));
            }
            FieldType::LastModifiedTime => {
                cells.insert(field.id.to_string(), json!(iso(record.modified_ms)));
            }
            FieldType::AutoNumber => {
                cells.insert(field.id.to_string(), json!(record.auto_number));
            }
            _ => {}
        }
    }
    cells
}

/// The record as a formula sees it, with `named` its [`named_cells`].
fn formula_row<'a>(record: &'a StoredRecord, named: &'a Map<String, Value>, now_ms: i64) -> Row<'a> {
    Row { id: &record.id, created_ms: record.created_ms, modified_ms: record.modified_ms, fields: named, now_ms }
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
    let json = json!({ "id": record.id, "createdTime": iso(record.created_ms), "fields": fields });
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
        if formula.matches_within(&formula_row(&record, &named, now), &budget).map_err(SandboxError::invalid_formula)? {
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
    use std::time::Duration;

    use secrecy::SecretBox;

    use super::*;
    use crate::auth::users::Users;
    use crate::model::airtable::NewTable;
    use crate::sandbox::{SandboxSettings, WriteRequest};
    use crate::secrets::Cipher;

    /// A user's sandbox base holding one table: a name, a role, their created time and their
    /// last modified time.
    struct Fixture {
        _dir: tempfile::TempDir,
        sandbox: Sandbox,
        owner: UserId,
        base: String,
        table: String,
    }

    impl Fixture {
        async fn new() -> Self {
            let (dir, db) = crate::db::migrated_test_db().await;
            let owner = Users::new(db.clone()).create("ada@example.com", "correct horse battery", false).await.unwrap().id;
            let sandbox = Sandbox::new(db, Cipher::new(&SecretBox::new(Box::new([7u8; 32]))), SandboxSettings::default());
            let table: NewTable = serde_json::from_value(json!({ "name": "People", "fields": [
                { "name": "Name", "type": "singleLineText" },
                { "name": "Role", "type": "singleLineText" },
                { "name": "Created", "type": "createdTime", "options": { "result": { "type": "dateTime" } } },
                { "name": "Modified", "type": "lastModifiedTime", "options": { "result": { "type": "dateTime" } } },
            ]}))
            .unwrap();
            let created = sandbox.create_base(&owner, "Team", &[table]).await.unwrap();
            let base = created["id"].as_str().unwrap().to_owned();
            let table = created["tables"][0]["id"].as_str().unwrap().to_owned();
            Self { _dir: dir, sandbox, owner, base, table }
        }

        async fn create(&self, name: &str) -> Record {
            let request = WriteRequest { records: vec![(None, fields(name))], ..WriteRequest::default() };
            self.sandbox.create_records(&self.owner, &self.base, &self.table, &request).await.unwrap().remove(0)
        }

        /// Sets the record's name with a PATCH, or a PUT when `replace`.
        async fn rename(&self, record: &Record, name: &str, replace: bool) -> Record {
            let request = WriteRequest { records: vec![(Some(record.id.to_string()), fields(name))], replace, ..WriteRequest::default() };
            self.sandbox.update_records(&self.owner, &self.base, &self.table, &request).await.unwrap().remove(0)
        }

        async fn stored(&self, record: &Record) -> StoredRecord {
            self.sandbox.store.records_by_id(&self.table, &[record.id.to_string()]).await.unwrap().remove(0)
        }

        /// `source` evaluated against the record as it is stored now.
        async fn eval(&self, record: &Record, source: &str) -> Value {
            let table = self.sandbox.table(&self.owner, &self.base, &self.table).await.unwrap();
            let stored = self.stored(record).await;
            let named = named_cells(&table, &full_cells(&table, &stored));
            Formula::parse(source).unwrap().eval(&formula_row(&stored, &named, now_ms()))
        }

        /// The names of the records `formula` lets through.
        async fn names_matching(&self, formula: &str) -> Vec<String> {
            let query = ListQuery { filter_by_formula: Some(formula.to_owned()), ..ListQuery::default() };
            let page = self.sandbox.list_records(&self.owner, &self.base, &self.table, &query).await.unwrap();
            page.records.iter().map(|r| r.fields["Name"].as_str().unwrap_or_default().to_owned()).collect()
        }
    }

    fn fields(name: &str) -> Map<String, Value> {
        json!({ "Name": name }).as_object().cloned().unwrap_or_default()
    }

    /// Waits until the clock has passed `ms`, so that what is written next is later than it.
    async fn clock_past(ms: i64) {
        while now_ms() <= ms {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }

    #[test]
    fn an_offset_reads_back_what_it_says() {
        assert_eq!(parse_offset(&offset_text(1_700_000_000_000, 200)), Some((1_700_000_000_000, 200)));
        assert_eq!(parse_offset("itrzz/rec1"), None);
        assert_eq!(parse_offset("garbage"), None);
    }

    #[test]
    fn times_are_written_as_airtable_writes_them() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
    }

    #[tokio::test]
    async fn a_new_record_was_last_modified_when_it_was_created() {
        let f = Fixture::new().await;
        let record = f.create("Ada").await;
        let stored = f.stored(&record).await;
        assert_eq!(stored.modified_ms, stored.created_ms);
        assert_eq!(f.eval(&record, "LAST_MODIFIED_TIME()").await, json!(record.created_time));
        assert_eq!(f.eval(&record, "LAST_MODIFIED_TIME() = CREATED_TIME()").await, json!(true));
    }

    #[tokio::test]
    async fn an_update_moves_the_last_modified_time_forward_but_not_the_created_time() {
        let f = Fixture::new().await;
        let record = f.create("Ada").await;
        let created_ms = f.stored(&record).await.created_ms;
        clock_past(created_ms).await;
        let before = now_ms();
        f.rename(&record, "Ada Lovelace", false).await;
        let after = now_ms();
        let stored = f.stored(&record).await;
        assert_eq!(stored.created_ms, created_ms);
        assert!((before..=after).contains(&stored.modified_ms), "{before} <= {} <= {after}", stored.modified_ms);
        assert_eq!(f.eval(&record, "CREATED_TIME()").await, json!(record.created_time));
        assert_eq!(f.eval(&record, "LAST_MODIFIED_TIME()").await, json!(iso(stored.modified_ms)));
        assert_eq!(f.eval(&record, "IS_AFTER(LAST_MODIFIED_TIME(), CREATED_TIME())").await, json!(true));
    }

    #[tokio::test]
    async fn a_replace_moves_the_last_modified_time_forward() {
        let f = Fixture::new().await;
        let record = f.create("Ada").await;
        let created_ms = f.stored(&record).await.created_ms;
        clock_past(created_ms).await;
        f.rename(&record, "Grace", true).await;
        assert!(f.stored(&record).await.modified_ms > created_ms);
    }

    #[tokio::test]
    async fn an_update_that_changes_no_cell_keeps_the_last_modified_time() {
        let f = Fixture::new().await;
        let record = f.create("Ada").await;
        let created_ms = f.stored(&record).await.created_ms;
        clock_past(created_ms).await;
        f.rename(&record, "Ada", false).await;
        f.rename(&record, "Ada", true).await;
        assert_eq!(f.stored(&record).await.modified_ms, created_ms);
    }

    #[tokio::test]
    async fn an_upsert_moves_the_last_modified_time_of_only_the_records_it_changes() {
        let f = Fixture::new().await;
        let (ada, grace) = (f.create("Ada").await, f.create("Grace").await);
        clock_past(f.stored(&grace).await.created_ms).await;
        let sent = [json!({"Name": "Ada", "Role": "Engineer"}), json!({"Name": "Grace"}), json!({"Name": "Linus"})];
        let request = WriteRequest {
            records: sent.iter().map(|s| (None, s.as_object().cloned().unwrap_or_default())).collect(),
            merge_on: Some(vec!["Name".into()]),
            ..WriteRequest::default()
        };
        let answer = f.sandbox.upsert_records(&f.owner, &f.base, &f.table, &request).await.unwrap();
        let (ada, grace) = (f.stored(&ada).await, f.stored(&grace).await);
        assert!(ada.modified_ms > ada.created_ms);
        assert_eq!(grace.modified_ms, grace.created_ms);
        let linus: Record = serde_json::from_value(answer["records"][0].clone()).unwrap();
        let linus = f.stored(&linus).await;
        assert_eq!(linus.modified_ms, linus.created_ms);
    }

    #[tokio::test]
    async fn filter_by_formula_on_last_modified_time_finds_only_records_changed_after_a_time() {
        let f = Fixture::new().await;
        f.create("Ada").await;
        let grace = f.create("Grace").await;
        f.create("Linus").await;
        let cutoff = now_ms();
        clock_past(cutoff).await;
        f.rename(&grace, "Grace Hopper", false).await;
        let changed = f.names_matching(&format!("IS_AFTER(LAST_MODIFIED_TIME(), '{}')", iso(cutoff))).await;
        assert_eq!(changed, ["Grace Hopper"]);
        let unchanged = f.names_matching(&format!("LAST_MODIFIED_TIME() <= '{}'", iso(cutoff))).await;
        assert_eq!(unchanged, ["Ada", "Linus"]);
    }

    #[tokio::test]
    async fn a_last_modified_time_field_shows_when_the_cells_last_changed() {
        let f = Fixture::new().await;
        let record = f.create("Ada").await;
        assert_eq!(record.fields["Modified"], json!(record.created_time));
        clock_past(f.stored(&record).await.created_ms).await;
        let renamed = f.rename(&record, "Ada Lovelace", false).await;
        let modified_ms = f.stored(&record).await.modified_ms;
        assert_eq!(renamed.fields["Modified"], json!(iso(modified_ms)));
        assert_ne!(renamed.fields["Modified"], json!(record.created_time));
        assert_eq!(renamed.fields["Created"], json!(record.created_time));
        let listed = f.sandbox.list_records(&f.owner, &f.base, &f.table, &ListQuery::default()).await.unwrap();
        assert_eq!(listed.records[0].fields["Modified"], json!(iso(modified_ms)));
    }
}
