//! Accounts: users and passwords, browser sessions, access and refresh tokens, API keys, and
//! login throttling. Every query here is scoped to the user it serves.

pub mod api_keys;
pub mod passwords;
pub mod session_store;
pub mod throttle;
pub mod tokens;
pub mod users;

use std::net::IpAddr;

use secrecy::SecretString;

use crate::analytics::{Analytics, Event, EventKind, Viewer};
use crate::db::{Db, DbError};
use crate::model::auth::Scope;

pub use users::{User, UserId};

/// Every account service, over one database.
#[derive(Clone)]
pub struct Auth {
    pub users: users::Users,
    pub sessions: session_store::DbSessionStore,
    pub tokens: tokens::Tokens,
    pub api_keys: api_keys::ApiKeys,
    pub throttle: throttle::LoginThrottle,
    analytics: Analytics,
}

impl Auth {
    pub fn new(db: Db, jwt_secret: &SecretString, analytics: Analytics) -> Self {
        Self {
            users: users::Users::new(db.clone()).with_analytics(analytics.clone()),
            analytics,
            sessions: session_store::DbSessionStore::new(db.clone()),
            tokens: tokens::Tokens::new(db.clone(), jwt_secret),
            api_keys: api_keys::ApiKeys::new(db.clone()),
            throttle: throttle::LoginThrottle::new(db),
        }
    }

    /// Checks an email and password, throttled per account and per address.
    ///
    /// # Errors
    /// `Throttled` while locked, `BadCredentials` (counted as a failure), or `Disabled`.
    pub async fn login(&self, email: &str, password: &str, ip: Option<IpAddr>) -> Result<User, AuthError> {
        let started = std::time::Instant::now();
        let result = self.check_login(email, password, ip).await;
        let event = Event::new(EventKind::Login, "password").took(started.elapsed());
        let event = match &result {
            Ok(user) => event.by(Some(user.id.as_str())),
            Err(AuthError::Db(_)) => return result,
            Err(e) => {
                // Counted for the account the email names, so its owner sees attempts on it.
                let owner = self.users.id_for_email(email).await.ok().flatten();
                event.by(owner.as_ref().map(UserId::as_str)).failed(e.to_string())
            }
        };
        self.analytics.record(event);
        result
    }

    async fn check_login(&self, email: &str, password: &str, ip: Option<IpAddr>) -> Result<User, AuthError> {
        self.throttle.check(email, ip).await?;
        match self.users.authenticate(email, password).await {
            Ok(user) => {
                self.throttle.record_success(email).await?;
                Ok(user)
            }
            Err(AuthError::BadCredentials) => {
                self.throttle.record_failure(email, ip).await?;
                Err(AuthError::BadCredentials)
            }
            Err(other) => Err(other),
        }
    }

    /// Finds who an `Authorization: Bearer` value belongs to: an API key or an access token.
    /// A disabled user, and an access token issued before the last password change, are refused.
    ///
    /// # Errors
    /// `InvalidToken` for anything that does not identify an active user.
    pub async fn principal_for_bearer(&self, bearer: &str) -> Result<Principal, AuthError> {
        let (user_id, method, issued_at_s) = if bearer.starts_with(api_keys::KEY_PREFIX) {
            let (user_id, scope) = self.api_keys.verify(bearer).await?;
            (user_id, AuthMethod::ApiKey(scope), None)
        } else {
            let claims = self.tokens.verify_access(bearer)?;
            (claims.user_id, AuthMethod::AccessToken, Some(claims.issued_at_s))
        };
        let user = self.users.active(&user_id).await?.ok_or(AuthError::InvalidToken)?;
        let changed_s = u64::try_from(user.password_changed_ms / 1000).unwrap_or(0);
        if issued_at_s.is_some_and(|issued| issued < changed_s) {
            return Err(AuthError::InvalidToken);
        }
        Ok(Principal { user, method })
    }
}

/// Errors from account operations, each phrased for the person who meets it.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Enter a valid email address, such as ada@example.com.")]
    InvalidEmail,
    #[error("{0}")]
    WeakPassword(#[from] passwords::PasswordRuleError),
    #[error("An account with this email already exists. Log in instead.")]
    EmailTaken,
    /// The same words whether the email is unknown or the password wrong.
    #[error("The email or password is incorrect.")]
    BadCredentials,
    #[error("This account is disabled. Ask an administrator to enable it.")]
    Disabled,
    #[error("Too many failed attempts. Try again in {retry_after_s} seconds.")]
    Throttled { retry_after_s: u64 },
    #[error("The token is invalid or has expired. Sign in again.")]
    InvalidToken,
    #[error("{0} was not found.")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for AuthError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(DbError::Query(e))
    }
}

/// How a request proved who it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMethod {
    /// The browser's session cookie.
    Session,
    /// `Authorization: Bearer <access token>` from `POST /api/auth/token`.
    AccessToken,
    /// `Authorization: Bearer <API key>`, limited to its scope.
    ApiKey(Scope),
}

/// The signed-in user of a request, and how they signed in.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub method: AuthMethod,
}

impl Principal {
    /// Whether this request may change data: read-only API keys may not.
    pub fn can_write(&self) -> bool {
        self.method != AuthMethod::ApiKey(Scope::Read)
    }

    /// Who is looking, for the analytics dashboard.
    pub fn viewer(&self) -> Viewer<'_> {
        Viewer { user_id: self.user.id.as_str(), is_admin: self.user.is_admin }
    }

    /// The scope this request acts with: read for a read-only key, write otherwise.
    pub fn scope(&self) -> Scope {
        if self.can_write() { Scope::Write } else { Scope::Read }
    }
}
