SELECT held.value ->> 0 FROM json_each(?1) AS held
WHERE NOT EXISTS (
    SELECT 1 FROM jobs
    WHERE id = held.value ->> 0 AND claims = held.value ->> 1 AND status = 'running'
      AND lease_owner = ?2
)
