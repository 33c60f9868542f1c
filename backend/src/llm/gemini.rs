//! Google's Gemini through its native REST API: `models/{model}:generateContent` for a whole
//! answer, `models/{model}:streamGenerateContent?alt=sse` for one read as server-sent events.

mod schema;
mod wire;

use async_trait::async_trait;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use secrecy::ExposeSecret;
use url::Url;

use super::http::{Http, SseEvents};
use super::{LlmEndpoint, LlmError, Provider, Reply, Request, TextSink};
use crate::model::llm::LlmProvider;

const PROVIDER: LlmProvider = LlmProvider::Gemini;

/// Where requests go when an endpoint names no address of its own.
const GOOGLE_API: &str = "https://generativelanguage.googleapis.com/v1beta";

/// The header Google reads the key from: unlike `?key=`, it never ends up in a URL, and so
/// never in a log line or an error message.
const KEY_HEADER: &str = "x-goog-api-key";

pub(crate) struct Gemini {
    http: Http,
    endpoint: LlmEndpoint,
}

impl Gemini {
    pub(crate) fn new(http: Http, endpoint: &LlmEndpoint) -> Self {
        Self { http, endpoint: endpoint.clone() }
    }

    /// Sends `request`, retried as [`Http::send`] does, and returns the successful response.
    async fn send(&self, request: &Request, streaming: bool) -> Result<reqwest::Response, LlmError> {
        let model = if request.model.trim().is_empty() { &self.endpoint.model } else { &request.model };
        let url = method_url(self.endpoint.base_url.as_ref(), model, streaming);
        let body = serde_json::to_vec(&wire::Body::new(request))
            .map_err(|e| LlmError::Protocol { provider: PROVIDER, detail: format!("the request could not be written: {e}") })?;
        let body = bytes::Bytes::from(body);
        let key = key_header(&self.endpoint)?;
        self.http
            .send(PROVIDER, streaming, |client| {
                let builder = client.post(url.clone()).header(CONTENT_TYPE, "application/json").body(body.clone());
                match &key {
                    Some(key) => builder.header(KEY_HEADER, key.clone()),
                    None => builder,
                }
            })
            .await
    }
}

#[async_trait]
impl Provider for Gemini {
    fn kind(&self) -> LlmProvider {
        PROVIDER
    }

    async fn generate(&self, request: &Request) -> Result<Reply, LlmError> {
        let response = self.send(request, false).await?;
        let mut answer = wire::Answer::default();
        answer.add(self.http.json::<wire::Chunk>(PROVIDER, response).await?)?;
        answer.finish()
    }

    async fn stream(&self, request: &Request, text: &TextSink) -> Result<Reply, LlmError> {
        let response = self.send(request, true).await?;
        let mut events = SseEvents::new(PROVIDER, response, self.http.policy.timeout);
        let mut answer = wire::Answer::default();
        while let Some(chunk) = events.next::<wire::Chunk>().await? {
            let piece = answer.add(chunk)?;
            if !piece.is_empty() {
                // A reader that left doesn't stop the answer: its calls and usage still count.
                let _ = text.send(piece);
            }
        }
        answer.finish()
    }
}

/// The key as a header value, kept out of debug output. No key is sent when there is none (a
/// proxy may add its own); Google then answers 403, which reads as a rejected key.
fn key_header(endpoint: &LlmEndpoint) -> Result<Option<HeaderValue>, LlmError> {
    let Some(key) = endpoint.api_key.as_ref().map(|k| k.expose_secret().trim()).filter(|k| !k.is_empty()) else {
        return Ok(None);
    };
    // A key with a line break or non-ASCII in it can't be a header, nor a Google key.
    let mut value = HeaderValue::from_str(key).map_err(|_| LlmError::KeyRejected { provider: PROVIDER })?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// `{base}/models/{model}:generateContent`, or the streaming method with `alt=sse` (without it
/// Google streams one JSON array instead of events). Any query on the base is kept.
fn method_url(base: Option<&Url>, model: &str, streaming: bool) -> Url {
    let mut url = base.cloned().unwrap_or_else(|| Url::parse(GOOGLE_API).expect("Google's address parses"));
    // Google names models `models/gemini-…` in its listings; people paste either form.
    let model = model.trim().trim_start_matches("models/");
    let method = if streaming { "streamGenerateContent" } else { "generateContent" };
    if let Ok(mut segments) = url.path_segments_mut() {
        // Pushed as one segment, so a model name can't reach another path.
        segments.pop_if_empty().push("models").push(&format!("{model}:{method}"));
    }
    if streaming {
        url.query_pairs_mut().append_pair("alt", "sse");
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(base: Option<&str>, model: &str, streaming: bool) -> String {
        method_url(base.map(|b| Url::parse(b).unwrap()).as_ref(), model, streaming).to_string()
    }

    #[test]
    fn no_base_url_means_googles_v1beta() {
        assert_eq!(
            url(None, "gemini-2.5-flash", false),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
        );
        assert_eq!(
            url(None, "gemini-2.5-flash", true),
            "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
        );
    }

    #[test]
    fn a_local_base_url_keeps_its_path_with_or_without_a_trailing_slash() {
        for base in ["http://127.0.0.1:8080/v1beta", "http://127.0.0.1:8080/v1beta/"] {
            assert_eq!(url(Some(base), "gemini-2.5-pro", false), "http://127.0.0.1:8080/v1beta/models/gemini-2.5-pro:generateContent");
        }
    }

    #[test]
    fn a_model_named_with_its_prefix_or_odd_characters_stays_one_path_segment() {
        assert_eq!(url(None, "models/gemini-2.5-flash", false), url(None, "gemini-2.5-flash", false));
        assert!(url(Some("http://127.0.0.1:1/v1beta"), "a/../b?x", false).ends_with("/v1beta/models/a%2F..%2Fb%3Fx:generateContent"));
    }

    #[test]
    fn the_key_is_a_sensitive_header_and_a_malformed_one_is_rejected_before_sending() {
        let endpoint = |key: &str| LlmEndpoint {
            provider: PROVIDER,
            model: "gemini-2.5-flash".into(),
            base_url: None,
            api_key: Some(key.to_owned().into()),
            origin: crate::llm::EndpointOrigin::Server,
        };
        assert!(key_header(&endpoint("AIzaSyExample")).unwrap().unwrap().is_sensitive());
        assert!(key_header(&endpoint(" ")).unwrap().is_none());
        assert!(matches!(key_header(&endpoint("line\nbreak")), Err(LlmError::KeyRejected { .. })));
    }
}
