//! Plugins built by hand from `wit/plugin.wit` with other toolchains, exactly as the README's
//! "Building a plugin without the SDK" says: componentize-py (`tests/hand-built/python`),
//! componentize-js (`tests/hand-built/js`) and wit-bindgen alone (`tests/guests/bare`). Each loads with
//! a manifest `[config]` its jobs read; a guest's own exception fails its job at once, named.
//! A component built against the previous version of the contract (0.1.0) still loads.

use std::path::{Path, PathBuf};
use std::process::Command;

use qntx::pulse::{Job, JobStatus, NewJob};
use serde_json::{Value, json};

use crate::fixtures::{Env, guests, run, workspace_root};
use crate::handlers::{toolchain_ready, toolchains};

/// The README's row for `language` in "Building a plugin without the SDK": the example's path
/// and the build command, as an author reads them.
fn documented(language: &str) -> (PathBuf, Vec<String>) {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let row = readme
        .lines()
        .find(|line| line.starts_with(&format!("| {language} |")))
        .unwrap_or_else(|| panic!("the README has no build row for {language}"));
    let cells: Vec<&str> = row
        .split('|')
        .map(|cell| cell.trim().trim_matches('`'))
        .collect();
    let command = cells[3].split_whitespace().map(str::to_owned).collect();
    (workspace_root().join(cells[2]), command)
}

/// Build the README's example for `language` in a new project directory holding only
/// `wit/plugin.wit` (copied, as an author copies it) and the example, with the README's
/// command (its program found in `tools`); returns the directory and the component.
fn build_documented(language: &str, tools: &Path) -> (tempfile::TempDir, PathBuf) {
    let (example, command) = documented(language);
    let project = tempfile::tempdir().unwrap();
    std::fs::create_dir(project.path().join("wit")).unwrap();
    std::fs::copy(
        workspace_root().join("wit/plugin.wit"),
        project.path().join("wit/plugin.wit"),
    )
    .unwrap();
    let file = example.file_name().unwrap();
    std::fs::copy(&example, project.path().join(file)).unwrap();
    let (code, stdout, stderr) = run(Command::new(tools.join(&command[0]))
        .args(&command[1..])
        .current_dir(project.path()));
    assert_eq!(code, 0, "{command:?}: {stdout}{stderr}");
    let output = &command[command.iter().position(|arg| arg == "-o").unwrap() + 1];
    let wasm = project.path().join(output);
    assert!(wasm.is_file(), "{output} was not built: {stdout}{stderr}");
    (project, wasm)
}

/// A node with `wasm` installed as `<stem>.wasm`, with the manifest the README shows.
fn install(wasm: &Path, stem: &str, plugin: &str) -> Env {
    let env = Env::with_plugins(&[&guests().probe]);
    env.install(wasm, &format!("{stem}.wasm"));
    env.manifest(
        stem,
        &format!("name = \"{plugin}\"\n\n[config]\ngreeting = \"hi\"\ntimes = 2\n"),
    );
    env
}

fn run_job(
    env: &Env,
    node: &qntx::node::Node,
    handler: &str,
    payload: Value,
    attempts: u32,
) -> Job {
    let id = env.enqueue_job(&NewJob {
        max_attempts: attempts,
        ..NewJob::new(handler, payload)
    });
    node.notify();
    env.wait_final(&id)
}

/// The promises of the README's example plugins: `greet` reads the manifest's config in a
/// job, `lookup` of a missing key is an uncaught exception that fails once with its message,
/// `flaky` asks for a retry and gets it. Returns the failed `lookup` job.
fn check_greeter(env: &Env, plugin: &str) -> Job {
    let node = env.start();
    let greet = run_job(
        env,
        &node,
        &format!("{plugin}/greet"),
        json!({ "name": "ada" }),
        3,
    );
    assert_eq!(greet.status, JobStatus::Completed, "{greet:?}");
    assert_eq!(
        greet.result,
        Some(json!({ "text": "hi, ada hi, ada", "attempt": 1 })),
        "the job read greeting and times from the manifest's [config]"
    );
    let logs = env.final_logs(&greet.id);
    assert!(
        logs.iter()
            .any(|(_, line)| line.stage == "guest"
                && line.message.starts_with("greeting ada 2 times")),
        "{logs:?}"
    );

    let table = json!({ "a": 1 });
    let found = run_job(
        env,
        &node,
        &format!("{plugin}/lookup"),
        json!({ "table": table, "key": "a" }),
        3,
    );
    assert_eq!(found.result, Some(json!(1)), "{found:?}");
    let missing = run_job(
        env,
        &node,
        &format!("{plugin}/lookup"),
        json!({ "table": table, "key": "b" }),
        3,
    );
    assert_eq!(missing.status, JobStatus::Failed, "{missing:?}");
    assert_eq!(
        missing.attempt, 1,
        "an uncaught exception is not retried: {missing:?}"
    );

    let flaky = run_job(env, &node, &format!("{plugin}/flaky"), json!({}), 2);
    assert_eq!(
        (flaky.status, flaky.attempt),
        (JobStatus::Failed, 2),
        "a retryable job error is retried: {flaky:?}"
    );
    assert_eq!(
        flaky.error.as_deref(),
        Some(format!("plugin '{plugin}' handler 'flaky' failed: attempt 2 of 2").as_str())
    );
    missing
}

