//! Tokens for API clients: short-lived JWT access tokens, and refresh tokens that rotate.
//!
//! A refresh token is shown once and stored only as a SHA-256 hash. Each login starts a
//! family; every refresh uses up one token and issues the next in the same family. A token
//! used a second time means it was copied, so the whole family is revoked.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::{AuthError, User, UserId};
use crate::clock::now_ms;
use crate::db::Db;
use crate::model::auth::TokenPair;

/// Access tokens live 15 minutes.
pub const ACCESS_TTL_S: u64 = 15 * 60;
/// Refresh tokens live 30 days, unless used or revoked first.
const REFRESH_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// Refresh tokens start with this, so that they are recognisable in a leak scan.
const REFRESH_PREFIX: &str = "pyrt_";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    exp: u64,
    typ: String,
}

/// Issues and checks tokens, signed with the server's JWT secret.
#[derive(Clone)]
pub struct Tokens {
    db: Db,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// What a valid access token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessClaims {
    pub user_id: UserId,
    /// Seconds since the epoch; tokens issued before a password change are refused.
    pub issued_at_s: u64,
}

impl Tokens {
    pub fn new(db: Db, secret: &SecretString) -> Self {
        let bytes = secret.expose_secret().as_bytes();
        Self { db, encoding: EncodingKey::from_secret(bytes), decoding: DecodingKey::from_secret(bytes) }
    }

    /// Starts a new family for `user`: an access token and its first refresh token.
    ///
    /// # Errors
    /// `Db` when the refresh token can't be stored.
    pub async fn issue(&self, user: &User) -> Result<TokenPair, AuthError> {
        let family = uuid::Uuid::new_v4().to_string();
        self.issue_in_family(&user.id, &family).await
    }

    async fn issue_in_family(&self, user_id: &UserId, family: &str) -> Result<TokenPair, AuthError> {
        let refresh_token = format!("{REFRESH_PREFIX}{}", super::api_keys::random_secret());
        let now = now_ms();
        sqlx::query(
            "INSERT INTO refresh_tokens (id, user_id, family_id, token_hash, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(user_id.as_str())
        .bind(family)
        .bind(super::api_keys::hash_secret(&refresh_token))
        .bind(now)
        .bind(now + REFRESH_TTL_MS)
        .execute(self.db.pool())
        .await?;
        Ok(TokenPair {
            access_token: self.access_token(user_id),
            refresh_token,
            token_type: "Bearer".into(),
            expires_in: ACCESS_TTL_S,
        })
    }

    fn access_token(&self, user_id: &UserId) -> String {
        let now = u64::try_from(now_ms() / 1000).unwrap_or(0);
        let claims = Claims { sub: user_id.to_string(), iat: now, exp: now + ACCESS_TTL_S, typ: "access".into() };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with a secret key can't fail")
    }

    /// Checks an access token's signature, expiry and kind.
    ///
    /// # Errors
    /// `InvalidToken` for anything but a valid, unexpired access token from this server.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims, AuthError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        let data = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
            .map_err(|_| AuthError::InvalidToken)?;
        if data.claims.typ != "access" {
            return Err(AuthError::InvalidToken);
        }
        let user_id = UserId::parse(&data.claims.sub).ok_or(AuthError::InvalidToken)?;
        Ok(AccessClaims { user_id, issued_at_s: data.claims.iat })
    }

