//! The sandbox: an Airtable-compatible Web API stored in the app's own database, so users
//! without an Airtable token (and every test) work against the same client code.
//!
//! HTTP parsing lives in the server's `sandbox` routes; this module holds what the API does:
//! tokens, limits, the schema, listing with formulas, and validated writes.

pub mod cells;
mod demo;
mod error;
mod faults;
pub mod formula;
mod gate;
pub mod harness;
mod ids;
mod listing;
mod schema;
mod store;
mod tokens;
mod writes;

#[cfg(test)]
mod proptests;

use std::sync::Arc;
use std::time::Duration;

use crate::auth::UserId;
use crate::db::Db;
use crate::model::airtable::Table;
use crate::secrets::Cipher;

pub use demo::DEMO_BASE_NAME;
pub use error::SandboxError;
pub use faults::{FaultPlan, WriteFault};
use faults::Faults;
pub use tokens::SandboxTokens;
pub use writes::{WriteRequest, json_object};

use gate::Gate;
use store::Store;

/// Airtable's limits, enforced by default; each can be configured.
#[derive(Debug, Clone)]
pub struct SandboxSettings {
    pub records_per_write: usize,
    /// 0 turns the limit off.
    pub requests_per_second_per_base: u32,
    /// 0 turns the limit off.
    pub requests_per_second_per_token: u32,
    /// How long a base refuses every request after going over its limit.
    pub penalty: Duration,
    pub max_page_size: usize,
    /// How long a listing's offset stays valid after its first page.
    pub offset_ttl: Duration,
    /// A fault to inject into one write; for tests only.
    pub fault: Option<FaultPlan>,
}

impl Default for SandboxSettings {
    fn default() -> Self {
        Self {
            records_per_write: 10,
            requests_per_second_per_base: 5,
            requests_per_second_per_token: 50,
            penalty: Duration::from_secs(30),
            max_page_size: 100,
            offset_ttl: Duration::from_secs(600),
            fault: None,
        }
    }
}

/// How many listings may evaluate a `filterByFormula` at once, each on a blocking thread; the
/// machine's cores, so formulas cannot take every thread the server has.
fn evaluators() -> usize {
    std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
}

/// The sandbox service. Cheap to clone.
#[derive(Clone)]
pub struct Sandbox {
    store: Store,
    pub tokens: SandboxTokens,
    gate: Gate,
    settings: SandboxSettings,
    /// Permits for formula evaluations running at once; see [`evaluators`].
    evaluators: Arc<tokio::sync::Semaphore>,
    faults: Faults,
    /// Held while a user's first use makes their demo base and token.
    first_use: Arc<tokio::sync::Mutex<()>>,
}

impl Sandbox {
    pub fn new(db: Db, cipher: Cipher, settings: SandboxSettings) -> Self {
        let gate = Gate::new(settings.requests_per_second_per_base, settings.requests_per_second_per_token, settings.penalty);
        let evaluators = Arc::new(tokio::sync::Semaphore::new(evaluators()));
        let faults = Faults::new(settings.fault);
        Self { store: Store::new(db.clone()), tokens: SandboxTokens::new(db, cipher), gate, settings, evaluators, faults, first_use: Arc::default() }
    }

    /// Counts a record write; the fault to inject into it, if the settings plan one for it.
    pub fn write_fault(&self) -> Option<WriteFault> {
        self.faults.next_write()
    }

    pub fn settings(&self) -> &SandboxSettings {
        &self.settings
    }

    /// Checks the bearer token, that its owner owns `base`, and the rate limits of one API
    /// request, and returns its owner. A base's limit counts only its owner's requests, so
    /// another user cannot use it up.
    ///
    /// # Errors
    /// 401 for an unknown token, 403 for a base the owner does not have, 429 over a limit.
    pub async fn admit(&self, bearer: Option<&str>, base: Option<&str>) -> Result<UserId, SandboxError> {
        let owner = self.tokens.owner(bearer.ok_or_else(SandboxError::unauthenticated)?).await?;
        self.gate.admit_token(owner.as_str())?;
        if let Some(base) = base {
            self.store.require_base(&owner, base).await?;
            self.gate.admit_base(base)?;
        }
        Ok(owner)
    }

    /// The user's token, and on first use their demo base as well.
    ///
    /// # Errors
    /// Database failures.
    pub async fn provision(&self, user: &UserId) -> Result<secrecy::SecretString, SandboxError> {
        if let Some(token) = self.tokens.existing(user).await? {
            return Ok(token);
        }
        // The demo base is made before the token, so a request racing this one waits here
        // instead of finding no bases; one at a time, so it is made once.
        let _first_use = self.first_use.lock().await;
        if self.store.bases(user).await?.is_empty() {
            demo::seed(self, user).await?;
        }
        self.tokens.token_for(user).await
    }

    /// Loads the owner's base and one of its tables (by ID or name).
    async fn table(&self, owner: &UserId, base: &str, table: &str) -> Result<Table, SandboxError> {
        self.store.require_base(owner, base).await?;
        let tables = self.store.tables(base).await?;
        find_table(&tables, table).cloned()
    }
}

/// Finds a table by ID or exact name, as Airtable resolves the `{tableIdOrName}` of a path.
fn find_table<'a>(tables: &'a [Table], table: &str) -> Result<&'a Table, SandboxError> {
    tables
        .iter()
        .find(|t| t.id.as_str() == table)
        .or_else(|| tables.iter().find(|t| t.name == table))
        .ok_or_else(|| SandboxError::table_not_found(table))
}
