//! Configuration: the only reader of settings, from the command line, the environment
//! (`PYAIRTABLE_*` and `DATABASE_URL`), `.env`, and `pyairtable.toml`, in that order of precedence.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use std::time::Duration;

use backend::auth::client_ip::TrustedProxies;
use backend::chat::ChatSettings;
use backend::files::FileSettings;
use backend::workflows::WorkflowSettings;
use backend::llm::{AllowedHosts, EndpointOrigin, HttpPolicy, LlmEndpoint};
use backend::model::auth::RegistrationMode;
use backend::model::llm::LlmProvider;
use backend::sandbox::{FaultPlan, SandboxSettings};
use backend::secrets::{self, SecretError};

use crate::metrics::MetricsAccess;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::Deserialize;
use tracing_subscriber::EnvFilter;
use url::Url;

/// The configuration file read when `--config` is not given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "pyairtable.toml";

// Every setting as typed in. The doc comment of each field is what `--help` prints, so it is the
// settings' documentation. (A doc comment here would replace the command's own description.)
// In `pyairtable.toml` the keys are the field names, e.g. `data_dir = "/var/lib/pyairtable"`.
#[derive(Clone, Default, clap::Args, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port to listen on [default: 127.0.0.1:8000]
    #[arg(long, env = "PYAIRTABLE_BIND", value_name = "ADDR:PORT", global = true)]
    pub bind: Option<String>,

    /// URL people use to reach this server; https makes session cookies Secure [default: http://<bind>]
    #[arg(long, env = "PYAIRTABLE_PUBLIC_URL", value_name = "URL", global = true)]
    pub public_url: Option<String>,

    /// Folder for the SQLite database and the generated secrets [default: ./data]
    #[arg(long, env = "PYAIRTABLE_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Database: sqlite://FILE or postgres://USER:PASSWORD@HOST/DB [default: sqlite://<data-dir>/pyairtable.db]
    #[arg(long, env = "DATABASE_URL", value_name = "URL", hide_env_values = true, global = true)]
    pub database_url: Option<String>,

    /// Folder holding the built web assets (pkg/pyairtable.js, .wasm, .css) [default: target/site]
    #[arg(long, env = "PYAIRTABLE_SITE_ROOT", value_name = "DIR", global = true)]
    pub site_root: Option<PathBuf>,

    /// Log format: text (for people) or json (for log collectors) [default: text]
    #[arg(long, env = "PYAIRTABLE_LOG_FORMAT", value_name = "FORMAT", global = true)]
    pub log_format: Option<String>,

    /// Which log lines to keep, as a tracing filter such as `info` or `info,server=debug` [default: info]
    #[arg(long, env = "PYAIRTABLE_LOG", value_name = "FILTER", global = true)]
    pub log: Option<String>,

    /// Secret that signs access tokens; prefer the environment variable over the option [default: generated into <data-dir>/jwt_secret]
    #[arg(long, env = "PYAIRTABLE_JWT_SECRET", value_name = "SECRET", hide_env_values = true, global = true)]
    pub jwt_secret: Option<String>,

    /// Base64 of 32 bytes that encrypts stored tokens and keys; prefer the environment variable [default: generated into <data-dir>/encryption_key]
    #[arg(long, env = "PYAIRTABLE_ENCRYPTION_KEY", value_name = "BASE64", hide_env_values = true, global = true)]
    pub encryption_key: Option<String>,

    /// Airtable's Web API address; point it at a proxy if you use one [default: https://api.airtable.com]
    #[arg(long, env = "PYAIRTABLE_AIRTABLE_API_URL", value_name = "URL", global = true)]
    pub airtable_api_url: Option<String>,

    /// Sandbox: records accepted in one write, as Airtable allows [default: 10]
    #[arg(long, env = "PYAIRTABLE_SANDBOX_RECORDS_PER_WRITE", value_name = "N", global = true)]
    pub sandbox_records_per_write: Option<String>,

    /// Sandbox: requests per second per base before a 429; 0 turns the limit off [default: 5]
    #[arg(long, env = "PYAIRTABLE_SANDBOX_REQUESTS_PER_SECOND", value_name = "N", global = true)]
    pub sandbox_requests_per_second: Option<String>,

    /// Sandbox: seconds a base refuses requests after a 429 [default: 30]
    #[arg(long, env = "PYAIRTABLE_SANDBOX_PENALTY_SECONDS", value_name = "SECONDS", global = true)]
    pub sandbox_penalty_seconds: Option<String>,

    /// Sandbox: largest page of a listing [default: 100]
    #[arg(long, env = "PYAIRTABLE_SANDBOX_PAGE_SIZE", value_name = "N", global = true)]
    pub sandbox_page_size: Option<String>,

    /// Sandbox, for tests only: refuse the Nth record write (fail:N), or apply it and drop its answer (drop:N)
    #[arg(long, env = "PYAIRTABLE_SANDBOX_FAULT", value_name = "FAULT", global = true)]
    pub sandbox_fault: Option<String>,

    /// LLM for users who chose none in Settings: offline, gemini or openai_compatible [default: offline]
    #[arg(long, env = "PYAIRTABLE_LLM_PROVIDER", value_name = "PROVIDER", global = true)]
    pub llm_provider: Option<String>,

    /// The default provider's model [default: offline-assistant, gemini-2.5-flash or gpt-4o-mini]
    #[arg(long, env = "PYAIRTABLE_LLM_MODEL", value_name = "MODEL", global = true)]
    pub llm_model: Option<String>,

    /// The default provider's API address, for a proxy or a local server [default: https://api.openai.com/v1, or Gemini's own]
    #[arg(long, env = "PYAIRTABLE_LLM_BASE_URL", value_name = "URL", global = true)]
    pub llm_base_url: Option<String>,

    /// The default provider's API key; prefer the environment variable over the option
    #[arg(long, env = "PYAIRTABLE_LLM_API_KEY", value_name = "KEY", hide_env_values = true, global = true)]
    pub llm_api_key: Option<String>,

    /// Local or private hosts that users' own LLM endpoints may reach, such as an Ollama on this machine, as host names or IP addresses with an optional :port, separated by commas; other loopback, private, link-local and metadata addresses are refused [default: none]
    #[arg(long, env = "PYAIRTABLE_LLM_ALLOWED_HOSTS", value_name = "HOSTS", global = true)]
    pub llm_allowed_hosts: Option<String>,

    /// Prices in USD per million tokens, as model=input/output/cached entries separated by commas, over the built-in table [default: gemini-2.5-flash=0.30/2.50/0.03 and other list prices]
    #[arg(long, env = "PYAIRTABLE_LLM_PRICES", value_name = "TABLE", global = true)]
    pub llm_prices: Option<String>,

    /// Seconds an LLM provider may take to answer, or stay silent while streaming [default: 120]
    #[arg(long, env = "PYAIRTABLE_LLM_TIMEOUT_SECONDS", value_name = "SECONDS", global = true)]
    pub llm_timeout_seconds: Option<String>,

    /// Model calls one chat message may take before the turn stops [default: 8]
    #[arg(long, env = "PYAIRTABLE_CHAT_MAX_STEPS", value_name = "N", global = true)]
    pub chat_max_steps: Option<String>,

    /// Days raw analytics events are kept; the hourly rollups the dashboard reads are kept for good [default: 90]
    #[arg(long, env = "PYAIRTABLE_ANALYTICS_RETENTION_DAYS", value_name = "DAYS", global = true)]
    pub analytics_retention_days: Option<String>,

    /// The largest file an upload may be, in megabytes [default: 50]
    #[arg(long, env = "PYAIRTABLE_UPLOAD_MAX_MB", value_name = "MB", global = true)]
    pub upload_max_mb: Option<String>,

    /// Days an uploaded file is kept before it is deleted [default: 30]
    #[arg(long, env = "PYAIRTABLE_FILE_KEEP_DAYS", value_name = "DAYS", global = true)]
    pub file_keep_days: Option<String>,

    /// Local or private hosts that workflows' HTTP steps may reach, in the same form as PYAIRTABLE_LLM_ALLOWED_HOSTS; other loopback, private, link-local and metadata addresses are refused [default: none]
    #[arg(long, env = "PYAIRTABLE_WORKFLOW_ALLOWED_HOSTS", value_name = "HOSTS", global = true)]
    pub workflow_allowed_hosts: Option<String>,

    /// Failed runs in a row after which a workflow turns itself off, or 0 for never [default: 5]
    #[arg(long, env = "PYAIRTABLE_WORKFLOW_DISABLE_AFTER", value_name = "N", global = true)]
    pub workflow_disable_after: Option<String>,

    /// Days a finished workflow run is kept [default: 30]
    #[arg(long, env = "PYAIRTABLE_WORKFLOW_KEEP_DAYS", value_name = "DAYS", global = true)]
    pub workflow_keep_days: Option<String>,

    /// Finished runs kept per workflow, newest first [default: 200]
    #[arg(long, env = "PYAIRTABLE_WORKFLOW_KEEP_RUNS", value_name = "N", global = true)]
    pub workflow_keep_runs: Option<String>,

    /// Seconds between looks for new or changed records, for record triggers; each look is one Airtable request per table [default: 30]
    #[arg(long, env = "PYAIRTABLE_WORKFLOW_RECORD_POLL_SECONDS", value_name = "SECONDS", global = true)]
    pub workflow_record_poll_seconds: Option<String>,

    /// Bearer token that /metrics requires (16+ characters); without one, /metrics answers only when the server listens on loopback
    #[arg(long, env = "PYAIRTABLE_METRICS_TOKEN", value_name = "TOKEN", hide_env_values = true, global = true)]
    pub metrics_token: Option<String>,

    /// Reverse proxies whose X-Forwarded-For and Forwarded headers name the client, as comma-separated CIDR blocks or addresses such as 127.0.0.1,10.0.0.0/8 [default: none, the socket peer is the client]
    #[arg(long, env = "PYAIRTABLE_TRUSTED_PROXIES", value_name = "CIDRS", global = true)]
    pub trusted_proxies: Option<String>,

    /// Who may create an account: open (anyone), invite (with an administrator's invitation link) or closed (administrators use `pyairtable user create`) [default: open when listening on loopback, invite otherwise]
    #[arg(long, env = "PYAIRTABLE_REGISTRATION", value_name = "MODE", global = true)]
    pub registration: Option<String>,
}

