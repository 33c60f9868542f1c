//! Each user's LLM settings: provider, model, endpoint and API key, or the server's default.
//!
//! A saved API key is sealed with the server's key (the user's ID as associated data) and is
//! never shown again, but for its last four characters.

use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::outbound::{self, AllowedHosts};
use crate::auth::UserId;
use crate::clock::now_ms;
use crate::db::{Db, DbError};
use crate::model::llm::{LlmProvider, LlmSettingsView, LlmSource};
use crate::secrets::{Cipher, last_four};

/// Everything needed to call one LLM: what the chat uses.
#[derive(Debug, Clone)]
pub struct LlmEndpoint {
    pub provider: LlmProvider,
    pub model: String,
    /// The API's address: required for OpenAI-compatible providers; for Gemini, a proxy or
    /// local server standing in for Google's (`None` means Google's own).
    pub base_url: Option<Url>,
    pub api_key: Option<SecretString>,
    /// Who chose the endpoint, which decides the addresses it may reach.
    pub origin: EndpointOrigin,
}

/// Who chose an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointOrigin {
    /// The administrator, in the server's configuration: trusted, any address.
    Server,
    /// A user, in Settings: public addresses only, unless the host is in the allowed hosts.
    User,
}

/// What a user submits in Settings. An empty key keeps the key already saved for the same
/// provider, so that changing the model doesn't mean pasting the key again.
#[derive(Debug, Clone)]
pub struct LlmChoice {
    pub provider: LlmProvider,
    pub model: String,
    pub base_url: String,
    pub api_key: SecretString,
}

/// Why LLM settings could not be saved or read.
#[derive(Debug, thiserror::Error)]
pub enum LlmSettingsError {
    #[error("The model name “{0}” can't be used: give the provider's model ID, such as gemini-2.5-flash or llama3.1:8b (no spaces, at most 100 characters).")]
    Model(String),
    #[error("The endpoint “{0}” can't be used: give an http:// or https:// address such as https://api.openai.com/v1 or https://openrouter.ai/api/v1, without a user name or password in it.")]
    BaseUrl(String),
    #[error("The endpoint “{0}” is at a local or private network address, which this server does not call for you. Use the provider's public address, or ask your administrator to add the host to PYAIRTABLE_LLM_ALLOWED_HOSTS.")]
    PrivateEndpoint(String),
    #[error("Gemini needs an API key: create one at aistudio.google.com/apikey and paste it here.")]
    MissingKey,
    #[error("That API key can't be right: keys are one line of at most 500 letters, digits and punctuation.")]
    MalformedKey,
    #[error("Your saved LLM API key can no longer be read, probably because the server's encryption key changed. Paste it again in Settings.")]
    Unreadable,
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<sqlx::Error> for LlmSettingsError {
    fn from(e: sqlx::Error) -> Self {
        Self::Db(e.into())
    }
}

/// A saved row, as stored.
#[derive(sqlx::FromRow)]
struct Saved {
    provider: String,
    model: String,
    base_url: Option<String>,
    api_key_sealed: Option<String>,
    api_key_last4: Option<String>,
    saved_ms: i64,
}

impl Saved {
    /// What Settings shows of a saved choice: never the key, only its last four characters.
    fn view(self, provider: LlmProvider) -> LlmSettingsView {
        LlmSettingsView {
            provider,
            model: self.model,
            base_url: self.base_url,
            has_api_key: self.api_key_sealed.is_some(),
            api_key_last4: self.api_key_last4,
            source: LlmSource::Account,
            saved_ms: Some(self.saved_ms),
        }
    }
}

/// Reads and saves users' LLM settings. Cheap to clone.
#[derive(Clone)]
pub struct LlmSettings {
    db: Db,
    cipher: Cipher,
    server_default: LlmEndpoint,
    allowed_hosts: AllowedHosts,
}

impl LlmSettings {
    /// `server_default` applies to every user who saved nothing. Users' endpoints may not be at
    /// local or private addresses; see [`LlmSettings::with_allowed_hosts`].
    pub fn new(db: Db, cipher: Cipher, server_default: LlmEndpoint) -> Self {
        Self { db, cipher, server_default, allowed_hosts: AllowedHosts::default() }
    }

    /// Lets users save endpoints on these hosts even when they are local or private.
    pub fn with_allowed_hosts(self, allowed_hosts: AllowedHosts) -> Self {
        Self { allowed_hosts, ..self }
    }

    /// What Settings shows: the user's own choice, or the server's default.
    ///
    /// # Errors
    /// Database failures.
    pub async fn view(&self, user: &UserId) -> Result<LlmSettingsView, LlmSettingsError> {
        Ok(match self.saved(user).await? {
            Some((saved, provider)) => saved.view(provider),
            None => {
                let d = &self.server_default;
                LlmSettingsView {
                    provider: d.provider,
                    model: d.model.clone(),
                    base_url: d.base_url.as_ref().map(Url::to_string),
                    api_key_last4: None,
                    has_api_key: d.api_key.is_some(),
                    source: LlmSource::Server,
                    saved_ms: None,
                }
            }
        })
    }

