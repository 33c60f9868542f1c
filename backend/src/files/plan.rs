//! An import's plan: each imported column with the field it fills and the type its values are
//! read as, worked out against the target table. Fields the table lacks, or the whole table,
//! are made first through the Meta API, so this works on real Airtable and the sandbox alike.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::FileError;
use crate::airtable::Client;
use crate::model::airtable::{BaseId, FieldType, NewField, NewTable, Table};
use crate::model::files::{Column, ColumnMapping, ColumnType, DateOrder, ImportRequest};

/// What an import writes, kept with it so that a restart goes on the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct Plan {
    pub sheet: Option<String>,
    /// The file's number convention.
    pub decimal_comma: bool,
    pub columns: Vec<PlannedColumn>,
    /// The field records are matched on, for an import that updates what it finds.
    pub key_field: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct PlannedColumn {
    /// The column's place in the file's rows.
    pub index: usize,
    pub name: String,
    pub field: String,
    pub read_as: ColumnType,
}

/// Checks `request` against the file's `columns` and the base, makes what the table lacks,
/// and answers the table as it now is with the plan.
///
/// # Errors
/// `Refused` for a mapping that can't work (with what to change); `Airtable`.
pub(super) async fn plan(client: &Client, request: &ImportRequest, columns: &[Column], decimal_comma: bool) -> Result<(Table, Plan), FileError> {
    let base = BaseId::parse(request.base_id.trim()).map_err(|e| FileError::Refused(format!("{e}. Choose one of your bases.")))?;
    let wanted = wanted(request, columns)?;
    let schema = client.base_schema(&base).await?;
    let table = match schema.table(request.table.trim()) {
        Some(table) => {
            let mut table = table.clone();
            for (column, field, read_as) in &wanted {
                if table.field(field).is_none() {
                    let made = client.create_field(&base, table.id.as_str(), &new_field(field, read_as)).await.map_err(|e| {
                        FileError::Refused(format!("The field “{field}” for column “{}” could not be made: {e}", column.name))
                    })?;
                    table.fields.push(made);
                }
            }
            table
        }
        None => client.create_table(&base, &new_table(request.table.trim(), &wanted)?).await?,
    };
    let mut planned = Vec::with_capacity(wanted.len());
    for (column, field_name, read_as) in wanted {
        let field = table.field(&field_name).ok_or_else(|| FileError::Refused(format!("The table has no field “{field_name}”.")))?;
        if field.field_type.is_computed() {
            return Err(FileError::Refused(format!("“{}” is computed by Airtable and can't be imported into; skip column “{}” or choose another field.", field.name, column.name)));
        }
        let read_as = ColumnType { field_type: field.field_type.clone(), date_order: read_as.date_order, ..read_as };
        check_dates(column, &read_as)?;
        let index = columns.iter().position(|c| c.name == column.name).unwrap_or_default();
        planned.push(PlannedColumn { index, name: column.name.clone(), field: field.name.clone(), read_as });
    }
    let key_field = match request.key_field.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None => None,
        Some(key) => Some(
            planned
                .iter()
                .find(|c| c.field == key || c.name == key)
                .map(|c| c.field.clone())
                .ok_or_else(|| FileError::Refused(format!("The key field “{key}” is not one of the fields this import fills.")))?,
        ),
    };
    Ok((table, Plan { sheet: request.sheet.clone(), decimal_comma, columns: planned, key_field }))
}

/// The columns asked for, each with its field's name and the type to read it as.
fn wanted<'a>(request: &ImportRequest, columns: &'a [Column]) -> Result<Vec<(&'a Column, String, ColumnType)>, FileError> {
    let mapping: Vec<ColumnMapping> = match &request.mapping {
        Some(mapping) => mapping.clone(),
        None => columns.iter().map(|c| ColumnMapping { column: c.name.clone(), field: Some(c.name.clone()), column_type: None }).collect(),
    };
    let mut seen = HashSet::new();
    let mut wanted = Vec::new();
    for entry in mapping {
        let column = columns
            .iter()
            .find(|c| c.name == entry.column)
            .ok_or_else(|| FileError::Refused(format!("The file has no column “{}”.", entry.column.chars().take(80).collect::<String>())))?;
        let Some(field) = entry.field.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()) else { continue };
        if !seen.insert(field.to_lowercase()) {
            return Err(FileError::Refused(format!("Two columns go to the field “{field}”; each field takes one column.")));
        }
        let read_as = entry.column_type.unwrap_or_else(|| column.inferred.clone());
        wanted.push((column, field, read_as));
    }
    if wanted.is_empty() {
        return Err(FileError::Refused("Every column is skipped; map at least one to a field.".into()));
    }
    Ok(wanted)
}

/// Slashed dates whose order nobody chose can't be read: ask rather than guess.
fn check_dates(column: &Column, read_as: &ColumnType) -> Result<(), FileError> {
    let is_date = matches!(read_as.field_type, FieldType::Date | FieldType::DateTime);
    let ambiguous = column.inferred.date_order == Some(DateOrder::Ambiguous);
    let chosen = matches!(read_as.date_order, Some(DateOrder::DayFirst | DateOrder::MonthFirst));
    if is_date && ambiguous && !chosen {
        return Err(FileError::Refused(format!(
            "Column “{}” has dates like 03/04/2024 that read both day first and month first; choose which before importing.",
            column.name
        )));
    }
    Ok(())
}

