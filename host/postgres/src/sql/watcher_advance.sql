-- Compare-and-set on the cursor the watcher read: of two nodes firing one watcher at once, the
-- second waits for the first's row lock, finds the cursor moved, and changes nothing.
UPDATE watchers SET cursor_seq = $3, updated_at = $4
WHERE id = $1 AND cursor_seq = $2
