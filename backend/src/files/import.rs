//! Importing a table file into Airtable: a fed saga run as a background job (see
//! [`super::feed`] for its steps), its progress, stopping or undoing it, and the rows it set
//! aside as a CSV.

use std::collections::HashSet;
use std::ops::ControlFlow;

use serde_json::Value;

use super::imports::{ImportRow, NewImport};
use super::read::{self, Layout};
use super::{Cell, FileError, Files, plan};
use crate::airtable::Client;
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::model::airtable::Fields;
use crate::model::files::{ImportProgress, ImportRequest, ImportStatus};
use crate::model::sagas::{SagaSource, SagaStatus};
use crate::sagas::{FedProgress, NewSaga, SagaError};
use crate::shown::Shown;

/// How many imports a list shows.
const LIST_LIMIT: i64 = 50;

/// Who starts an import, from where.
#[derive(Debug, Clone, Copy)]
pub struct ImportOrigin<'a> {
    pub source: SagaSource,
    /// The chat conversation it was started from, so "Undo all" there covers it.
    pub conversation_id: Option<&'a str>,
}

impl Files {
    /// Starts importing one of the user's table files with `client` (their connection): makes
    /// the table or the fields it lacks, then runs in the background. Answers at once.
    ///
    /// # Errors
    /// `NotFound`; `Refused` for a document or a mapping that can't work; `Airtable`.
    pub async fn import(&self, user: &UserId, client: &Client, request: &ImportRequest, origin: ImportOrigin<'_>) -> Result<ImportProgress, FileError> {
        let (file, layout) = self.inner.store.get(user, request.file_id.trim()).await?;
        if !file.kind.is_table() {
            return Err(FileError::Refused(format!("“{}” is a document, not a table: attach it in the chat instead.", file.name)));
        }
        let first_sheet = file.sheets.first().map(String::as_str);
        let (columns, rows) = match request.sheet.as_deref() {
            Some(sheet) if Some(sheet) != first_sheet => {
                let scan = self.read_blocking({
                    let (path, layout, sheet) = (self.path_of(&file.id), layout.clone(), sheet.to_owned());
                    move || read::scan(&path, &layout, Some(&sheet))
                })
                .await?;
                (scan.columns, scan.rows)
            }
            _ => (file.columns.clone(), file.rows.unwrap_or(0)),
        };
        let (table, plan) = plan::plan(client, request, &columns, layout.decimal_comma()).await?;
        let title = format!("Import {} into {}", file.name, table.name);
        let saga = NewSaga { user, source: origin.source, title: &title, base_id: request.base_id.trim(), conversation_id: origin.conversation_id, calls: &[] };
        let saga_id = self.inner.sagas.create_fed(saga).await.map_err(saga_error)?;
        let id = uuid::Uuid::new_v4().to_string();
        self.inner
            .imports
            .insert(&NewImport {
                id: &id,
                user,
                saga_id: &saga_id,
                file_id: &file.id,
                file_name: &file.name,
                base_id: request.base_id.trim(),
                table_id: table.id.as_str(),
                table_name: &table.name,
                plan: &plan,
                total_rows: rows,
            })
            .await?;
        self.inner.sagas.run_in_background(&saga_id).await.map_err(saga_error)?;
        self.import_status(user, &id).await
    }

    /// How far one of the user's imports has got.
    ///
    /// # Errors
    /// `ImportNotFound` when it is not theirs.
    pub async fn import_status(&self, user: &UserId, id: &str) -> Result<ImportProgress, FileError> {
        let import = self.inner.imports.owned(user, id).await?;
        self.progress_of(user, import).await
    }

    /// The user's imports of a file (of every file when `None`), newest first.
    ///
    /// # Errors
    /// `Database`.
    pub async fn imports(&self, user: &UserId, file_id: Option<&str>) -> Result<Vec<ImportProgress>, FileError> {
        let rows = self.inner.imports.list(user, file_id, LIST_LIMIT).await?;
        let mut all = Vec::with_capacity(rows.len());
        for row in rows {
            all.push(self.progress_of(user, row).await?);
        }
        Ok(all)
    }

