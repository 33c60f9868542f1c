//! The loading indicator for part of a page.

use leptos::prelude::*;

/// A loading indicator for part of a page, announced to screen readers.
#[component]
pub fn Loading(what: &'static str) -> impl IntoView {
    view! {
        <p class="loading" role="status">
            <span class="spinner" aria-hidden="true"></span>
            {format!("Loading {what}…")}
        </p>
    }
}
