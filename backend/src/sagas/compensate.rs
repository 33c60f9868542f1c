//! Undoing a step from its log: created records deleted, changed ones restored from their
//! before-images, deleted ones created again; and, before an Undo, the fields someone else
//! changed since.

use std::collections::BTreeSet;

use serde_json::Value;

use super::drive::{CompensationError, Driver};
use super::lookup;
use super::store::StepRow;
use crate::airtable::{AirtableError, Client, RECORDS_PER_WRITE, RecordUpdate, UpdateMode};
use crate::clock::now_ms;
use crate::model::airtable::{BaseId, Fields, RecordId, Table};
use crate::model::sagas::{Conflict, StepState, TouchedRecord};

/// What compensation did, for Undo's message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Counts {
    pub deleted: u32,
    pub restored: u32,
    pub recreated: u32,
}

impl Counts {
    pub fn add(&mut self, other: Counts) {
        self.deleted += other.deleted;
        self.restored += other.restored;
        self.recreated += other.recreated;
    }

    /// What compensating these steps undid, read from their log.
    pub fn of(steps: &[StepRow]) -> Self {
        let mut counts = Counts::default();
        for step in steps.iter().filter(|s| s.state == StepState::Compensated) {
            for record in &step.records {
                match (&record.before, &record.after) {
                    (None, Some(_)) => counts.deleted += 1,
                    (Some(before), Some(after)) if !changed_fields(before, after).is_empty() => counts.restored += 1,
                    (Some(_), None) => counts.recreated += 1,
                    _ => {}
                }
            }
        }
        counts
    }
}

/// The fields whose values differ between two images of a record.
fn changed_fields(before: &Fields, after: &Fields) -> Vec<String> {
    let names: BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    names
        .into_iter()
        .filter(|name| !lookup::loosely_equal(before.get(*name).unwrap_or(&Value::Null), after.get(*name).unwrap_or(&Value::Null)))
        .cloned()
        .collect()
}

/// Drops the fields Airtable computes, which a write may not name.
fn writable(table: &Table, fields: &Fields) -> Fields {
    fields
        .iter()
        .filter(|(name, _)| table.field(name).is_some_and(|f| !f.field_type.is_computed()))
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect()
}

async fn table(client: &Client, base: &BaseId, table_id: &str) -> Result<Table, AirtableError> {
    let schema = client.base_schema(base).await?;
    schema.table(table_id).cloned().ok_or_else(|| AirtableError::InvalidRequest(format!("The table {table_id} no longer exists in base {base}.")))
}

/// Undoes what one step applied. Each part is safe to run again after a crash: deletes skip
/// records already gone, restores write the same values, and re-creations in doubt are looked
/// for before they are sent again.
pub(super) async fn compensate(driver: &Driver<'_>, step: &StepRow) -> Result<(), CompensationError> {
    let Some(table_id) = step.table_id.as_deref() else { return Ok(()) };
    if step.records.is_empty() {
        return Ok(());
    }
    let client = &driver.client;
    let base = BaseId::parse(&driver.saga.base_id).map_err(|e| AirtableError::InvalidRequest(e.to_string()))?;
    let table = table(client, &base, table_id).await?;

    let created: Vec<String> = step.records.iter().filter(|r| r.before.is_none()).map(|r| r.id.clone()).collect();
    if !created.is_empty() {
        let left = lookup::current(client, &base, table_id, &created).await?;
        let ids: Vec<RecordId> = left.keys().filter_map(|id| RecordId::parse(id).ok()).collect();
        for chunk in ids.chunks(RECORDS_PER_WRITE) {
            driver.lease.check()?;
            client.delete_records(&base, table_id, chunk).await?;
        }
    }

    let restores: Vec<RecordUpdate> = step
        .records
        .iter()
        .filter_map(|r| match (&r.before, &r.after) {
            (Some(before), Some(after)) => {
                let fields: Fields = changed_fields(before, after)
                    .into_iter()
                    .map(|name| {
                        let value = before.get(&name).cloned().unwrap_or(Value::Null);
                        (name, value)
                    })
                    .collect();
                let fields = writable(&table, &fields);
                (!fields.is_empty()).then(|| RecordId::parse(&r.id).ok().map(|id| RecordUpdate { id, fields })).flatten()
            }
            _ => None,
        })
        .collect();
    for chunk in restores.chunks(RECORDS_PER_WRITE) {
        driver.lease.check()?;
        // typecast, so a select option removed meanwhile comes back with the value.
        client.update_records(&base, table_id, chunk, UpdateMode::Merge, true).await?;
    }
    recreate(driver, step, &base, &table).await
}

