//! `POST /hooks/{workflow_id}`: a webhook delivery for a workflow. It answers to the
//! workflow's own secret (a bearer token or an HMAC signature of the body), never to sessions
//! or API keys, and answers 202 as soon as the run is queued.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use backend::Services;
use backend::workflows::{Delivery, SIGNATURE_HEADERS, delivery_id};
use serde_json::{Value, json};

use super::edge::ApiError;

/// The largest body a webhook delivery may carry.
pub const BODY_LIMIT: usize = 1024 * 1024;

/// Headers a workflow never sees: the secret, and what proxies add.
const HIDDEN: [&str; 4] = ["authorization", "cookie", "x-forwarded-for", "x-real-ip"];

pub async fn deliver(State(services): State<Services>, Path(workflow_id): Path<String>, headers: HeaderMap, body: Bytes) -> Result<(StatusCode, Json<Value>), ApiError> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature = SIGNATURE_HEADERS.iter().find_map(|name| text(name));
    let delivery = delivery_id(|name| text(name));
    let visible: serde_json::Map<String, Value> = headers
        .iter()
        .filter(|(name, _)| {
            let name = name.as_str();
            (name.starts_with("x-") || name == "content-type" || name == "user-agent") && !HIDDEN.contains(&name) && !SIGNATURE_HEADERS.contains(&name)
        })
        .filter_map(|(name, value)| Some((name.as_str().to_owned(), json!(value.to_str().ok()?))))
        .collect();
    let request = Delivery {
        authorization: text(header::AUTHORIZATION.as_str()),
        signature,
        delivery_id: delivery.as_deref(),
        headers: Value::Object(visible),
        body: &body,
    };
    let run_id = services.workflows.deliver(workflow_id.trim(), request).await?;
    let answer = match run_id {
        Some(run_id) => json!({"run_id": run_id}),
        None => json!({"run_id": null, "duplicate": true, "message": "This delivery was received before; it ran once."}),
    };
    Ok((StatusCode::ACCEPTED, Json(answer)))
}
