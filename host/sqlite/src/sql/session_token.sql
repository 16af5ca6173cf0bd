SELECT t.id, t.name, t.scope, t.created_at, t.last_used_at, t.revoked_at
FROM sessions s JOIN tokens t ON t.id = s.token_id
WHERE s.hash = ?1 AND s.expires_at > ?2
