//! Which LLM answers a user's chat: the choice they save in Settings, as the browser sees it.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The kinds of LLM PyAirtable can talk to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmProvider {
    /// The built-in assistant: understands a documented set of plain commands, needs no key.
    Offline,
    /// Google's Gemini, through its native `generateContent` API.
    Gemini,
    /// Any endpoint that speaks OpenAI's chat completions: OpenAI, Ollama, vLLM, llama.cpp, OpenRouter.
    OpenaiCompatible,
}

impl LlmProvider {
    pub const ALL: [LlmProvider; 3] = [LlmProvider::Offline, LlmProvider::Gemini, LlmProvider::OpenaiCompatible];

    /// The name used in configuration, forms and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            LlmProvider::Offline => "offline",
            LlmProvider::Gemini => "gemini",
            LlmProvider::OpenaiCompatible => "openai_compatible",
        }
    }

    /// Reads a name as `as_str` writes it.
    pub fn parse(name: &str) -> Option<LlmProvider> {
        LlmProvider::ALL.into_iter().find(|p| p.as_str() == name.trim())
    }

    /// The name people see.
    pub fn label(self) -> &'static str {
        match self {
            LlmProvider::Offline => "Offline assistant (no key needed)",
            LlmProvider::Gemini => "Google Gemini",
            LlmProvider::OpenaiCompatible => "OpenAI-compatible endpoint",
        }
    }

    /// The model used when none is named.
    pub fn default_model(self) -> &'static str {
        match self {
            LlmProvider::Offline => "offline-assistant",
            LlmProvider::Gemini => "gemini-2.5-flash",
            LlmProvider::OpenaiCompatible => "gpt-4o-mini",
        }
    }
}

impl fmt::Display for LlmProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Whose choice is in force.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LlmSource {
    /// The user saved their own.
    Account,
    /// The server's configured default.
    Server,
}

/// The LLM settings in force for a user. The API key is never here: only its last 4 characters,
/// and only for a key the user saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LlmSettingsView {
    pub provider: LlmProvider,
    pub model: String,
    /// The endpoint of an OpenAI-compatible provider.
    pub base_url: Option<String>,
    pub api_key_last4: Option<String>,
    /// Whether the server's default has a key (never which).
    pub has_api_key: bool,
    pub source: LlmSource,
    pub saved_ms: Option<i64>,
}

/// Tokens one model call used, as its provider counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Everything the model read, cached tokens included.
    pub input_tokens: u64,
    /// The part of `input_tokens` served from the provider's cache (billed lower).
    pub cached_tokens: u64,
    /// The answer's tokens, thinking excluded.
    pub output_tokens: u64,
    /// Tokens the model spent thinking (billed as output).
    pub thinking_tokens: u64,
}

impl Usage {
    pub fn total(&self) -> u64 {
        self.input_tokens + self.output_tokens + self.thinking_tokens
    }
}

impl std::ops::AddAssign for Usage {
    fn add_assign(&mut self, other: Usage) {
        self.input_tokens += other.input_tokens;
        self.cached_tokens += other.cached_tokens;
        self.output_tokens += other.output_tokens;
        self.thinking_tokens += other.thinking_tokens;
    }
}
