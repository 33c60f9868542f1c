//! Page views for the analytics dashboard: the hydrated app reports each page it shows.

use leptos::prelude::*;
use leptos_router::hooks::use_location;

/// Sends a `page_view` event for every page shown in the browser while it is mounted, the first
/// one included; the layout mounts it for signed-in users. Renders nothing, and does nothing on
/// the server. Only the path is sent: never the query string or the fragment, which can hold
/// searches and tokens.
#[component]
pub fn PageViews() -> impl IntoView {
    let location = use_location();
    // Effects only run in the browser; the pathname is a memo, so a new query alone sends nothing.
    Effect::new(move |_| {
        let path = location.pathname.get();
        #[cfg(feature = "hydrate")]
        browser::send_page_view(&path);
        #[cfg(not(feature = "hydrate"))]
        let _ = path;
    });
}

/// The body of `POST /api/analytics/events` for one page view.
pub fn page_view_body(path: &str) -> String {
    serde_json::json!({ "events": [{ "name": "page_view", "properties": { "path": path } }] }).to_string()
}

#[cfg(feature = "hydrate")]
mod browser {
    use web_sys::{Headers, RequestCredentials, RequestInit};

    /// Fire and forget: analytics must never get in the way, so a refusal (401 when signed out)
    /// or a network failure is ignored.
    pub fn send_page_view(path: &str) {
        let Some(window) = web_sys::window() else { return };
        let init = RequestInit::new();
        init.set_method("POST");
        init.set_credentials(RequestCredentials::SameOrigin);
        if let Ok(headers) = Headers::new() {
            let _ = headers.set("content-type", "application/json");
            init.set_headers(&headers);
        }
        init.set_body(&super::page_view_body(path).into());
        // A failed request rejects the promise; nobody waits on it, so it is simply dropped.
        let _ = window.fetch_with_str_and_init("/api/analytics/events", &init);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_view_carries_only_the_path() {
        let body: serde_json::Value = serde_json::from_str(&page_view_body("/bases")).unwrap();
        assert_eq!(body, serde_json::json!({ "events": [{ "name": "page_view", "properties": { "path": "/bases" } }] }));
    }
}
