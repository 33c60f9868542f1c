//! The sandbox's own rate limits, enforced the way Airtable enforces them: at most N requests in
//! any one second per base (and per token), and over that a 429 followed by a penalty during
//! which every request to the base is refused.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::SandboxError;

const WINDOW: Duration = Duration::from_secs(1);

#[derive(Default)]
struct Window {
    recent: VecDeque<Instant>,
    penalty_until: Option<Instant>,
}

impl Window {
    /// Admits one request at `now`, or starts (or continues) a penalty and says how much of it
    /// is left.
    fn admit(&mut self, now: Instant, per_second: u32, penalty: Duration) -> Result<(), Duration> {
        if let Some(until) = self.penalty_until.filter(|until| now < *until) {
            return Err(until - now);
        }
        while self.recent.front().is_some_and(|t| now.duration_since(*t) >= WINDOW) {
            self.recent.pop_front();
        }
        if self.recent.len() >= per_second as usize {
            self.penalty_until = Some(now + penalty);
            return Err(penalty);
        }
        self.recent.push_back(now);
        Ok(())
    }
}

/// How often idle windows are swept out of the map.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

#[derive(Default)]
struct Windows {
    by_key: HashMap<String, Window>,
    last_sweep: Option<Instant>,
}

impl Windows {
    /// Drops windows with no request in the last second and no penalty running, at most once
    /// per [`SWEEP_EVERY`], so bases and tokens seen once do not stay in memory.
    fn sweep(&mut self, now: Instant) {
        if self.last_sweep.is_some_and(|last| now.duration_since(last) < SWEEP_EVERY) {
            return;
        }
        self.last_sweep = Some(now);
        self.by_key.retain(|_, w| {
            w.recent.back().is_some_and(|t| now.duration_since(*t) < WINDOW) || w.penalty_until.is_some_and(|u| u > now)
        });
    }
}

/// Shared per-base and per-token request windows.
#[derive(Clone)]
pub struct Gate {
    per_base: u32,
    per_token: u32,
    penalty: Duration,
    windows: Arc<Mutex<Windows>>,
}

impl Gate {
    /// A limit of 0 turns that limit off.
    pub fn new(per_base: u32, per_token: u32, penalty: Duration) -> Self {
        Self { per_base, per_token, penalty, windows: Arc::new(Mutex::new(Windows::default())) }
    }

    /// Lets a request through, or refuses it with Airtable's 429.
    ///
    /// # Errors
    /// `RATE_LIMIT_REACHED` over a limit, and throughout the penalty that follows.
    #[cfg(test)]
    pub fn admit(&self, token_owner: &str, base: Option<&str>) -> Result<(), SandboxError> {
        if let Some(base) = base {
            self.admit_base(base)?;
        }
        self.admit_token(token_owner)
    }

    /// Counts one request of the token's owner against the per-token limit.
    ///
    /// # Errors
    /// `RATE_LIMIT_REACHED` over the limit, and throughout the penalty that follows.
    pub fn admit_token(&self, token_owner: &str) -> Result<(), SandboxError> {
        if self.per_token == 0 {
            return Ok(());
        }
        self.count(format!("token:{token_owner}"), self.per_token)
    }

    /// Counts one request against `base`'s limit. Call it only once the caller is known to own
    /// the base, so nobody else can spend a base's budget.
    ///
    /// # Errors
    /// `RATE_LIMIT_REACHED` over the limit, and throughout the penalty that follows.
    pub fn admit_base(&self, base: &str) -> Result<(), SandboxError> {
        if self.per_base == 0 {
            return Ok(());
        }
        self.count(format!("base:{base}"), self.per_base)
    }

    fn count(&self, key: String, per_second: u32) -> Result<(), SandboxError> {
        let now = Instant::now();
        // A panic elsewhere while holding the lock leaves the windows usable.
        let mut windows = self.windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        windows.sweep(now);
        windows.by_key.entry(key).or_default().admit(now, per_second, self.penalty).map_err(SandboxError::rate_limited)
    }

    /// How many windows are held, for tests of the sweep.
    #[cfg(test)]
    fn held(&self) -> usize {
        self.windows.lock().map(|w| w.by_key.len()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sixth_request_in_a_second_is_refused_and_the_base_is_penalized() {
        let gate = Gate::new(5, 50, Duration::from_secs(30));
        for _ in 0..5 {
            gate.admit("u", Some("appA")).unwrap();
        }
        let refused = gate.admit("u", Some("appA")).unwrap_err();
        assert_eq!(refused.status, 429);
        assert_eq!(refused.retry_after, Some(Duration::from_secs(30)));
        // Another base of the same user is not affected.
        gate.admit("u", Some("appB")).unwrap();
    }

    #[test]
    fn a_window_admits_again_after_a_second_without_penalty() {
        let mut window = Window::default();
        let start = Instant::now();
        for _ in 0..5 {
            assert!(window.admit(start, 5, Duration::ZERO).is_ok());
        }
        assert!(window.admit(start + Duration::from_millis(1001), 5, Duration::ZERO).is_ok());
    }

    #[test]
    fn a_penalty_refuses_everything_until_it_ends() {
        let mut window = Window::default();
        let start = Instant::now();
        let penalty = Duration::from_secs(30);
        assert!(window.admit(start, 1, penalty).is_ok());
        assert_eq!(window.admit(start, 1, penalty), Err(penalty));
        assert_eq!(window.admit(start + Duration::from_secs(29), 1, penalty), Err(Duration::from_secs(1)));
        assert!(window.admit(start + Duration::from_secs(31), 1, penalty).is_ok());
    }

    #[test]
    fn idle_windows_are_swept_out() {
        let gate = Gate::new(5, 0, Duration::ZERO);
        for i in 0..100 {
            gate.admit("u", Some(&format!("app{i}"))).unwrap();
        }
        assert_eq!(gate.held(), 100);
        let later = Instant::now() + SWEEP_EVERY + WINDOW;
        gate.windows.lock().unwrap().sweep(later);
        assert_eq!(gate.held(), 0);
    }

    #[test]
    fn a_zero_limit_is_off() {
        let gate = Gate::new(0, 0, Duration::from_secs(30));
        for _ in 0..100 {
            gate.admit("u", Some("appA")).unwrap();
        }
    }
}
