//! Password rules and argon2id hashing, with a process-wide bound on concurrent hashing.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 10;

/// How long a hash waits for a free slot before the request is turned away with 503.
const HASH_WAIT: Duration = Duration::from_secs(5);

/// Why a new password was refused; shown to the user as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordRuleError {
    #[error("Use at least {MIN_LENGTH} characters.")]
    TooShort,
    #[error("Choose a password that is not your email address.")]
    SameAsEmail,
}

/// Every hashing slot was taken for longer than the wait: the server is busy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the password hashing slots stayed busy")]
pub struct HashBusy;

/// Checks a new password against the rules: long enough, and not the email address.
///
/// # Errors
/// The first rule the password breaks.
pub fn check_rules(password: &str, email: &str) -> Result<(), PasswordRuleError> {
    if password.chars().count() < MIN_LENGTH {
        return Err(PasswordRuleError::TooShort);
    }
    if password.trim().eq_ignore_ascii_case(email.trim()) {
        return Err(PasswordRuleError::SameAsEmail);
    }
    Ok(())
}

/// Runs argon2 work on the blocking threads, at most `slots` at a time. Each hash holds about
/// 19 MiB, so without this bound a burst of sign-ups or log-ins grows memory without limit.
#[derive(Clone)]
pub struct HashGate {
    slots: Arc<Semaphore>,
    wait: Duration,
}

impl HashGate {
    /// A gate with `slots` concurrent hashes (at least one), waiting up to `wait` for a slot.
    pub fn new(slots: usize, wait: Duration) -> Self {
        Self { slots: Arc::new(Semaphore::new(slots.max(1))), wait }
    }

    /// The process-wide gate: one slot per CPU core.
    pub fn global() -> &'static HashGate {
        static GATE: LazyLock<HashGate> = LazyLock::new(|| {
            return_large_blocks_to_the_system();
            let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
            HashGate::new(cores, HASH_WAIT)
        });
        &GATE
    }

    /// Runs `work` on a blocking thread once a slot is free.
    ///
    /// # Errors
    /// `HashBusy` when no slot came free within the wait.
    pub async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, HashBusy> {
        let permit = tokio::time::timeout(self.wait, Arc::clone(&self.slots).acquire_owned())
            .await
            .map_err(|_| HashBusy)?
            .map_err(|_| HashBusy)?;
        let done = tokio::task::spawn_blocking(move || {
            // Released when the work ends, even if the caller has gone away meanwhile.
            let _permit = permit;
            work()
        })
        .await;
        done.map_err(|_| HashBusy)
    }
}

/// Makes glibc's allocator serve blocks of 4 MiB and more from `mmap`, so that they go back to
/// the system when freed. By default its threshold rises to the size of the first large block
/// freed, after which such blocks come from the heap; argon2's 19 MiB, 64-byte-aligned block
/// was then never reused there, and every hash kept another 19 MiB (200 sign-ups held about
/// 3.8 GB). Other C libraries return large blocks as it is.
fn return_large_blocks_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes a tuning parameter of the allocator, and may be called at any time.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
    }
}

/// Hashes a password with argon2id and a random salt, off the async threads (it takes ~20 ms of CPU).
///
/// # Errors
/// `HashBusy` when too many hashes are already running.
pub async fn hash(password: String) -> Result<String, HashBusy> {
    HashGate::global()
        .run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .expect("argon2 with default parameters hashes any password")
                .to_string()
        })
        .await
}

/// Whether `password` matches `stored`, a PHC string from [`hash`]. A damaged hash never matches.
///
/// # Errors
/// `HashBusy` when too many hashes are already running.
pub async fn verify(password: String, stored: String) -> Result<bool, HashBusy> {
    HashGate::global()
        .run(move || {
            PasswordHash::new(&stored)
                .map(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
                .unwrap_or(false)
        })
        .await
}

/// A hash to verify against when no account matches, so that a login for an unknown email
/// takes as long as one with a wrong password.
///
/// # Errors
/// `HashBusy` when too many hashes are already running.
pub async fn dummy_hash() -> Result<&'static str, HashBusy> {
    static DUMMY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DUMMY.get_or_try_init(|| hash("not a real password, only for timing".into())).await.map(String::as_str)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn short_passwords_and_the_email_itself_are_refused() {
        assert_eq!(check_rules("short", "a@b.co"), Err(PasswordRuleError::TooShort));
        assert_eq!(check_rules("Ada@Example.com", "ada@example.com"), Err(PasswordRuleError::SameAsEmail));
        assert_eq!(check_rules("correct horse battery", "ada@example.com"), Ok(()));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let stored = hash("correct horse battery".into()).await.unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify("correct horse battery".into(), stored.clone()).await.unwrap());
        assert!(!verify("correct horse battery!".into(), stored).await.unwrap());
        assert!(!verify("anything".into(), "not a hash".into()).await.unwrap());
    }

    #[tokio::test]
    async fn the_gate_never_runs_more_hashes_at_once_than_it_has_slots() {
        let gate = HashGate::new(2, Duration::from_secs(60));
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    gate.run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(5));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert!(most.load(Ordering::SeqCst) <= 2, "{} hashes ran at once", most.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_hash_is_turned_away_while_every_slot_stays_taken() {
        let gate = HashGate::new(1, Duration::from_millis(50));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (started, is_started) = tokio::sync::oneshot::channel::<()>();
        let holder = {
            let gate = gate.clone();
            tokio::spawn(async move {
                gate.run(move || {
                    let _ = started.send(());
                    let _ = released.recv();
                })
                .await
            })
        };
        is_started.await.unwrap();
        assert_eq!(gate.run(|| ()).await, Err(HashBusy));
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        assert_eq!(gate.run(|| 7).await, Ok(7));
    }
}