    /// Stops a running import: `keep` what it imported so far, or undo it.
    ///
    /// # Errors
    /// `ImportNotFound`; `Refused` when it is not running.
    pub async fn cancel_import(&self, user: &UserId, id: &str, keep: bool) -> Result<ImportProgress, FileError> {
        let import = self.inner.imports.owned(user, id).await?;
        let running = self.inner.sagas.fed_progress(user, &import.saga_id).await.map_err(saga_error)?.status == SagaStatus::Running;
        if !running {
            return Err(FileError::Refused("This import is not running any more.".into()));
        }
        if keep {
            self.inner.imports.request_stop(user, id).await?;
        } else {
            self.inner.sagas.cancel(user, &import.saga_id).await.map_err(saga_error)?;
        }
        self.import_status(user, id).await
    }

    /// The rows an import set aside, as a CSV of the file's columns and a `reason` column.
    /// Their values come from the file, so it must still be there.
    ///
    /// # Errors
    /// `ImportNotFound`; `Refused` once the file is gone; `Unreadable`.
    pub async fn rejected_csv(&self, user: &UserId, id: &str) -> Result<String, FileError> {
        let import = self.inner.imports.owned(user, id).await?;
        let reasons = self.inner.imports.rejections(&import.id).await?;
        let (file, layout) = match self.inner.store.get(user, &import.file_id).await {
            Ok(found) => found,
            Err(FileError::NotFound) => {
                return Err(FileError::Refused("The imported file was deleted or expired, so its set-aside rows can't be listed with their values.".into()));
            }
            Err(e) => return Err(e),
        };
        let plan = import.plan()?;
        let path = self.path_of(&file.id);
        let names: Vec<String> = file.columns.iter().map(|c| c.name.clone()).collect();
        let rows = self
            .read_blocking(move || rows_at(&path, &layout, plan.sheet.as_deref(), &names, reasons))
            .await?;
        let columns = rows.0;
        let records: Vec<&Fields> = rows.1.iter().collect();
        crate::tools::to_csv(&columns, &records, true).map_err(|e| FileError::unreadable(e.to_string()))
    }

    async fn progress_of(&self, user: &UserId, import: ImportRow) -> Result<ImportProgress, FileError> {
        let saga = self.inner.sagas.fed_progress(user, &import.saga_id).await.map_err(saga_error)?;
        let rejected = self.inner.imports.rejected_count(&import.id).await?;
        Ok(progress(&import, &saga, rejected, now_ms()))
    }
}

/// An import's progress from its saga's: rows fed, less those still in unfinished steps.
fn progress(import: &ImportRow, saga: &FedProgress, rejected: u64, now: i64) -> ImportProgress {
    let waiting: u64 = saga.unfinished.iter().map(|a| a.get("rows").and_then(Value::as_array).map_or(0, |r| r.len() as u64)).sum();
    let stopping = import.stop_requested != 0;
    let status = match saga.status {
        SagaStatus::Running if stopping => ImportStatus::Stopping,
        SagaStatus::Running => ImportStatus::Running,
        SagaStatus::Done if stopping && saga.fed < import.total() => ImportStatus::Stopped,
        SagaStatus::Done => ImportStatus::Done,
        SagaStatus::Compensating => ImportStatus::Undoing,
        SagaStatus::Compensated => ImportStatus::Undone,
        SagaStatus::NeedsAttention => ImportStatus::NeedsAttention,
    };
    let total = import.total();
    let done = saga.fed.saturating_sub(waiting);
    let until = if status.is_finished() { saga.updated_ms } else { now };
    let seconds = (until - saga.created_ms) as f64 / 1000.0;
    let rows_per_second = (done > 0 && seconds >= 1.0).then(|| done as f64 / seconds);
    let seconds_left = match (status, rows_per_second) {
        (ImportStatus::Running, Some(rate)) if rate > 0.0 => Some((total.saturating_sub(done) as f64 / rate).ceil() as u64),
        _ => None,
    };
    ImportProgress {
        id: import.id.clone(),
        change_id: import.saga_id.clone(),
        file_id: import.file_id.clone(),
        file_name: import.file_name.clone(),
        base_id: import.base_id.clone(),
        table_id: import.table_id.clone(),
        table_name: import.table_name.clone(),
        key_field: import.key_field.clone(),
        status,
        total,
        done,
        rejected,
        rows_per_second,
        seconds_left,
        error: saga.error.clone(),
        created_ms: import.created_ms,
        updated_ms: saga.updated_ms,
    }
}

