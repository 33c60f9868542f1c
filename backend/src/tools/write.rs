//! Writing records: create, update, upsert and delete, up to 100 records a call.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::budget::{RESULT_BUDGET, fitting};
use super::resolve::{self, TableRef};
use super::tool::{ADD, OVERWRITE, Tool, ToolContext, ToolError};
use crate::airtable::{RecordUpdate, UpdateMode};
use crate::model::airtable::{Fields, Record, Table};
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

pub struct CreateRecords;

#[async_trait]
impl Tool for CreateRecords {
    type Input = CreateRecordsInput;
    const NAME: &'static str = "create_records";
    const TITLE: &'static str = "Create records";
    const DESCRIPTION: &'static str = "Creates up to 100 records and returns them with their new IDs.";
    const HINTS: ToolHints = ADD;

    async fn run(&self, ctx: &ToolContext, input: CreateRecordsInput) -> Result<Value, ToolError> {
        check_count(input.records.len())?;
        let (base, table) = input.target.open(ctx).await?;
        for fields in &input.records {
            check_fields(&table, fields)?;
        }
        let created = ctx.client.create_records(&base, table.id.as_str(), &input.records, input.typecast).await?;
        Ok(written(&table, "created", &created))
    }
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
        let updated = ctx.client.update_records(&base, table.id.as_str(), &updates, mode, input.typecast).await?;
        Ok(written(&table, "updated", &updated))
    }
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
        let done = ctx.client.upsert_records(&base, table.id.as_str(), &input.records, &merge_on, input.typecast).await?;
        let shown = fitting(&done.records, RESULT_BUDGET - 2_000);
        Ok(json!({
            "table": table.name,
            "created_records": done.created_records,
            "updated_records": done.updated_records,
            "records": &done.records[..shown],
            "records_not_shown": done.records.len() - shown,
        }))
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct DeleteRecordsInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// Up to 100 record IDs, starting with "rec".
    pub record_ids: Vec<String>,
}

pub struct DeleteRecords;

#[async_trait]
impl Tool for DeleteRecords {
    type Input = DeleteRecordsInput;
    const NAME: &'static str = "delete_records";
    const TITLE: &'static str = "Delete records";
    const DESCRIPTION: &'static str = "Deletes up to 100 records by ID. This can't be undone.";
    const HINTS: ToolHints = OVERWRITE;

    async fn run(&self, ctx: &ToolContext, input: DeleteRecordsInput) -> Result<Value, ToolError> {
        check_count(input.record_ids.len())?;
        let (base, table) = input.target.open(ctx).await?;
        let ids = input.record_ids.iter().map(|id| resolve::record_id(id)).collect::<Result<Vec<_>, _>>()?;
        let deleted = ctx.client.delete_records(&base, table.id.as_str(), &ids).await?;
        Ok(json!({ "table": table.name, "deleted": deleted.len(), "record_ids": deleted }))
    }
}
