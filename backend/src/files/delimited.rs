//! CSV and its cousins: the delimiter (`,` `;` tab `|`), whether the first row is a header,
//! and the number convention are found from the file's first rows; then rows stream from
//! disk through the `csv` crate, which handles quoted delimiters and newlines.

use std::fs::File;
use std::io::BufReader;
use std::ops::ControlFlow;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::FileError;
use super::cell::{self, Cell};
use super::columns::Columns;
use super::encoding;

const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];
/// Rows read to choose the delimiter.
const SNIFF_ROWS: usize = 100;

/// How a delimited file is laid out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvLayout {
    pub encoding: String,
    pub delimiter: u8,
    pub header: bool,
    /// `1.234,5`: a comma before the decimals, as `;`-delimited European exports write numbers.
    pub decimal_comma: bool,
}

/// The layout of a delimited file that starts with `head`.
pub fn sniff(head: &[u8]) -> CsvLayout {
    let encoding = encoding::sniff(head);
    let (text, _, _) = encoding.decode(head);
    // The head may end mid-row; its last line is left out.
    let text = match text.rsplit_once('\n') {
        Some((complete, cut)) if !cut.is_empty() => complete,
        _ => &text,
    };
    let delimiter = DELIMITERS.into_iter().max_by_key(|d| consistency(text, *d)).unwrap_or(b',');
    let delimiter = if consistency(text, delimiter) == 0 { b',' } else { delimiter };
    let rows = records(text, delimiter, SNIFF_ROWS);
    CsvLayout { encoding: encoding::name(encoding).to_owned(), delimiter, header: has_header(&rows), decimal_comma: delimiter == b';' }
}

/// How well `delimiter` splits the rows: rows with the commonest width (when it is more than
/// one column), weighted toward wider splits only to break ties.
fn consistency(text: &str, delimiter: u8) -> usize {
    let widths: Vec<usize> = records(text, delimiter, SNIFF_ROWS).iter().map(Vec::len).collect();
    let Some(common) = mode(&widths) else { return 0 };
    if common < 2 {
        return 0;
    }
    let agreeing = widths.iter().filter(|w| **w == common).count();
    agreeing * 100 + common.min(99)
}

fn mode(values: &[usize]) -> Option<usize> {
    let mut counts = std::collections::BTreeMap::new();
    for value in values {
        *counts.entry(*value).or_insert(0usize) += 1;
    }
    counts.into_iter().max_by_key(|(_, n)| *n).map(|(value, _)| value)
}

fn records(text: &str, delimiter: u8, limit: usize) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
        .records()
        .take(limit)
        .filter_map(Result::ok)
        .map(|record| record.iter().map(str::to_owned).collect())
        .collect()
}

/// A first row of distinct names, none of them a number or a date, is a header.
pub(super) fn has_header(rows: &[Vec<String>]) -> bool {
    let Some(first) = rows.first() else { return false };
    let mut seen = std::collections::HashSet::new();
    first.iter().all(|name| {
        let name = name.trim();
        !name.is_empty()
            && seen.insert(name)
            && cell::parse_number(name, false).is_none()
            && cell::parse_number(name, true).is_none()
            && cell::parse_date(name).is_none()
    })
}

/// Reads every row after the header, `skip` rows in, handing each to `row` until it breaks.
/// Answers the columns, which the header names (or `Column 1`…) and wider rows extend.
pub fn read(path: &Path, layout: &CsvLayout, skip: u64, row: &mut dyn FnMut(&Columns, Vec<Cell>) -> ControlFlow<()>) -> Result<Columns, FileError> {
    let file = File::open(path)?;
    let text = encoding::utf8_reader(BufReader::new(file), encoding::by_name(&layout.encoding));
    let mut reader = csv::ReaderBuilder::new().delimiter(layout.delimiter).has_headers(false).flexible(true).from_reader(text);
    let mut columns = Columns::new();
    let mut record = csv::StringRecord::new();
    let mut seen = 0u64;
    let mut first = true;
    while reader.read_record(&mut record).map_err(|e| FileError::unreadable(format!("row {}: {e}", seen + 2)))? {
        if first && layout.header {
            first = false;
            columns = Columns::from_header(&record.iter().map(str::to_owned).collect::<Vec<_>>());
            continue;
        }
        first = false;
        // Blank rows (often trailing) are not records.
        if record.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        columns.widen_to(record.len());
        seen += 1;
        if seen <= skip {
            continue;
        }
        if row(&columns, record.iter().map(Cell::text).collect()).is_break() {
            break;
        }
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semicolons_tabs_and_pipes_are_found() {
        assert_eq!(sniff(b"Name;Hours\nAda;1,5\nBob;2\n").delimiter, b';');
        assert!(sniff(b"Name;Hours\nAda;1,5\n").decimal_comma);
        assert_eq!(sniff(b"Name\tHours\nAda\t1\n").delimiter, b'\t');
        assert_eq!(sniff(b"Name|Note\nAda|a, b, c\nBob|d, e\n").delimiter, b'|');
        assert_eq!(sniff(b"Name,Note\nAda,\"x; y\"\n").delimiter, b',');
    }

    #[test]
    fn a_first_row_of_numbers_is_data_not_a_header() {
        assert!(sniff(b"Name,Hours\nAda,12\n").header);
        assert!(!sniff(b"Ada,12\nBob,7\n").header);
        assert!(!sniff(b"2024-01-01,12\n2024-01-02,7\n").header);
    }

    #[test]
    fn rows_stream_with_quoted_newlines_and_blank_rows_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("people.csv");
        std::fs::write(&path, "Name,Notes\nAda,\"line one\nline two\"\n\n,\nBob,\"said \"\"hi\"\"\"\n").unwrap();
        let layout = sniff(&std::fs::read(&path).unwrap());
        let mut rows = Vec::new();
        let columns = read(&path, &layout, 0, &mut |_, cells| {
            rows.push(cells);
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(columns.names(), ["Name", "Notes"]);
        assert_eq!(rows, [
            vec![Cell::text("Ada"), Cell::text("line one\nline two")],
            vec![Cell::text("Bob"), Cell::text("said \"hi\"")],
        ]);
        let mut after_one = Vec::new();
        read(&path, &layout, 1, &mut |_, cells| {
            after_one.push(cells);
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(after_one.len(), 1, "skip counts records, not lines");
    }
}
