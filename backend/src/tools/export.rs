//! Exporting: a table as CSV, and a table that describes every table of a base.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::budget::records_page;
use super::cells::text;
use super::resolve::{self, Condition, TableRef};
use super::tool::{READ, Tool, ToolContext, ToolError};
use crate::airtable::ListQuery;
use crate::model::airtable::{Fields, NewField, NewTable, Table};
use crate::model::tools::ToolHints;

#[derive(Deserialize, JsonSchema)]
pub struct ExportCsvInput {
    #[serde(flatten)]
    pub target: TableRef,
    /// The columns, in order (names or IDs); every field when empty.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Only the records meeting all these conditions.
    #[serde(default)]
    pub filter: Vec<Condition>,
    /// A view's name or ID: its filters and order apply.
    #[serde(default)]
    pub view: Option<String>,
    /// next_cursor from the previous answer: the rows that follow, without the header.
    #[serde(default)]
    pub cursor: Option<String>,
}

pub struct ExportTableCsv;

#[async_trait]
impl Tool for ExportTableCsv {
    type Input = ExportCsvInput;
    const NAME: &'static str = "export_table_csv";
    const TITLE: &'static str = "Export a table as CSV";
    const DESCRIPTION: &'static str = "Exports records as CSV text (RFC 4180, header row first). A large table comes in parts: pass next_cursor back as cursor and append the rows.";
    const HINTS: ToolHints = READ;

    async fn run(&self, ctx: &ToolContext, input: ExportCsvInput) -> Result<Value, ToolError> {
        let (base, table) = input.target.open(ctx).await?;
        let columns = if input.fields.is_empty() { table.fields.iter().map(|f| f.name.clone()).collect() } else { resolve::field_names(&table, &input.fields)? };
        let query = ListQuery {
            fields: columns.clone(),
            filter_by_formula: resolve::conditions(&table, &input.filter)?,
            view: input.view,
            ..ListQuery::default()
        };
        let first = input.cursor.as_deref().is_none_or(|c| c.trim().is_empty());
        let page = records_page(&ctx.client, &base, table.id.as_str(), query, 100, input.cursor.as_deref()).await?;
        let rows: Vec<&Fields> = page.records.iter().map(|r| &r.fields).collect();
        let csv = to_csv(&columns, &rows, first)?;
        Ok(json!({ "table": table.name, "csv": csv, "rows": rows.len(), "next_cursor": page.next_cursor }))
    }
}

/// Rows as CSV. Text that a spreadsheet would run as a formula (starting with = + - @) is
/// prefixed with an apostrophe, so opening the file can't execute anything.
pub(crate) fn to_csv(columns: &[String], rows: &[&Fields], header: bool) -> Result<String, ToolError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| ToolError::Invalid(format!("The CSV could not be written: {e}"));
    if header {
        writer.write_record(columns.iter().map(|c| defuse(c))).map_err(failed)?;
    }
    for row in rows {
        let cells = columns.iter().map(|c| match row.get(c) {
            Some(Value::String(s)) => defuse(s),
            Some(value) => text(value),
            None => String::new(),
        });
        writer.write_record(cells).map_err(failed)?;
    }
    let bytes = writer.into_inner().map_err(|e| ToolError::Invalid(format!("The CSV could not be written: {e}")))?;
    Ok(String::from_utf8(bytes).expect("CSV of UTF-8 text is UTF-8"))
}

fn defuse(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{text}") } else { text.to_owned() }
}

#[derive(Deserialize, JsonSchema)]
pub struct MetadataTableInput {
    /// The base's ID, starting with "app".
    pub base_id: String,
    /// The name of the table to create or refresh (default "Table metadata").
    #[serde(default)]
    pub table_name: Option<String>,
}

pub struct CreateMetadataTable;

