DELETE FROM job_logs WHERE job_id IN (SELECT value FROM json_each(?1))
