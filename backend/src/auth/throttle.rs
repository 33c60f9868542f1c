//! Login throttling per account and address pair, per account, and per IP address. Counters
//! live in the database, so every server on a shared PostgreSQL enforces the same limits.
//!
//! An attempt is counted *before* its password is checked, and given back when it turns out to
//! be right. A lock is taken in the same statement that counts, so a burst of concurrent guesses
//! can't all pass the check while the first of them is still being hashed.

use std::net::IpAddr;

use super::AuthError;
use crate::clock::now_ms;
use crate::db::Db;

/// Failures one account may have from one address before each further one locks that pair.
const FREE_FAILURES_PER_PAIR: i64 = 3;
/// Failures an account may have from every address together. Much larger than the pair's, so
/// that someone failing from elsewhere does not lock the owner out, yet a guesser spread over
/// many addresses is still slowed down.
const FREE_FAILURES_PER_ACCOUNT: i64 = 50;
/// An address is shared by many people (offices, NAT), so it gets more room than a pair.
const FREE_FAILURES_PER_IP: i64 = 20;
/// The lock doubles with each further failure, up to this.
const MAX_LOCK_MS: i64 = 15 * 60 * 1000;
/// A counter with no failure for this long starts again from zero.
const FORGET_AFTER_MS: i64 = 60 * 60 * 1000;
/// Concurrent attempts racing on one counter retry this often before being told to wait.
const RACE_RETRIES: usize = 3;

/// The throttle counters.
#[derive(Clone)]
pub struct LoginThrottle {
    db: Db,
}

/// One counter: its key in `login_failures` and how many failures it allows without a lock.
struct Counter {
    key: String,
    free: i64,
}

fn normalized(email: &str) -> String {
    email.trim().to_lowercase()
}

fn pair(email: &str, ip: Option<IpAddr>) -> Counter {
    let ip = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    Counter { key: format!("pair:{}|{ip}", normalized(email)), free: FREE_FAILURES_PER_PAIR }
}

fn account(email: &str) -> Counter {
    Counter { key: format!("account:{}", normalized(email)), free: FREE_FAILURES_PER_ACCOUNT }
}

fn address(ip: IpAddr) -> Counter {
    Counter { key: format!("ip:{ip}"), free: FREE_FAILURES_PER_IP }
}

/// Every counter an attempt on `email` from `ip` is counted against.
fn counters(email: &str, ip: Option<IpAddr>) -> Vec<Counter> {
    let mut all = vec![pair(email, ip), account(email)];
    all.extend(ip.map(address));
    all
}

/// How long a key is locked after its `failures`-th failure, given `free` failures without a lock.
fn lock_ms(failures: i64, free: i64) -> i64 {
    if failures <= free {
        return 0;
    }
    let doublings = u32::try_from((failures - free - 1).min(20)).unwrap_or(20);
    (1000_i64 << doublings).min(MAX_LOCK_MS)
}

fn throttled(wait_ms: i64) -> AuthError {
    let retry_after_s = u64::try_from((wait_ms + 999) / 1000).unwrap_or(1).max(1);
    AuthError::Throttled { retry_after_s }
}

impl LoginThrottle {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Counts an attempt on `email` from `ip` before its password is checked, or refuses it
    /// while the pair, the account or the address is locked. A wrong password needs nothing
    /// more; call [`succeeded`](Self::succeeded) when it was right, and
    /// [`refund`](Self::refund) when it could not be checked at all.
    ///
    /// # Errors
    /// `Throttled` with the seconds to wait, or `Db`.
    pub async fn begin(&self, email: &str, ip: Option<IpAddr>) -> Result<(), AuthError> {
        let all = counters(email, ip);
        // A locked key refuses before any counter moves.
        let now = now_ms();
        let mut wait_ms = 0;
        for counter in &all {
            wait_ms = wait_ms.max(self.locked_until(&counter.key).await?.unwrap_or(0) - now);
        }
        if wait_ms > 0 {
            return Err(throttled(wait_ms));
        }
        for counter in &all {
            self.count(counter).await?;
        }
        Ok(())
    }

