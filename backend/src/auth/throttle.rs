//! Login throttling per account and per IP address. Counters live in the database, so every
//! server on a shared PostgreSQL enforces the same limits.

use std::net::IpAddr;

use super::AuthError;
use crate::clock::now_ms;
use crate::db::Db;

/// Failures an account may have before each further one locks it for a while.
const FREE_FAILURES_PER_ACCOUNT: i64 = 3;
/// An address is shared by many people (offices, NAT), so it gets more room.
const FREE_FAILURES_PER_IP: i64 = 20;
/// The lock doubles with each further failure, up to this.
const MAX_LOCK_MS: i64 = 15 * 60 * 1000;
/// A counter with no failure for this long starts again from zero.
const FORGET_AFTER_MS: i64 = 60 * 60 * 1000;

/// The throttle counters.
#[derive(Clone)]
pub struct LoginThrottle {
    db: Db,
}

fn account_key(email: &str) -> String {
    format!("account:{}", email.trim().to_lowercase())
}

fn ip_key(ip: IpAddr) -> String {
    format!("ip:{ip}")
}

/// How long a key is locked after its `failures`-th failure, given `free` failures without a lock.
fn lock_ms(failures: i64, free: i64) -> i64 {
    if failures <= free {
        return 0;
    }
    let doublings = u32::try_from((failures - free - 1).min(20)).unwrap_or(20);
    (1000_i64 << doublings).min(MAX_LOCK_MS)
}

impl LoginThrottle {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    /// Refuses a login attempt while the account or the address is locked.
    ///
    /// # Errors
    /// `Throttled` with the seconds to wait.
    pub async fn check(&self, email: &str, ip: Option<IpAddr>) -> Result<(), AuthError> {
        let now = now_ms();
        let mut keys = vec![account_key(email)];
        keys.extend(ip.map(ip_key));
        let mut wait_ms = 0;
        for key in keys {
            let locked: Option<i64> =
                sqlx::query_scalar("SELECT locked_until_ms FROM login_failures WHERE throttle_key = $1")
                    .bind(key)
                    .fetch_optional(self.db.pool())
                    .await?;
            wait_ms = wait_ms.max(locked.unwrap_or(0) - now);
        }
        if wait_ms > 0 {
            let retry_after_s = u64::try_from((wait_ms + 999) / 1000).unwrap_or(1);
            return Err(AuthError::Throttled { retry_after_s });
        }
        Ok(())
    }

    /// Counts a failed attempt against the account and the address.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn record_failure(&self, email: &str, ip: Option<IpAddr>) -> Result<(), AuthError> {
        self.bump(&account_key(email), FREE_FAILURES_PER_ACCOUNT).await?;
        if let Some(ip) = ip {
            self.bump(&ip_key(ip), FREE_FAILURES_PER_IP).await?;
        }
        Ok(())
    }

    /// Clears the account's counter after a successful login. The address keeps its count, so
    /// that one good login can't reset a spray across many accounts.
    ///
    /// # Errors
    /// `Db` when the database fails.
    pub async fn record_success(&self, email: &str) -> Result<(), AuthError> {
        sqlx::query("DELETE FROM login_failures WHERE throttle_key = $1")
            .bind(account_key(email))
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn bump(&self, key: &str, free: i64) -> Result<(), AuthError> {
        let now = now_ms();
        // One statement, so concurrent failures on several servers each count.
        let failures: i64 = sqlx::query_scalar(
            "INSERT INTO login_failures (throttle_key, failures, locked_until_ms, last_failure_ms) VALUES ($1, 1, 0, $2) \
             ON CONFLICT (throttle_key) DO UPDATE SET \
               failures = CASE WHEN login_failures.last_failure_ms < $3 THEN 1 ELSE login_failures.failures + 1 END, \
               last_failure_ms = $2 \
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(now - FORGET_AFTER_MS)
        .fetch_one(self.db.pool())
        .await?;
        let lock = lock_ms(failures, free);
        if lock > 0 {
            sqlx::query("UPDATE login_failures SET locked_until_ms = $1 WHERE throttle_key = $2")
                .bind(now + lock)
                .bind(key)
                .execute(self.db.pool())
                .await?;
        }
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

    #[tokio::test]
    async fn an_account_is_locked_after_repeated_failures_and_freed_by_success() {
        let (_dir, db) = crate::db::migrated_test_db().await;
        let throttle = LoginThrottle::new(db);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for _ in 0..FREE_FAILURES_PER_ACCOUNT {
            throttle.check("ada@example.com", Some(ip)).await.unwrap();
            throttle.record_failure("ada@example.com", Some(ip)).await.unwrap();
        }
        throttle.check("ada@example.com", Some(ip)).await.unwrap();
        throttle.record_failure("Ada@example.com", Some(ip)).await.unwrap();
        let locked = throttle.check("ada@example.com", Some(ip)).await;
        assert!(matches!(locked, Err(AuthError::Throttled { retry_after_s: 1 })), "{locked:?}");
        // Other accounts from the same address are not locked yet.
        throttle.check("bob@example.com", Some(ip)).await.unwrap();
        throttle.record_success("ada@example.com").await.unwrap();
        throttle.check("ada@example.com", Some(ip)).await.unwrap();
    }
}
