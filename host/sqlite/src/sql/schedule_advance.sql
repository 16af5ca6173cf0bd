UPDATE schedules SET next_run_at = ?3, last_job_id = ?4, updated_at = ?5
WHERE id = ?1 AND next_run_at = ?2 AND enabled = 1
