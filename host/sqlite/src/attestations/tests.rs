//! Store tests on a temporary database: every filter rule, paging, plans and the feed.

use serde_json::{Value, json};

use super::plan::{self, Driver, MAX_BRANCHES, driver};
use super::*;
use crate::SqliteBackend;
use crate::ats::store::{get, insert, pages, query};
use crate::ats::{Limits, NewAttestation};

/// A connection to a fresh database, and the database (removed when dropped).
fn db() -> (SqliteBackend, SqliteConnection) {
    let backend = SqliteBackend::temporary().unwrap();
    let conn = backend.connection().unwrap();
    (backend, conn)
}

struct Claim {
    subjects: &'static [&'static str],
    predicates: &'static [&'static str],
    contexts: &'static [&'static str],
    actors: &'static [&'static str],
    timestamp: i64,
    source: &'static str,
    attributes: Value,
}

const CLAIM: Claim = Claim {
    subjects: &["alice"],
    predicates: &[],
    contexts: &[],
    actors: &["bob"],
    timestamp: 1000,
    source: "test",
    attributes: Value::Null,
};

fn put(conn: &impl Attestations, claim: Claim) -> Attestation {
    let strings = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect();
    let mut attestation = NewAttestation {
        subjects: strings(claim.subjects),
        predicates: strings(claim.predicates),
        contexts: strings(claim.contexts),
        actors: strings(claim.actors),
        timestamp: Some(claim.timestamp),
        source: claim.source.into(),
        attributes: claim.attributes,
    }
    .validate(&Limits::default(), 5)
    .unwrap();
    insert(conn, &mut attestation).unwrap();
    attestation
}

fn ids(conn: &impl Attestations, q: &Query) -> Vec<String> {
    q.validate().unwrap();
    let page = query(conn, q).unwrap();
    page.attestations.into_iter().map(|a| a.id).collect()
}

/// A small store with varied claims, and their ids in insertion order.
fn sample(conn: &impl Attestations) -> Vec<Attestation> {
    vec![
        put(
            conn,
            Claim {
                subjects: &["ALICE"],
                predicates: &["author"],
                contexts: &["github"],
                actors: &["bob"],
                timestamp: 100,
                attributes: json!({ "language": "Rust", "stars": 5 }),
                ..CLAIM
            },
        ),
        put(
            conn,
            Claim {
                subjects: &["alice", "carol"],
                predicates: &["Reviewer", "author"],
                contexts: &["gitlab"],
                actors: &["dave"],
                timestamp: 200,
                source: "other",
                attributes: json!({ "language": "Go", "stars": 5.0, "tags": ["a"] }),
            },
        ),
        put(
            conn,
            Claim {
                subjects: &["carol"],
                predicates: &["author"],
                contexts: &["GitHub", "gitlab"],
                actors: &["bob", "erin"],
                timestamp: 300,
                attributes: json!({ "language": "rust", "stars": null }),
                ..CLAIM
            },
        ),
        put(
            conn,
            Claim {
                subjects: &["dave"],
                timestamp: 300,
                ..CLAIM
            },
        ),
    ]
}

fn of(ids: &[&String]) -> Vec<String> {
    ids.iter().map(|id| (*id).clone()).collect()
}

fn q() -> Query {
    Query::default()
}

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

#[test]
fn no_condition_returns_everything_newest_first_with_ties_by_insertion() {
    let (_backend, conn) = db();
    let s = sample(&conn);
    assert_eq!(
        ids(&conn, &q()),
        of(&[&s[3].id, &s[2].id, &s[1].id, &s[0].id])
    );
}

