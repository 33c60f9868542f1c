//! HTTP for every provider: timeouts, retries with backoff on 429 and 5xx, errors that name the
//! provider, size limits on answers, server-sent events read one JSON object at a time, and for
//! endpoints users choose themselves, no redirects and no local or private addresses (see
//! [`crate::outbound`]).

use std::time::Duration;

use eventsource_stream::{EventStream, EventStreamError, Eventsource};
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::de::DeserializeOwned;

use super::error::{LlmError, log_upstream, upstream_message};
use crate::outbound::{self, AllowedHosts, Blocked, PublicOnly, Route, is_blocked};
use super::settings::EndpointOrigin;
use crate::model::llm::LlmProvider;

/// The largest answer read, whole or streamed in total.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;
/// The longest line of a streamed answer.
const MAX_LINE_BYTES: usize = 1024 * 1024;
/// How much of an error body is read, to tell a bad key or a wait apart.
const MAX_ERROR_BYTES: usize = 64 * 1024;

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

/// The shared HTTP clients and policy. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Http {
    /// For the server's own endpoint, which the administrator configured.
    server: reqwest::Client,
    /// For users' endpoints: resolves names to public addresses only, follows no redirect.
    public_only: reqwest::Client,
    /// For users' endpoints on a host the administrator allowed: follows no redirect.
    allowed: reqwest::Client,
    allowed_hosts: AllowedHosts,
    origin: EndpointOrigin,
    pub(crate) policy: HttpPolicy,
}

impl Http {
    #[cfg(test)]
    pub(crate) fn new(policy: HttpPolicy) -> Self {
        Self::with_allowed_hosts(policy, AllowedHosts::default())
    }

