INSERT INTO components (sha256, bytes, size, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (sha256) DO NOTHING