impl Settings {
    /// Keeps every setting given here, and takes the rest from `lower`.
    pub fn or(self, lower: Settings) -> Settings {
        Settings {
            bind: self.bind.or(lower.bind),
            public_url: self.public_url.or(lower.public_url),
            data_dir: self.data_dir.or(lower.data_dir),
            database_url: self.database_url.or(lower.database_url),
            site_root: self.site_root.or(lower.site_root),
            log_format: self.log_format.or(lower.log_format),
            log: self.log.or(lower.log),
            jwt_secret: self.jwt_secret.or(lower.jwt_secret),
            encryption_key: self.encryption_key.or(lower.encryption_key),
            airtable_api_url: self.airtable_api_url.or(lower.airtable_api_url),
            sandbox_records_per_write: self.sandbox_records_per_write.or(lower.sandbox_records_per_write),
            sandbox_requests_per_second: self.sandbox_requests_per_second.or(lower.sandbox_requests_per_second),
            sandbox_penalty_seconds: self.sandbox_penalty_seconds.or(lower.sandbox_penalty_seconds),
            sandbox_page_size: self.sandbox_page_size.or(lower.sandbox_page_size),
            sandbox_fault: self.sandbox_fault.or(lower.sandbox_fault),
            llm_provider: self.llm_provider.or(lower.llm_provider),
            llm_model: self.llm_model.or(lower.llm_model),
            llm_base_url: self.llm_base_url.or(lower.llm_base_url),
            llm_api_key: self.llm_api_key.or(lower.llm_api_key),
            llm_allowed_hosts: self.llm_allowed_hosts.or(lower.llm_allowed_hosts),
            llm_prices: self.llm_prices.or(lower.llm_prices),
            llm_timeout_seconds: self.llm_timeout_seconds.or(lower.llm_timeout_seconds),
            chat_max_steps: self.chat_max_steps.or(lower.chat_max_steps),
            analytics_retention_days: self.analytics_retention_days.or(lower.analytics_retention_days),
            upload_max_mb: self.upload_max_mb.or(lower.upload_max_mb),
            file_keep_days: self.file_keep_days.or(lower.file_keep_days),
            workflow_allowed_hosts: self.workflow_allowed_hosts.or(lower.workflow_allowed_hosts),
            workflow_disable_after: self.workflow_disable_after.or(lower.workflow_disable_after),
            workflow_keep_days: self.workflow_keep_days.or(lower.workflow_keep_days),
            workflow_keep_runs: self.workflow_keep_runs.or(lower.workflow_keep_runs),
            workflow_record_poll_seconds: self.workflow_record_poll_seconds.or(lower.workflow_record_poll_seconds),
            metrics_token: self.metrics_token.or(lower.metrics_token),
            trusted_proxies: self.trusted_proxies.or(lower.trusted_proxies),
            registration: self.registration.or(lower.registration),
        }
    }

