-- Of the claims held ($1 job ids, $2 their claim numbers), those no longer running under
-- that claim and owner $3.
SELECT held.id FROM unnest($1::text[], $2::bigint[]) AS held (id, claims)
WHERE NOT EXISTS (
    SELECT 1 FROM jobs
    WHERE jobs.id = held.id AND jobs.claims = held.claims AND status = 'running'
      AND lease_owner = $3
)
