//! API keys for MCP clients and scripts: shown once, stored as a hash beside a visible prefix,
//! each limited to a scope.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::FromRow;

use super::{AuthError, UserId};
use crate::clock::now_ms;
use crate::db::Db;
use crate::model::auth::{ApiKeyInfo, NewApiKey, Scope};

/// Every key starts with this, so that it is recognisable in logs, configs and leak scans.
pub const KEY_PREFIX: &str = "pyat_";
/// Characters of the key shown in listings, after which the secret part is hidden.
const VISIBLE_LEN: usize = KEY_PREFIX.len() + 8;
/// Names are shown in lists; longer ones are refused rather than cut.
const MAX_NAME_LEN: usize = 100;

/// 256 random bits, URL-safe base64: the secret part of keys and refresh tokens.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The stored form of a key or token. Unsalted SHA-256 suits random 256-bit secrets: there is
/// nothing to guess, and a hash lookup stays a single indexed query.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[derive(FromRow)]
struct KeyRow {
    id: String,
    name: String,
    prefix: String,
    scope: String,
    created_ms: i64,
    last_used_ms: Option<i64>,
}

impl KeyRow {
    fn info(self) -> ApiKeyInfo {
        ApiKeyInfo {
            id: self.id,
            name: self.name,
            prefix: self.prefix,
            // The table's CHECK constraint allows only the two scopes.
            scope: Scope::parse(&self.scope).unwrap_or(Scope::Read),
            created_ms: self.created_ms,
            last_used_ms: self.last_used_ms,
        }
    }
}

/// The api_keys table.
#[derive(Clone)]
pub struct ApiKeys {
    db: Db,
}

impl ApiKeys {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Creates a key for `user`. The returned `key` is never stored and can't be shown again.
    ///
    /// # Errors
    /// `Invalid` when the name is empty or too long.
    pub async fn create(&self, user: &UserId, name: &str, scope: Scope) -> Result<NewApiKey, AuthError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_LEN {
            return Err(AuthError::Invalid("Give the key a name of 1 to 100 characters."));
        }
        let key = format!("{KEY_PREFIX}{}", random_secret());
        let prefix: String = key.chars().take(VISIBLE_LEN).collect();
        let id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO api_keys (id, user_id, name, prefix, key_hash, scope, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&id)
        .bind(user.as_str())
        .bind(name)
        .bind(&prefix)
        .bind(hash_secret(&key))
        .bind(scope.as_str())
        .bind(now_ms())
        .execute(self.db.pool())
        .await?;
        Ok(NewApiKey { id, key, prefix, scope })
    }

    /// The user's keys that have not been revoked, newest first.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn list(&self, user: &UserId) -> Result<Vec<ApiKeyInfo>, AuthError> {
        let rows: Vec<KeyRow> = sqlx::query_as(
            "SELECT id, name, prefix, scope, created_ms, last_used_ms FROM api_keys \
             WHERE user_id = $1 AND revoked_ms IS NULL ORDER BY created_ms DESC",
        )
        .bind(user.as_str())
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows.into_iter().map(KeyRow::info).collect())
    }

    /// Revokes one of the user's keys. Another user's key is "not found", never revoked.
    ///
    /// # Errors
    /// `NotFound` when the user has no such live key.
    pub async fn revoke(&self, user: &UserId, id: &str) -> Result<(), AuthError> {
        let done = sqlx::query("UPDATE api_keys SET revoked_ms = $1 WHERE id = $2 AND user_id = $3 AND revoked_ms IS NULL")
            .bind(now_ms())
            .bind(id)
            .bind(user.as_str())
            .execute(self.db.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(AuthError::NotFound("The API key"));
        }
        Ok(())
    }

    /// Finds the owner and scope of a live key, and notes that it was used.
    ///
    /// # Errors
    /// `InvalidToken` for an unknown or revoked key.
    pub async fn verify(&self, key: &str) -> Result<(UserId, Scope), AuthError> {
        let hash = hash_secret(key.trim());
        let row: Option<(String, String)> =
            sqlx::query_as("SELECT user_id, scope FROM api_keys WHERE key_hash = $1 AND revoked_ms IS NULL")
                .bind(&hash)
                .fetch_optional(self.db.pool())
                .await?;
        let (user_id, scope) = row.ok_or(AuthError::InvalidToken)?;
        sqlx::query("UPDATE api_keys SET last_used_ms = $1 WHERE key_hash = $2")
            .bind(now_ms())
            .bind(&hash)
            .execute(self.db.pool())
            .await?;
        let user_id = UserId::parse(&user_id).ok_or(AuthError::InvalidToken)?;
        Ok((user_id, Scope::parse(&scope).ok_or(AuthError::InvalidToken)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::users::Users;

    #[tokio::test]
    async fn a_key_verifies_until_revoked_and_only_its_owner_can_revoke_it() {
        let (_dir, db) = crate::db::migrated_test_db().await;
        let users = Users::new(db.clone());
        let ada = users.create("ada@example.com", "long enough password", false).await.unwrap();
        let bob = users.create("bob@example.com", "long enough password", false).await.unwrap();
        let keys = ApiKeys::new(db);

        let created = keys.create(&ada.id, "laptop", Scope::Read).await.unwrap();
        assert!(created.key.starts_with(&created.prefix) && created.key.starts_with(KEY_PREFIX));
        assert_eq!(keys.verify(&created.key).await.unwrap(), (ada.id.clone(), Scope::Read));
        assert_eq!(keys.list(&ada.id).await.unwrap().len(), 1);
        assert!(keys.list(&bob.id).await.unwrap().is_empty());

        assert!(matches!(keys.revoke(&bob.id, &created.id).await, Err(AuthError::NotFound(_))));
        keys.revoke(&ada.id, &created.id).await.unwrap();
        assert!(matches!(keys.verify(&created.key).await, Err(AuthError::InvalidToken)));
    }

    #[test]
    fn secrets_are_stored_as_hashes() {
        let secret = random_secret();
        assert_eq!(secret.len(), 43);
        assert_ne!(hash_secret(&secret), secret);
        assert_eq!(hash_secret(&secret).len(), 64);
    }
}
