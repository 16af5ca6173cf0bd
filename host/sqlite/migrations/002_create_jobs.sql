-- Pulse jobs. Times are Unix milliseconds. Every status change is a guarded UPDATE in
-- host/src/pulse/sql/; these checks keep the invariants even against a buggy statement.
CREATE TABLE jobs (
    id                TEXT    PRIMARY KEY,
    handler           TEXT    NOT NULL CHECK (length(handler) BETWEEN 1 AND 256),
    payload           TEXT    NOT NULL CHECK (json_valid(payload)),
    source            TEXT    NOT NULL DEFAULT '' CHECK (length(source) <= 1024),
    status            TEXT    NOT NULL CHECK (status IN
                          ('queued', 'running', 'paused', 'completed', 'failed', 'cancelled')),
    pause_reason      TEXT    CHECK ((status = 'paused') = (pause_reason IS NOT NULL)),
    priority          INTEGER NOT NULL DEFAULT 0 CHECK (priority BETWEEN -1000 AND 1000),
    attempt           INTEGER NOT NULL DEFAULT 0 CHECK (attempt >= 0),
    max_attempts      INTEGER NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
    run_at            INTEGER NOT NULL,
    timeout_ms        INTEGER CHECK (timeout_ms > 0),
    lease_owner       TEXT    CHECK ((status = 'running') = (lease_owner IS NOT NULL)),
    lease_expires_at  INTEGER CHECK ((status = 'running') = (lease_expires_at IS NOT NULL)),
    progress_current  INTEGER NOT NULL DEFAULT 0,
    progress_total    INTEGER NOT NULL DEFAULT 0,
    cost_estimate     REAL    NOT NULL DEFAULT 0 CHECK (cost_estimate >= 0),
    cost_actual       REAL    NOT NULL DEFAULT 0 CHECK (cost_actual >= 0),
    result            TEXT    CHECK (result IS NULL OR json_valid(result)),
    error             TEXT,
    error_details     TEXT    CHECK (error_details IS NULL OR json_valid(error_details)),
    parent_job_id     TEXT,
    plugin_version    TEXT    NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL,
    started_at        INTEGER,
    completed_at      INTEGER CHECK ((status IN ('completed', 'failed', 'cancelled'))
                                     = (completed_at IS NOT NULL)),
    updated_at        INTEGER NOT NULL,
    CHECK (status != 'completed' OR result IS NOT NULL)
);

-- The claim walks this index: runnable jobs, most urgent first, then oldest.
CREATE INDEX jobs_runnable ON jobs (priority DESC, run_at) WHERE status = 'queued';
-- The rescuer finds expired leases here.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
CREATE INDEX jobs_by_parent ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;
-- Dedup of active jobs by (handler, source).
CREATE INDEX jobs_active_by_source ON jobs (handler, source)
    WHERE status IN ('queued', 'running', 'paused');
CREATE INDEX jobs_by_status ON jobs (status, updated_at);

-- Log lines of a job, from the host and from the guest.
CREATE TABLE job_logs (
    id       INTEGER PRIMARY KEY,
    job_id   TEXT    NOT NULL,
    attempt  INTEGER NOT NULL,
    time     INTEGER NOT NULL,
    level    TEXT    NOT NULL CHECK (level IN ('trace', 'debug', 'info', 'warn', 'error')),
    stage    TEXT    NOT NULL,
    message  TEXT    NOT NULL
);

CREATE INDEX job_logs_by_job ON job_logs (job_id, id);

-- The handlers that running nodes registered with Pulse, so that `qntx job enqueue` can refuse
-- a handler nobody announced.
CREATE TABLE registered_handlers (
    handler        TEXT    PRIMARY KEY,
    plugin         TEXT    NOT NULL,
    plugin_version TEXT    NOT NULL,
    description    TEXT    NOT NULL,
    registered_at  INTEGER NOT NULL
);
