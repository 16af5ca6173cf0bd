SELECT
    (SELECT COUNT(*) FROM jobs WHERE handler = ?1 AND status = 'running'),
    (SELECT COUNT(*) FROM jobs WHERE handler = ?1 AND started_at > ?2)
