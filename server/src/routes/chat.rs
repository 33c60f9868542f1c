//! The chat over plain HTTP: the old platform's `POST /api/chat` and its streaming variant, and
//! the event stream the chat page listens to while a turn runs.

use std::convert::Infallible;
use std::time::Duration;

use app::error::AppError;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use backend::Services;
use backend::auth::Principal;
use backend::chat::TurnHandle;
use backend::model::chat::{MessageStatus, TurnEvent};
use futures::Stream;
use futures::stream::{self, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::edge::{ApiError, Caller, Writer};

/// The old platform's request: `session_id` names the conversation to go on with.
#[derive(Deserialize)]
pub struct ChatRequest {
    message: String,
    #[serde(default)]
    session_id: Option<String>,
    #[serde(default)]
    base_id: Option<String>,
    /// File IDs from `POST /api/files/upload`, given to the model with the message.
    #[serde(default)]
    attachments: Vec<String>,
}

/// Starts a turn, going on with `session_id` when it is one of the caller's conversations and
/// starting a new one otherwise (the answer says which).
async fn start(services: &Services, principal: &Principal, request: &ChatRequest) -> Result<TurnHandle, ApiError> {
    let chat = &services.chat;
    let known = match request.session_id.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(id) => chat.conversation(&principal.user.id, id).await.ok().map(|c| c.summary.id),
        None => None,
    };
    Ok(chat.send(principal, known.as_deref(), request.base_id.as_deref(), &request.message, &request.attachments).await?)
}

/// `POST /api/chat` with `{message, session_id?, base_id?}`: waits for the turn, then answers
/// `{response, tools_used, session_id, cost_info}` (plus `status` and any `pending_approvals`).
pub async fn send(State(services): State<Services>, Writer(principal): Writer, Json(request): Json<ChatRequest>) -> Result<Json<Value>, ApiError> {
    let mut handle = start(&services, &principal, &request).await?;
    if let Err(e) = (&mut handle.finished).await {
        tracing::error!(error = %e, "a chat turn panicked");
    }
    let reply = services.chat.reply(&principal.user.id, &handle.conversation_id, &handle.message_id).await?;
    Ok(Json(json!({
            "response": reply.response,
            "tools_used": reply.tools_used,
            "session_id": handle.conversation_id,
            "status": reply.status,
            "pending_approvals": reply.pending_approvals,
            "error": reply.error,
            "cost_info": {
                "input_tokens": reply.usage.input_tokens,
                "cached_tokens": reply.usage.cached_tokens,
                "output_tokens": reply.usage.output_tokens,
                "thinking_tokens": reply.usage.thinking_tokens,
                "total_tokens": reply.usage.total(),
                "cost_usd": reply.cost_usd,
            },
    })))
}

/// `POST /api/chat/stream`: the same request, answered with server-sent events as the turn
/// runs (`snapshot`, `text`, `changed`, `done`), then a `result` event shaped like
/// `POST /api/chat`'s answer.
pub async fn stream(State(services): State<Services>, Writer(principal): Writer, Json(request): Json<ChatRequest>) -> Result<Response, ApiError> {
    let handle = start(&services, &principal, &request).await?;
    let subscription = services.chat.subscribe(&principal.user.id, &handle.conversation_id).await.ok().flatten();
    let result = stream::once(async move {
        let TurnHandle { conversation_id, message_id, finished } = handle;
        let _ = finished.await;
        let reply = services.chat.reply(&principal.user.id, &conversation_id, &message_id).await;
        let data = match reply {
            Ok(reply) => json!({ "type": "result", "session_id": conversation_id, "response": reply.response, "tools_used": reply.tools_used, "status": reply.status, "pending_approvals": reply.pending_approvals, "cost_info": { "total_tokens": reply.usage.total(), "cost_usd": reply.cost_usd } }),
            Err(e) => json!({ "type": "error", "error": AppError::from(e).to_string() }),
        };
        Ok::<_, Infallible>(Event::default().data(data.to_string()))
    });
    Ok(sse(events(subscription).chain(result)).into_response())
}

/// `GET /api/chat/conversations/{id}/events`: the running turn's events; just `done` when no
/// turn runs.
pub async fn events_of(State(services): State<Services>, Caller(principal): Caller, Path(id): Path<String>) -> Result<impl IntoResponse, ApiError> {
    let subscription = services.chat.subscribe(&principal.user.id, &id).await?;
    Ok(sse(events(subscription)))
}

fn sse(events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> impl IntoResponse {
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// The turn's events as SSE, ending after `done`. A listener that falls behind is told the
/// conversation changed, so it re-reads it rather than showing a gap.
fn events(subscription: Option<(String, broadcast::Receiver<TurnEvent>)>) -> impl Stream<Item = Result<Event, Infallible>> + Send + 'static {
    let first = match &subscription {
        Some((text, _)) => TurnEvent::Snapshot { text: text.clone() },
        None => TurnEvent::Done { status: MessageStatus::Complete },
    };
    let rest = stream::unfold(subscription.map(|(_, receiver)| receiver), |receiver| async move {
        let mut receiver = receiver?;
        let event = match receiver.recv().await {
            Ok(event) => event,
            Err(broadcast::error::RecvError::Lagged(_)) => TurnEvent::Changed,
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        let done = matches!(event, TurnEvent::Done { .. });
        Some((event, (!done).then_some(receiver)))
    });
    stream::once(async move { first }).chain(rest).map(|event| Ok(Event::default().data(serde_json::to_string(&event).unwrap_or_default())))
}