    /// The endpoint the user's chat calls, with the key opened.
    ///
    /// # Errors
    /// `Unreadable` for a key that no longer decrypts; database failures.
    pub async fn endpoint(&self, user: &UserId) -> Result<LlmEndpoint, LlmSettingsError> {
        let Some((saved, provider)) = self.saved(user).await? else {
            return Ok(self.server_default.clone());
        };
        let api_key = saved
            .api_key_sealed
            .map(|sealed| self.cipher.open(user.as_str(), &sealed).map_err(|_| LlmSettingsError::Unreadable))
            .transpose()?;
        let base_url = saved.base_url.as_deref().and_then(|u| Url::parse(u).ok());
        Ok(LlmEndpoint { provider, model: saved.model, base_url, api_key, origin: EndpointOrigin::User })
    }

    /// Validates and saves the user's choice in place of any earlier one.
    ///
    /// # Errors
    /// A validation error that says what to change; database failures.
    pub async fn save(&self, user: &UserId, choice: &LlmChoice) -> Result<LlmSettingsView, LlmSettingsError> {
        let model = match choice.model.trim() {
            "" => choice.provider.default_model().to_owned(),
            model if model.len() <= 100 && model.bytes().all(|b| b.is_ascii_graphic()) => model.to_owned(),
            model => return Err(LlmSettingsError::Model(model.chars().take(100).collect())),
        };
        let base_url = match choice.provider {
            LlmProvider::OpenaiCompatible => Some(endpoint_url(&choice.base_url)?),
            _ => None,
        };
        if let Some(url) = &base_url
            && outbound::check_now(url, &self.allowed_hosts).await.is_err()
        {
            tracing::info!(user.id = %user, "refused an LLM endpoint at a local or private address");
            return Err(LlmSettingsError::PrivateEndpoint(url.as_str().chars().take(200).collect()));
        }
        let typed_key = choice.api_key.expose_secret().trim();
        if typed_key.len() > 500 || !typed_key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(LlmSettingsError::MalformedKey);
        }
        let previous = self.saved(user).await?;
        let (sealed, last4) = match (choice.provider, typed_key) {
            (LlmProvider::Offline, _) => (None, None),
            (_, "") => match previous {
                Some((saved, provider)) if provider == choice.provider && saved.api_key_sealed.is_some() => {
                    (saved.api_key_sealed, saved.api_key_last4)
                }
                _ if choice.provider == LlmProvider::Gemini => return Err(LlmSettingsError::MissingKey),
                _ => (None, None),
            },
            (_, key) => (Some(self.cipher.seal(user.as_str(), key)), Some(last_four(key))),
        };
        let saved = Saved {
            provider: choice.provider.as_str().to_owned(),
            model,
            base_url: base_url.as_ref().map(Url::to_string),
            api_key_sealed: sealed,
            api_key_last4: last4,
            saved_ms: now_ms(),
        };
        sqlx::query(
            "INSERT INTO llm_settings (user_id, provider, model, base_url, api_key_sealed, api_key_last4, saved_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (user_id) DO UPDATE SET provider = excluded.provider, model = excluded.model, \
             base_url = excluded.base_url, api_key_sealed = excluded.api_key_sealed, \
             api_key_last4 = excluded.api_key_last4, saved_ms = excluded.saved_ms",
        )
        .bind(user.as_str())
        .bind(&saved.provider)
        .bind(&saved.model)
        .bind(&saved.base_url)
        .bind(&saved.api_key_sealed)
        .bind(&saved.api_key_last4)
        .bind(saved.saved_ms)
        .execute(self.db.pool())
        .await?;
        tracing::info!(user.id = %user, provider = choice.provider.as_str(), model = saved.model, "saved LLM settings");
        Ok(saved.view(choice.provider))
    }

    /// Forgets the user's choice; the server's default applies again.
    ///
    /// # Errors
    /// Database failures.
    pub async fn reset(&self, user: &UserId) -> Result<LlmSettingsView, LlmSettingsError> {
        sqlx::query("DELETE FROM llm_settings WHERE user_id = $1").bind(user.as_str()).execute(self.db.pool()).await?;
        self.view(user).await
    }

    async fn saved(&self, user: &UserId) -> Result<Option<(Saved, LlmProvider)>, LlmSettingsError> {
        let saved: Option<Saved> = sqlx::query_as(
            "SELECT provider, model, base_url, api_key_sealed, api_key_last4, saved_ms FROM llm_settings WHERE user_id = $1",
        )
        .bind(user.as_str())
        .fetch_optional(self.db.pool())
        .await?;
        // A row naming a provider this version doesn't know is treated as no choice.
        Ok(saved.and_then(|s| LlmProvider::parse(&s.provider).map(|p| (s, p))))
    }
}

