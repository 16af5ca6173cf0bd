//! Grants: without a manifest a guest has no files, no network and no environment; a manifest
//! grants directories (read-only or read-write), variables and `initialize` config, and no
//! more. Every denial is followed by a good job on the same node.

use qntx::pulse::{Job, JobStatus, NewJob};
use serde_json::{Value, json};

use crate::fixtures::{Env, guests};

const PROBE: &str = "qntx_guest_probe";

/// Run a probe handler that returns `Result<T, String>` as JSON, then a good job.
fn answer(env: &Env, node: &qntx::node::Node, handler: &str, payload: Value) -> Value {
    let job: Job = env.run_then_good(node, NewJob::new(handler, payload));
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    job.result.expect("a result")
}

/// The guest's error, which must contain `expected` (WASI's errno text as Rust shows it).
fn denied<'a>(answer: &'a Value, expected: &str) -> &'a str {
    let error = answer["Err"]
        .as_str()
        .unwrap_or_else(|| panic!("expected a denial, got {answer}"));
    assert!(
        error.contains(expected),
        "{error:?} should say {expected:?}"
    );
    error
}

/// What a guest without a preopen for a path gets: it sees no file system at all.
const NO_FILES: &str = "No such file or directory";
/// What a guest gets for a path that leaves its granted directory.
const ESCAPE: &str = "Operation not permitted";

#[test]
fn without_a_manifest_a_guest_has_no_files_network_or_environment() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let database = env.data_dir().join(qntx::sqlite::FILE_NAME);
    for path in [
        "/etc/passwd".to_owned(),
        database.display().to_string(),
        "../qntx.db".to_owned(),
    ] {
        let read = answer(&env, &node, "probe/read-file", json!({ "path": path }));
        denied(&read, NO_FILES);
    }
    let write = answer(
        &env,
        &node,
        "probe/write-file",
        json!({ "path": "/tmp/qntx-probe-was-here", "text": "x" }),
    );
    denied(&write, NO_FILES);
    assert!(!std::path::Path::new("/tmp/qntx-probe-was-here").exists());

    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let connect = answer(&env, &node, "probe/connect", json!({ "addr": addr }));
    denied(&connect, "Permission denied");
    listener.set_nonblocking(true).unwrap();
    assert!(
        listener.accept().is_err(),
        "no connection reached the listener"
    );
    for host in ["localhost", "example.com"] {
        let resolve = answer(&env, &node, "probe/resolve", json!({ "host": host }));
        denied(&resolve, "failed to lookup address information");
    }
    for name in ["PATH", "HOME"] {
        let var = answer(&env, &node, "probe/env", json!({ "name": name }));
        assert_eq!(var, Value::Null, "{name} is not granted");
    }
    let config = answer(&env, &node, "probe/config", json!({ "key": "announce" }));
    assert_eq!(
        (&config["all"], &config["get"], &config["parsed"]),
        (&json!({}), &json!(null), &json!({ "Ok": null }))
    );
}

