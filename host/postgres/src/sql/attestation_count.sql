SELECT count(*) FROM attestations
