//! A webhook delivery's checks: the workflow's secret, sent as a bearer token or as an
//! HMAC-SHA256 signature of the body, and the delivery's ID, which makes a resent delivery run
//! once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Headers that carry a signature: `sha256=<hex>` of the body under the secret.
pub const SIGNATURE_HEADERS: [&str; 2] = ["x-signature-256", "x-hub-signature-256"];
/// Headers that carry a delivery's ID, in the order they are looked for.
pub const DELIVERY_HEADERS: [&str; 3] = ["x-delivery-id", "idempotency-key", "x-github-delivery"];

/// A new webhook secret.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether the request proves it knows `secret`: `Authorization: Bearer <secret>`, or a
/// signature header over `body`.
pub fn is_authentic(secret: &str, authorization: Option<&str>, signature: Option<&str>, body: &[u8]) -> bool {
    if let Some(token) = authorization.and_then(|a| a.strip_prefix("Bearer ").or_else(|| a.strip_prefix("bearer "))) {
        // Digests of equal length, so the comparison's time says nothing about the secret.
        return Sha256::digest(token.trim().as_bytes()) == Sha256::digest(secret.as_bytes());
    }
    let Some(hex_tag) = signature.map(str::trim).map(|s| s.strip_prefix("sha256=").unwrap_or(s)) else { return false };
    let Ok(tag) = hex::decode(hex_tag) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes a key of any length");
    mac.update(body);
    mac.verify_slice(&tag).is_ok()
}

/// The delivery's ID, when the sender gave one: at most 200 characters of it.
pub fn delivery_id<'a>(header: impl Fn(&str) -> Option<&'a str>) -> Option<String> {
    DELIVERY_HEADERS.iter().find_map(|name| header(name)).map(str::trim).filter(|id| !id.is_empty()).map(|id| id.chars().take(200).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(secret: &str, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }

    #[test]
    fn a_bearer_secret_or_a_signature_is_accepted_and_nothing_else() {
        let secret = new_secret();
        let body = br#"{"id": 1}"#;
        assert!(is_authentic(&secret, Some(&format!("Bearer {secret}")), None, body));
        assert!(is_authentic(&secret, None, Some(&sign(&secret, body)), body));
        assert!(!is_authentic(&secret, Some("Bearer whsec_wrong"), None, body));
        assert!(!is_authentic(&secret, None, Some(&sign(&secret, b"other body")), body));
        assert!(!is_authentic(&secret, None, Some("sha256=zz"), body));
        assert!(!is_authentic(&secret, None, None, body));
    }

    #[test]
    fn the_delivery_id_comes_from_the_first_header_present() {
        let id = delivery_id(|name| (name == "idempotency-key").then_some(" abc "));
        assert_eq!(id.as_deref(), Some("abc"));
        assert_eq!(delivery_id(|_| None), None);
    }
}
