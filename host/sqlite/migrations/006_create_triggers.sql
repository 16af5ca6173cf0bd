-- What enqueues jobs by itself: schedules (every interval) and watchers (for each new matching
-- attestation). Plugins announce them at initialize; users add schedules from the CLI.
CREATE TABLE schedules (
    id             TEXT    PRIMARY KEY,
    owner          TEXT    NOT NULL,
    handler        TEXT    NOT NULL CHECK (length(handler) BETWEEN 1 AND 256),
    payload        TEXT    NOT NULL CHECK (json_valid(payload)),
    interval_ms    INTEGER NOT NULL CHECK (interval_ms >= 1000),
    enabled        INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    next_run_at    INTEGER NOT NULL,
    last_job_id    TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

CREATE INDEX schedules_due ON schedules (next_run_at) WHERE enabled = 1;

CREATE TABLE watchers (
    id                    TEXT    PRIMARY KEY,
    owner                 TEXT    NOT NULL,
    handler               TEXT    NOT NULL CHECK (length(handler) BETWEEN 1 AND 256),
    filter                TEXT    NOT NULL CHECK (json_valid(filter)),
    max_fires_per_second  REAL    NOT NULL CHECK (max_fires_per_second > 0),
    include_own_writes    INTEGER NOT NULL CHECK (include_own_writes IN (0, 1)),
    -- The last attestation seq this watcher has examined; advanced in the same transaction as
    -- the jobs it enqueues, so each (watcher, attestation) fires exactly once.
    cursor_seq            INTEGER NOT NULL,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
