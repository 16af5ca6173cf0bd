-- Job events (issue 14, the live streams): one row per insert of a job and per change of its
-- status or progress, written by triggers in the same transaction as the change, so that every
-- code path (claim, completion, rescue, cancel of a tree, a CLI edit) is recorded, and a reader
-- resumes after a cursor without losing one. One writer at a time: `seq` is commit order.
-- AUTOINCREMENT: a number is never reused after the newest rows are deleted, so a reader's
-- cursor stays behind every later event. Events go with their job (job_prune), by trigger.
CREATE TABLE job_events (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id            TEXT    NOT NULL,
    handler           TEXT    NOT NULL,
    source            TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    progress_current  INTEGER NOT NULL,
    progress_total    INTEGER NOT NULL,
    at                INTEGER NOT NULL
);

-- A job's own stream, and the delete when it is pruned.
CREATE INDEX job_events_by_job ON job_events (job_id, seq);

CREATE TRIGGER job_events_on_insert AFTER INSERT ON jobs
BEGIN
    INSERT INTO job_events (job_id, handler, source, status, progress_current, progress_total, at)
    VALUES (NEW.id, NEW.handler, NEW.source, NEW.status, NEW.progress_current,
            NEW.progress_total, NEW.updated_at);
END;

CREATE TRIGGER job_events_on_change
AFTER UPDATE OF status, progress_current, progress_total ON jobs
WHEN (OLD.status IS NOT NEW.status
      OR OLD.progress_current IS NOT NEW.progress_current
      OR OLD.progress_total IS NOT NEW.progress_total)
  AND NEW.claims >= OLD.claims
BEGIN
    INSERT INTO job_events (job_id, handler, source, status, progress_current, progress_total, at)
    VALUES (NEW.id, NEW.handler, NEW.source, NEW.status, NEW.progress_current,
            NEW.progress_total, NEW.updated_at);
END;

-- A claim undone in its own transaction (a batch took more than a limit allows) leaves no
-- event, as it leaves no claim: its `running` event is the job's newest, and goes.
CREATE TRIGGER job_events_on_unclaim AFTER UPDATE OF claims ON jobs
WHEN NEW.claims < OLD.claims
BEGIN
    DELETE FROM job_events
    WHERE seq = (SELECT MAX(seq) FROM job_events WHERE job_id = NEW.id);
END;

CREATE TRIGGER job_events_on_delete AFTER DELETE ON jobs
BEGIN
    DELETE FROM job_events WHERE job_id = OLD.id;
END;
