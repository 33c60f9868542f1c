-- Imports of uploaded files into Airtable tables. Each runs as a saga whose steps are made as
-- it goes, a batch of rows at a time: `sagas.fed` counts the file's rows already made into
-- steps, in the same transaction as those steps, so a restart resumes after the last of them.
ALTER TABLE sagas ADD COLUMN fed BIGINT;

CREATE TABLE imports (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    saga_id TEXT NOT NULL REFERENCES sagas (id) ON DELETE CASCADE,
    -- The file may expire or be deleted after the import; its name stays for the history.
    file_id TEXT NOT NULL,
    file_name TEXT NOT NULL,
    base_id TEXT NOT NULL,
    table_id TEXT NOT NULL,
    table_name TEXT NOT NULL,
    -- JSON: the sheet, and each imported column with its field and the type its values are read as.
    plan TEXT NOT NULL,
    -- The field records are matched on, when the import updates instead of duplicating.
    key_field TEXT,
    total_rows BIGINT NOT NULL,
    -- Set by "Stop and keep": no new batches are started, and what was imported stays.
    stop_requested INTEGER NOT NULL DEFAULT 0,
    created_ms BIGINT NOT NULL
);
CREATE INDEX imports_by_user ON imports (user_id, created_ms);
CREATE INDEX imports_by_saga ON imports (saga_id);
CREATE INDEX imports_by_file ON imports (file_id);

-- Rows that were not imported, and why: a value that does not fit its field, or Airtable's refusal.
CREATE TABLE import_rejections (
    import_id TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    -- The row's place among the file's data rows, from 0.
    row_number BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (import_id, row_number)
);
