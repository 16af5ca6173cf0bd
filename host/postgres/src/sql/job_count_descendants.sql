-- On jobs_by_root.
SELECT count(*) FROM jobs WHERE root_job_id = $1
