-- Undo a claim of this transaction (the batch took more than a limit allows): nobody saw it,
-- so the claim count goes back too, and the node record it appended is removed.
UPDATE jobs
SET status = 'queued', attempt = attempt - 1, claims = claims - 1, lease_owner = NULL,
    lease_expires_at = NULL, started_at = CASE WHEN attempt = 1 THEN NULL ELSE started_at END,
    attempt_nodes = (attempt_nodes::jsonb - -1)::text
WHERE id = $1 AND claims = $2 AND lease_owner = $3 AND status = 'running'
