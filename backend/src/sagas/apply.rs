//! Applying one step: its before-images, then its chunks, each logged before and after, and
//! a chunk in doubt (after a crash or a lost answer) settled by reading the table.

use std::collections::BTreeMap;

use serde_json::Value;

use super::drive::Driver;
use super::lookup;
use super::store::StepRow;
use super::SagaError;
use crate::airtable::{AirtableError, ListQuery, formula};
use crate::clock::now_ms;
use crate::model::airtable::{Fields, Record, RecordId};
use crate::model::analytics::ToolSource;
use crate::model::sagas::TouchedRecord;
use crate::tools::{Applied, ToolContext, Write, WriteKind};

/// A chunk whose answer was lost is looked for and sent again at most this many times.
const DOUBTFUL_TRIES: u32 = 3;

/// How a step ended.
pub(super) enum StepOutcome {
    Applied,
    /// Could not be applied (its checks failed, or Airtable or the network did); the text
    /// says why.
    Failed(String),
    /// Airtable refused what the step holds (a value its field won't take, say), and applied
    /// none of its current chunk.
    Refused(String),
}

impl Driver<'_> {
    pub(super) async fn apply(&self, step: &StepRow) -> Result<StepOutcome, SagaError> {
        let store = &self.sagas.inner.store;
        let id = self.saga.id.as_str();
        let mut arguments = step.arguments.clone();
        // Once resolved, the table is named by ID, so a rename meanwhile changes nothing.
        if let (Some(table_id), Some(object)) = (&step.table_id, arguments.as_object_mut()) {
            object.insert("table".into(), Value::String(table_id.clone()));
        }
        let ctx = ToolContext::new(self.client.clone(), ToolSource::Rest, Some(self.saga.user_id.clone()));
        let write = match Write::prepare(&ctx, &step.tool, arguments).await {
            Ok(write) => write,
            Err(e) => return Ok(StepOutcome::Failed(e.to_string())),
        };
        let mut before = step.before.clone();
        if step.table_id.is_none() {
            before = match self.before_images(&write).await {
                Ok(images) => images,
                Err(e) => return Ok(StepOutcome::Failed(e.to_string())),
            };
            store.start_step(id, step.position, write.table.id.as_str(), before.as_ref()).await?;
        }
        let before = before.unwrap_or_default();
        let mut touched = step.records.clone();
        let mut chunk = step.chunks_done;
        let mut in_doubt = step.chunk_started_ms;
        let mut tries = 0;
        while chunk < write.chunks() {
            self.lease.check()?;
            if let Some(started_ms) = in_doubt.take() {
                tries += 1;
                match self.settle_doubt(&write, chunk, started_ms).await {
                    Ok(Some(applied)) => {
                        touched.extend(touched_records(&write, &applied, &before));
                        chunk += 1;
                        store.chunk_done(id, step.position, chunk, &touched).await?;
                        continue;
                    }
                    Ok(None) if tries < DOUBTFUL_TRIES => {}
                    Ok(None) => return Ok(StepOutcome::Failed("Airtable kept losing its answers to this step's writes.".into())),
                    Err(e) => return Ok(StepOutcome::Failed(e.to_string())),
                }
            }
            let started_ms = now_ms();
            store.chunk_started(id, step.position, started_ms).await?;
            match write.apply_chunk(&self.client, chunk).await {
                Ok(applied) => {
                    touched.extend(touched_records(&write, &applied, &before));
                    chunk += 1;
                    tries = 0;
                    store.chunk_done(id, step.position, chunk, &touched).await?;
                }
                Err(AirtableError::MaybeApplied { .. }) => in_doubt = Some(started_ms),
                Err(e) if e.status() == Some(422) => return Ok(StepOutcome::Refused(e.to_string())),
                Err(e) => return Ok(StepOutcome::Failed(e.to_string())),
            }
        }
        Ok(StepOutcome::Applied)
    }

    /// The records an update, upsert or delete will overwrite, as they are now.
    async fn before_images(&self, write: &Write) -> Result<Option<BTreeMap<String, Fields>>, AirtableError> {
        let table_id = write.table.id.as_str();
        let ids: Vec<String> = match &write.kind {
            WriteKind::Create { .. } => return Ok(None),
            WriteKind::Update { updates, .. } => updates.iter().map(|u| u.id.as_str().to_owned()).collect(),
            WriteKind::Delete { ids } => ids.iter().map(|id| id.as_str().to_owned()).collect(),
            WriteKind::Upsert { records, merge_on, .. } => {
                // The records the upsert will match: those a formula on the sent text and
                // numbers finds, or the whole table for other values; either way compared
                // again here as Airtable would.
                let query = ListQuery { filter_by_formula: matching(records, merge_on), ..ListQuery::default() };
                let candidates = self.client.list_all(&write.base, table_id, &query).await?;
                let matched = candidates.into_iter().filter(|r| {
                    records.iter().any(|fields| merge_on.iter().all(|f| lookup::loosely_equal(fields.get(f).unwrap_or(&Value::Null), r.fields.get(f).unwrap_or(&Value::Null))))
                });
                return Ok(Some(matched.map(|r| (r.id.as_str().to_owned(), r.fields)).collect()));
            }
        };
        let current = lookup::current(&self.client, &write.base, table_id, &ids).await?;
        Ok(Some(current.into_iter().map(|(id, record)| (id, record.fields)).collect()))
    }

    /// Learns whether chunk `index`, sent at `started_ms`, was applied. `Some` with what it
    /// did when it was; `None` when it must be sent (again).
    async fn settle_doubt(&self, write: &Write, index: usize, started_ms: i64) -> Result<Option<Applied>, SagaError> {
        let range = write.chunk_range(index);
        let table_id = write.table.id.as_str();
        let airtable = |e: AirtableError| SagaError::NotNow(e.to_string());
        match &write.kind {
            WriteKind::Create { records, .. } => {
                let claimed = self.sagas.inner.store.known_ids(&self.saga.user()?, table_id).await?;
                let found = lookup::created(&self.client, &write.base, table_id, &records[range], started_ms, &claimed).await.map_err(airtable)?;
                Ok(found.map(|records| Applied { records, ..Applied::default() }))
            }
            WriteKind::Delete { ids } => {
                let chunk: Vec<String> = ids[range].iter().map(|id| id.as_str().to_owned()).collect();
                let left = lookup::current(&self.client, &write.base, table_id, &chunk).await.map_err(airtable)?;
                // A delete request is applied whole: none left means it landed.
                Ok(left.is_empty().then(|| Applied { deleted: ids[write.chunk_range(index)].to_vec(), ..Applied::default() }))
            }
            // Sending these again leaves the same result.
            WriteKind::Update { .. } | WriteKind::Upsert { .. } => Ok(None),
        }
    }
}

