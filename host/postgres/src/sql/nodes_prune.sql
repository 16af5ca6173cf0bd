-- Forget nodes last seen before $1: no job still kept names them.
DELETE FROM nodes WHERE seen_at < $1
