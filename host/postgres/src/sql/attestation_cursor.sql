SELECT timestamp, seq FROM attestations WHERE id = $1
