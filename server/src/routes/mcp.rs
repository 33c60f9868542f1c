//! `/mcp`: the tool catalog over MCP's Streamable HTTP, for callers with an API key.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Json;
use backend::auth::Auth;
use backend::mcp::{McpHandler, http_service};

use super::AppState;
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
        .layer(middleware::from_fn_with_state(services.auth.clone(), require_bearer))
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
        None => (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, r#"Bearer realm="pyairtable", error="invalid_token""#)],
            Json(serde_json::json!({
                "error": "MCP needs Authorization: Bearer <API key>. Create a key in Settings → API keys; a read key lists and runs only the read-only tools."
            })),
        )
            .into_response(),
    }
}
