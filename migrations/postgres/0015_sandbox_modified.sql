-- When each sandbox record's cells last changed, for LAST_MODIFIED_TIME() and lastModifiedTime
-- fields. Records written before this migration count as unchanged since they were created.
ALTER TABLE sandbox_records ADD COLUMN modified_ms BIGINT NOT NULL DEFAULT 0;
UPDATE sandbox_records SET modified_ms = created_ms;
