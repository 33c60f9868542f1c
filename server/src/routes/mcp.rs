//! `/mcp`: the tool catalog over MCP's Streamable HTTP, for callers with an API key.

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use app::error::AppError;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use backend::auth::{Auth, Principal};
use backend::mcp::sessions::SessionBinding;
use backend::mcp::{McpHandler, http_service};

use super::AppState;
use super::edge::ApiError;
use super::identity::bearer;

/// The MCP endpoint, answering only to `Authorization: Bearer <API key or access token>`.
pub fn router(state: &AppState) -> Router<AppState> {
    let services = &state.services;
    let handler = McpHandler::per_request(services.tools.clone(), services.connections.clone());
    let public = &state.public_url;
    let mut hosts = vec!["localhost".to_owned(), "127.0.0.1".to_owned(), "::1".to_owned()];
    hosts.extend(public.host_str().map(str::to_owned));
    let origin = public.origin().ascii_serialization();
    let port = public.port_or_known_default().unwrap_or(80);
    // rmcp compares origins with an explicit port.
    let origins = vec![if public.port().is_some() { origin } else { format!("{origin}:{port}") }];
    Router::new()
        .nest_service("/mcp", http_service(handler, hosts, origins))
        .layer(middleware::from_fn_with_state(Arc::new(SessionBinding::default()), bind_sessions))
        .layer(middleware::from_fn_with_state(services.auth.clone(), require_bearer))
}

const SESSION_HEADER: &str = "mcp-session-id";

/// Gives each new session's ID to its caller bound to them, and lets only that caller use,
/// watch or end it; anyone else is told the session doesn't exist.
async fn bind_sessions(State(binding): State<Arc<SessionBinding>>, mut request: Request, next: Next) -> Response {
    let Some(user) = request.extensions().get::<Principal>().map(|p| p.user.id.clone()) else {
        return ApiError(AppError::Unauthorized("MCP needs Authorization: Bearer <API key>.".into())).into_response();
    };
    if let Some(presented) = request.headers().get(SESSION_HEADER) {
        let session_id = presented.to_str().ok().and_then(|p| binding.unbind(&user, p)).and_then(|id| HeaderValue::from_str(id).ok());
        match session_id {
            Some(id) => request.headers_mut().insert(SESSION_HEADER, id),
            None => return ApiError(AppError::NotFound("That MCP session".into())).into_response(),
        };
    }
    let mut response = next.run(request).await;
    let issued = response.headers().get(SESSION_HEADER).and_then(|id| id.to_str().ok()).map(|id| binding.bind(&user, id));
    if let Some(bound) = issued.and_then(|id| HeaderValue::from_str(&id).ok()) {
        response.headers_mut().insert(SESSION_HEADER, bound);
    }
    response
}

/// Finds the caller before rmcp sees the request; without one, 401 with a challenge.
async fn require_bearer(State(auth): State<Auth>, mut request: Request, next: Next) -> Response {
    let principal = match bearer(request.headers()) {
        Some(token) => auth.principal_for_bearer(token).await.ok(),
        None => None,
    };
    match principal {
        Some(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        None => ApiError(AppError::Unauthorized(
            "MCP needs Authorization: Bearer <API key>. Create a key in Settings → API keys; a read key lists and runs only the read-only tools.".into(),
        ))
        .into_response(),
    }
}
