-- Sagas: multi-record changes that either finish or are undone. The log here is what recovery
-- reads after a crash, never memory: each step's intent is written before it runs, and what it
-- touched (record IDs, before- and after-images) as each chunk of it lands.
CREATE TABLE sagas (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 'chat', 'mcp', 'rest', 'browser', 'import' or 'workflow'.
    source TEXT NOT NULL,
    title TEXT NOT NULL,
    base_id TEXT NOT NULL,
    -- The chat conversation that made it, for "Undo all changes in this conversation".
    conversation_id TEXT,
    -- 'running', 'done', 'compensating', 'compensated' or 'needs_attention'.
    status TEXT NOT NULL,
    -- Set by Cancel or Undo; the driver compensates instead of going on.
    compensate_requested INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    -- Which process drives the saga, and until when; a lapsed lease may be taken over.
    lease_owner TEXT,
    lease_until_ms BIGINT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX sagas_by_user ON sagas (user_id, created_ms);
CREATE INDEX sagas_by_conversation ON sagas (conversation_id);

CREATE TABLE saga_steps (
    saga_id TEXT NOT NULL REFERENCES sagas (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    -- The writing tool, and its arguments as the catalog takes them.
    tool TEXT NOT NULL,
    arguments TEXT NOT NULL,
    -- 'pending', 'applying', 'applied', 'failed', 'compensating' or 'compensated'.
    state TEXT NOT NULL,
    -- The table's ID, once resolved, so that compensation never depends on its name.
    table_id TEXT,
    -- How many of the step's chunks (one Airtable request each) have landed, and when the
    -- chunk after them was started: an ambiguous create is looked for from that moment.
    chunks_done INTEGER NOT NULL DEFAULT 0,
    chunk_started_ms BIGINT,
    -- JSON: every record the step touched, with its before- and after-image.
    records TEXT NOT NULL DEFAULT '[]',
    -- JSON: the before-images read ahead of an update, upsert or delete, by record ID.
    before TEXT,
    -- How far compensation got: chunks undone, and records re-created with their new IDs.
    compensation TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (saga_id, position)
);