    /// Reads a TOML configuration file.
    ///
    /// # Errors
    /// `File` when it can't be read or has an unknown key or a wrong type.
    pub fn from_file(path: &Path) -> Result<Settings, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
            path: path.to_owned(),
            problem: e.to_string(),
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::File {
            path: path.to_owned(),
            problem: e.message().to_owned(),
        })
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Validated configuration, with every default applied.
pub struct Config {
    pub bind: SocketAddr,
    pub public_url: Url,
    pub data_dir: PathBuf,
    /// May hold a password: never logged.
    pub database_url: SecretString,
    pub site_root: PathBuf,
    pub log_format: LogFormat,
    pub log_filter: String,
    pub airtable_api_url: Url,
    pub sandbox: SandboxSettings,
    /// The LLM for users who chose none; holds the default API key, so never logged.
    pub llm_default: LlmEndpoint,
    pub llm_http: HttpPolicy,
    /// Hosts users' endpoints may reach though local or private (`PYAIRTABLE_LLM_ALLOWED_HOSTS`).
    pub llm_allowed_hosts: AllowedHosts,
    pub chat: ChatSettings,
    /// Days raw analytics events are kept (`PYAIRTABLE_ANALYTICS_RETENTION_DAYS`, at least 1).
    pub analytics_retention_days: u32,
    /// Upload size limit and how long files are kept (`PYAIRTABLE_UPLOAD_MAX_MB`,
    /// `PYAIRTABLE_FILE_KEEP_DAYS`).
    pub files: FileSettings,
    /// Workflows' limits, history and allowed hosts (`PYAIRTABLE_WORKFLOW_*`).
    pub workflows: WorkflowSettings,
    /// Who may read `/metrics` (`PYAIRTABLE_METRICS_TOKEN`, and whether `bind` is loopback).
    pub metrics_access: MetricsAccess,
    /// Proxies whose forwarding headers are believed (`PYAIRTABLE_TRUSTED_PROXIES`, CIDR blocks
    /// separated by commas; empty by default, so the socket peer is the client). Login throttling
    /// and registration limits key on the client address resolved through them.
    pub trusted_proxies: TrustedProxies,
    /// Who may register (`PYAIRTABLE_REGISTRATION`): anyone by default only on loopback, where
    /// the first visitor, who becomes the administrator, is the operator.
    pub registration: RegistrationMode,
    jwt_secret: Option<SecretString>,
    encryption_key: Option<SecretBox<[u8; 32]>>,
}

