UPDATE jobs SET lease_expires_at = ?2
WHERE lease_owner = ?1 AND status = 'running'
