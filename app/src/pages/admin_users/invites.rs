//! Invitations on `/admin/users`: one-time links that let someone register when registration
//! is by invitation, listed until used or expired, and withdrawn at will.

use backend::model::auth::{InviteView, OneTimeLink, RegistrationMode};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

use super::LinkNotice;
use crate::components::time::format_ms;
use crate::error::AppError;
use crate::pages::session::get_registration;

/// A new invitation link, valid for a week.
#[server(prefix = "/api", endpoint = "admin/invites/create", input = Json)]
pub async fn create_invite() -> Result<OneTimeLink, AppError> {
    let admin = crate::auth::require_admin()?;
    let link = crate::auth::services().auth.links.invite(&admin.user.id).await?;
    tracing::info!(admin.id = %admin.user.id, "made an invitation link");
    Ok(link)
}

/// Invitations neither used nor expired, newest first.
#[server(prefix = "/api", endpoint = "admin/invites/list", input = Json)]
pub async fn list_invites() -> Result<Vec<InviteView>, AppError> {
    crate::auth::require_admin()?;
    Ok(crate::auth::services().auth.links.pending_invites().await?)
}

/// Withdraws an unused invitation; its link stops working.
#[server(prefix = "/api", endpoint = "admin/invites/revoke", input = Json)]
pub async fn revoke_invite(id: String) -> Result<(), AppError> {
    crate::auth::require_admin()?;
    Ok(crate::auth::services().auth.links.revoke_invite(id.trim()).await?)
}

#[component]
pub fn InvitesSection() -> impl IntoView {
    let create = ServerAction::<CreateInvite>::new();
    let revoke = ServerAction::<RevokeInvite>::new();
    let invites = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_invites());
    let mode = Resource::new(|| (), |()| get_registration());
    view! {
        <section class="card" aria-labelledby="invites-title">
            <h2 id="invites-title">"Invitations"</h2>
            <Suspense fallback=|| ()>
                {move || mode.get().and_then(Result::ok).map(|mode| view! { <p class="hint">{mode_hint(mode)}</p> })}
            </Suspense>
            <button type="button" class="button" on:click=move |_| { create.dispatch(CreateInvite {}); } disabled=create.pending()>
                "Create an invitation link"
            </button>
            {move || match create.value().get() {
                Some(Ok(link)) => view! {
                    <LinkNotice link what="an invitation link" use_it="It lets one person create an account within 7 days." />
                }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            {move || revoke.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading invitations…"</p> }>
                {move || Suspend::new(async move {
                    match invites.await {
                        Ok(list) if list.is_empty() => view! { <p class="muted">"No invitation is waiting to be used."</p> }.into_any(),
                        Ok(list) => view! { <InviteTable list revoke /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

fn mode_hint(mode: RegistrationMode) -> &'static str {
    match mode {
        RegistrationMode::Open => "Registration is open: anyone who reaches this server can create an account, with or without an invitation.",
        RegistrationMode::Invite => "Registration is by invitation: only someone with an invitation link can create an account.",
        RegistrationMode::Closed => {
            "Registration is closed: invitation links don't work. Create accounts with `pyairtable user create`, or set PYAIRTABLE_REGISTRATION=invite."
        }
    }
}

#[component]
fn InviteTable(list: Vec<InviteView>, revoke: ServerAction<RevokeInvite>) -> impl IntoView {
    let rows = list
        .into_iter()
        .map(|invite| {
            let id = invite.id.clone();
            let made = format_ms(invite.created_ms);
            let label = format!("Withdraw the invitation made {made}");
            view! {
                <tr>
                    <td>{made.clone()}</td>
                    <td>{invite.created_by.unwrap_or_else(|| "a deleted account".into())}</td>
                    <td>{format_ms(invite.expires_ms)}</td>
                    <td>
                        <button type="button" class="button secondary small" aria-label=label
                            on:click=move |_| { revoke.dispatch(RevokeInvite { id: id.clone() }); }>
                            "Withdraw"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table" data-testid="pending-invites">
            <thead><tr><th>"Made"</th><th>"By"</th><th>"Expires"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
