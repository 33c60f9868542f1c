//! Writing records: create, update, upsert and delete, up to 100 records a call.
//!
//! Each tool checks its call into a [`Write`] before anything is sent, and applies it in
//! chunks of ten records (one Airtable request each), so that sagas can log every chunk.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::budget::{RESULT_BUDGET, fitting};
use super::resolve::{self, TableRef};
use super::tool::{ADD, OVERWRITE, Tool, ToolContext, ToolError, parse_arguments};
use crate::airtable::{AirtableError, Client, RECORDS_PER_WRITE, RecordUpdate, UpdateMode};
use crate::model::airtable::{BaseId, Fields, Record, RecordId, Table};
use crate::model::tools::ToolHints;

/// The most records one call writes; Airtable takes ten a request, so this is ten requests.
const MAX_RECORDS: usize = 100;

fn check_count(n: usize) -> Result<(), ToolError> {
    match n {
        0 => Err(ToolError::Invalid("No records were given.".into())),
        n if n > MAX_RECORDS => Err(ToolError::Invalid(format!("{n} records are too many for one call: send at most {MAX_RECORDS}, then the rest."))),
        _ => Ok(()),
    }
}

/// Refuses names of fields the table doesn't have before anything is written, so a batch
/// doesn't fail halfway.
fn check_fields(table: &Table, fields: &Fields) -> Result<(), ToolError> {
    for name in fields.keys() {
        let field = resolve::field(table, name)?;
        if field.field_type.is_computed() {
            return Err(ToolError::Invalid(format!("“{}” is computed by Airtable and can't be written. Leave it out.", field.name)));
        }
    }
    Ok(())
}

/// The written records, as many as fit, and how many there were.
fn written(table: &Table, verb: &str, records: &[Record]) -> Value {
    let shown = fitting(records, RESULT_BUDGET - 1_000);
    json!({
        "table": table.name,
        verb: records.len(),
        "records": &records[..shown],
        "records_not_shown": records.len() - shown,
    })
}

#[derive(Deserialize, JsonSchema)]
pub struct CreateRecordsInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// Each record's fields by name, e.g. [{"Name": "Ada", "Status": "Active"}]. At most 100.
    pub records: Vec<Fields>,
    /// Let Airtable convert values, e.g. "12" into 12 or a new select choice.
    #[serde(default)]
    pub typecast: bool,
}

/// One record's changes.
#[derive(Deserialize, JsonSchema)]
pub struct RecordChange {
    /// The record's ID, starting with "rec".
    pub id: String,
    /// The fields to change, by name.
    pub fields: Fields,
}

#[derive(Deserialize, JsonSchema)]
pub struct UpdateRecordsInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// Up to 100 records, each with its ID and the fields to change.
    pub records: Vec<RecordChange>,
    /// Clear every field not given (a full replace) instead of changing only the fields given.
    #[serde(default)]
    pub replace: bool,
    /// Let Airtable convert values.
    #[serde(default)]
    pub typecast: bool,
}

#[derive(Deserialize, JsonSchema)]
pub struct UpsertRecordsInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// Up to 100 records' fields, by name.
    pub records: Vec<Fields>,
    /// One to three fields whose values identify a record: a record with the same values is
    /// updated, otherwise a new one is created.
    pub merge_on: Vec<String>,
    /// Let Airtable convert values.
    #[serde(default)]
    pub typecast: bool,
}

#[derive(Deserialize, JsonSchema)]
pub struct DeleteRecordsInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// Up to 100 record IDs, starting with "rec".
    pub record_ids: Vec<String>,
}

/// What a record write does, checked against its table.
#[derive(Debug, Clone)]
pub(crate) enum WriteKind {
    Create { records: Vec<Fields>, typecast: bool },
    Update { updates: Vec<RecordUpdate>, mode: UpdateMode, typecast: bool },
    Upsert { records: Vec<Fields>, merge_on: Vec<String>, typecast: bool },
    Delete { ids: Vec<RecordId> },
}

/// A record write, checked and ready to apply.
#[derive(Debug, Clone)]
pub(crate) struct Write {
    pub base: BaseId,
    pub table: Table,
    pub kind: WriteKind,
}

/// What one chunk (or all of a write) did.
#[derive(Debug, Clone, Default)]
pub(crate) struct Applied {
    /// The records as they are after the write (created, updated or upserted).
    pub records: Vec<Record>,
    /// Of `records`, those an upsert created.
    pub created: Vec<RecordId>,
    pub deleted: Vec<RecordId>,
}

impl Applied {
    pub(crate) fn extend(&mut self, more: Applied) {
        self.records.extend(more.records);
        self.created.extend(more.created);
        self.deleted.extend(more.deleted);
    }
}

