//! The records API: list (GET, or POST `listRecords` for long queries), get, create, update,
//! upsert and delete, with writes split into Airtable's chunks of ten.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::transport::{Repeat, Request};
use super::{AirtableError, Client, MAX_URL_LEN, RECORDS_PER_WRITE};
use crate::model::airtable::{BaseId, Fields, Record, RecordId, RecordPage, Sort};

/// How cell values come back: as JSON values, or as the strings Airtable's UI shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellFormat {
    #[default]
    Json,
    String,
}

/// The parameters of a listing, named as Airtable names them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_records: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offset: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter_by_formula: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sort: Vec<Sort>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub view: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell_format: Option<CellFormat>,
    /// Required by Airtable with `cellFormat=string`, e.g. `Europe/Paris`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Required by Airtable with `cellFormat=string`, e.g. `en-us`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_locale: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub return_fields_by_field_id: bool,
}

impl ListQuery {
    /// The query string Airtable expects on `GET`, with `fields[]` and `sort[i][…]` spelled out.
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        let mut push = |k: &str, v: String| pairs.push((k.to_owned(), v));
        if let Some(n) = self.page_size {
            push("pageSize", n.to_string());
        }
        if let Some(n) = self.max_records {
            push("maxRecords", n.to_string());
        }
        if let Some(offset) = &self.offset {
            push("offset", offset.clone());
        }
        for field in &self.fields {
            push("fields[]", field.clone());
        }
        if let Some(formula) = &self.filter_by_formula {
            push("filterByFormula", formula.clone());
        }
        for (i, sort) in self.sort.iter().enumerate() {
            push(&format!("sort[{i}][field]"), sort.field.clone());
            let direction = serde_json::to_value(sort.direction).ok().and_then(|v| v.as_str().map(str::to_owned));
            push(&format!("sort[{i}][direction]"), direction.unwrap_or_default());
        }
        if let Some(view) = &self.view {
            push("view", view.clone());
        }
        if let Some(format) = self.cell_format {
            push("cellFormat", if format == CellFormat::String { "string" } else { "json" }.into());
        }
        if let Some(tz) = &self.time_zone {
            push("timeZone", tz.clone());
        }
        if let Some(locale) = &self.user_locale {
            push("userLocale", locale.clone());
        }
        if self.return_fields_by_field_id {
            push("returnFieldsByFieldId", "true".into());
        }
        pairs
    }
}

/// Whether an update replaces the whole record (PUT) or only the fields sent (PATCH).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum UpdateMode {
    #[default]
    Merge,
    Replace,
}

impl UpdateMode {
    fn method(self) -> Method {
        match self {
            Self::Merge => Method::PATCH,
            Self::Replace => Method::PUT,
        }
    }
}

/// One record's new values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordUpdate {
    pub id: RecordId,
    pub fields: Fields,
}

/// What an upsert did, as Airtable reports it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Upserted {
    pub created_records: Vec<RecordId>,
    pub updated_records: Vec<RecordId>,
    pub records: Vec<Record>,
}

#[derive(Deserialize)]
struct RecordsBody {
    records: Vec<Record>,
}

#[derive(Deserialize)]
struct DeletedBody {
    records: Vec<Deleted>,
}

#[derive(Deserialize)]
struct Deleted {
    id: RecordId,
}

/// How many times a listing whose offset expired is started again before giving up.
const LISTING_RESTARTS: usize = 2;

impl Client {
    /// One page of `table` (an ID or a name).
    ///
    /// # Errors
    /// As Airtable answers, e.g. `INVALID_FILTER_BY_FORMULA` or `LIST_RECORDS_ITERATOR_NOT_AVAILABLE`.
    pub async fn list_records(&self, base: &BaseId, table: &str, query: &ListQuery) -> Result<RecordPage, AirtableError> {
        let path = table_path(base, table);
        let pairs = query.to_pairs();
        let fits_in_url = self.url(&path, &pairs).map(|u| u.as_str().len() <= MAX_URL_LEN)?;
        let answer = if fits_in_url {
            self.send(Request { method: Method::GET, path, query: pairs, body: None, base: Some(base), repeat: Repeat::Safe })
                .await?
        } else {
            let mut path = path;
            path.push("listRecords".into());
            let body = serde_json::to_value(query).map_err(|e| AirtableError::InvalidRequest(e.to_string()))?;
            self.send(Request { method: Method::POST, path, query: vec![], body: Some(&body), base: Some(base), repeat: Repeat::Safe })
                .await?
        };
        parse(answer)
    }

