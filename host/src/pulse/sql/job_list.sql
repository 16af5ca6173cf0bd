SELECT * FROM jobs
WHERE (?1 IS NULL OR status = ?1) AND (?2 IS NULL OR handler = ?2)
ORDER BY id DESC
LIMIT ?3
