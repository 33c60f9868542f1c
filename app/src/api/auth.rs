//! `POST /api/auth/token`, `/api/auth/refresh` and `/api/auth/logout`: tokens for API clients.

use backend::model::auth::TokenPair;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// Exchanges an email and password for an access token (15 minutes) and a refresh token.
#[server(prefix = "/api", endpoint = "auth/token", input = Json)]
pub async fn issue_token(email: String, password: String) -> Result<TokenPair, AppError> {
    let auth = crate::auth::services().auth;
    let user = auth.login(&email, &password, crate::auth::client_ip()).await?;
    Ok(auth.tokens.issue(&user).await?)
}

/// Uses up a refresh token and returns a new pair. Reusing an old one revokes its whole family.
#[server(prefix = "/api", endpoint = "auth/refresh", input = Json)]
pub async fn refresh_token(refresh_token: String) -> Result<TokenPair, AppError> {
    let auth = crate::auth::services().auth;
    let (user_id, pair) = auth.tokens.rotate(&refresh_token).await?;
    // A token of a user disabled since it was issued must not work either.
    if auth.users.active(&user_id).await?.is_none() {
        auth.tokens.revoke(&pair.refresh_token).await?;
        return Err(backend::auth::AuthError::InvalidToken.into());
    }
    Ok(pair)
}

/// Revokes a refresh token and every token rotated from the same login.
#[server(prefix = "/api", endpoint = "auth/logout", input = Json)]
pub async fn revoke_token(refresh_token: String) -> Result<(), AppError> {
    Ok(crate::auth::services().auth.tokens.revoke(&refresh_token).await?)
}
