//! `POST /api/keys/create`, `/api/keys/list` and `/api/keys/revoke`: the caller's API keys.

use backend::model::auth::{ApiKeyInfo, NewApiKey};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use crate::error::AppError;

/// Creates an API key with scope `read` or `write`. The key is in this answer and nowhere else.
#[server(prefix = "/api", endpoint = "keys/create", input = Json)]
pub async fn create_api_key(name: String, scope: String) -> Result<NewApiKey, AppError> {
    let principal = crate::auth::require_writer()?;
    let scope = backend::model::auth::Scope::parse(&scope)
        .ok_or_else(|| AppError::Invalid("The scope must be \"read\" or \"write\".".into()).with_status())?;
    Ok(crate::auth::services().auth.api_keys.create(&principal.user.id, &name, scope).await?)
}

/// The caller's live API keys, without their secrets.
#[server(prefix = "/api", endpoint = "keys/list", input = Json)]
pub async fn list_api_keys() -> Result<Vec<ApiKeyInfo>, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().auth.api_keys.list(&principal.user.id).await?)
}

/// Revokes one of the caller's API keys, and the sandbox token, which that key may have fetched.
#[server(prefix = "/api", endpoint = "keys/revoke", input = Json)]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    let principal = crate::auth::require_writer()?;
    let services = crate::auth::services();
    services.auth.api_keys.revoke(&principal.user.id, &id).await?;
    services.sandbox.tokens.rotate(&principal.user.id).await.map_err(backend::connections::ConnectionError::from)?;
    Ok(())
}
