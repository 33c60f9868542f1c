-- Files people uploaded: the bytes live on disk under the data folder (`stored_name` there),
-- and what reading them found lives here, so lists and previews need not read them again.
CREATE TABLE files (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The name it was uploaded with, shown to its owner only.
    name TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    -- 'csv', 'xlsx', 'xls', 'ods', 'json', 'ndjson', 'text', 'pdf' or 'docx'.
    kind TEXT NOT NULL,
    -- How its rows are laid out (JSON): delimiter, encoding and header, or a workbook's sheets.
    layout TEXT NOT NULL,
    -- Rows and columns (JSON, with each column's inferred type); no rows for a document.
    row_count BIGINT,
    columns TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    expires_ms BIGINT NOT NULL
);
CREATE INDEX files_by_user ON files (user_id, created_ms);
CREATE INDEX files_by_expiry ON files (expires_ms);
