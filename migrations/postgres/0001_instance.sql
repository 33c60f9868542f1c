-- One row describing this installation: when it was set up, and which version last started it.
CREATE TABLE instance (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    installed_ms BIGINT NOT NULL,
    last_version TEXT NOT NULL,
    last_started_ms BIGINT NOT NULL
);
