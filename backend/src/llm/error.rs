//! Why a model call failed, written for the person who reads it in the chat.

use crate::model::llm::LlmProvider;

/// Why a provider gave no answer. Each message names the provider and what to do.
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("{} rejected the API key. Check the key in Settings → LLM, or pick another provider there.", .provider.name())]
    KeyRejected { provider: LlmProvider },
    #[error("{} is rate limiting this key and still refused when asked again. Wait a minute and send again, or raise the key's quota.", .provider.name())]
    RateLimited { provider: LlmProvider, attempts: u32 },
    #[error("{} did not answer within {seconds} seconds. Send again; if it keeps happening, check the endpoint in Settings → LLM.", .provider.name())]
    Timeout { provider: LlmProvider, seconds: u64 },
    #[error("{} could not be reached: {detail}. Check the endpoint in Settings → LLM and that the server can reach it.", .provider.name())]
    Unreachable { provider: LlmProvider, detail: String },
    #[error("{} failed (HTTP {status}), also when asked again: {message}. Try again in a moment.", .provider.name())]
    Unavailable { provider: LlmProvider, status: u16, attempts: u32, message: String },
    /// The provider refused the request itself (an unknown model, a malformed tool schema).
    #[error("{} refused the request (HTTP {status}): {message}. Check the model name in Settings → LLM.", .provider.name())]
    Refused { provider: LlmProvider, status: u16, message: String },
    /// The model answered with nothing, and said why (a safety block, a length limit).
    #[error("{} gave no answer: {reason}.", .provider.name())]
    NoAnswer { provider: LlmProvider, reason: String },
    /// The answer was not what the provider's documented API sends.
    #[error("{}'s answer could not be read ({detail}). If you use a proxy or a local server, check that it speaks the provider's API.", .provider.name())]
    Protocol { provider: LlmProvider, detail: String },
}

impl LlmProvider {
    /// The provider's name in a sentence.
    pub fn name(self) -> &'static str {
        match self {
            LlmProvider::Offline => "The offline assistant",
            LlmProvider::Gemini => "Gemini",
            LlmProvider::OpenaiCompatible => "The OpenAI-compatible endpoint",
        }
    }
}

/// The message in an error body, from either provider's JSON shape, shortened; or the start of
/// the body when it isn't JSON.
pub(crate) fn upstream_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|v| {
            let error = v.get("error").unwrap_or(v);
            error.get("message").and_then(|m| m.as_str()).or_else(|| error.as_str())
        })
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_owned());
    let message = message.trim();
    if message.chars().count() > 300 { format!("{}…", message.chars().take(300).collect::<String>()) } else { message.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_messages_come_from_either_error_shape() {
        assert_eq!(upstream_message(r#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT"}}"#), "API key not valid.");
        assert_eq!(upstream_message(r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error"}}"#), "Incorrect API key provided");
        assert_eq!(upstream_message(r#"{"error":"model not found"}"#), "model not found");
        assert_eq!(upstream_message("Bad gateway"), "Bad gateway");
        assert!(upstream_message(&"x".repeat(1000)).ends_with('…'));
    }

    #[test]
    fn every_error_names_its_provider() {
        let e = LlmError::KeyRejected { provider: LlmProvider::Gemini };
        assert!(e.to_string().starts_with("Gemini rejected the API key"));
    }
}
