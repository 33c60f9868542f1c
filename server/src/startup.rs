//! Startup: open and migrate the database, wire the services, bind, and serve until shut down.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use backend::airtable::AirtableSettings;
use backend::analytics::Analytics;
use backend::{ServiceSettings, Services};
use backend::auth::session_store::DbSessionStore;
use backend::clock::now_ms;
use backend::db::Db;
use backend::files::Files;
use backend::jobs::Jobs;
use backend::model::auth::RegistrationMode;
use leptos::prelude::LeptosOptions;
use secrecy::ExposeSecret;
use tokio::net::TcpListener;
use tower_sessions::ExpiredDeletion;

use crate::config::Config;
use crate::metrics::{Metrics, MetricsAccess};
use crate::routes::{self, AppState};

/// A server that is bound to its port and ready to run.
pub struct Application {
    listener: TcpListener,
    router: axum::Router,
    services: Services,
}

impl Application {
    /// Opens and migrates the database, generates missing secrets, and binds the listener.
    ///
    /// # Errors
    /// When the database can't be opened or migrated, or the address can't be bound.
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        // Only this server's user may read the database and the secrets in a new data folder.
        backend::db::create_private_dir(&config.data_dir)
            .with_context(|| format!("could not create the data folder {}", config.data_dir.display()))?;
        // Generated on first run, then read back on every later start.
        let secrets = config.secrets()?;
        let db = open_database(config).await?;
        db.record_start(backend::VERSION, now_ms()).await.context("could not record this start in the database")?;

        let listener = TcpListener::bind(config.bind).await.with_context(|| {
            format!(
                "could not listen on {}: another program may be using it; set PYAIRTABLE_BIND to a free address",
                config.bind
            )
        })?;
        let local_addr = listener.local_addr()?;
        let jobs = Jobs::connect(config.database_url.expose_secret()).await.context("could not open the job queue in the database")?;
        let services = Services::new(
            db,
            jobs,
            ServiceSettings {
                jwt_secret: &secrets.jwt_secret,
                encryption_key: &secrets.encryption_key,
                airtable: AirtableSettings::default(),
                airtable_api_url: config.airtable_api_url.clone(),
                sandbox: config.sandbox.clone(),
                sandbox_api_url: own_sandbox_url(local_addr),
                public_url: public_url(config, local_addr),
                llm_default: config.llm_default.clone(),
                llm_http: config.llm_http,
                llm_allowed_hosts: config.llm_allowed_hosts.clone(),
                chat: config.chat.clone(),
                registration: config.registration,
                files_dir: config.data_dir.join("files"),
                files: config.files,
                workflows: config.workflows.clone(),
            },
        );
        warn_about_registration(config, &services).await;
        if matches!(config.metrics_access, MetricsAccess::Closed) {
            tracing::warn!(bind = %config.bind, "/metrics is refused because the server listens beyond loopback; set PYAIRTABLE_METRICS_TOKEN to scrape it");
        }
        services.jobs.start(services.sagas.job_handler(), services.workflows.job_handler());
        match services.sagas.recover().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(sagas = n, "queued unfinished sagas to be driven to their end"),
            Err(e) => tracing::error!(error = %e, "could not look for unfinished sagas"),
        }
        match services.workflows.recover().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(runs = n, "queued unfinished workflow runs"),
            Err(e) => tracing::error!(error = %e, "could not look for unfinished workflow runs"),
        }
        services.workflows.start_triggers();
        spawn_session_cleanup(services.auth.sessions.clone());
        spawn_analytics_retention(services.analytics.clone(), config.analytics_retention_days);
        spawn_file_expiry(services.files.clone());

        let state = AppState {
            leptos_options: leptos_options(config, local_addr),
            services: services.clone(),
            metrics: Metrics::with_analytics(services.analytics.clone()).with_jobs(services.jobs.clone()),
            metrics_access: config.metrics_access.clone(),
            secure_cookies: config.is_https(),
            public_url: config.public_url.clone(),
            trusted_proxies: std::sync::Arc::new(config.trusted_proxies.clone()),
        };
        Ok(Self { listener, router: routes::router(state), services })
    }

    /// The address actually bound: tests bind port 0 and read the port here.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish.
    ///
    /// # Errors
    /// When accepting connections fails.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        tracing::info!(address = %self.local_addr(), "listening");
        axum::serve(self.listener, self.router.into_make_service_with_connect_info::<SocketAddr>()).with_graceful_shutdown(shutdown).await?;
        // Jobs running now finish; the rest wait in the queue for the next start.
        self.services.jobs.stop();
        // Events of the last requests are still queued.
        self.services.analytics.flush().await;
        self.services.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Open registration beyond loopback lets anyone spend the server's LLM key, and on a new