    /// The attempt's password was right: the pair starts again from zero, and the attempt is
    /// given back to the account and the address. The address keeps its other failures, so a
    /// good login can't reset a spray across many accounts.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn succeeded(&self, email: &str, ip: Option<IpAddr>) -> Result<(), AuthError> {
        sqlx::query("DELETE FROM login_failures WHERE throttle_key = $1")
            .bind(pair(email, ip).key)
            .execute(self.db.pool())
            .await?;
        self.give_back(&account(email)).await?;
        if let Some(ip) = ip {
            self.give_back(&address(ip)).await?;
        }
        Ok(())
    }

    /// The attempt was counted but its password never checked (the server was busy or failed):
    /// it is given back to every counter.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn refund(&self, email: &str, ip: Option<IpAddr>) -> Result<(), AuthError> {
        for counter in counters(email, ip) {
            self.give_back(&counter).await?;
        }
        Ok(())
    }

    async fn locked_until(&self, key: &str) -> Result<Option<i64>, AuthError> {
        Ok(sqlx::query_scalar("SELECT locked_until_ms FROM login_failures WHERE throttle_key = $1")
            .bind(key)
            .fetch_optional(self.db.pool())
            .await?)
    }

    /// Counts one attempt on `counter` unless it is locked, and locks it at once when this
    /// attempt is past the free ones, so a concurrent attempt finds it locked.
    async fn count(&self, counter: &Counter) -> Result<(), AuthError> {
        for _ in 0..RACE_RETRIES {
            let now = now_ms();
            // One statement counts and takes the first second of the lock, so two servers can't
            // both slip through; the full lock follows below.
            let counted: Option<i64> = sqlx::query_scalar(
                "UPDATE login_failures SET \
                   failures = CASE WHEN last_failure_ms < $3 THEN 1 ELSE failures + 1 END, \
                   locked_until_ms = CASE WHEN (CASE WHEN last_failure_ms < $3 THEN 1 ELSE failures + 1 END) > $4 \
                                     THEN $2 + 1000 ELSE 0 END, \
                   last_failure_ms = $2 \
                 WHERE throttle_key = $1 AND locked_until_ms <= $2 \
                 RETURNING failures",
            )
            .bind(&counter.key)
            .bind(now)
            .bind(now - FORGET_AFTER_MS)
            .bind(counter.free)
            .fetch_optional(self.db.pool())
            .await?;
            let counted = match counted {
                Some(failures) => Some(failures),
                None => {
                    sqlx::query_scalar(
                        "INSERT INTO login_failures (throttle_key, failures, locked_until_ms, last_failure_ms) \
                         VALUES ($1, 1, $2, $3) ON CONFLICT (throttle_key) DO NOTHING RETURNING failures",
                    )
                    .bind(&counter.key)
                    .bind(if counter.free < 1 { now + 1000 } else { 0 })
                    .bind(now)
                    .fetch_optional(self.db.pool())
                    .await?
                }
            };
            if let Some(failures) = counted {
                let lock = lock_ms(failures, counter.free);
                if lock > 1000 {
                    sqlx::query("UPDATE login_failures SET locked_until_ms = $1 WHERE throttle_key = $2 AND failures = $3")
                        .bind(now + lock)
                        .bind(&counter.key)
                        .bind(failures)
                        .execute(self.db.pool())
                        .await?;
                }
                return Ok(());
            }
            // Neither counted nor inserted: the key is locked, or another attempt just made it.
            let wait_ms = self.locked_until(&counter.key).await?.unwrap_or(0) - now_ms();
            if wait_ms > 0 {
                return Err(throttled(wait_ms));
            }
        }
        Err(throttled(1000))
    }

    /// Takes one attempt back off `counter`, and lifts its lock once it is within the free ones.
    async fn give_back(&self, counter: &Counter) -> Result<(), AuthError> {
        sqlx::query(
            "UPDATE login_failures SET \
               failures = failures - 1, \
               locked_until_ms = CASE WHEN failures - 1 <= $2 THEN 0 ELSE locked_until_ms END \
             WHERE throttle_key = $1 AND failures > 0",
        )
        .bind(&counter.key)
        .bind(counter.free)
        .execute(self.db.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_starts_after_the_free_failures_and_doubles() {
        assert_eq!(lock_ms(3, 3), 0);
        assert_eq!(lock_ms(4, 3), 1000);
        assert_eq!(lock_ms(5, 3), 2000);
        assert_eq!(lock_ms(6, 3), 4000);
        assert_eq!(lock_ms(100, 3), MAX_LOCK_MS);
    }

    async fn throttle() -> (tempfile::TempDir, LoginThrottle) {
        let (dir, db) = crate::db::migrated_test_db().await;
        (dir, LoginThrottle::new(db))
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[tokio::test]
    async fn a_pair_is_locked_after_repeated_failures_and_freed_by_success() {
        let (_dir, throttle) = throttle().await;
        for _ in 0..=FREE_FAILURES_PER_PAIR {
            throttle.begin("ada@example.com", ip("192.0.2.7")).await.unwrap();
        }
        let locked = throttle.begin("Ada@example.com", ip("192.0.2.7")).await;
        assert!(matches!(locked, Err(AuthError::Throttled { retry_after_s: 1 })), "{locked:?}");
        // Other accounts from the same address are not locked.
        throttle.begin("bob@example.com", ip("192.0.2.7")).await.unwrap();
        throttle.succeeded("ada@example.com", ip("192.0.2.7")).await.unwrap();
        throttle.begin("ada@example.com", ip("192.0.2.7")).await.unwrap();
    }

    #[tokio::test]
    async fn failures_from_one_address_do_not_lock_the_account_from_another() {
        let (_dir, throttle) = throttle().await;
        for _ in 0..10 {
            let _ = throttle.begin("ada@example.com", ip("203.0.113.66")).await;
        }
        assert!(throttle.begin("ada@example.com", ip("203.0.113.66")).await.is_err());
        throttle.begin("ada@example.com", ip("198.51.100.1")).await.unwrap();
    }

    #[tokio::test]
    async fn concurrent_guesses_past_the_free_ones_are_refused_before_hashing() {
        let (_dir, throttle) = throttle().await;
        let guesses = (0..20).map(|_| throttle.begin("ada@example.com", ip("192.0.2.7")));
        let results = futures::future::join_all(guesses).await;
        let passed = results.iter().filter(|r| r.is_ok()).count();
        // The free attempts, plus the one that takes the first lock.
        assert!(passed <= usize::try_from(FREE_FAILURES_PER_PAIR).unwrap() + 1, "{passed} guesses passed");
        assert!(results.iter().all(|r| r.is_ok() || matches!(r, Err(AuthError::Throttled { .. }))));
    }

    #[tokio::test]
    async fn an_attempt_that_was_never_checked_is_given_back() {
        let (_dir, throttle) = throttle().await;
        for _ in 0..20 {
            throttle.begin("ada@example.com", ip("192.0.2.7")).await.unwrap();
            throttle.refund("ada@example.com", ip("192.0.2.7")).await.unwrap();
        }
        throttle.begin("ada@example.com", ip("192.0.2.7")).await.unwrap();
    }
}
