//! The process-wide Airtable rate limiter: requests per base and per token, and 429 penalties.
//!
//! Airtable allows 5 requests per second per base and 50 per second per token, and answers a
//! request over that with 429 and a 30-second penalty. Every client in the process shares one
//! `Limiter`, so concurrent callers queue here instead of at Airtable. Requests are spaced
//! evenly (no bursts) and slightly under the limit, so network jitter between two requests
//! can't squeeze six into one second at the far end.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::{DefaultKeyedRateLimiter, Quota};

use crate::model::airtable::BaseId;

/// How fast the client may go; Airtable's documented limits by default.
#[derive(Debug, Clone)]
pub struct LimiterSettings {
    pub requests_per_second_per_base: u32,
    pub requests_per_second_per_token: u32,
    /// How long Airtable refuses every request after a 429.
    pub penalty: Duration,
}

impl Default for LimiterSettings {
    fn default() -> Self {
        Self { requests_per_second_per_base: 5, requests_per_second_per_token: 50, penalty: Duration::from_secs(30) }
    }
}

/// Spacing headroom: 3% under the limit keeps a steady stream clear of it at the far end.
const HEADROOM: f64 = 1.03;

/// A limiter's view of one base, for the status page.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseLimitState {
    pub base_id: String,
    pub requests: u64,
    pub waited: Duration,
    pub rate_limited: u64,
    /// Time left in a 429 penalty, if one is running.
    pub penalty_left: Option<Duration>,
}

#[derive(Default)]
struct Counters {
    requests: u64,
    waited: Duration,
    rate_limited: u64,
    penalty_until: Option<Instant>,
    last_seen: Option<Instant>,
}

/// How often idle bases and tokens are dropped from the limiter's maps.
const PRUNE_EVERY: Duration = Duration::from_secs(60);

/// A base not called for this long leaves the status page's counters.
const IDLE_BASE: Duration = Duration::from_secs(3600);

/// Shared, cheaply cloned rate limiter for every Airtable call in the process.
#[derive(Clone)]
pub struct Limiter {
    per_base: Arc<DefaultKeyedRateLimiter<String>>,
    per_token: Arc<DefaultKeyedRateLimiter<String>>,
    bases: Arc<Mutex<HashMap<String, Counters>>>,
    penalty: Duration,
    last_prune: Arc<Mutex<Instant>>,
}

impl Limiter {
    pub fn new(settings: &LimiterSettings) -> Self {
        Self {
            per_base: Arc::new(DefaultKeyedRateLimiter::keyed(even_quota(settings.requests_per_second_per_base))),
            per_token: Arc::new(DefaultKeyedRateLimiter::keyed(even_quota(settings.requests_per_second_per_token))),
            bases: Arc::new(Mutex::new(HashMap::new())),
            penalty: settings.penalty,
            last_prune: Arc::new(Mutex::new(Instant::now())),
        }
    }

    /// Waits until a request to `base` with the token known by `token_key` may go, and returns
    /// how long that took. `token_key` is a fingerprint, never the token itself.
    pub async fn acquire(&self, token_key: &str, base: Option<&BaseId>) -> Duration {
        let started = Instant::now();
        if let Some(base) = base {
            if let Some(until) = self.penalty_until(base) {
                tokio::time::sleep_until(until.into()).await;
            }
            self.per_base.until_key_ready(&base.as_str().to_owned()).await;
        }
        self.per_token.until_key_ready(&token_key.to_owned()).await;
        let waited = started.elapsed();
        if let Some(base) = base {
            let mut bases = self.bases.lock().expect("limiter counters lock");
            let counters = bases.entry(base.as_str().to_owned()).or_default();
            counters.requests += 1;
            counters.waited += waited;
            counters.last_seen = Some(Instant::now());
        }
        self.prune_now_and_then();
        waited
    }

    /// Drops the state of bases and tokens that have gone idle, at most once per
    /// [`PRUNE_EVERY`], so every base ID ever named does not stay in memory.
    fn prune_now_and_then(&self) {
        {
            let mut last = self.last_prune.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if last.elapsed() < PRUNE_EVERY {
                return;
            }
            *last = Instant::now();
        }
        self.prune(Instant::now());
    }

    fn prune(&self, now: Instant) {
        self.per_base.retain_recent();
        self.per_base.shrink_to_fit();
        self.per_token.retain_recent();
        self.per_token.shrink_to_fit();
        let mut bases = self.bases.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        bases.retain(|_, c| {
            c.penalty_until.is_some_and(|until| until > now) || c.last_seen.is_some_and(|seen| now.duration_since(seen) < IDLE_BASE)
        });
    }

