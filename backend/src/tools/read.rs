//! Reading and searching: bases, tables, fields and records.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::budget::{RESULT_BUDGET, fitting, records_page, shorten_cells};
use super::resolve::{self, Condition, TableRef};
use super::tool::{READ, Tool, ToolContext, ToolError};
use crate::airtable::ListQuery;
use crate::airtable::filters;
use crate::airtable::formula;
use crate::model::airtable::{Direction, Sort, Table};
use crate::model::tools::ToolHints;

/// No arguments.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInput {}

/// Just the base.
#[derive(Deserialize, JsonSchema)]
pub struct BaseInput {
    /// The base's ID, starting with "app" (see list_bases).
    pub base_id: String,
}

pub struct ListBases;

#[async_trait]
impl Tool for ListBases {
    type Input = NoInput;
    const NAME: &'static str = "list_bases";
    const TITLE: &'static str = "List bases";
    const DESCRIPTION: &'static str = "Lists the Airtable bases this connection can reach, with their IDs and permission levels.";
    const HINTS: ToolHints = READ;

    async fn run(&self, ctx: &ToolContext, _: NoInput) -> Result<Value, ToolError> {
        let bases = ctx.client.list_bases().await?;
        let shown = fitting(&bases, RESULT_BUDGET - 500);
        Ok(json!({ "bases": &bases[..shown], "total": bases.len(), "truncated": shown < bases.len() }))
    }
}

pub struct ListTables;

#[async_trait]
impl Tool for ListTables {
    type Input = BaseInput;
    const NAME: &'static str = "list_tables";
    const TITLE: &'static str = "List tables";
    const DESCRIPTION: &'static str = "Lists a base's tables: ID, name, description, primary field and number of fields.";
    const HINTS: ToolHints = READ;

    async fn run(&self, ctx: &ToolContext, input: BaseInput) -> Result<Value, ToolError> {
        let base = resolve::base_id(&input.base_id)?;
        let schema = ctx.client.base_schema(&base).await?;
        let tables: Vec<Value> = schema
            .tables
            .iter()
            .map(|t| {
                json!({
                    "id": t.id,
                    "name": t.name,
                    "description": t.description,
                    "primary_field": t.primary_field().map(|f| f.name.clone()),
                    "field_count": t.fields.len(),
                })
            })
            .collect();
        Ok(json!({ "tables": tables }))
    }
}

/// How much of a table to describe.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Detail {
    /// Field names only.
    Names,
    /// Names, types and descriptions.
    #[default]
    Fields,
    /// Everything, with each field's options (select choices, linked table, formats) and the views.
    Full,
}

#[derive(Deserialize, JsonSchema)]
pub struct DescribeTableInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// names, fields (the default) or full.
    #[serde(default)]
    pub detail: Detail,
}

pub struct DescribeTable;

#[async_trait]
impl Tool for DescribeTable {
    type Input = DescribeTableInput;
    const NAME: &'static str = "describe_table";
    const TITLE: &'static str = "Describe a table";
    const DESCRIPTION: &'static str =
        "Describes a table's fields: detail \"names\" gives field names only, \"fields\" adds types and descriptions, \"full\" adds each field's options and the views.";
    const HINTS: ToolHints = READ;

    async fn run(&self, ctx: &ToolContext, input: DescribeTableInput) -> Result<Value, ToolError> {
        let (_, table) = input.target.open(ctx).await?;
        Ok(describe(&table, input.detail))
    }
}

