//! The database: one `AnyPool` over SQLite or PostgreSQL, chosen by URL, and its migrations.

use std::path::Path;
use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::Migrator;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// Which SQL dialect a URL speaks; the rest of the code stays dialect-free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// Reads the dialect from a database URL's scheme.
    ///
    /// # Errors
    /// `UnsupportedUrl` for anything but `sqlite:` and `postgres:`/`postgresql:`.
    pub fn of_url(url: &str) -> Result<Self, DbError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err(DbError::UnsupportedUrl)
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres => "PostgreSQL",
        }
    }

    fn migrator(self) -> &'static Migrator {
        match self {
            Self::Sqlite => &SQLITE_MIGRATIONS,
            Self::Postgres => &POSTGRES_MIGRATIONS,
        }
    }
}

/// Errors from opening, migrating or querying the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error(
        "the database URL must start with sqlite: or postgres:// \
         (for example sqlite://./data/pyairtable.db)"
    )]
    UnsupportedUrl,
    #[error("could not create the folder for the SQLite file {path}: {source}")]
    CreateDir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("could not connect to the {dialect} database: {source}")]
    Connect {
        dialect: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("could not apply the database migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database query failed: {0}")]
    Query(#[from] sqlx::Error),
}

/// A pool of connections to the app's database, and the dialect it speaks.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    dialect: Dialect,
}

impl Db {
    /// Opens a pool on `url`, creating a SQLite file (and its folder) when missing.
    ///
    /// # Errors
    /// `UnsupportedUrl`, `CreateDir` or `Connect`, each with the reason.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let dialect = Dialect::of_url(url)?;
        let url = match dialect {
            Dialect::Sqlite => prepare_sqlite_url(url)?,
            Dialect::Postgres => url.to_owned(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(match dialect {
                Dialect::Sqlite => 8,
                Dialect::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if dialect == Dialect::Sqlite {
                        // WAL lets readers proceed during a write; the busy timeout makes a
                        // second writer wait instead of failing with SQLITE_BUSY.
                        sqlx::raw_sql("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|source| DbError::Connect { dialect: dialect.name(), source })?;
        Ok(Self { pool, dialect })
    }

    /// Applies every migration of this dialect that has not run yet; returns how many ran.
    ///
    /// # Errors
    /// `Migrate` when a migration fails or an applied one was changed since.
    pub async fn migrate(&self) -> Result<usize, DbError> {
        let before = self.applied_migrations().await.unwrap_or(0);
        self.dialect.migrator().run(&self.pool).await?;
        Ok(self.applied_migrations().await?.saturating_sub(before))
    }

    /// How many migrations this database has applied.
    ///
    /// # Errors
    /// `Query` when the migrations table can't be read (for example before the first run).
    pub async fn applied_migrations(&self) -> Result<usize, DbError> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
                .fetch_one(&self.pool)
                .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// How many migrations this build knows for its dialect.
    pub fn known_migrations(&self) -> usize {
        self.dialect.migrator().iter().count()
    }

    /// Runs the cheapest round trip the database allows.
    ///
    /// # Errors
    /// `Query` when the database does not answer.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Records that `version` has started on this database; returns when it was first installed.
    ///
    /// # Errors
    /// `Query` when the `instance` row can't be written.
    pub async fn record_start(&self, version: &str, now_ms: i64) -> Result<i64, DbError> {
        let installed_ms: i64 = sqlx::query_scalar(
            "INSERT INTO instance (id, installed_ms, last_version, last_started_ms) \
             VALUES (1, $1, $2, $1) \
             ON CONFLICT (id) DO UPDATE SET last_version = $2, last_started_ms = $1 \
             RETURNING installed_ms",
        )
        .bind(now_ms)
        .bind(version)
        .fetch_one(&self.pool)
        .await?;
        Ok(installed_ms)
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Closes every connection; later queries fail. Used at shutdown.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Makes sure the SQLite file's folder exists and that the file is created when missing.
fn prepare_sqlite_url(url: &str) -> Result<String, DbError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let has_mode = query.split('&').any(|kv| kv.starts_with("mode="));
    if path != ":memory:" && !path.is_empty() {
        let failed = |source| DbError::CreateDir { path: path.to_owned(), source };
        if let Some(parent) = Path::new(path).parent().filter(|p| !p.as_os_str().is_empty()) {
            create_private_dir(parent).map_err(failed)?;
        }
        // Created here, before SQLite would create it with the default mode.
        if !has_mode || query.split('&').any(|kv| kv == "mode=rwc") {
            create_private_file(Path::new(path)).map_err(failed)?;
        }
    }
    Ok(match (has_mode, query.is_empty()) {
        (true, _) => url.to_owned(),
        (false, true) => format!("{url}?mode=rwc"),
        (false, false) => format!("{url}&mode=rwc"),
    })
}

/// Creates `dir` and any missing parents readable by this user only (0700); a folder that
/// already exists is left as it is.
///
/// # Errors
/// When a folder can't be created.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates an empty SQLite file readable by this user only (0600), unless it exists already.
/// SQLite gives its journal files the same mode.
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// A migrated SQLite database in a temporary folder, for unit tests; the folder must outlive it.
#[cfg(test)]
pub(crate) async fn migrated_test_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let db = Db::connect(&format!("sqlite://{}/test.db", dir.path().display())).await.expect("SQLite opens");
    db.migrate().await.expect("the migrations apply");
    (dir, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_picks_the_dialect() {
        assert_eq!(Dialect::of_url("sqlite://./data/x.db").unwrap(), Dialect::Sqlite);
        assert_eq!(Dialect::of_url("postgres://u@h/db").unwrap(), Dialect::Postgres);
        assert_eq!(Dialect::of_url("postgresql://u@h/db").unwrap(), Dialect::Postgres);
        assert!(matches!(Dialect::of_url("mysql://u@h/db"), Err(DbError::UnsupportedUrl)));
    }

    #[test]
    fn a_sqlite_url_is_opened_read_write_create() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/nested/app.db", dir.path().display());
        assert_eq!(prepare_sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.path().join("nested").is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn a_new_sqlite_file_and_its_folders_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/data/nested/app.db", dir.path().display());
        prepare_sqlite_url(&url).unwrap();
        let mode = |p: std::path::PathBuf| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.path().join("data")), 0o700);
        assert_eq!(mode(dir.path().join("data/nested")), 0o700);
        assert_eq!(mode(dir.path().join("data/nested/app.db")), 0o600);
    }

    #[test]
    fn an_explicit_sqlite_mode_is_kept() {
        let url = "sqlite://x.db?mode=ro";
        assert_eq!(prepare_sqlite_url(url).unwrap(), url);
    }

    #[tokio::test]
    async fn a_new_sqlite_file_is_created_and_migrated_once() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/app.db", dir.path().display())).await.unwrap();
        let first = db.migrate().await.unwrap();
        assert_eq!(first, db.known_migrations());
        assert!(first > 0);
        assert_eq!(db.migrate().await.unwrap(), 0);
        db.ping().await.unwrap();
    }

    #[tokio::test]
    async fn the_installation_time_survives_later_starts() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}/app.db", dir.path().display())).await.unwrap();
        db.migrate().await.unwrap();
        assert_eq!(db.record_start("0.1.0", 1_000).await.unwrap(), 1_000);
        assert_eq!(db.record_start("0.2.0", 5_000).await.unwrap(), 1_000);
    }
}
