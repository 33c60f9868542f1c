//! An upload's way onto disk: streamed to a part file under the size limit, then read to learn
//! what it is. A refused or failed upload leaves nothing behind.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use super::read::{Layout, Scan, scan};
use super::{FileError, detect};
use crate::model::files::FileKind;

/// The longest name kept for display.
const MAX_NAME_CHARS: usize = 200;

/// Streams `body` to `path`, refusing it once it passes `max_bytes`. Answers its size.
pub(super) async fn write<S, E>(dir: &Path, path: &Path, mut body: S, max_bytes: u64) -> Result<u64, FileError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    crate::db::create_private_dir(dir)?;
    let part = part_path(path);
    let mut file = tokio::fs::File::create(&part).await?;
    let mut size = 0u64;
    let outcome = async {
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| {
                tracing::info!(error = %e, "an upload stopped before its end");
                FileError::Interrupted
            })?;
            size += chunk.len() as u64;
            if size > max_bytes {
                return Err(FileError::TooLarge { limit_mb: max_bytes.div_ceil(1024 * 1024) });
            }
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(())
    }
    .await;
    drop(file);
    match outcome {
        Ok(()) => {
            tokio::fs::rename(&part, path).await?;
            Ok(size)
        }
        Err(e) => {
            discard(&part).await;
            Err(e)
        }
    }
}

fn part_path(path: &Path) -> PathBuf {
    let mut part = path.as_os_str().to_owned();
    part.push(".part");
    PathBuf::from(part)
}

/// Removes a file, logging (not failing) when it can't.
pub(super) async fn discard(path: &Path) {
    match tokio::fs::remove_file(path).await {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!(error = %e, path = %path.display(), "could not delete a file"),
    }
}

/// What a new upload turned out to be.
pub(super) struct NewFile {
    pub kind: FileKind,
    pub layout: Layout,
    /// Rows and columns, for a table.
    pub scan: Option<Scan>,
}

/// Tells the kind of the file at `path` and, for a table, reads every row of it (of a
/// workbook's first sheet).
pub(super) fn read_new(path: &Path, name: &str) -> Result<NewFile, FileError> {
    let (kind, layout) = detect(path, name)?;
    let scan = if kind.is_table() { Some(scan(path, &layout, None)?) } else { None };
    Ok(NewFile { kind, layout, scan })
}

/// The name to show: its last path part, without control characters, at most 200 characters.
pub(super) fn display_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(MAX_NAME_CHARS).collect();
    let clean = clean.trim();
    if clean.is_empty() { "upload".into() } else { clean.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_lose_their_folders_and_control_characters() {
        assert_eq!(display_name("C:\\Users\\ada\\people.csv"), "people.csv");
        assert_eq!(display_name("../../etc/passwd\u{0}"), "passwd");
        assert_eq!(display_name("  "), "upload");
    }

    #[tokio::test]
    async fn an_upload_over_the_limit_leaves_nothing_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("files").join("f1");
        let chunks = futures::stream::iter((0..5).map(|_| Ok::<_, std::io::Error>(Bytes::from(vec![b'a'; 1000]))));
        let error = write(&dir.path().join("files"), &path, chunks, 3_500).await.unwrap_err();
        assert!(matches!(error, FileError::TooLarge { limit_mb: 1 }), "{error:?}");
        assert_eq!(std::fs::read_dir(dir.path().join("files")).unwrap().count(), 0);
    }
}
