-- Users' own Airtable personal access tokens, sealed with the server's encryption key.
CREATE TABLE airtable_tokens (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_sealed TEXT NOT NULL,
    token_last4 TEXT NOT NULL,
    saved_ms BIGINT NOT NULL
);
