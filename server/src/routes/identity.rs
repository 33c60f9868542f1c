//! Who is asking: the session cookie or an `Authorization: Bearer` token (an access token or an
//! API key) becomes a `Principal` in the request's extensions, for handlers and server
//! functions to read. Also guards cookie-authenticated mutations against cross-site requests.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use backend::auth::session_store::USER_ID_KEY;
use backend::auth::{Auth, AuthMethod, Principal, UserId};
use tower_sessions::Session;
use url::Url;

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

async fn from_session(auth: &Auth, session: &Session) -> Option<Principal> {
    let id = session.get::<String>(USER_ID_KEY).await.ok().flatten()?;
    match auth.users.active(&UserId::parse(&id)?).await {
        Ok(Some(user)) => Some(Principal { user, method: AuthMethod::Session }),
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
    (
        StatusCode::UNAUTHORIZED,
        [(header::WWW_AUTHENTICATE, r#"Bearer error="invalid_token""#)],
        Json(serde_json::json!({
            "error": "The token or API key is invalid, expired or revoked. Sign in again, or create a new API key in Settings."
        })),
    )
        .into_response()
}

/// Refuses a state-changing request that carries cookies but comes from another origin.
/// Requests with a bearer token are not at risk: a browser never adds one by itself.
pub async fn same_origin_for_cookies(
    State(public_url): State<Url>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let headers = request.headers();
    if safe || bearer(headers).is_some() || !headers.contains_key(header::COOKIE) {
        return next.run(request).await;
    }
    if is_same_origin(headers, &public_url) {
        next.run(request).await
    } else {
        (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({
                "error": "This request came from another site and was refused. Reload the page and try again."
            })),
        )
            .into_response()
    }
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
    fn only_bearer_authorization_counts() {
        assert_eq!(bearer(&headers(&[("authorization", "Bearer abc")])), Some("abc"));
        assert_eq!(bearer(&headers(&[("authorization", "Basic abc")])), None);
        assert_eq!(bearer(&headers(&[("authorization", "Bearer ")])), None);
    }
}
