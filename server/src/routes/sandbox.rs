//! The sandbox's HTTP face: Airtable's Web API paths under `/sandbox/v0/…`, answered with
//! Airtable's shapes. What each call does lives in `backend::sandbox`; this file reads requests.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::Json;
use backend::airtable::{CellFormat, ListQuery};
use backend::auth::UserId;
use backend::model::airtable::{Direction, NewField, NewTable, Rename, Sort};
use backend::sandbox::{Sandbox, SandboxError, WriteFault, WriteRequest, json_object};
use serde::Deserialize;
use serde_json::json;

use super::identity::bearer;

/// The sandbox routes, to be nested at `/sandbox/v0`.
pub fn router() -> Router<Sandbox> {
    Router::new()
        .route("/meta/bases", get(list_bases).post(create_base))
        .route("/meta/bases/{base}/tables", get(base_schema).post(create_table))
        .route("/meta/bases/{base}/tables/{table}", patch(update_table))
        .route("/meta/bases/{base}/tables/{table}/fields", post(create_field))
        .route("/meta/bases/{base}/tables/{table}/fields/{field}", patch(update_field))
        .route("/{base}/{table}", get(list_records).post(create_records).patch(update_records).put(replace_records).delete(delete_records))
        .route("/{base}/{table}/listRecords", post(list_records_by_body))
        .route("/{base}/{table}/{record}", get(get_record).patch(update_record).put(replace_record).delete(delete_record))
        .fallback(|| async { failure(SandboxError::not_found()) })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

/// Largest request body the sandbox reads, in bytes: ten records of long text and a POSTed
/// formula fit well within it.
const BODY_LIMIT: usize = 2 << 20;

/// A request body, refused in Airtable's error shape when it is too large or unreadable.
struct Body(Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        Bytes::from_request(request, state).await.map(Body).map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                failure(SandboxError::too_large(BODY_LIMIT))
            } else {
                failure(SandboxError::invalid_request("The request body could not be read."))
            }
        })
    }
}

type Answer = Result<Response, Response>;

fn failure(e: SandboxError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, Json(e.body())).into_response();
    if let Some(wait) = e.retry_after {
        // Whole seconds, rounded up, as the header takes them.
        let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        response.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from(seconds));
    }
    response
}

fn ok(value: impl serde::Serialize) -> Answer {
    Ok(Json(value).into_response())
}

async fn admit(sandbox: &Sandbox, headers: &HeaderMap, base: Option<&str>) -> Result<UserId, Response> {
    sandbox.admit(bearer(headers), base).await.map_err(failure)
}

/// Runs a record write, unless the fault plan picks it to be refused or to lose its answer.
async fn write(sandbox: &Sandbox, apply: impl Future<Output = Answer>) -> Answer {
    match sandbox.write_fault() {
        Some(WriteFault::Fail) => Err(failure(SandboxError::injected_failure())),
        Some(WriteFault::DropAnswer) => {
            apply.await?;
            Err(failure(SandboxError::answer_lost()))
        }
        None => apply.await,
    }
}

fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, Response> {
    json_object(bytes).map_err(failure)
}

async fn list_bases(State(sandbox): State<Sandbox>, headers: HeaderMap, RawQuery(query): RawQuery) -> Answer {
    let owner = admit(&sandbox, &headers, None).await?;
    let offset = pairs(query.as_deref()).into_iter().find(|(k, _)| k == "offset").map(|(_, v)| v);
    ok(sandbox.list_bases(&owner, offset.as_deref()).await.map_err(failure)?)
}

#[derive(Deserialize)]
struct NewBase {
    name: String,
    #[serde(default)]
    tables: Vec<NewTable>,
}

async fn create_base(State(sandbox): State<Sandbox>, headers: HeaderMap, Body(bytes): Body) -> Answer {
    let owner = admit(&sandbox, &headers, None).await?;
    let new: NewBase = body(&bytes)?;
    ok(sandbox.create_base(&owner, &new.name, &new.tables).await.map_err(failure)?)
}

async fn base_schema(State(sandbox): State<Sandbox>, headers: HeaderMap, Path(base): Path<String>) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    ok(sandbox.base_schema(&owner, &base).await.map_err(failure)?)
}

async fn create_table(State(sandbox): State<Sandbox>, headers: HeaderMap, Path(base): Path<String>, Body(bytes): Body) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let new: NewTable = body(&bytes)?;
    ok(sandbox.create_table(&owner, &base, &new).await.map_err(failure)?)
}

