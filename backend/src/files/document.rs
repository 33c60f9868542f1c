//! A file's text, for the assistant to read: text files of any encoding as they are (CSV and
//! JSON included), the text layer of a PDF (`pdf-extract`), and the paragraphs and tables of a
//! Word file (`docx-rs`). Workbooks are tables to import, not documents.

use std::io::Read;
use std::path::Path;

use super::FileError;
use super::encoding;
use super::read::head;
use crate::model::files::FileKind;

/// A document's text, cut at `max_chars` characters when longer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentText {
    pub text: String,
    /// The file held more than `max_chars` characters.
    pub cut: bool,
}

/// The text of the file at `path`, read as `kind`, at most `max_chars` characters of it.
///
/// # Errors
/// `Refused` for a workbook or a PDF without text; `Unreadable` when the content is damaged.
pub fn text_of(path: &Path, kind: FileKind, max_chars: usize) -> Result<DocumentText, FileError> {
    let whole = match kind {
        FileKind::Text | FileKind::Csv | FileKind::Json | FileKind::Ndjson => return plain_text(path, max_chars),
        FileKind::Pdf => pdf_text(path)?,
        FileKind::Docx => docx_text(path)?,
        FileKind::Xlsx | FileKind::Xls | FileKind::Ods => {
            return Err(FileError::Refused(
                "A workbook is a table: import it into a table from the Files page, or save the sheet as CSV to attach it.".into(),
            ));
        }
    };
    Ok(cut(whole, max_chars))
}

/// A text file decoded as it streams, so a large one is never read whole.
fn plain_text(path: &Path, max_chars: usize) -> Result<DocumentText, FileError> {
    let encoding = encoding::sniff(&head(path, 64 * 1024)?);
    let reader = encoding::utf8_reader(std::fs::File::open(path)?, encoding);
    // UTF-8 takes at most four bytes a character; one more character tells whether it was cut.
    let budget = u64::try_from(max_chars.saturating_add(1).saturating_mul(4)).unwrap_or(u64::MAX);
    let mut bytes = Vec::new();
    reader.take(budget).read_to_end(&mut bytes)?;
    Ok(cut(String::from_utf8_lossy(&bytes).into_owned(), max_chars))
}

fn pdf_text(path: &Path) -> Result<String, FileError> {
    // pdf-extract panics on some malformed files; a bad upload must not take a thread down.
    let extracted = std::panic::catch_unwind(|| pdf_extract::extract_text(path));
    let text = match extracted {
        Ok(Ok(text)) => text,
        Ok(Err(_)) | Err(_) => return Err(FileError::unreadable("its PDF structure is damaged or encrypted")),
    };
    if text.trim().is_empty() {
        return Err(FileError::Refused(
            "This PDF has no text layer (its pages are probably scanned images), so there is nothing to read. Run it through OCR first.".into(),
        ));
    }
    Ok(text)
}

fn docx_text(path: &Path) -> Result<String, FileError> {
    let bytes = std::fs::read(path)?;
    let docx = docx_rs::read_docx(&bytes).map_err(|_| FileError::unreadable("its Word document structure is damaged"))?;
    let mut text = String::new();
    for child in &docx.document.children {
        match child {
            docx_rs::DocumentChild::Paragraph(paragraph) => push_paragraph(&mut text, paragraph),
            docx_rs::DocumentChild::Table(table) => push_table(&mut text, table),
            _ => {}
        }
    }
    Ok(text)
}

fn push_paragraph(text: &mut String, paragraph: &docx_rs::Paragraph) {
    push_runs(text, &paragraph.children);
    text.push('\n');
}

fn push_runs(text: &mut String, children: &[docx_rs::ParagraphChild]) {
    for child in children {
        match child {
            docx_rs::ParagraphChild::Run(run) => push_run(text, run),
            docx_rs::ParagraphChild::Hyperlink(link) => push_runs(text, &link.children),
            docx_rs::ParagraphChild::Insert(insert) => {
                for inserted in &insert.children {
                    if let docx_rs::InsertChild::Run(run) = inserted {
                        push_run(text, run);
                    }
                }
            }
            _ => {}
        }
    }
}

fn push_run(text: &mut String, run: &docx_rs::Run) {
    for child in &run.children {
        match child {
            docx_rs::RunChild::Text(t) => text.push_str(&t.text),
            docx_rs::RunChild::Tab(_) | docx_rs::RunChild::PTab(_) => text.push('\t'),
            docx_rs::RunChild::Break(_) | docx_rs::RunChild::CarriageReturn(_) => text.push('\n'),
            _ => {}
        }
    }
}

/// A table as one line per row, its cells apart by tabs, as a model reads pasted tables.
fn push_table(text: &mut String, table: &docx_rs::Table) {
    for docx_rs::TableChild::TableRow(row) in &table.rows {
        let cells: Vec<String> = row
            .cells
            .iter()
            .map(|docx_rs::TableRowChild::TableCell(cell)| {
                let mut inside = String::new();
                for content in &cell.children {
                    match content {
                        docx_rs::TableCellContent::Paragraph(paragraph) => push_paragraph(&mut inside, paragraph),
                        docx_rs::TableCellContent::Table(table) => push_table(&mut inside, table),
                        _ => {}
                    }
                }
                inside.split_whitespace().collect::<Vec<_>>().join(" ")
            })
            .collect();
        text.push_str(&cells.join("\t"));
        text.push('\n');
    }
}

/// `text` to at most `max_chars` characters, cut at a character boundary.
fn cut(mut text: String, max_chars: usize) -> DocumentText {
    match text.char_indices().nth(max_chars) {
        Some((end, _)) => {
            text.truncate(end);
            DocumentText { text, cut: true }
        }
        None => DocumentText { text, cut: false },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_keeps_whole_characters() {
        let cut = cut("ééé".into(), 2);
        assert_eq!(cut, DocumentText { text: "éé".into(), cut: true });
        assert!(!super::cut("ab".into(), 2).cut);
    }

    #[test]
    fn a_word_file_reads_as_its_paragraphs_and_table_rows() {
        let dir = std::env::temp_dir().join(format!("pyairtable-docx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notes.docx");
        let file = std::fs::File::create(&path).unwrap();
        docx_rs::Docx::new()
            .add_paragraph(docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text("Action items")))
            .add_paragraph(docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text("Call the printer")))
            .add_table(docx_rs::Table::new(vec![docx_rs::TableRow::new(vec![
                docx_rs::TableCell::new().add_paragraph(docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text("Owner"))),
                docx_rs::TableCell::new().add_paragraph(docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text("Ada"))),
            ])]))
            .build()
            .pack(file)
            .unwrap();
        let read = text_of(&path, FileKind::Docx, 1_000).unwrap();
        assert_eq!(read.text, "Action items\nCall the printer\nOwner\tAda\n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
