//! A file's kind from its content: magic bytes first (PDF, ZIP-based Office and OpenDocument
//! files, old Excel), then the text itself (JSON, NDJSON, delimited rows or prose). The name's
//! extension is a claim that the content must bear out, never the evidence.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use super::delimited;
use super::encoding;
use super::sheet;
use super::FileError;
use super::read::{Layout, head};
use crate::model::files::FileKind;

/// How much of a file is looked at to tell its kind.
const SNIFF_BYTES: u64 = 64 * 1024;
const ZIP: &[u8] = b"PK\x03\x04";
const OLE: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// The kind and layout of the file at `path`, uploaded as `name`.
///
/// # Errors
/// `Refused` when the content is not a kind this product reads, or not the kind the name
/// says; `Unreadable` when a workbook can't be opened.
pub fn detect(path: &Path, name: &str) -> Result<(FileKind, Layout), FileError> {
    let head = head(path, SNIFF_BYTES)?;
    let found = from_content(path, &head)?;
    let claimed = claimed(name);
    let kind = match (claimed, found) {
        (None, found) => found,
        (Some(claim), found) if agrees(claim, found) => {
            // Plain text and CSV differ only in how they are meant: a .txt or .md file is a
            // document even when its lines have commas, and a .csv file of one column (no
            // delimiter to find) is still a table.
            if matches!(claim, FileKind::Text | FileKind::Csv) { claim } else { found }
        }
        (Some(claim), found) => {
            return Err(FileError::Refused(format!(
                "“{name}” is named as {} but holds {}. Save it again as the kind its name says, or rename it.",
                article(claim),
                article(found)
            )));
        }
    };
    let layout = match kind {
        FileKind::Csv => Layout::Csv(delimited::sniff(&head)),
        FileKind::Xlsx | FileKind::Xls | FileKind::Ods => Layout::Sheets { kind, sheets: sheet::sheet_names(path, kind)? },
        FileKind::Json => Layout::Json,
        FileKind::Ndjson => Layout::Ndjson,
        FileKind::Text | FileKind::Pdf | FileKind::Docx => Layout::Document,
    };
    Ok((kind, layout))
}

fn from_content(path: &Path, head: &[u8]) -> Result<FileKind, FileError> {
    if head.starts_with(b"%PDF-") {
        return Ok(FileKind::Pdf);
    }
    if head.starts_with(OLE) {
        return Ok(FileKind::Xls);
    }
    if head.starts_with(ZIP) {
        return zipped(path);
    }
    let encoding = encoding::sniff(head);
    let (text, _, had_errors) = encoding.decode(head);
    // Control characters other than whitespace mean binary data, whatever the name says.
    let binary = text.chars().filter(|c| c.is_control() && !c.is_whitespace()).count();
    if had_errors && binary > 0 || binary * 100 > text.chars().count().max(1) {
        return Err(FileError::Refused(
            "This file is not a kind PyAirtable reads. Upload CSV, Excel (XLSX, XLS), OpenDocument (ODS), JSON, text, Markdown, PDF or Word (DOCX).".into(),
        ));
    }
    Ok(match text.trim_start().chars().next() {
        Some('[') => FileKind::Json,
        Some('{') => FileKind::Ndjson,
        _ if looks_delimited(head) => FileKind::Csv,
        _ => FileKind::Text,
    })
}

/// Rows that split into the same number of columns, two or more.
fn looks_delimited(head: &[u8]) -> bool {
    let layout = delimited::sniff(head);
    let text = encoding::by_name(&layout.encoding).decode(head).0;
    let widths: Vec<usize> = text.lines().take(20).filter(|l| !l.trim().is_empty()).map(|l| l.split(char::from(layout.delimiter)).count()).collect();
    widths.first().is_some_and(|w| *w >= 2) && widths.iter().filter(|w| **w >= 2).count() * 10 >= widths.len() * 8
}

