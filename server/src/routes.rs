//! The HTTP router: operational endpoints, the Leptos app and its server functions, and the
//! middleware every request passes through.

use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, get, post};
use axum::{Json, middleware};
use backend::Services;
use backend::model::health::HealthStatus;
use leptos::prelude::{LeptosOptions, provide_context};
use leptos_axum::{LeptosRoutes, generate_route_list};

use std::sync::Arc;

use backend::auth::Auth;
use backend::auth::client_ip::TrustedProxies;
use backend::auth::session_store::DbSessionStore;
use tower_sessions::cookie::SameSite;
use tower_sessions::cookie::time::Duration;
use tower_sessions::{Expiry, SessionManagerLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::normalize_path::NormalizePath;
use url::Url;

use crate::metrics::{self, Metrics, MetricsAccess};

mod analytics;
mod chat;
mod edge;
mod files;
mod hooks;
mod identity;
mod mcp;
mod request_id;
mod sagas;
mod sandbox;
mod security_headers;
mod tools;

pub use edge::{ApiError, Caller, Writer};
pub(crate) use identity::bearer;

/// The largest request body a page or server function takes: far above any form or record
/// write, far below what would strain memory.
pub const SERVER_FN_BODY_LIMIT: usize = 2 * 1024 * 1024;

/// What handlers reach through `State`.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub services: Services,
    pub metrics: Metrics,
    pub metrics_access: MetricsAccess,
    /// Whether the public URL is https, so session cookies must be `Secure`.
    pub secure_cookies: bool,
    pub public_url: Url,
    /// Proxies whose forwarding headers name the client (`PYAIRTABLE_TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<TrustedProxies>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl FromRef<AppState> for Services {
    fn from_ref(state: &AppState) -> Self {
        state.services.clone()
    }
}

impl FromRef<AppState> for Auth {
    fn from_ref(state: &AppState) -> Self {
        state.services.auth.clone()
    }
}

impl FromRef<AppState> for Url {
    fn from_ref(state: &AppState) -> Self {
        state.public_url.clone()
    }
}

impl FromRef<AppState> for Metrics {
    fn from_ref(state: &AppState) -> Self {
        state.metrics.clone()
    }
}

impl FromRef<AppState> for MetricsAccess {
    fn from_ref(state: &AppState) -> Self {
        state.metrics_access.clone()
    }
}

/// Builds the whole router over `state`.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let context = {
        let services = state.services.clone();
        move || provide_context(services.clone())
    };
    let shell = {
        let options = state.leptos_options.clone();
        move || app::shell(options.clone())
    };
    let (own_limit, limited): (Vec<_>, Vec<_>) = api_routes().into_iter().partition(|(_, path, _)| OWN_BODY_LIMIT.contains(path));
    let mount = |routes: Vec<(Method, &'static str, MethodRouter<AppState>)>| {
        routes.into_iter().fold(Router::new(), |router, (_, path, handler)| router.route(path, handler))
    };
    let router = mount(limited)
        .leptos_routes_with_context(&state, routes, context.clone(), shell)
        .fallback(leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, app::shell))
        // Server functions read the raw body stream, which axum's default extractor limit
        // doesn't cap.
        .layer(RequestBodyLimitLayer::new(SERVER_FN_BODY_LIMIT))
        .merge(mount(own_limit))
        .layer(middleware::from_fn_with_state(state.clone(), identity::identify))
        .layer(session_layer(&state))
        .layer(middleware::from_fn_with_state(state.public_url.clone(), identity::same_origin_for_cookies))
        .layer(middleware::from_fn_with_state(state.trusted_proxies.clone(), identity::resolve_client_ip))
        // MCP answers to bearer credentials only, never to the session cookie.
        .merge(mcp::router(&state))
        // Scrapers send the metrics token, which is no account's credential.
        .route("/metrics", get(metrics::serve))
        // Webhook senders prove the workflow's own secret, and send no cookies.
        .route("/hooks/{id}", post(hooks::deliver).layer(RequestBodyLimitLayer::new(hooks::BODY_LIMIT)))
        // The sandbox answers to sandbox tokens, not to our sessions or API keys. Airtable's
        // JavaScript client writes to `…/{table}/`, with a trailing slash.
        .nest_service(
            "/sandbox/v0",
            NormalizePath::trim_trailing_slash(sandbox::router().with_state(state.services.sandbox.clone())),
        )
        .layer(middleware::from_fn_with_state(state.metrics.clone(), metrics::track))
        .layer(middleware::from_fn_with_state(state.secure_cookies, security_headers::add))
        .with_state(state);
    request_id::wrap(router)
}

