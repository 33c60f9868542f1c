//! Who is calling a server function, for the functions to check before they act.

use backend::auth::Principal;
use leptos::prelude::use_context;

use crate::error::AppError;

/// The signed-in user of this request, if any, from the session cookie or a bearer token.
pub fn signed_in() -> Option<Principal> {
    use_context::<http::request::Parts>().and_then(|parts| parts.extensions.get::<Principal>().cloned())
}

/// The signed-in user of this request.
///
/// # Errors
/// `Unauthorized` (401) when nobody is signed in.
pub fn require_user() -> Result<Principal, AppError> {
    signed_in().ok_or_else(|| AppError::Unauthorized("Sign in to continue.".into()).with_status())
}

/// Like [`require_user`], but refuses read-only API keys.
///
/// # Errors
/// `Unauthorized` when signed out, `Forbidden` (403) for a read-only key.
pub fn require_writer() -> Result<Principal, AppError> {
    let principal = require_user()?;
    if principal.can_write() {
        Ok(principal)
    } else {
        Err(AppError::Forbidden("This API key is read-only. Create a read-write key in Settings to make changes.".into())
            .with_status())
    }
}

/// Like [`require_writer`], for administrators only.
///
/// # Errors
/// `Unauthorized` when signed out, `Forbidden` (403) for anyone but an admin.
pub fn require_admin() -> Result<Principal, AppError> {
    let principal = require_writer()?;
    if principal.user.is_admin {
        Ok(principal)
    } else {
        Err(AppError::Forbidden("Only administrators can do this.".into()).with_status())
    }
}

/// The services, which the router provides to every server function.
pub fn services() -> backend::Services {
    leptos::prelude::expect_context::<backend::Services>()
}

/// The caller's IP address, for login throttling: the one the server resolved (through trusted
/// proxies), or else the socket peer.
pub fn client_ip() -> Option<std::net::IpAddr> {
    use_context::<http::request::Parts>().and_then(|parts| {
        parts.extensions.get::<backend::auth::client_ip::ClientIp>().map(|c| c.0).or_else(|| {
            parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip())
        })
    })
}

/// This browser's session, from the session layer around every route.
///
/// # Errors
/// `Internal` when the layer is missing, which is a wiring bug, logged here.
pub async fn session() -> Result<tower_sessions::Session, AppError> {
    leptos_axum::extract::<tower_sessions::Session>().await.map_err(|e| {
        tracing::error!(error = %e, "the session layer is missing");
        AppError::internal()
    })
}