    /// Uses up a refresh token and issues the next pair in its family.
    ///
    /// # Errors
    /// `InvalidToken` when the token is unknown, expired or revoked, or was already used
    /// (which also revokes its family).
    pub async fn rotate(&self, refresh_token: &str) -> Result<(UserId, TokenPair), AuthError> {
        let hash = super::api_keys::hash_secret(refresh_token.trim());
        let row: Option<(String, String, i64, Option<i64>, Option<i64>)> = sqlx::query_as(
            "SELECT user_id, family_id, expires_ms, used_ms, revoked_ms FROM refresh_tokens WHERE token_hash = $1",
        )
        .bind(&hash)
        .fetch_optional(self.db.pool())
        .await?;
        let (user_id, family, expires_ms, used_ms, revoked_ms) = row.ok_or(AuthError::InvalidToken)?;
        let now = now_ms();
        if revoked_ms.is_some() || expires_ms <= now {
            return Err(AuthError::InvalidToken);
        }
        // Marking it used only if nobody else did makes concurrent reuse detectable too.
        let claimed = sqlx::query("UPDATE refresh_tokens SET used_ms = $1 WHERE token_hash = $2 AND used_ms IS NULL")
            .bind(now)
            .bind(&hash)
            .execute(self.db.pool())
            .await?
            .rows_affected();
        if used_ms.is_some() || claimed == 0 {
            tracing::warn!(user.id = %user_id, "a rotated refresh token was reused; revoking its family");
            self.revoke_family(&family).await?;
            return Err(AuthError::InvalidToken);
        }
        let user_id = UserId::parse(&user_id).ok_or(AuthError::InvalidToken)?;
        let pair = self.issue_in_family(&user_id, &family).await?;
        Ok((user_id, pair))
    }

    /// Revokes the family a refresh token belongs to (logout). Unknown tokens are ignored.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn revoke(&self, refresh_token: &str) -> Result<(), AuthError> {
        let family: Option<String> = sqlx::query_scalar("SELECT family_id FROM refresh_tokens WHERE token_hash = $1")
            .bind(super::api_keys::hash_secret(refresh_token.trim()))
            .fetch_optional(self.db.pool())
            .await?;
        if let Some(family) = family {
            self.revoke_family(&family).await?;
        }
        Ok(())
    }

    async fn revoke_family(&self, family: &str) -> Result<(), AuthError> {
        sqlx::query("UPDATE refresh_tokens SET revoked_ms = $1 WHERE family_id = $2 AND revoked_ms IS NULL")
            .bind(now_ms())
            .bind(family)
            .execute(self.db.pool())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::users::Users;

    async fn setup() -> (tempfile::TempDir, Tokens, User) {
        let (dir, db) = crate::db::migrated_test_db().await;
        let user = Users::new(db.clone()).create("ada@example.com", "long enough password", false).await.unwrap();
        let tokens = Tokens::new(db, &SecretString::from("a test secret that is long enough to sign"));
        (dir, tokens, user)
    }

    #[tokio::test]
    async fn an_access_token_names_its_user_and_a_tampered_one_is_refused() {
        let (_dir, tokens, user) = setup().await;
        let pair = tokens.issue(&user).await.unwrap();
        assert_eq!(tokens.verify_access(&pair.access_token).unwrap().user_id, user.id);
        let mut tampered = pair.access_token.clone();
        tampered.pop();
        tampered.push(if pair.access_token.ends_with('A') { 'B' } else { 'A' });
        assert!(matches!(tokens.verify_access(&tampered), Err(AuthError::InvalidToken)));
        let other = Tokens::new(tokens.db.clone(), &SecretString::from("another secret, also long enough!!"));
        assert!(other.verify_access(&pair.access_token).is_err());
    }

    #[tokio::test]
    async fn reusing_a_rotated_refresh_token_revokes_the_family() {
        let (_dir, tokens, user) = setup().await;
        let first = tokens.issue(&user).await.unwrap();
        let (_, second) = tokens.rotate(&first.refresh_token).await.unwrap();
        assert!(matches!(tokens.rotate(&first.refresh_token).await, Err(AuthError::InvalidToken)));
        // The thief's reuse also killed the legitimate newer token.
        assert!(matches!(tokens.rotate(&second.refresh_token).await, Err(AuthError::InvalidToken)));
    }

    #[tokio::test]
    async fn a_revoked_refresh_token_no_longer_refreshes() {
        let (_dir, tokens, user) = setup().await;
        let pair = tokens.issue(&user).await.unwrap();
        tokens.revoke(&pair.refresh_token).await.unwrap();
        assert!(tokens.rotate(&pair.refresh_token).await.is_err());
    }
}
