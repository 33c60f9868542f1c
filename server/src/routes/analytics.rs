//! `POST /api/analytics/events`: events the browser sends, attributed to the signed-in user.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use backend::Services;
use backend::analytics::ClientEventError;
use backend::auth::Principal;
use serde_json::json;

/// Takes `{"events":[{"name":"page_view","properties":{…}}]}`; answers 202 with how many were
/// accepted, or refuses the whole batch with what to change.
pub async fn record(State(services): State<Services>, principal: Option<Extension<Principal>>, body: Bytes) -> Response {
    let Some(Extension(principal)) = principal else {
        return (StatusCode::UNAUTHORIZED, Json(json!({ "error": "Sign in to send analytics events." }))).into_response();
    };
    match services.analytics.record_client(principal.user.id.as_str(), &body) {
        Ok(accepted) => (StatusCode::ACCEPTED, Json(json!({ "accepted": accepted }))).into_response(),
        Err(e) => {
            let body = Json(json!({ "error": e.to_string() }));
            match e {
                ClientEventError::RateLimited { retry_after } => {
                    let seconds = retry_after.as_secs().max(1).to_string();
                    (StatusCode::TOO_MANY_REQUESTS, [(header::RETRY_AFTER, seconds)], body).into_response()
                }
                ClientEventError::TooLarge | ClientEventError::TooMany(_) => (StatusCode::PAYLOAD_TOO_LARGE, body).into_response(),
                ClientEventError::Malformed(_) | ClientEventError::BadName(_) => (StatusCode::BAD_REQUEST, body).into_response(),
            }
        }
    }
}
