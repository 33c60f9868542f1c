//! The steps of an import's saga, made as it goes: the next rows of the file, converted to
//! their fields' types, ten to a step. A row whose value doesn't fit its field is set aside
//! here with the reason; a step Airtable refuses is sent again a row at a time, and the row it
//! refuses alone is set aside with Airtable's reason.
//!
//! Each running import keeps a reader on a blocking thread that reads a little ahead of the
//! steps through a bounded channel, so a large file is read once, a few rows in memory at a
//! time. After a restart, a new reader starts at the saga's `fed` count.

use std::collections::HashMap;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::imports::{ImportRow, Imports};
use super::plan::Plan;
use super::{Cell, FileError, convert, read, store};
use crate::airtable::RECORDS_PER_WRITE;
use crate::auth::UserId;
use crate::model::airtable::Fields;
use crate::sagas::{Call, Fed, SagaError, StepFeed};
use crate::shown::Shown;

/// Rows read ahead of the steps that write them.
const READ_AHEAD: usize = 64;
/// A reader nobody asked for rows this long (its import cancelled, say) is closed.
const IDLE: Duration = Duration::from_secs(300);

type Row = Result<(u64, Vec<Cell>), FileError>;

/// A reader of one import's file, positioned at `next_row`.
struct RowReader {
    next_row: u64,
    rows: mpsc::Receiver<Row>,
    used: Instant,
}

pub(super) struct ImportFeed {
    imports: Imports,
    files: store::Store,
    dir: PathBuf,
    readers: Mutex<HashMap<String, RowReader>>,
}

impl ImportFeed {
    pub fn new(imports: Imports, files: store::Store, dir: PathBuf) -> Self {
        Self { imports, files, dir, readers: Mutex::new(HashMap::new()) }
    }

    /// The import's reader if it stands at `from`, or a new one started there.
    async fn reader(&self, import: &ImportRow, plan: &Plan, from: u64) -> Result<RowReader, SagaError> {
        let kept = {
            let mut readers = self.readers.lock().expect("import readers lock");
            readers.retain(|_, r| r.used.elapsed() < IDLE);
            readers.remove(&import.id)
        };
        if let Some(reader) = kept.filter(|r| r.next_row == from) {
            return Ok(reader);
        }
        let user = UserId::parse(&import.user_id).ok_or_else(|| SagaError::Invalid("This import's owner is gone.".into()))?;
        let (file, layout) = match self.files.get(&user, &import.file_id).await {
            Ok(found) => found,
            Err(FileError::NotFound) => return Err(SagaError::Invalid("The file being imported was deleted or expired.".into())),
            Err(e) => return Err(saga_error(e)),
        };
        let path = self.dir.join(&file.id);
        let names: Vec<String> = file.columns.iter().map(|c| c.name.clone()).collect();
        let sheet = plan.sheet.clone();
        let (sender, rows) = mpsc::channel(READ_AHEAD);
        tokio::task::spawn_blocking(move || {
            let mut row = from;
            let read = read::each_row(&path, &layout, sheet.as_deref(), &names, from, &mut |_, cells| {
                let sent = sender.blocking_send(Ok((row, cells)));
                row += 1;
                if sent.is_ok() { ControlFlow::Continue(()) } else { ControlFlow::Break(()) }
            });
            if let Err(e) = read {
                // The receiver may be gone already; then nobody needs to hear it.
                let _ = sender.blocking_send(Err(e));
            }
        });
        Ok(RowReader { next_row: from, rows, used: Instant::now() })
    }

    fn keep(&self, import_id: &str, mut reader: RowReader) {
        reader.used = Instant::now();
        self.readers.lock().expect("import readers lock").insert(import_id.to_owned(), reader);
    }

    fn close(&self, import_id: &str) {
        self.readers.lock().expect("import readers lock").remove(import_id);
    }

    async fn import_of(&self, saga_id: &str) -> Result<ImportRow, SagaError> {
        self.imports.of_saga(saga_id).await.map_err(saga_error)?.ok_or_else(|| SagaError::Invalid("This import's record is gone.".into()))
    }
}

#[async_trait]
impl StepFeed for ImportFeed {
    async fn next(&self, saga_id: &str, fed: u64) -> Result<Option<Fed>, SagaError> {
        let import = self.import_of(saga_id).await?;
        if import.stop_requested != 0 || fed >= import.total() {
            self.close(&import.id);
            return Ok(None);
        }
        let plan = import.plan().map_err(saga_error)?;
        let mut reader = self.reader(&import, &plan, fed).await?;
        let (mut records, mut rows) = (Vec::new(), Vec::new());
        let mut next = fed;
        while records.len() < RECORDS_PER_WRITE {
            match reader.rows.recv().await {
                None => break,
                Some(Err(e)) => return Err(SagaError::Invalid(format!("The file could not be read at row {}: {}", next + 1, e.shown()))),
                Some(Ok((row, cells))) => {
                    next = row + 1;
                    match fields_of(&plan, &cells) {
                        Ok(fields) => {
                            records.push(fields);
                            rows.push(row);
                        }
                        Err(reason) => self.imports.reject(&import.id, row, &reason).await.map_err(saga_error)?,
                    }
                }
            }
        }
        if next == fed {
            self.close(&import.id);
            return Ok(None);
        }
        reader.next_row = next;
        self.keep(&import.id, reader);
        let calls = if records.is_empty() { Vec::new() } else { vec![call(&import, &plan, records, &rows)] };
        Ok(Some(Fed { calls, fed: next }))
    }

