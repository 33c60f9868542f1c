-- Workflows: a trigger and an ordered list of steps, kept as JSON. Every save writes a new
-- version; the workflow row points at the current one and holds what its triggers need.
CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    -- The trigger's kind, copied out of the definition so the schedulers can find theirs.
    trigger_kind TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 1,
    -- Why the workflow was turned off on its own (too many failures in a row), for the list.
    disabled_reason TEXT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    -- The webhook's secret, sealed with the server's key (the workflow's ID as associated data).
    webhook_secret TEXT,
    -- A schedule's next tick, in unix milliseconds; every instance claims ticks from here.
    next_tick_ms BIGINT,
    -- A record trigger's cursor: the newest LAST_MODIFIED_TIME() seen, and the records seen at it.
    record_cursor TEXT,
    created_ms BIGINT NOT NULL,
    updated_ms BIGINT NOT NULL
);
CREATE INDEX workflows_by_user ON workflows (user_id, updated_ms);
CREATE INDEX workflows_by_trigger ON workflows (trigger_kind, enabled);

CREATE TABLE workflow_versions (
    workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_ms BIGINT NOT NULL,
    PRIMARY KEY (workflow_id, version)
);

-- One run of a workflow, with the definition it ran. `trigger_key` names the event that started
-- it (a schedule's tick, a webhook's delivery, a record's change), unique per workflow, so that
-- instances sharing the database start each event's run once.
CREATE TABLE workflow_runs (
    id TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL REFERENCES workflows (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    trigger_key TEXT,
    -- JSON: what the trigger passed (inputs, the record, the request's body, the file).
    trigger_data TEXT NOT NULL,
    status TEXT NOT NULL,
    -- A test run performs no writes; its writing steps report what they would do.
    test INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    -- A retry's earlier run, and the step it starts from (the steps before it are copied).
    retry_of TEXT,
    start_at TEXT,
    -- Until when the instance running it holds it; a run whose holder died is taken over after.
    lease_ms BIGINT,
    error TEXT,
    created_ms BIGINT NOT NULL,
    started_ms BIGINT,
    finished_ms BIGINT
);
CREATE UNIQUE INDEX workflow_runs_once ON workflow_runs (workflow_id, trigger_key);
CREATE INDEX workflow_runs_by_workflow ON workflow_runs (workflow_id, created_ms);
CREATE INDEX workflow_runs_by_status ON workflow_runs (status, created_ms);

-- Each step's input, output, time and error; a loop's inner steps have their iteration's path.
CREATE TABLE workflow_run_steps (
    run_id TEXT NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    step_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    input TEXT,
    output TEXT,
    error TEXT,
    started_ms BIGINT NOT NULL,
    duration_ms BIGINT,
    PRIMARY KEY (run_id, position)
);
