//! Uploaded files and what was read from them: their kind, and each column's inferred type.

use serde::{Deserialize, Serialize};

use super::airtable::FieldType;

/// What a file holds, judged from its content (magic bytes, then a parse), not its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Csv,
    Xlsx,
    Xls,
    Ods,
    Json,
    /// Newline-delimited JSON: one object per line.
    Ndjson,
    Text,
    Pdf,
    Docx,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Xls => "xls",
            Self::Ods => "ods",
            Self::Json => "json",
            Self::Ndjson => "ndjson",
            Self::Text => "text",
            Self::Pdf => "pdf",
            Self::Docx => "docx",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Csv, Self::Xlsx, Self::Xls, Self::Ods, Self::Json, Self::Ndjson, Self::Text, Self::Pdf, Self::Docx]
            .into_iter()
            .find(|kind| kind.as_str() == raw)
    }

    /// Whether the file is a table that can be imported (the others are documents for the chat).
    pub fn is_table(self) -> bool {
        !matches!(self, Self::Text | Self::Pdf | Self::Docx)
    }

    /// How people call it: "CSV", "Excel workbook".
    pub fn label(self) -> &'static str {
        match self {
            Self::Csv => "CSV",
            Self::Xlsx => "Excel workbook",
            Self::Xls => "Excel 97–2003 workbook",
            Self::Ods => "OpenDocument spreadsheet",
            Self::Json => "JSON",
            Self::Ndjson => "NDJSON",
            Self::Text => "Text",
            Self::Pdf => "PDF",
            Self::Docx => "Word document",
        }
    }
}

/// Which part of a slashed date is the day. Files rarely say; the values can prove it
/// (`25/03/2024` is day first), and when none do, the person importing is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateOrder {
    /// Only `2024-03-25`-style dates were seen.
    Iso,
    DayFirst,
    MonthFirst,
    /// Every slashed date read both ways: ask.
    Ambiguous,
}

/// A column's type for Airtable, with the options its field needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnType {
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Decimal places, for numbers, currency and percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<u8>,
    /// The currency symbol, for currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// How slashed dates read, for dates and date-times.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_order: Option<DateOrder>,
    /// The choices, for single and multiple selects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

impl ColumnType {
    pub fn of(field_type: FieldType) -> Self {
        Self { field_type, precision: None, symbol: None, date_order: None, choices: Vec::new() }
    }
}

/// A column as read from a file: its name, inferred type and how many values won't fit it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub inferred: ColumnType,
    /// Values that are not empty.
    pub filled: u64,
    /// Values that would not fit a field of each type, for the types that can refuse values.
    pub misfits: Vec<Misfits>,
}

impl Column {
    /// How many values would not fit a field of `field_type` (text types take everything).
    pub fn misfits_for(&self, field_type: &FieldType) -> u64 {
        self.misfits.iter().find(|m| &m.field_type == field_type).map_or(0, |m| m.count)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Misfits {
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub count: u64,
}

/// An uploaded file as its owner sees it listed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    pub id: String,
    /// The name it was uploaded with.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    pub kind: FileKind,
    /// Rows found, for a table; `None` for a document.
    pub rows: Option<u64>,
    /// The first sheet's columns for a workbook.
    pub columns: Vec<Column>,
    /// A workbook's sheets, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sheets: Vec<String>,
    pub created_ms: i64,
    pub expires_ms: i64,
}

/// A table file's first rows as read, each value as text, under its columns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Preview {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<String>>,
}
