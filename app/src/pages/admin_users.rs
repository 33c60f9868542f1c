//! `/admin/users`: administrators list every account, disable or enable it, hand out
//! password reset links and invitations, and set what users may spend on the server's LLM.

mod budget;
mod invites;

use backend::model::auth::{OneTimeLink, UserView};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;

use self::budget::BudgetSection;
use self::invites::InvitesSection;
use crate::components::signed_in::SignedIn;
use crate::error::AppError;

/// Every account, oldest first. Administrators only.
#[server(prefix = "/api", endpoint = "admin/users/list", input = Json)]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    crate::auth::require_admin()?;
    let users = crate::auth::services().auth.users.list().await?;
    Ok(users.iter().map(backend::auth::User::view).collect())
}

/// Disables or enables an account. A disabled user's sessions, tokens and keys stop working at once.
#[server(prefix = "/api", endpoint = "admin/users/set-disabled", input = Json)]
pub async fn set_user_disabled(id: String, disabled: bool) -> Result<(), AppError> {
    let admin = crate::auth::require_admin()?;
    let id = backend::auth::UserId::parse(&id)
        .ok_or_else(|| AppError::NotFound("The user".into()).with_status())?;
    if id == admin.user.id {
        return Err(AppError::Invalid("You can't disable your own account.".into()).with_status());
    }
    Ok(crate::auth::services().auth.users.set_disabled(&id, disabled).await?)
}

/// A one-time link that sets a user's password, valid for a day; it replaces any earlier one.
/// Using it signs the user out everywhere.
#[server(prefix = "/api", endpoint = "admin/users/reset-link", input = Json)]
pub async fn create_reset_link(id: String) -> Result<OneTimeLink, AppError> {
    let admin = crate::auth::require_admin()?;
    let id = backend::auth::UserId::parse(&id).ok_or_else(|| AppError::NotFound("The user".into()).with_status())?;
    let link = crate::auth::services().auth.links.reset(&id, Some(&admin.user.id)).await?;
    tracing::info!(admin.id = %admin.user.id, user.id = %id, "made a password reset link");
    Ok(link)
}

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    view! {
        <Title text="Users" />
        <SignedIn let:me>
            <section class="page admin-users">
                <h1>"Users"</h1>
                {if me.is_admin {
                    view! {
                        <UserTable me />
                        <InvitesSection />
                        <BudgetSection />
                    }.into_any()
                } else {
                    view! { <p class="error" role="alert">"Only administrators can see this page."</p> }.into_any()
                }}
            </section>
        </SignedIn>
    }
}

#[component]
fn UserTable(me: UserView) -> impl IntoView {
    let toggle = ServerAction::<SetUserDisabled>::new();
    let reset = ServerAction::<CreateResetLink>::new();
    let users = Resource::new(move || toggle.version().get(), |_| list_users());
    view! {
        {move || toggle.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
        {move || match reset.value().get() {
            Some(Ok(link)) => view! {
                <LinkNotice link what="a password reset link" use_it="It sets a new password once, within 24 hours, and signs the account out everywhere." />
            }.into_any(),
            Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
            None => ().into_any(),
        }}
        <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
            {
                let me = me.clone();
                move || {
                    let me = me.clone();
                    Suspend::new(async move {
                        match users.await {
                            Ok(list) => {
                                let rows = list
                                    .into_iter()
                                    .map(|user| view! { <UserRow user me_id=me.id.clone() toggle reset /> })
                                    .collect_view();
                                view! {
                                    <table class="table">
                                        <thead><tr><th>"Email"</th><th>"Role"</th><th>"Status"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                        <tbody>{rows}</tbody>
                                    </table>
                                }
                                .into_any()
                            }
                            Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                        }
                    })
                }
            }
        </Transition>
    }
}

#[component]
fn UserRow(user: UserView, me_id: String, toggle: ServerAction<SetUserDisabled>, reset: ServerAction<CreateResetLink>) -> impl IntoView {
    let is_me = user.id == me_id;
    let (id, disabled, email) = (user.id.clone(), user.disabled, user.email.clone());
    let label = if disabled { "Enable" } else { "Disable" };
    let flip = {
        let id = id.clone();
        move |_| {
            toggle.dispatch(SetUserDisabled { id: id.clone(), disabled: !disabled });
        }
    };
    let reset_label = format!("Make a password reset link for {email}");
    let ask_reset = move |_| {
        reset.dispatch(CreateResetLink { id: id.clone() });
    };
    view! {
        <tr>
            <td>{user.email}</td>
            <td>{if user.is_admin { "Administrator" } else { "User" }}</td>
            <td>{if disabled { "Disabled" } else { "Active" }}</td>
            <td>
                {(!is_me).then(|| view! {
                    <div class="row-actions">
                        <button type="button" class="button secondary small" on:click=flip aria-label=format!("{label} {email}")>
                            {label}
                        </button>
                        <button type="button" class="button secondary small" on:click=ask_reset aria-label=reset_label>
                            "Reset password"
                        </button>
                    </div>
                })}
            </td>
        </tr>
    }
}

/// A one-time link, shown this once, to hand to someone.
#[component]
fn LinkNotice(link: OneTimeLink, what: &'static str, use_it: &'static str) -> impl IntoView {
    view! {
        <div class="notice" role="status">
            <p>{format!("Here is {what}. Send it to its recipient yourself; it won't be shown again. {use_it}")}</p>
            <code class="secret" aria-label="One-time link">{link.url}</code>
            <p class="hint">"Valid until " {crate::components::time::format_ms(link.expires_ms)} "."</p>
        </div>
    }
}
