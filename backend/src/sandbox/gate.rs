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

/// Shared per-base and per-token request windows.
#[derive(Clone)]
pub struct Gate {
    per_base: u32,
    per_token: u32,
    penalty: Duration,
    windows: Arc<Mutex<HashMap<String, Window>>>,
}

impl Gate {
    /// A limit of 0 turns that limit off.
    pub fn new(per_base: u32, per_token: u32, penalty: Duration) -> Self {
        Self { per_base, per_token, penalty, windows: Arc::new(Mutex::new(HashMap::new())) }
    }

    /// Lets a request through, or refuses it with Airtable's 429.
    ///
    /// # Errors
    /// `RATE_LIMIT_REACHED` over a limit, and throughout the penalty that follows.
    pub fn admit(&self, token_owner: &str, base: Option<&str>) -> Result<(), SandboxError> {
        let now = Instant::now();
        let mut windows = self.windows.lock().expect("sandbox gate lock");
        if windows.len() > 10_000 {
            windows.retain(|_, w| w.recent.back().is_some_and(|t| now.duration_since(*t) < WINDOW) || w.penalty_until.is_some_and(|u| u > now));
        }
        if let Some(base) = base.filter(|_| self.per_base > 0) {
            windows.entry(format!("base:{base}")).or_default().admit(now, self.per_base, self.penalty).map_err(SandboxError::rate_limited)?;
        }
        if self.per_token > 0 {
            windows.entry(format!("token:{token_owner}")).or_default().admit(now, self.per_token, self.penalty).map_err(SandboxError::rate_limited)?;
        }
        Ok(())
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
    fn a_zero_limit_is_off() {
        let gate = Gate::new(0, 0, Duration::from_secs(30));
        for _ in 0..100 {
            gate.admit("u", Some("appA")).unwrap();
        }
    }
}
