//! Plugins that cooperate through attestations (ADR-003): `code` analyses a repository, and
//! `upkeep`'s watcher turns the analysis into a job of its own, with no call between them.

use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use qntx::ats;
use qntx::pulse::JobStatus;
use serde_json::json;
use tempfile::TempDir;

use crate::fixtures::{Env, guests};

/// A small repository: two Rust files and a Python one.
fn fixture_repository() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let write = |path: &str, text: &str| {
        let path = dir.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "src/lib.rs",
        "// a library\nfn f(x: u32) -> u32 {\n    if x > 1 && x < 9 {\n        x\n    } else {\n        0\n    }\n}\n",
    );
    write(
        "src/main.rs",
        "fn main() {\n    for i in 0..3 {\n        println!(\"{i}\");\n    }\n}\n",
    );
    write("tool.py", "# a tool\nif True:\n    print('x')\n");
    write("target/ignored.rs", "fn ignored() {}\n");
    dir
}

/// A data directory with `code` (granted `repo` read-only at /repo) and `upkeep`.
fn cooperating(repo: &Path) -> Env {
    let env = Env::with_plugins(&[]);
    env.install(&guests().code, "code.wasm");
    env.install(&guests().upkeep, "upkeep.wasm");
    env.manifest(
        "code",
        &format!(
            "name = \"code\"\n[[grants.dirs]]\nhost = \"{}\"\nguest = \"/repo\"\nmode = \"ro\"\n",
            repo.display()
        ),
    );
    env
}

fn about(env: &Env, subject: &str, predicate: &str) -> Vec<ats::Attestation> {
    ats::store::query(
        &env.store(),
        &ats::Query {
            subjects: vec![subject.into()],
            predicates: vec![predicate.into()],
            ..ats::Query::default()
        },
    )
    .unwrap()
    .attestations
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn the_watcher_fires_upkeep_once_for_codes_analysis() {
    let repo = fixture_repository();
    let env = cooperating(repo.path());
    let node = env.start();
    assert!(node.refused().is_empty(), "{:?}", node.refused());
    let id = env.enqueue(
        "code/analyze",
        json!({ "path": "/repo", "repository": "fixture", "largest": 2 }),
    );
    node.notify();
    let analyzed = env.wait_final(&id);
    assert_eq!(analyzed.status, JobStatus::Completed, "{analyzed:?}");
    let summary = &analyzed.result.as_ref().unwrap()["summary"];
    assert_eq!(summary["files"], 3, "target/ is skipped: {summary}");
    assert_eq!(summary["languages"]["Rust"]["files"], 2);
    assert_eq!(summary["languages"]["Python"]["code_lines"], 2);

    let analysis = about(&env, "fixture", "repository_analyzed");
    assert_eq!(analysis.len(), 1);
    assert_eq!(analysis[0].actors, ["plugin:code"]);
    assert_eq!(about(&env, "fixture/src/lib.rs", "file_analyzed").len(), 1);

    wait_for("upkeep's estimate", || {
        !about(&env, "fixture", "maintenance_estimated").is_empty()
    });
    node.wait_until_idle().unwrap();
    let estimates = about(&env, "fixture", "maintenance_estimated");
    assert_eq!(estimates.len(), 1, "{estimates:?}");
    assert_eq!(estimates[0].actors, ["plugin:upkeep"]);
    assert_eq!(estimates[0].contexts, ["finance"]);
    assert_eq!(estimates[0].attributes["based_on"], json!(analysis[0].id));

    let jobs = qntx::pulse::store::list_all(
        &env.store(),
        &qntx::pulse::JobFilter::default().handler("upkeep/assess"),
    )
    .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].source, "watcher:upkeep/assess#1");
    assert_eq!(jobs[0].payload["id"], json!(analysis[0].id));
}

#[test]
fn killing_the_node_between_the_two_steps_still_gives_exactly_one_estimate() {
    let repo = fixture_repository();
    let env = cooperating(repo.path());
    // Register the plugins (and the watcher, whose cursor starts at the feed's head) first.
    env.start().shutdown(Duration::from_secs(5));
    let id = env.enqueue(
        "code/analyze",
        json!({ "path": "/repo", "repository": "fixture" }),
    );
    let mut node: Child = env
        .qntx()
        .args(["run", "--workers", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("the analysis", || {
        !about(&env, "fixture", "repository_analyzed").is_empty()
    });
    node.kill().unwrap();
    node.wait().unwrap();
    assert_eq!(env.job(&id).status, JobStatus::Completed);

    let (code, _, stderr) =
        crate::fixtures::run(env.qntx().args(["run", "--until-idle", "--lease", "1s"]));
    assert_eq!(code, 0, "{stderr}");
    wait_for("upkeep's estimate", || {
        !about(&env, "fixture", "maintenance_estimated").is_empty()
    });
    let (code, _, stderr) = crate::fixtures::run(env.qntx().args(["run", "--until-idle"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(about(&env, "fixture", "maintenance_estimated").len(), 1);
    let jobs = qntx::pulse::store::list_all(
        &env.store(),
        &qntx::pulse::JobFilter::default().handler("upkeep/assess"),
    )
    .unwrap();
    assert_eq!(jobs.len(), 1, "the watcher fired once: {jobs:?}");
}

#[test]
fn a_user_schedule_runs_a_plugin_handler() {
    let env = Env::with_plugins(&[&guests().text]);
    let node = env.start();
    let (code, id, stderr) = crate::fixtures::run(env.qntx().args([
        "schedule",
        "add",
        "text/echo",
        "--every",
        "1h",
        "--payload",
        r#"{"tick": true}"#,
    ]));
    assert_eq!(code, 0, "{stderr}");
    let (code, job, stderr) =
        crate::fixtures::run(env.qntx().args(["schedule", "run-now", id.trim()]));
    assert_eq!(code, 0, "{stderr}");
    node.notify();
    let job = env.wait_final(job.trim());
    assert_eq!(job.status, JobStatus::Completed);
    assert_eq!(job.result, Some(json!({ "tick": true })));
    assert_eq!(job.source, format!("schedule:{}", id.trim()));
    let (_, listed, _) = crate::fixtures::run(env.qntx().args(["job", "list"]));
    assert!(
        listed.contains(&format!("schedule:{}", id.trim())),
        "{listed}"
    );
}

#[test]
fn the_readme_demo_runs_every_plugin_on_this_repository() {
    guests(); // the demo's plugin builds reuse the fixtures' build cache
    let data = tempfile::tempdir().unwrap();
    let (code, out, stderr) = crate::fixtures::run(
        std::process::Command::new(env!("CARGO_BIN_EXE_qntx"))
            .arg("--data-dir")
            .arg(data.path())
            .arg("demo")
            .arg("--checkout")
            .arg(crate::fixtures::workspace_root())
            .env(
                "CARGO_TARGET_DIR",
                Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests"),
            ),
    );
    assert_eq!(code, 0, "{out}\n{stderr}");
    let has_line = |words: &[&str]| {
        out.lines()
            .any(|line| words.iter().all(|word| line.contains(word)))
    };
    for words in [
        &["completed", "upkeep/assess", "from watcher:upkeep/assess#1"][..],
        &["qntx", "repository_analyzed", "code"],
        &["qntx", "maintenance_estimated", "finance", "upkeep"],
        &["README.md", "text_stats", "text"],
    ] {
        assert!(has_line(words), "no line with {words:?} in:\n{out}");
    }
}
