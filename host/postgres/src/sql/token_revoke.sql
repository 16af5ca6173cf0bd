UPDATE tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL
RETURNING id, name, scope, created_at, last_used_at, revoked_at
