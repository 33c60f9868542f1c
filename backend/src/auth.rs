//! Accounts: users and passwords, browser sessions, access and refresh tokens, API keys, and
//! login throttling. Every query here is scoped to the user it serves.

pub mod api_keys;
pub mod client_ip;
pub mod links;
pub mod passwords;
pub mod session_store;
pub mod throttle;
pub mod tokens;
pub mod users;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use secrecy::SecretString;
use url::Url;

use crate::analytics::{Analytics, Event, EventKind, Viewer};
use crate::db::{Db, DbError};
use crate::model::auth::{RegistrationMode, Scope};

pub use users::{User, UserId};

/// Every account service, over one database.
#[derive(Clone)]
pub struct Auth {
    pub users: users::Users,
    pub sessions: session_store::DbSessionStore,
    pub tokens: tokens::Tokens,
    pub api_keys: api_keys::ApiKeys,
    pub throttle: throttle::LoginThrottle,
    pub links: links::AccountLinks,
    /// Who may register (`PYAIRTABLE_REGISTRATION`).
    pub registration: RegistrationMode,
    registrations: Arc<DefaultKeyedRateLimiter<Option<IpAddr>>>,
    analytics: Analytics,
}

/// Registrations one address may make in a burst, for an office signing up together.
const REGISTRATION_BURST: u32 = 20;
/// Registrations one address may make per minute once its burst is used up.
const REGISTRATIONS_PER_MINUTE: u32 = 5;
/// Addresses remembered by the registration limiter before idle ones are forgotten.
const REGISTRATION_KEYS_KEPT: usize = 10_000;

fn registration_quota() -> Quota {
    let per_minute = NonZeroU32::new(REGISTRATIONS_PER_MINUTE).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(REGISTRATION_BURST).unwrap_or(NonZeroU32::MIN);
    Quota::per_minute(per_minute).allow_burst(burst)
}

/// The key an address registers under: IPv6 users usually hold a whole /64, so it counts as one.
fn registration_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => {
            IpAddr::V6(std::net::Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64)))
        }
        other => other,
    }
}

impl Auth {
    /// Open registration; see [`Auth::with_registration`]. One-time links point at `public_url`.
    pub fn new(db: Db, jwt_secret: &SecretString, analytics: Analytics, public_url: Url) -> Self {
        Self {
            links: links::AccountLinks::new(db.clone(), public_url),
            registration: RegistrationMode::Open,
            users: users::Users::new(db.clone()).with_analytics(analytics.clone()),
            analytics,
            sessions: session_store::DbSessionStore::new(db.clone()),
            tokens: tokens::Tokens::new(db.clone(), jwt_secret),
            api_keys: api_keys::ApiKeys::new(db.clone()),
            throttle: throttle::LoginThrottle::new(db),
            registrations: Arc::new(DefaultKeyedRateLimiter::keyed(registration_quota())),
        }
    }

    pub fn with_registration(self, registration: RegistrationMode) -> Self {
        Self { registration, ..self }
    }

    /// Creates an account for a sign-up from `ip`, which may register a few accounts a minute.
    /// `invite` is an invitation link's secret: required when registration is by invitation,
    /// and used up when given.
    ///
    /// # Errors
    /// `RegistrationClosed` or `InviteRequired` as the mode says, `Throttled` when the address
    /// registered too many, `Busy` when hashing is saturated, and whatever
    /// [`users::Users::create_invited`] refuses.
    pub async fn register(&self, email: &str, password: &str, invite: Option<&str>, ip: Option<IpAddr>) -> Result<User, AuthError> {
        let invite = invite.map(str::trim).filter(|i| !i.is_empty());
        match (self.registration, invite) {
            (RegistrationMode::Closed, _) => return Err(AuthError::RegistrationClosed),
            (RegistrationMode::Invite, None) => return Err(AuthError::InviteRequired),
            _ => {}
        }
        if self.registrations.len() > REGISTRATION_KEYS_KEPT {
            self.registrations.retain_recent();
        }
        if let Err(not_until) = self.registrations.check_key(&ip.map(registration_key)) {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            return Err(AuthError::Throttled { retry_after_s: wait.as_secs().max(1) });
        }
        match invite {
            Some(invite) => self.users.create_invited(email, password, invite).await,
            None => self.users.create(email, password, false).await,
        }
    }

    /// Sets a password with a reset link an administrator made, and ends the user's sessions.
    ///
    /// # Errors
    /// `InvalidLink`, `WeakPassword` or `Busy`.
    pub async fn reset_password(&self, secret: &str, new: &str) -> Result<User, AuthError> {
        self.users.reset_password(&self.links, secret, new).await
    }

