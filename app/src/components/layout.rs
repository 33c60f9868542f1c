//! The page frame: header with navigation, the main area, and the footer.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::components::page_views::PageViews;
use crate::pages::session::{AccountMenu, SessionChanges, current_user};

/// Wraps every page. The navigation lists only pages that exist.
#[component]
pub fn Layout(children: Children) -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <header class="site-header">
            <a href="/" class="brand">
                <span class="brand-mark" aria-hidden="true">"◧"</span>
                <span>"PyAirtable"</span>
            </a>
            <nav aria-label="Main">
                <ul>
                    <NavLink href="/" label="Home" />
                    <SignedInLinks />
                </ul>
            </nav>
            <AccountMenu />
        </header>
        <main id="main" class="site-main">{children()}</main>
        <footer class="site-footer">
            <span>"PyAirtable " {backend::VERSION}</span>
            <span class="footer-links">
                <a href="/api/health" rel="external">"Health (JSON)"</a>
                <a href="/metrics" rel="external">"Metrics"</a>
            </span>
        </footer>
    }
}

/// The entries only signed-in users can open; they follow sign-ins and sign-outs in this tab.
#[component]
fn SignedInLinks() -> impl IntoView {
    let user = Resource::new(SessionChanges::count, |_| current_user());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(Some(user)) = user.await else { return None };
                Some(view! {
                    <NavLink href="/bases" label="Bases" />
                    <NavLink href="/chat" label="Chat" />
                    <NavLink href="/files" label="Files" />
                    <NavLink href="/workflows" label="Workflows" />
                    <NavLink href="/changes" label="Changes" />
                    <NavLink href="/analytics" label="Analytics" />
                    {user.is_admin.then(|| view! { <NavLink href="/status" label="Status" /> })}
                    // Only signed-in users' page views count, so it lives here, with their links.
                    <PageViews />
                })
            })}
        </Transition>
    }
}

/// A navigation entry, marked as the current page when its section is open.
#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    let location = use_location();
    let current = move || {
        let path = location.pathname.get();
        let open = if href == "/" { path == "/" } else { path.starts_with(href) };
        open.then_some("page")
    };
    view! {
        <li><a href=href aria-current=current>{label}</a></li>
    }
}
