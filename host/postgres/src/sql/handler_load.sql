-- Running jobs of $1 (jobs_leases) and its starts after $2 (jobs_starts).
SELECT
    (SELECT COUNT(*) FROM jobs WHERE handler = $1 AND status = 'running'),
    (SELECT COUNT(*) FROM jobs WHERE handler = $1 AND started_at > $2)
