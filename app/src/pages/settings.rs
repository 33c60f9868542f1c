//! `/settings`: the signed-in user's account, password, Airtable connection, LLM provider, chat
//! approvals and budgets, API keys, AI clients (MCP), sessions and account deletion.

use backend::model::auth::{ApiKeyInfo, NewApiKey, UserView};
use leptos::prelude::*;
use leptos_meta::Title;

mod airtable;
mod chat;
mod delete_account;
mod llm;
mod mcp;
mod sessions;

use self::airtable::AirtableSection;
use self::chat::ChatSection;
use self::delete_account::DeleteAccountSection;
use self::llm::LlmSection;
use self::mcp::McpSection;
use self::sessions::SessionsSection;
use crate::api::keys::{CreateApiKey, RevokeApiKey, list_api_keys};
use crate::components::signed_in::SignedIn;
use crate::error::AppError;

/// Changes the caller's password; every other session and refresh token ends, and so does the
/// sandbox token.
#[server(prefix = "/api", endpoint = "account/password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    let principal = crate::auth::require_writer()?;
    let session = crate::auth::session().await?;
    let keep = session.id().map(|id| id.to_string());
    let services = crate::auth::services();
    let ip = crate::auth::client_ip();
    services.auth.change_password(&principal.user, &current_password, &new_password, keep.as_deref(), ip).await?;
    // The sandbox token is a credential too; a new password retires it.
    services.sandbox.tokens.rotate(&principal.user.id).await.map_err(backend::connections::ConnectionError::from)?;
    Ok(())
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings" />
        <SignedIn let:user>
            <section class="page settings">
                <h1>"Settings"</h1>
                <Profile user=user.clone() />
                <PasswordSection />
                <AirtableSection />
                <LlmSection />
                <ChatSection />
                <ApiKeysSection />
                <McpSection />
                <SessionsSection />
                <DeleteAccountSection />
            </section>
        </SignedIn>
    }
}

#[component]
fn Profile(user: UserView) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="profile-title">
            <h2 id="profile-title">"Profile"</h2>
            <dl class="facts">
                <dt>"Email"</dt>
                <dd>{user.email}</dd>
                <dt>"Role"</dt>
                <dd>{if user.is_admin { "Administrator" } else { "User" }}</dd>
            </dl>
        </section>
    }
}

#[component]
fn PasswordSection() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    view! {
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Password"</h2>
            <ActionForm action attr:class="form">
                <label>"Current password" <input type="password" name="current_password" autocomplete="current-password" required /></label>
                <label>"New password" <input type="password" name="new_password" autocomplete="new-password" minlength="10" required /></label>
                {move || match action.value().get() {
                    Some(Ok(())) => view! { <p class="success" role="status">"Password changed. Your other sessions have been signed out."</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    None => ().into_any(),
                }}
                <button type="submit" class="button" disabled=action.pending()>"Change password"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn ApiKeysSection() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_api_keys());
    // The key endpoints take JSON, for scripts; the browser calls them the same way.
    let form = NodeRef::<leptos::html::Form>::new();
    let name = NodeRef::<leptos::html::Input>::new();
    let scope = NodeRef::<leptos::html::Select>::new();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(form), Some(name), Some(scope)) = (form.get(), name.get(), scope.get()) else { return };
        create.dispatch(CreateApiKey { name: name.value(), scope: scope.value() });
        // reset() also clears the "invalid" look an emptied required field would get.
        form.reset();
    };
    view! {
        <section class="card" aria-labelledby="keys-title">
            <h2 id="keys-title">"API keys"</h2>
            <p class="muted">"Keys let MCP clients and scripts act as you. A read-only key can't change anything."</p>
            <form class="form inline-fields" node_ref=form on:submit=submit>
                <label>"Key name" <input type="text" node_ref=name maxlength="100" required placeholder="Laptop script" /></label>
                <label>
                    "Access"
                    <select node_ref=scope>
                        <option value="read">"Read only"</option>
                        <option value="write">"Read and write"</option>
                    </select>
                </label>
                <button type="submit" class="button" disabled=create.pending()>"Create key"</button>
            </form>
            {move || create.value().get().map(|result| match result {
                Ok(key) => view! { <NewKeyNotice key /> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
            {move || revoke.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No API keys yet."</p> }.into_any(),
                        Ok(list) => view! { <KeyTable keys=list revoke /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The new key, shown this once.
#[component]
fn NewKeyNotice(key: NewApiKey) -> impl IntoView {
    view! {
        <div class="notice" role="status">
            <p>"Copy your new key now. It won't be shown again."</p>
            <code class="secret" aria-label="New API key">{key.key}</code>
        </div>
    }
}

#[component]
fn KeyTable(keys: Vec<ApiKeyInfo>, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    let rows = keys
        .into_iter()
        .map(|key| {
            let (id, name) = (key.id.clone(), key.name.clone());
            let ask = move |_| {
                let question = format!("Revoke the key \"{name}\"? Anything using it stops working.");
                if window().confirm_with_message(&question).unwrap_or(false) {
                    revoke.dispatch(RevokeApiKey { id: id.clone() });
                }
            };
            let access = if key.scope == backend::model::auth::Scope::Write { "Read and write" } else { "Read only" };
            view! {
                <tr>
                    <td>{key.name.clone()}</td>
                    <td><code>{key.prefix}"…"</code></td>
                    <td>{access}</td>
                    <td>
                        <button type="button" class="button secondary small" on:click=ask aria-label=format!("Revoke {}", key.name)>
                            "Revoke"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table">
            <thead><tr><th>"Name"</th><th>"Key"</th><th>"Access"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