/// Secrets the server needs; generated into the data directory when not configured.
pub struct Secrets {
    pub jwt_secret: SecretString,
    pub encryption_key: SecretBox<[u8; 32]>,
}

/// What is wrong with the configuration, and how to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{setting} is {value:?}, {problem}.\n  Fix: {fix}")]
    Invalid {
        setting: &'static str,
        value: String,
        problem: &'static str,
        fix: &'static str,
    },
    #[error("{setting}: {problem}")]
    Secret {
        setting: &'static str,
        #[source]
        problem: SecretError,
    },
    #[error("the configuration file {path} can't be used: {problem}")]
    File { path: PathBuf, problem: String },
}

impl Config {
    /// Reads the configuration file, if any, beneath `settings`, then validates and applies defaults.
    ///
    /// An explicit `config_file` must exist; the default `pyairtable.toml` is optional.
    ///
    /// # Errors
    /// A `ConfigError` naming the setting, what is wrong, and the fix.
    pub fn load(settings: Settings, config_file: Option<&Path>) -> Result<Config, ConfigError> {
        let file = match config_file {
            Some(path) => Settings::from_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                Settings::from_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => Settings::default(),
        };
        Config::from_settings(settings.or(file))
    }

    /// Validates settings and applies defaults, without touching the file system.
    ///
    /// # Errors
    /// A `ConfigError` naming the first setting that is wrong.
    pub fn from_settings(s: Settings) -> Result<Config, ConfigError> {
        let bind_text = s.bind.unwrap_or_else(|| "127.0.0.1:8000".into());
        let bind: SocketAddr = bind_text.parse().map_err(|_| ConfigError::Invalid {
            setting: "PYAIRTABLE_BIND",
            value: bind_text.clone(),
            problem: "which is not an IP address and port",
            fix: "use a value such as 127.0.0.1:8000, or 0.0.0.0:8000 to listen on every interface",
        })?;

        let public_text = s.public_url.unwrap_or_else(|| format!("http://{bind}"));
        let public_url = web_url(
            public_text,
            "PYAIRTABLE_PUBLIC_URL",
            "use the address people type to reach this server, such as https://airtable.example.com",
        )?;

        let data_dir = s.data_dir.unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = s
            .database_url
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("pyairtable.db").display()));
        if backend::db::Dialect::of_url(&database_url).is_err() {
            return Err(ConfigError::Invalid {
                setting: "DATABASE_URL",
                value: redact_password(&database_url),
                problem: "which is neither a SQLite nor a PostgreSQL URL",
                fix: "use sqlite://./data/pyairtable.db, or postgres://user:password@host:5432/database",
            });
        }

        let log_format = match s.log_format.as_deref().unwrap_or("text") {
            "text" => LogFormat::Text,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::Invalid {
                    setting: "PYAIRTABLE_LOG_FORMAT",
                    value: other.into(),
                    problem: "which is not a known log format",
                    fix: "use text or json",
                });
            }
        };
        let log_filter = s.log.unwrap_or_else(|| "info".into());
        if EnvFilter::try_new(&log_filter).is_err() {
            return Err(ConfigError::Invalid {
                setting: "PYAIRTABLE_LOG",
                value: log_filter,
                problem: "which is not a valid log filter",
                fix: "use a level such as info or debug, or per-module levels such as info,server=debug",
            });
        }

        let jwt_secret = match s.jwt_secret {
            Some(secret) if secret.trim().len() < 32 => {
                return Err(ConfigError::Invalid {
                    setting: "PYAIRTABLE_JWT_SECRET",
                    value: "(hidden)".into(),
                    problem: "shorter than 32 characters",
                    fix: "use a long random value such as the output of `openssl rand -base64 32`, or unset it to have one generated",
                });
            }
            other => other.map(SecretString::from),
        };
        let encryption_key = s
            .encryption_key
            .map(|text| secrets::decode_key(&text, "the encryption key"))
            .transpose()
            .map_err(|problem| ConfigError::Secret { setting: "PYAIRTABLE_ENCRYPTION_KEY", problem })?;

        let airtable_text = s.airtable_api_url.unwrap_or_else(|| backend::airtable::AIRTABLE_API_URL.into());
        let airtable_api_url = web_url(
            airtable_text,
            "PYAIRTABLE_AIRTABLE_API_URL",
            "leave it unset for https://api.airtable.com, or use your proxy's address",
        )?;

        let defaults = SandboxSettings::default();
        let sandbox = SandboxSettings {
            records_per_write: count(s.sandbox_records_per_write, "PYAIRTABLE_SANDBOX_RECORDS_PER_WRITE", 1, defaults.records_per_write)?,
            requests_per_second_per_base: count(
                s.sandbox_requests_per_second,
                "PYAIRTABLE_SANDBOX_REQUESTS_PER_SECOND",
                0,
                defaults.requests_per_second_per_base as usize,
            )? as u32,
            penalty: Duration::from_secs(
                count(s.sandbox_penalty_seconds, "PYAIRTABLE_SANDBOX_PENALTY_SECONDS", 0, defaults.penalty.as_secs() as usize)? as u64,
            ),
            max_page_size: count(s.sandbox_page_size, "PYAIRTABLE_SANDBOX_PAGE_SIZE", 1, defaults.max_page_size)?,
            fault: match s.sandbox_fault.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                None => None,
                Some(text) => Some(FaultPlan::parse(text).ok_or_else(|| ConfigError::Invalid {
                    setting: "PYAIRTABLE_SANDBOX_FAULT",
                    value: text.to_owned(),
                    problem: "which is not a fault plan",
                    fix: "use fail:N to refuse the Nth record write or drop:N to apply it and lose its answer, or leave it unset",
                })?),
            },
            ..defaults
        };

        let llm_default = llm_default(s.llm_provider, s.llm_model, s.llm_base_url, s.llm_api_key)?;
        let llm_http = HttpPolicy {
            timeout: Duration::from_secs(count(s.llm_timeout_seconds, "PYAIRTABLE_LLM_TIMEOUT_SECONDS", 1, 120)? as u64),
            ..HttpPolicy::default()
        };
        // The server's own endpoint above is the administrator's and is never filtered; this
        // list only widens what users' endpoints from Settings may reach.
        let llm_allowed_hosts = AllowedHosts::parse(s.llm_allowed_hosts.as_deref().unwrap_or_default()).map_err(|entry| {
            ConfigError::Invalid {
                setting: "PYAIRTABLE_LLM_ALLOWED_HOSTS",
                value: entry,
                problem: "which is not a host name or an IP address with an optional :port",
                fix: "list hosts separated by commas, such as 127.0.0.1:11434,ollama,[::1]",
            }
        })?;
        let chat_defaults = ChatSettings::default();
        let prices = match s.llm_prices {
            None => chat_defaults.prices.clone(),
            Some(text) => chat_defaults.prices.clone().with_overrides(&text).map_err(|entry| ConfigError::Invalid {
                setting: "PYAIRTABLE_LLM_PRICES",
                value: entry,
                problem: "which is not a model=input/output/cached entry",
                fix: "give prices in USD per million tokens, such as gemini-2.5-flash=0.30/2.50/0.03, my-model=1/2/0.5",
            })?,
        };
        let chat = ChatSettings {
            max_steps: count(s.chat_max_steps, "PYAIRTABLE_CHAT_MAX_STEPS", 1, chat_defaults.max_steps)?,
            prices,
            ..chat_defaults
        };

        let analytics_retention_days =
            count(s.analytics_retention_days, "PYAIRTABLE_ANALYTICS_RETENTION_DAYS", 1, 90)? as u32;

        let files = FileSettings {
            max_bytes: count(s.upload_max_mb, "PYAIRTABLE_UPLOAD_MAX_MB", 1, 50)? as u64 * 1024 * 1024,
            keep_days: count(s.file_keep_days, "PYAIRTABLE_FILE_KEEP_DAYS", 1, 30)? as u32,
        };

        let workflow_allowed_hosts = AllowedHosts::parse(s.workflow_allowed_hosts.as_deref().unwrap_or_default()).map_err(|entry| {
            ConfigError::Invalid {
                setting: "PYAIRTABLE_WORKFLOW_ALLOWED_HOSTS",
                value: entry,
                problem: "which is not a host name or an IP address with an optional :port",
                fix: "list hosts separated by commas, such as 127.0.0.1:8080,intranet,[::1]",
            }
        })?;
        let workflow_defaults = WorkflowSettings::default();
        let workflows = WorkflowSettings {
            disable_after: count(s.workflow_disable_after, "PYAIRTABLE_WORKFLOW_DISABLE_AFTER", 0, workflow_defaults.disable_after as usize)? as u32,
            keep_runs_for: Duration::from_secs(count(s.workflow_keep_days, "PYAIRTABLE_WORKFLOW_KEEP_DAYS", 1, 30)? as u64 * 86_400),
            keep_runs: count(s.workflow_keep_runs, "PYAIRTABLE_WORKFLOW_KEEP_RUNS", 1, workflow_defaults.keep_runs as usize)? as u32,
            record_poll: Duration::from_secs(count(s.workflow_record_poll_seconds, "PYAIRTABLE_WORKFLOW_RECORD_POLL_SECONDS", 1, 30)? as u64),
            allowed_hosts: workflow_allowed_hosts,
            ..workflow_defaults
        };

        let metrics_access = match s.metrics_token.map(|t| t.trim().to_owned()) {
            Some(token) if token.len() < 16 => {
                return Err(ConfigError::Invalid {
                    setting: "PYAIRTABLE_METRICS_TOKEN",
                    value: "(hidden)".into(),
                    problem: "shorter than 16 characters",
                    fix: "use a long random value such as the output of `openssl rand -base64 24`, and send it as Authorization: Bearer <token> from the scraper",
                });
            }
            Some(token) => MetricsAccess::Token(SecretString::from(token)),
            None if bind.ip().is_loopback() => MetricsAccess::Open,
            None => MetricsAccess::Closed,
        };

        let proxies_text = s.trusted_proxies.unwrap_or_default();
        let trusted_proxies = TrustedProxies::parse(&proxies_text).map_err(|entry| ConfigError::Invalid {
            setting: "PYAIRTABLE_TRUSTED_PROXIES",
            value: entry,
            problem: "which is not an IP address or CIDR block",
            fix: "list your reverse proxies' addresses separated by commas, such as 127.0.0.1,10.0.0.0/8, or leave it unset",
        })?;

        let registration = match s.registration.as_deref() {
            None if bind.ip().is_loopback() => RegistrationMode::Open,
            None => RegistrationMode::Invite,
            Some(text) => RegistrationMode::parse(text).ok_or_else(|| ConfigError::Invalid {
                setting: "PYAIRTABLE_REGISTRATION",
                value: text.to_owned(),
                problem: "which is not a registration mode",
                fix: "use open, invite or closed",
            })?,
        };

        Ok(Config {
            registration,
            workflows,
            analytics_retention_days,
            files,
            metrics_access,
            trusted_proxies,
            airtable_api_url,
            sandbox,
            llm_default,
            llm_http,
            llm_allowed_hosts,
            chat,
            bind,
            public_url,
            database_url: SecretString::from(database_url),
            site_root: s.site_root.unwrap_or_else(|| PathBuf::from("target/site")),
            data_dir,
            log_format,
            log_filter,
            jwt_secret,
            encryption_key,
        })
    }

    /// Whether the public URL is https, so that cookies must be `Secure`.
    pub fn is_https(&self) -> bool {
        self.public_url.scheme() == "https"
    }

    /// Returns the configured secrets, generating each missing one into the data directory.
    ///
    /// # Errors
    /// `Secret` when a secret file can't be read or created.
    pub fn secrets(&self) -> Result<Secrets, ConfigError> {
        let jwt_secret = match &self.jwt_secret {
            Some(secret) => secret.clone(),
            None => secrets::load_or_create(&self.data_dir.join("jwt_secret"))
                .map_err(|problem| ConfigError::Secret { setting: "PYAIRTABLE_JWT_SECRET", problem })?,
        };
        let encryption_key = match &self.encryption_key {
            Some(key) => SecretBox::new(Box::new(*key.expose_secret())),
            None => {
                let setting = "PYAIRTABLE_ENCRYPTION_KEY";
                let stored = secrets::load_or_create(&self.data_dir.join("encryption_key"))
                    .map_err(|problem| ConfigError::Secret { setting, problem })?;
                secrets::decode_key(stored.expose_secret(), "the stored encryption key")
                    .map_err(|problem| ConfigError::Secret { setting, problem })?
            }
        };
        Ok(Secrets { jwt_secret, encryption_key })
    }
}

