//! Signing in and out in the browser: the log-in and registration pages, log-out, and the
//! signed-in user shown in the header.

use backend::model::auth::{RegistrationMode, UserView};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;

/// Logs in with an email and password, starts a browser session, and goes to `next`.
#[server(prefix = "/api", endpoint = "session/login")]
pub async fn log_in(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    let services = crate::auth::services();
    let user = services.auth.login(&email, &password, crate::auth::client_ip()).await?;
    ssr::start_session(&user).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Creates an account (the first one is the admin), signs it in, and goes to `next`. `invite`
/// is an invitation link's secret, which registration by invitation requires.
#[server(prefix = "/api", endpoint = "session/register")]
pub async fn register(email: String, password: String, invite: Option<String>, next: Option<String>) -> Result<(), AppError> {
    let services = crate::auth::services();
    let user = services.auth.register(&email, &password, invite.as_deref(), crate::auth::client_ip()).await?;
    ssr::start_session(&user).await?;
    leptos_axum::redirect(&safe_next(next.as_deref()));
    Ok(())
}

/// Who may register on this server, for the registration page to say so.
#[server(prefix = "/api", endpoint = "session/registration", input = Json)]
pub async fn get_registration() -> Result<RegistrationMode, AppError> {
    Ok(crate::auth::services().auth.registration)
}

/// Sets a new password with a reset link an administrator made, signs the account out
/// everywhere, and goes to the log-in page.
#[server(prefix = "/api", endpoint = "session/reset-password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    let user = crate::auth::services().auth.reset_password(&token, &password).await?;
    tracing::info!(user.id = %user.id, "a password was reset with a one-time link");
    leptos_axum::redirect("/login?reset=done");
    Ok(())
}

/// Ends this browser's session.
#[server(prefix = "/api", endpoint = "session/logout")]
pub async fn log_out() -> Result<(), AppError> {
    let session = ssr::session().await?;
    session.flush().await.map_err(|e| {
        tracing::error!(error = %e, "could not end a session");
        AppError::internal()
    })?;
    leptos_axum::redirect("/");
    Ok(())
}

/// The signed-in user, or `None`.
#[server(prefix = "/api", endpoint = "session/me")]
pub async fn current_user() -> Result<Option<UserView>, AppError> {
    Ok(crate::auth::signed_in().map(|p| p.user.view()))
}

/// Counts sign-ins and sign-outs in this browser tab, so the header's account corner refetches.
#[derive(Clone, Copy)]
pub struct SessionChanges(RwSignal<u32>);

impl SessionChanges {
    pub fn provide() {
        provide_context(Self(RwSignal::new(0)));
    }

    fn get() -> Self {
        expect_context::<Self>()
    }

    /// The number of changes so far, tracked: a resource keyed on it refetches after each one.
    pub fn count() -> u32 {
        Self::get().0.get()
    }

    /// Counts a change each time `action` completes.
    pub fn follow<A: 'static + Send + Sync, T: 'static + Send + Sync>(action: Action<A, T>) {
        let changes = Self::get().0;
        Effect::new(move |_| {
            if action.version().get() > 0 {
                changes.update(|n| *n += 1);
            }
        });
    }
}

/// Only local paths are followed after signing in, so a crafted link can't send people elsewhere.
/// Anything else, or anything in doubt, goes to `/`.
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|path| is_local_path(path)).map_or_else(|| "/".to_owned(), str::to_owned)
}

/// Whether `path` can only mean a page of this site, however a browser reads it: printable
/// ASCII with no whitespace or control characters (browsers drop tabs and newlines, so
/// `/\t/evil.example` becomes `//evil.example`), no backslash (read as `/`), no scheme, and
/// starting with a single `/`. Percent-decoded, it must still start with a single `/` and hold
/// no control characters, in case a router decodes it before following it.
fn is_local_path(path: &str) -> bool {
    let raw = path.as_bytes();
    let starts_local = |text: &[u8]| text.first() == Some(&b'/') && !matches!(text.get(1), Some(b'/' | b'\\'));
    // Decoded once; a malformed escape stays as it is.
    let decoded: Vec<u8> = percent_encoding::percent_decode(raw).collect();
    raw.iter().all(|b| b.is_ascii_graphic() && *b != b'\\')
        && starts_local(raw)
        && starts_local(&decoded)
        && !decoded.iter().any(u8::is_ascii_control)
}

#[cfg(feature = "ssr")]
mod ssr {
    use backend::auth::User;
    use backend::auth::session_store::{USER_AGENT_KEY, USER_ID_KEY};

    use crate::error::AppError;

    pub use crate::auth::session;

