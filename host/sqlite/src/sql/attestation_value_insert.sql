INSERT OR IGNORE INTO attestation_values (dimension, value, timestamp, seq) VALUES (?1, ?2, ?3, ?4)
