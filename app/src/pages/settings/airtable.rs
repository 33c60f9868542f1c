//! The Airtable section of Settings: connect a personal access token, or work in the sandbox.

use backend::model::airtable::{ConnectionKind, ConnectionView};
use leptos::prelude::*;

use crate::error::AppError;

/// The caller's connection: Airtable with a saved token (shown by its last 4 characters), or the sandbox.
#[server(prefix = "/api", endpoint = "airtable/connection")]
pub async fn airtable_connection() -> Result<ConnectionView, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().connections.view(&principal.user.id).await?)
}

/// Checks a personal access token with Airtable, then saves it encrypted.
#[server(prefix = "/api", endpoint = "airtable/connect")]
pub async fn connect_airtable(token: String) -> Result<ConnectionView, AppError> {
    let principal = crate::auth::require_writer()?;
    let token = secrecy::SecretString::from(token);
    Ok(crate::auth::services().connections.save_token(&principal.user.id, &token).await?)
}

/// Forgets the caller's token; their bases are the sandbox's again.
#[server(prefix = "/api", endpoint = "airtable/disconnect")]
pub async fn disconnect_airtable() -> Result<ConnectionView, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().connections.remove_token(&principal.user.id).await?)
}

/// Retires the caller's sandbox token; clients using it get 401 until given the new one, which
/// `POST /api/sandbox/credentials` hands out.
#[server(prefix = "/api", endpoint = "sandbox/rotate")]
pub async fn rotate_sandbox_token() -> Result<(), AppError> {
    let principal = crate::auth::require_writer()?;
    let services = crate::auth::services();
    services.sandbox.tokens.rotate(&principal.user.id).await.map_err(backend::connections::ConnectionError::from)?;
    Ok(())
}

#[component]
pub fn AirtableSection() -> impl IntoView {
    let connect = ServerAction::<ConnectAirtable>::new();
    let rotate = ServerAction::<RotateSandboxToken>::new();
    let disconnect = ServerAction::<DisconnectAirtable>::new();
    let connection = Resource::new(move || (connect.version().get(), disconnect.version().get()), |_| airtable_connection());
    view! {
        <section class="card" aria-labelledby="airtable-title">
            <h2 id="airtable-title">"Airtable"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || connection.get().map(|result| match result {
                    Ok(view) => status(view, disconnect).into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
            <ActionForm action=connect attr:class="form">
                <label>
                    "Personal access token"
                    <input type="password" name="token" autocomplete="off" spellcheck="false" placeholder="pat…" required />
                </label>
                <p class="hint">
                    "Create one at airtable.com/create/tokens with the scopes data.records:read, data.records:write and schema.bases:read (and schema.bases:write to change tables). It is checked with Airtable, then stored encrypted."
                </p>
                {move || match connect.value().get() {
                    Some(Ok(_)) => view! { <p class="success" role="status">"Connected to Airtable."</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    None => ().into_any(),
                }}
                <button type="submit" class="button" disabled=connect.pending()>"Save token"</button>
            </ActionForm>
            <ActionForm action=rotate attr:class="inline-form">
                <p class="hint">
                    "Scripts and Airtable clients pointed at your sandbox use its token. Rotate it if it may have leaked: the old one stops working at once."
                </p>
                {move || match rotate.value().get() {
                    Some(Ok(())) => view! { <p class="success" role="status">"Sandbox token rotated. Fetch the new one from /api/sandbox/credentials."</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    None => ().into_any(),
                }}
                <button type="submit" class="button secondary" disabled=rotate.pending()>"Rotate sandbox token"</button>
            </ActionForm>
        </section>
    }
}

fn status(view: ConnectionView, disconnect: ServerAction<DisconnectAirtable>) -> impl IntoView {
    match (view.kind, view.token_last4) {
        (ConnectionKind::Airtable, Some(last4)) => view! {
            <p class="connection-status">
                "Connected to Airtable with the token ending in " <code>{last4}</code> "."
            </p>
            <ActionForm action=disconnect attr:class="inline-form">
                <button type="submit" class="button secondary">"Remove token and use the sandbox"</button>
            </ActionForm>
        }
        .into_any(),
        _ => view! {
            <p class="connection-status">
                "You are working in your sandbox: a private, Airtable-compatible workspace on this server, with a demo base. Save a token to work on your real bases."
            </p>
        }
        .into_any(),
    }
}