/// Creates the step's deleted records again, logging each chunk's new IDs.
async fn recreate(driver: &Driver<'_>, step: &StepRow, base: &BaseId, table: &Table) -> Result<(), CompensationError> {
    let store = &driver.sagas.inner.store;
    let deleted: Vec<&TouchedRecord> = step.records.iter().filter(|r| r.after.is_none() && r.before.is_some()).collect();
    let mut progress = step.compensation.clone();
    let todo: Vec<&TouchedRecord> = deleted.iter().copied().filter(|r| !progress.recreated.contains_key(&r.id)).collect();
    for chunk in todo.chunks(RECORDS_PER_WRITE) {
        driver.lease.check()?;
        let fields: Vec<Fields> = chunk.iter().map(|r| writable(table, r.before.as_ref().unwrap_or(&Fields::new()))).collect();
        let table_id = table.id.as_str();
        let mut made = None;
        if let Some(started_ms) = progress.chunk_started_ms {
            let mut claimed = store.known_ids(&driver.saga.user()?, table_id).await?;
            claimed.extend(progress.recreated.values().cloned());
            made = lookup::created(&driver.client, base, table_id, &fields, started_ms, &claimed).await?;
        }
        let made = match made {
            Some(records) => records,
            None => {
                progress.chunk_started_ms = Some(now_ms());
                store.save_compensation(&driver.saga.id, step.position, &progress).await?;
                driver.client.create_records(base, table_id, &fields, true).await?
            }
        };
        for (old, new) in chunk.iter().zip(&made) {
            progress.recreated.insert(old.id.clone(), new.id.as_str().to_owned());
        }
        progress.chunk_started_ms = None;
        store.save_compensation(&driver.saga.id, step.position, &progress).await?;
    }
    Ok(())
}

/// The fields an Undo of these steps would overwrite that someone changed after the write.
pub(super) async fn conflicts(client: &Client, base_id: &str, steps: &[StepRow]) -> Result<Vec<Conflict>, AirtableError> {
    let base = BaseId::parse(base_id).map_err(|e| AirtableError::InvalidRequest(e.to_string()))?;
    let mut conflicts = Vec::new();
    for step in steps.iter().filter(|s| s.state == StepState::Applied) {
        let Some(table_id) = step.table_id.as_deref() else { continue };
        let written: Vec<&TouchedRecord> = step.records.iter().filter(|r| r.after.is_some()).collect();
        if written.is_empty() {
            continue;
        }
        let table = table(client, &base, table_id).await?;
        let ids: Vec<String> = written.iter().map(|r| r.id.clone()).collect();
        let now = lookup::current(client, &base, table_id, &ids).await?;
        for record in written {
            let after = writable(&table, record.after.as_ref().unwrap_or(&Fields::new()));
            let Some(current) = now.get(&record.id) else { continue };
            let current = writable(&table, &current.fields);
            // A created record is deleted whole; a changed one has only its changed fields put back.
            let at_stake = match &record.before {
                None => changed_fields(&after, &current),
                Some(before) => {
                    let before = writable(&table, before);
                    let undone = changed_fields(&before, &after);
                    changed_fields(&after, &current).into_iter().filter(|f| undone.contains(f)).collect()
                }
            };
            for field in at_stake {
                conflicts.push(Conflict {
                    record_id: record.id.clone(),
                    field: field.clone(),
                    written: after.get(&field).cloned().unwrap_or(Value::Null),
                    now: current.get(&field).cloned().unwrap_or(Value::Null),
                    before: record.before.as_ref().and_then(|b| b.get(&field).cloned()).unwrap_or(Value::Null),
                });
            }
        }
    }
    Ok(conflicts)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::sagas::StepState;

    fn fields(value: serde_json::Value) -> Fields {
        value.as_object().cloned().unwrap()
    }

    fn touched(id: &str, before: Option<serde_json::Value>, after: Option<serde_json::Value>) -> TouchedRecord {
        TouchedRecord { id: id.into(), created_time: None, before: before.map(fields), after: after.map(fields), restored_as: None }
    }

    #[test]
    fn only_fields_whose_values_differ_are_restored() {
        let before = fields(json!({"Name": "Ada", "Hours": 10, "Notes": ""}));
        let after = fields(json!({"Name": "Ada", "Hours": 12.0, "Remote": true}));
        assert_eq!(changed_fields(&before, &after), ["Hours", "Remote"]);
        assert!(changed_fields(&before, &before).is_empty());
    }

    #[test]
    fn an_undos_counts_come_from_the_compensated_steps_log() {
        let step = StepRow {
            position: 0,
            tool: "update_records".into(),
            arguments: json!({}),
            state: StepState::Compensated,
            table_id: Some("tblAAAAAAAAAAAAAA".into()),
            chunks_done: 1,
            chunk_started_ms: None,
            records: vec![
                touched("rec1", None, Some(json!({"Name": "New"}))),
                touched("rec2", Some(json!({"Name": "Old"})), Some(json!({"Name": "Changed"}))),
                touched("rec3", Some(json!({"Name": "Same"})), Some(json!({"Name": "Same"}))),
                touched("rec4", Some(json!({"Name": "Gone"})), None),
            ],
            before: None,
            compensation: Default::default(),
            error: None,
            updated_ms: 0,
        };
        assert_eq!(Counts::of(std::slice::from_ref(&step)), Counts { deleted: 1, restored: 1, recreated: 1 });
        let applied = StepRow { state: StepState::Applied, ..step };
        assert_eq!(Counts::of(&[applied]), Counts::default(), "nothing was undone yet");
    }
}