async fn update_table(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table)): Path<(String, String)>,
    Body(bytes): Body,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let change: Rename = body(&bytes)?;
    ok(sandbox.update_table(&owner, &base, &table, &change).await.map_err(failure)?)
}

async fn create_field(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table)): Path<(String, String)>,
    Body(bytes): Body,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let new: NewField = body(&bytes)?;
    ok(sandbox.create_field(&owner, &base, &table, &new).await.map_err(failure)?)
}

async fn update_field(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table, field)): Path<(String, String, String)>,
    Body(bytes): Body,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let change: Rename = body(&bytes)?;
    ok(sandbox.update_field(&owner, &base, &table, &field, &change).await.map_err(failure)?)
}

async fn list_records(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let query = list_query(query.as_deref()).map_err(failure)?;
    ok(sandbox.list_records(&owner, &base, &table, &query).await.map_err(failure)?)
}

async fn list_records_by_body(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table)): Path<(String, String)>,
    Body(bytes): Body,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let query: ListQuery = if bytes.is_empty() { ListQuery::default() } else { body(&bytes)? };
    ok(sandbox.list_records(&owner, &base, &table, &query).await.map_err(failure)?)
}

async fn get_record(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table, record)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let query = list_query(query.as_deref()).map_err(failure)?;
    ok(sandbox.get_record(&owner, &base, &table, &record, &query).await.map_err(failure)?)
}

async fn create_records(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table)): Path<(String, String)>,
    Body(bytes): Body,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let (request, single) = WriteRequest::from_body(&bytes, false, None).map_err(failure)?;
    write(&sandbox, async {
        let created = sandbox.create_records(&owner, &base, &table, &request).await.map_err(failure)?;
        match created.first() {
            Some(one) if single => ok(one),
            _ => ok(json!({ "records": created })),
        }
    })
    .await
}

async fn update_records(state: State<Sandbox>, headers: HeaderMap, path: Path<(String, String)>, Body(bytes): Body) -> Answer {
    write_many(state, headers, path, bytes, false).await
}

async fn replace_records(state: State<Sandbox>, headers: HeaderMap, path: Path<(String, String)>, Body(bytes): Body) -> Answer {
    write_many(state, headers, path, bytes, true).await
}

async fn write_many(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table)): Path<(String, String)>,
    bytes: Bytes,
    replace: bool,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let (request, _) = WriteRequest::from_body(&bytes, replace, None).map_err(failure)?;
    write(&sandbox, async {
        if request.merge_on.is_some() {
            return ok(sandbox.upsert_records(&owner, &base, &table, &request).await.map_err(failure)?);
        }
        let updated = sandbox.update_records(&owner, &base, &table, &request).await.map_err(failure)?;
        ok(json!({ "records": updated }))
    })
    .await
}

async fn update_record(state: State<Sandbox>, headers: HeaderMap, path: Path<(String, String, String)>, Body(bytes): Body) -> Answer {
    write_one(state, headers, path, bytes, false).await
}

async fn replace_record(state: State<Sandbox>, headers: HeaderMap, path: Path<(String, String, String)>, Body(bytes): Body) -> Answer {
    write_one(state, headers, path, bytes, true).await
}

async fn write_one(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table, record)): Path<(String, String, String)>,
    bytes: Bytes,
    replace: bool,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let (request, _) = WriteRequest::from_body(&bytes, replace, Some(record)).map_err(failure)?;
    write(&sandbox, async {
        let updated = sandbox.update_records(&owner, &base, &table, &request).await.map_err(failure)?;
        ok(updated.first().ok_or_else(|| failure(SandboxError::server_error()))?)
    })
    .await
}

async fn delete_records(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    let ids: Vec<String> = pairs(query.as_deref()).into_iter().filter(|(k, _)| k == "records[]" || k == "records").map(|(_, v)| v).collect();
    write(&sandbox, async {
        let deleted = sandbox.delete_records(&owner, &base, &table, &ids).await.map_err(failure)?;
        ok(json!({ "records": deleted.iter().map(|id| json!({ "id": id, "deleted": true })).collect::<Vec<_>>() }))
    })
    .await
}

async fn delete_record(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    Path((base, table, record)): Path<(String, String, String)>,
) -> Answer {
    let owner = admit(&sandbox, &headers, Some(&base)).await?;
    write(&sandbox, async {
        sandbox.delete_records(&owner, &base, &table, std::slice::from_ref(&record)).await.map_err(failure)?;
        ok(json!({ "id": record, "deleted": true }))
    })
    .await
}

