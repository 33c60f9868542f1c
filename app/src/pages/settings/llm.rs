//! The LLM section of Settings: which provider and model answer the chat, and the API key.

use backend::model::llm::{LlmProvider, LlmSettingsView, LlmSource};
use leptos::prelude::*;

use crate::error::AppError;

/// The LLM settings in force for the caller: their own, or the server's default. Never the key.
#[server(prefix = "/api", endpoint = "llm/settings")]
pub async fn llm_settings() -> Result<LlmSettingsView, AppError> {
    let principal = crate::auth::require_user()?;
    Ok(crate::auth::services().llm_settings.view(&principal.user.id).await?)
}

/// Saves the caller's provider, model, endpoint and key. An empty key keeps the one saved for
/// the same provider.
#[server(prefix = "/api", endpoint = "llm/save")]
pub async fn save_llm_settings(
    provider: String,
    model: String,
    base_url: Option<String>,
    api_key: Option<String>,
) -> Result<LlmSettingsView, AppError> {
    let principal = crate::auth::require_writer()?;
    let provider = LlmProvider::parse(&provider)
        .ok_or_else(|| AppError::Invalid(format!("“{provider}” is not a provider: use offline, gemini or openai_compatible.")))?;
    let choice = backend::llm::LlmChoice {
        provider,
        model,
        base_url: base_url.unwrap_or_default(),
        api_key: secrecy::SecretString::from(api_key.unwrap_or_default()),
    };
    Ok(crate::auth::services().llm_settings.save(&principal.user.id, &choice).await?)
}

/// Forgets the caller's choice; the server's default applies again.
#[server(prefix = "/api", endpoint = "llm/reset")]
pub async fn reset_llm_settings() -> Result<LlmSettingsView, AppError> {
    let principal = crate::auth::require_writer()?;
    Ok(crate::auth::services().llm_settings.reset(&principal.user.id).await?)
}

#[component]
pub fn LlmSection() -> impl IntoView {
    let save = ServerAction::<SaveLlmSettings>::new();
    let reset = ServerAction::<ResetLlmSettings>::new();
    // Reloaded only after a save that succeeded: a refused save keeps the form as typed, with
    // the provider chosen and the message beside it.
    let saved = RwSignal::new(0u32);
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            saved.update(|n| *n += 1);
        }
    });
    let current = Resource::new(move || (saved.get(), reset.version().get()), |_| llm_settings());
    view! {
        <section class="card" aria-labelledby="llm-title">
            <h2 id="llm-title">"LLM provider"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || current.get().map(|result| match result {
                    Ok(view) => view! { <LlmForm current=view save reset /> }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn LlmForm(current: LlmSettingsView, save: ServerAction<SaveLlmSettings>, reset: ServerAction<ResetLlmSettings>) -> impl IntoView {
    let provider = RwSignal::new(current.provider);
    let summary = summary(&current);
    let key_hint = match (&current.source, &current.api_key_last4) {
        (LlmSource::Account, Some(last4)) => format!("A key ending in {last4} is saved. Leave this empty to keep it."),
        _ => "Stored encrypted; only its last 4 characters are ever shown again.".to_owned(),
    };
    let base_url = current.base_url.clone().unwrap_or_else(|| "https://api.openai.com/v1".into());
    let from_account = current.source == LlmSource::Account;
    view! {
        <p class="connection-status" data-testid="llm-summary">{summary}</p>
        <ActionForm action=save attr:class="form">
            <label>
                "Provider"
                // Named here: a label around a select would also take in every option's text.
                <select name="provider" aria-label="Provider" on:change=move |ev| {
                    if let Some(p) = LlmProvider::parse(&event_target_value(&ev)) {
                        provider.set(p);
                    }
                }>
                    {LlmProvider::ALL
                        .into_iter()
                        .map(|p| view! { <option value=p.as_str() selected=p == current.provider>{p.label()}</option> })
                        .collect_view()}
                </select>
            </label>
            <Show when=move || provider.get() != LlmProvider::Offline>
                <label>
                    "Model"
                    <input
                        type="text"
                        name="model"
                        spellcheck="false"
                        // Another provider's model name would be wrong here: start empty.
                        prop:value={
                            let (saved_provider, saved_model) = (current.provider, current.model.clone());
                            move || if provider.get() == saved_provider { saved_model.clone() } else { String::new() }
                        }
                        placeholder=move || provider.get().default_model()
                    />
                </label>
            </Show>
            <Show when=move || provider.get() == LlmProvider::Offline>
                <input type="hidden" name="model" value="" />
                <p class="hint">"The offline assistant runs on this server and understands plain commands such as “list tables” or “show 5 records from Tasks where Status is Done”. It needs no key."</p>
            </Show>
            <Show when=move || provider.get() == LlmProvider::OpenaiCompatible>
                <label>
                    "Endpoint"
                    <input type="url" name="base_url" spellcheck="false" value=base_url.clone() required />
                </label>
                <p class="hint">"OpenAI, OpenRouter, or your own Ollama, vLLM or llama.cpp server, up to /v1. A server on this machine or your private network works once the administrator allows its host."</p>
            </Show>
            <Show when=move || provider.get() != LlmProvider::Offline>
                <label>
                    "API key"
                    <input type="password" name="api_key" autocomplete="off" spellcheck="false" />
                </label>
                <p class="hint">{key_hint.clone()}</p>
            </Show>
            {move || match save.value().get() {
                Some(Ok(_)) => view! { <p class="success" role="status">"LLM settings saved."</p> }.into_any(),
                Some(Err(e)) => view! { <p class="error" role="alert">{e.to_string()}</p> }.into_any(),
                None => ().into_any(),
            }}
            <button type="submit" class="button" disabled=save.pending()>"Save LLM settings"</button>
        </ActionForm>
        <Show when=move || from_account>
            <ActionForm action=reset attr:class="inline-form">
                <button type="submit" class="button secondary">"Use the server's default"</button>
            </ActionForm>
        </Show>
    }
}

/// One sentence on what answers the chat now.
fn summary(current: &LlmSettingsView) -> String {
    let whose = match current.source {
        LlmSource::Account => "Your chat uses",
        LlmSource::Server => "You use the server's default:",
    };
    match current.provider {
        LlmProvider::Offline => format!("{whose} the offline assistant."),
        LlmProvider::Gemini => format!("{whose} Google Gemini, model {}.", current.model),
        LlmProvider::OpenaiCompatible => {
            format!("{whose} {} at {}.", current.model, current.base_url.as_deref().unwrap_or("an OpenAI-compatible endpoint"))
        }
    }
}
