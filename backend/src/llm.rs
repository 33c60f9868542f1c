//! Talking to LLMs: which one a user's chat goes to. The providers' protocol code joins this
//! module with the chat.

mod settings;

pub use settings::{LlmChoice, LlmEndpoint, LlmSettings, LlmSettingsError};
