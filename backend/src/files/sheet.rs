//! Spreadsheets (XLSX, XLS, ODS) through `calamine`: one sheet at a time, with typed cells.
//! Excel stores dates as serial numbers counted from 1900 or, in workbooks from old Macs, from
//! 1904; calamine knows which from the workbook and gives dates either way. A header cell
//! merged across several columns names each of them.

use std::fs::File;
use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::Path;

use calamine::{Data, DataType, Reader, Sheets, open_workbook};
use chrono::NaiveTime;

use super::FileError;
use super::cell::Cell;
use super::columns::Columns;
use super::delimited;
use crate::model::files::FileKind;

/// The workbook's sheets, in order.
pub fn sheet_names(path: &Path, kind: FileKind) -> Result<Vec<String>, FileError> {
    Ok(open(path, kind)?.sheet_names())
}

/// Opens a workbook of the kind its content showed (stored files have no extension to go by).
fn open(path: &Path, kind: FileKind) -> Result<Sheets<BufReader<File>>, FileError> {
    let unreadable = |e: &dyn std::fmt::Display| FileError::unreadable(format!("the workbook could not be opened ({e})"));
    Ok(match kind {
        FileKind::Xls => Sheets::Xls(open_workbook(path).map_err(|e| unreadable(&e))?),
        FileKind::Ods => Sheets::Ods(open_workbook(path).map_err(|e| unreadable(&e))?),
        _ => Sheets::Xlsx(open_workbook(path).map_err(|e| unreadable(&e))?),
    })
}

/// Reads `sheet`'s rows after its header, `skip` rows in, handing each to `row` until it
/// breaks. Answers the columns. The sheet is read whole: calamine has no streaming reader for
/// every format, and uploads are capped in size.
pub fn read(path: &Path, kind: FileKind, sheet: &str, skip: u64, row: &mut dyn FnMut(&Columns, Vec<Cell>) -> ControlFlow<()>) -> Result<Columns, FileError> {
    let mut workbook = open(path, kind)?;
    let range = workbook
        .worksheet_range(sheet)
        .map_err(|e| FileError::unreadable(format!("the sheet “{sheet}” could not be read ({e})")))?;
    let merged = match &mut workbook {
        Sheets::Xlsx(xlsx) => xlsx.merge_cells_by_sheet_name(sheet).unwrap_or_default(),
        _ => Vec::new(),
    };
    let first_row = range.start().map_or(0, |(row, _)| row);
    let first_col = range.start().map_or(0, |(_, col)| col);
    let mut rows = range.rows().filter(|cells| cells.iter().any(|c| !matches!(cell(c), Cell::Empty)));
    let Some(top) = rows.next() else { return Ok(Columns::new()) };
    let (top_text, covered) = spread_merged(top.iter().map(|c| cell(c).to_text()).collect(), &merged, first_row, first_col);
    // The cells a merge covers repeat its name, which must not count against a header.
    let own_cells: Vec<String> = top_text.iter().enumerate().filter(|(i, _)| !covered.contains(i)).map(|(_, name)| name.clone()).collect();
    let header = delimited::has_header(std::slice::from_ref(&own_cells));
    let mut columns = if header { Columns::from_header(&top_text) } else { Columns::new() };
    let mut seen = 0u64;
    let body = if header { None } else { Some(top) };
    for cells in body.into_iter().chain(rows) {
        let cells: Vec<Cell> = cells.iter().map(cell).collect();
        let width = cells.iter().rposition(|c| !c.is_empty()).map_or(0, |last| last + 1);
        columns.widen_to(width);
        seen += 1;
        if seen <= skip {
            continue;
        }
        if row(&columns, cells.into_iter().take(width).collect()).is_break() {
            break;
        }
    }
    Ok(columns)
}

/// Gives each column under a merged header cell that cell's name; answers the positions the
/// merges covered too.
fn spread_merged(mut header: Vec<String>, merged: &[calamine::Dimensions], first_row: u32, first_col: u32) -> (Vec<String>, Vec<usize>) {
    let mut covered = Vec::new();
    for region in merged.iter().filter(|r| r.start.0 <= first_row && first_row <= r.end.0) {
        let from = region.start.1.saturating_sub(first_col) as usize;
        let to = region.end.1.saturating_sub(first_col) as usize;
        let Some(name) = header.get(from).cloned() else { continue };
        for (position, column) in header.iter_mut().enumerate().take(to + 1).skip(from + 1) {
            if column.trim().is_empty() {
                column.clone_from(&name);
                covered.push(position);
            }
        }
    }
    (header, covered)
}

fn cell(data: &Data) -> Cell {
    match data {
        Data::Empty | Data::Error(_) => Cell::Empty,
        Data::Int(n) => Cell::Number(*n as f64),
        Data::Float(n) => Cell::Number(*n),
        Data::Bool(b) => Cell::Bool(*b),
        Data::String(text) | Data::DurationIso(text) => Cell::text(text),
        Data::DateTime(serial) if serial.is_duration() => Cell::Number(serial.as_f64()),
        Data::DateTime(_) | Data::DateTimeIso(_) => match data.as_datetime() {
            Some(at) if at.time() == NaiveTime::MIN => Cell::Date(at.date()),
            Some(at) => Cell::DateTime(at),
            None => Cell::text(&data.to_string()),
        },
    }
}
