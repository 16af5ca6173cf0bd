-- Pulse, third step: claiming and completing a job, and logging a line, do less work
-- (measured with `cargo bench -p qntx-bench` and callgrind).
--
-- 1. CHECKs without IN lists. SQLite tests `x IN ('a', 'b', 'c')` against a temporary b-tree
--    that it builds at every execution of the statement: each claim, completion and log line
--    built two or three. The same rules are written as OR chains here, and the two tables are
--    rebuilt to carry them (SQLite cannot alter a CHECK). Row ids are kept: claims break ties in
--    enqueue order by rowid, and log lines are numbered by id.
-- 2. Indexes. Every transition rewrote an entry of jobs_by_status, which no hot query needs,
--    and of jobs_active_by_source, whose WHERE named the status. Each status query now has a
--    partial index of its own: queued → jobs_runnable, running → jobs_leases, finished →
--    jobs_by_completion, paused → jobs_paused; and dedup keys on `completed_at IS NULL` (the
--    same set as queued, running or paused: a CHECK ties them), which a claim leaves unchanged.

CREATE TABLE jobs_new (
    id                TEXT    PRIMARY KEY,
    handler           TEXT    NOT NULL CHECK (length(handler) BETWEEN 1 AND 256),
    payload           TEXT    NOT NULL CHECK (json_valid(payload)),
    source            TEXT    NOT NULL DEFAULT '' CHECK (length(source) <= 1024),
    status            TEXT    NOT NULL CHECK (status = 'queued' OR status = 'running'
                          OR status = 'paused' OR status = 'completed' OR status = 'failed'
                          OR status = 'cancelled'),
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
    completed_at      INTEGER CHECK ((status = 'completed' OR status = 'failed'
                                      OR status = 'cancelled') = (completed_at IS NOT NULL)),
    updated_at        INTEGER NOT NULL,
    claims            INTEGER NOT NULL DEFAULT 0 CHECK (claims >= 0),
    CHECK (status != 'completed' OR result IS NOT NULL)
);
INSERT INTO jobs_new (rowid, id, handler, payload, source, status, pause_reason, priority, attempt,
    max_attempts, run_at, timeout_ms, lease_owner, lease_expires_at, progress_current,
    progress_total, cost_estimate, cost_actual, result, error, error_details, parent_job_id,
    plugin_version, created_at, started_at, completed_at, updated_at, claims)
SELECT rowid, id, handler, payload, source, status, pause_reason, priority, attempt,
    max_attempts, run_at, timeout_ms, lease_owner, lease_expires_at, progress_current,
    progress_total, cost_estimate, cost_actual, result, error, error_details, parent_job_id,
    plugin_version, created_at, started_at, completed_at, updated_at, claims
FROM jobs;
DROP TABLE jobs;
ALTER TABLE jobs_new RENAME TO jobs;

-- The claim walks this index: runnable jobs, most urgent first, then oldest.
CREATE INDEX jobs_runnable ON jobs (priority DESC, run_at) WHERE status = 'queued';
-- Running jobs: the rescuer finds expired leases here; lease renewal and load counts scan it.
CREATE INDEX jobs_leases ON jobs (lease_expires_at) WHERE status = 'running';
-- The budget resumer takes paused jobs in claim order.
CREATE INDEX jobs_paused ON jobs (pause_reason, priority DESC, run_at) WHERE status = 'paused';
-- Spend windows sum the settled cost of finished jobs by completion time; the pruner too.
CREATE INDEX jobs_by_completion ON jobs (completed_at) WHERE completed_at IS NOT NULL;
-- Dedup of `unique` enqueues among unfinished jobs.
CREATE INDEX jobs_unfinished_by_source ON jobs (handler, source) WHERE completed_at IS NULL;
-- Rate limits count the starts of a handler's jobs in the last minute.
CREATE INDEX jobs_starts ON jobs (handler, started_at) WHERE started_at IS NOT NULL;
CREATE INDEX jobs_by_parent ON jobs (parent_job_id) WHERE parent_job_id IS NOT NULL;

CREATE TABLE job_logs_new (
    id       INTEGER PRIMARY KEY,
    job_id   TEXT    NOT NULL,
    attempt  INTEGER NOT NULL,
    time     INTEGER NOT NULL,
    level    TEXT    NOT NULL CHECK (level = 'trace' OR level = 'debug' OR level = 'info'
                                     OR level = 'warn' OR level = 'error'),
    stage    TEXT    NOT NULL,
    message  TEXT    NOT NULL
);
INSERT INTO job_logs_new (id, job_id, attempt, time, level, stage, message)
SELECT id, job_id, attempt, time, level, stage, message FROM job_logs;
DROP TABLE job_logs;
ALTER TABLE job_logs_new RENAME TO job_logs;
CREATE INDEX job_logs_by_job ON job_logs (job_id, id);
