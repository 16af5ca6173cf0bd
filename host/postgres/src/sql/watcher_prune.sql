DELETE FROM watchers
WHERE owner = $1 AND id <> ALL ($2::text[])
