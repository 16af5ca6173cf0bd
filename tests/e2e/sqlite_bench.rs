//! Tests about the SQLite backend itself, run by the SQLite target only: `qntx bench ats`,
//! whose scratch stores are SQLite files.

use serde_json::Value;

use crate::fixtures::{Env, run};

#[test]
fn the_benchmark_runs_at_a_tiny_size() {
    let env = Env::with_plugins(&[]);
    let dir = env.data_dir().join("bench");
    let (code, out, stderr) = run(env
        .qntx()
        .args([
            "bench",
            "ats",
            "--count",
            "300",
            "--single",
            "50",
            "--batch",
            "100",
            "--queries",
            "5",
            "--json",
            "--dir",
        ])
        .arg(&dir));
    assert_eq!(code, 0, "{stderr}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["writes"]["single"]["count"], 50);
    assert_eq!(report["writes"]["batched"]["count"], 250);
    let shapes = report["queries"].as_array().unwrap();
    assert_eq!(shapes.len(), 8);
    assert!(
        shapes
            .iter()
            .all(|s| s["runs"] == 5 && s["median_us"].as_f64().unwrap() > 0.0),
        "{report}"
    );
    let newest = shapes
        .iter()
        .find(|s| s["shape"] == "newest 100, no filter")
        .unwrap();
    assert_eq!(newest["mean_rows"], 100.0);
    let store = qntx::sqlite::SqliteBackend::open_in(&dir)
        .unwrap()
        .connection()
        .unwrap();
    let count = qntx::storage::Attestations::attestation_count(&store).unwrap();
    assert_eq!(count, 300);
}
