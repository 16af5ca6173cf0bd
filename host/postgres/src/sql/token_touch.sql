UPDATE tokens SET last_used_at = $2::BIGINT
WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2::BIGINT - $3::BIGINT)
