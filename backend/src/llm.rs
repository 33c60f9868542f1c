//! Talking to LLMs: which one a user's chat goes to, and each provider's protocol behind one
//! [`Provider`] trait: Gemini's native API, OpenAI-compatible chat completions, and the offline
//! assistant, which needs no key.

pub mod documents;
mod error;
mod gemini;
mod http;
mod message;
mod offline;
mod openai;
mod settings;

use std::sync::Arc;

use async_trait::async_trait;

pub use error::LlmError;
pub use http::{HttpPolicy, MAX_ANSWER_BYTES};
pub use message::{Message, Reply, Request, ToolCall, ToolResult, ToolSpec, Usage};
pub use offline::GRAMMAR as OFFLINE_GRAMMAR;
pub use crate::outbound::{AllowedHosts, is_public};
pub use settings::{EndpointOrigin, LlmChoice, LlmEndpoint, LlmSettings, LlmSettingsError};

use crate::model::llm::LlmProvider;

/// Where a streamed answer's text goes, piece by piece, as it arrives.
pub type TextSink = tokio::sync::mpsc::UnboundedSender<String>;

/// One LLM, whatever its protocol.
#[async_trait]
pub trait Provider: Send + Sync {
    fn kind(&self) -> LlmProvider;

    /// The whole answer at once (Gemini's `generateContent`, chat completions without `stream`).
    ///
    /// # Errors
    /// An [`LlmError`] naming the provider and the fix.
    async fn generate(&self, request: &Request) -> Result<Reply, LlmError>;

    /// The same answer streamed: each piece of text goes to `text` as it arrives, and the whole
    /// reply, tool calls and usage included, is returned at the end. A receiver that hung up
    /// doesn't stop the answer.
    ///
    /// # Errors
    /// An [`LlmError`] naming the provider and the fix.
    async fn stream(&self, request: &Request, text: &TextSink) -> Result<Reply, LlmError>;
}

/// Builds providers for endpoints, over one shared HTTP client. Cheap to clone.
#[derive(Clone)]
pub struct Llm {
    http: http::Http,
}

impl Llm {
    /// Providers where users' endpoints may reach public addresses only.
    pub fn new(policy: HttpPolicy) -> Self {
        Self::with_allowed_hosts(policy, AllowedHosts::default())
    }

    /// Providers where users' endpoints may also reach the local or private hosts listed.
    pub fn with_allowed_hosts(policy: HttpPolicy, allowed_hosts: AllowedHosts) -> Self {
        Self { http: http::Http::with_allowed_hosts(policy, allowed_hosts) }
    }

    /// The provider that `endpoint` names, reaching the addresses its origin allows.
    pub fn provider(&self, endpoint: &LlmEndpoint) -> Arc<dyn Provider> {
        let http = self.http.for_origin(endpoint.origin);
        match endpoint.provider {
            LlmProvider::Offline => Arc::new(offline::Offline),
            LlmProvider::Gemini => Arc::new(gemini::Gemini::new(http, endpoint)),
            LlmProvider::OpenaiCompatible => Arc::new(openai::OpenAi::new(http, endpoint)),
        }
    }
}
