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

/// Where one of a file's columns goes in an import.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnMapping {
    /// The column's name, as the file's preview lists it.
    pub column: String,
    /// The field it fills, by name; `None` skips the column. A name the table does not have
    /// makes a new field.
    pub field: Option<String>,
    /// The type to read the values as: a new field is made with it; for an existing field the
    /// field's own type rules, and only the date order is taken from here. `None`: the type
    /// inferred from the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_type: Option<ColumnType>,
}

/// What to import where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRequest {
    pub file_id: String,
    /// A workbook's sheet; its first when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    pub base_id: String,
    /// An existing table's name or ID, or the name of a table to make from the mapping.
    pub table: String,
    /// Column by column. `None`: every column to the field of its name, made with its
    /// inferred type where the table lacks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<Vec<ColumnMapping>>,
    /// A field whose value identifies a record: rows matching a record update it instead of
    /// adding another, so importing a file twice doesn't duplicate it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_field: Option<String>,
}

/// Where an import stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    Running,
    /// Asked to stop and keep what it imported; the batch under way finishes first.
    Stopping,
    /// Every row was imported or set aside.
    Done,
    /// Stopped early; what was imported is kept (and can still be undone as a change).
    Stopped,
    /// Cancelled or failed: what it imported is being removed.
    Undoing,
    /// What it imported was removed again.
    Undone,
    /// Removing what it imported failed; its change page says what is left.
    NeedsAttention,
}

impl ImportStatus {
    pub fn is_finished(self) -> bool {
        !matches!(self, Self::Running | Self::Stopping | Self::Undoing)
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Running => "Importing",
            Self::Stopping => "Stopping",
            Self::Done => "Imported",
            Self::Stopped => "Stopped",
            Self::Undoing => "Undoing",
            Self::Undone => "Undone",
            Self::NeedsAttention => "Needs attention",
        }
    }
}

/// An import's progress, as its page and the chat show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportProgress {
    pub id: String,
    /// The change (saga) the import is, for its log and its Undo.
    pub change_id: String,
    pub file_id: String,
    pub file_name: String,
    pub base_id: String,
    pub table_id: String,
    pub table_name: String,
    /// The field rows are matched on, when the import updates what it finds.
    pub key_field: Option<String>,
    pub status: ImportStatus,
    /// The file's rows.
    pub total: u64,
    /// Rows dealt with: written, or set aside with a reason.
    pub done: u64,
    /// Rows set aside: values that don't fit their fields, or rows Airtable refused.
    pub rejected: u64,
    /// Rows dealt with per second since the start, once there is a figure.
    pub rows_per_second: Option<f64>,
    /// At that pace, until the last row.
    pub seconds_left: Option<u64>,
    /// Why it failed or was cancelled.
    pub error: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl ImportProgress {
    /// Rows written to Airtable.
    pub fn written(&self) -> u64 {
        self.done.saturating_sub(self.rejected)
    }

    /// Done out of total, as a whole percentage.
    pub fn percent(&self) -> u8 {
        if self.total == 0 {
            return 100;
        }
        u8::try_from((self.done.min(self.total) * 100) / self.total).unwrap_or(100)
    }
}
