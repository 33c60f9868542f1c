-- Each user's choice of LLM provider, model and API key (sealed). Without a row, the server's
-- configured default applies.
CREATE TABLE llm_settings (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    base_url TEXT,
    api_key_sealed TEXT,
    api_key_last4 TEXT,
    saved_ms BIGINT NOT NULL
);
