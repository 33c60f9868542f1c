//! Sandbox tokens: one per user, shaped like an Airtable personal access token.
//!
//! A presented token is found by its hash. The server also keeps a sealed copy, so it can call
//! the sandbox on its owner's behalf as any Airtable client would.

use rand::Rng;
use secrecy::SecretString;

use super::SandboxError;
use crate::auth::UserId;
use crate::auth::api_keys::hash_secret;
use crate::clock::now_ms;
use crate::db::Db;
use crate::secrets::Cipher;

/// The sandbox_tokens table.
#[derive(Clone)]
pub struct SandboxTokens {
    db: Db,
    cipher: Cipher,
}

impl SandboxTokens {
    pub fn new(db: Db, cipher: Cipher) -> Self {
        Self { db, cipher }
    }

    /// The enabled user a presented token belongs to.
    ///
    /// # Errors
    /// `AUTHENTICATION_REQUIRED` for an unknown token or a disabled user.
    pub async fn owner(&self, token: &str) -> Result<UserId, SandboxError> {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT t.user_id FROM sandbox_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND u.disabled = 0",
        )
        .bind(hash_secret(token))
        .fetch_optional(self.db.pool())
        .await?;
        row.and_then(|(id,)| UserId::parse(&id)).ok_or_else(SandboxError::unauthenticated)
    }

    /// The user's token, if they have one.
    ///
    /// # Errors
    /// Database failures, and a stored token that no longer decrypts.
    pub async fn existing(&self, user: &UserId) -> Result<Option<SecretString>, SandboxError> {
        let Some((sealed,)) = sqlx::query_as::<_, (String,)>("SELECT token_sealed FROM sandbox_tokens WHERE user_id = $1")
            .bind(user.as_str())
            .fetch_optional(self.db.pool())
            .await?
        else {
            return Ok(None);
        };
        let token = self.cipher.open(user.as_str(), &sealed).map_err(|e| {
            tracing::error!(user.id = %user, error = %e, "a sandbox token no longer decrypts");
            SandboxError::server_error()
        })?;
        Ok(Some(token))
    }

    /// The user's token, made on first use.
    ///
    /// # Errors
    /// Database failures, and a stored token that no longer decrypts.
    pub async fn token_for(&self, user: &UserId) -> Result<SecretString, SandboxError> {
        if let Some(token) = self.existing(user).await? {
            return Ok(token);
        }
        let token = generate();
        let inserted = sqlx::query(
            "INSERT INTO sandbox_tokens (user_id, token_hash, token_sealed, created_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO NOTHING",
        )
        .bind(user.as_str())
        .bind(hash_secret(&token))
        .bind(self.cipher.seal(user.as_str(), &token))
        .bind(now_ms())
        .execute(self.db.pool())
        .await?;
        if inserted.rows_affected() == 0 {
            // Another request made it first; use theirs.
            return Box::pin(self.token_for(user)).await;
        }
        Ok(SecretString::from(token))
    }

    /// Retires the user's token: it stops working at once, and the next use of the sandbox
    /// makes a new one (see [`super::Sandbox::provision`]).
    ///
    /// # Errors
    /// Database failures.
    pub async fn rotate(&self, user: &UserId) -> Result<(), SandboxError> {
        sqlx::query("DELETE FROM sandbox_tokens WHERE user_id = $1").bind(user.as_str()).execute(self.db.pool()).await?;
        tracing::info!(user.id = %user, "retired a sandbox token");
        Ok(())
    }
}

/// `pat` + 14 letters or digits + `.` + 64 hex digits, like Airtable's personal access tokens.
fn generate() -> String {
    let id = super::ids::new_id("pat");
    let secret: [u8; 32] = rand::rng().random();
    format!("{id}.{}", hex::encode(secret))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_looks_like_an_airtable_personal_access_token() {
        let token = generate();
        assert_eq!(token.len(), 17 + 1 + 64);
        assert!(token.starts_with("pat"));
        assert_ne!(generate(), generate());
    }
}
