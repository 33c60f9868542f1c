-- Analytics: raw events (deleted after PYAIRTABLE_ANALYTICS_RETENTION_DAYS), and hourly rollups
-- that the dashboard reads and that are kept. No foreign keys: events are written in batches
-- after the request, and a user deleted in between must not make the whole batch fail.
CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at_ms BIGINT NOT NULL,
    kind TEXT NOT NULL,
    user_id TEXT,
    name TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    base_id TEXT NOT NULL DEFAULT '',
    conversation_id TEXT,
    model TEXT,
    ok INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    status BIGINT,
    latency_ms BIGINT NOT NULL DEFAULT 0,
    waited_ms BIGINT NOT NULL DEFAULT 0,
    rate_limited INTEGER NOT NULL DEFAULT 0,
    tokens BIGINT NOT NULL DEFAULT 0,
    cost_usd DOUBLE PRECISION NOT NULL DEFAULT 0,
    detail TEXT,
    -- A client event's properties, as a JSON object.
    properties TEXT
);
CREATE INDEX events_by_time ON events (at_ms);
CREATE INDEX events_by_user_time ON events (user_id, at_ms);
CREATE INDEX events_failed ON events (ok, at_ms);

-- One row per hour, user ('' when none), kind, name, source and base, and the same again with
-- user '*' adding up everyone, which an admin's "all users" dashboard reads. Several servers add into
-- the same row (ON CONFLICT … SET n = n + excluded.n). h00…h15 count latencies in the fixed
-- buckets of backend::analytics::histogram, so a p95 can be read from rollups alone.
CREATE TABLE event_rollups (
    hour_ms BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    base_id TEXT NOT NULL,
    n BIGINT NOT NULL,
    errors BIGINT NOT NULL,
    latency_ms BIGINT NOT NULL,
    tokens BIGINT NOT NULL,
    cost_usd DOUBLE PRECISION NOT NULL,
    waited_ms BIGINT NOT NULL,
    -- Events that waited on the rate limiter or met a 429.
    limited BIGINT NOT NULL,
    rate_limited BIGINT NOT NULL,
    h00 BIGINT NOT NULL DEFAULT 0,
    h01 BIGINT NOT NULL DEFAULT 0,
    h02 BIGINT NOT NULL DEFAULT 0,
    h03 BIGINT NOT NULL DEFAULT 0,
    h04 BIGINT NOT NULL DEFAULT 0,
    h05 BIGINT NOT NULL DEFAULT 0,
    h06 BIGINT NOT NULL DEFAULT 0,
    h07 BIGINT NOT NULL DEFAULT 0,
    h08 BIGINT NOT NULL DEFAULT 0,
    h09 BIGINT NOT NULL DEFAULT 0,
    h10 BIGINT NOT NULL DEFAULT 0,
    h11 BIGINT NOT NULL DEFAULT 0,
    h12 BIGINT NOT NULL DEFAULT 0,
    h13 BIGINT NOT NULL DEFAULT 0,
    h14 BIGINT NOT NULL DEFAULT 0,
    h15 BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (hour_ms, user_id, kind, name, source, base_id)
);
CREATE INDEX event_rollups_by_user ON event_rollups (user_id, hour_ms);

-- Which conversations had a chat turn in which hour, for counting distinct conversations.
CREATE TABLE conversation_hours (
    hour_ms BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    PRIMARY KEY (hour_ms, user_id, conversation_id)
);
CREATE INDEX conversation_hours_by_user ON conversation_hours (user_id, hour_ms);
