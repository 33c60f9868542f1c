//! Which Airtable a user's calls go to: their own token on Airtable, or their sandbox.
//!
//! Every feature that reads or writes a user's bases (the base browser, tools, chat) gets its
//! client here, so the choice is made in one place. A user's own token is checked with a live
//! Meta API call before it is saved, sealed with the server's key, and never shown again but
//! for its last four characters.

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::airtable::{Airtable, AirtableError, Client};
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::db::{Db, DbError};
use crate::model::airtable::{ConnectionKind, ConnectionView};
use crate::sandbox::{Sandbox, SandboxError};
use crate::secrets::{Cipher, last_four};

/// A client for one user, and what it is connected to.
#[derive(Clone)]
pub struct Connection {
    pub client: Client,
    pub kind: ConnectionKind,
}

/// Why a user's connection could not be opened or changed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The pasted text is not shaped like a personal access token.
    #[error("That is not an Airtable personal access token: they start with “pat” and are about 80 characters. Create one at airtable.com/create/tokens.")]
    Malformed,
    /// Airtable refused the token, or could not be asked.
    #[error("{0}")]
    Rejected(#[source] AirtableError),
    /// The stored token no longer decrypts (the encryption key changed).
    #[error("Your saved Airtable token can no longer be read, probably because the server's encryption key changed. Paste it again in Settings.")]
    Unreadable,
    #[error("your sandbox could not be opened: {0}")]
    Sandbox(#[from] SandboxError),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for ConnectionError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Hands out per-user Airtable clients. Cheap to clone.
#[derive(Clone)]
pub struct Connections {
    db: Db,
    cipher: Cipher,
    airtable: Airtable,
    sandbox: Sandbox,
    airtable_api_url: Url,
    sandbox_api_url: Url,
}

impl Connections {
    /// `sandbox_api_url` is this server's own `/sandbox` address, as its clients reach it.
    pub fn new(db: Db, cipher: Cipher, airtable: Airtable, sandbox: Sandbox, airtable_api_url: Url, sandbox_api_url: Url) -> Self {
        Self { db, cipher, airtable, sandbox, airtable_api_url, sandbox_api_url }
    }

    /// The user's client: Airtable with their own token when they saved one, otherwise their
    /// sandbox, which is provisioned (token and demo base) on first use.
    ///
    /// # Errors
    /// `Unreadable` for a token that no longer decrypts; database and sandbox failures.
    pub async fn for_user(&self, user: &UserId) -> Result<Connection, ConnectionError> {
        if let Some((sealed, _, _)) = self.stored(user).await? {
            let token = self.cipher.open(user.as_str(), &sealed).map_err(|_| ConnectionError::Unreadable)?;
            let client = self.airtable.client(self.airtable_api_url.clone(), token).acting_for(user);
            return Ok(Connection { client, kind: ConnectionKind::Airtable });
        }
        Ok(self.sandbox_for(user).await?.0)
    }

    /// The user's sandbox whatever they are connected to, and its token for other Airtable
    /// clients; provisioned (token and demo base) on first use.
    ///
    /// # Errors
    /// Database and sandbox failures.
    pub async fn sandbox_for(&self, user: &UserId) -> Result<(Connection, SecretString), ConnectionError> {
        let token = self.sandbox.provision(user).await?;
        let client = self.airtable.client(self.sandbox_api_url.clone(), SecretString::from(token.expose_secret().to_owned())).acting_for(user);
        Ok((Connection { client, kind: ConnectionKind::Sandbox }, token))
    }

    /// What Settings shows about the user's connection.
    ///
    /// # Errors
    /// Database failures.
    pub async fn view(&self, user: &UserId) -> Result<ConnectionView, ConnectionError> {
        Ok(match self.stored(user).await? {
            Some((_, last4, saved_ms)) => ConnectionView { kind: ConnectionKind::Airtable, token_last4: Some(last4), saved_ms: Some(saved_ms) },
            None => ConnectionView { kind: ConnectionKind::Sandbox, token_last4: None, saved_ms: None },
        })
    }

    /// Checks `token` with a live Meta API call, then saves it sealed in place of any earlier one.
    ///
    /// # Errors
    /// `Malformed` before any call, `Rejected` with Airtable's answer and what to do.
    pub async fn save_token(&self, user: &UserId, token: &SecretString) -> Result<ConnectionView, ConnectionError> {
        let text = token.expose_secret().trim();
        let shaped = text.starts_with("pat") && (20..=200).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_graphic());
        if !shaped {
            return Err(ConnectionError::Malformed);
        }
        let client = self.airtable.client(self.airtable_api_url.clone(), SecretString::from(text.to_owned())).acting_for(user);
        client.list_bases().await.map_err(ConnectionError::Rejected)?;
        let last4 = last_four(text);
        let now = now_ms();
        sqlx::query(
            "INSERT INTO airtable_tokens (user_id, token_sealed, token_last4, saved_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (user_id) DO UPDATE SET token_sealed = excluded.token_sealed, \
             token_last4 = excluded.token_last4, saved_ms = excluded.saved_ms",
        )
        .bind(user.as_str())
        .bind(self.cipher.seal(user.as_str(), text))
        .bind(&last4)
        .bind(now)
        .execute(self.db.pool())
        .await?;
        tracing::info!(user.id = %user, "saved an Airtable token");
        Ok(ConnectionView { kind: ConnectionKind::Airtable, token_last4: Some(last4), saved_ms: Some(now) })
    }

    /// Forgets the user's token; their calls go to their sandbox again.
    ///
    /// # Errors
    /// Database failures.
    pub async fn remove_token(&self, user: &UserId) -> Result<ConnectionView, ConnectionError> {
        sqlx::query("DELETE FROM airtable_tokens WHERE user_id = $1").bind(user.as_str()).execute(self.db.pool()).await?;
        self.view(user).await
    }

    async fn stored(&self, user: &UserId) -> Result<Option<(String, String, i64)>, ConnectionError> {
        Ok(sqlx::query_as("SELECT token_sealed, token_last4, saved_ms FROM airtable_tokens WHERE user_id = $1")
            .bind(user.as_str())
            .fetch_optional(self.db.pool())
            .await?)
    }
}