#[test]
fn values_match_case_insensitively_in_every_dimension() {
    let (_backend, conn) = db();
    let s = sample(&conn);
    let by = |query: Query| ids(&conn, &query);
    assert_eq!(
        by(Query {
            subjects: strings(&["Alice"]),
            ..q()
        }),
        of(&[&s[1].id, &s[0].id])
    );
    assert_eq!(
        by(Query {
            predicates: strings(&["REVIEWER"]),
            ..q()
        }),
        of(&[&s[1].id])
    );
    assert_eq!(
        by(Query {
            contexts: strings(&["github"]),
            ..q()
        }),
        of(&[&s[2].id, &s[0].id])
    );
    assert_eq!(
        by(Query {
            actors: strings(&["ERIN"]),
            ..q()
        }),
        of(&[&s[2].id])
    );
    // Stored values keep their case.
    assert_eq!(get(&conn, &s[0].id).unwrap().subjects, ["ALICE"]);
}

#[test]
fn or_within_a_dimension_and_across_dimensions() {
    let (_backend, conn) = db();
    let s = sample(&conn);
    let by = |query: Query| ids(&conn, &query);
    assert_eq!(
        by(Query {
            subjects: strings(&["alice", "dave"]),
            ..q()
        }),
        of(&[&s[3].id, &s[1].id, &s[0].id]),
        "an attestation with both subjects comes once"
    );
    assert_eq!(
        by(Query {
            subjects: strings(&["carol"]),
            contexts: strings(&["github"]),
            ..q()
        }),
        of(&[&s[2].id])
    );
    assert_eq!(
        by(Query {
            predicates: strings(&["author"]),
            contexts: strings(&["gitlab"]),
            ..q()
        }),
        of(&[&s[2].id, &s[1].id])
    );
    assert_eq!(
        by(Query {
            predicates: strings(&["author", "reviewer"]),
            contexts: strings(&["gitlab", "github"]),
            actors: strings(&["bob"]),
            ..q()
        }),
        of(&[&s[2].id, &s[0].id])
    );
    assert!(
        by(Query {
            subjects: strings(&["alice"]),
            actors: strings(&["erin"]),
            ..q()
        })
        .is_empty()
    );
    assert!(
        by(Query {
            subjects: strings(&["nobody"]),
            ..q()
        })
        .is_empty()
    );
}

#[test]
fn the_time_range_is_inclusive_at_both_ends() {
    let (_backend, conn) = db();
    let s = sample(&conn);
    let by = |since, until| {
        ids(
            &conn,
            &Query {
                since,
                until,
                ..q()
            },
        )
    };
    assert_eq!(
        by(Some(200), Some(300)),
        of(&[&s[3].id, &s[2].id, &s[1].id])
    );
    assert_eq!(by(Some(201), Some(299)), Vec::<String>::new());
    assert_eq!(by(Some(200), Some(200)), of(&[&s[1].id]));
    assert_eq!(by(None, Some(100)), of(&[&s[0].id]));
    assert_eq!(by(Some(301), None), Vec::<String>::new());
    let alice = |since, until| {
        ids(
            &conn,
            &Query {
                subjects: strings(&["alice"]),
                since,
                until,
                ..q()
            },
        )
    };
    assert_eq!(alice(Some(100), Some(100)), of(&[&s[0].id]));
    assert_eq!(alice(Some(101), None), of(&[&s[1].id]));
}

#[test]
fn source_matches_exactly() {
    let (_backend, conn) = db();
    let s = sample(&conn);
    let by = |source: &str| {
        ids(
            &conn,
            &Query {
                source: Some(source.into()),
                ..q()
            },
        )
    };
    assert_eq!(by("other"), of(&[&s[1].id]));
    assert!(by("OTHER").is_empty(), "sources are not case-folded");
    assert!(by("oth").is_empty());
}