fn pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

/// Reads a listing's query string, with `fields[]` and `sort[i][field]` as Airtable spells them.
fn list_query(query: Option<&str>) -> Result<ListQuery, SandboxError> {
    let mut list = ListQuery::default();
    let mut sorts: Vec<(usize, Option<String>, Option<Direction>)> = Vec::new();
    let number = |key: &str, value: &str| {
        value.parse::<u32>().map_err(|_| SandboxError::invalid_request(format!("{key} must be a whole number, not \"{value}\".")))
    };
    for (key, value) in pairs(query) {
        match key.as_str() {
            "pageSize" => list.page_size = Some(number(&key, &value)?),
            "maxRecords" => list.max_records = Some(number(&key, &value)?),
            "offset" => list.offset = Some(value),
            "fields[]" | "fields" => list.fields.push(value),
            "filterByFormula" => list.filter_by_formula = Some(value),
            "view" => list.view = Some(value),
            "cellFormat" => {
                list.cell_format = Some(match value.as_str() {
                    "json" => CellFormat::Json,
                    "string" => CellFormat::String,
                    _ => return Err(SandboxError::invalid_request("cellFormat must be json or string.")),
                });
            }
            "timeZone" => list.time_zone = Some(value),
            "userLocale" => list.user_locale = Some(value),
            "returnFieldsByFieldId" => list.return_fields_by_field_id = matches!(value.as_str(), "true" | "1"),
            other if other.starts_with("sort[") => {
                let (index, part) = parse_sort_key(other)
                    .ok_or_else(|| SandboxError::invalid_request(format!("\"{other}\" is not a sort parameter; use sort[0][field] and sort[0][direction].")))?;
                if index >= 100 {
                    return Err(SandboxError::invalid_request("Sort by at most 100 fields."));
                }
                let slot = match sorts.iter().position(|(i, _, _)| *i == index) {
                    Some(slot) => slot,
                    None => {
                        sorts.push((index, None, None));
                        sorts.len() - 1
                    }
                };
                match part {
                    "field" => sorts[slot].1 = Some(value),
                    _ => {
                        sorts[slot].2 = Some(match value.as_str() {
                            "asc" => Direction::Asc,
                            "desc" => Direction::Desc,
                            _ => return Err(SandboxError::invalid_request("A sort direction is asc or desc.")),
                        });
                    }
                }
            }
            // Parameters the sandbox does not model (recordMetadata, …) are ignored, as
            // Airtable ignores ones it does not know.
            _ => {}
        }
    }
    sorts.sort_by_key(|(i, _, _)| *i);
    for (_, field, direction) in sorts {
        let field = field.ok_or_else(|| SandboxError::invalid_request("Every sort needs a field."))?;
        list.sort.push(Sort { field, direction: direction.unwrap_or_default() });
    }
    Ok(list)
}

/// `sort[3][field]` → `(3, "field")`.
fn parse_sort_key(key: &str) -> Option<(usize, &str)> {
    let rest = key.strip_prefix("sort[")?;
    let (index, rest) = rest.split_once("][")?;
    let part = rest.strip_suffix(']')?;
    matches!(part, "field" | "direction").then_some(())?;
    Some((index.parse().ok()?, part))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_string_with_sorts_and_fields_reads_as_a_listing() {
        let query = list_query(Some("fields%5B%5D=Name&fields[]=Status&sort[1][field]=Due&sort[0][field]=Status&sort[0][direction]=desc&pageSize=5")).unwrap();
        assert_eq!(query.fields, vec!["Name", "Status"]);
        assert_eq!(query.page_size, Some(5));
        assert_eq!(query.sort[0], Sort { field: "Status".into(), direction: Direction::Desc });
        assert_eq!(query.sort[1].field, "Due");
    }

    #[test]
    fn a_bad_page_size_is_refused_with_a_message() {
        let err = list_query(Some("pageSize=ten")).unwrap_err();
        assert_eq!(err.status, 422);
        assert!(err.message.contains("pageSize"));
    }

    #[test]
    fn the_listing_round_trips_through_the_clients_query_string() {
        let sent = ListQuery {
            fields: vec!["A & B".into()],
            filter_by_formula: Some("{Name} = 'x'".into()),
            sort: vec![Sort { field: "Name".into(), direction: Direction::Desc }],
            ..ListQuery::default()
        };
        let text: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(sent.to_pairs()).finish();
        assert_eq!(list_query(Some(&text)).unwrap(), sent);
    }
}