/// A formula that finds the records whose `merge_on` values equal one of `records`', when
/// every such value is text or a number; `None` otherwise.
fn matching(records: &[Fields], merge_on: &[String]) -> Option<String> {
    let mut any = Vec::with_capacity(records.len());
    for fields in records {
        let mut all = Vec::with_capacity(merge_on.len());
        for name in merge_on {
            all.push(match fields.get(name)? {
                Value::String(text) => formula::eq(name, text),
                Value::Number(n) => formula::compare_number(name, formula::Comparison::Eq, n.as_f64()?),
                _ => return None,
            });
        }
        any.push(formula::and(&all));
    }
    Some(formula::or(&any))
}

/// The log's entries for what one chunk did.
fn touched_records(write: &Write, applied: &Applied, before: &BTreeMap<String, Fields>) -> Vec<TouchedRecord> {
    let entry = |record: &Record, before: Option<Fields>| TouchedRecord {
        id: record.id.as_str().to_owned(),
        created_time: Some(record.created_time.clone()),
        before,
        after: Some(record.fields.clone()),
        restored_as: None,
    };
    match &write.kind {
        WriteKind::Create { .. } => applied.records.iter().map(|r| entry(r, None)).collect(),
        WriteKind::Update { .. } => applied.records.iter().map(|r| entry(r, before.get(r.id.as_str()).cloned())).collect(),
        WriteKind::Upsert { .. } => applied
            .records
            .iter()
            .map(|r| {
                let created = applied.created.contains(&r.id) && !before.contains_key(r.id.as_str());
                // A matched record missing from the before-images (made meanwhile by someone
                // else) is kept as it is now rather than deleted by a compensation.
                let image = if created { None } else { Some(before.get(r.id.as_str()).cloned().unwrap_or_else(|| r.fields.clone())) };
                entry(r, image)
            })
            .collect(),
        WriteKind::Delete { .. } => applied
            .deleted
            .iter()
            .filter_map(|id| {
                before.get(id.as_str()).map(|fields| TouchedRecord {
                    id: id.as_str().to_owned(),
                    created_time: None,
                    before: Some(fields.clone()),
                    after: None,
                    restored_as: None,
                })
            })
            .collect(),
    }
}

/// What a finished one-step saga applied, rebuilt from its log for the tool's answer.
pub(super) fn applied_from_log(write: &Write, steps: &[StepRow]) -> Applied {
    let mut applied = Applied::default();
    for record in steps.iter().flat_map(|s| &s.records) {
        let Ok(id) = RecordId::parse(&record.id) else { continue };
        match &record.after {
            Some(fields) => {
                if record.before.is_none() && matches!(write.kind, WriteKind::Upsert { .. }) {
                    applied.created.push(id.clone());
                }
                applied.records.push(Record { id, created_time: record.created_time.clone().unwrap_or_default(), fields: fields.clone() });
            }
            None => applied.deleted.push(id),
        }
    }
    applied
}
