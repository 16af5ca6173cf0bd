SELECT COALESCE(MAX(seq), 0)::bigint FROM attestations
