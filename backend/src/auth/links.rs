//! One-time links an administrator hands out: invitations to register and password resets.
//!
//! A link carries a random secret, shown once; only its hash is stored. Using a link claims it
//! in the same transaction as what it allows, so a link works exactly once.

use url::Url;

use super::AuthError;
use super::api_keys::{hash_secret, random_secret};
use super::users::UserId;
use crate::clock::now_ms;
use crate::db::Db;
use crate::model::auth::{InviteView, OneTimeLink};

/// How long an invitation can be used: long enough to reach someone on holiday.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 3_600_000;
/// How long a password reset link can be used.
pub const RESET_TTL_MS: i64 = 24 * 3_600_000;

/// What a link allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    Invite,
    Reset,
}

impl LinkKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Invite => "invite",
            Self::Reset => "reset",
        }
    }

    /// The page that takes the link, and the query parameter that carries its secret.
    fn page(self) -> (&'static str, &'static str) {
        match self {
            Self::Invite => ("register", "invite"),
            Self::Reset => ("reset-password", "token"),
        }
    }

    fn ttl_ms(self) -> i64 {
        match self {
            Self::Invite => INVITE_TTL_MS,
            Self::Reset => RESET_TTL_MS,
        }
    }
}

/// The account links table. Cheap to clone.
#[derive(Clone)]
pub struct AccountLinks {
    db: Db,
    public_url: Url,
}

impl AccountLinks {
    /// Links point at `public_url`, the address people reach this server at.
    pub fn new(db: Db, public_url: Url) -> Self {
        Self { db, public_url }
    }

    /// A new invitation to register, made by the administrator `by`.
    ///
    /// # Errors
    /// Database failures.
    pub async fn invite(&self, by: &UserId) -> Result<OneTimeLink, AuthError> {
        self.create(LinkKind::Invite, None, Some(by)).await
    }

    /// A new link that sets `user`'s password, replacing any earlier one; `by` is the
    /// administrator who asked, or `None` on the command line.
    ///
    /// # Errors
    /// `NotFound` for an unknown user; database failures.
    pub async fn reset(&self, user: &UserId, by: Option<&UserId>) -> Result<OneTimeLink, AuthError> {
        let known: Option<String> =
            sqlx::query_scalar("SELECT id FROM users WHERE id = $1").bind(user.as_str()).fetch_optional(self.db.pool()).await?;
        if known.is_none() {
            return Err(AuthError::NotFound("The user"));
        }
        sqlx::query("DELETE FROM account_links WHERE kind = 'reset' AND user_id = $1 AND used_ms IS NULL")
            .bind(user.as_str())
            .execute(self.db.pool())
            .await?;
        self.create(LinkKind::Reset, Some(user), by).await
    }

    async fn create(&self, kind: LinkKind, user: Option<&UserId>, by: Option<&UserId>) -> Result<OneTimeLink, AuthError> {
        let secret = random_secret();
        let now = now_ms();
        let expires_ms = now + kind.ttl_ms();
        sqlx::query(
            "INSERT INTO account_links (id, token_hash, kind, user_id, created_by, created_ms, expires_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(hash_secret(&secret))
        .bind(kind.as_str())
        .bind(user.map(UserId::as_str))
        .bind(by.map(UserId::as_str))
        .bind(now)
        .bind(expires_ms)
        .execute(self.db.pool())
        .await?;
        let (page, parameter) = kind.page();
        let mut url = self.public_url.join(page).unwrap_or_else(|_| self.public_url.clone());
        url.query_pairs_mut().append_pair(parameter, &secret);
        Ok(OneTimeLink { url: url.into(), expires_ms })
    }

    /// Invitations neither used nor expired, newest first.
    ///
    /// # Errors
    /// Database failures.
    pub async fn pending_invites(&self) -> Result<Vec<InviteView>, AuthError> {
        let rows: Vec<(String, Option<String>, i64, i64)> = sqlx::query_as(
            "SELECT l.id, u.email, l.created_ms, l.expires_ms FROM account_links l LEFT JOIN users u ON u.id = l.created_by \
             WHERE l.kind = 'invite' AND l.used_ms IS NULL AND l.expires_ms > $1 ORDER BY l.created_ms DESC",
        )
        .bind(now_ms())
        .fetch_all(self.db.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, created_by, created_ms, expires_ms)| InviteView { id, created_by, created_ms, expires_ms })
            .collect())
    }

    /// Withdraws an invitation that has not been used.
    ///
    /// # Errors
    /// `NotFound` when no such invitation waits.
    pub async fn revoke_invite(&self, id: &str) -> Result<(), AuthError> {
        let done = sqlx::query("DELETE FROM account_links WHERE id = $1 AND kind = 'invite' AND used_ms IS NULL")
            .bind(id)
            .execute(self.db.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(AuthError::NotFound("The invitation"));
        }
        Ok(())
    }

    /// The user a reset link is for, while it can still be used; nothing is claimed.
    ///
    /// # Errors
    /// `InvalidLink` for an unknown, used or expired link.
    pub async fn reset_target(&self, secret: &str) -> Result<UserId, AuthError> {
        let user: Option<Option<String>> = sqlx::query_scalar(
            "SELECT user_id FROM account_links WHERE token_hash = $1 AND kind = 'reset' AND used_ms IS NULL AND expires_ms > $2",
        )
        .bind(hash_secret(secret.trim()))
        .bind(now_ms())
        .fetch_optional(self.db.pool())
        .await?;
        user.flatten().and_then(|id| UserId::parse(&id)).ok_or(AuthError::InvalidLink)
    }
}

/// Uses up a link inside the caller's transaction, so that it is spent only if what it
/// allows is done too. Returns the user a reset link is for (`None` for an invitation).
///
/// # Errors
/// `InvalidLink` for an unknown, used or expired link of that kind.
pub(super) async fn claim(conn: &mut sqlx::AnyConnection, kind: LinkKind, secret: &str) -> Result<Option<String>, AuthError> {
    let claimed: Option<Option<String>> = sqlx::query_scalar(
        "UPDATE account_links SET used_ms = $1 WHERE token_hash = $2 AND kind = $3 AND used_ms IS NULL AND expires_ms > $1 \
         RETURNING user_id",
    )
    .bind(now_ms())
    .bind(hash_secret(secret.trim()))
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await?;
    claimed.ok_or(AuthError::InvalidLink)
}
