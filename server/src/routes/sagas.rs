//! Sagas over plain HTTP, for scripts: start a multi-step change, follow it, undo it.
//! `POST /api/sagas`, `GET /api/sagas`, `GET /api/sagas/{id}`, `POST /api/sagas/{id}/undo`
//! and `POST /api/sagas/{id}/cancel`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use backend::Services;
use backend::model::sagas::{SagaSource, SagaSummary, SagaView, UndoOutcome};
use backend::sagas::{Call, NewSaga};
use serde::Deserialize;
use serde_json::{Value, json};

use super::edge::{ApiError, Caller, Writer};

/// The most steps one saga may have: each is up to 100 records.
const MAX_STEPS: usize = 100;

#[derive(Deserialize)]
pub struct Start {
    /// What the change is, as the changes page will list it.
    #[serde(default)]
    title: Option<String>,
    base_id: String,
    /// Calls of create_records, update_records, upsert_records or delete_records, in order.
    steps: Vec<Call>,
}

/// `POST /api/sagas` with `{title?, base_id, steps: [{tool, arguments}]}`: 202 with
/// `{saga_id}`; a background job applies the steps, or undoes them all if one fails.
pub async fn start(State(services): State<Services>, Writer(principal): Writer, Json(start): Json<Start>) -> Result<(StatusCode, Json<Value>), ApiError> {
    if start.steps.len() > MAX_STEPS {
        return Err(ApiError(app::error::AppError::Invalid(format!("A saga may have at most {MAX_STEPS} steps; split the change."))));
    }
    let title = start.title.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or("Change from the REST API");
    let title: String = title.chars().take(200).collect();
    // Every step names this base, so the saga's base is true of all of them.
    let steps: Vec<Call> = start
        .steps
        .into_iter()
        .map(|mut call| {
            if let Some(arguments) = call.arguments.as_object_mut() {
                arguments.insert("base_id".into(), json!(start.base_id));
            }
            call
        })
        .collect();
    let id = services
        .sagas
        .start(NewSaga { user: &principal.user.id, source: SagaSource::Rest, title: &title, base_id: &start.base_id, conversation_id: None, calls: &steps })
        .await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "saga_id": id }))))
}

/// `GET /api/sagas`: the caller's sagas, newest first.
pub async fn list(State(services): State<Services>, Caller(principal): Caller) -> Result<Json<Vec<SagaSummary>>, ApiError> {
    Ok(Json(services.sagas.list(&principal.user.id).await?))
}

/// `GET /api/sagas/{id}`: one saga with its steps and the records each touched.
pub async fn get(State(services): State<Services>, Caller(principal): Caller, Path(id): Path<String>) -> Result<Json<SagaView>, ApiError> {
    Ok(Json(services.sagas.get(&principal.user.id, &id).await?))
}

#[derive(Deserialize, Default)]
pub struct Undo {
    #[serde(default)]
    overwrite: bool,
}

/// `POST /api/sagas/{id}/undo` with `{overwrite?}`: what Undo did, or the conflicts it found.
pub async fn undo(
    State(services): State<Services>,
    Writer(principal): Writer,
    Path(id): Path<String>,
    body: Option<Json<Undo>>,
) -> Result<Json<UndoOutcome>, ApiError> {
    let overwrite = body.map(|Json(b)| b.overwrite).unwrap_or_default();
    Ok(Json(services.sagas.undo(&principal.user.id, &id, overwrite).await?))
}

/// `POST /api/sagas/{id}/cancel`: stops a running saga and undoes what it applied.
pub async fn cancel(State(services): State<Services>, Writer(principal): Writer, Path(id): Path<String>) -> Result<Json<SagaSummary>, ApiError> {
    Ok(Json(services.sagas.cancel(&principal.user.id, &id).await?))
}
