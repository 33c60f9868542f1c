//! HTTP for every provider: timeouts, retries with backoff on 429 and 5xx, errors that name the
//! provider, and server-sent events read one JSON object at a time.

use std::time::Duration;

use eventsource_stream::{EventStream, Eventsource};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::de::DeserializeOwned;

use super::error::{LlmError, upstream_message};
use crate::model::llm::LlmProvider;

/// How long to wait and how often to try again.
#[derive(Debug, Clone, Copy)]
pub struct HttpPolicy {
    /// Tries after the first, for a 429, a 5xx or a connection that never opened.
    pub retries: u32,
    /// The first backoff; each next one doubles, with full jitter.
    pub first_backoff: Duration,
    /// No backoff, nor a `Retry-After`, is waited longer than this.
    pub max_backoff: Duration,
    /// The longest a whole answer may take, or a stream may stay silent.
    pub timeout: Duration,
}

impl Default for HttpPolicy {
    fn default() -> Self {
        Self { retries: 3, first_backoff: Duration::from_millis(500), max_backoff: Duration::from_secs(20), timeout: Duration::from_secs(120) }
    }
}

/// The shared HTTP client and policy. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Http {
    client: reqwest::Client,
    pub(crate) policy: HttpPolicy,
}

impl Http {
    pub(crate) fn new(policy: HttpPolicy) -> Self {
        crate::tls::install_crypto_provider();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("PyAirtable/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds");
        Self { client, policy }
    }

    /// Sends the request `build` makes, again after a 429, a 5xx or a refused connection, and
    /// returns the first successful response. `streaming` responses get their time limit per
    /// chunk (see [`SseEvents`]) rather than for the whole body.
    ///
    /// # Errors
    /// The [`LlmError`] that says what went wrong, once retries are spent.
    pub(crate) async fn send(
        &self,
        provider: LlmProvider,
        streaming: bool,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, LlmError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = build(&self.client);
            if !streaming {
                request = request.timeout(self.policy.timeout);
            }
            let wait = match tokio::time::timeout(self.policy.timeout, request.send()).await {
                Err(_) => return Err(self.timed_out(provider)),
                Ok(Err(e)) if e.is_timeout() => return Err(self.timed_out(provider)),
                Ok(Err(e)) if e.is_connect() && attempt <= self.policy.retries => self.backoff(attempt, None),
                Ok(Err(e)) => return Err(LlmError::Unreachable { provider, detail: without_url(&e) }),
                Ok(Ok(response)) if response.status().is_success() => return Ok(response),
                Ok(Ok(response)) => {
                    let status = response.status().as_u16();
                    let header_wait = retry_after(&response);
                    let retryable = status == 429 || matches!(status, 500 | 502 | 503 | 504);
                    if retryable && attempt <= self.policy.retries {
                        tracing::warn!(provider = provider.as_str(), status, attempt, "the LLM provider asked us to wait; retrying");
                        let wait = match header_wait {
                            Some(wait) => Some(wait),
                            None if status == 429 => retry_delay(&response.text().await.unwrap_or_default()),
                            None => None,
                        };
                        self.backoff(attempt, wait)
                    } else {
                        let body = response.text().await.unwrap_or_default();
                        return Err(refusal(provider, status, &body, attempt));
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let wait = retry_after.unwrap_or_else(|| {
            let ceiling = self.policy.first_backoff.saturating_mul(1 << (attempt - 1).min(16));
            ceiling.mul_f64(rand::random::<f64>())
        });
        wait.min(self.policy.max_backoff)
    }

    fn timed_out(&self, provider: LlmProvider) -> LlmError {
        LlmError::Timeout { provider, seconds: self.policy.timeout.as_secs().max(1) }
    }
}

/// The error for a final non-success status.
fn refusal(provider: LlmProvider, status: u16, body: &str, attempts: u32) -> LlmError {
    let message = upstream_message(body);
    // Gemini answers a bad key with 400 INVALID_ARGUMENT and reason API_KEY_INVALID.
    let bad_key = matches!(status, 401 | 403) || body.contains("API_KEY_INVALID") || message.contains("API key not valid");
    match status {
        _ if bad_key => LlmError::KeyRejected { provider },
        429 => LlmError::RateLimited { provider, attempts },
        500..=599 => LlmError::Unavailable { provider, status, attempts, message },
        _ => LlmError::Refused { provider, status, message },
    }
}

/// A `Retry-After` in seconds, which both providers' proxies may send.
fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    let text = response.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    text.trim().parse::<f64>().ok().filter(|s| s.is_finite() && *s >= 0.0).map(Duration::from_secs_f64)
}

/// Google's wait in a 429's body: `error.details[].retryDelay`, such as `"23s"` or `"0.5s"`.
fn retry_delay(body: &str) -> Option<Duration> {
    let body: serde_json::Value = serde_json::from_str(body).ok()?;
    body["error"]["details"].as_array()?.iter().find_map(|detail| {
        let seconds = detail["retryDelay"].as_str()?.strip_suffix('s')?.parse::<f64>().ok()?;
        (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds))
    })
}

/// What went wrong, from the innermost cause: reqwest's own text starts with the URL, which for
/// Gemini carries the key.
fn without_url(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    let mut deepest = None;
    while let Some(cause) = source {
        deepest = Some(cause.to_string());
        source = cause.source();
    }
    let text = deepest.unwrap_or_else(|| if e.is_connect() { "the connection was refused".into() } else { "the request failed".into() });
    text.chars().take(200).collect()
}

/// A response's server-sent events, each `data:` read as one JSON value of type `T`.
pub(crate) struct SseEvents {
    provider: LlmProvider,
    events: EventStream<BoxStream<'static, reqwest::Result<bytes::Bytes>>>,
    idle: Duration,
}

impl SseEvents {
    pub(crate) fn new(provider: LlmProvider, response: reqwest::Response, idle: Duration) -> Self {
        Self { provider, events: response.bytes_stream().boxed().eventsource(), idle }
    }

