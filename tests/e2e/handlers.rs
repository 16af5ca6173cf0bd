//! User handlers: `qntx handler create` builds one source file (Rust, Python, JavaScript or a
//! ready component), stores it in the database, and a running node serves it as
//! `handler/NAME`, following new versions, rollbacks and removals live.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use qntx::ats::{self, NewAttestation};
use qntx::node::Node;
use qntx::pulse::{JobStatus, NewJob};
use qntx::storage::Components;
use serde_json::{Value, json};

use crate::fixtures::{Env, guests, run, workspace_root};

/// One toolchains directory for the whole test run: componentize-py and componentize-js are
/// installed once, and Rust handlers share one cargo target directory.
pub(crate) fn toolchains() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("toolchains")
}

fn example(file: &str) -> PathBuf {
    workspace_root().join("handlers").join(file)
}

/// `qntx handler ARGS` on this data directory with the shared toolchains.
pub(crate) fn handler(env: &Env, args: &[&str]) -> (i32, String, String) {
    let mut command: Command = env.qntx();
    command
        .arg("handler")
        .args(args)
        .env("QNTX_TOOLCHAINS", toolchains());
    run(&mut command)
}

/// Create a handler and return its sha256; panics with the CLI's output if it fails.
fn create(env: &Env, name: &str, args: &[&str]) -> String {
    let mut all = vec!["create", name];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = handler(env, &all);
    assert_eq!(code, 0, "creating {name}: {stdout}{stderr}");
    let mut words = stdout.split_whitespace();
    assert_eq!(
        words.next(),
        Some(format!("handler/{name}").as_str()),
        "{stdout}"
    );
    let sha = words.next().expect("a sha256").to_owned();
    assert_eq!(sha.len(), 64, "{stdout}");
    sha
}