/// An OpenAI-compatible endpoint: http(s), with no credentials in it (they would be shown back).
fn endpoint_url(text: &str) -> Result<Url, LlmSettingsError> {
    let text = text.trim();
    Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host() && u.username().is_empty() && u.password().is_none())
        .ok_or_else(|| LlmSettingsError::BaseUrl(text.chars().take(200).collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::users::Users;

    async fn settings() -> (tempfile::TempDir, LlmSettings, UserId) {
        let (dir, db) = crate::db::migrated_test_db().await;
        let user = Users::new(db.clone()).create("ada@example.com", "correct horse battery", false).await.unwrap();
        let key = secrecy::SecretBox::new(Box::new([7u8; 32]));
        let server_default = LlmEndpoint {
            provider: LlmProvider::Offline,
            model: "offline-assistant".into(),
            base_url: None,
            api_key: None,
            origin: EndpointOrigin::Server,
        };
        let allowed = AllowedHosts::parse("127.0.0.1:11434").unwrap();
        (dir, LlmSettings::new(db, Cipher::new(&key), server_default).with_allowed_hosts(allowed), user.id)
    }

    fn choice(provider: LlmProvider, model: &str, base_url: &str, key: &str) -> LlmChoice {
        LlmChoice { provider, model: model.into(), base_url: base_url.into(), api_key: SecretString::from(key.to_owned()) }
    }

    #[tokio::test]
    async fn without_a_choice_the_server_default_applies() {
        let (_dir, settings, user) = settings().await;
        let view = settings.view(&user).await.unwrap();
        assert_eq!((view.provider, view.source), (LlmProvider::Offline, LlmSource::Server));
        assert_eq!(settings.endpoint(&user).await.unwrap().model, "offline-assistant");
    }

    #[tokio::test]
    async fn a_saved_key_is_sealed_shown_by_its_last_four_and_kept_when_left_empty() {
        let (_dir, settings, user) = settings().await;
        let view = settings.save(&user, &choice(LlmProvider::Gemini, "", "", "AIzaSyExampleKey1234")).await.unwrap();
        assert_eq!(view.api_key_last4.as_deref(), Some("1234"));
        assert_eq!(view.model, "gemini-2.5-flash");
        assert_eq!(view.source, LlmSource::Account);
        let stored: String = sqlx::query_scalar("SELECT api_key_sealed FROM llm_settings").fetch_one(settings.db.pool()).await.unwrap();
        assert!(!stored.contains("AIzaSyExampleKey1234"));

        // A new model with no key typed keeps the key.
        settings.save(&user, &choice(LlmProvider::Gemini, "gemini-2.5-pro", "", "")).await.unwrap();
        let endpoint = settings.endpoint(&user).await.unwrap();
        assert_eq!(endpoint.model, "gemini-2.5-pro");
        assert_eq!(endpoint.api_key.unwrap().expose_secret(), "AIzaSyExampleKey1234");

        // Another provider doesn't inherit it.
        let view = settings.save(&user, &choice(LlmProvider::OpenaiCompatible, "llama3.1:8b", "http://127.0.0.1:11434/v1", "")).await.unwrap();
        assert_eq!(view.api_key_last4, None);
        assert_eq!(view.base_url.as_deref(), Some("http://127.0.0.1:11434/v1"));

        settings.reset(&user).await.unwrap();
        assert_eq!(settings.view(&user).await.unwrap().source, LlmSource::Server);
    }

    #[tokio::test]
    async fn bad_choices_say_what_to_change() {
        let (_dir, settings, user) = settings().await;
        let gemini_without_key = settings.save(&user, &choice(LlmProvider::Gemini, "", "", "")).await;
        assert!(matches!(gemini_without_key, Err(LlmSettingsError::MissingKey)));
        for url in ["", "ftp://example.com", "https://user:pw@example.com/v1", "not a url"] {
            let result = settings.save(&user, &choice(LlmProvider::OpenaiCompatible, "m", url, "")).await;
            assert!(matches!(result, Err(LlmSettingsError::BaseUrl(_))), "{url}");
        }
        for url in ["http://127.0.0.1:8080/v1", "http://169.254.169.254/latest", "http://10.0.0.1/v1", "http://[::1]:11434/v1", "http://localhost:11434/v1"] {
            let result = settings.save(&user, &choice(LlmProvider::OpenaiCompatible, "m", url, "")).await;
            assert!(matches!(result, Err(LlmSettingsError::PrivateEndpoint(_))), "{url}");
        }
        let spaced = settings.save(&user, &choice(LlmProvider::OpenaiCompatible, "two words", "https://api.openai.com/v1", "")).await;
        assert!(matches!(spaced, Err(LlmSettingsError::Model(_))));
        let multiline = settings.save(&user, &choice(LlmProvider::Gemini, "", "", "a\nb")).await;
        assert!(matches!(multiline, Err(LlmSettingsError::MalformedKey)));
        assert_eq!(settings.view(&user).await.unwrap().source, LlmSource::Server, "nothing was saved");
    }
}
