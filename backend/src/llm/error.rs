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
    // The upstream body is never part of a message (it could be anything the address serves);
    // it is logged where the error is made, by `log_upstream`.
    #[error("{} failed (HTTP {status}), also when asked again. Try again in a moment.", .provider.name())]
    Unavailable { provider: LlmProvider, status: u16, attempts: u32 },
    /// The provider refused the request itself (an unknown model, a malformed tool schema).
    #[error("{} refused the request (HTTP {status}). Check the model name in Settings → LLM.", .provider.name())]
    Refused { provider: LlmProvider, status: u16 },
    /// A user's endpoint answered with a redirect, which is never followed for them.
    #[error("{} answered with a redirect (HTTP {status}), which is not followed. Put the address it redirects to in Settings → LLM.", .provider.name())]
    Redirected { provider: LlmProvider, status: u16 },
    /// A user's endpoint is at a loopback, private, link-local or other reserved address.
    #[error("{} is at a local or private network address, which this server does not call for an endpoint chosen in Settings → LLM. Use the provider's public address, or ask your administrator to add the host to PYAIRTABLE_LLM_ALLOWED_HOSTS.", .provider.name())]
    Blocked { provider: LlmProvider },
    /// The answer, or a streamed answer in total or in one line, was over the size limit.
    #[error("{}'s answer was too large (over {limit_mib} MiB in all, or one line of a stream over 1 MiB), so it was not read. Ask for a shorter answer, or check the endpoint in Settings → LLM.", .provider.name())]
    TooLarge { provider: LlmProvider, limit_mib: usize },
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

/// Logs what a provider said in an error body, shortened, for the administrator; users only see
/// the provider and the status.
pub(crate) fn log_upstream(provider: LlmProvider, status: u16, message: &str) {
    tracing::warn!(provider = provider.as_str(), status, upstream = message, "the LLM provider answered with an error");
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
    fn refusals_do_not_repeat_what_the_provider_said() {
        let e = LlmError::Refused { provider: LlmProvider::OpenaiCompatible, status: 404 };
        assert_eq!(e.to_string(), "The OpenAI-compatible endpoint refused the request (HTTP 404). Check the model name in Settings → LLM.");
    }

    #[test]
    fn every_error_names_its_provider() {
        let e = LlmError::KeyRejected { provider: LlmProvider::Gemini };
        assert!(e.to_string().starts_with("Gemini rejected the API key"));
    }
}
