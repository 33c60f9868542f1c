//! The HTTP edge shared by the plain JSON routes (`/api/chat*`, `/api/execute-tool`,
//! `/api/tools`, `/api/analytics/events`, `/mcp`): one error type whose status comes from
//! `AppError`'s table, and one extractor each for "a signed-in caller" and "a caller who may
//! write". Server functions get the same table through `AppError` itself.

use app::error::AppError;
use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use backend::auth::Principal;
use serde_json::json;

/// An error answered as `{"error": message}` with the status `AppError::status` gives it.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        Self(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.0.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(json!({ "error": self.0.to_string() }))).into_response();
        let headers = response.headers_mut();
        if let Some(seconds) = self.0.retry_after_s() {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(r#"Bearer realm="pyairtable""#));
        }
        response
    }
}

/// The caller of a request, signed in with the session cookie or a bearer token; 401 without.
pub struct Caller(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        match parts.extensions.get::<Principal>() {
            Some(principal) => Ok(Self(principal.clone())),
            None => Err(ApiError(AppError::Unauthorized("Sign in, or send Authorization: Bearer <API key>.".into()))),
        }
    }
}

/// A caller who may change things: 401 without a credential, 403 for a read-only API key.
pub struct Writer(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Writer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Caller(principal) = Caller::from_request_parts(parts, state).await?;
        if principal.can_write() {
            Ok(Self(principal))
        } else {
            Err(ApiError(AppError::Forbidden("This API key is read-only, and this request changes data. Use a read-write key.".into())))
        }
    }
}
