//! OpenAI's chat-completions protocol, which OpenAI, Ollama, vLLM, llama.cpp and OpenRouter all
//! speak: `POST {base_url}/chat/completions`, whole or streamed as server-sent events.

mod answer;
mod chunks;
mod request;

use async_trait::async_trait;
use secrecy::ExposeSecret;
use url::Url;

use super::http::{Http, SseEvents};
use super::{LlmEndpoint, LlmError, Provider, Reply, Request, TextSink};
use crate::model::llm::LlmProvider;
use answer::Completion;
use chunks::{Assembly, Chunk};
use request::Body;

const PROVIDER: LlmProvider = LlmProvider::OpenaiCompatible;

/// Where requests go when an endpoint names no address.
const OPENAI_API: &str = "https://api.openai.com/v1";

pub(crate) struct OpenAi {
    http: Http,
    endpoint: LlmEndpoint,
    url: Url,
}

impl OpenAi {
    pub(crate) fn new(http: Http, endpoint: &LlmEndpoint) -> Self {
        Self { http, url: completions_url(endpoint.base_url.as_ref()), endpoint: endpoint.clone() }
    }

    /// Sends `request`, retried as [`Http::send`] does, and returns the successful response.
    async fn send(&self, request: &Request, stream: bool) -> Result<reqwest::Response, LlmError> {
        let body = serde_json::to_vec(&Body::new(request, stream))
            .map_err(|e| LlmError::Protocol { provider: PROVIDER, detail: format!("the request could not be written: {e}") })?;
        let body = bytes::Bytes::from(body);
        // Local servers often take no key; an empty one is no key either.
        let key = self.endpoint.api_key.as_ref().map(|k| k.expose_secret()).filter(|k| !k.is_empty());
        self.http
            .send(PROVIDER, stream, |client| {
                let builder = client
                    .post(self.url.clone())
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.clone());
                match key {
                    Some(key) => builder.bearer_auth(key),
                    None => builder,
                }
            })
            .await
    }
}

#[async_trait]
impl Provider for OpenAi {
    fn kind(&self) -> LlmProvider {
        self.endpoint.provider
    }

    async fn generate(&self, request: &Request) -> Result<Reply, LlmError> {
        let response = self.send(request, false).await?;
        self.http.json::<Completion>(PROVIDER, response).await?.into_reply(PROVIDER)
    }

    async fn stream(&self, request: &Request, text: &TextSink) -> Result<Reply, LlmError> {
        let response = self.send(request, true).await?;
        let mut events = SseEvents::new(PROVIDER, response, self.http.policy.timeout);
        let mut answer = Assembly::default();
        while let Some(chunk) = events.next::<Chunk>().await? {
            if let Some(piece) = answer.add(PROVIDER, chunk)? {
                // A reader that left doesn't stop the answer: its calls and usage still count.
                let _ = text.send(piece);
            }
        }
        answer.finish(PROVIDER)
    }
}

/// `{base_url}/chat/completions`, keeping any query (some gateways put an API version there).
/// An address that already ends in `/chat/completions`, as people sometimes paste it, is used
/// as it is.
fn completions_url(base_url: Option<&Url>) -> Url {
    let mut url = base_url.cloned().unwrap_or_else(|| Url::parse(OPENAI_API).expect("OpenAI's address parses"));
    if !url.path().trim_end_matches('/').ends_with("/chat/completions") {
        // Only URLs like `mailto:` have no path to extend, and settings accept http(s) only.
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(["chat", "completions"]);
        }
    }
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(base: &str) -> String {
        completions_url(Some(&Url::parse(base).unwrap())).to_string()
    }

    #[test]
    fn the_endpoint_is_under_the_base_url_with_or_without_a_trailing_slash() {
        assert_eq!(url("http://127.0.0.1:11434/v1"), "http://127.0.0.1:11434/v1/chat/completions");
        assert_eq!(url("http://127.0.0.1:11434/v1/"), "http://127.0.0.1:11434/v1/chat/completions");
        assert_eq!(url("https://openrouter.ai/api/v1"), "https://openrouter.ai/api/v1/chat/completions");
    }

    #[test]
    fn a_pasted_full_endpoint_and_a_query_are_kept() {
        assert_eq!(url("https://api.openai.com/v1/chat/completions"), "https://api.openai.com/v1/chat/completions");
        assert_eq!(url("https://gateway.example/v1?api-version=2024-10-21"), "https://gateway.example/v1/chat/completions?api-version=2024-10-21");
    }

    #[test]
    fn no_base_url_means_openai() {
        assert_eq!(completions_url(None).as_str(), "https://api.openai.com/v1/chat/completions");
    }
}
