//! Writing records: create, update (merge or replace), upsert on merge fields, and delete, each
//! validated cell by cell as Airtable validates them.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::cells::{self, CellWrite};
use super::listing::{Output, render};
use super::store::StoredRecord;
use super::{Sandbox, SandboxError};
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::model::airtable::{FieldType, Fields, Record, Table};

/// One write request as the API received it.
#[derive(Debug, Clone, Default)]
pub struct WriteRequest {
    /// `(record ID, fields)`; the ID is absent for creates and upserts.
    pub records: Vec<(Option<String>, Fields)>,
    pub typecast: bool,
    /// PUT: fields left out are cleared.
    pub replace: bool,
    /// `performUpsert.fieldsToMergeOn`.
    pub merge_on: Option<Vec<String>>,
    pub return_fields_by_field_id: bool,
}

/// A write body as the API takes it: `{"records": [...]}` or, for one record, `{"fields": {...}}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WriteBody {
    #[serde(default)]
    records: Option<Vec<RecordBody>>,
    #[serde(default)]
    fields: Option<Fields>,
    #[serde(default)]
    typecast: bool,
    #[serde(default)]
    perform_upsert: Option<PerformUpsert>,
    #[serde(default)]
    return_fields_by_field_id: bool,
}

#[derive(Deserialize)]
struct RecordBody {
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    fields: Fields,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PerformUpsert {
    fields_to_merge_on: Vec<String>,
}

/// Reads a request body that must be a JSON object of `T`'s shape, as every sandbox endpoint
/// that takes a body does.
///
/// # Errors
/// 422 for anything else, saying what was wrong.
pub fn json_object<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, SandboxError> {
    // Serde would also read a struct from a JSON array, which no endpoint takes.
    if !bytes.trim_ascii_start().starts_with(b"{") {
        return Err(SandboxError::invalid_request("The request body must be a JSON object."));
    }
    serde_json::from_slice(bytes)
        .map_err(|e| SandboxError::invalid_request(format!("The request body is not what this endpoint takes: {e}")))
}

impl WriteRequest {
    /// Reads the JSON body of a create, update or replace: `replace` for PUT, `single_id` for a
    /// write to `/{base}/{table}/{record}`. The flag is true for the one-record form
    /// `{"fields": {...}}`, which is answered with the record alone.
    ///
    /// # Errors
    /// 422 for a body that is not a JSON object of this shape.
    pub fn from_body(bytes: &[u8], replace: bool, single_id: Option<String>) -> Result<(Self, bool), SandboxError> {
        let body: WriteBody = json_object(bytes)?;
        let single = body.records.is_none();
        let records = match body.records {
            Some(records) => records.into_iter().map(|r| (r.id, r.fields)).collect(),
            None => vec![(single_id, body.fields.unwrap_or_default())],
        };
        let request = Self {
            records,
            typecast: body.typecast,
            replace,
            merge_on: body.perform_upsert.map(|p| p.fields_to_merge_on),
            return_fields_by_field_id: body.return_fields_by_field_id,
        };
        Ok((request, single))
    }

    /// The cells each record would store in `table`, checked as every write checks them before
    /// it reads the database: the record count against `max_records`, then each cell. Whether
    /// linked records exist, and adding the select choices typecast introduces, need the
    /// database and are left out. The fuzz targets and property tests call this.
    ///
    /// # Errors
    /// 422 for too many or no records, an unknown field, or a value the field refuses.
    pub fn validate(&self, table: &Table, max_records: usize) -> Result<Vec<Map<String, Value>>, SandboxError> {
        check_count(self.records.len(), max_records)?;
        let mut applied = Applied::new();
        self.records
            .iter()
            .map(|(_, fields)| {
                let mut cells = Map::new();
                applied.apply(table, &mut cells, fields, self.typecast)?;
                Ok(cells)
            })
            .collect()
    }
}

/// Cells as they will be saved, and the links they point at.
struct Applied {
    /// Linked table ID → record IDs that must exist there.
    links: BTreeMap<String, Vec<String>>,
    /// Field index → select choices that typecast introduced.
    choices: BTreeMap<usize, Vec<String>>,
}

impl Sandbox {
    /// `POST /v0/{base}/{table}`.
    ///
    /// # Errors
    /// 422 for too many records, an unknown field, or a value the field refuses.
    pub async fn create_records(&self, owner: &UserId, base: &str, table: &str, request: &WriteRequest) -> Result<Vec<Record>, SandboxError> {
        let mut table = self.table(owner, base, table).await?;
        self.check_count(request.records.len())?;
        let mut applied = Applied::new();
        let now = now_ms();
        let mut created = Vec::with_capacity(request.records.len());
        for (_, fields) in &request.records {
            let mut cells = Map::new();
            applied.apply(&table, &mut cells, fields, request.typecast)?;
            created.push(StoredRecord::created(cells, now));
        }
        self.commit(&mut table, &applied).await?;
        self.store.insert_records(table.id.as_str(), &mut created).await?;
        let output = output(request);
        Ok(created.iter().map(|r| render(&table, r, &output)).collect())
    }

