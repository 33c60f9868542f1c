//! Airtable's own shapes, as its Web API sends them: IDs, records, fields, tables and bases.
//!
//! The client, the sandbox and the base browser all speak these, so they serialize exactly as
//! Airtable's JSON does (camelCase, `createdTime`, `primaryFieldId`).

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A record's cell values, keyed by field name (or by field ID with `returnFieldsByFieldId`).
pub type Fields = Map<String, Value>;

/// An ID that is not what it claims to be, e.g. a table ID where a base ID belongs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("“{given}” is not a {what} ID: Airtable {what} IDs start with “{prefix}” and are 17 letters and digits")]
pub struct IdError {
    pub what: &'static str,
    pub prefix: &'static str,
    pub given: String,
}

macro_rules! airtable_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Checks the prefix and shape Airtable gives this kind of ID.
            ///
            /// # Errors
            /// `IdError` naming what was expected.
            pub fn parse(raw: &str) -> Result<Self, IdError> {
                let raw = raw.trim();
                let ok = raw.len() == 17
                    && raw.starts_with($prefix)
                    && raw.bytes().all(|b| b.is_ascii_alphanumeric());
                if ok {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(IdError { what: $what, prefix: $prefix, given: raw.chars().take(40).collect() })
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(raw: String) -> Result<Self, IdError> {
                Self::parse(&raw)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

airtable_id!(
    /// A base: `app` and 14 letters or digits.
    BaseId, "app", "base"
);
airtable_id!(
    /// A table: `tbl` and 14 letters or digits.
    TableId, "tbl", "table"
);
airtable_id!(
    /// A field: `fld` and 14 letters or digits.
    FieldId, "fld", "field"
);
airtable_id!(
    /// A record: `rec` and 14 letters or digits.
    RecordId, "rec", "record"
);
airtable_id!(
    /// A view: `viw` and 14 letters or digits.
    ViewId, "viw", "view"
);

/// One record as Airtable returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: RecordId,
    #[serde(rename = "createdTime")]
    pub created_time: String,
    #[serde(default)]
    pub fields: Fields,
}

/// One page of a listing; `offset` asks for the next page, and is absent on the last.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordPage {
    pub records: Vec<Record>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
}

/// A field's type. Types this product does not model arrive as `Other`, so real bases still load.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum FieldType {
    SingleLineText,
    MultilineText,
    RichText,
    Email,
    Url,
    PhoneNumber,
    Number,
    Currency,
    Percent,
    Rating,
    Duration,
    Checkbox,
    SingleSelect,
    MultipleSelects,
    Date,
    DateTime,
    MultipleRecordLinks,
    CreatedTime,
    LastModifiedTime,
    AutoNumber,
    #[serde(untagged)]
    Other(String),
}

impl FieldType {
    /// Reads a number as people type it: "1,200", "$12.50", "15%". Percent fields take points,
    /// so "15" and "15%" both mean 0.15, matching how their cells are shown.
    pub fn parse_number(&self, text: &str) -> Option<f64> {
        let text = text.trim();
        let text = text.strip_suffix('%').unwrap_or(text);
        let digits_from = text.find(|c: char| c.is_ascii_digit() || c == '-' || c == '.')?;
        let cleaned: String = text[digits_from..].chars().filter(|c| *c != ',' && !c.is_whitespace()).collect();
        let n: f64 = cleaned.parse().ok().filter(|n: &f64| n.is_finite())?;
        Some(if *self == FieldType::Percent { n / 100.0 } else { n })
    }

    /// The name Airtable uses, e.g. `singleLineText`.
    pub fn name(&self) -> String {
        match self {
            Self::Other(name) => name.clone(),
            known => serde_json::to_value(known)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default(),
        }
    }

    /// Whether the cell holds text that a search should look in.
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            Self::SingleLineText
                | Self::MultilineText
                | Self::RichText
                | Self::Email
                | Self::Url
                | Self::PhoneNumber
                | Self::SingleSelect
                | Self::MultipleSelects
        )
    }

    /// Whether Airtable computes the value, so writes to it are refused.
    pub fn is_computed(&self) -> bool {
        matches!(self, Self::CreatedTime | Self::LastModifiedTime | Self::AutoNumber)
    }
}

