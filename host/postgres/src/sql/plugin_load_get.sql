SELECT path, size, name, version, description, handlers, notes, refusal, loaded_at
FROM plugin_loads WHERE sha256 = $1 AND manifest_sha256 = $2
