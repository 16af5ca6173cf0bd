-- Pulse, fourth step: job trees are bounded, and every attempt records the node that ran it.
--
-- `root_job_id` is the job at the top of a job's tree (NULL for a job nobody enqueued from a
-- job) and `depth` its distance from it: a guest's enqueue is refused past the node's bounds on
-- depth and on descendants of one root, counted through `jobs_by_root`. Jobs enqueued before
-- this migration count their parent as their root.
ALTER TABLE jobs ADD COLUMN root_job_id TEXT;
ALTER TABLE jobs ADD COLUMN depth INTEGER NOT NULL DEFAULT 0 CHECK (depth >= 0);
UPDATE jobs SET root_job_id = parent_job_id, depth = 1 WHERE parent_job_id IS NOT NULL;
CREATE INDEX jobs_by_root ON jobs (root_job_id) WHERE root_job_id IS NOT NULL;

-- One `{"attempt": N, "node": ID}` per claim, appended by the claim and kept after the job
-- finishes (`lease_owner` is cleared then).
ALTER TABLE jobs ADD COLUMN attempt_nodes TEXT NOT NULL DEFAULT '[]';

-- The nodes that ran on this database: `qntx job show` names the host of each attempt and says
-- when no live node serves a queued job's handler. A node refreshes `seen_at` (and its
-- handlers) at every lease renewal; it is live while `seen_at + lease_ms` has not passed and
-- it has not stopped.
CREATE TABLE nodes (
    id         TEXT    PRIMARY KEY,
    host       TEXT    NOT NULL,
    pid        INTEGER NOT NULL,
    started_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL,
    lease_ms   INTEGER NOT NULL CHECK (lease_ms > 0),
    stopped_at INTEGER,
    handlers   TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(handlers))
);