/// A field of a table's schema; `options` is kept as Airtable sends it, because it varies by type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Field {
    pub id: FieldId,
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

/// A view of a table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct View {
    pub id: ViewId,
    pub name: String,
    #[serde(rename = "type")]
    pub view_type: String,
}

/// One table of a base's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub id: TableId,
    pub name: String,
    #[serde(rename = "primaryFieldId")]
    pub primary_field_id: FieldId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub fields: Vec<Field>,
    #[serde(default)]
    pub views: Vec<View>,
}

impl Table {
    /// Finds a field by ID or by exact name, as Airtable resolves field references.
    pub fn field(&self, id_or_name: &str) -> Option<&Field> {
        self.fields
            .iter()
            .find(|f| f.id.as_str() == id_or_name)
            .or_else(|| self.fields.iter().find(|f| f.name == id_or_name))
    }

    /// The primary field, which names each record.
    pub fn primary_field(&self) -> Option<&Field> {
        self.fields.iter().find(|f| f.id == self.primary_field_id)
    }
}

/// A base's whole schema, as `GET /v0/meta/bases/{baseId}/tables` returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseSchema {
    pub tables: Vec<Table>,
}

impl BaseSchema {
    /// Finds a table by ID or by exact name, as Airtable resolves table references in URLs.
    pub fn table(&self, id_or_name: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.id.as_str() == id_or_name)
            .or_else(|| self.tables.iter().find(|t| t.name == id_or_name))
    }
}

/// A base the token can reach, as `GET /v0/meta/bases` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseSummary {
    pub id: BaseId,
    pub name: String,
    #[serde(rename = "permissionLevel")]
    pub permission_level: String,
}

/// A field to create, as the Meta API takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewField {
    pub name: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options: Option<Value>,
}

/// A table to create; its first field becomes the primary field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewTable {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub fields: Vec<NewField>,
}

/// Changes to a table's or a field's name and description; absent parts stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rename {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// What a user's Airtable calls are connected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionKind {
    /// The user's own personal access token on Airtable.
    Airtable,
    /// The local sandbox, for users without a token.
    Sandbox,
}

/// A user's Airtable connection as Settings shows it: never the token, only its last four characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionView {
    pub kind: ConnectionKind,
    pub token_last4: Option<String>,
    pub saved_ms: Option<i64>,
}

/// Which way a sort runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    #[default]
    Asc,
    Desc,
}

/// One sort key of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sort {
    pub field: String,
    #[serde(default)]
    pub direction: Direction,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_id_is_not_a_base_id() {
        let err = BaseId::parse("tblAAAAAAAAAAAAAA").unwrap_err();
        assert!(err.to_string().contains("start with “app”"), "{err}");
    }

    #[test]
    fn ids_are_checked_when_deserialized() {
        assert!(serde_json::from_str::<RecordId>("\"recAAAAAAAAAAAAAA\"").is_ok());
        assert!(serde_json::from_str::<RecordId>("\"rec'); DROP\"").is_err());
    }

    #[test]
    fn an_unknown_field_type_keeps_its_name() {
        let ty: FieldType = serde_json::from_str("\"multipleLookupValues\"").unwrap();
        assert_eq!(ty, FieldType::Other("multipleLookupValues".into()));
        assert_eq!(ty.name(), "multipleLookupValues");
        let known: FieldType = serde_json::from_str("\"singleLineText\"").unwrap();
        assert_eq!(known, FieldType::SingleLineText);
        assert_eq!(known.name(), "singleLineText");
    }

    #[test]
    fn a_record_reads_airtable_json() {
        let json = r#"{"id":"recAAAAAAAAAAAAAA","createdTime":"2024-01-01T00:00:00.000Z","fields":{"Name":"A"}}"#;
        let record: Record = serde_json::from_str(json).unwrap();
        assert_eq!(record.fields["Name"], "A");
        assert_eq!(serde_json::to_string(&record).unwrap(), json);
    }
}
