SELECT seq, subjects, predicates FROM attestations WHERE seq > ?1 ORDER BY seq
