//! Store tests on a real PostgreSQL database, each query also asked of a real SQLite backend
//! holding the same attestations: every filter rule, paging and cursors give the same pages.

use serde_json::{Value, json};

use super::plan::{self, Driver, MAX_BRANCHES, driver};
use super::*;
use crate::PostgresBackend;
use crate::ats::store::{get, insert, pages, query};
use crate::ats::{Limits, NewAttestation};
use qntx_sqlite::{SqliteBackend, SqliteConnection};

/// The same store on both backends: every write goes to both, every query is asked of both.
struct Both {
    pg: PostgresConnection,
    sqlite: SqliteConnection,
    backends: (PostgresBackend, SqliteBackend),
}

fn db() -> Both {
    let pg = PostgresBackend::open(&qntx_pgtest::shared().database(), crate::Options::default())
        .unwrap();
    let sqlite = SqliteBackend::temporary().unwrap();
    Both {
        pg: pg.connection().unwrap(),
        sqlite: sqlite.connection().unwrap(),
        backends: (pg, sqlite),
    }
}

impl Both {
    /// One page of `q` from PostgreSQL, checked to be SQLite's page, cursor and all.
    fn page(&self, q: &Query) -> Page {
        q.validate().unwrap();
        let page = query(&self.pg, q).unwrap();
        assert_eq!(
            page,
            query(&self.sqlite, q).unwrap(),
            "the backends differ on {q:?}"
        );
        page
    }

    fn ids(&self, q: &Query) -> Vec<String> {
        self.page(q)
            .attestations
            .into_iter()
            .map(|a| a.id)
            .collect()
    }

    /// Every page of `q`, as ids, the same on both backends.
    fn all(&self, q: Query) -> Vec<String> {
        let walk = |store: &dyn Attestations| -> Vec<(Vec<String>, Option<Cursor>)> {
            pages(store, &q)
                .map(|page| page.unwrap())
                .map(|page| {
                    let ids = page.attestations.into_iter().map(|a| a.id).collect();
                    (ids, page.next_cursor)
                })
                .collect()
        };
        let pg = walk(&self.pg);
        assert_eq!(
            pg,
            walk(&self.sqlite),
            "the backends page {q:?} differently"
        );
        pg.into_iter().flat_map(|(ids, _)| ids).collect()
    }
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

fn strings(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| (*v).to_owned()).collect()
}

