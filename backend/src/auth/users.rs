//! Users: registration, password checks, roles, disabling, and deletion.

use serde::{Deserialize, Serialize};
use sqlx::FromRow;

use super::AuthError;
use super::links::{self, AccountLinks, LinkKind};
use super::passwords;
use crate::analytics::{Analytics, Event, EventKind};
use crate::clock::now_ms;
use crate::db::Db;
use crate::model::auth::UserView;

/// A user's ID: a UUID, generated at registration.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct UserId(String);

impl UserId {
    fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// Reads an ID from storage or a token; anything but a UUID is refused.
    pub fn parse(raw: &str) -> Option<Self> {
        uuid::Uuid::parse_str(raw.trim()).ok().map(|u| Self(u.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_ms: i64,
    pub password_changed_ms: i64,
}

impl User {
    pub fn view(&self) -> UserView {
        UserView {
            id: self.id.to_string(),
            email: self.email.clone(),
            display_name: self.display_name.clone(),
            is_admin: self.is_admin,
            disabled: self.disabled,
            created_ms: self.created_ms,
        }
    }
}

#[derive(FromRow)]
struct UserRow {
    id: String,
    email: String,
    display_name: String,
    is_admin: i64,
    disabled: i64,
    created_ms: i64,
    password_changed_ms: i64,
}

impl From<UserRow> for User {
    fn from(row: UserRow) -> Self {
        User {
            id: UserId(row.id),
            email: row.email,
            display_name: row.display_name,
            is_admin: row.is_admin != 0,
            disabled: row.disabled != 0,
            created_ms: row.created_ms,
            password_changed_ms: row.password_changed_ms,
        }
    }
}

const COLUMNS: &str = "id, email, display_name, is_admin, disabled, created_ms, password_changed_ms";

/// Lower-cases and checks an email address; the same address always maps to one account.
///
/// # Errors
/// `InvalidEmail` when it can't be an address.
pub fn normalize_email(raw: &str) -> Result<String, AuthError> {
    let email = raw.trim().to_lowercase();
    let (local, domain) = email.split_once('@').ok_or(AuthError::InvalidEmail)?;
    let ok = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.contains('@');
    if ok { Ok(email) } else { Err(AuthError::InvalidEmail) }
}

/// The users table.
#[derive(Clone)]
pub struct Users {
    db: Db,
    analytics: Analytics,
}

impl Users {
    pub fn new(db: Db) -> Self {
        Self { db, analytics: Analytics::default() }
    }

    /// The same users, recording each sign-up in `analytics`.
    pub fn with_analytics(mut self, analytics: Analytics) -> Self {
        self.analytics = analytics;
        self
    }

    /// The ID of the account with `email`, if there is one: failed logins are counted for it.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn id_for_email(&self, email: &str) -> Result<Option<UserId>, AuthError> {
        let Ok(email) = normalize_email(email) else { return Ok(None) };
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE email = $1").bind(&email).fetch_optional(self.db.pool()).await?;
        Ok(id.map(UserId))
    }

    /// Creates an account. The first account of an installation is its admin, even when two
    /// register at once; `admin` makes any other one an admin too (for
    /// `pyairtable user create --admin`).
    ///
    /// # Errors
    /// `InvalidEmail`, `WeakPassword` or `EmailTaken`.
    pub async fn create(&self, email: &str, password: &str, admin: bool) -> Result<User, AuthError> {
        self.insert(email, password, admin, None).await
    }

    /// Creates an account with an invitation link's secret, which is used up with it.
    ///
    /// # Errors
    /// `InvalidLink` for an unknown, used or expired invitation, and what [`Users::create`] refuses.
    pub async fn create_invited(&self, email: &str, password: &str, invite: &str) -> Result<User, AuthError> {
        self.insert(email, password, false, Some(invite)).await
    }

    async fn insert(&self, email: &str, password: &str, admin: bool, invite: Option<&str>) -> Result<User, AuthError> {
        let email = normalize_email(email)?;
        passwords::check_rules(password, &email)?;
        let hash = passwords::hash(password.to_owned()).await?;
        let now = now_ms();
        let display_name = email.split('@').next().unwrap_or_default().to_owned();
        let mut tx = self.db.pool().begin().await?;
        // Both are released again by the rollback if the insert below fails.
        if let Some(secret) = invite {
            links::claim(&mut *tx, LinkKind::Invite, secret).await?;
        }
        let first = sqlx::query("UPDATE first_admin SET claimed = 1 WHERE id = 1 AND claimed = 0")
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        let sql = format!(
            "INSERT INTO users (id, email, display_name, password_hash, is_admin, disabled, created_ms, password_changed_ms) \
             VALUES ($1, $2, $3, $4, $5, 0, $6, $6) RETURNING {COLUMNS}"
        );
        let row: Result<UserRow, sqlx::Error> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(UserId::generate().0)
            .bind(&email)
            .bind(display_name)
            .bind(hash)
            .bind(i64::from(admin || first))
            .bind(now)
            .fetch_one(&mut *tx)
            .await;
        match row {
            Ok(row) => {
                tx.commit().await?;
                let user = User::from(row);
                let how = if invite.is_some() { "invitation" } else { "password" };
                self.analytics.record(Event::new(EventKind::Signup, how).by(Some(user.id.as_str())));
                Ok(user)
            }
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AuthError::EmailTaken),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets a new password with a reset link's secret, which is used up, and ends every session
    /// and refresh token of the user.
    ///
    /// # Errors
    /// `InvalidLink` for an unknown, used or expired link (the link stays usable after a
    /// `WeakPassword`), `Busy` when password hashing is saturated.
    pub async fn reset_password(&self, links: &AccountLinks, secret: &str, new: &str) -> Result<User, AuthError> {
        let id = links.reset_target(secret).await?;
        let user = self.get(&id).await?.ok_or(AuthError::InvalidLink)?;
        passwords::check_rules(new, &user.email)?;
        let hash = passwords::hash(new.to_owned()).await?;
        let mut tx = self.db.pool().begin().await?;
        if links::claim(&mut *tx, LinkKind::Reset, secret).await?.as_deref() != Some(id.as_str()) {
            return Err(AuthError::InvalidLink);
        }
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_ms = $2 WHERE id = $3")
            .bind(hash)
            .bind(now_ms())
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.end_sessions(&id, None).await?;
        Ok(user)
    }

    /// Checks an email and password. Takes as long for an unknown email as for a wrong password.
    ///
    /// # Errors
    /// `BadCredentials` for either mistake, `Disabled` for a disabled account with the right password.
    pub async fn authenticate(&self, email: &str, password: &str) -> Result<User, AuthError> {
        let email = normalize_email(email).map_err(|_| AuthError::BadCredentials)?;
        let found: Option<(String, String)> =
            sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
                .bind(&email)
                .fetch_optional(self.db.pool())
                .await?;
        let Some((id, stored)) = found else {
            passwords::verify(password.to_owned(), passwords::dummy_hash().await?.to_owned()).await?;
            return Err(AuthError::BadCredentials);
        };
        if !passwords::verify(password.to_owned(), stored).await? {
            return Err(AuthError::BadCredentials);
        }
        let user = self.get(&UserId(id)).await?.ok_or(AuthError::BadCredentials)?;
        if user.disabled {
            return Err(AuthError::Disabled);
        }
        Ok(user)
    }

    /// # Errors
    /// `Db` when the database fails.
    pub async fn get(&self, id: &UserId) -> Result<Option<User>, AuthError> {
        let sql = format!("SELECT {COLUMNS} FROM users WHERE id = $1");
        let row: Option<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(id.as_str())
            .fetch_optional(self.db.pool())
            .await?;
        Ok(row.map(User::from))
    }

    /// The user behind an ID only if they may still act: present and not disabled.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn active(&self, id: &UserId) -> Result<Option<User>, AuthError> {
        Ok(self.get(id).await?.filter(|u| !u.disabled))
    }

    /// Whether no account exists yet, as on a new server.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn none_yet(&self) -> Result<bool, AuthError> {
        let any: Option<String> = sqlx::query_scalar("SELECT id FROM users LIMIT 1").fetch_optional(self.db.pool()).await?;
        Ok(any.is_none())
    }

    /// Every user, oldest first. For admins only: the caller checks.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn list(&self) -> Result<Vec<User>, AuthError> {
        let sql = format!("SELECT {COLUMNS} FROM users ORDER BY created_ms, email");
        let rows: Vec<UserRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(self.db.pool()).await?;
        Ok(rows.into_iter().map(User::from).collect())
    }

