SELECT handler FROM registered_handlers ORDER BY handler