    /// A fresh session ID at sign-in, so an ID planted before it is worthless.
    pub async fn start_session(user: &User) -> Result<(), AppError> {
        let session = session().await?;
        let user_agent = leptos::prelude::use_context::<http::request::Parts>()
            .and_then(|p| p.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned))
            .unwrap_or_default();
        let store = async {
            session.cycle_id().await?;
            session.insert(USER_ID_KEY, user.id.to_string()).await?;
            session.insert(USER_AGENT_KEY, user_agent).await
        };
        store.await.map_err(|e| {
            tracing::error!(error = %e, "could not start a session");
            AppError::internal()
        })
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    SessionChanges::follow(action.into());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let reset_done = move || query.read().get("reset").is_some_and(|r| r == "done");
    view! {
        <Title text="Log in" />
        <section class="page narrow auth-page">
            <h1>"Log in"</h1>
            <Show when=reset_done>
                <p class="success" role="status">"Your new password is set, and every session was signed out. Log in with it."</p>
            </Show>
            <ActionForm action attr:class="form">
                <input type="hidden" name="next" prop:value=next />
                <label>"Email" <input type="email" name="email" autocomplete="email" required /></label>
                <label>"Password" <input type="password" name="password" autocomplete="current-password" required /></label>
                <FormError value=action.value() />
                <button type="submit" class="button" disabled=action.pending()>"Log in"</button>
            </ActionForm>
            <p class="muted">"No account yet? " <a href="/register">"Register"</a></p>
        </section>
    }
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let query = use_query_map();
    let invite = move || query.read().get("invite").filter(|i| !i.trim().is_empty());
    let mode = Resource::new(|| (), |()| get_registration());
    view! {
        <Title text="Register" />
        <section class="page narrow auth-page">
            <h1>"Create your account"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || mode.get().map(|mode| match (mode, invite()) {
                    (Ok(RegistrationMode::Closed), _) => view! {
                        <p class="notice" role="status">"This server doesn't take sign-ups. Ask an administrator to create your account."</p>
                    }.into_any(),
                    (Ok(RegistrationMode::Invite), None) => view! {
                        <p class="notice" role="status">"Sign-up on this server is by invitation. Ask an administrator for an invitation link, then open it."</p>
                    }.into_any(),
                    (Ok(RegistrationMode::Open), None) => view! {
                        <p class="muted">"The first account on a new server becomes its administrator."</p>
                        <RegisterForm invite=None />
                    }.into_any(),
                    (_, invite) => view! {
                        {invite.is_some().then(|| view! { <p class="muted">"You were invited to this server. Choose the email and password you will log in with."</p> })}
                        <RegisterForm invite />
                    }.into_any(),
                })}
            </Suspense>
            <p class="muted">"Already registered? " <a href="/login">"Log in"</a></p>
        </section>
    }
}

#[component]
fn RegisterForm(invite: Option<String>) -> impl IntoView {
    let action = ServerAction::<Register>::new();
    SessionChanges::follow(action.into());
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <ActionForm action attr:class="form">
            <input type="hidden" name="next" prop:value=next />
            {invite.map(|invite| view! { <input type="hidden" name="invite" value=invite /> })}
            <label>"Email" <input type="email" name="email" autocomplete="email" required /></label>
            <NewPassword />
            <FormError value=action.value() />
            <button type="submit" class="button" disabled=action.pending()>"Create account"</button>
        </ActionForm>
    }
}

/// The new-password field, with its rule.
#[component]
fn NewPassword() -> impl IntoView {
    view! {
        <div class="field">
            <label>
                "Password"
                <input type="password" name="password" autocomplete="new-password" minlength="10" required aria-describedby="password-rule" />
            </label>
            <span id="password-rule" class="hint">"At least 10 characters, and not your email address."</span>
        </div>
    }
}

/// `/reset-password?token=…`: the page a reset link from an administrator opens.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let action = ServerAction::<ResetPassword>::new();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <Title text="Set a new password" />
        <section class="page narrow auth-page">
            <h1>"Set a new password"</h1>
            <p class="muted">"This link works once. Setting the password signs your account out everywhere."</p>
            <ActionForm action attr:class="form">
                <input type="hidden" name="token" prop:value=token />
                <NewPassword />
                <FormError value=action.value() />
                <button type="submit" class="button" disabled=action.pending()>"Set password"</button>
            </ActionForm>
        </section>
    }
}

/// The server's answer to a form, when it is an error, read out to screen readers.
#[component]
fn FormError(#[prop(into)] value: Signal<Option<Result<(), AppError>>>) -> impl IntoView {
    move || {
        value.get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })
    }
}

/// The header's account corner: log-in links, or the user and a log-out button.
#[component]
pub fn AccountMenu() -> impl IntoView {
    let logout = ServerAction::<LogOut>::new();
    SessionChanges::follow(logout.into());
    let changes = SessionChanges::get().0;
    let user = Resource::new(move || changes.get(), |_| current_user());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match user.await {
                    Ok(Some(user)) => view! {
                        <div class="account">
                            <span class="account-email">{user.email}</span>
                            {user.is_admin.then(|| view! { <a href="/admin/users">"Users"</a> })}
                            <a href="/settings">"Settings"</a>
                            <ActionForm action=logout attr:class="inline-form">
                                <button type="submit" class="button secondary small">"Log out"</button>
                            </ActionForm>
                        </div>
                    }
                    .into_any(),
                    _ => view! {
                        <div class="account">
                            <a href="/login">"Log in"</a>
                            <a href="/register" class="button small">"Register"</a>
                        </div>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed_after_signing_in() {
        assert_eq!(safe_next(Some("/settings?tab=keys")), "/settings?tab=keys");
        assert_eq!(safe_next(Some("/bases/appAAAAAAAAAAAAAA?view=a%20b#top")), "/bases/appAAAAAAAAAAAAAA?view=a%20b#top");
        assert_eq!(safe_next(Some("/")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn every_way_of_naming_another_site_goes_home() {
        let hostile = [
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\/evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "/ /evil.example",
            "\t//evil.example",
            " /evil",
            "/evil\u{0}",
            "/\u{7f}/evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "evil.example",
            "",
            "/%2F%2Fevil.example",
            "/%2fevil.example",
            "%2F%2Fevil.example",
            "/%5Cevil.example",
            "/%09/evil.example",
            "/%0d%0aSet-Cookie:x=y",
            "/caf\u{e9}",
            "/\u{ff0f}evil.example",
            "/\u{2028}/evil.example",
        ];
        for next in hostile {
            assert_eq!(safe_next(Some(next)), "/", "{next:?}");
        }
    }
}
