//! The "Active sessions" section of Settings: every browser signed in as you, each of which can
//! be signed out from here.

use backend::model::auth::SessionView;
use leptos::prelude::*;

use crate::error::AppError;

/// The caller's signed-in browsers, newest first; the asking browser is marked `current`.
#[server(prefix = "/api", endpoint = "sessions/list")]
pub async fn list_sessions() -> Result<Vec<SessionView>, AppError> {
    let principal = crate::auth::require_user()?;
    let current = match crate::auth::session().await {
        Ok(session) => session.id().map(|id| id.to_string()),
        Err(_) => None,
    };
    let sessions = &crate::auth::services().auth.sessions;
    sessions.list_for_user(&principal.user.id, current.as_deref()).await.map_err(|e| AppError::from(backend::db::DbError::from(e)))
}

/// Signs one of the caller's browsers out, by the handle the list gave.
#[server(prefix = "/api", endpoint = "sessions/revoke")]
pub async fn revoke_session(handle: String) -> Result<(), AppError> {
    let principal = crate::auth::require_writer()?;
    let sessions = &crate::auth::services().auth.sessions;
    let ended = sessions.end_for_user(&principal.user.id, handle.trim()).await.map_err(|e| AppError::from(backend::db::DbError::from(e)))?;
    if ended { Ok(()) } else { Err(AppError::NotFound("That session".into()).with_status()) }
}

#[component]
pub fn SessionsSection() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let sessions = Resource::new(move || revoke.version().get(), |_| list_sessions());
    view! {
        <section class="card" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Active sessions"</h2>
            <p class="muted">"Browsers signed in as you. Sign out any you don't recognise."</p>
            {move || revoke.value().get().and_then(Result::err).map(|e| view! { <p class="error" role="alert">{e.to_string()}</p> })}
            <Transition fallback=|| view! { <p class="muted">"Loading sessions…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! { <SessionTable sessions=list revoke /> }.into_any(),
                        Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SessionTable(sessions: Vec<SessionView>, revoke: ServerAction<RevokeSession>) -> impl IntoView {
    if sessions.is_empty() {
        return view! { <p class="muted">"No browser is signed in; you are using a token or an API key."</p> }.into_any();
    }
    let rows = sessions
        .into_iter()
        .map(|session| {
            let browser = describe(&session.user_agent);
            let signed_in = crate::components::time::format_ms(session.created_ms);
            let current = session.current;
            let handle = session.handle.clone();
            view! {
                <tr>
                    <td>{browser.clone()} {current.then(|| view! { <span class="badge badge-current">"This browser"</span> })}</td>
                    <td>{signed_in}</td>
                    <td>
                        <ActionForm action=revoke attr:class="inline-form">
                            <input type="hidden" name="handle" value=handle />
                            <button type="submit" class="button secondary small" aria-label=format!("Sign out {browser}")>
                                {if current { "Sign out here" } else { "Sign out" }}
                            </button>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table">
            <thead><tr><th>"Browser"</th><th>"Signed in"</th><th><span class="visually-hidden">"Actions"</span></th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
    .into_any()
}

/// A short name for a browser from its User-Agent, for people to recognise.
fn describe(user_agent: &str) -> String {
    let browser = ["Edg/", "Firefox/", "Chrome/", "Safari/"]
        .iter()
        .find(|marker| user_agent.contains(*marker))
        .map(|marker| match *marker {
            "Edg/" => "Edge",
            "Firefox/" => "Firefox",
            "Chrome/" => "Chrome",
            _ => "Safari",
        });
    let system = [("Windows", "Windows"), ("Mac OS X", "macOS"), ("Android", "Android"), ("iPhone", "iOS"), ("Linux", "Linux")]
        .iter()
        .find(|(marker, _)| user_agent.contains(marker))
        .map(|(_, name)| *name);
    match (browser, system) {
        (Some(b), Some(s)) => format!("{b} on {s}"),
        (Some(b), None) => b.to_owned(),
        _ if user_agent.trim().is_empty() => "Unknown browser".to_owned(),
        _ => user_agent.chars().take(60).collect(),
    }
}
