INSERT INTO sessions (hash, token_id, created_at, expires_at) VALUES ($1, $2, $3, $4)
