SELECT id, name, scope, created_at, last_used_at, revoked_at FROM tokens WHERE hash = ?1
