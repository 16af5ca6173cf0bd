-- Job events (issue 14, the live streams): one row per insert of a job and per change of its
-- status or progress, written by triggers in the same transaction as the change, so that every
-- code path is recorded atomically with it. Events go with their job (job_prune), by trigger.
--
-- Order without serialising writers: a sequence value is taken at insert, not at commit, so a
-- reader of `seq > cursor` could pass a row that commits later with a smaller seq. Each row
-- keeps its transaction's id (`xid`, taken once per transaction); a reader returns only rows of
-- transactions older than every transaction still running (`xid < pg_snapshot_xmin(...)`: all
-- of them have ended, so no row can appear below) in (xid, seq) order, and the cursor is that
-- pair. A transaction left open holds the streams back until it ends, never loses an event.
CREATE TABLE job_events (
    xid               BIGINT  NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    seq               BIGINT  GENERATED ALWAYS AS IDENTITY,
    job_id            TEXT COLLATE "C" NOT NULL,
    handler           TEXT COLLATE "C" NOT NULL,
    source            TEXT    NOT NULL,
    status            TEXT    NOT NULL,
    progress_current  BIGINT  NOT NULL,
    progress_total    BIGINT  NOT NULL,
    at                BIGINT  NOT NULL,
    PRIMARY KEY (xid, seq)
) WITH (autovacuum_vacuum_insert_scale_factor = 0.01);

-- A job's own stream, and the delete when it is pruned.
CREATE INDEX job_events_by_job ON job_events (job_id, xid, seq);

-- Inserts: once per statement (a batch enqueue inserts thousands of jobs in one).
CREATE FUNCTION job_events_on_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_events (job_id, handler, source, status, progress_current, progress_total, at)
    SELECT id, handler, source, status, progress_current, progress_total, updated_at
    FROM inserted ORDER BY seq;
    RETURN NULL;
END
$$;

CREATE TRIGGER job_events_on_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION job_events_on_insert();

-- Changes: per row, only rows whose status or progress changed (a lease renewal does not call
-- the function; PostgreSQL allows no transition table with a column list).
-- A claim undone in its own transaction (a batch took more than a limit allows) leaves no
-- event, as it leaves no claim: its `running` event, this transaction's newest of the job, goes.
CREATE FUNCTION job_events_on_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.claims < OLD.claims THEN
        DELETE FROM job_events
        WHERE job_id = NEW.id
          AND xid = pg_current_xact_id()::text::bigint
          AND seq = (SELECT max(seq) FROM job_events
                     WHERE job_id = NEW.id AND xid = pg_current_xact_id()::text::bigint);
    ELSE
        INSERT INTO job_events (job_id, handler, source, status, progress_current,
                                progress_total, at)
        VALUES (NEW.id, NEW.handler, NEW.source, NEW.status, NEW.progress_current,
                NEW.progress_total, NEW.updated_at);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER job_events_on_change AFTER UPDATE OF status, progress_current, progress_total
    ON jobs FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
          OR OLD.progress_current IS DISTINCT FROM NEW.progress_current
          OR OLD.progress_total IS DISTINCT FROM NEW.progress_total)
    EXECUTE FUNCTION job_events_on_change();

CREATE FUNCTION job_events_on_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM job_events e USING deleted d WHERE e.job_id = d.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER job_events_on_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS deleted
    FOR EACH STATEMENT EXECUTE FUNCTION job_events_on_delete();