    /// The `GET` address of a listing's first page, as `list_records` would send it.
    ///
    /// # Errors
    /// `InvalidRequest` when the API address can't take a path.
    pub fn listing_url(&self, base: &BaseId, table: &str, query: &ListQuery) -> Result<url::Url, AirtableError> {
        self.url(&table_path(base, table), &query.to_pairs())
    }

    /// Every record of the listing, page after page, up to `maxRecords`.
    ///
    /// An offset that expires mid-way (`LIST_RECORDS_ITERATOR_NOT_AVAILABLE`) starts the
    /// listing again from the first page, so the result is one consistent pass.
    ///
    /// # Errors
    /// As `list_records`, and the expiry itself if it keeps happening.
    pub async fn list_all(&self, base: &BaseId, table: &str, query: &ListQuery) -> Result<Vec<Record>, AirtableError> {
        let mut restarts = 0;
        'listing: loop {
            let mut records = Vec::new();
            let mut page_query = ListQuery { offset: None, ..query.clone() };
            loop {
                match self.list_records(base, table, &page_query).await {
                    Ok(page) => {
                        records.extend(page.records);
                        match page.offset {
                            Some(offset) => page_query.offset = Some(offset),
                            None => return Ok(records),
                        }
                    }
                    Err(e) if e.error_type() == Some("LIST_RECORDS_ITERATOR_NOT_AVAILABLE") && restarts < LISTING_RESTARTS => {
                        restarts += 1;
                        tracing::info!(base.id = %base, restarts, "listing offset expired; starting the listing again");
                        continue 'listing;
                    }
                    Err(e) => return Err(e),
                }
            }
        }
    }

    /// One record by ID.
    ///
    /// # Errors
    /// `NOT_FOUND` style errors when the record is gone.
    pub async fn get_record(&self, base: &BaseId, table: &str, id: &RecordId) -> Result<Record, AirtableError> {
        let mut path = table_path(base, table);
        path.push(id.to_string());
        let answer =
            self.send(Request { method: Method::GET, path, query: vec![], body: None, base: Some(base), repeat: Repeat::Safe }).await?;
        parse(answer)
    }

    /// Creates records, ten per request, and returns them in order.
    ///
    /// # Errors
    /// The first failing chunk's error; earlier chunks stay created. `MaybeApplied` when a
    /// chunk's answer was lost (see `transport` on why creates are not resent).
    pub async fn create_records(&self, base: &BaseId, table: &str, records: &[Fields], typecast: bool) -> Result<Vec<Record>, AirtableError> {
        let mut created = Vec::with_capacity(records.len());
        for chunk in records.chunks(RECORDS_PER_WRITE) {
            let body = json!({
                "records": chunk.iter().map(|fields| json!({ "fields": fields })).collect::<Vec<_>>(),
                "typecast": typecast,
            });
            let answer = self.write_to_table(base, table, Method::POST, vec![], Some(&body), Repeat::Unsafe).await?;
            created.extend(parse::<RecordsBody>(answer)?.records);
        }
        Ok(created)
    }

    /// Updates records, ten per request: only the given fields (`Merge`), or the whole record (`Replace`).
    ///
    /// # Errors
    /// The first failing chunk's error; earlier chunks stay updated.
    pub async fn update_records(
        &self,
        base: &BaseId,
        table: &str,
        updates: &[RecordUpdate],
        mode: UpdateMode,
        typecast: bool,
    ) -> Result<Vec<Record>, AirtableError> {
        let mut updated = Vec::with_capacity(updates.len());
        for chunk in updates.chunks(RECORDS_PER_WRITE) {
            let body = json!({ "records": chunk, "typecast": typecast });
            let answer = self.write_to_table(base, table, mode.method(), vec![], Some(&body), Repeat::Safe).await?;
            updated.extend(parse::<RecordsBody>(answer)?.records);
        }
        Ok(updated)
    }

    /// Creates or updates records matched on `merge_on` fields, ten per request.
    ///
    /// # Errors
    /// The first failing chunk's error; earlier chunks stay applied.
    pub async fn upsert_records(
        &self,
        base: &BaseId,
        table: &str,
        records: &[Fields],
        merge_on: &[String],
        typecast: bool,
    ) -> Result<Upserted, AirtableError> {
        if merge_on.is_empty() || merge_on.len() > 3 {
            return Err(AirtableError::InvalidRequest(
                "An upsert needs one to three fields to match records on (fieldsToMergeOn).".into(),
            ));
        }
        let mut all = Upserted::default();
        for chunk in records.chunks(RECORDS_PER_WRITE) {
            let body = json!({
                "performUpsert": { "fieldsToMergeOn": merge_on },
                "records": chunk.iter().map(|fields| json!({ "fields": fields })).collect::<Vec<_>>(),
                "typecast": typecast,
            });
            let answer = self.write_to_table(base, table, Method::PATCH, vec![], Some(&body), Repeat::Safe).await?;
            let part: Upserted = parse(answer)?;
            all.created_records.extend(part.created_records);
            all.updated_records.extend(part.updated_records);
            all.records.extend(part.records);
        }
        Ok(all)
    }

    /// Deletes records, ten per request, and returns the IDs Airtable confirmed.
    ///
    /// # Errors
    /// The first failing chunk's error; earlier chunks stay deleted.
    pub async fn delete_records(&self, base: &BaseId, table: &str, ids: &[RecordId]) -> Result<Vec<RecordId>, AirtableError> {
        let mut deleted = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(RECORDS_PER_WRITE) {
            let query = chunk.iter().map(|id| ("records[]".to_owned(), id.to_string())).collect();
            let answer = self.write_to_table(base, table, Method::DELETE, query, None, Repeat::Safe).await?;
            deleted.extend(parse::<DeletedBody>(answer)?.records.into_iter().map(|d| d.id));
        }
        Ok(deleted)
    }
}

