//! LLM settings over HTTP: saved per user, the key sealed and never sent back, and the server's
//! default for everyone who chose nothing.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, on_both_databases};

const PASSWORD: &str = "correct horse battery";
const KEY: &str = "sk-test-0123456789abcdefWXYZ";

impl TestApp {
    async fn llm_call(&self, bearer: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.url(path)).bearer_auth(bearer).form(form).send().await.unwrap()
    }
}

async fn a_users_llm_choice_is_theirs_alone_and_its_key_never_comes_back(app: TestApp) {
    let ada_id = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap().id;
    app.services.auth.users.create("bob@example.com", PASSWORD, false).await.unwrap();
    let ada = app.access_token("ada@example.com", PASSWORD).await;
    let bob = app.access_token("bob@example.com", PASSWORD).await;

    let before: Value = app.llm_call(&ada, "/api/llm/settings", &[]).await.json().await.unwrap();
    assert_eq!(before["source"], "server");
    assert_eq!(before["provider"], "offline");

    let form = [
        ("provider", "openai_compatible"),
        ("model", "llama3.1:8b"),
        ("base_url", "http://127.0.0.1:11434/v1"),
        ("api_key", KEY),
    ];
    let saved = app.llm_call(&ada, "/api/llm/save", &form).await;
    assert_eq!(saved.status(), StatusCode::OK);
    let saved = saved.text().await.unwrap();
    assert!(!saved.contains(KEY), "the key is never sent back: {saved}");
    let view: Value = serde_json::from_str(&saved).unwrap();
    assert_eq!(view["api_key_last4"], "WXYZ");
    assert_eq!(view["source"], "account");

    // The chat will call what Ada chose, with her key.
    let endpoint = app.services.llm_settings.endpoint(&ada_id).await.unwrap();
    assert_eq!(secrecy::ExposeSecret::expose_secret(endpoint.api_key.as_ref().unwrap()), KEY);

    // Bob still has the server's default, and resetting his touches nothing of Ada's.
    let bob_view: Value = app.llm_call(&bob, "/api/llm/settings", &[]).await.json().await.unwrap();
    assert_eq!(bob_view["source"], "server");
    assert_eq!(app.llm_call(&bob, "/api/llm/reset", &[]).await.status(), StatusCode::OK);
    let ada_view: Value = app.llm_call(&ada, "/api/llm/settings", &[]).await.json().await.unwrap();
    assert_eq!(ada_view["model"], "llama3.1:8b");

    // Nothing stores the key in clear.
    let stored: Vec<(String, String)> =
        sqlx::query_as("SELECT api_key_sealed, api_key_last4 FROM llm_settings").fetch_all(app.services.db.pool()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].0.contains(KEY) && !stored[0].0.contains(&KEY[3..]));

    // A bad endpoint is explained, and nothing changes.
    let bad = app.llm_call(&ada, "/api/llm/save", &[("provider", "openai_compatible"), ("model", "m"), ("base_url", "file:///etc/passwd")]).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("http:// or https://"));
}

on_both_databases!(a_users_llm_choice_is_theirs_alone_and_its_key_never_comes_back);
