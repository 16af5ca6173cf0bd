INSERT INTO registered_handlers (handler, plugin, plugin_version, description, registered_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (handler) DO UPDATE SET plugin = excluded.plugin,
    plugin_version = excluded.plugin_version, description = excluded.description,
    registered_at = excluded.registered_at