/// The tools that write records, whose calls sagas record.
pub(crate) const RECORD_WRITES: [&str; 4] = [CreateRecords::NAME, UpdateRecords::NAME, UpsertRecords::NAME, DeleteRecords::NAME];

impl Write {
    /// Checks a call of one of [`RECORD_WRITES`] against its table; nothing is written.
    ///
    /// # Errors
    /// `UnknownTool` for any other tool, or what is wrong with the arguments.
    pub(crate) async fn prepare(ctx: &ToolContext, tool: &str, args: Value) -> Result<Self, ToolError> {
        match tool {
            CreateRecords::NAME => Self::create(ctx, parse_arguments(tool, args)?).await,
            UpdateRecords::NAME => Self::update(ctx, parse_arguments(tool, args)?).await,
            UpsertRecords::NAME => Self::upsert(ctx, parse_arguments(tool, args)?).await,
            DeleteRecords::NAME => Self::delete(ctx, parse_arguments(tool, args)?).await,
            other => Err(ToolError::UnknownTool(other.chars().take(80).collect())),
        }
    }

    async fn create(ctx: &ToolContext, input: CreateRecordsInput) -> Result<Self, ToolError> {
        check_count(input.records.len())?;
        let (base, table) = input.target.open(ctx).await?;
        for fields in &input.records {
            check_fields(&table, fields)?;
        }
        Ok(Self { base, table, kind: WriteKind::Create { records: input.records, typecast: input.typecast } })
    }

    async fn update(ctx: &ToolContext, input: UpdateRecordsInput) -> Result<Self, ToolError> {
        check_count(input.records.len())?;
        let (base, table) = input.target.open(ctx).await?;
        let updates = input
            .records
            .into_iter()
            .map(|change| {
                check_fields(&table, &change.fields)?;
                Ok(RecordUpdate { id: resolve::record_id(&change.id)?, fields: change.fields })
            })
            .collect::<Result<Vec<_>, ToolError>>()?;
        let mode = if input.replace { UpdateMode::Replace } else { UpdateMode::Merge };
        Ok(Self { base, table, kind: WriteKind::Update { updates, mode, typecast: input.typecast } })
    }

    async fn upsert(ctx: &ToolContext, input: UpsertRecordsInput) -> Result<Self, ToolError> {
        check_count(input.records.len())?;
        if input.merge_on.is_empty() || input.merge_on.len() > 3 {
            return Err(ToolError::Invalid("merge_on names one to three fields that identify a record, e.g. [\"Email\"].".into()));
        }
        let (base, table) = input.target.open(ctx).await?;
        let merge_on = resolve::field_names(&table, &input.merge_on)?;
        for fields in &input.records {
            check_fields(&table, fields)?;
            if let Some(missing) = merge_on.iter().find(|name| !fields.contains_key(*name)) {
                return Err(ToolError::Invalid(format!("Every record needs a value for “{missing}”, which it is matched on.")));
            }
        }
        Ok(Self { base, table, kind: WriteKind::Upsert { records: input.records, merge_on, typecast: input.typecast } })
    }

