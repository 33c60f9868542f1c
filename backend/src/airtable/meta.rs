//! The Meta API: bases, base schemas (cached), and creating or changing tables and fields.

use std::sync::Arc;

use reqwest::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::records::parse;
use super::transport::{Repeat, Request};
use super::{AirtableError, Client};
use crate::model::airtable::{BaseId, BaseSchema, BaseSummary, Field, FieldId, NewTable, Rename, Table, NewField};

#[derive(Deserialize)]
struct BasesPage {
    bases: Vec<BaseSummary>,
    #[serde(default)]
    offset: Option<String>,
}

#[derive(Deserialize)]
struct CreatedBase {
    id: BaseId,
}

impl Client {
    /// Every base the token can reach, following Airtable's pages.
    ///
    /// # Errors
    /// As Airtable answers; 401 when the token is refused.
    pub async fn list_bases(&self) -> Result<Vec<BaseSummary>, AirtableError> {
        let mut bases = Vec::new();
        let mut offset: Option<String> = None;
        loop {
            let query = offset.iter().map(|o| ("offset".to_owned(), o.clone())).collect();
            let answer = self.send(Request { method: Method::GET, path: meta(&["bases"]), query, body: None, base: None, repeat: Repeat::Safe }).await?;
            let page: BasesPage = parse(answer)?;
            bases.extend(page.bases);
            match page.offset {
                Some(next) => offset = Some(next),
                None => return Ok(bases),
            }
        }
    }

    /// The base's tables, fields (with their options), views and primary fields; cached.
    ///
    /// # Errors
    /// Not found when the base is gone or the token can't see it.
    pub async fn base_schema(&self, base: &BaseId) -> Result<Arc<BaseSchema>, AirtableError> {
        if let Some(schema) = self.airtable.schemas.get(&self.token_key, base) {
            return Ok(schema);
        }
        let answer = self
            .send(Request { method: Method::GET, path: meta(&["bases", base.as_str(), "tables"]), query: vec![], body: None, base: Some(base), repeat: Repeat::Safe })
            .await?;
        let schema: Arc<BaseSchema> = Arc::new(parse(answer)?);
        self.airtable.schemas.put(&self.token_key, base, Arc::clone(&schema));
        Ok(schema)
    }

    /// Creates a base with its tables in a workspace (the sandbox ignores the workspace).
    ///
    /// # Errors
    /// As Airtable answers, e.g. 422 for a table without fields.
    pub async fn create_base(&self, name: &str, workspace_id: &str, tables: &[NewTable]) -> Result<BaseId, AirtableError> {
        let body = json!({ "name": name, "workspaceId": workspace_id, "tables": tables });
        let answer = self.send(Request { method: Method::POST, path: meta(&["bases"]), query: vec![], body: Some(&body), base: None, repeat: Repeat::Unsafe }).await?;
        Ok(parse::<CreatedBase>(answer)?.id)
    }

    /// Creates a table; its first field becomes the primary field.
    ///
    /// # Errors
    /// As Airtable answers, e.g. 422 for a duplicate table name.
    pub async fn create_table(&self, base: &BaseId, table: &NewTable) -> Result<Table, AirtableError> {
        let body = serde_json::to_value(table).map_err(|e| AirtableError::InvalidRequest(e.to_string()))?;
        self.schema_write(base, Method::POST, &["bases", base.as_str(), "tables"], &body, Repeat::Unsafe).await
    }

    /// Renames a table or changes its description.
    ///
    /// # Errors
    /// As Airtable answers; not found for an unknown table.
    pub async fn update_table(&self, base: &BaseId, table: &str, change: &Rename) -> Result<Table, AirtableError> {
        let body = serde_json::to_value(change).map_err(|e| AirtableError::InvalidRequest(e.to_string()))?;
        self.schema_write(base, Method::PATCH, &["bases", base.as_str(), "tables", table], &body, Repeat::Safe).await
    }

    /// Adds a field to a table.
    ///
    /// # Errors
    /// As Airtable answers, e.g. 422 for a duplicate name or bad options.
    pub async fn create_field(&self, base: &BaseId, table: &str, field: &NewField) -> Result<Field, AirtableError> {
        let body = serde_json::to_value(field).map_err(|e| AirtableError::InvalidRequest(e.to_string()))?;
        self.schema_write(base, Method::POST, &["bases", base.as_str(), "tables", table, "fields"], &body, Repeat::Unsafe).await
    }

    /// Renames a field or changes its description.
    ///
    /// # Errors
    /// As Airtable answers; not found for an unknown field.
    pub async fn update_field(&self, base: &BaseId, table: &str, field: &FieldId, change: &Rename) -> Result<Field, AirtableError> {
        let body = serde_json::to_value(change).map_err(|e| AirtableError::InvalidRequest(e.to_string()))?;
        self.schema_write(base, Method::PATCH, &["bases", base.as_str(), "tables", table, "fields", field.as_str()], &body, Repeat::Safe).await
    }

    /// Sends a schema change and drops the base's cached schema, whatever the outcome: a
    /// failed write may still have changed something.
    async fn schema_write<T: serde::de::DeserializeOwned>(
        &self,
        base: &BaseId,
        method: Method,
        path: &[&str],
        body: &Value,
        repeat: Repeat,
    ) -> Result<T, AirtableError> {
        let answer = self.send(Request { method, path: meta(path), query: vec![], body: Some(body), base: Some(base), repeat }).await;
        self.airtable.schemas.invalidate(base);
        parse(answer?)
    }
}

/// `v0/meta/…`
fn meta(rest: &[&str]) -> Vec<String> {
    ["v0", "meta"].iter().chain(rest).map(|s| (*s).to_owned()).collect()
}
