-- On job_logs_by_job.
DELETE FROM job_logs WHERE job_id = ANY($1)
