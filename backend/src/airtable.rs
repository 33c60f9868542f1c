//! Airtable Web API client: records, the Meta API, errors, the shared rate limiter, the schema
//! cache, the formula builder and the field conditions built on it.
//!
//! The same client talks to `https://api.airtable.com` and to the local sandbox; only the
//! API address and the token differ.

mod error;
pub mod filters;
pub mod formula;
mod limiter;
mod meta;
mod records;
mod schema_cache;
mod transport;

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use url::Url;

pub use error::AirtableError;
pub use limiter::{BaseLimitState, Limiter, LimiterSettings};
pub use records::{CellFormat, ListQuery, RecordUpdate, UpdateMode, Upserted};
pub use transport::Repeat;

use schema_cache::SchemaCache;

use crate::analytics::Analytics;
use crate::auth::UserId;

/// Airtable's own address; `PYAIRTABLE_AIRTABLE_API_URL` can point elsewhere (a proxy).
pub const AIRTABLE_API_URL: &str = "https://api.airtable.com";

/// Airtable accepts at most this many records in one write.
pub const RECORDS_PER_WRITE: usize = 10;

/// A GET listing longer than this is sent as `POST …/listRecords` instead, as Airtable advises.
pub const MAX_URL_LEN: usize = 16_000;

/// How retries behave.
#[derive(Debug, Clone)]
pub struct RetrySettings {
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The first backoff; each later one doubles, with jitter.
    pub backoff_base: Duration,
    /// How long one request may take.
    pub timeout: Duration,
}

/// Everything the client's behaviour depends on.
#[derive(Debug, Clone)]
pub struct AirtableSettings {
    pub limits: LimiterSettings,
    pub retry: RetrySettings,
    /// How long a base's schema is reused before it is fetched again.
    pub schema_ttl: Duration,
}

impl Default for AirtableSettings {
    fn default() -> Self {
        Self { limits: LimiterSettings::default(), retry: RetrySettings::default(), schema_ttl: Duration::from_secs(300) }
    }
}

/// The process-wide Airtable service: one HTTP pool, one limiter, one schema cache.
#[derive(Clone)]
pub struct Airtable {
    http: reqwest::Client,
    limiter: Limiter,
    schemas: SchemaCache,
    retry: RetrySettings,
    analytics: Analytics,
}

impl Airtable {
    pub fn new(settings: &AirtableSettings) -> Self {
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("pyairtable/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .expect("the HTTP client's TLS setup is built in");
        Self {
            http,
            limiter: Limiter::new(&settings.limits),
            schemas: SchemaCache::new(settings.schema_ttl),
            retry: settings.retry.clone(),
            analytics: Analytics::default(),
        }
    }

    /// The same service, recording every request in `analytics`.
    pub fn with_analytics(mut self, analytics: Analytics) -> Self {
        self.analytics = analytics;
        self
    }

    /// A client acting with `token` against the API at `api_url` (Airtable's or the sandbox's).
    pub fn client(&self, api_url: Url, token: SecretString) -> Client {
        let token_key = fingerprint(&api_url, &token);
        Client { airtable: self.clone(), api_url, token: Arc::new(token), token_key, user_id: None }
    }

    /// The shared limiter, for the status page.
    pub fn limiter(&self) -> &Limiter {
        &self.limiter
    }
}

/// One user's connection to one Airtable API. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    airtable: Airtable,
    api_url: Url,
    token: Arc<SecretString>,
    /// Identifies the token in the limiter and the schema cache without holding it in clear.
    token_key: String,
    /// Whose requests these are, for analytics.
    user_id: Option<Arc<str>>,
}

impl Client {
    /// The API address this client talks to.
    pub fn api_url(&self) -> &Url {
        &self.api_url
    }

    /// The same client, with its requests counted as `user`'s.
    pub fn acting_for(mut self, user: &UserId) -> Self {
        self.user_id = Some(Arc::from(user.as_str()));
        self
    }

    fn token(&self) -> &str {
        self.token.expose_secret()
    }
}

/// A short, stable, one-way name for a token on one API.
fn fingerprint(api_url: &Url, token: &SecretString) -> String {
    let digest = Sha256::new().chain_update(api_url.as_str()).chain_update([0]).chain_update(token.expose_secret()).finalize();
    hex::encode(&digest[..12])
}
