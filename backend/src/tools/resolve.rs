//! Turning what a caller names (a base ID, a table or field by name or ID, conditions) into
//! what the client needs, with errors that list what does exist.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::tool::{ToolContext, ToolError};
use crate::airtable::filters::{self, FilterError, FilterOp};
use crate::airtable::formula;
use crate::model::airtable::{BaseId, Field, RecordId, Table};

impl From<FilterError> for ToolError {
    fn from(e: FilterError) -> Self {
        ToolError::Invalid(e.0)
    }
}

/// A base ID as the caller gave it.
pub(crate) fn base_id(text: &str) -> Result<BaseId, ToolError> {
    BaseId::parse(text).map_err(|e| ToolError::Invalid(format!("{e}. Use list_bases to see the bases and their IDs.")))
}

/// The base and table most tools act on, as every tool's arguments name them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct TableRef {
    /// The base's ID, starting with "app" (see list_bases).
    pub base_id: String,
    /// The table's name or ID.
    pub table: String,
}

impl TableRef {
    /// The base's ID and the table's schema, or an error naming what does exist.
    pub(crate) async fn open(&self, ctx: &ToolContext) -> Result<(BaseId, Table), ToolError> {
        let base = base_id(&self.base_id)?;
        let table = table(ctx, &base, &self.table).await?;
        Ok((base, table))
    }
}

/// A record ID as the caller gave it.
pub(crate) fn record_id(text: &str) -> Result<RecordId, ToolError> {
    RecordId::parse(text).map_err(|e| ToolError::Invalid(format!("{e}. Use list_records or search_records to find record IDs.")))
}

/// A table of the base, by ID or exact name.
pub(crate) async fn table(ctx: &ToolContext, base: &BaseId, name: &str) -> Result<Table, ToolError> {
    let schema = ctx.client.base_schema(base).await.map_err(|e| {
        if e.is_not_found() {
            ToolError::Invalid(format!("No base {base} can be reached with this connection. Use list_bases to see the bases and their IDs."))
        } else {
            e.into()
        }
    })?;
    schema.table(name.trim()).cloned().ok_or_else(|| {
        let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
        ToolError::Invalid(format!("The base has no table “{}”. Its tables are: {}.", name.trim(), names.join(", ")))
    })
}

/// A field of the table, by ID or exact name.
pub(crate) fn field<'a>(table: &'a Table, name: &str) -> Result<&'a Field, ToolError> {
    Ok(filters::field(table, name)?)
}

/// Checks that every named field exists, and returns their names (IDs become names).
pub(crate) fn field_names(table: &Table, names: &[String]) -> Result<Vec<String>, ToolError> {
    names.iter().map(|name| field(table, name).map(|f| f.name.clone())).collect()
}

/// One condition on a field: `{"field": "Status", "op": "is", "value": "Done"}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub(crate) struct Condition {
    /// A field name or ID.
    pub field: String,
    pub op: FilterOp,
    /// What to compare with; leave it out for is_empty and is_not_empty.
    #[serde(default)]
    pub value: Option<Value>,
}

/// All conditions together, as one formula; `None` when there are none.
pub(crate) fn conditions(table: &Table, conditions: &[Condition]) -> Result<Option<String>, ToolError> {
    let parts = conditions
        .iter()
        .map(|c| {
            let value = match &c.value {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            Ok(filters::condition(field(table, &c.field)?, c.op, &value)?)
        })
        .collect::<Result<Vec<String>, ToolError>>()?;
    Ok((!parts.is_empty()).then(|| formula::and(&parts)))
}
