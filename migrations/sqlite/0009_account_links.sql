-- One-time links an administrator hands out: invitations to register (when registration is by
-- invitation) and password resets. Only a hash of each link's secret is kept.
CREATE TABLE account_links (
    id TEXT PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    -- 'invite' or 'reset'.
    kind TEXT NOT NULL,
    -- Whose password a reset link sets; empty for an invitation.
    user_id TEXT REFERENCES users (id) ON DELETE CASCADE,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL,
    used_ms BIGINT
);

-- What each user may spend on the server's own LLM key, as an administrator set it. Users with
-- a key of their own are not held to it.
CREATE TABLE server_key_budget (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    daily_usd REAL,
    monthly_usd REAL,
    saved_ms BIGINT NOT NULL
);

-- Whether a model call was paid with the server's key, so that only those count against it.
ALTER TABLE model_calls ADD COLUMN on_server_key INTEGER NOT NULL DEFAULT 0;