/// The file's columns and `reason`, and the rows at the numbers given, each with its reason.
fn rows_at(
    path: &std::path::Path,
    layout: &Layout,
    sheet: Option<&str>,
    names: &[String],
    reasons: Vec<(u64, String)>,
) -> Result<(Vec<String>, Vec<Fields>), FileError> {
    let reason_column = if names.iter().any(|n| n == "reason") { "import reason" } else { "reason" }.to_owned();
    let wanted: HashSet<u64> = reasons.iter().map(|(row, _)| *row).collect();
    let last = reasons.iter().map(|(row, _)| *row).max();
    let mut by_row: std::collections::BTreeMap<u64, Vec<Cell>> = std::collections::BTreeMap::new();
    let mut row = 0u64;
    let columns = read::each_row(path, layout, sheet, names, 0, &mut |_, cells| {
        if wanted.contains(&row) {
            by_row.insert(row, cells);
        }
        row += 1;
        if last.is_none_or(|last| row > last) { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })?;
    let mut header: Vec<String> = columns.names().to_vec();
    let rows = reasons
        .into_iter()
        .map(|(row, reason)| {
            let cells = by_row.remove(&row).unwrap_or_default();
            let mut fields: Fields = header.iter().zip(cells.iter().map(Cell::to_text).chain(std::iter::repeat(String::new()))).map(|(n, v)| (n.clone(), Value::String(v))).collect();
            fields.insert(reason_column.clone(), Value::String(reason));
            fields
        })
        .collect();
    header.push(reason_column);
    Ok((header, rows))
}

fn saga_error(e: SagaError) -> FileError {
    match e {
        SagaError::Database(e) => FileError::Database(e),
        SagaError::NotFound => FileError::ImportNotFound,
        other if other.is_internal() => FileError::Saga(other.to_string()),
        other => FileError::Refused(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn import(total: i64, stop: bool) -> ImportRow {
        ImportRow {
            id: "i".into(),
            user_id: "u".into(),
            saga_id: "s".into(),
            file_id: "f".into(),
            file_name: "people.csv".into(),
            base_id: "appAAAAAAAAAAAAAA".into(),
            table_id: "tblAAAAAAAAAAAAAA".into(),
            table_name: "People".into(),
            plan: "{}".into(),
            key_field: None,
            total_rows: total,
            stop_requested: i64::from(stop),
            created_ms: 0,
        }
    }

    fn saga(status: SagaStatus, fed: u64, unfinished: Vec<Value>) -> FedProgress {
        FedProgress { status, error: None, fed, unfinished, created_ms: 0, updated_ms: 0 }
    }

    #[test]
    fn rows_still_in_unfinished_steps_are_not_done_and_the_pace_gives_the_time_left() {
        let running = saga(SagaStatus::Running, 30, vec![json!({ "rows": [20, 21, 22, 23, 24, 25, 26, 27, 28, 29] })]);
        let p = progress(&import(100, false), &running, 2, 10_000);
        assert_eq!((p.status, p.done, p.rejected, p.written()), (ImportStatus::Running, 20, 2, 18));
        assert_eq!(p.rows_per_second, Some(2.0));
        assert_eq!(p.seconds_left, Some(40));
        assert_eq!(p.percent(), 20);
    }

    #[test]
    fn a_stopped_import_is_told_from_a_finished_one() {
        assert_eq!(progress(&import(100, true), &saga(SagaStatus::Done, 40, vec![]), 0, 0).status, ImportStatus::Stopped);
        assert_eq!(progress(&import(100, true), &saga(SagaStatus::Done, 100, vec![]), 0, 0).status, ImportStatus::Done);
        assert_eq!(progress(&import(100, true), &saga(SagaStatus::Running, 40, vec![]), 0, 0).status, ImportStatus::Stopping);
        assert_eq!(progress(&import(100, false), &saga(SagaStatus::Compensated, 40, vec![]), 0, 0).status, ImportStatus::Undone);
    }
}
