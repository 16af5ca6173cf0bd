-- Only the claims the node's workers still hold ($1 job ids, $2 their claim numbers).
UPDATE jobs SET lease_expires_at = $4
FROM unnest($1::text[], $2::bigint[]) AS held (id, claims)
WHERE jobs.id = held.id AND jobs.claims = held.claims
  AND jobs.status = 'running' AND jobs.lease_owner = $3
