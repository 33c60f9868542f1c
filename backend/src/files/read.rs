//! Reading a stored table file: its layout, a scan of every row (count and column types),
//! and its rows in order from any point, for imports that resume.

use std::io::Read;
use std::ops::ControlFlow;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cell::Cell;
use super::columns::Columns;
use super::delimited::{self, CsvLayout};
use super::infer::ColumnTally;
use super::{FileError, json, sheet};
use crate::model::files::{Column, FileKind};

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
    pub(super) fn decimal_comma(&self) -> bool {
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
pub(super) fn head(path: &Path, len: u64) -> Result<Vec<u8>, FileError> {
    let mut head = Vec::new();
    std::fs::File::open(path)?.take(len).read_to_end(&mut head)?;
    Ok(head)
}