#[test]
fn attribute_conditions_compare_top_level_json_values_exactly() {
    let (_backend, conn) = db();
    let s = sample(&conn);
    let by = |conditions: &[(&str, Value)]| {
        let attributes = conditions
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let query = Query { attributes, ..q() };
        let from_sql = ids(&conn, &query);
        let in_memory: Vec<String> = s
            .iter()
            .rev()
            .filter(|a| query.matches(a))
            .map(|a| a.id.clone())
            .collect();
        assert_eq!(
            from_sql, in_memory,
            "store and matches agree on {conditions:?}"
        );
        from_sql
    };
    assert_eq!(by(&[("language", json!("Rust"))]), of(&[&s[0].id]));
    assert!(
        by(&[("language", json!("RUST"))]).is_empty(),
        "attribute values are case-sensitive"
    );
    assert_eq!(
        by(&[("stars", json!(5))]),
        of(&[&s[0].id]),
        "5 and 5.0 differ"
    );
    assert_eq!(by(&[("stars", json!(5.0))]), of(&[&s[1].id]));
    assert_eq!(
        by(&[("stars", json!("5"))]),
        Vec::<String>::new(),
        "a string is not a number"
    );
    assert_eq!(
        by(&[("stars", Value::Null)]),
        of(&[&s[2].id]),
        "null matches an explicit null only"
    );
    assert_eq!(by(&[("tags", json!(["a"]))]), of(&[&s[1].id]));
    assert_eq!(
        by(&[("language", json!("Go")), ("stars", json!(5.0))]),
        of(&[&s[1].id])
    );
    assert!(by(&[("language", json!("Go")), ("stars", json!(5))]).is_empty());
    assert!(by(&[("missing", json!(1))]).is_empty());
}

#[test]
fn odd_attribute_keys_are_addressed_literally() {
    let (_backend, conn) = db();
    let a = put(
        &conn,
        Claim {
            attributes: json!({ "a.b": 1, "x y": 2, "$[0]": 3, "a": { "b": 4 } }),
            ..CLAIM
        },
    );
    for (key, value) in [("a.b", 1), ("x y", 2), ("$[0]", 3)] {
        let query = Query {
            attributes: vec![(key.into(), json!(value))],
            ..q()
        };
        assert_eq!(ids(&conn, &query), of(&[&a.id]), "key '{key}'");
    }
    let nested = Query {
        attributes: vec![("a.b".into(), json!(4))],
        ..q()
    };
    assert!(
        ids(&conn, &nested).is_empty(),
        "'a.b' is a top-level key, not a path"
    );
}

#[test]
fn limit_defaults_to_100_and_is_capped() {
    let (_backend, conn) = db();
    for i in 0..1005 {
        put(
            &conn,
            Claim {
                timestamp: i,
                ..CLAIM
            },
        );
    }
    assert_eq!(ids(&conn, &q()).len(), 100);
    assert_eq!(ids(&conn, &Query { limit: 7, ..q() }).len(), 7);
    assert_eq!(ids(&conn, &Query { limit: 5000, ..q() }).len(), 1000);
}

#[test]
fn pages_cover_every_result_once_even_while_others_insert() {
    let (_backend, conn) = db();
    for i in 0..50 {
        put(
            &conn,
            Claim {
                timestamp: 1000 + i % 7,
                ..CLAIM
            },
        );
    }
    let before: Vec<String> = ids(&conn, &Query { limit: 1000, ..q() });
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut round = 0;
    loop {
        let page = query(
            &conn,
            &Query {
                limit: 8,
                cursor,
                ..q()
            },
        )
        .unwrap();
        seen.extend(page.attestations.iter().map(|a| a.id.clone()));
        // Meanwhile: newer claims, claims at the cursor's time, and older ones.
        put(
            &conn,
            Claim {
                timestamp: 5000 + round,
                ..CLAIM
            },
        );
        put(
            &conn,
            Claim {
                timestamp: 1003,
                ..CLAIM
            },
        );
        round += 1;
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), seen.len(), "no attestation twice");
    assert!(before.iter().all(|id| seen.contains(id)), "none skipped");
    assert!(
        seen.iter()
            .all(|id| get(&conn, id).unwrap().timestamp < 5000),
        "claims newer than the first page never appear behind the cursor"
    );
}

