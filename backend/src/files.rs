//! Files people bring: uploads streamed to disk under a size limit, their kind told from their
//! content (not their name), and their rows and columns with each column's type inferred from
//! every value. Each file belongs to its uploader and expires after a while.
//!
//! Reading is synchronous and streams from disk (JSON and CSV a row at a time; spreadsheets a
//! sheet at a time), so it runs on blocking threads, a few at a time.

mod access;
mod cell;
mod columns;
mod convert;
mod delimited;
mod detect;
mod document;
mod encoding;
mod feed;
mod import;
mod imports;
mod infer;
mod json;
mod plan;
mod read;
mod sheet;
mod store;
mod upload;

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::Stream;
use tokio::sync::Semaphore;

pub use cell::Cell;
pub use columns::Columns;
pub use convert::{Misfit, convert};
pub use delimited::CsvLayout;
pub use detect::detect;
pub use document::{DocumentText, text_of};
pub use import::ImportOrigin;
pub use infer::{ColumnTally, split_list};
pub use read::{Layout, Scan, each_row, scan};

use crate::auth::UserId;
use crate::clock::now_ms;
use crate::db::Db;
use crate::model::files::{FileSummary, Preview};
use crate::sagas::Sagas;
use crate::shown::Shown;

/// Files read (scanned or imported) at once: reading is CPU work on blocking threads.
const READERS: usize = 2;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Why a file could not be taken or read. The messages are for the person who sent it.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("That file was not found.")]
    NotFound,
    #[error("That import was not found.")]
    ImportNotFound,
    #[error("This file is larger than the upload limit of {limit_mb} MB.")]
    TooLarge { limit_mb: u64 },
    /// The content is not what a readable file of its kind holds.
    #[error("This file can't be read: {0}.")]
    Unreadable(String),
    /// The content and the name disagree, or the kind is not one this product reads.
    #[error("{0}")]
    Refused(String),
    /// The upload stopped before its end.
    #[error("The upload was interrupted; send the file again.")]
    Interrupted,
    #[error(transparent)]
    Airtable(#[from] crate::airtable::AirtableError),
    #[error(transparent)]
    Connection(#[from] crate::connections::ConnectionError),
    /// The import's change log failed.
    #[error("an import's change could not be started or read: {0}")]
    Saga(String),
    #[error("the file could not be read or written: {0}")]
    Io(#[from] std::io::Error),
    #[error("the file list could not be read or written: {0}")]
    Database(#[from] sqlx::Error),
}

impl FileError {
    pub fn unreadable(why: impl Into<String>) -> Self {
        Self::Unreadable(why.into())
    }
}

impl Shown for FileError {
    fn is_internal(&self) -> bool {
        match self {
            Self::Connection(e) => e.is_internal(),
            Self::Io(_) | Self::Database(_) | Self::Saga(_) => true,
            _ => false,
        }
    }
}

/// Limits on uploads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSettings {
    /// The largest upload, in bytes.
    pub max_bytes: u64,
    /// How long an uploaded file is kept.
    pub keep_days: u32,
}

impl Default for FileSettings {
    fn default() -> Self {
        Self { max_bytes: 50 * 1024 * 1024, keep_days: 30 }
    }
}

/// Told of every upload once it is stored: the workflows with a file trigger.
#[async_trait::async_trait]
pub trait UploadHook: Send + Sync {
    async fn uploaded(&self, user: &UserId, file: &FileSummary);
}

/// The uploaded files of every user. Cheap to clone.
#[derive(Clone)]
pub struct Files {
    inner: Arc<Inner>,
}

struct Inner {
    store: store::Store,
    imports: imports::Imports,
    sagas: Sagas,
    /// Where the bytes live: one file per upload, named by its ID.
    dir: PathBuf,
    settings: FileSettings,
    readers: Semaphore,
    /// Who hears of uploads, once set.
    hook: std::sync::OnceLock<Arc<dyn UploadHook>>,
}

impl Files {
    /// Files kept in `dir` (made when the first upload arrives), imported as `sagas`, which
    /// get their imports' steps from here.
    pub fn new(db: Db, dir: PathBuf, settings: FileSettings, sagas: Sagas) -> Self {
        let (store, imports) = (store::Store::new(db.clone()), imports::Imports::new(db));
        sagas.set_feed(Arc::new(feed::ImportFeed::new(imports.clone(), store.clone(), dir.clone())));
        Self { inner: Arc::new(Inner { store, imports, sagas, dir, settings, readers: Semaphore::new(READERS), hook: std::sync::OnceLock::new() }) }
    }

    /// Sets who hears of uploads; the first call wins.
    pub fn set_upload_hook(&self, hook: Arc<dyn UploadHook>) {
        if self.inner.hook.set(hook).is_err() {
            tracing::warn!("the files' upload hook was set twice; the first is kept");
        }
    }

    pub fn settings(&self) -> FileSettings {
        self.inner.settings
    }

    /// Takes an upload named `name` as it streams in: writes it to disk, refusing it as soon
    /// as it passes the size limit, then tells its kind and reads it whole to count its rows
    /// and infer its columns. Nothing is left on disk when it is refused.
    ///
    /// # Errors
    /// `TooLarge`, `Refused`, `Unreadable`, `Interrupted`, or `Io`/`Database`.
    pub async fn receive<S, E>(&self, user: &UserId, name: &str, body: S) -> Result<FileSummary, FileError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let id = uuid::Uuid::new_v4().to_string();
        let path = self.path_of(&id);
        let size = upload::write(&self.inner.dir, &path, body, self.inner.settings.max_bytes).await?;
        let name = upload::display_name(name);
        let read = {
            let (path, name) = (path.clone(), name.clone());
            self.read_blocking(move || upload::read_new(&path, &name)).await
        };
        let read = match read {
            Ok(read) => read,
            Err(e) => {
                upload::discard(&path).await;
                return Err(e);
            }
        };
        let now = now_ms();
        let file = FileSummary {
            id,
            name,
            size,
            kind: read.kind,
            rows: read.scan.as_ref().map(|s| s.rows),
            columns: read.scan.map(|s| s.columns).unwrap_or_default(),
            sheets: match &read.layout {
                Layout::Sheets { sheets, .. } => sheets.clone(),
                _ => Vec::new(),
            },
            created_ms: now,
            expires_ms: now + i64::from(self.inner.settings.keep_days) * DAY_MS,
        };
        if let Err(e) = self.inner.store.insert(user, &file, &read.layout).await {
            upload::discard(&path).await;
            return Err(e);
        }
        if let Some(hook) = self.inner.hook.get() {
            hook.uploaded(user, &file).await;
        }
        Ok(file)
    }

    /// The user's files, newest first.
    ///
    /// # Errors
    /// `Database`.
    pub async fn list(&self, user: &UserId) -> Result<Vec<FileSummary>, FileError> {
        self.inner.store.list(user).await
    }

    /// One of the user's files.
    ///
    /// # Errors
    /// `NotFound` when it is not theirs or not there.
    pub async fn get(&self, user: &UserId, id: &str) -> Result<FileSummary, FileError> {
        Ok(self.inner.store.get(user, id).await?.0)
    }

    /// A table file's first `limit` rows, each value as text, with the columns of the chosen
    /// sheet (a workbook's first when `None`).
    ///
    /// # Errors
    /// `NotFound`; `Refused` for a document or an unknown sheet; `Unreadable`.
    pub async fn preview(&self, user: &UserId, id: &str, sheet: Option<&str>, limit: usize) -> Result<Preview, FileError> {
        let (file, layout) = self.inner.store.get(user, id).await?;
        let path = self.path_of(&file.id);
        let sheet = sheet.map(str::to_owned);
        self.read_blocking(move || {
            // Another sheet than the first has columns of its own, which only a scan finds.
            let columns = match (&sheet, &layout) {
                (Some(_), Layout::Sheets { .. }) => read::scan(&path, &layout, sheet.as_deref())?.columns,
                _ => file.columns,
            };
            let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
            let mut rows = Vec::new();
            read::each_row(&path, &layout, sheet.as_deref(), &names, 0, &mut |_, cells| {
                rows.push(cells.iter().map(Cell::to_text).collect());
                if rows.len() >= limit { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
            })?;
            Ok(Preview { columns, rows })
        })
        .await
    }

    /// The text of one of the user's files, for the assistant: at most `max_chars` characters.
    ///
    /// # Errors
    /// `NotFound` when it is not theirs; `Refused` for a workbook or a PDF without text;
    /// `Unreadable`.
    pub async fn document(&self, user: &UserId, id: &str, max_chars: usize) -> Result<(FileSummary, DocumentText), FileError> {
        let (file, _) = self.inner.store.get(user, id).await?;
        let (path, kind) = (self.path_of(&file.id), file.kind);
        let text = self.read_blocking(move || document::text_of(&path, kind, max_chars)).await?;
        Ok((file, text))
    }

    /// Deletes one of the user's files, bytes and all.
    ///
    /// # Errors
    /// `NotFound` when it is not theirs or not there.
    pub async fn delete(&self, user: &UserId, id: &str) -> Result<(), FileError> {
        if self.inner.imports.file_busy(id).await? {
            self.inner.store.get(user, id).await?;
            return Err(FileError::Refused("This file is being imported; stop the import before deleting it.".into()));
        }
        if !self.inner.store.delete(user, id).await? {
            return Err(FileError::NotFound);
        }
        upload::discard(&self.path_of(id)).await;
        Ok(())
    }

    /// Deletes every file of a user whose account is going, bytes and all (their rows would
    /// go with the account, but the bytes on disk would not). Answers how many went.
    ///
    /// # Errors
    /// `Database`.
    pub async fn delete_all(&self, user: &UserId) -> Result<u64, FileError> {
        let ids = self.inner.store.take_all(user).await?;
        for id in &ids {
            upload::discard(&self.path_of(id)).await;
        }
        Ok(ids.len() as u64)
    }

    /// Deletes every file past its expiry. Answers how many went.
    ///
    /// # Errors
    /// `Database`.
    pub async fn delete_expired(&self) -> Result<u64, FileError> {
        let expired = self.inner.store.take_expired(now_ms()).await?;
        for id in &expired {
            upload::discard(&self.path_of(id)).await;
        }
        Ok(expired.len() as u64)
    }

    /// Runs a read of files on a blocking thread, a few at a time.
    async fn read_blocking<T: Send + 'static>(&self, read: impl FnOnce() -> Result<T, FileError> + Send + 'static) -> Result<T, FileError> {
        let _permit = self.inner.readers.acquire().await.map_err(|_| FileError::Interrupted)?;
        tokio::task::spawn_blocking(read).await.map_err(|_| FileError::Interrupted)?
    }

    /// Where a file's bytes are; IDs are UUIDs made here, never a name from outside.
    fn path_of(&self, id: &str) -> PathBuf {
        self.inner.dir.join(id)
    }
}