/// A new table of the wanted fields. Its first field is its primary one, so the first column
/// of a type Airtable allows there goes first (or the first column, as text).
fn new_table(name: &str, wanted: &[(&Column, String, ColumnType)]) -> Result<NewTable, FileError> {
    if name.is_empty() {
        return Err(FileError::Refused("Name the table to import into.".into()));
    }
    if name.starts_with("tbl") && name.len() == 17 {
        return Err(FileError::Refused(format!("The base has no table {name}.")));
    }
    let mut fields: Vec<NewField> = wanted.iter().map(|(_, field, read_as)| new_field(field, read_as)).collect();
    match fields.iter().position(|f| can_be_primary(&f.field_type)) {
        Some(first) => {
            let primary = fields.remove(first);
            fields.insert(0, primary);
        }
        None => fields[0] = NewField { field_type: FieldType::SingleLineText, options: None, ..fields[0].clone() },
    }
    Ok(NewTable { name: name.to_owned(), description: Some("Imported from a file.".into()), fields })
}

fn can_be_primary(field_type: &FieldType) -> bool {
    matches!(
        field_type,
        FieldType::SingleLineText
            | FieldType::MultilineText
            | FieldType::Email
            | FieldType::Url
            | FieldType::PhoneNumber
            | FieldType::Number
            | FieldType::Currency
            | FieldType::Percent
            | FieldType::Date
            | FieldType::DateTime
            | FieldType::Duration
    )
}

/// A field of `read_as`'s type with the options Airtable requires for it.
pub(super) fn new_field(name: &str, read_as: &ColumnType) -> NewField {
    let precision = |default: u8| json!(read_as.precision.unwrap_or(default).min(8));
    let choices = || json!({ "choices": read_as.choices.iter().map(|c| json!({ "name": c })).collect::<Vec<Value>>() });
    let options = match read_as.field_type {
        FieldType::Number | FieldType::Percent => Some(json!({ "precision": precision(0) })),
        FieldType::Currency => Some(json!({ "precision": precision(2), "symbol": read_as.symbol.clone().unwrap_or_else(|| "$".into()) })),
        FieldType::Checkbox => Some(json!({ "icon": "check", "color": "greenBright" })),
        FieldType::Date => Some(json!({ "dateFormat": { "name": "iso" } })),
        FieldType::DateTime => Some(json!({ "dateFormat": { "name": "iso" }, "timeFormat": { "name": "24hour" }, "timeZone": "utc" })),
        FieldType::SingleSelect | FieldType::MultipleSelects => Some(choices()),
        FieldType::Rating => Some(json!({ "max": 5, "icon": "star", "color": "yellowBright" })),
        _ => None,
    };
    NewField { name: name.to_owned(), field_type: read_as.field_type.clone(), description: None, options }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, field_type: FieldType) -> Column {
        Column { name: name.into(), inferred: ColumnType::of(field_type), filled: 1, misfits: vec![] }
    }

    #[test]
    fn a_new_tables_primary_field_is_the_first_column_airtable_allows_there() {
        let (done, name) = (column("Done", FieldType::Checkbox), column("Name", FieldType::SingleLineText));
        let wanted = vec![(&done, "Done".to_owned(), done.inferred.clone()), (&name, "Name".to_owned(), name.inferred.clone())];
        let table = new_table("Tasks", &wanted).unwrap();
        assert_eq!(table.fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["Name", "Done"]);
        let only_done = vec![(&done, "Done".to_owned(), done.inferred.clone())];
        assert_eq!(new_table("Tasks", &only_done).unwrap().fields[0].field_type, FieldType::SingleLineText);
    }

    #[test]
    fn ambiguous_dates_must_have_their_order_chosen() {
        let mut dates = column("Due", FieldType::Date);
        dates.inferred.date_order = Some(DateOrder::Ambiguous);
        let err = check_dates(&dates, &dates.inferred).unwrap_err();
        assert!(err.to_string().contains("choose which"), "{err}");
        let chosen = ColumnType { date_order: Some(DateOrder::DayFirst), ..dates.inferred.clone() };
        assert!(check_dates(&dates, &chosen).is_ok());
        assert!(check_dates(&dates, &ColumnType::of(FieldType::SingleLineText)).is_ok(), "read as text, dates need no order");
    }

    #[test]
    fn a_mapping_that_sends_two_columns_to_one_field_or_skips_all_is_refused() {
        let columns = vec![column("A", FieldType::SingleLineText), column("B", FieldType::SingleLineText)];
        let request = |mapping: Vec<ColumnMapping>| ImportRequest {
            file_id: "f".into(),
            sheet: None,
            base_id: "appAAAAAAAAAAAAAA".into(),
            table: "T".into(),
            mapping: Some(mapping),
            key_field: None,
        };
        let to = |column: &str, field: Option<&str>| ColumnMapping { column: column.into(), field: field.map(Into::into), column_type: None };
        assert!(wanted(&request(vec![to("A", Some("X")), to("B", Some("x"))]), &columns).is_err());
        assert!(wanted(&request(vec![to("A", None), to("B", None)]), &columns).is_err());
        assert!(wanted(&request(vec![to("C", Some("C"))]), &columns).unwrap_err().to_string().contains("no column “C”"));
        assert_eq!(wanted(&request(vec![to("A", None), to("B", Some("Bee"))]), &columns).unwrap().len(), 1);
    }
}