/// The server-wide LLM. Gemini without a key is refused here, at startup, rather than on a
/// user's first chat message.
fn llm_default(
    provider: Option<String>,
    model: Option<String>,
    base_url: Option<String>,
    api_key: Option<String>,
) -> Result<LlmEndpoint, ConfigError> {
    let provider_text = provider.unwrap_or_else(|| "offline".into());
    let provider = LlmProvider::parse(&provider_text).ok_or(ConfigError::Invalid {
        setting: "PYAIRTABLE_LLM_PROVIDER",
        value: provider_text,
        problem: "which is not a known provider",
        fix: "use offline, gemini or openai_compatible",
    })?;
    let api_key = api_key.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).map(SecretString::from);
    if provider == LlmProvider::Gemini && api_key.is_none() {
        return Err(ConfigError::Invalid {
            setting: "PYAIRTABLE_LLM_API_KEY",
            value: "(empty)".into(),
            problem: "but the gemini provider needs a key",
            fix: "set PYAIRTABLE_LLM_API_KEY to a key from aistudio.google.com/apikey, or use PYAIRTABLE_LLM_PROVIDER=offline",
        });
    }
    let fix = "use the API's address, such as https://api.openai.com/v1, http://127.0.0.1:11434/v1 or https://generativelanguage.googleapis.com/v1beta";
    let base_url = match (provider, base_url) {
        (LlmProvider::Offline, _) => None,
        (LlmProvider::OpenaiCompatible, None) => Some(web_url("https://api.openai.com/v1".into(), "PYAIRTABLE_LLM_BASE_URL", fix)?),
        // Gemini's own address unless a proxy or a local server stands in.
        (LlmProvider::Gemini, None) => None,
        (_, Some(text)) => Some(web_url(text, "PYAIRTABLE_LLM_BASE_URL", fix)?),
    };
    let model = model.map(|m| m.trim().to_owned()).filter(|m| !m.is_empty()).unwrap_or_else(|| provider.default_model().to_owned());
    Ok(LlmEndpoint { provider, model, base_url, api_key, origin: EndpointOrigin::Server })
}