    /// `PATCH` or `PUT /v0/{base}/{table}` without `performUpsert`. A record whose cells change
    /// is last modified now; one sent the values it already holds keeps its time, as in Airtable.
    ///
    /// # Errors
    /// 404 for an unknown record, and as `create_records`.
    pub async fn update_records(&self, owner: &UserId, base: &str, table: &str, request: &WriteRequest) -> Result<Vec<Record>, SandboxError> {
        let mut table = self.table(owner, base, table).await?;
        self.check_count(request.records.len())?;
        let ids: Vec<String> = request
            .records
            .iter()
            .map(|(id, _)| id.clone().ok_or_else(|| SandboxError::invalid_records("Every record to update needs its \"id\".")))
            .collect::<Result<_, _>>()?;
        let existing: HashMap<String, StoredRecord> =
            self.store.records_by_id(table.id.as_str(), &ids).await?.into_iter().map(|r| (r.id.clone(), r)).collect();
        let mut applied = Applied::new();
        let now = now_ms();
        let mut updated = Vec::with_capacity(ids.len());
        for (id, (_, fields)) in ids.iter().zip(&request.records) {
            let stored = existing.get(id).ok_or_else(|| SandboxError::record_not_found(id))?;
            let mut record = stored.clone();
            if request.replace {
                record.cells.clear();
            }
            applied.apply(&table, &mut record.cells, fields, request.typecast)?;
            if record.cells != stored.cells {
                record.modified_ms = now;
            }
            updated.push(record);
        }
        self.commit(&mut table, &applied).await?;
        self.store.update_records(table.id.as_str(), &updated).await?;
        let output = output(request);
        Ok(updated.iter().map(|r| render(&table, r, &output)).collect())
    }

    /// `PATCH` or `PUT /v0/{base}/{table}` with `performUpsert`: records matching on the merge
    /// fields are updated (their modified time moving only when their cells change, as in
    /// `update_records`), the others created.
    ///
    /// # Errors
    /// 422 when a merge field is unknown or missing from a record, or several records match.
    pub async fn upsert_records(&self, owner: &UserId, base: &str, table: &str, request: &WriteRequest) -> Result<Value, SandboxError> {
        let mut table = self.table(owner, base, table).await?;
        self.check_count(request.records.len())?;
        let merge_on = request.merge_on.clone().unwrap_or_default();
        if merge_on.is_empty() || merge_on.len() > 3 {
            return Err(SandboxError::invalid_request("performUpsert.fieldsToMergeOn needs one to three field names."));
        }
        let mut merge_ids = Vec::new();
        for name in &merge_on {
            merge_ids.push(table.field(name).ok_or_else(|| SandboxError::unknown_field(name))?.id.to_string());
        }
        let mut all = self.store.records(table.id.as_str()).await?;
        let mut applied = Applied::new();
        let (mut created, mut updated) = (Vec::new(), Vec::new());
        let now = now_ms();
        for (_, fields) in &request.records {
            let mut incoming = Map::new();
            applied.apply(&table, &mut incoming, fields, request.typecast)?;
            if let Some(missing) = merge_ids.iter().zip(&merge_on).find(|(id, _)| !incoming.contains_key(*id)) {
                return Err(SandboxError::invalid_records(format!(
                    "Every record of an upsert needs a value for \"{}\", a field to merge on.",
                    missing.1
                )));
            }
            let matches: Vec<usize> =
                (0..all.len()).filter(|&i| merge_ids.iter().all(|id| all[i].cells.get(id) == incoming.get(id))).collect();
            match matches.as_slice() {
                [] => created.push(StoredRecord::created(incoming, now)),
                [only] => {
                    let record = &mut all[*only];
                    let cells = if request.replace {
                        incoming
                    } else {
                        let mut merged = record.cells.clone();
                        merged.extend(incoming);
                        merged
                    };
                    if cells != record.cells {
                        record.cells = cells;
                        record.modified_ms = now;
                    }
                    updated.push(record.clone());
                }
                _ => {
                    return Err(SandboxError::invalid_records(format!(
                        "{} records match the fields to merge on; an upsert can update only one record per input.",
                        matches.len()
                    )));
                }
            }
        }
        self.commit(&mut table, &applied).await?;
        self.store.insert_records(table.id.as_str(), &mut created).await?;
        self.store.update_records(table.id.as_str(), &updated).await?;
        let output = output(request);
        Ok(json!({
            "createdRecords": created.iter().map(|r| &r.id).collect::<Vec<_>>(),
            "updatedRecords": updated.iter().map(|r| &r.id).collect::<Vec<_>>(),
            "records": created.iter().chain(&updated).map(|r| render(&table, r, &output)).collect::<Vec<_>>(),
        }))
    }