/// server makes the first visitor its administrator; invitations need an administrator first.
async fn warn_about_registration(config: &Config, services: &Services) {
    let no_users = services.auth.users.none_yet().await.unwrap_or(false);
    match config.registration {
        RegistrationMode::Open if !config.bind.ip().is_loopback() => tracing::warn!(
            bind = %config.bind,
            "registration is open to anyone who reaches this address, and the first account becomes the administrator; set PYAIRTABLE_REGISTRATION=invite once your administrator exists"
        ),
        RegistrationMode::Invite | RegistrationMode::Closed if no_users => tracing::warn!(
            registration = config.registration.as_str(),
            "there are no accounts yet and registration is not open: create the administrator with `pyairtable user create --admin --email you@example.com`"
        ),
        _ => {}
    }
}

/// Connects to the configured database and applies pending migrations.
///
/// # Errors
/// When the database can't be reached or a migration fails.
pub async fn open_database(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(config.database_url.expose_secret())
        .await
        .context("check DATABASE_URL, and that the database server is running")?;
    let applied = db.migrate().await?;
    tracing::info!(database = db.dialect().name(), applied, "database ready");
    Ok(db)
}

/// The sandbox as this process reaches itself: over loopback when bound to every interface.
fn own_sandbox_url(addr: SocketAddr) -> url::Url {
    let ip = if addr.ip().is_unspecified() {
        if addr.is_ipv4() { std::net::Ipv4Addr::LOCALHOST.into() } else { std::net::Ipv6Addr::LOCALHOST.into() }
    } else {
        addr.ip()
    };
    let host = SocketAddr::new(ip, addr.port());
    url::Url::parse(&format!("http://{host}/sandbox")).expect("an IP address and port make a valid URL")
}

/// The configured public URL; when it was left to default and the port was 0 (tests), the
/// port actually bound.
fn public_url(config: &Config, addr: SocketAddr) -> url::Url {
    let mut url = config.public_url.clone();
    if config.bind.port() == 0 && url.port() == Some(0) {
        let _ = url.set_port(Some(addr.port()));
    }
    url
}

/// Leptos options built from our configuration rather than from cargo-leptos' environment,
/// so the binary runs the same however it was started.
fn leptos_options(config: &Config, addr: SocketAddr) -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("pyairtable")
        .site_root(config.site_root.to_string_lossy().into_owned())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build()
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down; finishing requests in flight");
}

/// Deletes raw analytics events older than `days` every hour (and once at start); harmless
/// when several servers share the database, since each deletes the same old rows.
fn spawn_analytics_retention(analytics: Analytics, days: u32) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match analytics.delete_old_events(days).await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, days, "deleted raw analytics events past their retention"),
                Err(e) => tracing::warn!(error = %e, "could not delete old analytics events"),
            }
        }
    });
}

/// Deletes expired browser sessions every ten minutes, for as long as the process runs.
fn spawn_session_cleanup(store: DbSessionStore) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            every.tick().await;
            if let Err(e) = store.delete_expired().await {
                tracing::warn!(error = %e, "could not delete expired sessions");
            }
        }
    });
}

/// Deletes uploaded files past their keeping time every hour (and once at start).
fn spawn_file_expiry(files: Files) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match files.delete_expired().await {
                Ok(0) => {}
                Ok(deleted) => tracing::info!(deleted, "deleted uploaded files past their keeping time"),
                Err(e) => tracing::warn!(error = %e, "could not delete expired files"),
            }
        }
    });
}
