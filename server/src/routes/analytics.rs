//! `POST /api/analytics/events`: events the browser sends, attributed to the signed-in user.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use backend::Services;
use serde_json::{Value, json};

use super::edge::{ApiError, Caller};

/// Takes `{"events":[{"name":"page_view","properties":{…}}]}`; answers 202 with how many were
/// accepted, or refuses the whole batch with what to change.
pub async fn record(State(services): State<Services>, Caller(principal): Caller, body: Bytes) -> Result<(StatusCode, Json<Value>), ApiError> {
    let accepted = services.analytics.record_client(principal.user.id.as_str(), &body)?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "accepted": accepted }))))
}