    /// The next event's data as `T`, or `None` at the end of the stream or at OpenAI's `[DONE]`.
    ///
    /// # Errors
    /// `Timeout` when the stream stays silent too long; `Protocol` for data that isn't `T`.
    pub(crate) async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, LlmError> {
        loop {
            let event = match tokio::time::timeout(self.idle, self.events.next()).await {
                Err(_) => return Err(LlmError::Timeout { provider: self.provider, seconds: self.idle.as_secs().max(1) }),
                Ok(None) => return Ok(None),
                Ok(Some(Err(e))) => return Err(LlmError::Unreachable { provider: self.provider, detail: format!("the stream broke off: {e}") }),
                Ok(Some(Ok(event))) => event,
            };
            let data = event.data.trim();
            if data.is_empty() {
                continue;
            }
            if data == "[DONE]" {
                return Ok(None);
            }
            return serde_json::from_str(data)
                .map(Some)
                .map_err(|e| LlmError::Protocol { provider: self.provider, detail: format!("a streamed event is not valid: {e}") });
        }
    }
}

impl Http {
    /// A whole JSON answer as `T`.
    ///
    /// # Errors
    /// `Protocol` when it isn't `T`; `Timeout` or `Unreachable` when the body doesn't arrive.
    pub(crate) async fn json<T: DeserializeOwned>(&self, provider: LlmProvider, response: reqwest::Response) -> Result<T, LlmError> {
        let body = response.bytes().await.map_err(|e| if e.is_timeout() { self.timed_out(provider) } else { LlmError::Unreachable { provider, detail: without_url(&e) } })?;
        serde_json::from_slice(&body).map_err(|e| LlmError::Protocol { provider, detail: format!("the answer is not valid: {e}") })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_keys_are_told_apart_from_other_refusals() {
        let gemini_bad_key = r#"{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}"#;
        assert!(matches!(refusal(LlmProvider::Gemini, 400, gemini_bad_key, 1), LlmError::KeyRejected { .. }));
        assert!(matches!(refusal(LlmProvider::OpenaiCompatible, 401, "{}", 1), LlmError::KeyRejected { .. }));
        assert!(matches!(refusal(LlmProvider::Gemini, 404, r#"{"error":{"message":"models/x is not found"}}"#, 1), LlmError::Refused { status: 404, .. }));
        assert!(matches!(refusal(LlmProvider::Gemini, 503, "", 4), LlmError::Unavailable { attempts: 4, .. }));
        assert!(matches!(refusal(LlmProvider::Gemini, 429, "", 4), LlmError::RateLimited { attempts: 4, .. }));
    }

    #[test]
    fn googles_retry_delay_is_read_from_a_429s_body() {
        let body = r#"{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure"},{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"23s"}]}}"#;
        assert_eq!(retry_delay(body), Some(Duration::from_secs(23)));
        assert_eq!(retry_delay("{}"), None);
        assert_eq!(retry_delay("not json"), None);
    }

    #[test]
    fn backoff_grows_and_is_capped_and_retry_after_wins() {
        let http = Http::new(HttpPolicy { first_backoff: Duration::from_millis(100), max_backoff: Duration::from_secs(1), ..HttpPolicy::default() });
        assert!(http.backoff(1, None) <= Duration::from_millis(100));
        assert!(http.backoff(10, None) <= Duration::from_secs(1));
        assert_eq!(http.backoff(1, Some(Duration::from_millis(300))), Duration::from_millis(300));
        assert_eq!(http.backoff(1, Some(Duration::from_secs(60))), Duration::from_secs(1));
    }
}
