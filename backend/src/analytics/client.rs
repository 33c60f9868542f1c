//! Events the browser sends: checked names, bounded batches, and a per-user rate limit.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use serde::Deserialize;
use serde_json::Value;

use super::event::{Event, EventKind};

/// The most events one request may carry.
pub const MAX_EVENTS: usize = 20;
/// The largest request body, in bytes.
pub const MAX_BODY_BYTES: usize = 8 * 1024;

/// What `POST /api/analytics/events` takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientBatch {
    pub events: Vec<ClientEvent>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientEvent {
    pub name: String,
    #[serde(default)]
    pub properties: Option<serde_json::Map<String, Value>>,
}

/// Why a batch of client events was refused, written for the developer who sent it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ClientEventError {
    #[error("The request body is over {MAX_BODY_BYTES} bytes. Send fewer or smaller events per request.")]
    TooLarge,
    #[error("Send at most {MAX_EVENTS} events per request; this one had {0}.")]
    TooMany(usize),
    #[error("The body must be JSON like {{\"events\":[{{\"name\":\"page_view\",\"properties\":{{}}}}]}}: {0}")]
    Malformed(String),
    #[error("“{0}” is not a valid event name: use 1 to 64 characters, starting with a lowercase letter, then lowercase letters, digits, _ . : or -.")]
    BadName(String),
    #[error("Too many analytics requests. Try again in {} s.", retry_after.as_secs().max(1))]
    RateLimited { retry_after: Duration },
}

/// Whether `name` matches `^[a-z][a-z0-9_.:-]{0,63}$`.
pub fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z'))
        && name.len() <= 64
        && bytes.all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b':' | b'-'))
}

/// Reads and checks a request body into events attributed to `user_id`.
///
/// # Errors
/// `TooLarge`, `Malformed`, `TooMany` or `BadName`; nothing is recorded then.
pub fn parse(body: &[u8], user_id: &str) -> Result<Vec<Event>, ClientEventError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ClientEventError::TooLarge);
    }
    let batch: ClientBatch = serde_json::from_slice(body).map_err(|e| ClientEventError::Malformed(e.to_string()))?;
    if batch.events.len() > MAX_EVENTS {
        return Err(ClientEventError::TooMany(batch.events.len()));
    }
    batch
        .events
        .into_iter()
        .map(|event| {
            if !valid_name(&event.name) {
                return Err(ClientEventError::BadName(event.name.chars().take(80).collect()));
            }
            let properties = event.properties.map(|p| Value::Object(p).to_string());
            Ok(Event { properties, ..Event::new(EventKind::Client, event.name) }.by(Some(user_id)))
        })
        .collect()
}

/// Requests per second per user, and the burst allowed.
const PER_SECOND: u32 = 10;
const BURST: u32 = 20;

/// The per-user limit on client event requests. Cheap to clone.
#[derive(Clone)]
pub struct ClientLimiter {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

impl Default for ClientLimiter {
    fn default() -> Self {
        let quota = Quota::per_second(NonZeroU32::new(PER_SECOND).expect("not zero")).allow_burst(NonZeroU32::new(BURST).expect("not zero"));
        Self { limiter: Arc::new(DefaultKeyedRateLimiter::keyed(quota)) }
    }
}

impl ClientLimiter {
    /// Counts one request of `user_id`.
    ///
    /// # Errors
    /// `RateLimited` with how long to wait.
    pub fn check(&self, user_id: &str) -> Result<(), ClientEventError> {
        self.limiter.check_key(&user_id.to_owned()).map_err(|not_until| ClientEventError::RateLimited {
            retry_after: not_until.wait_time_from(DefaultClock::default().now()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_documented_pattern() {
        for good in ["page_view", "a", "chat.sent", "ui:click-send", &format!("a{}", "b".repeat(63))] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "Page", "1st", "_x", "page view", "é", &format!("a{}", "b".repeat(64))] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_good_batch_becomes_events_of_the_user() {
        let events = parse(br#"{"events":[{"name":"page_view","properties":{"path":"/chat"}},{"name":"x"}]}"#, "u1").unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].kind, EventKind::Client);
        assert_eq!(events[0].user_id.as_deref(), Some("u1"));
        assert_eq!(events[0].properties.as_deref(), Some(r#"{"path":"/chat"}"#));
        assert_eq!(events[1].properties, None);
    }

    #[test]
    fn bad_batches_are_refused_whole() {
        assert!(matches!(parse(br#"{"events":[{"name":"ok"},{"name":"Bad"}]}"#, "u"), Err(ClientEventError::BadName(n)) if n == "Bad"));
        let many = format!(r#"{{"events":[{}]}}"#, vec![r#"{"name":"a"}"#; 21].join(","));
        assert_eq!(parse(many.as_bytes(), "u"), Err(ClientEventError::TooMany(21)));
        assert_eq!(parse(&vec![b' '; MAX_BODY_BYTES + 1], "u"), Err(ClientEventError::TooLarge));
        assert!(matches!(parse(b"[]", "u"), Err(ClientEventError::Malformed(_))));
        assert!(matches!(parse(br#"{"events":[{"name":"a","properties":[1]}]}"#, "u"), Err(ClientEventError::Malformed(_))));
    }

    #[test]
    fn a_user_past_the_burst_is_told_when_to_come_back_and_others_are_not() {
        let limiter = ClientLimiter::default();
        for _ in 0..BURST {
            limiter.check("u1").unwrap();
        }
        assert!(matches!(limiter.check("u1"), Err(ClientEventError::RateLimited { .. })));
        limiter.check("u2").unwrap();
    }
}
