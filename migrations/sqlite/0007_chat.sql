-- The chat: each user's conversations, their messages (the user's, and one per step of the
-- assistant's answer, with its tool calls as JSON), and the user's approval policy and budgets.
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    base_id TEXT,
    -- Tools the user allowed for the rest of this conversation, as a JSON array of names.
    allowed_tools TEXT NOT NULL DEFAULT '[]',
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX conversations_by_user ON conversations (user_id, updated_ms);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    tool_calls TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL,
    error TEXT,
    provider TEXT,
    model TEXT,
    input_tokens BIGINT NOT NULL DEFAULT 0,
    cached_tokens BIGINT NOT NULL DEFAULT 0,
    output_tokens BIGINT NOT NULL DEFAULT 0,
    thinking_tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd REAL NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL,
    UNIQUE (conversation_id, seq)
);

CREATE TABLE chat_preferences (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    approval_policy TEXT NOT NULL,
    daily_budget_usd REAL,
    monthly_budget_usd REAL,
    saved_ms BIGINT NOT NULL
);

-- Every model call's tokens and cost, kept when its conversation is deleted: budgets and
-- spending are counted here, so deleting a conversation doesn't give its money back.
CREATE TABLE model_calls (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id TEXT,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    input_tokens BIGINT NOT NULL,
    cached_tokens BIGINT NOT NULL,
    output_tokens BIGINT NOT NULL,
    thinking_tokens BIGINT NOT NULL,
    cost_usd REAL NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX model_calls_by_user_time ON model_calls (user_id, created_ms);