    /// `DELETE /v0/{base}/{table}?records[]=…`.
    ///
    /// # Errors
    /// 404 when any record is not in the table; nothing is deleted then.
    pub async fn delete_records(&self, owner: &UserId, base: &str, table: &str, ids: &[String]) -> Result<Vec<String>, SandboxError> {
        let table = self.table(owner, base, table).await?;
        self.check_count(ids.len())?;
        let found = self.store.existing_ids(table.id.as_str(), ids).await?;
        if let Some(missing) = ids.iter().find(|id| !found.contains(*id)) {
            return Err(SandboxError::record_not_found(missing));
        }
        self.store.delete_records(table.id.as_str(), ids).await?;
        Ok(ids.to_vec())
    }

    fn check_count(&self, n: usize) -> Result<(), SandboxError> {
        check_count(n, self.settings.records_per_write)
    }

    /// Checks that linked records exist, then saves select choices typecast introduced.
    async fn commit(&self, table: &mut Table, applied: &Applied) -> Result<(), SandboxError> {
        for (linked_table, ids) in &applied.links {
            let found = self.store.existing_ids(linked_table, ids).await?;
            if let Some(missing) = ids.iter().find(|id| !found.contains(*id)) {
                return Err(SandboxError::invalid_value(format!(
                    "Record ID {missing} does not exist in the linked table; link to records that exist."
                )));
            }
        }
        for (field_index, names) in &applied.choices {
            self.add_choices(table, *field_index, names).await?;
        }
        Ok(())
    }
}

impl Applied {
    fn new() -> Self {
        Self { links: BTreeMap::new(), choices: BTreeMap::new() }
    }

    /// Validates `fields` (by name or ID) and writes them into `cells` (keyed by field ID).
    fn apply(&mut self, table: &Table, cells: &mut Map<String, Value>, fields: &Fields, typecast: bool) -> Result<(), SandboxError> {
        for (key, value) in fields {
            let index = table
                .fields
                .iter()
                .position(|f| f.id.as_str() == key)
                .or_else(|| table.fields.iter().position(|f| &f.name == key))
                .ok_or_else(|| SandboxError::unknown_field(key))?;
            let field = &table.fields[index];
            let written = cells::write(field, value, typecast)?;
            if !written.new_choices.is_empty() {
                self.choices.entry(index).or_default().extend(written.new_choices);
            }
            match written.write {
                CellWrite::Set(value) => {
                    if field.field_type == FieldType::MultipleRecordLinks {
                        let linked = field.options.as_ref().and_then(|o| o.get("linkedTableId")).and_then(Value::as_str);
                        let ids = value.as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned);
                        self.links.entry(linked.unwrap_or_default().to_owned()).or_default().extend(ids);
                    }
                    cells.insert(field.id.to_string(), value);
                }
                CellWrite::Clear => {
                    cells.remove(field.id.as_str());
                }
            }
        }
        Ok(())
    }
}

/// Refuses a write of no records, or of more than `max`.
fn check_count(n: usize, max: usize) -> Result<(), SandboxError> {
    if n == 0 {
        return Err(SandboxError::invalid_records("Send at least one record."));
    }
    if n > max {
        return Err(SandboxError::invalid_records(format!(
            "You can send at most {max} records per request; this one had {n}. Split it into several requests."
        )));
    }
    Ok(())
}

fn output(request: &WriteRequest) -> Output {
    Output { by_field_id: request.return_fields_by_field_id, ..Output::default() }
}
