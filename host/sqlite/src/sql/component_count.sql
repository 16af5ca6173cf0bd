SELECT COUNT(*) FROM components
