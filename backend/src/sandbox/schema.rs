//! The sandbox's Meta API: bases, their schema, and creating or changing tables and fields.

use serde_json::{Value, json};

use super::cells::new_choice;
use super::ids::new_id;
use super::{Sandbox, SandboxError, find_table};
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::model::airtable::{BaseSchema, Field, FieldType, NewField, NewTable, Rename, Table};

/// Bases per page of `GET /v0/meta/bases`, as Airtable pages them.
const BASES_PER_PAGE: usize = 1000;
/// Longest table or field name the sandbox accepts.
const MAX_NAME_LEN: usize = 255;

impl Sandbox {
    /// `GET /v0/meta/bases`: the owner's bases, a page at a time.
    ///
    /// # Errors
    /// 422 for an offset that is not one this API gave out.
    pub async fn list_bases(&self, owner: &UserId, offset: Option<&str>) -> Result<Value, SandboxError> {
        let bases = self.store.bases(owner).await?;
        let start = match offset {
            None => 0,
            Some(text) => text.parse::<usize>().map_err(|_| SandboxError::invalid_request("The offset is not valid."))?,
        };
        let page: Vec<_> = bases.iter().skip(start).take(BASES_PER_PAGE).collect();
        let mut body = json!({ "bases": page });
        if start + BASES_PER_PAGE < bases.len() {
            body["offset"] = json!((start + BASES_PER_PAGE).to_string());
        }
        Ok(body)
    }

    /// `GET /v0/meta/bases/{base}/tables`.
    ///
    /// # Errors
    /// 403 when the base is not the owner's.
    pub async fn base_schema(&self, owner: &UserId, base: &str) -> Result<BaseSchema, SandboxError> {
        self.store.require_base(owner, base).await?;
        Ok(BaseSchema { tables: self.store.tables(base).await? })
    }

    /// `POST /v0/meta/bases`: a new base with its tables. The workspace is not modelled.
    ///
    /// # Errors
    /// 422 for a base without tables, or any table `create_table` would refuse.
    pub async fn create_base(&self, owner: &UserId, name: &str, tables: &[NewTable]) -> Result<Value, SandboxError> {
        let name = checked_name("Base", name)?;
        if tables.is_empty() {
            return Err(SandboxError::invalid_request("A base needs at least one table."));
        }
        let id = new_id("app");
        self.store.insert_base(owner, &id, name, now_ms()).await?;
        let mut created = Vec::new();
        for new in tables {
            created.push(self.create_table(owner, &id, new).await?);
        }
        Ok(json!({ "id": id, "tables": created }))
    }

    /// `POST /v0/meta/bases/{base}/tables`: the first field becomes the primary field.
    ///
    /// # Errors
    /// 422 for a duplicate or empty name, no fields, or a field the sandbox can't model.
    pub async fn create_table(&self, owner: &UserId, base: &str, new: &NewTable) -> Result<Table, SandboxError> {
        self.store.require_base(owner, base).await?;
        let existing = self.store.tables(base).await?;
        let name = checked_name("Table", &new.name)?;
        if existing.iter().any(|t| t.name.eq_ignore_ascii_case(name)) {
            return Err(SandboxError::duplicate_name("Table", name));
        }
        if new.fields.is_empty() {
            return Err(SandboxError::invalid_request("A table needs at least one field; the first becomes its primary field."));
        }
        let table_id = new_id("tbl");
        let mut fields: Vec<Field> = Vec::with_capacity(new.fields.len());
        for new_field in &new.fields {
            if fields.iter().any(|f| f.name.eq_ignore_ascii_case(new_field.name.trim())) {
                return Err(SandboxError::duplicate_name("Field", &new_field.name));
            }
            fields.push(build_field(new_field, &existing, &table_id)?);
        }
        let json = json!({
            "id": table_id,
            "name": name,
            "description": new.description,
            "primaryFieldId": fields[0].id,
            "fields": fields,
            "views": [{ "id": new_id("viw"), "name": "Grid view", "type": "grid" }],
        });
        let table: Table = serde_json::from_value(json).map_err(|_| SandboxError::server_error())?;
        self.store.insert_table(base, existing.len() as i64, &table).await?;
        Ok(table)
    }

    /// `PATCH /v0/meta/bases/{base}/tables/{table}`: name and description.
    ///
    /// # Errors
    /// 404 for an unknown table, 422 for a duplicate name.
    pub async fn update_table(&self, owner: &UserId, base: &str, table: &str, change: &Rename) -> Result<Table, SandboxError> {
        self.store.require_base(owner, base).await?;
        let tables = self.store.tables(base).await?;
        let mut updated = find_table(&tables, table)?.clone();
        if let Some(name) = &change.name {
            let name = checked_name("Table", name)?;
            if tables.iter().any(|t| t.id != updated.id && t.name.eq_ignore_ascii_case(name)) {
                return Err(SandboxError::duplicate_name("Table", name));
            }
            updated.name = name.to_owned();
        }
        if let Some(description) = &change.description {
            updated.description = Some(description.clone()).filter(|d| !d.is_empty());
        }
        self.store.save_table(&updated).await?;
        Ok(updated)
    }