#[test]
fn a_python_plugin_built_by_hand_reads_its_config_and_an_exception_fails_it_once() {
    if !toolchain_ready(qntx::toolchain::componentize_py, "Python") {
        return;
    }
    let (_project, wasm) = build_documented("Python", &toolchains().join("python/bin"));
    let env = install(&wasm, "greeter_py", "greeter-py");
    let missing = check_greeter(&env, "greeter-py");
    assert_eq!(
        missing.error.as_deref(),
        Some(
            "plugin 'greeter-py' handler 'lookup' failed: KeyError: 'b' (uncaught Python exception)"
        )
    );
    let details = missing.error_details.unwrap().to_string();
    assert!(
        details.contains("Traceback (most recent call last):") && details.contains("app.py"),
        "the traceback is kept in the details: {details}"
    );
}

#[test]
fn a_javascript_plugin_built_by_hand_reads_its_config_and_a_throw_fails_it_once() {
    if !toolchain_ready(qntx::toolchain::componentize_js, "JavaScript") {
        return;
    }
    let (_project, wasm) =
        build_documented("JavaScript", &toolchains().join("js/node_modules/.bin"));
    let env = install(&wasm, "greeter_js", "greeter-js");
    let missing = check_greeter(&env, "greeter-js");
    assert_eq!(
        missing.error.as_deref(),
        Some(
            "plugin 'greeter-js' handler 'lookup' failed: Error: no key 'b' (uncaught JavaScript exception)"
        )
    );
}

#[test]
fn a_rust_plugin_without_the_sdk_reads_its_config_in_jobs() {
    let env = Env::with_plugins(&[&guests().probe]);
    env.install(&guests().bare, "bare.wasm");
    env.manifest("bare", "name = \"bare\"\n\n[config]\ngreeting = \"hi\"\n");
    let node = env.start();
    let greet = run_job(&env, &node, "bare/greet", json!("ada"), 3);
    assert_eq!(greet.result, Some(json!("hi, ada")), "{greet:?}");
    let fail = run_job(&env, &node, "bare/fail", json!(null), 3);
    assert_eq!(
        (fail.status, fail.attempt),
        (JobStatus::Failed, 1),
        "{fail:?}"
    );
    assert_eq!(
        fail.error.as_deref(),
        Some("plugin 'bare' handler 'fail' failed: 'fail' fails on purpose")
    );
}

#[test]
fn a_component_built_against_0_1_0_loads_and_runs() {
    let env = Env::with_plugins(&[&guests().legacy]);
    let legacy = env.plugin_dir().join("qntx_guest_legacy.wasm");
    let (code, shown, stderr) = run(env
        .qntx()
        .args(["plugin", "inspect", "--json"])
        .arg(&legacy));
    assert_eq!(code, 0, "{stderr}");
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["world"], "qntx:plugin/plugin@0.1.0");
    assert_eq!(shown["loads"], true, "{shown}");
    let ours: Vec<&str> = shown["imports"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|import| import["name"].as_str())
        .filter(|name| name.starts_with("qntx:plugin/"))
        .collect();
    assert!(
        !ours.is_empty() && ours.iter().all(|name| name.ends_with("@0.1.0")),
        "{ours:?}"
    );

    let node = env.start();
    let job = run_job(&env, &node, "legacy/attest", json!({}), 1);
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    let id = job.result.unwrap();
    let attestation = qntx::ats::store::get(&env.store(), id.as_str().unwrap()).unwrap();
    // Stamped with the plugin's identity through the 0.1.0 `store` import (how an actor is
    // spelled is the identity tests' concern).
    assert_eq!(attestation.source, "legacy@0.1.0");
    assert!(
        matches!(attestation.actors.as_slice(), [actor] if actor.ends_with("legacy")),
        "{:?}",
        attestation.actors
    );
}

#[test]
fn a_0_1_0_component_made_a_handler_records_the_world_it_was_built_for() {
    let env = Env::with_plugins(&[]);
    let legacy = guests().legacy.to_str().unwrap().to_owned();
    let (code, _, stderr) = crate::handlers::handler(&env, &["create", "old", "--file", &legacy]);
    assert_eq!(code, 0, "{stderr}");
    let (code, shown, stderr) = crate::handlers::handler(&env, &["show", "old", "--json"]);
    assert_eq!(code, 0, "{stderr}");
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["wit_version"], "qntx:plugin/plugin@0.1.0", "{shown}");
}
