//! Files people bring: what kind each is (from its content, not its name), how it is laid out,
//! and its rows and columns with each column's type inferred from every value.
//!
//! Reading is synchronous and streams from disk (JSON and CSV a row at a time; spreadsheets a
//! sheet at a time), so callers run it on a blocking thread.

mod cell;
mod columns;
mod delimited;
mod detect;
mod encoding;
mod infer;
mod json;
mod sheet;

use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use cell::Cell;
pub use columns::Columns;
pub use delimited::CsvLayout;
pub use detect::detect;
pub use infer::{ColumnTally, split_list};

use crate::model::files::{Column, FileKind};


/// Why a file could not be taken or read. The messages are for the person who sent it.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The content is not what a readable file of its kind holds.
    #[error("This file can't be read: {0}.")]
    Unreadable(String),
    /// The content and the name disagree, or the kind is not one this product reads.
    #[error("{0}")]
    Refused(String),
    #[error("the file could not be read or written: {0}")]
    Io(#[from] std::io::Error),
}

impl FileError {
    pub fn unreadable(why: impl Into<String>) -> Self {
        Self::Unreadable(why.into())
    }
}

/// How a file's rows are laid out, found when it was uploaded and kept with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "layout", rename_all = "snake_case")]
pub enum Layout {
    Csv(CsvLayout),
    /// A workbook of `kind` (XLSX, XLS or ODS): its sheets, the first of which is read unless
    /// another is chosen.
    Sheets { kind: FileKind, sheets: Vec<String> },
    Json,
    Ndjson,
    /// A document for the assistant to read, not a table.
    Document,
}

impl Layout {
    /// Whether numbers in the file's text put a comma before the decimals.
    fn decimal_comma(&self) -> bool {
        matches!(self, Self::Csv(csv) if csv.decimal_comma)
    }
}

/// What reading a whole table found: its row count and columns with their inferred types.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub rows: u64,
    pub columns: Vec<Column>,
}

/// Reads every row of a table file to count them and infer each column's type. `sheet`
/// picks a workbook's sheet (the first when `None`).
///
/// # Errors
/// `Unreadable` with where the file went wrong; `Io`.
pub fn scan(path: &Path, layout: &Layout, sheet: Option<&str>) -> Result<Scan, FileError> {
    let decimal_comma = layout.decimal_comma();
    let mut tallies: Vec<ColumnTally> = Vec::new();
    let mut rows = 0u64;
    let columns = each_row(path, layout, sheet, &[], 0, &mut |columns, cells| {
        rows += 1;
        tallies.resize_with(columns.len().max(cells.len()), ColumnTally::new);
        for (tally, value) in tallies.iter_mut().zip(&cells) {
            tally.observe(value, decimal_comma);
        }
        ControlFlow::Continue(())
    })?;
    tallies.resize_with(columns.len(), ColumnTally::new);
    let columns = columns.names().iter().zip(&tallies).map(|(name, tally)| tally.finish(name.clone())).collect();
    Ok(Scan { rows, columns })
}

/// Hands each row of a table file to `row`, `skip` rows in, until it breaks; rows are in the
/// order of the answered columns. `known` are the columns a scan found, so that a JSON file's
/// columns keep their order when read again.
///
/// # Errors
/// `Unreadable` with where the file went wrong; `Refused` for a document; `Io`.
pub fn each_row(
    path: &Path,
    layout: &Layout,
    sheet: Option<&str>,
    known: &[String],
    skip: u64,
    row: &mut dyn FnMut(&Columns, Vec<Cell>) -> ControlFlow<()>,
) -> Result<Columns, FileError> {
    match layout {
        Layout::Csv(csv) => delimited::read(path, csv, skip, row),
        Layout::Sheets { kind, sheets } => {
            let sheet = match sheet {
                Some(name) if sheets.iter().any(|s| s == name) => name,
                Some(name) => return Err(FileError::Refused(format!("This workbook has no sheet named “{name}”."))),
                None => sheets.first().map(String::as_str).ok_or_else(|| FileError::unreadable("the workbook has no sheets"))?,
            };
            sheet::read(path, *kind, sheet, skip, row)
        }
        Layout::Json | Layout::Ndjson => {
            let mut columns = Columns::from_names(known);
            json::read(path, matches!(layout, Layout::Ndjson), &mut columns, skip, row)?;
            Ok(columns)
        }
        Layout::Document => Err(FileError::Refused("This file is a document, not a table: it can be given to the assistant, not imported.".into())),
    }
}

/// The first `len` bytes of a file (fewer when it is shorter).
fn head(path: &Path, len: u64) -> Result<Vec<u8>, FileError> {
    let mut head = Vec::new();
    std::fs::File::open(path)?.take(len).read_to_end(&mut head)?;
    Ok(head)
}
