//! `spawn_app`: the app as users run it, on port 0, with a database of its own.

use std::path::PathBuf;

use backend::db::Dialect;
use server::config::{Config, Settings};
use server::startup::Application;
use tokio::sync::oneshot;

/// PostgreSQL server that tests create their databases on; `make test` makes sure one answers.
pub fn postgres_admin_url() -> String {
    std::env::var("PYAIRTABLE_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres:postgres@127.0.0.1:5432/postgres".into())
}

/// A database that exists for one test: a SQLite file in a temporary folder, or a new
/// PostgreSQL database that is dropped when this value is.
pub struct TestDatabase {
    pub url: String,
    pub dialect: Dialect,
    postgres_name: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestDatabase {
    pub async fn new(dialect: Dialect) -> Self {
        let dir = tempfile::tempdir().expect("a temporary folder");
        match dialect {
            Dialect::Sqlite => Self {
                url: format!("sqlite://{}/test.db", dir.path().display()),
                dialect,
                postgres_name: None,
                _dir: dir,
            },
            Dialect::Postgres => {
                let name = format!("pyairtable_test_{}", uuid::Uuid::new_v4().simple());
                admin_execute(format!("CREATE DATABASE {name}")).await;
                let admin = postgres_admin_url();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
                Self { url: format!("{base}/{name}"), dialect, postgres_name: Some(name), _dir: dir }
            }
        }
    }

    /// A folder that lives as long as the database, for data files and secrets.
    pub fn dir(&self) -> PathBuf {
        self._dir.path().to_owned()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(name) = self.postgres_name.take() {
            // Drop runs outside async code; a thread with its own runtime does the async cleanup.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                runtime.block_on(admin_execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")));
            })
            .join();
        }
    }
}

async fn admin_execute(sql: String) {
    use sqlx::Connection;
    let url = postgres_admin_url();
    let mut conn = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL must answer at {url} for these tests (make test starts it): {e}")
    });
    // The name is generated above from a UUID, never from input.
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await.expect("admin statement");
}

/// A running app and what a test needs to talk to it.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub services: backend::Services,
    pub db: TestDatabase,
    shutdown: Option<oneshot::Sender<()>>,
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("the request is answered")
    }

    /// `POST /api/auth/token`'s answer for an existing account.
    pub async fn token_pair(&self, email: &str, password: &str) -> serde_json::Value {
        let response = self
            .client
            .post(self.url("/api/auth/token"))
            .json(&serde_json::json!({"email": email, "password": password}))
            .send()
            .await
            .expect("the request is answered");
        assert!(response.status().is_success(), "signing in as {email} failed: {}", response.status());
        response.json().await.expect("a token pair")
    }

    /// A JSON `POST` as the holder of `bearer`, which must succeed; its answer as JSON (or as a
    /// JSON string when it is not JSON).
    pub async fn post_as(&self, bearer: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self.client.post(self.url(path)).bearer_auth(bearer).json(&body).send().await.expect("the request is answered");
        let status = response.status();
        let text = response.text().await.expect("an answer body");
        assert!(status.is_success(), "{path} answered {status}: {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))
    }

    /// `POST /api/files/upload` of `bytes` named `name`, as the holder of `bearer`.
    pub async fn upload(&self, bearer: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
        let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()));
        self.client.post(self.url("/api/files/upload")).bearer_auth(bearer).multipart(form).send().await.expect("the upload is answered")
    }

    /// An upload that must be taken; the file's summary.
    pub async fn uploaded(&self, bearer: &str, name: &str, bytes: Vec<u8>) -> backend::model::files::FileSummary {
        let response = self.upload(bearer, name, bytes).await;
        let (status, body) = (response.status(), response.text().await.expect("an answer body"));
        assert!(status.is_success(), "{name}: {status} {body}");
        serde_json::from_str(&body).expect("a file summary")
    }

    /// An access token for an existing account, for `Authorization: Bearer`.
    pub async fn access_token(&self, email: &str, password: &str) -> String {
        self.token_pair(email, password).await["access_token"].as_str().expect("an access token").to_owned()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.shutdown.take() {
            let _ = stop.send(());
        }
    }
}

/// Settings for a test app on `db`: port 0 and the database's own folder.
pub fn test_settings(db: &TestDatabase) -> Settings {
    Settings {
        bind: Some("127.0.0.1:0".into()),
        data_dir: Some(db.dir()),
        database_url: Some(db.url.clone()),
        site_root: Some(PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/site"))),
        // Users' endpoints in tests are local fakes; llm_outbound.rs tests the refusals.
        llm_allowed_hosts: Some("127.0.0.1".into()),
        ..Settings::default()
    }
}

pub async fn spawn_app(dialect: Dialect) -> TestApp {
    spawn_app_with(dialect, |_| {}).await
}

/// `spawn_app` with some settings changed first.
pub async fn spawn_app_with(dialect: Dialect, change: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::new(dialect).await;
    let mut settings = test_settings(&db);
    change(&mut settings);
    let (address, services, stop) = start(settings).await;
    TestApp {
        address,
        client: reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap(),
        services,
        db,
        shutdown: Some(stop),
    }
}

/// Starts the app with `settings`: its address, its services, and what stops it.
async fn start(settings: Settings) -> (String, backend::Services, oneshot::Sender<()>) {
    let config = Config::from_settings(settings).expect("valid test settings");
    let app = Application::build(&config).await.expect("the app starts");
    let address = format!("http://{}", app.local_addr());
    let services = app.services().clone();
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(app.run_until(async move {
        let _ = stopped.await;
    }));
    (address, services, stop)
}

/// A second instance of the app on the same database and data folder (so the same secrets), as
/// another server of one deployment would be. It stops when dropped.
pub struct Instance {
    pub address: String,
    _stop: oneshot::Sender<()>,
}

pub async fn spawn_instance(db: &TestDatabase, change: impl FnOnce(&mut Settings)) -> Instance {
    let mut settings = test_settings(db);
    change(&mut settings);
    let (address, _, stop) = start(settings).await;
    Instance { address, _stop: stop }
}

/// Runs an async test function once on SQLite and once on PostgreSQL, each with a fresh app.
/// With `dialect:` first, each test function takes the `Dialect` and starts its own app, for
/// tests that need settings or local servers of their own first.
macro_rules! on_both_databases {
    (dialect: $($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn on_sqlite() {
                super::$test(backend::db::Dialect::Sqlite).await;
            }
            #[tokio::test]
            async fn on_postgres() {
                super::$test(backend::db::Dialect::Postgres).await;
            }
        }
    )+};
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test]
            async fn on_sqlite() {
                super::$test($crate::helpers::spawn_app(backend::db::Dialect::Sqlite).await).await;
            }
            #[tokio::test]
            async fn on_postgres() {
                super::$test($crate::helpers::spawn_app(backend::db::Dialect::Postgres).await).await;
            }
        }
    )+};
}
pub(crate) use on_both_databases;

/// A plain HTTP client for tests that talk to a server process, with the TLS provider reqwest
/// is built to expect installed first (a test may be the first to build a client).
pub fn http_client() -> reqwest::Client {
    backend::install_crypto_provider();
    reqwest::Client::new()
}