fn describe(table: &Table, detail: Detail) -> Value {
    let primary = table.primary_field().map(|f| f.name.clone());
    match detail {
        Detail::Names => json!({
            "id": table.id, "name": table.name, "primary_field": primary,
            "fields": table.fields.iter().map(|f| f.name.clone()).collect::<Vec<_>>(),
        }),
        Detail::Fields => json!({
            "id": table.id, "name": table.name, "description": table.description, "primary_field": primary,
            "fields": table.fields.iter().map(|f| json!({
                "id": f.id, "name": f.name, "type": f.field_type.name(), "description": f.description,
            })).collect::<Vec<_>>(),
        }),
        Detail::Full => json!({
            "id": table.id, "name": table.name, "description": table.description, "primary_field": primary,
            "fields": table.fields,
            "views": table.views,
        }),
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    #[default]
    Asc,
    Desc,
}

/// One sort key.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
pub struct SortBy {
    /// A field name or ID.
    pub field: String,
    #[serde(default)]
    pub direction: Order,
}

#[derive(Deserialize, JsonSchema)]
pub struct ListRecordsInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// Conditions that must all hold, e.g. [{"field": "Status", "op": "is", "value": "Done"}].
    /// Values are escaped; use this rather than writing a formula.
    #[serde(default)]
    pub filter: Vec<Condition>,
    /// An Airtable formula that records must satisfy, for what `filter` can't express.
    #[serde(default)]
    pub filter_by_formula: Option<String>,
    #[serde(default)]
    pub sort: Vec<SortBy>,
    /// Only these fields (names or IDs); all fields when empty.
    #[serde(default)]
    pub fields: Vec<String>,
    /// A view's name or ID: its filters and order apply.
    #[serde(default)]
    pub view: Option<String>,
    /// Records per page, 1 to 100 (default 20). A page may hold fewer to stay within the size budget.
    #[serde(default)]
    pub page_size: Option<u32>,
    /// next_cursor from the previous answer, to get the following page.
    #[serde(default)]
    pub cursor: Option<String>,
}

pub struct ListRecords;

#[async_trait]
impl Tool for ListRecords {
    type Input = ListRecordsInput;
    const NAME: &'static str = "list_records";
    const TITLE: &'static str = "List records";
    const DESCRIPTION: &'static str = "Lists a table's records a page at a time, with optional conditions, sort, fields and view. Pass next_cursor back as cursor for the next page; it is absent on the last page.";
    const HINTS: ToolHints = READ;

    async fn run(&self, ctx: &ToolContext, input: ListRecordsInput) -> Result<Value, ToolError> {
        let (base, table) = input.target.open(ctx).await?;
        let mut parts: Vec<String> = resolve::conditions(&table, &input.filter)?.into_iter().collect();
        if let Some(raw) = input.filter_by_formula.filter(|f| !f.trim().is_empty()) {
            parts.push(raw);
        }
        let sort = input
            .sort
            .iter()
            .map(|s| {
                let field = resolve::field(&table, &s.field)?;
                let direction = match s.direction {
                    Order::Asc => Direction::Asc,
                    Order::Desc => Direction::Desc,
                };
                Ok(Sort { field: field.name.clone(), direction })
            })
            .collect::<Result<Vec<_>, ToolError>>()?;
        let query = ListQuery {
            fields: resolve::field_names(&table, &input.fields)?,
            filter_by_formula: (!parts.is_empty()).then(|| formula::and(&parts)),
            sort,
            view: input.view,
            ..ListQuery::default()
        };
        let page = records_page(&ctx.client, &base, table.id.as_str(), query, input.page_size.unwrap_or(20), input.cursor.as_deref()).await?;
        Ok(json!({ "table": table.name, "records": page.records, "count": page.records.len(), "next_cursor": page.next_cursor }))
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct GetRecordInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// The record's ID, starting with "rec".
    pub record_id: String,
}

pub struct GetRecord;

#[async_trait]
impl Tool for GetRecord {
    type Input = GetRecordInput;
    const NAME: &'static str = "get_record";
    const TITLE: &'static str = "Get a record";
    const DESCRIPTION: &'static str = "Gets one record by its ID, with every field.";
    const HINTS: ToolHints = READ;

