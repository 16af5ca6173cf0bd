-- On job_logs_by_job.
SELECT id, attempt, time, level, stage, message FROM job_logs
WHERE job_id = $1 AND id > $2
ORDER BY id
