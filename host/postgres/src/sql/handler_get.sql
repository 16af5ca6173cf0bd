SELECT handler, plugin, plugin_version, description, registered_at FROM registered_handlers
WHERE handler = $1
