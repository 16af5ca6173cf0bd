-- A batch of lines of job $1 in one statement, numbered in the order given.
INSERT INTO job_logs (job_id, attempt, time, level, stage, message)
SELECT $1, line.attempt, line.time, line.level, line.stage, line.message
FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[])
    WITH ORDINALITY AS line (attempt, time, level, stage, message, n)
ORDER BY line.n
