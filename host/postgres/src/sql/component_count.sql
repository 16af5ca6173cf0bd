SELECT count(*) FROM components