    /// Records a 429 from Airtable: every request to `base` now waits out the penalty, which is
    /// the server's `Retry-After` when it sent one shorter than Airtable's.
    /// Returns how long the caller should wait before retrying.
    pub fn rate_limited(&self, base: Option<&BaseId>, retry_after: Option<Duration>) -> Duration {
        let penalty = retry_after.map_or(self.penalty, |wait| wait.min(self.penalty));
        if let Some(base) = base {
            let mut bases = self.bases.lock().expect("limiter counters lock");
            let counters = bases.entry(base.as_str().to_owned()).or_default();
            counters.rate_limited += 1;
            counters.penalty_until = Some(Instant::now() + penalty);
            counters.last_seen = Some(Instant::now());
        }
        penalty
    }

    /// Every base this process has called, busiest first.
    /// [`Limiter::snapshot`] as the status page shows it.
    pub fn states(&self) -> Vec<crate::model::analytics::LimiterBase> {
        let millis = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self.snapshot()
            .into_iter()
            .map(|b| crate::model::analytics::LimiterBase {
                base_id: b.base_id,
                requests: b.requests,
                waited_ms: millis(b.waited),
                rate_limited: b.rate_limited,
                penalty_left_ms: b.penalty_left.map(millis),
            })
            .collect()
    }

    pub fn snapshot(&self) -> Vec<BaseLimitState> {
        let now = Instant::now();
        let bases = self.bases.lock().expect("limiter counters lock");
        let mut states: Vec<BaseLimitState> = bases
            .iter()
            .map(|(base_id, c)| BaseLimitState {
                base_id: base_id.clone(),
                requests: c.requests,
                waited: c.waited,
                rate_limited: c.rate_limited,
                penalty_left: c.penalty_until.filter(|until| *until > now).map(|until| until - now),
            })
            .collect();
        states.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.base_id.cmp(&b.base_id)));
        states
    }

    fn penalty_until(&self, base: &BaseId) -> Option<Instant> {
        let bases = self.bases.lock().expect("limiter counters lock");
        bases.get(base.as_str()).and_then(|c| c.penalty_until).filter(|until| *until > Instant::now())
    }
}

/// One request every (1 s / rate) plus headroom, with no burst allowance.
fn even_quota(per_second: u32) -> Quota {
    let per_second = f64::from(per_second.max(1));
    let period = Duration::from_secs_f64(HEADROOM / per_second);
    Quota::with_period(period).expect("a positive period").allow_burst(NonZeroU32::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseId {
        BaseId::parse("appAAAAAAAAAAAAAA").unwrap()
    }

    #[tokio::test]
    async fn requests_to_one_base_are_spaced_under_the_limit() {
        let limiter = Limiter::new(&LimiterSettings { requests_per_second_per_base: 20, ..Default::default() });
        let started = Instant::now();
        for _ in 0..5 {
            limiter.acquire("token", Some(&base())).await;
        }
        // Five evenly spaced requests at 20/s span at least four intervals of 50 ms.
        assert!(started.elapsed() >= Duration::from_millis(200), "{:?}", started.elapsed());
        assert_eq!(limiter.snapshot()[0].requests, 5);
    }

    #[tokio::test]
    async fn a_rate_limited_base_waits_out_its_penalty() {
        let limiter = Limiter::new(&LimiterSettings { penalty: Duration::from_millis(150), ..Default::default() });
        assert_eq!(limiter.rate_limited(Some(&base()), None), Duration::from_millis(150));
        assert!(limiter.snapshot()[0].penalty_left.is_some());
        let waited = limiter.acquire("token", Some(&base())).await;
        assert!(waited >= Duration::from_millis(100), "{waited:?}");
        assert_eq!(limiter.snapshot()[0].rate_limited, 1);
    }

    #[tokio::test]
    async fn idle_bases_are_pruned() {
        let limiter = Limiter::new(&LimiterSettings { requests_per_second_per_base: 1000, ..Default::default() });
        limiter.acquire("token", Some(&base())).await;
        // Well past the ~1 ms a request at 1000/s holds the base's quota.
        tokio::time::sleep(Duration::from_millis(50)).await;
        limiter.prune(Instant::now());
        assert_eq!(limiter.per_base.len(), 0, "governor keeps no state for a base back at full quota");
        assert_eq!(limiter.snapshot().len(), 1, "a base called just now stays on the status page");
        limiter.prune(Instant::now() + IDLE_BASE);
        assert!(limiter.snapshot().is_empty());
    }

    #[test]
    fn a_shorter_retry_after_shortens_the_penalty_and_a_longer_one_is_capped() {
        let limiter = Limiter::new(&LimiterSettings::default());
        assert_eq!(limiter.rate_limited(Some(&base()), Some(Duration::from_secs(1))), Duration::from_secs(1));
        assert!(limiter.snapshot()[0].penalty_left.unwrap() <= Duration::from_secs(1));
        assert_eq!(limiter.rate_limited(Some(&base()), Some(Duration::from_secs(600))), Duration::from_secs(30));
    }
}
