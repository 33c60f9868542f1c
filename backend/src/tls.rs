//! TLS for every outgoing HTTPS client (Airtable, the LLM providers).

use std::sync::Once;

/// reqwest is built without a default TLS provider; use ring, which sqlx's rustls already
/// builds. Every client builder calls this first (tests' own clients too).
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // Another part of the process may have installed one first; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