/// Store `claim` on both backends, as the same attestation at the same sequence.
fn put(db: &Both, claim: Claim) -> Attestation {
    let attestation = NewAttestation {
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
    put_both(db, attestation)
}

fn put_both(db: &Both, mut attestation: Attestation) -> Attestation {
    let seq = insert(&db.pg, &mut attestation).unwrap();
    assert_eq!(
        db.sqlite.attestation_insert(&attestation).unwrap(),
        Some(seq)
    );
    attestation
}

/// A small store with varied claims, in insertion order.
fn sample(db: &Both) -> Vec<Attestation> {
    vec![
        put(
            db,
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
            db,
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
            db,
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
            db,
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

#[test]
fn no_condition_returns_everything_newest_first_with_ties_by_insertion() {
    let db = db();
    let s = sample(&db);
    assert_eq!(db.ids(&q()), of(&[&s[3].id, &s[2].id, &s[1].id, &s[0].id]));
}

#[test]
fn values_match_case_insensitively_in_every_dimension() {
    let db = db();
    let s = sample(&db);
    let by = |query: Query| db.ids(&query);
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
    assert_eq!(get(&db.pg, &s[0].id).unwrap().subjects, ["ALICE"]);
}

#[test]
fn non_ascii_values_fold_as_on_sqlite() {
    let db = db();
    // Rust's Unicode lowercase folds "É" and "Σ"; "ß" has no one-letter lowercase; the Kelvin
    // sign folds to an ASCII "k". PostgreSQL's own lower() would depend on the locale.
    let a = put(
        &db,
        Claim {
            subjects: &["ÉCOLE", "ΣΟΦΊΑ", "Straße", "\u{212A}elvin"],
            ..CLAIM
        },
    );
    for wanted in ["école", "ÉCOLE", "σοφία", "STRASSE", "straße", "kelvin"] {
        let found = db.ids(&Query {
            subjects: strings(&[wanted]),
            ..q()
        });
        let expected = if wanted == "STRASSE" {
            vec![]
        } else {
            of(&[&a.id])
        };
        assert_eq!(found, expected, "subject '{wanted}'");
    }
}

#[test]
fn or_within_a_dimension_and_across_dimensions() {
    let db = db();
    let s = sample(&db);
    let by = |query: Query| db.ids(&query);
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
    let db = db();
    let s = sample(&db);
    let by = |since, until| {
        db.ids(&Query {
            since,
            until,
            ..q()
        })
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
        db.ids(&Query {
            subjects: strings(&["alice"]),
            since,
            until,
            ..q()
        })
    };
    assert_eq!(alice(Some(100), Some(100)), of(&[&s[0].id]));
    assert_eq!(alice(Some(101), None), of(&[&s[1].id]));
}

#[test]
fn source_matches_exactly() {
    let db = db();
    let s = sample(&db);
    let by = |source: &str| {
        db.ids(&Query {
            source: Some(source.into()),
            ..q()
        })
    };
    assert_eq!(by("other"), of(&[&s[1].id]));
    assert!(by("OTHER").is_empty(), "sources are not case-folded");
    assert!(by("oth").is_empty());
    let authors_by_source = db.ids(&Query {
        predicates: strings(&["author"]),
        source: Some("test".into()),
        ..q()
    });
    assert_eq!(authors_by_source, of(&[&s[2].id, &s[0].id]));
}

#[test]
fn attribute_conditions_compare_top_level_json_values_exactly() {
    let db = db();
    let s = sample(&db);
    let by = |conditions: &[(&str, Value)]| {
        let attributes = conditions
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        let query = Query { attributes, ..q() };
        let from_sql = db.ids(&query);
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
    let db = db();
    let a = put(
        &db,
        Claim {
            attributes: json!({ "a.b": 1, "x y": 2, "$[0]": 3, "a": { "b": 4 }, "é'": "ü" }),
            ..CLAIM
        },
    );
    for (key, value) in [
        ("a.b", json!(1)),
        ("x y", json!(2)),
        ("$[0]", json!(3)),
        ("é'", json!("ü")),
    ] {
        let query = Query {
            attributes: vec![(key.into(), value)],
            ..q()
        };
        assert_eq!(db.ids(&query), of(&[&a.id]), "key '{key}'");
    }
    let nested = Query {
        attributes: vec![("a.b".into(), json!(4))],
        ..q()
    };
    assert!(
        db.ids(&nested).is_empty(),
        "'a.b' is a top-level key, not a path"
    );
    let object = Query {
        attributes: vec![("a".into(), json!({ "b": 4 }))],
        ..q()
    };
    assert_eq!(db.ids(&object), of(&[&a.id]), "an object value matches");
}

#[test]
fn limit_defaults_to_100_and_is_capped() {
    let db = db();
    for i in 0..1005 {
        put(
            &db,
            Claim {
                timestamp: i,
                ..CLAIM
            },
        );
    }
    assert_eq!(db.ids(&q()).len(), 100);
    assert_eq!(db.ids(&Query { limit: 7, ..q() }).len(), 7);
    assert_eq!(db.ids(&Query { limit: 5000, ..q() }).len(), 1000);
}

#[test]
fn pages_cover_every_result_once_even_while_others_insert() {
    let db = db();
    for i in 0..50 {
        put(
            &db,
            Claim {
                timestamp: 1000 + i % 7,
                ..CLAIM
            },
        );
    }
    let before: Vec<String> = db.ids(&Query { limit: 1000, ..q() });
    let mut seen = Vec::new();
    let mut cursor = None;
    let mut round = 0;
    loop {
        let page = db.page(&Query {
            limit: 8,
            cursor,
            ..q()
        });
        seen.extend(page.attestations.iter().map(|a| a.id.clone()));
        // Meanwhile: newer claims, claims at the cursor's time, and older ones.
        put(
            &db,
            Claim {
                timestamp: 5000 + round,
                ..CLAIM
            },
        );
        put(
            &db,
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
            .all(|id| get(&db.pg, id).unwrap().timestamp < 5000),
        "claims newer than the first page never appear behind the cursor"
    );
}

#[test]
fn the_pages_iterator_walks_to_the_end() {
    let db = db();
    for i in 0..25 {
        put(
            &db,
            Claim {
                timestamp: i,
                ..CLAIM
            },
        );
    }
    let walked: Vec<Page> = pages(&db.pg, &Query { limit: 10, ..q() })
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
    assert_eq!(db.all(Query { limit: 10, ..q() }).len(), 25);
    let exact: Vec<Page> = pages(&db.pg, &Query { limit: 25, ..q() })
        .collect::<ats::Result<_>>()
        .unwrap();
    assert_eq!(exact.len(), 1, "a full last page says there is no next one");
}

#[test]
fn a_page_stops_early_at_its_byte_budget() {
    let db = db();
    let blob = "x".repeat(1000 * 1024);
    for i in 0..6 {
        put(
            &db,
            Claim {
                timestamp: i,
                attributes: json!({ "blob": blob }),
                ..CLAIM
            },
        );
    }
    let page = db.page(&Query { limit: 10, ..q() });
    assert_eq!(page.attestations.len(), 5, "4 MiB reached after the fifth");
    let rest = db.page(&Query {
        limit: 10,
        cursor: page.next_cursor,
        ..q()
    });
    assert_eq!(rest.attestations.len(), 1);
    assert!(rest.next_cursor.is_none());
}

#[test]
fn many_values_give_the_same_answer_as_few() {
    let db = db();
    let names: Vec<String> = (0..40).map(|i| format!("s{i}")).collect();
    for (i, name) in names.iter().enumerate() {
        let a = NewAttestation {
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
        put_both(&db, a);
    }
    let merged = db.all(Query {
        subjects: names[..MAX_BRANCHES].to_vec(),
        limit: 6,
        ..q()
    });
    let sorted = db.all(Query {
        subjects: names[..MAX_BRANCHES + 1].to_vec(),
        limit: 6,
        ..q()
    });
    assert_eq!(merged.len(), MAX_BRANCHES);
    assert_eq!(sorted.len(), MAX_BRANCHES + 1);
    assert!(merged.iter().all(|id| sorted.contains(id)));
    let shared = db.all(Query {
        subjects: vec!["shared".into()],
        limit: 6,
        ..q()
    });
    assert_eq!(shared.len(), 40);
    let predicates: Vec<String> = (0..3).map(|i| format!("p{i}")).collect();
    let contexts: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
    let pairs_sorted = db.all(Query {
        predicates: predicates.clone(),
        contexts,
        limit: 7,
        ..q()
    });
    let pairs_merged = db.all(Query {
        predicates,
        contexts: (0..4).map(|i| format!("c{i}")).collect(),
        limit: 7,
        ..q()
    });
    assert_eq!(pairs_sorted, shared, "3 x 12 pairs: one sorted walk");
    assert_eq!(pairs_merged, shared, "3 x 4 pairs: merged walks");
    let with_conditions = db.all(Query {
        subjects: names[..5].to_vec(),
        predicates: strings(&["p1", "P2"]),
        actors: strings(&["BOB"]),
        since: Some(1),
        until: Some(7),
        limit: 2,
        ..q()
    });
    assert!(!with_conditions.is_empty());
}

#[test]
fn a_duplicate_id_is_refused_and_stores_nothing() {
    let db = db();
    let first = put(
        &db,
        Claim {
            subjects: &["original"],
            ..CLAIM
        },
    );
    let mut twin = NewAttestation {
        subjects: strings(&["impostor"]),
        predicates: strings(&["p"]),
        contexts: strings(&["c"]),
        actors: strings(&["eve"]),
        timestamp: Some(7),
        source: "x".into(),
        attributes: Value::Null,
    }
    .validate(&Limits::default(), 5)
    .unwrap();
    twin.id.clone_from(&first.id);
    let head = db.pg.attestation_head().unwrap();
    assert_eq!(db.pg.attestation_insert(&twin).unwrap(), None);
    assert_eq!(db.pg.attestation_count().unwrap(), 1);
    assert_eq!(
        get(&db.pg, &first.id).unwrap(),
        first,
        "the original is intact"
    );
    assert_eq!(db.pg.attestation_head().unwrap(), head);
    for probe in [
        Query {
            subjects: strings(&["impostor"]),
            ..q()
        },
        Query {
            predicates: strings(&["p"]),
            contexts: strings(&["c"]),
            ..q()
        },
        Query {
            actors: strings(&["eve"]),
            ..q()
        },
    ] {
        assert!(
            query(&db.pg, &probe).unwrap().attestations.is_empty(),
            "{probe:?}"
        );
    }
    // Inside a transaction too: refused, and the transaction goes on.
    let mut conn = db.backends.0.connection().unwrap();
    let tx = storage::Connection::transaction(&mut conn).unwrap();
    assert_eq!(tx.attestation_insert(&twin).unwrap(), None);
    twin.id = "AS-fresh".into();
    assert!(tx.attestation_insert(&twin).unwrap().is_some());
    tx.commit().unwrap();
    assert_eq!(db.pg.attestation_count().unwrap(), 2);
}

#[test]
fn a_corrupt_row_is_reported_as_corrupt() {
    let db = db();
    let a = put(&db, CLAIM);
    db.pg
        .batch("ALTER TABLE attestations DROP CONSTRAINT attestations_subjects_check")
        .unwrap();
    db.pg
        .batch("UPDATE attestations SET subjects = '[1]'")
        .unwrap();
    let error = db.pg.attestation_get(&a.id).unwrap_err();
    assert!(matches!(error, storage::Error::Corrupt(_)), "{error}");
    assert!(error.to_string().contains("is not a string"), "{error}");
}

#[test]
fn plans_walk_an_index_newest_first_and_never_scan_a_table() {
    let db = db();
    // Enough rows that the server prefers an index walk to reading the tables.
    db.pg
        .batch(
            "INSERT INTO attestations (id, subjects, predicates, contexts, actors, timestamp, source, attributes, created_at)
             SELECT 'AS-' || i, '[\"s\"]', '[\"p\"]', '[\"c\"]', '[\"a\"]', i, 't' || (i % 50), '{}', i
             FROM generate_series(1, 20000) AS i;
             INSERT INTO attestation_values (dimension, value, timestamp, seq)
             SELECT d, 'v' || (seq % (100 + d)), timestamp, seq
             FROM attestations, generate_series(0, 3) AS d;
             INSERT INTO attestation_pairs (predicate, context, timestamp, seq)
             SELECT 'v' || (seq % 101), 'v' || (seq % 102), timestamp, seq FROM attestations;
             ANALYZE",
        )
        .unwrap();
    let cases = [
        (
            Query {
                subjects: strings(&["v1"]),
                ..q()
            },
            Driver::Values(Dimension::Subject),
        ),
        (
            Query {
                subjects: strings(&["v1", "v2"]),
                predicates: strings(&["v3"]),
                ..q()
            },
            Driver::Values(Dimension::Subject),
        ),
        (
            Query {
                predicates: strings(&["v1"]),
                contexts: strings(&["v2"]),
                ..q()
            },
            Driver::Pairs,
        ),
        (
            Query {
                predicates: strings(&["v1"]),
                contexts: strings(&["v2", "v3"]),
                ..q()
            },
            Driver::Pairs,
        ),
        (
            Query {
                predicates: strings(&["v1"]),
                source: Some("t1".into()),
                ..q()
            },
            Driver::Values(Dimension::Predicate),
        ),
        (
            Query {
                actors: strings(&["v1"]),
                since: Some(1),
                ..q()
            },
            Driver::Values(Dimension::Actor),
        ),
        (
            Query {
                since: Some(1),
                until: Some(20000),
                ..q()
            },
            Driver::Time,
        ),
        (
            Query {
                source: Some("t7".into()),
                ..q()
            },
            Driver::Time,
        ),
    ];
    for (mut query, expected) in cases {
        assert_eq!(driver(&query), expected, "{query:?}");
        query.cursor = Some(Cursor {
            timestamp: 15000,
            seq: 15000,
        });
        let plan = plan::plan(&query, 101);
        let explain = format!("EXPLAIN {}", plan.sql);
        let rows = db.pg.query_planned(&explain, &plan.params()).unwrap();
        let text: Vec<String> = rows.iter().map(|row| row.get::<_, String>(0)).collect();
        let text = text.join("\n");
        assert!(
            !text.contains("Seq Scan"),
            "{query:?} scans a table:\n{text}"
        );
        assert!(
            text.contains("Backward"),
            "{query:?} walks no index newest first:\n{text}"
        );
    }
}
