UPDATE watchers SET cursor_seq = ?3, updated_at = ?4
WHERE id = ?1 AND cursor_seq = ?2
