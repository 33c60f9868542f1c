-- The Airtable sandbox: per-user tokens, bases, tables (schema as JSON) and records.

-- Only a hash identifies a presented token; the sealed copy lets the server call the sandbox
-- for its owner.
CREATE TABLE sandbox_tokens (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    token_sealed TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);

CREATE TABLE sandbox_bases (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_ms BIGINT NOT NULL
);
CREATE INDEX sandbox_bases_by_user ON sandbox_bases (user_id, created_ms);

-- fields and views are JSON arrays in Airtable's Meta API shape.
CREATE TABLE sandbox_tables (
    id TEXT PRIMARY KEY,
    base_id TEXT NOT NULL REFERENCES sandbox_bases (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    primary_field_id TEXT NOT NULL,
    fields TEXT NOT NULL,
    views TEXT NOT NULL,
    next_auto_number BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX sandbox_tables_by_base ON sandbox_tables (base_id, position);

-- cells is a JSON object keyed by field ID, so renaming a field touches no record.
CREATE TABLE sandbox_records (
    id TEXT PRIMARY KEY,
    table_id TEXT NOT NULL REFERENCES sandbox_tables (id) ON DELETE CASCADE,
    created_ms BIGINT NOT NULL,
    auto_number BIGINT NOT NULL,
    cells TEXT NOT NULL
);
CREATE INDEX sandbox_records_by_table ON sandbox_records (table_id, auto_number);
