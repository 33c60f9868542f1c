//! The "Delete account" section of Settings: removes the account and everything it owns.

use leptos::prelude::*;

use crate::error::AppError;

/// Deletes the caller's account after checking their password. Their sessions, tokens, keys,
/// Airtable token, sandbox bases and uploaded files go with it.
#[server(prefix = "/api", endpoint = "account/delete")]
pub async fn delete_account(password: String) -> Result<(), AppError> {
    let principal = crate::auth::require_writer()?;
    let services = crate::auth::services();
    let auth = services.auth;
    auth.confirm_password(&principal.user, &password, crate::auth::client_ip()).await?;
    services.files.delete_all(&principal.user.id).await?;
    auth.users.delete(&principal.user.id).await?;
    if let Ok(session) = crate::auth::session().await {
        // The rows are gone with the user; this clears the cookie too.
        let _ = session.flush().await;
    }
    tracing::info!(user.id = %principal.user.id, "deleted an account at its owner's request");
    leptos_axum::redirect("/");
    Ok(())
}

#[component]
pub fn DeleteAccountSection() -> impl IntoView {
    let action = ServerAction::<DeleteAccount>::new();
    // The header's account menu refreshes once the account is gone.
    crate::pages::session::SessionChanges::follow(action.into());
    view! {
        <section class="card danger-zone" aria-labelledby="delete-title">
            <h2 id="delete-title">"Delete account"</h2>
            <p class="muted">
                "This removes your account and everything it owns: sessions, API keys, your saved Airtable token and LLM key, and your sandbox bases. Your bases on airtable.com are not touched. It can't be undone."
            </p>
            <ActionForm action attr:class="form">
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required /></label>
                <label class="confirm-check">
                    <input type="checkbox" name="confirm" required />
                    " I understand this deletes my account for good"
                </label>
                {move || action.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
                <button type="submit" class="button danger" disabled=action.pending()>"Delete my account"</button>
            </ActionForm>
        </section>
    }
}