    async fn run(&self, ctx: &ToolContext, input: GetRecordInput) -> Result<Value, ToolError> {
        let (base, table) = input.target.open(ctx).await?;
        let id = resolve::record_id(&input.record_id)?;
        let record = ctx.client.get_record(&base, table.id.as_str(), &id).await.map_err(|e| {
            if e.is_not_found() {
                ToolError::Invalid(format!("The table “{}” has no record {id}. Use list_records or search_records to find IDs.", table.name))
            } else {
                e.into()
            }
        })?;
        Ok(json!({ "table": table.name, "record": record }))
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct SearchRecordsInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// The text to look for, ignoring case. Any characters are safe: the text is escaped.
    pub query: String,
    /// Only these fields (names or IDs); every text field when empty.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Records per page, 1 to 100 (default 20).
    #[serde(default)]
    pub page_size: Option<u32>,
    /// next_cursor from the previous answer.
    #[serde(default)]
    pub cursor: Option<String>,
}

pub struct SearchRecords;

#[async_trait]
impl Tool for SearchRecords {
    type Input = SearchRecordsInput;
    const NAME: &'static str = "search_records";
    const TITLE: &'static str = "Search records";
    const DESCRIPTION: &'static str =
        "Finds the records whose text fields contain the query, ignoring case, across the whole table (not a sample). Pages like list_records.";
    const HINTS: ToolHints = READ;

    async fn run(&self, ctx: &ToolContext, input: SearchRecordsInput) -> Result<Value, ToolError> {
        if input.query.trim().is_empty() {
            return Err(ToolError::Invalid("The query is empty: give the text to look for, or use list_records to see every record.".into()));
        }
        let (base, table) = input.target.open(ctx).await?;
        let query = ListQuery { filter_by_formula: Some(filters::search(&table, &input.query, &input.fields)?), ..ListQuery::default() };
        let page = records_page(&ctx.client, &base, table.id.as_str(), query, input.page_size.unwrap_or(20), input.cursor.as_deref()).await?;
        Ok(json!({ "table": table.name, "query": input.query, "records": page.records, "count": page.records.len(), "next_cursor": page.next_cursor }))
    }
}

#[derive(Deserialize, JsonSchema)]
pub struct GetFieldInfoInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// The field's name or ID.
    pub field: String,
}

pub struct GetFieldInfo;

#[async_trait]
impl Tool for GetFieldInfo {
    type Input = GetFieldInfoInput;
    const NAME: &'static str = "get_field_info";
    const TITLE: &'static str = "Get a field's details";
    const DESCRIPTION: &'static str =
        "Gets one field's type, description and options (select choices, the linked table, number formats), and what values it takes when writing.";
    const HINTS: ToolHints = READ;

    async fn run(&self, ctx: &ToolContext, input: GetFieldInfoInput) -> Result<Value, ToolError> {
        let (_, table) = input.target.open(ctx).await?;
        let field = resolve::field(&table, &input.field)?;
        let mut options = field.options.clone().unwrap_or(Value::Null);
        if let Value::Object(map) = &mut options {
            shorten_cells(map);
        }
        Ok(json!({
            "table": table.name,
            "id": field.id,
            "name": field.name,
            "type": field.field_type.name(),
            "description": field.description,
            "options": options,
            "is_primary": field.id == table.primary_field_id,
            "writable": !field.field_type.is_computed(),
            "accepts": accepts(&field.field_type),
        }))
    }
}

/// What a write to a field of this type takes, for a model composing one.
fn accepts(field_type: &crate::model::airtable::FieldType) -> &'static str {
    use crate::model::airtable::FieldType as T;
    match field_type {
        T::SingleLineText | T::MultilineText | T::RichText => "text",
        T::Email => "an email address as text",
        T::Url => "a URL as text",
        T::PhoneNumber => "a phone number as text",
        T::Number | T::Currency | T::Percent | T::Rating => "a number (percent as a fraction: 0.5 is 50%)",
        T::Duration => "a number of seconds",
        T::Checkbox => "true or false",
        T::SingleSelect => "one of the choices' names (typecast adds a new choice)",
        T::MultipleSelects => "a list of choice names",
        T::Date => "a date as YYYY-MM-DD",
        T::DateTime => "an ISO 8601 date and time, e.g. 2026-03-01T09:30:00.000Z",
        T::MultipleRecordLinks => "a list of record IDs from the linked table",
        T::CreatedTime | T::LastModifiedTime | T::AutoNumber => "nothing: Airtable computes it",
        T::Other(_) => "what Airtable's documentation gives for this type",
    }
}
