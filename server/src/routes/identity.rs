//! Who is asking: the session cookie or an `Authorization: Bearer` token (an access token or an
//! API key) becomes a `Principal` in the request's extensions, for handlers and server
//! functions to read. Also guards cookie-authenticated mutations, and the log-in and
//! registration forms, against cross-site requests, and resolves the client's address.

use std::net::SocketAddr;
use std::sync::Arc;

use app::error::AppError;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use backend::auth::client_ip::{ClientIp, TrustedProxies};
use backend::auth::session_store::{SEEN_MS_KEY, USER_ID_KEY};
use backend::auth::{Auth, AuthMethod, Principal, UserId};
use backend::clock::now_ms;
use tower_sessions::Session;
use url::Url;

use super::edge::ApiError;

/// Resolves the principal of every request. A bad bearer token is refused outright, so a
/// script learns at once that its token is wrong rather than being treated as signed out.
pub async fn identify(State(auth): State<Auth>, session: Session, mut request: Request, next: Next) -> Response {
    let principal = match bearer(request.headers()) {
        Some(token) => match auth.principal_for_bearer(token).await {
            Ok(principal) => Some(principal),
            Err(_) => return unauthorized(),
        },
        None => from_session(&auth, &session).await,
    };
    if let Some(principal) = principal {
        request.extensions_mut().insert(principal);
    }
    next.run(request).await
}

/// A session in use is saved again (renewing its week) at most this often, rather than on
/// every request.
const RENEW_SESSION_AFTER_MS: i64 = 60 * 60 * 1000;

async fn from_session(auth: &Auth, session: &Session) -> Option<Principal> {
    let id = session.get::<String>(USER_ID_KEY).await.ok().flatten()?;
    match auth.users.active(&UserId::parse(&id)?).await {
        Ok(Some(user)) => {
            // tower-sessions only saves a changed session, so a session that is used but never
            // changed would end a week after sign-in. Touching it restarts its week of inactivity.
            let now = now_ms();
            let seen = session.get::<i64>(SEEN_MS_KEY).await.ok().flatten();
            if seen.is_none_or(|seen| now - seen > RENEW_SESSION_AFTER_MS) {
                let _ = session.insert(SEEN_MS_KEY, now).await;
            }
            Some(Principal { user, method: AuthMethod::Session })
        }
        Ok(None) => {
            // Disabled or deleted since this session began: it ends now.
            let _ = session.flush().await;
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "could not load the session's user");
            None
        }
    }
}

pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

fn unauthorized() -> Response {
    ApiError(AppError::Unauthorized(
        "The token or API key is invalid, expired or revoked. Sign in again, or create a new API key in Settings.".into(),
    ))
    .into_response()
}

/// Puts the client's address in the request's extensions as a [`ClientIp`]: the socket peer,
/// or what a trusted proxy says it forwarded for.
pub async fn resolve_client_ip(State(proxies): State<Arc<TrustedProxies>>, mut request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip());
    if let Some(peer) = peer {
        let client = if proxies.is_empty() {
            peer
        } else {
            // Read leniently: a client's junk in front of the proxy's entry must not hide it.
            let values = |name| {
                request.headers().get_all(name).iter().map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).collect::<Vec<_>>()
            };
            let (forwarded_for, forwarded) = (values(X_FORWARDED_FOR), values(header::FORWARDED.as_str()));
            proxies.client_ip(peer, forwarded_for.iter().map(String::as_str), forwarded.iter().map(String::as_str))
        };
        request.extensions_mut().insert(ClientIp(client));
    }
    next.run(request).await
}

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// Refuses a state-changing request that carries cookies but comes from another origin, and a
/// log-in or registration from another origin even without cookies: otherwise another site could
/// sign the browser in to an account of its choosing. Requests with a bearer token are not at
/// risk: a browser never adds one by itself.
///
/// A browser always sends `Origin` with a POST (as `null` when it hides it), so a log-in with
/// neither `Origin` nor `Referer` comes from a script, not from a page, and is let through.
pub async fn same_origin_for_cookies(
    State(public_url): State<Url>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let headers = request.headers();
    if safe || bearer(headers).is_some() {
        return next.run(request).await;
    }
    let claims_a_source = headers.contains_key(header::ORIGIN) || headers.contains_key(header::REFERER);
    let checked = if starts_a_session(request.uri().path()) {
        claims_a_source
    } else {
        headers.contains_key(header::COOKIE)
    };
    if !checked || is_same_origin(headers, &public_url) {
        next.run(request).await
    } else {
        ApiError(AppError::Forbidden("This request came from another site and was refused. Reload the page and try again.".into()))
            .into_response()
    }
}

/// The server functions that sign a browser in.
fn starts_a_session(path: &str) -> bool {
    matches!(path.trim_end_matches('/'), "/api/session/login" | "/api/session/register")
}

/// The `Origin` (or, failing that, the `Referer`) must be this server: the host the request
/// was sent to, or the configured public URL when a proxy rewrites the host.
fn is_same_origin(headers: &HeaderMap, public_url: &Url) -> bool {
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Url::parse(v).ok());
    let Some(source) = source else { return false };
    let source_host = match (source.host_str(), source.port_or_known_default()) {
        (Some(host), Some(port)) => (host.to_owned(), port),
        _ => return false,
    };
    let matches_public = public_url.host_str() == Some(source_host.0.as_str())
        && public_url.port_or_known_default() == Some(source_host.1)
        && public_url.scheme() == source.scheme();
    let matches_host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| Url::parse(&format!("{}://{h}", source.scheme())).ok())
        .is_some_and(|target| {
            target.host_str() == Some(source_host.0.as_str()) && target.port_or_known_default() == Some(source_host.1)
        });
    matches_public || matches_host
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn an_origin_matching_the_host_is_same_origin() {
        let public = Url::parse("http://127.0.0.1:8000").unwrap();
        assert!(is_same_origin(&headers(&[("host", "127.0.0.1:9000"), ("origin", "http://127.0.0.1:9000")]), &public));
        assert!(is_same_origin(&headers(&[("host", "internal:80"), ("origin", "http://127.0.0.1:8000")]), &public));
    }

    #[test]
    fn another_site_or_a_missing_origin_is_refused() {
        let public = Url::parse("http://127.0.0.1:8000").unwrap();
        assert!(!is_same_origin(&headers(&[("host", "127.0.0.1:8000"), ("origin", "https://evil.example")]), &public));
        assert!(!is_same_origin(&headers(&[("host", "127.0.0.1:8000")]), &public));
        assert!(!is_same_origin(&headers(&[("host", "127.0.0.1:8000"), ("origin", "http://127.0.0.1:8001")]), &public));
    }

    #[test]
    fn a_null_origin_is_not_same_origin() {
        let public = Url::parse("http://127.0.0.1:8000").unwrap();
        assert!(!is_same_origin(&headers(&[("host", "127.0.0.1:8000"), ("origin", "null")]), &public));
    }

    #[test]
    fn only_log_in_and_registration_start_a_session() {
        assert!(starts_a_session("/api/session/login"));
        assert!(starts_a_session("/api/session/register/"));
        assert!(!starts_a_session("/api/session/logout"));
        assert!(!starts_a_session("/api/auth/token"));
    }

    #[test]
    fn only_bearer_authorization_counts() {
        assert_eq!(bearer(&headers(&[("authorization", "Bearer abc")])), Some("abc"));
        assert_eq!(bearer(&headers(&[("authorization", "Basic abc")])), None);
        assert_eq!(bearer(&headers(&[("authorization", "Bearer ")])), None);
    }
}
