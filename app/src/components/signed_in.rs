//! Pages for signed-in users: anyone else is sent to `/login?next=…` and comes back after.

use backend::model::auth::UserView;
use leptos::prelude::*;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use crate::pages::session::current_user;

/// Renders `children` with the signed-in user, or redirects to the log-in page.
#[component]
pub fn SignedIn<F, V>(children: F) -> impl IntoView
where
    F: Fn(UserView) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let user = Resource::new(|| (), |_| current_user());
    let location = use_location();
    let children = std::sync::Arc::new(children);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let children = children.clone();
                let here = format!("{}{}", location.pathname.get_untracked(), location.search.get_untracked());
                Suspend::new(async move {
                    match user.await {
                        Ok(Some(user)) => children(user).into_any(),
                        _ => {
                            let next = format!("/login?next={}", urlencode(&here));
                            view! { <Redirect path=next /> }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

/// Percent-encodes a path for a query value.
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
