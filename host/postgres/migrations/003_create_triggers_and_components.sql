-- Components, schedules, watchers and plugin load records; the final shape of the SQLite
-- schema (its migrations 005, 006 and 008), so that `qntx db copy` moves rows table by table.
-- Times are Unix milliseconds; ids that statements order by are `COLLATE "C"` (byte order, as
-- SQLite compares).

-- Component bytes of user handlers, content-addressed, so that every node sharing the database
-- can load them. The handler attestations (predicate `handler`) point here by sha256. Rows are
-- never deleted: the history of a handler stays loadable (rollback).
CREATE TABLE components (
    -- components_pkey: component_get and the conflict check of component_insert.
    sha256      TEXT COLLATE "C" PRIMARY KEY CHECK (length(sha256) = 64),
    bytes       BYTEA  NOT NULL,
    size        BIGINT NOT NULL CHECK (size = length(bytes)),
    created_at  BIGINT NOT NULL
);

-- What enqueues jobs by itself: schedules (every interval) and watchers (for each new matching
-- attestation). Plugins announce them at initialize; users add schedules from the CLI.
CREATE TABLE schedules (
    -- schedules_pkey: schedule_get, schedule_list (by id), schedule_advance and the other
    -- statements on one schedule.
    id             TEXT COLLATE "C" PRIMARY KEY,
    owner          TEXT    NOT NULL,
    handler        TEXT    NOT NULL CHECK (length(handler) BETWEEN 1 AND 256),
    payload        TEXT    NOT NULL CHECK (payload::json IS NOT NULL),
    interval_ms    BIGINT  NOT NULL CHECK (interval_ms >= 1000),
    enabled        BOOLEAN NOT NULL,
    next_run_at    BIGINT  NOT NULL,
    last_job_id    TEXT,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL
);

-- schedule_due walks this earliest first; paused schedules stay out of it.
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE enabled;

CREATE TABLE watchers (
    -- watchers_pkey: watcher_list (by id) and watcher_advance.
    id                    TEXT COLLATE "C" PRIMARY KEY,
    owner                 TEXT    NOT NULL,
    handler               TEXT    NOT NULL CHECK (length(handler) BETWEEN 1 AND 256),
    filter                TEXT    NOT NULL CHECK (filter::json IS NOT NULL),
    max_fires_per_second  DOUBLE PRECISION NOT NULL CHECK (max_fires_per_second > 0),
    include_own_writes    BOOLEAN NOT NULL,
    -- The last attestation seq this watcher has examined; advanced by compare-and-set in the
    -- same transaction as the jobs it enqueues, so each (watcher, attestation) fires exactly
    -- once, whichever node fires it.
    cursor_seq            BIGINT  NOT NULL,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL
);

-- What a node found when it last loaded each plugin file, so that `qntx plugin list` and
-- `qntx plugin inspect` describe plugins without running their code. Keyed by the sha256 of the
-- component and of the manifest beside it (empty when there is none): a changed component or
-- manifest has no record until a node loads it, so nothing stale describes it.
CREATE TABLE plugin_loads (
    sha256           TEXT    NOT NULL CHECK (length(sha256) = 64),
    manifest_sha256  TEXT    NOT NULL CHECK (manifest_sha256 = '' OR length(manifest_sha256) = 64),
    path             TEXT    NOT NULL,
    size             BIGINT  NOT NULL CHECK (size >= 0),
    -- NULL when the file was refused before it said who it is.
    name             TEXT,
    version          TEXT,
    description      TEXT,
    -- [[own name, description], ...] as announced.
    handlers         TEXT    NOT NULL CHECK (handlers::json IS NOT NULL),
    -- What the node changed or ignored in the manifest, one line each.
    notes            TEXT    NOT NULL CHECK (notes::json IS NOT NULL),
    -- Why the file was refused; NULL when it loaded.
    refusal          TEXT,
    loaded_at        BIGINT  NOT NULL,
    -- plugin_loads_pkey: plugin_load_get and the conflict target of plugin_load_put.
    PRIMARY KEY (sha256, manifest_sha256)
);
