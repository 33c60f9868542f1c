//! The command line: `pyairtable [serve]`, `pyairtable migrate`, `pyairtable mcp`,
//! `pyairtable user create`, `pyairtable user reset-password`, `--help` and `--version`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::{Config, Settings};
use crate::startup::{self, Application};
use crate::telemetry;

const ABOUT: &str = "PyAirtable: a self-hosted AI workspace for Airtable.";

const AFTER_HELP: &str = "\
Each option can also be set by the environment variable shown beside it, by a line in a .env file \
in the working directory, or by a key in pyairtable.toml (the option's name with underscores, such \
as data_dir = \"/var/lib/pyairtable\"). The command line wins over the environment, the environment \
over .env, and .env over the file.

Exit codes: 0 on a clean stop, 1 when the server fails, 2 when the configuration is invalid.";

#[derive(Parser)]
#[command(name = "pyairtable", version = backend::VERSION, about = ABOUT, after_help = AFTER_HELP)]
pub struct Cli {
    /// TOML configuration file [default: ./pyairtable.toml, when it exists]
    #[arg(long, env = "PYAIRTABLE_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub settings: Settings,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Clone)]
pub enum Command {
    /// Serve the web app and API, applying migrations first (the default)
    Serve,
    /// Apply database migrations, then exit
    Migrate,
    /// Serve the Airtable tools over MCP on stdin and stdout, for desktop AI clients
    Mcp {
        /// The API key whose owner the tools act for; a read key offers only the read-only tools
        #[arg(long, env = "PYAIRTABLE_API_KEY", hide_env_values = true)]
        api_key: String,
    },
    /// Manage user accounts
    User {
        #[command(subcommand)]
        action: UserCommand,
    },
}

#[derive(Subcommand, Clone)]
pub enum UserCommand {
    /// Create an account (the first account of a server is always an admin)
    Create {
        /// The account's email address
        #[arg(long)]
        email: String,
        /// At least 10 characters; prefer the environment variable, which process lists don't show
        #[arg(long, env = "PYAIRTABLE_USER_PASSWORD", hide_env_values = true)]
        password: String,
        /// Make the account an administrator
        #[arg(long)]
        admin: bool,
    },
    /// Print a one-time link that sets an account's password (valid for 24 hours; using it signs
    /// the account out everywhere)
    ResetPassword {
        /// The account's email address
        #[arg(long)]
        email: String,
    },
}

/// Parses the command line and runs the chosen command; returns the process exit code.
pub async fn run() -> ExitCode {
    if let Err(e) = dotenvy::dotenv()
        && !e.not_found()
    {
        eprintln!("pyairtable: the .env file can't be read: {e}\n  Fix: correct or remove .env in the working directory.");
        return ExitCode::from(2);
    }
    let mut cli = Cli::parse();
    if matches!(cli.command, Some(Command::Mcp { .. })) {
        // The sandbox is reached over HTTP, so an MCP process serves its own on a private
        // loopback port, never on the address a running server already holds.
        cli.settings.bind = Some("127.0.0.1:0".into());
    }
    let config = match Config::load(cli.settings, cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("pyairtable: invalid configuration: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(config.log_format, &config.log_filter);

    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config).await,
        Command::Migrate => startup::open_database(&config).await.map(drop),
        Command::Mcp { api_key } => mcp_stdio(&config, &api_key).await,
        Command::User { action: UserCommand::Create { email, password, admin } } => {
            create_user(&config, &email, &password, admin).await
        }
        Command::User { action: UserCommand::ResetPassword { email } } => reset_link(&config, &email).await,
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn create_user(config: &Config, email: &str, password: &str, admin: bool) -> anyhow::Result<()> {
    let db = startup::open_database(config).await?;
    let user = backend::auth::users::Users::new(db.clone()).create(email, password, admin).await;
    db.close().await;
    let user = user?;
    let role = if user.is_admin { "administrator" } else { "user" };
    println!("Created {role} {} (id {}).", user.email, user.id);
    Ok(())
}

/// Prints a reset link for an operator who can't sign in: the way back in for a lost admin password.
async fn reset_link(config: &Config, email: &str) -> anyhow::Result<()> {
    let db = startup::open_database(config).await?;
    let link = async {
        let users = backend::auth::users::Users::new(db.clone());
        let id = users.id_for_email(email).await?.ok_or(backend::auth::AuthError::NotFound("An account with that email"))?;
        backend::auth::links::AccountLinks::new(db.clone(), config.public_url.clone()).reset(&id, None).await
    }
    .await;
    db.close().await;
    let link = link?;
    println!("Open this link within 24 hours to set a new password for {email}; it works once:\n{}", link.url);
    Ok(())
}

/// MCP over stdio until the client closes it. stdout carries only MCP messages; logs go to stderr.
async fn mcp_stdio(config: &Config, api_key: &str) -> anyhow::Result<()> {
    use rmcp::ServiceExt;

    let app = Application::build(config).await?;
    let services = app.services().clone();
    let principal = services.auth.principal_for_bearer(api_key.trim()).await.map_err(|_| {
        anyhow::anyhow!("PYAIRTABLE_API_KEY is not a valid API key: it may be revoked, or its account disabled. Create one in Settings → API keys.")
    })?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    let handler = backend::mcp::McpHandler::for_principal(services.tools.clone(), services.connections.clone(), principal);
    let session = handler.serve(rmcp::transport::stdio()).await?;
    session.waiting().await?;
    let _ = stop.send(());
    server.await??;
    Ok(())
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let app = Application::build(config).await?;
    app.run_until(startup::shutdown_signal()).await
}
