//! `POST /api/sandbox/credentials`: the caller's sandbox, for pointing any Airtable client at it.

use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Where the caller's sandbox answers, with their token and bases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SandboxAccess {
    /// Give this as `endpointUrl` to Airtable's JavaScript client, or as the API address to others.
    pub endpoint_url: String,
    pub token: String,
    pub base_ids: Vec<String>,
}

/// The caller's sandbox address, token and bases; the sandbox and its demo base are made on first use.
/// Refused (403) to read-only API keys, since the token writes.
#[server(prefix = "/api", endpoint = "sandbox/credentials", input = Json)]
pub async fn sandbox_credentials() -> Result<SandboxAccess, AppError> {
    use secrecy::ExposeSecret;

    let principal = crate::auth::require_user()?;
    // The sandbox token can write, so a read-only key must not be able to fetch it.
    if !principal.can_write() {
        return Err(AppError::Forbidden(
            "A read-only API key can't fetch the sandbox token, because the token can change records. Use a read-write key.".into(),
        )
        .with_status());
    }
    let services = crate::auth::services();
    // The sandbox's own client, even for users connected to Airtable with a token of their own.
    let (connection, token) = services.connections.sandbox_for(&principal.user.id).await?;
    let bases = connection.client.list_bases().await?;
    let endpoint_url = format!("{}/sandbox", services.public_url.as_str().trim_end_matches('/'));
    Ok(SandboxAccess {
        endpoint_url,
        token: token.expose_secret().to_owned(),
        base_ids: bases.into_iter().map(|b| b.id.to_string()).collect(),
    })
}
