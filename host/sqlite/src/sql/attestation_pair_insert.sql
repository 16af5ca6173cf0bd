INSERT OR IGNORE INTO attestation_pairs (predicate, context, timestamp, seq) VALUES (?1, ?2, ?3, ?4)