#[test]
fn the_pages_iterator_walks_to_the_end() {
    let (_backend, conn) = db();
    for i in 0..25 {
        put(
            &conn,
            Claim {
                timestamp: i,
                ..CLAIM
            },
        );
    }
    let walked: Vec<Page> = pages(&conn, &Query { limit: 10, ..q() })
        .collect::<ats::Result<_>>()
        .unwrap();
    assert_eq!(
        walked
            .iter()
            .map(|p| p.attestations.len())
            .collect::<Vec<_>>(),
        [10, 10, 5]
    );
    assert!(walked[2].next_cursor.is_none());
    let exact: Vec<Page> = pages(&conn, &Query { limit: 25, ..q() })
        .collect::<ats::Result<_>>()
        .unwrap();
    assert_eq!(exact.len(), 1, "a full last page says there is no next one");
}

#[test]
fn a_page_stops_early_at_its_byte_budget() {
    let (_backend, conn) = db();
    let blob = "x".repeat(1000 * 1024);
    for i in 0..6 {
        put(
            &conn,
            Claim {
                timestamp: i,
                attributes: json!({ "blob": blob }),
                ..CLAIM
            },
        );
    }
    let page = query(&conn, &Query { limit: 10, ..q() }).unwrap();
    assert_eq!(page.attestations.len(), 5, "4 MiB reached after the fifth");
    let rest = query(
        &conn,
        &Query {
            limit: 10,
            cursor: page.next_cursor,
            ..q()
        },
    )
    .unwrap();
    assert_eq!(rest.attestations.len(), 1);
    assert!(rest.next_cursor.is_none());
}

#[test]
fn many_values_give_the_same_answer_as_few() {
    let (_backend, conn) = db();
    let names: Vec<String> = (0..40).map(|i| format!("s{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let mut a = NewAttestation {
            subjects: vec![name.clone(), "shared".into()],
            predicates: vec![format!("p{}", i % 3)],
            contexts: vec![format!("c{}", i % 4)],
            actors: vec!["bob".into()],
            timestamp: Some(i as i64 % 9),
            source: "t".into(),
            attributes: Value::Null,
        }
        .validate(&Limits::default(), 1)
        .unwrap();
        insert(&conn, &mut a).unwrap();
    }
    let all = |query: Query| -> Vec<String> {
        pages(&conn, &query)
            .flat_map(|page| page.unwrap().attestations)
            .map(|a| a.id)
            .collect()
    };
    let merged = all(Query {
        subjects: names[..MAX_BRANCHES].to_vec(),
        limit: 6,
        ..q()
    });
    let sorted = all(Query {
        subjects: names[..MAX_BRANCHES + 1].to_vec(),
        limit: 6,
        ..q()
    });
    assert_eq!(merged.len(), MAX_BRANCHES);
    assert_eq!(sorted.len(), MAX_BRANCHES + 1);
    assert!(merged.iter().all(|id| sorted.contains(id)));
    let shared = all(Query {
        subjects: vec!["shared".into()],
        limit: 6,
        ..q()
    });
    assert_eq!(shared.len(), 40);
    let predicates: Vec<String> = (0..3).map(|i| format!("p{i}")).collect();
    let contexts: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
    let pairs_sorted = all(Query {
        predicates: predicates.clone(),
        contexts,
        limit: 7,
        ..q()
    });
    let pairs_merged = all(Query {
        predicates,
        contexts: (0..4).map(|i| format!("c{i}")).collect(),
        limit: 7,
        ..q()
    });
    assert_eq!(pairs_sorted, shared, "3 x 12 pairs: one sorted walk");
    assert_eq!(pairs_merged, shared, "3 x 4 pairs: merged walks");
}

