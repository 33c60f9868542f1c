//! Server secrets kept in the data directory: generated on first run, readable by the owner only.

mod cipher;

pub use cipher::{Cipher, OpenError};

use std::fs::{self, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;
use secrecy::{SecretBox, SecretString};

/// The last four characters of a secret: the only part of a saved token or key ever shown again.
pub fn last_four(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars[chars.len().saturating_sub(4)..].iter().collect()
}

/// Bytes of randomness in a generated secret (256 bits).
const SECRET_BYTES: usize = 32;

/// Errors reading or creating a secret file.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("could not read or create the secret file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the secret file {path} is empty or damaged: delete it to have a new one generated")]
    Damaged { path: PathBuf },
    #[error("{what} must be 32 bytes encoded as base64 (generate one with `openssl rand -base64 32`)")]
    BadKey { what: &'static str },
}

/// Reads the secret stored at `path`, generating and saving a new one when the file is missing.
///
/// The file is created with mode 0600, and an existing one is tightened to 0600.
///
/// # Errors
/// `Io` when the file can't be read or written, `Damaged` when it is empty.
pub fn load_or_create(path: &Path) -> Result<SecretString, SecretError> {
    let io = |source| SecretError::Io { path: path.to_owned(), source };
    match fs::read_to_string(path) {
        Ok(text) => {
            restrict_to_owner(path).map_err(io)?;
            let text = text.trim();
            if text.is_empty() {
                return Err(SecretError::Damaged { path: path.to_owned() });
            }
            Ok(SecretString::from(text))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => {
            if let Some(parent) = path.parent() {
                fs::create_dir_all(parent).map_err(io)?;
            }
            let secret = generate();
            let mut file = create_owner_only(path).map_err(io)?;
            file.write_all(secret.as_bytes()).and_then(|()| file.sync_all()).map_err(io)?;
            tracing::info!(file = %path.display(), "generated a new server secret");
            Ok(SecretString::from(secret))
        }
        Err(e) => Err(io(e)),
    }
}

/// Decodes a base64 key of exactly 32 bytes, such as the encryption key for stored secrets.
///
/// # Errors
/// `BadKey`, naming `what`, when the text is not base64 or not 32 bytes long.
pub fn decode_key(text: &str, what: &'static str) -> Result<SecretBox<[u8; 32]>, SecretError> {
    let bytes = STANDARD.decode(text.trim()).map_err(|_| SecretError::BadKey { what })?;
    let key: [u8; 32] = bytes.try_into().map_err(|_| SecretError::BadKey { what })?;
    Ok(SecretBox::new(Box::new(key)))
}

fn generate() -> String {
    let mut bytes = [0u8; SECRET_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    STANDARD.encode(bytes)
}

#[cfg(unix)]
fn create_owner_only(path: &Path) -> std::io::Result<fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn create_owner_only(path: &Path) -> std::io::Result<fs::File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn restrict_to_owner(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)?.permissions().mode() & 0o777;
    if mode != 0o600 {
        tracing::warn!(file = %path.display(), mode = format!("{mode:o}"), "secret file was readable by others; restricting it to 0600");
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn a_missing_secret_is_generated_once_and_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys/jwt_secret");
        let first = load_or_create(&path).unwrap();
        let second = load_or_create(&path).unwrap();
        assert_eq!(first.expose_secret(), second.expose_secret());
        assert_eq!(decode_key(first.expose_secret(), "k").unwrap().expose_secret().len(), 32);
    }

    #[cfg(unix)]
    #[test]
    fn secret_files_are_readable_by_their_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("encryption_key");
        load_or_create(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);

        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        load_or_create(&path).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }

    #[test]
    fn two_generated_secrets_differ() {
        assert_ne!(generate(), generate());
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused() {
        let short = STANDARD.encode([1u8; 16]);
        assert!(matches!(decode_key(&short, "the key"), Err(SecretError::BadKey { .. })));
        assert!(matches!(decode_key("not base64!", "the key"), Err(SecretError::BadKey { .. })));
    }

    #[test]
    fn an_empty_secret_file_is_reported_as_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jwt_secret");
        fs::write(&path, "").unwrap();
        assert!(matches!(load_or_create(&path), Err(SecretError::Damaged { .. })));
    }
}