/// Office and OpenDocument files are ZIP archives told apart by what they hold.
fn zipped(path: &Path) -> Result<FileKind, FileError> {
    let not_office = || FileError::Refused("This ZIP archive is not an Excel, OpenDocument or Word file.".into());
    let mut archive = zip::ZipArchive::new(File::open(path)?).map_err(|_| not_office())?;
    if archive.by_name("xl/workbook.xml").is_ok() {
        return Ok(FileKind::Xlsx);
    }
    if archive.by_name("word/document.xml").is_ok() {
        return Ok(FileKind::Docx);
    }
    let mut mimetype = String::new();
    if let Ok(entry) = archive.by_name("mimetype") {
        entry.take(128).read_to_string(&mut mimetype)?;
    }
    if mimetype.trim() == "application/vnd.oasis.opendocument.spreadsheet" {
        return Ok(FileKind::Ods);
    }
    Err(not_office())
}

/// The kind a file's extension claims, if it names one.
fn claimed(name: &str) -> Option<FileKind> {
    let extension = Path::new(name).extension()?.to_str()?.to_ascii_lowercase();
    Some(match extension.as_str() {
        "csv" | "tsv" | "tab" => FileKind::Csv,
        "xlsx" | "xlsm" => FileKind::Xlsx,
        "xls" => FileKind::Xls,
        "ods" => FileKind::Ods,
        "json" => FileKind::Json,
        "ndjson" | "jsonl" => FileKind::Ndjson,
        "txt" | "text" | "md" | "markdown" => FileKind::Text,
        "pdf" => FileKind::Pdf,
        "docx" => FileKind::Docx,
        _ => return None,
    })
}

/// Whether content of kind `found` bears out a name claiming `claim`.
fn agrees(claim: FileKind, found: FileKind) -> bool {
    use FileKind::{Csv, Json, Ndjson, Text};
    claim == found
        // Any text can be read as a one-column CSV, and plain prose named .txt is text.
        || matches!((claim, found), (Csv, Text) | (Text, Csv) | (Json, Ndjson) | (Ndjson, Json))
}

fn article(kind: FileKind) -> String {
    match kind {
        FileKind::Xlsx | FileKind::Xls => format!("an {}", kind.label()),
        FileKind::Ods | FileKind::Text => format!("{} file content", kind.label()),
        other => format!("a {} file", other.label()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect_bytes(name: &str, bytes: &[u8]) -> Result<(FileKind, Layout), FileError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("upload");
        std::fs::write(&path, bytes).unwrap();
        detect(&path, name)
    }

    #[test]
    fn the_content_decides_not_the_name() {
        assert_eq!(detect_bytes("people", b"Name,Hours\nAda,12\nBob,7\n").unwrap().0, FileKind::Csv);
        assert_eq!(detect_bytes("data.bin", b"  [{\"a\": 1}]").unwrap().0, FileKind::Json);
        assert_eq!(detect_bytes("rows", b"{\"a\": 1}\n{\"a\": 2}\n").unwrap().0, FileKind::Ndjson);
        assert_eq!(detect_bytes("notes", b"Call Ada about the launch.\nBook the room.\n").unwrap().0, FileKind::Text);
        assert_eq!(detect_bytes("notes.md", b"a,b\nc,d\n").unwrap().0, FileKind::Text);
        assert_eq!(detect_bytes("names.csv", b"Name\nAda\nBob\n").unwrap().0, FileKind::Csv, "one column is still a table");
    }

    #[test]
    fn a_file_that_lies_about_its_kind_is_refused() {
        let error = detect_bytes("report.xlsx", b"Name,Hours\nAda,12\n").unwrap_err();
        assert!(error.to_string().contains("named as an Excel workbook but holds a CSV file"), "{error}");
        assert!(detect_bytes("photo.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0").is_err());
        assert!(detect_bytes("book.xlsx", b"PK\x03\x04 not really a zip").is_err());
    }
}
