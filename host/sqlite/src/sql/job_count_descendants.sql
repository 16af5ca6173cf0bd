SELECT count(*) FROM jobs WHERE root_job_id = ?1
