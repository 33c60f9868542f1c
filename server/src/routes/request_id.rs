//! `X-Request-Id`: kept when the client sends a sensible one, generated otherwise, echoed in the
//! response, and carried by every log line of the request.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderName, Request};
use axum::middleware::Next;
use axum::response::Response;
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, MakeSpan, TraceLayer};
use tower_http::LatencyUnit;
use tracing::{Level, Span};

const HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longer incoming IDs are replaced, so a client can't bloat every log line.
const MAX_LEN: usize = 128;

/// Wraps `router` in the request-ID and request-logging middleware, outermost first.
pub fn wrap(router: Router) -> Router {
    router.layer(
        ServiceBuilder::new()
            .map_request(drop_unusable_id)
            .layer(SetRequestIdLayer::new(HEADER, MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(RequestSpan)
                    .on_request(())
                    .on_response(
                        DefaultOnResponse::new().level(Level::INFO).latency_unit(LatencyUnit::Millis),
                    ),
            )
            .layer(PropagateRequestIdLayer::new(HEADER))
            .layer(axum::middleware::from_fn(answer_in_scope)),
    )
}

/// Answers the request with its ID in scope, for an internal error's answer to quote.
async fn answer_in_scope(request: Request<Body>, next: Next) -> Response {
    let id = request_id(&request).to_owned();
    app::error::request_id::scope(id, next.run(request)).await
}

fn request_id<B>(request: &Request<B>) -> &str {
    request.extensions().get::<RequestId>().and_then(|id| id.header_value().to_str().ok()).unwrap_or("-")
}

/// Removes an incoming ID that is too long or holds characters other than letters, digits and `-_.:`.
fn drop_unusable_id(mut request: Request<Body>) -> Request<Body> {
    let usable = request.headers().get(&HEADER).is_none_or(|value| {
        let bytes = value.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= MAX_LEN
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(b))
    });
    if !usable {
        request.headers_mut().remove(&HEADER);
    }
    request
}

/// One span per request; its fields appear on every log line written while answering it.
/// The query string is left out, since it may carry tokens.
#[derive(Clone, Copy)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, request: &Request<B>) -> Span {
        tracing::info_span!("request", request_id = %request_id(request), method = %request.method(), path = %request.uri().path())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_id(id: &str) -> Request<Body> {
        Request::builder().header(&HEADER, id).body(Body::empty()).unwrap()
    }

    #[test]
    fn a_sensible_incoming_id_is_kept() {
        let request = drop_unusable_id(with_id("abc-123_x.y:z"));
        assert_eq!(request.headers()[&HEADER], "abc-123_x.y:z");
    }

    #[test]
    fn an_overlong_or_odd_incoming_id_is_dropped() {
        assert!(drop_unusable_id(with_id(&"a".repeat(MAX_LEN + 1))).headers().get(&HEADER).is_none());
        assert!(drop_unusable_id(with_id("a b")).headers().get(&HEADER).is_none());
    }
}
