//! Encryption of secrets stored in the database (Airtable tokens, LLM keys), with AES-256-GCM.
//!
//! A sealed value is `v1:` followed by base64 of a random 96-bit nonce and the ciphertext with
//! its tag. The owner's ID is bound in as associated data, so a sealed value copied onto
//! another user's row does not open.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::{ExposeSecret, SecretBox, SecretString};

const VERSION: &str = "v1:";
const NONCE_BYTES: usize = 12;

/// A sealed value that could not be opened: wrong key, wrong owner, or damaged.
#[derive(Debug, thiserror::Error)]
#[error("a stored secret could not be decrypted: the encryption key may have changed since it was saved; save it again in Settings")]
pub struct OpenError;

/// Seals and opens stored secrets with the server's encryption key. Cheap to clone.
#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
}

impl Cipher {
    pub fn new(key: &SecretBox<[u8; 32]>) -> Self {
        Self { aead: Aes256Gcm::new(key.expose_secret().into()) }
    }

    /// Encrypts `secret` for `owner`.
    pub fn seal(&self, owner: &str, secret: &str) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret.as_bytes(), aad: owner.as_bytes() })
            .expect("AES-GCM encrypts any message under 64 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{VERSION}{}", STANDARD.encode(bytes))
    }

    /// Decrypts what `seal` made for the same `owner`.
    ///
    /// # Errors
    /// `OpenError` when the key, the owner or the text differ from the sealing.
    pub fn open(&self, owner: &str, sealed: &str) -> Result<SecretString, OpenError> {
        let bytes = sealed.strip_prefix(VERSION).and_then(|b| STANDARD.decode(b).ok()).ok_or(OpenError)?;
        if bytes.len() <= NONCE_BYTES {
            return Err(OpenError);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .aead
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ciphertext, aad: owner.as_bytes() })
            .map_err(|_| OpenError)?;
        String::from_utf8(plain).map(SecretString::from).map_err(|_| OpenError)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(byte: u8) -> Cipher {
        Cipher::new(&SecretBox::new(Box::new([byte; 32])))
    }

    #[test]
    fn a_sealed_secret_opens_for_its_owner() {
        let sealed = cipher(1).seal("user-a", "patABC.123");
        assert!(!sealed.contains("patABC"));
        assert_eq!(cipher(1).open("user-a", &sealed).unwrap().expose_secret(), "patABC.123");
    }

    #[test]
    fn a_sealed_secret_does_not_open_for_another_owner_or_key() {
        let sealed = cipher(1).seal("user-a", "secret");
        assert!(cipher(1).open("user-b", &sealed).is_err());
        assert!(cipher(2).open("user-a", &sealed).is_err());
        assert!(cipher(1).open("user-a", "v1:AAAA").is_err());
    }

    #[test]
    fn sealing_twice_gives_different_text() {
        assert_ne!(cipher(1).seal("u", "same"), cipher(1).seal("u", "same"));
    }
}