impl Client {
    /// One write request (a chunk) to a table's records path.
    async fn write_to_table(
        &self,
        base: &BaseId,
        table: &str,
        method: Method,
        query: Vec<(String, String)>,
        body: Option<&Value>,
        repeat: Repeat,
    ) -> Result<Value, AirtableError> {
        self.send(Request { method, path: table_path(base, table), query, body, base: Some(base), repeat }).await
    }
}

/// `v0/{base}/{table}`, the records path of a table.
fn table_path(base: &BaseId, table: &str) -> Vec<String> {
    vec!["v0".into(), base.to_string(), table.to_owned()]
}

pub(super) fn parse<T: serde::de::DeserializeOwned>(answer: Value) -> Result<T, AirtableError> {
    serde_json::from_value(answer).map_err(|e| AirtableError::InvalidResponse(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::airtable::Direction;

    #[test]
    fn a_listing_spells_out_fields_and_sorts_as_airtable_expects() {
        let query = ListQuery {
            fields: vec!["Name".into(), "Status".into()],
            sort: vec![Sort { field: "Due".into(), direction: Direction::Desc }],
            cell_format: Some(CellFormat::String),
            ..ListQuery::default()
        };
        let pairs = query.to_pairs();
        assert!(pairs.contains(&("fields[]".into(), "Status".into())));
        assert!(pairs.contains(&("sort[0][field]".into(), "Due".into())));
        assert!(pairs.contains(&("sort[0][direction]".into(), "desc".into())));
        assert!(pairs.contains(&("cellFormat".into(), "string".into())));
    }

    #[test]
    fn a_listing_body_uses_airtables_names() {
        let query = ListQuery { page_size: Some(5), return_fields_by_field_id: true, ..ListQuery::default() };
        assert_eq!(serde_json::to_value(&query).unwrap(), json!({"pageSize": 5, "returnFieldsByFieldId": true}));
    }
}
