UPDATE schedules SET last_job_id = $2, updated_at = $3 WHERE id = $1
