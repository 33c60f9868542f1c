//! Account types that cross the wire: the signed-in user, API keys and token pairs.

use serde::{Deserialize, Serialize};

/// A user as the UI and the API show them; never carries a password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub is_admin: bool,
    pub disabled: bool,
    pub created_ms: i64,
}

/// What an API key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Only tools and calls that change nothing.
    Read,
    /// Everything the key's owner can do.
    Write,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }

    /// Reads `read` or `write`, as typed by a user or stored in the database.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "read" => Some(Self::Read),
            "write" => Some(Self::Write),
            _ => None,
        }
    }
}

/// An API key as listed: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyInfo {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scope: Scope,
    pub created_ms: i64,
    pub last_used_ms: Option<i64>,
}

/// A newly created API key: the only time `key` is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiKey {
    pub id: String,
    pub key: String,
    pub prefix: String,
    pub scope: Scope,
}

/// The answer to `POST /api/auth/token` and `/api/auth/refresh`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
}

/// One of a user's signed-in browsers, as Settings lists it. `handle` names the session
/// without revealing its ID, which is the cookie's secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    pub handle: String,
    pub user_agent: String,
    pub created_ms: i64,
    pub expires_ms: i64,
    /// The browser asking.
    pub current: bool,
}

/// Who may create an account from the registration page (`PYAIRTABLE_REGISTRATION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegistrationMode {
    /// Anyone who reaches the server.
    #[default]
    Open,
    /// Only someone holding an administrator's invitation link.
    Invite,
    /// Nobody: administrators create accounts with `pyairtable user create`.
    Closed,
}

impl RegistrationMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Invite => "invite",
            Self::Closed => "closed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "open" => Some(Self::Open),
            "invite" => Some(Self::Invite),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }
}

/// A one-time link an administrator hands to someone: an invitation or a password reset. The
/// only time its secret is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OneTimeLink {
    pub url: String,
    pub expires_ms: i64,
}

/// An invitation not yet used, as `/admin/users` lists it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    pub id: String,
    pub created_by: Option<String>,
    pub created_ms: i64,
    pub expires_ms: i64,
}
