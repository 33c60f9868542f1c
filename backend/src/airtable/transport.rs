//! Sending one request: the rate limiter, retries with backoff, and reading errors.
//!
//! How creates are kept from duplicating: a request is only sent again when Airtable can't have
//! applied it. A 429 is refused before anything changes, and a connection that was never
//! established carried nothing, so both are retried for every request. A 502, 503, 504 or a
//! connection lost mid-request may hide an applied change: updates, upserts and deletes are
//! idempotent and are retried with backoff, but a plain create is not. It fails with
//! `MaybeApplied`, which tells the caller to look before trying again (or to use an upsert
//! on a merge field, which is safe to repeat).

use std::time::Duration;

use rand::Rng;
use reqwest::{Method, StatusCode};
use serde_json::Value;

use std::time::Instant;

use super::error::AirtableError;
use crate::analytics::{Event, EventKind};
use super::{Client, RetrySettings};
use crate::model::airtable::BaseId;

/// Whether repeating a request after an unclear failure could change the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Reads, updates, upserts and deletes: the same request twice leaves the same result.
    Safe,
    /// Plain creates: a second send after a lost answer may add the records twice.
    Unsafe,
}

/// One request, relative to the connection's API address.
pub struct Request<'a> {
    pub method: Method,
    /// Path segments after the API address, e.g. `["v0", "appX", "Tasks"]`, not yet encoded.
    pub path: Vec<String>,
    pub query: Vec<(String, String)>,
    pub body: Option<&'a Value>,
    pub base: Option<&'a BaseId>,
    pub repeat: Repeat,
}

impl Client {
    /// Sends `request` through the limiter, retrying what is safe to retry.
    ///
    /// # Errors
    /// The last failure once retries are used up, or at once when retrying can't help.
    pub(super) async fn send(&self, request: Request<'_>) -> Result<Value, AirtableError> {
        let started = Instant::now();
        let mut tally = Tally::default();
        let result = self.attempts(&request, &mut tally).await;
        let operation = operation(&request.method, &request.path);
        let mut event = Event::new(EventKind::AirtableRequest, operation).by(self.user_id.as_deref()).took(started.elapsed());
        if let Err(e) = &result {
            event = event.failed(e.to_string());
        }
        let outcome = match &result {
            Ok(_) => "ok",
            Err(_) if tally.rate_limited => "rate_limited",
            Err(_) => "error",
        };
        self.airtable.analytics.record(Event {
            base_id: request.base.map(|b| b.as_str().to_owned()).unwrap_or_default(),
            status: tally.status.map(i64::from),
            waited_ms: i64::try_from(tally.waited.as_millis()).unwrap_or(i64::MAX),
            rate_limited: tally.rate_limited,
            outcome: outcome.into(),
            ..event
        });
        result
    }

    async fn attempts(&self, request: &Request<'_>, tally: &mut Tally) -> Result<Value, AirtableError> {
        let url = self.url(&request.path, &request.query)?;
        let retry = &self.airtable.retry;
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            tally.waited += self.airtable.limiter.acquire(&self.token_key, request.base).await;
            let mut builder = self
                .airtable
                .http
                .request(request.method.clone(), url.clone())
                .bearer_auth(self.token())
                .timeout(retry.timeout);
            if let Some(body) = request.body {
                builder = builder.json(body);
            }
            let failure = match builder.send().await {
                Ok(response) => {
                    let status = response.status();
                    tally.status = Some(status.as_u16());
                    let retry_after = retry_after(response.headers());
                    let bytes = response.bytes().await.map_err(|e| self.lost(&e, request.repeat))?;
                    if status.is_success() {
                        return serde_json::from_slice(&bytes)
                            .map_err(|e| AirtableError::InvalidResponse(e.to_string()));
                    }
                    let error = AirtableError::from_response(status.as_u16(), &bytes);
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        tally.rate_limited = true;
                        let penalty = self.airtable.limiter.rate_limited(request.base, retry_after);
                        tracing::warn!(base.id = request.base.map(BaseId::as_str), attempt, "Airtable answered 429; waiting out its penalty");
                        if attempt > retry.max_retries {
                            return Err(error);
                        }
                        tokio::time::sleep(penalty).await;
                        continue;
                    }
                    let unclear = matches!(status.as_u16(), 502..=504);
                    if !unclear {
                        return Err(error);
                    }
                    if request.repeat == Repeat::Unsafe {
                        return Err(AirtableError::MaybeApplied { reason: format!("Airtable answered {status}") });
                    }
                    error
                }
                Err(e) if e.is_connect() => AirtableError::Unreachable { url: self.api_url.to_string(), reason: reason(&e) },
                Err(e) => self.lost(&e, request.repeat),
            };
            if !failure.is_retryable() || attempt > retry.max_retries {
                return Err(failure);
            }
            let wait = backoff(retry.backoff_base, attempt);
            tracing::info!(attempt, wait_ms = wait.as_millis() as u64, error = %failure, "retrying an Airtable request");
            tokio::time::sleep(wait).await;
        }
    }

    /// A request that was sent but whose answer never arrived in full.
    fn lost(&self, e: &reqwest::Error, repeat: Repeat) -> AirtableError {
        match repeat {
            Repeat::Unsafe => AirtableError::MaybeApplied { reason: reason(e) },
            Repeat::Safe => AirtableError::Unreachable { url: self.api_url.to_string(), reason: reason(e) },
        }
    }

    /// The API address with `path` appended segment by segment, so a table name with `/` or
    /// `?` in it stays one segment.
    pub(super) fn url(&self, path: &[String], query: &[(String, String)]) -> Result<url::Url, AirtableError> {
        let mut url = self.api_url.clone();
        url.path_segments_mut()
            .map_err(|()| AirtableError::InvalidRequest(format!("{} can't be an Airtable API address", self.api_url)))?
            .pop_if_empty()
            .extend(path);
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        Ok(url)
    }
}