    /// Disables or enables an account. Disabling also ends its sessions and refresh tokens;
    /// its API keys and access tokens stop working because every request checks the flag.
    ///
    /// # Errors
    /// `NotFound` for an unknown user.
    pub async fn set_disabled(&self, id: &UserId, disabled: bool) -> Result<(), AuthError> {
        let done = sqlx::query("UPDATE users SET disabled = $1 WHERE id = $2")
            .bind(i64::from(disabled))
            .bind(id.as_str())
            .execute(self.db.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(AuthError::NotFound("The user"));
        }
        if disabled {
            self.end_sessions(id, None).await?;
        }
        Ok(())
    }

    /// Changes a password after checking the current one; ends every other session and every
    /// refresh token of the user, and invalidates older access tokens.
    ///
    /// Not throttled: callers serving a request go through [`super::Auth::change_password`].
    ///
    /// # Errors
    /// `BadCredentials` when `current` is wrong, `WeakPassword` when `new` breaks a rule,
    /// `Busy` when password hashing is saturated.
    pub async fn change_password(
        &self,
        id: &UserId,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
    ) -> Result<(), AuthError> {
        let stored: Option<(String, String)> =
            sqlx::query_as("SELECT email, password_hash FROM users WHERE id = $1")
                .bind(id.as_str())
                .fetch_optional(self.db.pool())
                .await?;
        let (email, stored) = stored.ok_or(AuthError::NotFound("The user"))?;
        if !passwords::verify(current.to_owned(), stored).await? {
            return Err(AuthError::BadCredentials);
        }
        passwords::check_rules(new, &email)?;
        let hash = passwords::hash(new.to_owned()).await?;
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_ms = $2 WHERE id = $3")
            .bind(hash)
            .bind(now_ms())
            .bind(id.as_str())
            .execute(self.db.pool())
            .await?;
        self.end_sessions(id, keep_session).await
    }