#[test]
fn plans_walk_an_index_and_never_sort() {
    let (_backend, conn) = db();
    sample(&conn);
    let cases = [
        (
            Query {
                subjects: strings(&["alice"]),
                ..q()
            },
            Driver::Values(Dimension::Subject),
        ),
        (
            Query {
                subjects: strings(&["alice", "bob"]),
                predicates: strings(&["x"]),
                ..q()
            },
            Driver::Values(Dimension::Subject),
        ),
        (
            Query {
                predicates: strings(&["author"]),
                contexts: strings(&["github"]),
                ..q()
            },
            Driver::Pairs,
        ),
        (
            Query {
                predicates: strings(&["author"]),
                contexts: strings(&["github", "gitlab"]),
                ..q()
            },
            Driver::Pairs,
        ),
        (
            Query {
                predicates: strings(&["author"]),
                ..q()
            },
            Driver::Values(Dimension::Predicate),
        ),
        (
            Query {
                actors: strings(&["bob"]),
                since: Some(1),
                ..q()
            },
            Driver::Values(Dimension::Actor),
        ),
        (
            Query {
                since: Some(1),
                until: Some(2),
                ..q()
            },
            Driver::Time,
        ),
    ];
    for (mut query, expected) in cases {
        assert_eq!(driver(&query), expected, "{query:?}");
        query.cursor = Some(Cursor {
            timestamp: 300,
            seq: 3,
        });
        let plan = plan::plan(&query, 101);
        let mut statement = conn
            .sql()
            .prepare(&format!("EXPLAIN QUERY PLAN {}", plan.sql))
            .unwrap();
        let steps: Vec<String> = statement
            .query_map(rusqlite::params_from_iter(plan.args), |row| {
                row.get::<_, String>(3)
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let text = steps.join("\n");
        assert!(!text.contains("TEMP B-TREE"), "{query:?} sorts:\n{text}");
        assert!(
            !text.contains("SCAN a") && !text.contains("SCAN v"),
            "{query:?} scans:\n{text}"
        );
    }
}

#[test]
fn the_feed_returns_rows_after_a_sequence_in_commit_order() {
    let (_backend, conn) = db();
    assert_eq!(conn.attestation_head().unwrap(), 0);
    let s = sample(&conn);
    let all = conn.attestation_after(0, 100).unwrap();
    assert_eq!(
        all.iter().map(|(_, a)| &a.id).collect::<Vec<_>>(),
        s.iter().map(|a| &a.id).collect::<Vec<_>>()
    );
    let head = conn.attestation_head().unwrap();
    assert_eq!(head, all.last().unwrap().0);
    let later = conn.attestation_after(all[1].0, 1).unwrap();
    assert_eq!(later.len(), 1);
    assert_eq!(later[0].1.id, s[2].id);
    assert!(conn.attestation_after(head, 10).unwrap().is_empty());
}

#[test]
fn the_pair_index_is_backfilled_for_older_attestations() {
    let dir = tempfile::tempdir().unwrap();
    let backend = SqliteBackend::unmigrated(&dir.path().join("old.db"));
    let store = backend.connection().unwrap();
    let conn = store.sql();
    conn.execute_batch(include_str!("../../migrations/001_create_attestations.sql"))
        .unwrap();
    // The writer of migration 1's day: no pair rows.
    conn.execute_batch(
        "INSERT INTO attestations (seq, id, subjects, predicates, contexts, actors, timestamp, source, attributes, created_at)
         VALUES (1, 'AS-X', '[\"x\"]', '[\"Is\"]', '[\"Of\"]', '[\"me\"]', 7, 't', '{}', 7);
         INSERT INTO attestation_values VALUES (0, 'x', 7, 1), (1, 'is', 7, 1), (2, 'of', 7, 1), (3, 'me', 7, 1);",
    )
    .unwrap();
    conn.execute_batch(include_str!(
        "../../migrations/003_index_attestation_pairs.sql"
    ))
    .unwrap();
    let query = Query {
        predicates: strings(&["IS"]),
        contexts: strings(&["of"]),
        ..q()
    };
    assert_eq!(ids(&store, &query), ["AS-X"]);
}