/// What one request met across its attempts, for its analytics event.
#[derive(Default)]
struct Tally {
    /// The last HTTP status answered.
    status: Option<u16>,
    /// Time spent waiting on the rate limiter.
    waited: Duration,
    /// Whether Airtable answered 429.
    rate_limited: bool,
}

/// The method and the shape of the path, with IDs and table names left out: `GET v0/{base}/{table}`,
/// `GET v0/meta/bases/{base}/tables`. Bounded, so it can key the rollups.
fn operation(method: &Method, path: &[String]) -> String {
    let shape: Vec<&str> = match path {
        [v0, meta, rest @ ..] if meta == "meta" => {
            let mut shape = vec![v0.as_str(), "meta"];
            shape.extend(rest.iter().map(|s| if looks_like_id(s) { "{id}" } else { s.as_str() }));
            shape
        }
        [v0, rest @ ..] => {
            let mut shape = vec![v0.as_str()];
            for (i, segment) in rest.iter().enumerate() {
                shape.push(match i {
                    0 => "{base}",
                    1 => "{table}",
                    _ if looks_like_id(segment) => "{record}",
                    _ => segment.as_str(),
                });
            }
            shape
        }
        [] => vec![],
    };
    format!("{method} {}", shape.join("/"))
}

/// Airtable's IDs: three lowercase letters and fourteen letters or digits.
fn looks_like_id(segment: &str) -> bool {
    segment.len() == 17 && segment.bytes().take(3).all(|b| b.is_ascii_lowercase()) && segment.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Exponential backoff with full jitter: a random wait up to base × 2^(attempt−1), capped at 8 s.
fn backoff(base: Duration, attempt: u32) -> Duration {
    let ceiling = base.saturating_mul(1 << attempt.min(6).saturating_sub(1)).min(Duration::from_secs(8));
    let millis = ceiling.as_millis().max(1) as u64;
    Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
}

/// A `Retry-After` given in seconds. Airtable itself sends none; the sandbox and proxies may.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let seconds = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds))
}

/// A transport failure in words, without the URL (which reqwest would repeat) or any header.
fn reason(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".into()
    } else if e.is_connect() {
        "the connection was refused".into()
    } else {
        "the connection was lost".into()
    }
}

/// Default retry behaviour: three retries, backoff from 500 ms, 30 s per request.
impl Default for RetrySettings {
    fn default() -> Self {
        Self { max_retries: 3, backoff_base: Duration::from_millis(500), timeout: Duration::from_secs(30) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_name_the_shape_of_the_path_without_ids_or_table_names() {
        let path = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(operation(&Method::GET, &path(&["v0", "meta", "bases"])), "GET v0/meta/bases");
        assert_eq!(operation(&Method::GET, &path(&["v0", "meta", "bases", "appAAAAAAAAAAAAAA", "tables"])), "GET v0/meta/bases/{id}/tables");
        assert_eq!(operation(&Method::PATCH, &path(&["v0", "appAAAAAAAAAAAAAA", "My Tasks", "recAAAAAAAAAAAAAA"])), "PATCH v0/{base}/{table}/{record}");
        assert_eq!(operation(&Method::POST, &path(&["v0", "appAAAAAAAAAAAAAA", "Tasks", "listRecords"])), "POST v0/{base}/{table}/listRecords");
    }

    #[test]
    fn backoff_grows_and_stays_capped() {
        let base = Duration::from_millis(100);
        assert!(backoff(base, 1) <= Duration::from_millis(100));
        assert!(backoff(base, 3) >= Duration::from_millis(200));
        assert!(backoff(base, 30) <= Duration::from_secs(8));
    }
}
