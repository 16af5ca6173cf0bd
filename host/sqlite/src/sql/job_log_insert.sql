INSERT INTO job_logs (job_id, attempt, time, level, stage, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
