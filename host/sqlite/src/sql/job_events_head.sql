SELECT COALESCE(MAX(seq), 0) FROM job_events