    async fn delete(ctx: &ToolContext, input: DeleteRecordsInput) -> Result<Self, ToolError> {
        check_count(input.record_ids.len())?;
        let (base, table) = input.target.open(ctx).await?;
        let ids = input.record_ids.iter().map(|id| resolve::record_id(id)).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { base, table, kind: WriteKind::Delete { ids } })
    }

    /// How many records the write names.
    pub(crate) fn len(&self) -> usize {
        match &self.kind {
            WriteKind::Create { records, .. } | WriteKind::Upsert { records, .. } => records.len(),
            WriteKind::Update { updates, .. } => updates.len(),
            WriteKind::Delete { ids } => ids.len(),
        }
    }

    /// How many Airtable requests the write takes.
    pub(crate) fn chunks(&self) -> usize {
        self.len().div_ceil(RECORDS_PER_WRITE)
    }

    /// The records chunk `index` covers.
    pub(crate) fn chunk_range(&self, index: usize) -> std::ops::Range<usize> {
        let start = index * RECORDS_PER_WRITE;
        start..(start + RECORDS_PER_WRITE).min(self.len())
    }

    /// Applies chunk `index` (one request).
    ///
    /// # Errors
    /// What Airtable answered; `MaybeApplied` for a create whose answer was lost.
    pub(crate) async fn apply_chunk(&self, client: &Client, index: usize) -> Result<Applied, AirtableError> {
        let range = self.chunk_range(index);
        let table = self.table.id.as_str();
        Ok(match &self.kind {
            WriteKind::Create { records, typecast } => {
                Applied { records: client.create_records(&self.base, table, &records[range], *typecast).await?, ..Applied::default() }
            }
            WriteKind::Update { updates, mode, typecast } => {
                Applied { records: client.update_records(&self.base, table, &updates[range], *mode, *typecast).await?, ..Applied::default() }
            }
            WriteKind::Upsert { records, merge_on, typecast } => {
                let done = client.upsert_records(&self.base, table, &records[range], merge_on, *typecast).await?;
                Applied { records: done.records, created: done.created_records, deleted: Vec::new() }
            }
            WriteKind::Delete { ids } => Applied { deleted: client.delete_records(&self.base, table, &ids[range]).await?, ..Applied::default() },
        })
    }

    /// Applies every chunk in order.
    ///
    /// # Errors
    /// The first failing chunk's; earlier chunks stay applied.
    pub(crate) async fn apply(&self, client: &Client) -> Result<Applied, AirtableError> {
        let mut all = Applied::default();
        for index in 0..self.chunks() {
            all.extend(self.apply_chunk(client, index).await?);
        }
        Ok(all)
    }

    /// The tool's answer for what was applied.
    pub(crate) fn answer(&self, applied: &Applied) -> Value {
        match &self.kind {
            WriteKind::Create { .. } => written(&self.table, "created", &applied.records),
            WriteKind::Update { .. } => written(&self.table, "updated", &applied.records),
            WriteKind::Upsert { .. } => {
                let updated: Vec<&RecordId> = applied.records.iter().map(|r| &r.id).filter(|id| !applied.created.contains(id)).collect();
                let shown = fitting(&applied.records, RESULT_BUDGET - 2_000);
                json!({
                    "table": self.table.name,
                    "created_records": applied.created,
                    "updated_records": updated,
                    "records": &applied.records[..shown],
                    "records_not_shown": applied.records.len() - shown,
                })
            }
            WriteKind::Delete { .. } => json!({ "table": self.table.name, "deleted": applied.deleted.len(), "record_ids": applied.deleted }),
        }
    }
}

/// Applies a write in one go, as the tools do when no saga records them.
async fn apply_now(ctx: &ToolContext, write: Write) -> Result<Value, ToolError> {
    let applied = write.apply(&ctx.client).await?;
    Ok(write.answer(&applied))
}

pub struct CreateRecords;

#[async_trait]
impl Tool for CreateRecords {
    type Input = CreateRecordsInput;
    const NAME: &'static str = "create_records";
    const TITLE: &'static str = "Create records";
    const DESCRIPTION: &'static str = "Creates up to 100 records and returns them with their new IDs, and the change's ID for undo_change.";
    const HINTS: ToolHints = ADD;

    async fn run(&self, ctx: &ToolContext, input: CreateRecordsInput) -> Result<Value, ToolError> {
        apply_now(ctx, Write::create(ctx, input).await?).await
    }
}

pub struct UpdateRecords;

#[async_trait]
impl Tool for UpdateRecords {
    type Input = UpdateRecordsInput;
    const NAME: &'static str = "update_records";
    const TITLE: &'static str = "Update records";
    const DESCRIPTION: &'static str =
        "Changes fields of up to 100 records by ID. Only the fields given change, unless replace is true, which clears the others.";
    const HINTS: ToolHints = OVERWRITE;

    async fn run(&self, ctx: &ToolContext, input: UpdateRecordsInput) -> Result<Value, ToolError> {
        apply_now(ctx, Write::update(ctx, input).await?).await
    }
}

pub struct UpsertRecords;

#[async_trait]
impl Tool for UpsertRecords {
    type Input = UpsertRecordsInput;
    const NAME: &'static str = "upsert_records";
    const TITLE: &'static str = "Create or update records";
    const DESCRIPTION: &'static str =
        "Updates the records that match on the merge_on fields and creates the rest; reports which were created and which updated.";
    const HINTS: ToolHints = OVERWRITE;

    async fn run(&self, ctx: &ToolContext, input: UpsertRecordsInput) -> Result<Value, ToolError> {
        apply_now(ctx, Write::upsert(ctx, input).await?).await
    }
}

pub struct DeleteRecords;

#[async_trait]
impl Tool for DeleteRecords {
    type Input = DeleteRecordsInput;
    const NAME: &'static str = "delete_records";
    const TITLE: &'static str = "Delete records";
    const DESCRIPTION: &'static str =
        "Deletes up to 100 records by ID. The answer carries a change_id: undo_change brings the records back (with new IDs).";
    const HINTS: ToolHints = OVERWRITE;

    async fn run(&self, ctx: &ToolContext, input: DeleteRecordsInput) -> Result<Value, ToolError> {
        apply_now(ctx, Write::delete(ctx, input).await?).await
    }
}
