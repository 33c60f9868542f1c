//! `/admin/users`: administrators list every account and disable or enable it.

use backend::model::auth::UserView;
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;

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

#[component]
pub fn AdminUsersPage() -> impl IntoView {
    view! {
        <Title text="Users" />
        <SignedIn let:me>
            <section class="page">
                <h1>"Users"</h1>
                {if me.is_admin {
                    view! { <UserTable me /> }.into_any()
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
    let users = Resource::new(move || toggle.version().get(), |_| list_users());
    view! {
        {move || toggle.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
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
                                    .map(|user| view! { <UserRow user me_id=me.id.clone() toggle /> })
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
fn UserRow(user: UserView, me_id: String, toggle: ServerAction<SetUserDisabled>) -> impl IntoView {
    let is_me = user.id == me_id;
    let (id, disabled, email) = (user.id.clone(), user.disabled, user.email.clone());
    let label = if disabled { "Enable" } else { "Disable" };
    let flip = move |_| {
        toggle.dispatch(SetUserDisabled { id: id.clone(), disabled: !disabled });
    };
    view! {
        <tr>
            <td>{user.email}</td>
            <td>{if user.is_admin { "Administrator" } else { "User" }}</td>
            <td>{if disabled { "Disabled" } else { "Active" }}</td>
            <td>
                {(!is_me).then(|| view! {
                    <button type="button" class="button secondary small" on:click=flip aria-label=format!("{label} {email}")>
                        {label}
                    </button>
                })}
            </td>
        </tr>
    }
}
