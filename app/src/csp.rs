//! The Content-Security-Policy of each answer. Pages allow the app's own script and WASM, and
//! inline scripts only with the nonce Leptos puts on its hydration and streaming scripts; every
//! other answer (JSON, files) allows nothing to run and nothing to frame it.

use leptos::prelude::use_context;
use leptos::nonce::use_nonce;

/// The policy for answers that are not pages.
pub const NOT_A_PAGE: &str = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The policy for a page whose inline scripts carry `nonce`.
pub fn page(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// Sets the page policy on the page being rendered, with this render's nonce.
pub fn send_page_policy() {
    let (Some(nonce), Some(response)) = (use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else {
        tracing::error!("a page rendered without a nonce or response options; it gets the strict policy");
        return;
    };
    if let Ok(value) = http::HeaderValue::from_str(&page(&nonce.to_string())) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}
