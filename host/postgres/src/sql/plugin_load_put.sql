INSERT INTO plugin_loads (sha256, manifest_sha256, path, size, name, version, description,
    handlers, notes, refusal, loaded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (sha256, manifest_sha256) DO UPDATE SET path = excluded.path, size = excluded.size,
    name = excluded.name, version = excluded.version, description = excluded.description,
    handlers = excluded.handlers, notes = excluded.notes, refusal = excluded.refusal,
    loaded_at = excluded.loaded_at