/// An http:// or https:// address with a host, or the error naming `setting` and the fix.
fn web_url(text: String, setting: &'static str, fix: &'static str) -> Result<Url, ConfigError> {
    Url::parse(&text).ok().filter(|u| matches!(u.scheme(), "http" | "https") && u.has_host()).ok_or_else(|| {
        ConfigError::Invalid { setting, value: redact_password(&text), problem: "which is not an http:// or https:// URL", fix }
    })
}

/// A whole number setting of at least `min`, or `default` when unset.
fn count(text: Option<String>, setting: &'static str, min: usize, default: usize) -> Result<usize, ConfigError> {
    let Some(text) = text else { return Ok(default) };
    text.trim().parse::<usize>().ok().filter(|n| *n >= min && *n <= 1_000_000).ok_or(ConfigError::Invalid {
        setting,
        value: text,
        problem: if min == 0 { "which is not a whole number of 0 or more" } else { "which is not a whole number of 1 or more" },
        fix: "use a whole number such as the default shown by --help",
    })
}

/// Hides the password of a URL before it is shown in an error.
fn redact_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings::default()
    }

    #[test]
    fn registration_is_open_on_loopback_and_by_invitation_beyond_it_unless_set() {
        assert_eq!(Config::from_settings(settings()).unwrap().registration, RegistrationMode::Open);
        let public = Settings { bind: Some("0.0.0.0:8000".into()), ..settings() };
        assert_eq!(Config::from_settings(public.clone()).unwrap().registration, RegistrationMode::Invite);
        let open = Settings { registration: Some("Open".into()), ..public };
        assert_eq!(Config::from_settings(open).unwrap().registration, RegistrationMode::Open);
        let closed = Settings { registration: Some("closed".into()), ..settings() };
        assert_eq!(Config::from_settings(closed).unwrap().registration, RegistrationMode::Closed);
        let Err(err) = Config::from_settings(Settings { registration: Some("anyone".into()), ..settings() }) else { panic!("accepted") };
        assert!(err.to_string().contains("PYAIRTABLE_REGISTRATION") && err.to_string().contains("open, invite or closed"), "{err}");
    }

    #[test]
    fn metrics_are_open_on_loopback_and_closed_beyond_it_without_a_token() {
        let loopback = Config::from_settings(settings()).unwrap();
        assert!(matches!(loopback.metrics_access, MetricsAccess::Open));
        let public = Config::from_settings(Settings { bind: Some("0.0.0.0:8000".into()), ..settings() }).unwrap();
        assert!(matches!(public.metrics_access, MetricsAccess::Closed));
        let token = Some("a-long-enough-token".to_owned());
        let with_token = Config::from_settings(Settings { bind: Some("0.0.0.0:8000".into()), metrics_token: token, ..settings() }).unwrap();
        assert!(matches!(with_token.metrics_access, MetricsAccess::Token(_)));
        let short = Config::from_settings(Settings { metrics_token: Some("short".into()), ..settings() }).err().unwrap().to_string();
        assert!(short.contains("PYAIRTABLE_METRICS_TOKEN") && !short.contains("short\""), "{short}");
    }

    #[test]
    fn defaults_listen_on_localhost_8000_with_sqlite_in_data() {
        let config = Config::from_settings(settings()).unwrap();
        assert_eq!(config.bind.to_string(), "127.0.0.1:8000");
        assert_eq!(config.public_url.as_str(), "http://127.0.0.1:8000/");
        assert_eq!(config.database_url.expose_secret(), "sqlite://./data/pyairtable.db");
        assert_eq!(config.log_format, LogFormat::Text);
        assert!(!config.is_https());
    }

    #[test]
    fn a_bad_bind_address_names_the_setting_and_the_fix() {
        let err = Config::from_settings(Settings { bind: Some("localhost".into()), ..settings() })
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("PYAIRTABLE_BIND"), "{err}");
        assert!(err.contains("Fix: use a value such as 127.0.0.1:8000"), "{err}");
    }

    #[test]
    fn sandbox_limits_default_to_airtables_and_can_be_changed() {
        let config = Config::from_settings(settings()).unwrap();
        assert_eq!(config.sandbox.records_per_write, 10);
        assert_eq!(config.sandbox.requests_per_second_per_base, 5);
        assert_eq!(config.airtable_api_url.as_str(), "https://api.airtable.com/");
        let changed = Config::from_settings(Settings {
            sandbox_requests_per_second: Some("0".into()),
            sandbox_penalty_seconds: Some("1".into()),
            ..settings()
        })
        .unwrap();
        assert_eq!(changed.sandbox.requests_per_second_per_base, 0);
        assert_eq!(changed.sandbox.penalty.as_secs(), 1);
        let bad = Config::from_settings(Settings { sandbox_page_size: Some("0".into()), ..settings() });
        assert!(matches!(bad, Err(ConfigError::Invalid { setting: "PYAIRTABLE_SANDBOX_PAGE_SIZE", .. })));
    }

    #[test]
    fn the_default_llm_is_offline_and_gemini_needs_a_key() {
        let config = Config::from_settings(settings()).unwrap();
        assert_eq!(config.llm_default.provider, LlmProvider::Offline);
        let keyless = Config::from_settings(Settings { llm_provider: Some("gemini".into()), ..settings() });
        assert!(matches!(keyless, Err(ConfigError::Invalid { setting: "PYAIRTABLE_LLM_API_KEY", .. })));
        let openai = Config::from_settings(Settings { llm_provider: Some("openai_compatible".into()), ..settings() }).unwrap();
        assert_eq!(openai.llm_default.base_url.unwrap().as_str(), "https://api.openai.com/v1");
        assert_eq!(openai.llm_default.model, "gpt-4o-mini");
        let unknown = Config::from_settings(Settings { llm_provider: Some("claude".into()), ..settings() });
        assert!(matches!(unknown, Err(ConfigError::Invalid { setting: "PYAIRTABLE_LLM_PROVIDER", .. })));
    }

    #[test]
    fn trusted_proxies_are_none_by_default_and_must_be_networks() {
        assert!(Config::from_settings(settings()).unwrap().trusted_proxies.is_empty());
        let set = Config::from_settings(Settings { trusted_proxies: Some("127.0.0.1, 10.0.0.0/8".into()), ..settings() }).unwrap();
        assert_eq!(set.trusted_proxies, TrustedProxies::parse("127.0.0.1,10.0.0.0/8").unwrap());
        let bad = Config::from_settings(Settings { trusted_proxies: Some("10.0.0.0/8, proxy.local".into()), ..settings() });
        assert!(matches!(bad, Err(ConfigError::Invalid { setting: "PYAIRTABLE_TRUSTED_PROXIES", value, .. }) if value == "proxy.local"));
    }

    #[test]
    fn allowed_llm_hosts_are_none_by_default_and_a_bad_entry_is_named() {
        let config = Config::from_settings(settings()).unwrap();
        assert!(config.llm_allowed_hosts.is_empty());
        let listed = Config::from_settings(Settings { llm_allowed_hosts: Some("127.0.0.1:11434, ollama".into()), ..settings() }).unwrap();
        assert!(listed.llm_allowed_hosts.allows(&Url::parse("http://ollama:11434/v1").unwrap()));
        let bad = Config::from_settings(Settings { llm_allowed_hosts: Some("ollama, http://x/".into()), ..settings() });
        assert!(matches!(bad, Err(ConfigError::Invalid { setting: "PYAIRTABLE_LLM_ALLOWED_HOSTS", value, .. }) if value == "http://x/"));
    }

    #[test]
    fn an_unknown_log_format_is_refused() {
        let result = Config::from_settings(Settings { log_format: Some("xml".into()), ..settings() });
        assert!(matches!(result, Err(ConfigError::Invalid { setting: "PYAIRTABLE_LOG_FORMAT", .. })));
    }

    #[test]
    fn a_database_password_never_appears_in_an_error() {
        let err = Config::from_settings(Settings {
            database_url: Some("mysql://root:hunter2@db/app".into()),
            ..settings()
        })
        .err()
        .unwrap()
        .to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("DATABASE_URL"), "{err}");
    }

    #[test]
    fn an_https_public_url_means_secure_cookies() {
        let config = Config::from_settings(Settings {
            public_url: Some("https://airtable.example.com".into()),
            ..settings()
        })
        .unwrap();
        assert!(config.is_https());
    }

    #[test]
    fn a_short_jwt_secret_is_refused_without_echoing_it() {
        let err = Config::from_settings(Settings { jwt_secret: Some("short-secret".into()), ..settings() })
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("PYAIRTABLE_JWT_SECRET") && !err.contains("short-secret"), "{err}");
    }

    #[test]
    fn the_command_line_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyairtable.toml");
        std::fs::write(&path, "bind = \"127.0.0.1:9000\"\nlog_format = \"json\"\n").unwrap();
        let config = Config::load(Settings { bind: Some("127.0.0.1:7000".into()), ..settings() }, Some(&path)).unwrap();
        assert_eq!(config.bind.port(), 7000);
        assert_eq!(config.log_format, LogFormat::Json);
    }

    #[test]
    fn an_unknown_key_in_the_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyairtable.toml");
        std::fs::write(&path, "bnd = \"127.0.0.1:9000\"\n").unwrap();
        let err = Config::load(settings(), Some(&path)).err().unwrap().to_string();
        assert!(err.contains("bnd"), "{err}");
    }

    #[test]
    fn missing_secrets_are_generated_and_kept_in_the_data_dir() {
        let dir = tempfile::tempdir().unwrap();
        let config = Config::from_settings(Settings { data_dir: Some(dir.path().into()), ..settings() }).unwrap();
        let first = config.secrets().unwrap();
        let again = config.secrets().unwrap();
        assert_eq!(first.jwt_secret.expose_secret(), again.jwt_secret.expose_secret());
        assert_eq!(first.encryption_key.expose_secret(), again.encryption_key.expose_secret());
        assert!(dir.path().join("jwt_secret").exists() && dir.path().join("encryption_key").exists());
    }
}
