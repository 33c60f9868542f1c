//! The services every request handler and server function reaches through context.

use std::path::PathBuf;

use secrecy::{SecretBox, SecretString};
use url::Url;

use crate::airtable::{Airtable, AirtableSettings};
use crate::analytics::{Analytics, AnalyticsError};
use crate::auth::Auth;
use crate::chat::{Chat, ChatParts, ChatSettings};
use crate::connections::Connections;
use crate::db::Db;
use crate::files::{FileSettings, Files};
use crate::health::{DatabaseCheck, Health};
use crate::jobs::{Jobs, JobsCheck};
use crate::model::analytics::StatusReport;
use crate::model::auth::RegistrationMode;
use crate::llm::{AllowedHosts, HttpPolicy, Llm, LlmEndpoint, LlmSettings};
use crate::sagas::Sagas;
use crate::sandbox::{Sandbox, SandboxSettings};
use crate::secrets::Cipher;
use crate::tools::Catalog;
use crate::workflows::{WorkflowParts, WorkflowSettings, Workflows};

/// What wiring the services needs beyond the database.
pub struct ServiceSettings<'a> {
    pub jwt_secret: &'a SecretString,
    pub encryption_key: &'a SecretBox<[u8; 32]>,
    pub airtable: AirtableSettings,
    /// Airtable's API address (or a proxy's).
    pub airtable_api_url: Url,
    pub sandbox: SandboxSettings,
    /// This server's own `/sandbox` address, for calls made on a user's behalf.
    pub sandbox_api_url: Url,
    /// The address people and their scripts use to reach this server.
    pub public_url: Url,
    /// The LLM for users who chose none.
    pub llm_default: LlmEndpoint,
    /// Timeouts and retries for LLM providers.
    pub llm_http: HttpPolicy,
    /// Local or private hosts users' own LLM endpoints may reach.
    pub llm_allowed_hosts: AllowedHosts,
    pub chat: ChatSettings,
    /// Who may register.
    pub registration: RegistrationMode,
    /// Where uploaded files are kept, and their limits.
    pub files_dir: PathBuf,
    pub files: FileSettings,
    /// Workflows' limits, history and allowed hosts.
    pub workflows: WorkflowSettings,
}

/// Shared, cheaply cloned handles to every backend service.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub health: Health,
    pub auth: Auth,
    pub airtable: Airtable,
    pub sandbox: Sandbox,
    pub connections: Connections,
    pub llm_settings: LlmSettings,
    /// Every Airtable tool, for the chat, MCP and the REST API.
    pub tools: Catalog,
    pub chat: Chat,
    pub analytics: Analytics,
    /// Background jobs; `start` them once the server is up.
    pub jobs: Jobs,
    /// Every record write, logged so that it finishes or is undone.
    pub sagas: Sagas,
    /// Uploaded files.
    pub files: Files,
    /// Workflows and their runs.
    pub workflows: Workflows,
    /// Airtable's API address, where users' own tokens are used.
    pub airtable_api_url: Url,
    /// The address people and their scripts use to reach this server.
    pub public_url: Url,
}

impl Services {
    /// Wires the services over an open, migrated database and its job queues.
    pub fn new(db: Db, jobs: Jobs, settings: ServiceSettings<'_>) -> Self {
        let health = Health::new().with_check(DatabaseCheck(db.clone())).with_check(JobsCheck(jobs.clone()));
        let airtable = Airtable::new(&settings.airtable);
        let analytics = Analytics::new(db.clone(), health.clone(), {
            let limiter = airtable.limiter().clone();
            Box::new(move || limiter.states())
        });
        let airtable = airtable.with_analytics(analytics.clone());
        let auth = Auth::new(db.clone(), settings.jwt_secret, analytics.clone(), settings.public_url.clone())
            .with_registration(settings.registration);
        let cipher = Cipher::new(settings.encryption_key);
        let sandbox = Sandbox::new(db.clone(), cipher.clone(), settings.sandbox);
        let llm_settings =
            LlmSettings::new(db.clone(), cipher.clone(), settings.llm_default).with_allowed_hosts(settings.llm_allowed_hosts.clone());
        let connections = Connections::new(
            db.clone(),
            cipher.clone(),
            airtable.clone(),
            sandbox.clone(),
            settings.airtable_api_url.clone(),
            settings.sandbox_api_url,
        );
        let sagas = Sagas::new(db.clone(), connections.clone(), jobs.clone(), analytics.clone());
        let files = Files::new(db.clone(), settings.files_dir, settings.files, sagas.clone());
        let tools = Catalog::new()
            .with_analytics(analytics.clone())
            .with_recorder(std::sync::Arc::new(sagas.clone()))
            .with_files(std::sync::Arc::new(files.clone()));
        let parts = ChatParts {
            llm: Llm::with_allowed_hosts(settings.llm_http, settings.llm_allowed_hosts),
            llm_settings: llm_settings.clone(),
            connections: connections.clone(),
            catalog: tools.clone(),
            analytics: analytics.clone(),
            files: files.clone(),
        };
        let llm = parts.llm.clone();
        let chat = Chat::new(db.clone(), parts, settings.chat);
        let workflows = Workflows::new(
            db.clone(),
            WorkflowParts {
                catalog: tools.clone(),
                connections: connections.clone(),
                llm,
                llm_settings: llm_settings.clone(),
                chat: chat.clone(),
                sagas: sagas.clone(),
                jobs: jobs.clone(),
                cipher: cipher.clone(),
            },
            settings.workflows,
            settings.public_url.clone(),
        );
        tools.set_workflows(std::sync::Arc::new(workflows.handle()));
        files.set_upload_hook(std::sync::Arc::new(workflows.handle()));
        Self {
            db,
            health,
            auth,
            airtable,
            sandbox,
            connections,
            llm_settings,
            tools,
            chat,
            analytics,
            jobs,
            sagas,
            files,
            workflows,
            airtable_api_url: settings.airtable_api_url,
            public_url: settings.public_url,
        }
    }

    /// The status page's report, with the job queue's figures beside analytics' own.
    ///
    /// # Errors
    /// `Db` when there is no database.
    pub async fn status(&self) -> Result<StatusReport, AnalyticsError> {
        let jobs = match self.jobs.stats().await {
            Ok(stats) => Some(stats),
            Err(e) => {
                tracing::warn!(error = %e, "could not read the job queue's figures");
                None
            }
        };
        self.analytics.status(jobs).await
    }
}