/// Wait until the node serves `handler/NAME` at `sha` (or serves nothing, for `None`).
fn wait_served(node: &Node, name: &str, sha: Option<&str>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let served = node.registry().get(&format!("handler/{name}"));
        if served.as_ref().map(|r| r.version.as_str()) == sha {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "handler/{name} is {:?}, expected {sha:?}",
            served.map(|r| r.version)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn run_job(env: &Env, node: &Node, handler: &str, payload: Value) -> qntx::pulse::Job {
    let id = env.enqueue(handler, payload);
    node.notify();
    env.wait_final(&id)
}

/// A Rust handler whose job waits for an attestation about `payload.wait_for` (if given), then
/// says which version it is.
fn gated(version: u32) -> String {
    format!(
        r#"use qntx_guest::store::Query;
use qntx_guest::{{Filter, Job, JobError, Value, json}};

fn handle(job: Job) -> Result<Value, JobError> {{
    if let Some(gate) = job.payload["wait_for"].as_str() {{
        let query = Query::new(Filter::new().subject(gate)).limit(1);
        while query.first()?.is_empty() {{
            std::thread::sleep(std::time::Duration::from_millis(20));
        }}
    }}
    Ok(json!({{ "version": {version} }}))
}}
"#
    )
}

#[test]
fn a_rust_handler_is_created_run_replaced_live_rolled_back_and_removed() {
    let env = Env::with_plugins(&[]);
    let first = create(
        &env,
        "word-freq",
        &[
            "--file",
            example("word_freq.rs").to_str().unwrap(),
            "--description",
            "word frequencies",
        ],
    );

    // Enqueued through the CLI and waited for while a node runs. Three workers: below, two jobs
    // of `handler/gated` run at once beside `handler/word-freq`, and a handler's fair share of
    // a node is every worker but one.
    let mut config = env.config();
    config.workers = 3;
    let node = env.start_with(config).expect("node starts");
    wait_served(&node, "word-freq", Some(&first));
    let (code, stdout, stderr) = run(env
        .qntx()
        .args(["job", "enqueue", "handler/word-freq", "--wait", "--payload"])
        .arg(r#"{"text": "the cat and the hat. The end", "top": 2, "subject": "poem"}"#));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let id = stdout.lines().next().unwrap();
    let job = env.job(id);
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(
        job.plugin_version, first,
        "the job records the version's sha256"
    );
    let result = job.result.unwrap();
    assert_eq!(
        result["top"],
        json!([{ "word": "the", "count": 3 }, { "word": "and", "count": 1 }])
    );
    assert_eq!(
        (result["total"].as_u64(), result["distinct"].as_u64()),
        (Some(7), Some(5))
    );
    let attestation =
        ats::store::get(&env.store(), result["attestation"].as_str().unwrap()).unwrap();
    assert_eq!(
        attestation.actors,
        ["handler:word-freq"],
        "the handler is its own actor"
    );
    assert_eq!(attestation.source, format!("word-freq@{}", &first[..12]));

    // The handler attestation: self-certifying, with the source and a real timestamp.
    let version = qntx::handlers::current(&env.store(), "word-freq")
        .unwrap()
        .unwrap();
    assert_eq!(version.sha256, first);
    assert_eq!(version.language, "rust");
    assert_eq!(version.description, "word frequencies");
    assert_eq!(version.wit_version, "qntx:plugin/plugin@0.1.1");
    assert_eq!(
        version.source,
        std::fs::read_to_string(example("word_freq.rs")).unwrap()
    );
    let stored = ats::store::get(&env.store(), &version.attestation).unwrap();
    assert_eq!(
        (
            stored.subjects,
            stored.predicates,
            stored.contexts,
            stored.actors,
            stored.source
        ),
        (
            vec!["word-freq".to_owned()],
            vec!["handler".to_owned()],
            vec!["wasm".to_owned()],
            vec!["handler:word-freq".to_owned()],
            "qntx-cli".to_owned()
        )
    );
    assert!(stored.timestamp > 1_700_000_000_000);
    assert_eq!(stored.attributes["size"], json!(version.size));

    // A new version while a job of the old one runs: the running job finishes on its version,
    // the next job runs the new one.
    let v1 = create(&env, "gated", &["--lang", "rust", "--code", &gated(1)]);
    wait_served(&node, "gated", Some(&v1));
    let mut waiting = NewJob::new("handler/gated", json!({ "wait_for": "gate-open" }));
    waiting.timeout_ms = Some(300_000);
    let waiting = env.enqueue_job(&waiting);
    node.notify();
    while env.job(&waiting).status != JobStatus::Running {
        std::thread::sleep(Duration::from_millis(10));
    }
    let v2 = create(&env, "gated", &["--lang", "rust", "--code", &gated(2)]);
    assert_ne!(v1, v2);
    wait_served(&node, "gated", Some(&v2));
    let next = run_job(&env, &node, "handler/gated", json!({}));
    assert_eq!(next.result, Some(json!({ "version": 2 })));
    assert_eq!(next.plugin_version, v2);
    assert_eq!(
        env.job(&waiting).status,
        JobStatus::Running,
        "{:?}",
        env.final_logs(&waiting)
    );
    open_gate(&env, "gate-open");
    let waited = env.wait_final(&waiting);
    assert_eq!(waited.result, Some(json!({ "version": 1 })), "{waited:?}");
    assert_eq!(waited.plugin_version, v1);

    // Rollback to the version before, then forward again by sha prefix.
    let (code, stdout, stderr) = handler(&env, &["rollback", "gated"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains(&v1), "{stdout}");
    wait_served(&node, "gated", Some(&v1));
    let job = run_job(&env, &node, "handler/gated", json!({}));
    assert_eq!(
        (job.result, job.plugin_version),
        (Some(json!({ "version": 1 })), v1.clone())
    );
    let (code, _, stderr) = handler(&env, &["rollback", "gated", "--to", &v2[..10]]);
    assert_eq!(code, 0, "{stderr}");
    wait_served(&node, "gated", Some(&v2));
    let (code, _, stderr) = handler(&env, &["rollback", "gated", "--to", "ffff0000"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("has no version 'ffff0000'"), "{stderr}");

    // History is kept, newest first.
    let (code, stdout, _) = handler(&env, &["show", "gated", "--versions"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert!(lines[0].contains(&v2[..12]) && lines[0].contains("rollback from"));
    assert!(lines[3].contains(&v1[..12]) && lines[3].ends_with("created"));

    // Removal: the node stops serving it and the CLI refuses jobs for it.
    let (code, stdout, stderr) = handler(&env, &["remove", "gated"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    wait_served(&node, "gated", None);
    let (code, _, stderr) = run(env.qntx().args(["job", "enqueue", "handler/gated"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("handler 'gated' was removed"), "{stderr}");
    let (code, stdout, _) = handler(&env, &["list"]);
    assert_eq!(code, 0);
    assert!(
        stdout.contains("handler/word-freq") && !stdout.contains("handler/gated"),
        "{stdout}"
    );
    // A removed handler comes back with a rollback.
    let (code, _, stderr) = handler(&env, &["rollback", "gated"]);
    assert_eq!(code, 0, "{stderr}");
    wait_served(&node, "gated", Some(&v2));
    node.shutdown(Duration::from_secs(5));

    // A node started later serves the current versions from the database.
    let node = env.start();
    assert_eq!(
        node.registry().get("handler/gated").map(|r| r.version),
        Some(v2)
    );
    assert_eq!(
        node.registry().get("handler/word-freq").map(|r| r.version),
        Some(first)
    );
}

fn open_gate(env: &Env, subject: &str) {
    let now = qntx::clock::now_ms();
    let mut gate = NewAttestation {
        subjects: vec![subject.to_owned()],
        actors: vec!["test".to_owned()],
        source: "test".to_owned(),
        ..NewAttestation::default()
    }
    .validate(&ats::Limits::default(), now)
    .unwrap();
    ats::store::insert(&env.store(), &mut gate).unwrap();
}

fn components(env: &Env) -> u64 {
    env.store().component_count().unwrap()
}

#[test]
fn rust_that_does_not_compile_is_refused_with_file_and_line_and_nothing_is_stored() {
    let env = Env::with_plugins(&[]);
    let file = env.data_dir().join("broken.rs");
    std::fs::write(
        &file,
        "use qntx_guest::{Job, JobError, Value};\n\nfn handle(job: Job) -> Result<Value, JobError> {\n    let n: u32 = job.payload;\n    Ok(n.into())\n}\n",
    )
    .unwrap();
    let (code, stdout, stderr) = handler(
        &env,
        &["create", "broken", "--file", file.to_str().unwrap()],
    );
    assert_eq!(code, 2, "{stdout}{stderr}");
    let expected = format!("{}:4:18: error[E0308]: mismatched types", file.display());
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(!stderr.contains("Compiling"), "no cargo noise: {stderr}");
    assert_eq!(components(&env), 0);
    assert!(
        qntx::handlers::history(&env.store(), "broken")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn components_of_another_world_or_with_several_handlers_are_refused() {
    let env = Env::with_plugins(&[]);
    let refused = |bytes: &[u8], file: &str| {
        let path = env.data_dir().join(file);
        std::fs::write(&path, bytes).unwrap();
        let (code, stdout, stderr) =
            handler(&env, &["create", "odd", "--file", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{stdout}{stderr}");
        stderr
    };
    // The text plugin, rebuilt for another version of the world: only the version in its
    // import names differs.
    let text = std::fs::read(&guests().text).unwrap();
    let other = replace_all(&text, b"@0.1.1", b"@9.9.9");
    let stderr = refused(&other, "other-version.wasm");
    assert!(
        stderr
            .contains("built for qntx:plugin@9.9.9; this node implements qntx:plugin/plugin@0.1.1"),
        "{stderr}"
    );
    // An empty component exports nothing of the world.
    let stderr = refused(b"\0asm\x0d\x00\x01\x00", "empty.wasm");
    assert!(stderr.contains("does not export 'metadata'"), "{stderr}");
    // A core module is not a component.
    let stderr = refused(b"\0asm\x01\x00\x00\x00", "core.wasm");
    assert!(stderr.contains("core WebAssembly module"), "{stderr}");
    // Our world, but a plugin: a handler announces exactly one handler.
    let stderr = refused(&text, "text.wasm");
    assert!(
        stderr.contains("announces exactly one handler; this one announces 2"),
        "{stderr}"
    );
    assert_eq!(components(&env), 0);
}

fn replace_all(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = bytes.to_vec();
    let mut replaced = 0;
    let mut at = 0;
    while let Some(offset) = out[at..].windows(from.len()).position(|w| w == from) {
        out[at + offset..at + offset + to.len()].copy_from_slice(to);
        at += offset + to.len();
        replaced += 1;
    }
    assert!(replaced > 0);
    out
}

#[test]
fn invalid_names_and_unknown_handlers_are_refused() {
    let env = Env::with_plugins(&[]);
    for name in ["Word", "a_b", "handler", "-x", &"a".repeat(65)] {
        let (code, stdout, stderr) = handler(
            &env,
            &[
                "create",
                "--lang",
                "rust",
                "--code",
                "fn handle() {}",
                "--",
                name,
            ],
        );
        assert_eq!(code, 2, "{name}: {stdout}{stderr}");
        assert!(stderr.contains("handler name"), "{name}: {stderr}");
        assert!(
            !stderr.contains("building"),
            "refused before building: {stderr}"
        );
    }
    let (code, _, stderr) = run(env.qntx().args(["job", "enqueue", "handler/never"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("no handler 'never'"), "{stderr}");
    for args in [
        &["show", "never"][..],
        &["remove", "never"],
        &["rollback", "never"],
    ] {
        let (code, _, stderr) = handler(&env, args);
        assert_eq!(code, 2, "{args:?}");
        assert!(stderr.contains("no handler 'never'"), "{args:?}: {stderr}");
    }
    let (code, _, stderr) = handler(&env, &["create", "x", "--code", "fn handle() {}"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("--code needs --lang"), "{stderr}");
    let (code, stdout, _) = handler(&env, &["list"]);
    assert_eq!((code, stdout.as_str()), (1, ""));
}

/// Whether a component toolchain is installed (installing it on first use); prints why not.
pub(crate) fn toolchain_ready(
    install: fn(&Path) -> Result<PathBuf, qntx::toolchain::Error>,
    language: &str,
) -> bool {
    match install(&toolchains()) {
        Ok(_) => true,
        Err(error) => {
            crate::fixtures::skip_or_fail(&format!(
                "the {language} handler test: {}",
                qntx::error_chain(&error)
            ));
            false
        }
    }
}

/// Two builds of one example (the description makes them differ), served live one after the
/// other, rolled back and removed; `check` runs a job against the current version.
fn interpreted_lifecycle(env: &Env, name: &str, file: &str, check: impl Fn(&Node) -> Value) {
    let file = example(file);
    let file = file.to_str().unwrap();
    let v1 = create(env, name, &["--file", file, "--description", "first"]);
    let node = env.start();
    wait_served(&node, name, Some(&v1));
    let job = run_job(env, &node, &format!("handler/{name}"), check(&node));
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    assert_eq!(job.plugin_version, v1);

    let v2 = create(env, name, &["--file", file, "--description", "second"]);
    assert_ne!(v1, v2);
    wait_served(&node, name, Some(&v2));
    let job = run_job(env, &node, &format!("handler/{name}"), check(&node));
    assert_eq!(
        (job.status, &job.plugin_version),
        (JobStatus::Completed, &v2)
    );

    let (code, _, stderr) = handler(env, &["rollback", name]);
    assert_eq!(code, 0, "{stderr}");
    wait_served(&node, name, Some(&v1));
    let job = run_job(env, &node, &format!("handler/{name}"), check(&node));
    assert_eq!(
        (job.status, &job.plugin_version),
        (JobStatus::Completed, &v1)
    );

    let (code, _, stderr) = handler(env, &["remove", name]);
    assert_eq!(code, 0, "{stderr}");
    wait_served(&node, name, None);
    let (code, _, stderr) = run(env
        .qntx()
        .args(["job", "enqueue", &format!("handler/{name}")]));
    assert_eq!(code, 2);
    assert!(stderr.contains("was removed"), "{stderr}");
    node.shutdown(Duration::from_secs(5));
}

#[test]
fn a_python_handler_reshapes_json_and_follows_versions() {
    if !toolchain_ready(qntx::toolchain::componentize_py, "Python") {
        return;
    }
    let env = Env::with_plugins(&[]);
    let payload = json!({
        "data": { "user": { "name": "Ada", "emails": ["ada@example.org"] },
                  "items": [{ "id": 1 }, { "id": 2 }] },
        "spec": { "who": "user.name", "mail": "user.emails.0", "ids": "items[].id",
                  "age": "user.age" },
        "defaults": { "age": null },
    });
    let seen = std::cell::Cell::new(0);
    interpreted_lifecycle(&env, "reshape", "reshape.py", |node| {
        if seen.replace(seen.get() + 1) == 0 {
            let job = run_job(&env, node, "handler/reshape", json!({ "data": {} }));
            assert_eq!(job.status, JobStatus::Failed);
            assert_eq!(job.attempt, 1, "a Python exception is permanent");
            assert!(
                job.error.as_deref().unwrap().ends_with(
                    "failed: ValueError: payload.spec must be an object of output key -> path"
                ),
                "{job:?}"
            );
            let job = run_job(&env, node, "handler/reshape", payload.clone());
            assert_eq!(
                job.result,
                Some(
                    json!({ "who": "Ada", "mail": "ada@example.org", "ids": [1, 2], "age": null })
                )
            );
        }
        payload.clone()
    });
}

#[test]
fn a_javascript_handler_summarises_attestations_and_follows_versions() {
    if !toolchain_ready(qntx::toolchain::componentize_js, "JavaScript") {
        return;
    }
    let env = Env::with_plugins(&[]);
    let conn = env.store();
    for (subject, predicate, actor) in [
        ("alice", "knows", "bob"),
        ("alice", "likes", "bob"),
        ("carol", "knows", "dave"),
    ] {
        let mut attestation = NewAttestation {
            subjects: vec![subject.to_owned()],
            predicates: vec![predicate.to_owned()],
            actors: vec![actor.to_owned()],
            source: "test".to_owned(),
            ..NewAttestation::default()
        }
        .validate(&ats::Limits::default(), qntx::clock::now_ms())
        .unwrap();
        ats::store::insert(&conn, &mut attestation).unwrap();
    }
    let seen = std::cell::Cell::new(0);
    interpreted_lifecycle(&env, "summarise", "summarise.js", |node| {
        if seen.replace(seen.get() + 1) == 0 {
            let job = run_job(
                &env,
                node,
                "handler/summarise",
                json!({ "predicates": ["knows", "likes"] }),
            );
            let result = job.result.clone().unwrap_or_else(|| panic!("{job:?}"));
            assert_eq!(result["count"], 3);
            assert_eq!(result["byPredicate"], json!({ "knows": 2, "likes": 1 }));
            assert_eq!(result["bySubject"], json!({ "alice": 2, "carol": 1 }));
            assert_eq!(result["byActor"], json!({ "bob": 2, "dave": 1 }));
            assert_eq!(result["more"], false);
            let job = run_job(
                &env,
                node,
                "handler/summarise",
                json!({ "subjects": "alice" }),
            );
            assert_eq!(job.status, JobStatus::Failed);
            assert!(
                job.error
                    .as_deref()
                    .unwrap()
                    .contains("payload.subjects must be a list of strings"),
                "{job:?}"
            );
        }
        json!({ "actors": ["dave"] })
    });
}

#[test]
fn a_missing_interpreter_is_named_with_what_to_install() {
    let env = Env::with_plugins(&[]);
    let empty = env.data_dir().join("empty-path");
    std::fs::create_dir_all(&empty).unwrap();
    for (file, tool, advice) in [
        ("reshape.py", "python3 was not found", "python3-venv"),
        (
            "summarise.js",
            "node was not found",
            "Node.js 18 or newer with npm",
        ),
    ] {
        let (code, stdout, stderr) = run(env
            .qntx()
            .args(["handler", "create", "x", "--file"])
            .arg(example(file))
            .env("QNTX_TOOLCHAINS", env.data_dir().join("toolchains"))
            .env("PATH", &empty));
        assert_eq!(code, 2, "{stdout}{stderr}");
        assert!(stderr.contains(tool) && stderr.contains(advice), "{stderr}");
    }
    assert_eq!(components(&env), 0);
}