#[test]
fn a_manifest_grants_directories_variables_and_config_and_nothing_more() {
    let env = Env::with_plugins(&[&guests().probe]);
    let root = env.data_dir().join("granted");
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::create_dir_all(root.join("out")).unwrap();
    std::fs::write(root.join("data/hello.txt"), "hello").unwrap();
    std::fs::write(root.join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink("../secret.txt", root.join("data/link")).unwrap();
    env.manifest(
        PROBE,
        &format!(
            r#"
            name = "probe"
            version = "0.1.0"
            [grants]
            env = ["PATH"]
            [[grants.dirs]]
            host = "{root}/data"
            guest = "/data"
            [[grants.dirs]]
            host = "{root}/out"
            guest = "/out"
            mode = "rw"
            [config]
            announce = "from-config"
            retries = 5
            ratio = 0.5
            "#,
            root = root.display()
        ),
    );
    let node = env.start();
    assert!(
        node.registry()
            .names()
            .contains(&"probe/from-config".to_owned()),
        "config reached initialize: {:?}",
        node.registry().names()
    );
    // ... and every job, each in a fresh instance that never ran `initialize`.
    let config = answer(&env, &node, "probe/config", json!({ "key": "retries" }));
    assert_eq!(
        config,
        json!({
            "all": { "announce": "from-config", "ratio": "0.5", "retries": "5" },
            "get": "5",
            "parsed": { "Ok": 5 },
            "required": { "Ok": "5" },
        })
    );
    let config = answer(&env, &node, "probe/config", json!({ "key": "ratio" }));
    assert_eq!(
        config["parsed"],
        json!({ "Err": "config 'ratio' is '0.5', which is not a valid u32: invalid digit found in string" })
    );
    let config = answer(&env, &node, "probe/config", json!({ "key": "absent" }));
    assert_eq!(
        (&config["get"], &config["parsed"]),
        (&json!(null), &json!({ "Ok": null }))
    );
    assert_eq!(
        config["required"],
        json!({ "Err": "config 'absent' is not set: add it under [config] in the plugin's manifest" })
    );

    let read = answer(
        &env,
        &node,
        "probe/read-file",
        json!({ "path": "/data/hello.txt" }),
    );
    assert_eq!(read, json!({ "Ok": "hello" }));
    for escape in ["/data/../secret.txt", "/data/link", "/out/../secret.txt"] {
        let read = answer(&env, &node, "probe/read-file", json!({ "path": escape }));
        denied(&read, ESCAPE);
    }
    let database = env.data_dir().join(qntx::sqlite::FILE_NAME);
    for outside in [std::path::Path::new("/etc/passwd"), &database] {
        let read = answer(&env, &node, "probe/read-file", json!({ "path": outside }));
        denied(&read, NO_FILES);
    }

    let write = answer(
        &env,
        &node,
        "probe/write-file",
        json!({ "path": "/data/new.txt", "text": "no" }),
    );
    denied(&write, "Operation not permitted");
    assert!(!root.join("data/new.txt").exists());
    let write = answer(
        &env,
        &node,
        "probe/write-file",
        json!({ "path": "/out/new.txt", "text": "yes" }),
    );
    assert_eq!(write, json!({ "Ok": null }));
    assert_eq!(
        std::fs::read_to_string(root.join("out/new.txt")).unwrap(),
        "yes"
    );

    let path = answer(&env, &node, "probe/env", json!({ "name": "PATH" }));
    assert_eq!(path, json!(std::env::var("PATH").unwrap()));
    let home = answer(&env, &node, "probe/env", json!({ "name": "HOME" }));
    assert_eq!(home, Value::Null);
}

#[test]
fn a_bad_manifest_refuses_its_plugin_with_every_problem_and_the_others_load() {
    let env = Env::with_plugins(&[&guests().probe, &guests().text]);
    env.manifest(
        PROBE,
        r#"
        name = "probe"
        [[grants.dirs]]
        host = "/nonexistent/qntx"
        guest = "relative"
        [limits]
        memory = "lots"
        "#,
    );
    let node = env.start();
    assert_eq!(node.registry().names(), ["text/echo", "text/stats"]);
    let refusal = qntx::error_chain(&node.refused()[0]);
    let manifest = env.plugin_dir().join(format!("{PROBE}.toml"));
    assert_eq!(
        refusal,
        format!(
            "plugin manifest '{}' is not valid:\n  \
             - grants.dirs[0].guest 'relative' must be an absolute guest path without '..', like \"/data\"\n  \
             - grants.dirs[0].host '/nonexistent/qntx' cannot be opened (No such file or directory (os error 2)): create it or fix the path\n  \
             - limits.memory 'lots' is not a size: use bytes or text like \"32 MiB\"",
            manifest.display()
        )
    );
}

#[test]
fn a_writable_grant_of_the_nodes_own_directories_refuses_the_plugin() {
    let env = Env::with_plugins(&[&guests().probe, &guests().text]);
    let data_dir = env.data_dir().canonicalize().unwrap();
    env.manifest(
        PROBE,
        &format!(
            "name = \"probe\"\n[[grants.dirs]]\nhost = {:?}\nguest = \"/node\"\nmode = \"rw\"\n",
            data_dir.display().to_string()
        ),
    );
    let node = env.start();
    assert_eq!(node.registry().names(), ["text/echo", "text/stats"]);
    let refusal = qntx::error_chain(&node.refused()[0]);
    assert!(
        refusal.contains(&format!(
            "grants.dirs[0].host '{}' is writable and reaches the node's data directory",
            data_dir.display()
        )),
        "{refusal}"
    );
}

#[test]
fn a_manifest_for_another_plugin_or_with_unknown_keys_is_refused() {
    let env = Env::with_plugins(&[&guests().probe]);
    env.manifest(PROBE, "name = \"text\"\n");
    let node = env.start();
    let refusal = qntx::error_chain(&node.refused()[0]);
    assert!(
        refusal.ends_with("- name 'text' does not match the component, which is plugin 'probe': fix the name or move the manifest beside the right component"),
        "{refusal}"
    );
    drop(node);

    env.manifest(PROBE, "name = \"probe\"\n[grants]\nnetwork = true\n");
    let node = env.start();
    let refusal = qntx::error_chain(&node.refused()[0]);
    assert!(refusal.contains("unknown field `network`"), "{refusal}");
}