    /// Changes the password of `user` after checking `current`, throttled like a log-in.
    ///
    /// # Errors
    /// `Throttled`, `BadCredentials`, `Busy`, or `WeakPassword` for `new`.
    pub async fn change_password(
        &self,
        user: &User,
        current: &str,
        new: &str,
        keep_session: Option<&str>,
        ip: Option<IpAddr>,
    ) -> Result<(), AuthError> {
        self.throttle.begin(&user.email, ip).await?;
        let result = self.users.change_password(&user.id, current, new, keep_session).await;
        // A weak new password means the current one was right.
        let checked = matches!(result, Ok(()) | Err(AuthError::WeakPassword(_)));
        self.settle(&user.email, ip, &result, checked).await?;
        result
    }

    /// Checks that `password` is the signed-in `user`'s own, throttled like a log-in: for
    /// confirming a dangerous action such as deleting the account.
    ///
    /// # Errors
    /// `Throttled`, `BadCredentials`, `Disabled` or `Busy`.
    pub async fn confirm_password(&self, user: &User, password: &str, ip: Option<IpAddr>) -> Result<(), AuthError> {
        self.throttle.begin(&user.email, ip).await?;
        let result = self.users.authenticate(&user.email, password).await.map(|_| ());
        let checked = matches!(result, Ok(()) | Err(AuthError::Disabled));
        self.settle(&user.email, ip, &result, checked).await?;
        result
    }

    /// Settles an attempt counted by the throttle: a right password gives it back and clears
    /// the pair, a wrong one stays counted, and one never checked is given back.
    async fn settle<T>(&self, email: &str, ip: Option<IpAddr>, result: &Result<T, AuthError>, right: bool) -> Result<(), AuthError> {
        match result {
            _ if right => self.throttle.succeeded(email, ip).await,
            Err(AuthError::BadCredentials) => Ok(()),
            _ => self.throttle.refund(email, ip).await,
        }
    }

    /// Checks an email and password, throttled per account and address pair, per account, and
    /// per address.
    ///
    /// # Errors
    /// `Throttled` while locked, `BadCredentials` (counted as a failure), `Disabled`, or `Busy`.
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
        // Counted before the hash is checked, so concurrent guesses can't all pass.
        self.throttle.begin(email, ip).await?;
        let result = self.users.authenticate(email, password).await;
        // A disabled account's password was right all the same.
        let right = matches!(result, Ok(_) | Err(AuthError::Disabled));
        self.settle(email, ip, &result, right).await?;
        result
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
    #[error("This server doesn't take sign-ups. Ask an administrator to create your account.")]
    RegistrationClosed,
    #[error("Sign-up on this server is by invitation. Ask an administrator for an invitation link.")]
    InviteRequired,
    #[error("This link is not valid: it may have been used already or have expired. Ask an administrator for a new one.")]
    InvalidLink,
    #[error("Too many failed attempts. Try again in {retry_after_s} seconds.")]
    Throttled { retry_after_s: u64 },
    /// Every password hashing slot is busy; the request may be repeated shortly.
    #[error("The server is busy. Try again in a few seconds.")]
    Busy,
    #[error("The token is invalid or has expired. Sign in again.")]
    InvalidToken,
    #[error("{0} was not found.")]
    NotFound(&'static str),
    #[error("{0}")]
    Invalid(&'static str),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<passwords::HashBusy> for AuthError {
    fn from(_: passwords::HashBusy) -> Self {
        Self::Busy
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_address_registers_a_burst_and_is_then_refused_before_hashing() {
        let (_dir, db) = crate::db::migrated_test_db().await;
        let auth = Auth::new(db, &SecretString::from("x".repeat(32)), Analytics::default(), Url::parse("http://127.0.0.1:8000").unwrap());
        let ip: Option<IpAddr> = Some("192.0.2.7".parse().unwrap());
        // Not an email, so nothing is hashed: only the limiter is exercised.
        for _ in 0..REGISTRATION_BURST {
            assert!(matches!(auth.register("not an email", "long enough password", None, ip).await, Err(AuthError::InvalidEmail)));
        }
        let refused = auth.register("ada@example.com", "long enough password", None, ip).await;
        assert!(matches!(refused, Err(AuthError::Throttled { .. })), "{refused:?}");
        let elsewhere = auth.register("not an email", "long enough password", None, Some("198.51.100.1".parse().unwrap())).await;
        assert!(matches!(elsewhere, Err(AuthError::InvalidEmail)));
    }

    #[test]
    fn an_ipv6_network_registers_as_one_address() {
        let a = registration_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = registration_key("2001:db8:1:2:bbbb::2".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, registration_key("2001:db8:1:3::1".parse().unwrap()));
        assert_eq!(registration_key("192.0.2.7".parse().unwrap()), "192.0.2.7".parse::<IpAddr>().unwrap());
    }
}
