//! Changing the schema: create and update tables and fields.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::resolve::{self, TableRef};
use super::tool::{ADD, OVERWRITE, Tool, ToolContext, ToolError};
use crate::model::airtable::{FieldType, NewField, NewTable, Rename};
use crate::model::tools::ToolHints;

/// A new field.
#[derive(Deserialize, JsonSchema)]
pub struct FieldSpec {
    pub name: String,
    /// Airtable's field type, e.g. singleLineText, multilineText, number, currency, percent,
    /// checkbox, singleSelect, multipleSelects, date, dateTime, email, url, phoneNumber,
    /// rating, multipleRecordLinks.
    #[serde(rename = "type")]
    pub field_type: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The type's options as Airtable documents them, e.g. {"precision": 2} for a number,
    /// {"choices": [{"name": "Todo"}]} for a select, {"linkedTableId": "tbl…"} for links.
    #[serde(default)]
    pub options: Option<Value>,
}

impl FieldSpec {
    fn into_new_field(self) -> Result<NewField, ToolError> {
        if self.name.trim().is_empty() {
            return Err(ToolError::Invalid("Every field needs a name.".into()));
        }
        let field_type: FieldType = serde_json::from_value(Value::String(self.field_type.trim().to_owned()))
            .map_err(|_| ToolError::Invalid(format!("“{}” is not a field type.", self.field_type)))?;
        if field_type.is_computed() {
            return Err(ToolError::Invalid(format!("{} fields are computed by Airtable and can't be created through the API.", field_type.name())));
        }
        Ok(NewField { name: self.name.trim().to_owned(), field_type, description: self.description, options: self.options })
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct CreateTableInput {
    /// The base's ID, starting with "app".
    pub base_id: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The fields; the first becomes the primary field and must be a text, number or date type.
    pub fields: Vec<FieldSpec>,
}

pub struct CreateTable;

#[async_trait]
impl Tool for CreateTable {
    type Input = CreateTableInput;
    const NAME: &'static str = "create_table";
    const TITLE: &'static str = "Create a table";
    const DESCRIPTION: &'static str = "Creates a table with its fields in a base. The first field is the primary field.";
    const HINTS: ToolHints = ADD;

    async fn run(&self, ctx: &ToolContext, input: CreateTableInput) -> Result<Value, ToolError> {
        let base = resolve::base_id(&input.base_id)?;
        if input.fields.is_empty() {
            return Err(ToolError::Invalid("A table needs at least one field: the first is its primary field.".into()));
        }
        let fields = input.fields.into_iter().map(FieldSpec::into_new_field).collect::<Result<Vec<_>, _>>()?;
        let table = NewTable { name: input.name.trim().to_owned(), description: input.description, fields };
        let created = ctx.client.create_table(&base, &table).await?;
        Ok(json!({ "table": created }))
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct UpdateTableInput {
    /// The table's current name or ID, in its base.
    #[serde(flatten)]
    pub target: TableRef,
    /// A new name, if it changes.
    #[serde(default)]
    pub name: Option<String>,
    /// A new description, if it changes.
    #[serde(default)]
    pub description: Option<String>,
}

pub struct UpdateTable;

#[async_trait]
impl Tool for UpdateTable {
    type Input = UpdateTableInput;
    const NAME: &'static str = "update_table";
    const TITLE: &'static str = "Rename or describe a table";
    const DESCRIPTION: &'static str = "Changes a table's name or description.";
    const HINTS: ToolHints = OVERWRITE;

    async fn run(&self, ctx: &ToolContext, input: UpdateTableInput) -> Result<Value, ToolError> {
        let change = rename(input.name, input.description)?;
        let (base, table) = input.target.open(ctx).await?;
        let updated = ctx.client.update_table(&base, table.id.as_str(), &change).await?;
        Ok(json!({ "table": { "id": updated.id, "name": updated.name, "description": updated.description } }))
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct CreateFieldInput {
    #[serde(flatten)]
    pub target: TableRef,
    #[serde(flatten)]
    pub field: FieldSpec,
}

pub struct CreateField;

#[async_trait]
impl Tool for CreateField {
    type Input = CreateFieldInput;
    const NAME: &'static str = "create_field";
    const TITLE: &'static str = "Create a field";
    const DESCRIPTION: &'static str = "Adds a field to a table.";
    const HINTS: ToolHints = ADD;

    async fn run(&self, ctx: &ToolContext, input: CreateFieldInput) -> Result<Value, ToolError> {
        let (base, table) = input.target.open(ctx).await?;
        let field = input.field.into_new_field()?;
        if table.field(&field.name).is_some() {
            return Err(ToolError::Invalid(format!("The table “{}” already has a field “{}”. Pick another name.", table.name, field.name)));
        }
        let created = ctx.client.create_field(&base, table.id.as_str(), &field).await?;
        Ok(json!({ "table": table.name, "field": created }))
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct UpdateFieldInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// The field's current name or ID.
    pub field: String,
    /// A new name, if it changes.
    #[serde(default)]
    pub name: Option<String>,
    /// A new description, if it changes.
    #[serde(default)]
    pub description: Option<String>,
}

pub struct UpdateField;

#[async_trait]
impl Tool for UpdateField {
    type Input = UpdateFieldInput;
    const NAME: &'static str = "update_field";
    const TITLE: &'static str = "Rename or describe a field";
    const DESCRIPTION: &'static str = "Changes a field's name or description (Airtable's API can't change a field's type).";
    const HINTS: ToolHints = OVERWRITE;

    async fn run(&self, ctx: &ToolContext, input: UpdateFieldInput) -> Result<Value, ToolError> {
        let change = rename(input.name, input.description)?;
        let (base, table) = input.target.open(ctx).await?;
        let field = resolve::field(&table, &input.field)?;
        let updated = ctx.client.update_field(&base, table.id.as_str(), &field.id, &change).await?;
        Ok(json!({ "table": table.name, "field": updated }))
    }
}

fn rename(name: Option<String>, description: Option<String>) -> Result<Rename, ToolError> {
    let name = name.map(|n| n.trim().to_owned());
    if name.as_deref() == Some("") {
        return Err(ToolError::Invalid("A name can't be empty.".into()));
    }
    if name.is_none() && description.is_none() {
        return Err(ToolError::Invalid("Give a new name, a new description, or both.".into()));
    }
    Ok(Rename { name, description })
}
