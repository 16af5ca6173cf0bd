-- Only the claims the node's workers still hold (?1: [[id, claims], ...]).
UPDATE jobs SET lease_expires_at = ?3
WHERE id IN (SELECT held.value ->> 0 FROM json_each(?1) AS held)
  AND status = 'running' AND lease_owner = ?2
  AND claims = (SELECT held.value ->> 1 FROM json_each(?1) AS held
                WHERE held.value ->> 0 = jobs.id)