    /// Clients for `policy`, where users' endpoints may reach the local or private hosts in
    /// `allowed_hosts` and no others.
    pub(crate) fn with_allowed_hosts(policy: HttpPolicy, allowed_hosts: AllowedHosts) -> Self {
        crate::tls::install_crypto_provider();
        let builder = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .user_agent(concat!("PyAirtable/", env!("CARGO_PKG_VERSION")))
        };
        // A proxy would resolve the name itself, past the check; users' endpoints go direct.
        let for_users = || builder().redirect(reqwest::redirect::Policy::none()).no_proxy();
        Self {
            server: builder().build().expect("the HTTP client builds"),
            public_only: for_users().dns_resolver(PublicOnly).build().expect("the HTTP client builds"),
            allowed: for_users().build().expect("the HTTP client builds"),
            allowed_hosts,
            origin: EndpointOrigin::Server,
            policy,
        }
    }

    /// The same clients, for an endpoint from `origin`.
    pub(crate) fn for_origin(&self, origin: EndpointOrigin) -> Self {
        Self { origin, ..self.clone() }
    }

    /// The client a request to `url` goes through.
    fn client_for(&self, url: &url::Url) -> Result<&reqwest::Client, Blocked> {
        match self.origin {
            EndpointOrigin::Server => Ok(&self.server),
            EndpointOrigin::User => match outbound::route(url, &self.allowed_hosts)? {
                Route::Allowed => Ok(&self.allowed),
                Route::PublicOnly => Ok(&self.public_only),
            },
        }
    }

    /// Sends the request `build` makes, again after a 429, a 5xx or a refused connection, and
    /// returns the first successful response. `streaming` responses get their time limit per
    /// chunk (see [`SseEvents`]) rather than for the whole body.
    ///
    /// # Errors
    /// The [`LlmError`] that says what went wrong, once retries are spent; `Blocked` at once,
    /// with no connection made, for a user's endpoint at a local or private address.
    pub(crate) async fn send(
        &self,
        provider: LlmProvider,
        streaming: bool,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, LlmError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = build(&self.server);
            if !streaming {
                request = request.timeout(self.policy.timeout);
            }
            let request = request
                .build()
                .map_err(|_| LlmError::Protocol { provider, detail: "the request could not be written".into() })?;
            let client = self.client_for(request.url()).map_err(|Blocked| blocked(provider))?;
            let wait = match tokio::time::timeout(self.policy.timeout, client.execute(request)).await {
                Err(_) => return Err(self.timed_out(provider)),
                Ok(Err(e)) if is_blocked(&e) => return Err(blocked(provider)),
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
                            None if status == 429 => retry_delay(&error_body(response).await),
                            None => None,
                        };
                        self.backoff(attempt, wait)
                    } else {
                        let body = error_body(response).await;
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

fn blocked(provider: LlmProvider) -> LlmError {
    tracing::warn!(provider = provider.as_str(), "a user's LLM endpoint is at a local or private address; not called");
    LlmError::Blocked { provider }
}

/// The start of an error body, as text: enough to read the error, never the whole of a huge one.
async fn error_body(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < MAX_ERROR_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(MAX_ERROR_BYTES);
    String::from_utf8_lossy(&body).into_owned()
}

/// The error for a final non-success status.
fn refusal(provider: LlmProvider, status: u16, body: &str, attempts: u32) -> LlmError {
    let message = upstream_message(body);
    log_upstream(provider, status, &message);
    // Gemini answers a bad key with 400 INVALID_ARGUMENT and reason API_KEY_INVALID.
    let bad_key = matches!(status, 401 | 403) || body.contains("API_KEY_INVALID") || message.contains("API key not valid");
    match status {
        _ if bad_key => LlmError::KeyRejected { provider },
        429 => LlmError::RateLimited { provider, attempts },
        300..=399 => LlmError::Redirected { provider, status },
        500..=599 => LlmError::Unavailable { provider, status, attempts },
        _ => LlmError::Refused { provider, status },
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

/// What the byte stream under [`SseEvents`] fails with.
#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("the stream broke off")]
    Transport(#[source] reqwest::Error),
    #[error("the answer is over the size limit")]
    TooLarge,
}

/// A response's server-sent events, each `data:` read as one JSON value of type `T`.
pub(crate) struct SseEvents {
    provider: LlmProvider,
    events: EventStream<BoxStream<'static, Result<bytes::Bytes, BodyError>>>,
    idle: Duration,
}

impl SseEvents {
    pub(crate) fn new(provider: LlmProvider, response: reqwest::Response, idle: Duration) -> Self {
        let bytes = response.bytes_stream().map(|chunk| chunk.map_err(BodyError::Transport)).boxed();
        Self { provider, events: capped(bytes, MAX_ANSWER_BYTES, MAX_LINE_BYTES).eventsource(), idle }
    }

    /// The next event's data as `T`, or `None` at the end of the stream or at OpenAI's `[DONE]`.
    ///
    /// # Errors
    /// `Timeout` when the stream stays silent too long; `TooLarge` past the size limits;
    /// `Protocol` for data that isn't `T`.
    pub(crate) async fn next<T: DeserializeOwned>(&mut self) -> Result<Option<T>, LlmError> {
        let provider = self.provider;
        loop {
            let event = match tokio::time::timeout(self.idle, self.events.next()).await {
                Err(_) => return Err(LlmError::Timeout { provider, seconds: self.idle.as_secs().max(1) }),
                Ok(None) => return Ok(None),
                Ok(Some(Err(EventStreamError::Transport(BodyError::TooLarge)))) => return Err(too_large(provider)),
                Ok(Some(Err(EventStreamError::Transport(BodyError::Transport(e))))) => {
                    return Err(LlmError::Unreachable { provider, detail: format!("the stream broke off: {}", without_url(&e)) });
                }
                // The parser's own message quotes the stream; the provider's text stays out of it.
                Ok(Some(Err(_))) => return Err(LlmError::Protocol { provider, detail: "the stream is not server-sent events".into() }),
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
                .map_err(|e| LlmError::Protocol { provider, detail: format!("a streamed event is not valid: {}", json_problem(&e)) });
        }
    }
}

/// `bytes`, failing with `TooLarge` once more than `total` bytes came, or a line grew longer than
/// `line` bytes; nothing more is read after the first error.
fn capped(
    bytes: BoxStream<'static, Result<bytes::Bytes, BodyError>>,
    total: usize,
    line: usize,
) -> BoxStream<'static, Result<bytes::Bytes, BodyError>> {
    let mut seen = 0usize;
    let mut current_line = 0usize;
    let mut failed = false;
    bytes
        .map(move |chunk| {
            let chunk = chunk?;
            seen = seen.saturating_add(chunk.len());
            let mut pieces = chunk.split(|b| matches!(b, b'\n' | b'\r'));
            current_line = current_line.saturating_add(pieces.next().map_or(0, <[u8]>::len));
            let mut longest = current_line;
            for piece in pieces {
                current_line = piece.len();
                longest = longest.max(current_line);
            }
            if seen > total || longest > line { Err(BodyError::TooLarge) } else { Ok(chunk) }
        })
        .take_while(move |item| {
            let go_on = !failed;
            failed |= item.is_err();
            futures::future::ready(go_on)
        })
        .boxed()
}

fn too_large(provider: LlmProvider) -> LlmError {
    tracing::warn!(provider = provider.as_str(), "the LLM provider's answer was over the size limit; not read");
    LlmError::TooLarge { provider, limit_mib: MAX_ANSWER_BYTES / (1024 * 1024) }
}

/// What is wrong with some JSON, by kind and place only: serde's own message may quote it.
fn json_problem(e: &serde_json::Error) -> String {
    let kind = match e.classify() {
        serde_json::error::Category::Io => "it could not be read",
        serde_json::error::Category::Syntax => "it is not JSON",
        serde_json::error::Category::Data => "it is JSON of another shape",
        serde_json::error::Category::Eof => "it ends too soon",
    };
    format!("{kind} (line {}, column {})", e.line(), e.column())
}

impl Http {
    /// A whole JSON answer as `T`.
    ///
    /// # Errors
    /// `Protocol` when it isn't `T`; `TooLarge` past the size limit; `Timeout` or `Unreachable`
    /// when the body doesn't arrive.
    pub(crate) async fn json<T: DeserializeOwned>(&self, provider: LlmProvider, response: reqwest::Response) -> Result<T, LlmError> {
        let body = self.body(provider, response, MAX_ANSWER_BYTES).await?;
        serde_json::from_slice(&body).map_err(|e| LlmError::Protocol { provider, detail: format!("the answer is not valid: {}", json_problem(&e)) })
    }

    /// The whole body, unless it is longer than `limit`.
    async fn body(&self, provider: LlmProvider, mut response: reqwest::Response, limit: usize) -> Result<Vec<u8>, LlmError> {
        if response.content_length().is_some_and(|length| length > limit as u64) {
            return Err(too_large(provider));
        }
        let failed = |e: reqwest::Error| if e.is_timeout() { self.timed_out(provider) } else { LlmError::Unreachable { provider, detail: without_url(&e) } };
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(&failed)? {
            if body.len() + chunk.len() > limit {
                return Err(too_large(provider));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
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
    fn json_problems_name_the_place_never_the_text() {
        let e = serde_json::from_str::<Vec<u32>>(r#"["AKIASECRET"]"#).unwrap_err();
        let problem = json_problem(&e);
        assert!(!problem.contains("AKIASECRET") && problem.contains("another shape"), "{problem}");
    }

    #[test]
    fn a_redirect_is_its_own_refusal_and_no_refusal_repeats_the_body() {
        let error = refusal(LlmProvider::OpenaiCompatible, 302, "Found: secret", 1);
        assert!(matches!(error, LlmError::Redirected { status: 302, .. }));
        let error = refusal(LlmProvider::OpenaiCompatible, 400, r#"{"error":{"message":"secret"}}"#, 1);
        assert!(!error.to_string().contains("secret"), "{error}");
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