const METADATA_FIELDS: [(&str, &str); 6] = [
    ("Table", "singleLineText"),
    ("Table ID", "singleLineText"),
    ("Description", "multilineText"),
    ("Primary field", "singleLineText"),
    ("Field count", "number"),
    ("Fields", "multilineText"),
];

#[async_trait]
impl Tool for CreateMetadataTable {
    type Input = MetadataTableInput;
    const NAME: &'static str = "create_metadata_table";
    const TITLE: &'static str = "Create a metadata table";
    const DESCRIPTION: &'static str = "Creates (or refreshes) a table in the base with one record per table: its name, ID, description, primary field, number of fields, and each field with its type.";
    const HINTS: ToolHints = ToolHints { read_only_hint: false, destructive_hint: false, idempotent_hint: true };

    async fn run(&self, ctx: &ToolContext, input: MetadataTableInput) -> Result<Value, ToolError> {
        let base = resolve::base_id(&input.base_id)?;
        let name = input.table_name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).unwrap_or_else(|| "Table metadata".into());
        let schema = ctx.client.base_schema(&base).await?;
        let described: Vec<&Table> = schema.tables.iter().filter(|t| t.name != name).collect();
        let (target, created) = match schema.table(&name) {
            Some(existing) => {
                if let Some((missing, _)) = METADATA_FIELDS.iter().find(|(field, _)| existing.field(field).is_none()) {
                    return Err(ToolError::Invalid(format!(
                        "The base already has a table “{name}” without a “{missing}” field, so it isn't a metadata table. Choose another table_name."
                    )));
                }
                (existing.id.clone(), false)
            }
            None => {
                let fields = METADATA_FIELDS
                    .iter()
                    .map(|(field, kind)| NewField {
                        name: (*field).into(),
                        field_type: serde_json::from_value(json!(kind)).expect("known field types"),
                        description: None,
                        options: (*kind == "number").then(|| json!({ "precision": 0 })),
                    })
                    .collect();
                let table = NewTable { name: name.clone(), description: Some("One record per table of this base, made by create_metadata_table.".into()), fields };
                (ctx.client.create_table(&base, &table).await?.id, true)
            }
        };
        let rows: Vec<Fields> = described.iter().map(|t| describe(t)).collect();
        let upserted = ctx.client.upsert_records(&base, target.as_str(), &rows, &["Table ID".to_owned()], false).await?;
        Ok(json!({
            "table": name,
            "table_id": target,
            "created_table": created,
            "tables_described": rows.len(),
            "records_created": upserted.created_records.len(),
            "records_updated": upserted.updated_records.len(),
        }))
    }
}

fn describe(table: &Table) -> Fields {
    let fields: Vec<String> = table.fields.iter().map(|f| format!("{} ({})", f.name, f.field_type.name())).collect();
    let mut row = Fields::new();
    row.insert("Table".into(), json!(table.name));
    row.insert("Table ID".into(), json!(table.id));
    row.insert("Description".into(), json!(table.description.clone().unwrap_or_default()));
    row.insert("Primary field".into(), json!(table.primary_field().map(|f| f.name.clone()).unwrap_or_default()));
    row.insert("Field count".into(), json!(table.fields.len()));
    row.insert("Fields".into(), json!(fields.join("\n")));
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_what_needs_it_and_defuses_formulas() {
        let mut row = Fields::new();
        row.insert("Name".into(), json!("Ada, \"the first\""));
        row.insert("Note".into(), json!("=HYPERLINK(\"http://evil\")"));
        row.insert("Tags".into(), json!(["a", "b"]));
        row.insert("Count".into(), json!(-3));
        let columns = ["Name", "Note", "Tags", "Count"].map(String::from);
        let csv = to_csv(&columns, &[&row], true).unwrap();
        assert_eq!(csv, "Name,Note,Tags,Count\n\"Ada, \"\"the first\"\"\",\"'=HYPERLINK(\"\"http://evil\"\")\",\"a, b\",-3\n");
    }
}