    /// Ends the user's browser sessions (but `keep`, a session ID as the cookie holds it) and
    /// revokes all their refresh tokens.
    async fn end_sessions(&self, id: &UserId, keep: Option<&str>) -> Result<(), AuthError> {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2")
            .bind(id.as_str())
            .bind(keep.map(super::session_store::stored_id).unwrap_or_default())
            .execute(self.db.pool())
            .await?;
        sqlx::query("UPDATE refresh_tokens SET revoked_ms = $1 WHERE user_id = $2 AND revoked_ms IS NULL")
            .bind(now_ms())
            .bind(id.as_str())
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    /// Deletes an account and, through the foreign keys, everything it owns.
    ///
    /// # Errors
    /// `NotFound` for an unknown user.
    pub async fn delete(&self, id: &UserId) -> Result<(), AuthError> {
        let done = sqlx::query("DELETE FROM users WHERE id = $1").bind(id.as_str()).execute(self.db.pool()).await?;
        if done.rows_affected() == 0 {
            return Err(AuthError::NotFound("The user"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_lowercased_and_checked() {
        assert_eq!(normalize_email("  Ada@Example.COM ").unwrap(), "ada@example.com");
        for bad in ["ada", "ada@", "@example.com", "ada@example", "a da@example.com", "ada@.com"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    async fn users() -> (tempfile::TempDir, Users) {
        let (dir, db) = crate::db::migrated_test_db().await;
        (dir, Users::new(db))
    }

    #[tokio::test]
    async fn the_first_user_is_the_admin_and_the_next_is_not() {
        let (_dir, users) = users().await;
        assert!(users.none_yet().await.unwrap());
        let first = users.create("first@example.com", "long enough password", false).await.unwrap();
        assert!(!users.none_yet().await.unwrap());
        let second = users.create("second@example.com", "long enough password", false).await.unwrap();
        assert!(first.is_admin);
        assert!(!second.is_admin);
        assert!(users.create("third@example.com", "long enough password", true).await.unwrap().is_admin);
    }

    #[tokio::test]
    async fn an_email_registers_once_whatever_its_case() {
        let (_dir, users) = users().await;
        users.create("ada@example.com", "long enough password", false).await.unwrap();
        let again = users.create("ADA@example.com", "long enough password", false).await;
        assert!(matches!(again, Err(AuthError::EmailTaken)));
    }

    #[tokio::test]
    async fn unknown_email_and_wrong_password_fail_alike() {
        let (_dir, users) = users().await;
        users.create("ada@example.com", "long enough password", false).await.unwrap();
        let unknown = users.authenticate("bob@example.com", "long enough password").await.unwrap_err();
        let wrong = users.authenticate("ada@example.com", "wrong password!!").await.unwrap_err();
        assert_eq!(unknown.to_string(), wrong.to_string());
        assert!(users.authenticate("Ada@Example.com", "long enough password").await.is_ok());
    }

    #[tokio::test]
    async fn an_invitation_is_spent_only_when_its_account_is_made() {
        let (_dir, db) = crate::db::migrated_test_db().await;
        let (users, links) = (Users::new(db.clone()), AccountLinks::new(db, url::Url::parse("http://127.0.0.1:8000").unwrap()));
        let admin = users.create("root@example.com", "long enough password", false).await.unwrap();
        let link = links.invite(&admin.id).await.unwrap();
        let secret = url::Url::parse(&link.url).unwrap().query_pairs().find(|(k, _)| k == "invite").unwrap().1.into_owned();
        let taken = users.create_invited("root@example.com", "long enough password", &secret).await;
        assert!(matches!(taken, Err(AuthError::EmailTaken)), "{taken:?}");
        let made = users.create_invited("ada@example.com", "long enough password", &secret).await.unwrap();
        assert!(!made.is_admin);
        let again = users.create_invited("bob@example.com", "long enough password", &secret).await;
        assert!(matches!(again, Err(AuthError::InvalidLink)), "{again:?}");
    }

    #[tokio::test]
    async fn a_disabled_user_can_not_sign_in() {
        let (_dir, users) = users().await;
        let user = users.create("ada@example.com", "long enough password", false).await.unwrap();
        users.set_disabled(&user.id, true).await.unwrap();
        let result = users.authenticate("ada@example.com", "long enough password").await;
        assert!(matches!(result, Err(AuthError::Disabled)));
        assert!(users.active(&user.id).await.unwrap().is_none());
    }
}