    async fn refused(&self, saga_id: &str, arguments: &Value, reason: &str) -> Result<Vec<Call>, SagaError> {
        let rows: Vec<u64> = arguments.get("rows").and_then(|r| serde_json::from_value(r.clone()).ok()).unwrap_or_default();
        let records = arguments.get("records").and_then(Value::as_array).cloned().unwrap_or_default();
        if rows.len() > 1 && rows.len() == records.len() {
            return Ok(rows
                .iter()
                .zip(records)
                .map(|(row, record)| {
                    let mut single = arguments.clone();
                    single["records"] = json!([record]);
                    single["rows"] = json!([row]);
                    Call { tool: tool_of(&single), arguments: single }
                })
                .collect());
        }
        let import = self.import_of(saga_id).await?;
        for row in rows {
            self.imports.reject(&import.id, row, &format!("Airtable refused it: {reason}")).await.map_err(saga_error)?;
        }
        Ok(Vec::new())
    }
}

/// A row's fields as the plan writes them, or why it can't be imported.
fn fields_of(plan: &Plan, cells: &[Cell]) -> Result<Fields, String> {
    let mut fields = Fields::new();
    for column in &plan.columns {
        let cell = cells.get(column.index).unwrap_or(&Cell::Empty);
        match convert(cell, &column.read_as, plan.decimal_comma) {
            Ok(Value::Null) => {}
            Ok(value) => {
                fields.insert(column.field.clone(), value);
            }
            Err(misfit) => return Err(format!("Column “{}”: {}.", column.name, misfit.0)),
        }
    }
    if let Some(key) = &plan.key_field
        && !fields.contains_key(key)
    {
        return Err(format!("The key field “{key}” has no value in this row."));
    }
    if fields.is_empty() {
        return Err("The row has no values to import.".into());
    }
    Ok(fields)
}

/// A step writing `records` (the file's `rows`): an upsert on the key field, or a create.
fn call(import: &ImportRow, plan: &Plan, records: Vec<Fields>, rows: &[u64]) -> Call {
    let mut arguments = json!({
        "base_id": import.base_id,
        "table": import.table_id,
        "records": records,
        // Airtable makes the select choices the file brings.
        "typecast": true,
        "rows": rows,
    });
    if let Some(key) = &plan.key_field {
        arguments["merge_on"] = json!([key]);
    }
    Call { tool: tool_of(&arguments), arguments }
}

fn tool_of(arguments: &Value) -> String {
    if arguments.get("merge_on").is_some() { "upsert_records" } else { "create_records" }.to_owned()
}

/// A file failure inside a saga: the database's is the saga's own; the rest stop the import.
fn saga_error(e: FileError) -> SagaError {
    match e {
        FileError::Database(e) => SagaError::Database(e),
        other => SagaError::Invalid(other.shown()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::airtable::FieldType;
    use crate::model::files::ColumnType;
    use super::super::plan::PlannedColumn;

    fn plan(key: Option<&str>) -> Plan {
        let column = |index: usize, name: &str, field_type: FieldType| PlannedColumn {
            index,
            name: name.into(),
            field: name.into(),
            read_as: ColumnType::of(field_type),
        };
        Plan {
            sheet: None,
            decimal_comma: true,
            columns: vec![column(0, "Name", FieldType::SingleLineText), column(2, "Amount", FieldType::Number)],
            key_field: key.map(Into::into),
        }
    }

    #[test]
    fn a_row_becomes_its_fields_in_the_files_convention_skipping_unmapped_and_empty_columns() {
        let fields = fields_of(&plan(None), &[Cell::text("Ada"), Cell::text("ignored"), Cell::text("1.234,5")]).unwrap();
        assert_eq!(Value::Object(fields), json!({ "Name": "Ada", "Amount": 1234.5 }));
        let fields = fields_of(&plan(None), &[Cell::text("Ada")]).unwrap();
        assert_eq!(Value::Object(fields), json!({ "Name": "Ada" }), "a short row leaves the rest out");
    }

    #[test]
    fn a_row_that_cant_be_imported_says_why() {
        let err = fields_of(&plan(None), &[Cell::text("Ada"), Cell::Empty, Cell::text("lots")]).unwrap_err();
        assert_eq!(err, "Column “Amount”: “lots” is not a number.");
        assert!(fields_of(&plan(Some("Amount")), &[Cell::text("Ada")]).unwrap_err().contains("key field “Amount”"));
        assert!(fields_of(&plan(None), &[Cell::Empty]).unwrap_err().contains("no values"));
    }
}
