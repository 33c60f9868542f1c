//! PyAirtable's user interface: the app shell, the pages, and their server functions.
// Deep view types in the table page need more than the default 128 for SSR layout queries.
#![recursion_limit = "256"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod auth;
pub mod components;
#[cfg(feature = "ssr")]
pub mod csp;
pub mod error;
pub mod pages;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

use crate::components::layout::Layout;
use crate::pages::admin_users::AdminUsersPage;
use crate::pages::analytics::AnalyticsPage;
use crate::pages::bases::{BasePage, BasesPage, TablePage};
use crate::pages::changes::{ChangePage, ChangesPage};
use crate::pages::files::{FilePage, FilesPage};
use crate::pages::chat::ChatPage;
use crate::pages::home::HomePage;
use crate::pages::not_found::NotFound;
use crate::pages::session::{LoginPage, RegisterPage, ResetPasswordPage, SessionChanges};
use crate::pages::settings::SettingsPage;
use crate::pages::workflows::{RunPage, WorkflowPage, WorkflowsPage};
use crate::pages::status::StatusPage;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    csp::send_page_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <link rel="icon" type="image/svg+xml" href="/favicon.svg" />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The application: routes inside the shared layout.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    SessionChanges::provide();
    view! {
        <Stylesheet id="leptos" href="/pkg/pyairtable.css" />
        <Title formatter=|page: String| format!("{page} · PyAirtable") />
        <Router>
            <Layout>
                <Routes fallback=NotFound>
                    <Route path=path!("") view=HomePage />
                    <Route path=path!("login") view=LoginPage />
                    <Route path=path!("register") view=RegisterPage />
                    <Route path=path!("reset-password") view=ResetPasswordPage />
                    <Route path=path!("settings") view=SettingsPage />
                    <Route path=path!("admin/users") view=AdminUsersPage />
                    <Route path=path!("bases") view=BasesPage />
                    <Route path=path!("bases/:base") view=BasePage />
                    <Route path=path!("bases/:base/:table") view=TablePage />
                    // One route for both, so opening a conversation keeps the page (and its stream).
                    <Route path=path!("chat/:conversation?") view=ChatPage />
                    <Route path=path!("changes") view=ChangesPage />
                    <Route path=path!("changes/:id") view=ChangePage />
                    <Route path=path!("files") view=FilesPage />
                    <Route path=path!("files/:id") view=FilePage />
                    <Route path=path!("workflows") view=WorkflowsPage />
                    <Route path=path!("workflows/new") view=WorkflowPage />
                    <Route path=path!("workflows/runs/:id") view=RunPage />
                    <Route path=path!("workflows/:id") view=WorkflowPage />
                    <Route path=path!("analytics") view=AnalyticsPage />
                    <Route path=path!("status") view=StatusPage />
                </Routes>
            </Layout>
        </Router>
    }
}
