//! Password rules and argon2id hashing.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 10;

/// Why a new password was refused; shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    #[error("Use at least {MIN_LENGTH} characters.")]
    TooShort,
    #[error("Choose a password that is not your email address.")]
    SameAsEmail,
}

/// Checks a new password against the rules: long enough, and not the email address.
///
/// # Errors
/// The first rule the password breaks.
pub fn check_rules(password: &str, email: &str) -> Result<(), PasswordRuleError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordRuleError::TooShort);
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(PasswordRuleError::SameAsEmail);
    }
    Ok(())
}

/// Hashes a password with argon2id and a random salt, off the async threads (it takes ~20 ms of CPU).
pub async fn hash(password: String) -> String {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .expect("argon2 with default parameters hashes any password")
            .to_string()
    })
    .await
    .expect("the hashing task does not panic")
}

/// Whether `password` matches `stored`, a PHC string from [`hash`]. A damaged hash never matches.
pub async fn verify(password: String, stored: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&stored)
            .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false)
    })
    .await
    .unwrap_or(false)
}

/// A hash to verify against when no account matches, so that a login for an unknown email
/// takes as long as one with a wrong password.
pub async fn dummy_hash() -> &'static str {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY.get_or_init(|| hash("not a real password, only for timing".into())).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_passwords_and_the_email_itself_are_refused() {
        assert_eq!(check_rules("short", "a@b.co"), Err(PasswordRuleError::TooShort));
        assert_eq!(check_rules("Ada@Example.com", "ada@example.com"), Err(PasswordRuleError::SameAsEmail));
        assert_eq!(check_rules("correct horse battery", "ada@example.com"), Ok(()));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery".into()).await;
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), stored.clone()).await);
        assert!(!verify("correct horse battery!".into(), stored).await);
        assert!(!verify("anything".into(), "not a hash".into()).await);
    }
}
