-- Live nodes that registered handler $1 at their last renewal.
SELECT id FROM nodes
WHERE stopped_at IS NULL AND seen_at + lease_ms >= $2
  AND EXISTS (SELECT 1 FROM json_array_elements_text(nodes.handlers::json) AS h (name)
              WHERE h.name = $1)
ORDER BY id
