-- Pulse, second step: claim counter, spend windows, rate limits and budgets.

-- Claims of a job so far, including those given back uncounted (shutdown, pause). Unlike
-- `attempt` it never goes down, so it identifies one claim: every running-job transition is
-- guarded on it, and an outcome of an old claim can never land on a newer one.
ALTER TABLE jobs ADD COLUMN claims INTEGER NOT NULL DEFAULT 0 CHECK (claims >= 0);
UPDATE jobs SET claims = attempt;

-- Spend windows sum the settled cost of finished jobs by completion time.
CREATE INDEX jobs_by_completion ON jobs (completed_at) WHERE completed_at IS NOT NULL;
-- Rate limits count the starts of a handler's jobs in the last minute.
CREATE INDEX jobs_starts ON jobs (handler, started_at) WHERE started_at IS NOT NULL;

-- Spend limits over sliding windows (daily = 24 h, weekly = 7 d, monthly = 30 d).
CREATE TABLE budgets (
    period      TEXT    PRIMARY KEY CHECK (period IN ('daily', 'weekly', 'monthly')),
    spend_limit REAL    NOT NULL CHECK (spend_limit >= 0),
    updated_at  INTEGER NOT NULL
);