    /// `POST /v0/meta/bases/{base}/tables/{table}/fields`.
    ///
    /// # Errors
    /// 404 for an unknown table, 422 for a duplicate name or a field the sandbox can't model.
    pub async fn create_field(&self, owner: &UserId, base: &str, table: &str, new: &NewField) -> Result<Field, SandboxError> {
        self.store.require_base(owner, base).await?;
        let tables = self.store.tables(base).await?;
        let mut updated = find_table(&tables, table)?.clone();
        if updated.fields.iter().any(|f| f.name.eq_ignore_ascii_case(new.name.trim())) {
            return Err(SandboxError::duplicate_name("Field", &new.name));
        }
        let field = build_field(new, &tables, updated.id.as_str())?;
        updated.fields.push(field.clone());
        self.store.save_table(&updated).await?;
        Ok(field)
    }

    /// `PATCH /v0/meta/bases/{base}/tables/{table}/fields/{field}`: name and description.
    ///
    /// # Errors
    /// 404 for an unknown table or field, 422 for a duplicate name.
    pub async fn update_field(
        &self,
        owner: &UserId,
        base: &str,
        table: &str,
        field: &str,
        change: &Rename,
    ) -> Result<Field, SandboxError> {
        self.store.require_base(owner, base).await?;
        let tables = self.store.tables(base).await?;
        let mut updated = find_table(&tables, table)?.clone();
        let index = updated.fields.iter().position(|f| f.id.as_str() == field).ok_or_else(|| SandboxError::field_not_found(field))?;
        if let Some(name) = &change.name {
            let name = checked_name("Field", name)?;
            if updated.fields.iter().enumerate().any(|(i, f)| i != index && f.name.eq_ignore_ascii_case(name)) {
                return Err(SandboxError::duplicate_name("Field", name));
            }
            updated.fields[index].name = name.to_owned();
        }
        if let Some(description) = &change.description {
            updated.fields[index].description = Some(description.clone()).filter(|d| !d.is_empty());
        }
        self.store.save_table(&updated).await?;
        Ok(updated.fields[index].clone())
    }

    /// Adds select choices that a typecast write introduced, and saves the table.
    pub(super) async fn add_choices(&self, table: &mut Table, field_index: usize, names: &[String]) -> Result<(), SandboxError> {
        let field = &mut table.fields[field_index];
        let mut options = field.options.take().unwrap_or_else(|| json!({}));
        let choices = options.as_object_mut().ok_or_else(SandboxError::server_error)?.entry("choices").or_insert_with(|| json!([]));
        let list = choices.as_array_mut().ok_or_else(SandboxError::server_error)?;
        for name in names {
            if !list.iter().any(|c| c["name"] == json!(name)) {
                let index = list.len();
                list.push(new_choice(name, index));
            }
        }
        field.options = Some(options);
        self.store.save_table(table).await
    }
}

/// A field as stored: a new ID, select choices with IDs, and a check on links.
fn build_field(new: &NewField, tables: &[Table], own_table_id: &str) -> Result<Field, SandboxError> {
    let name = checked_name("Field", &new.name)?;
    if let FieldType::Other(kind) = &new.field_type {
        return Err(SandboxError::invalid_request(format!(
            "The sandbox can't create fields of type \"{kind}\"; use a text, number, select, date, checkbox, link, created time or autonumber field."
        )));
    }
    let mut options = new.options.clone();
    match new.field_type {
        FieldType::SingleSelect | FieldType::MultipleSelects => {
            let given = options.as_ref().and_then(|o| o.get("choices")).and_then(Value::as_array).cloned().unwrap_or_default();
            let mut choices: Vec<Value> = Vec::new();
            for (i, choice) in given.iter().enumerate() {
                let Some(choice_name) = choice.get("name").and_then(Value::as_str) else {
                    return Err(SandboxError::invalid_request(format!("Every choice of field \"{name}\" needs a name.")));
                };
                let mut made = new_choice(choice_name, i);
                if let Some(color) = choice.get("color") {
                    made["color"] = color.clone();
                }
                choices.push(made);
            }
            options = Some(json!({ "choices": choices }));
        }
        FieldType::MultipleRecordLinks => {
            let linked = options.as_ref().and_then(|o| o.get("linkedTableId")).and_then(Value::as_str).unwrap_or_default();
            if linked != own_table_id && !tables.iter().any(|t| t.id.as_str() == linked) {
                return Err(SandboxError::invalid_request(format!(
                    "Field \"{name}\" links to table \"{linked}\", which is not in this base; set options.linkedTableId to a table ID of the base."
                )));
            }
        }
        _ => {}
    }
    let json = json!({
        "id": new_id("fld"),
        "name": name,
        "type": new.field_type,
        "description": new.description,
        "options": options,
    });
    serde_json::from_value(json).map_err(|_| SandboxError::server_error())
}

fn checked_name<'a>(what: &str, name: &'a str) -> Result<&'a str, SandboxError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
        return Err(SandboxError::duplicate_name(what, name));
    }
    Ok(name)
}