/// The routes `router` mounts one by one, besides pages and server functions.
fn api_routes() -> [(Method, &'static str, MethodRouter<AppState>); 14] {
    [
        (Method::GET, "/api/health", get(health)),
        (Method::GET, "/api/tools", get(tools::list)),
        (Method::POST, "/api/execute-tool", post(tools::execute)),
        (Method::POST, "/api/analytics/events", post(analytics::record)),
        (Method::POST, "/api/chat", post(chat::send)),
        (Method::POST, "/api/chat/stream", post(chat::stream)),
        (Method::GET, "/api/chat/conversations/{id}/events", get(chat::events_of)),
        (Method::POST, "/api/sagas", post(sagas::start)),
        (Method::GET, "/api/sagas", get(sagas::list)),
        (Method::GET, "/api/sagas/{id}", get(sagas::get)),
        (Method::POST, "/api/sagas/{id}/undo", post(sagas::undo)),
        (Method::POST, "/api/sagas/{id}/cancel", post(sagas::cancel)),
        (Method::POST, "/api/files/upload", files::upload_route()),
        (Method::GET, "/api/files/imports/{id}/rejected.csv", get(files::rejected_rows)),
    ]
}

/// Routes that enforce a body limit of their own (uploads, up to `PYAIRTABLE_UPLOAD_MAX_MB`)
/// instead of the 2 MiB every other request has.
const OWN_BODY_LIMIT: &[&str] = &["/api/files/upload"];

/// What `router` mounts outside the identity layer, since none of it takes our accounts'
/// credentials: `/metrics` (its own token), webhooks (their workflow's secret), rmcp's Streamable HTTP endpoint and the sandbox's
/// Airtable-shaped API (kept in step with `sandbox::router` by the tests, which request each).
const OUTSIDE_ROUTES: &[(&str, &str)] = &[
    ("GET", "/metrics"),
    ("POST", "/hooks/{id}"),
    ("POST", "/mcp"),
    ("GET", "/mcp"),
    ("DELETE", "/mcp"),
    ("GET", "/sandbox/v0/meta/bases"),
    ("POST", "/sandbox/v0/meta/bases"),
    ("GET", "/sandbox/v0/meta/bases/{base}/tables"),
    ("POST", "/sandbox/v0/meta/bases/{base}/tables"),
    ("PATCH", "/sandbox/v0/meta/bases/{base}/tables/{table}"),
    ("POST", "/sandbox/v0/meta/bases/{base}/tables/{table}/fields"),
    ("PATCH", "/sandbox/v0/meta/bases/{base}/tables/{table}/fields/{field}"),
    ("GET", "/sandbox/v0/{base}/{table}"),
    ("POST", "/sandbox/v0/{base}/{table}"),
    ("PATCH", "/sandbox/v0/{base}/{table}"),
    ("PUT", "/sandbox/v0/{base}/{table}"),
    ("DELETE", "/sandbox/v0/{base}/{table}"),
    ("POST", "/sandbox/v0/{base}/{table}/listRecords"),
    ("GET", "/sandbox/v0/{base}/{table}/{record}"),
    ("PATCH", "/sandbox/v0/{base}/{table}/{record}"),
    ("PUT", "/sandbox/v0/{base}/{table}/{record}"),
    ("DELETE", "/sandbox/v0/{base}/{table}/{record}"),
];

/// Every route that is neither a page, a server function nor a static file, as (method,
/// path pattern): the ones `router` mounts from `api_routes`, then the others'. The
/// isolation tests sweep this list, so a new route can't be left out of them.
pub fn plain_routes() -> Vec<(Method, &'static str)> {
    let mounted = api_routes().into_iter().map(|(method, path, _)| (method, path));
    let nested = OUTSIDE_ROUTES.iter().filter_map(|&(method, path)| Some((Method::from_bytes(method.as_bytes()).ok()?, path)));
    mounted.chain(nested).collect()
}

/// How long a browser session lasts without a request: each request starts the week again.
fn session_expiry() -> Expiry {
    Expiry::OnInactivity(Duration::days(7))
}

/// Browser sessions: HttpOnly, SameSite=Lax, Secure behind https, ending after a week unused.
fn session_layer(state: &AppState) -> SessionManagerLayer<DbSessionStore> {
    SessionManagerLayer::new(state.services.auth.sessions.clone())
        .with_name("pyairtable_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.secure_cookies)
        .with_expiry(session_expiry())
}

/// `GET /api/health`: every check, with 503 when the service can't do its job.
async fn health(State(services): State<Services>) -> impl IntoResponse {
    let report = services.health.report().await;
    let code = match report.status {
        HealthStatus::Unhealthy => StatusCode::SERVICE_UNAVAILABLE,
        HealthStatus::Healthy | HealthStatus::Degraded => StatusCode::OK,
    };
    (code, Json(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_ends_after_a_week_without_use_not_a_week_after_sign_in() {
        assert!(matches!(session_expiry(), Expiry::OnInactivity(week) if week == Duration::days(7)));
    }
}
