//! The `qntx` command from a user's side: exit codes, output, and refusals of bad input.

use serde_json::{Value, json};

use crate::fixtures::{Env, guests, run, workspace_root};

#[test]
fn enqueue_run_show_round_trip() {
    let env = Env::with_plugins(&[&guests().text]);
    let (code, id, stderr) =
        run(env
            .qntx()
            .args(["job", "enqueue", "text/echo", "--payload", r#"{"a": 1}"#]));
    assert_eq!(code, 0, "{stderr}");
    let id = id.trim();

    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle", "--workers", "1"]));
    assert_eq!(code, 0, "{stderr}");

    let (code, shown, stderr) = run(env.qntx().args(["job", "show", &id[..10], "--json"]));
    assert_eq!(code, 0, "an id prefix is enough: {stderr}");
    let job: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(job["status"], "completed");
    assert_eq!(job["result"], json!({ "a": 1 }));

    let (code, listed, _) = run(env.qntx().args(["job", "list", "--status", "completed"]));
    assert_eq!(code, 0);
    assert!(
        listed.contains(id) && listed.contains("text/echo"),
        "{listed}"
    );
}

#[test]
fn enqueue_refuses_a_handler_nobody_announced_unless_told_to() {
    let env = Env::with_plugins(&[&guests().text]);
    let (code, _, stderr) = run(env.qntx().args(["job", "enqueue", "text/ecko"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains(
            "no plugin announces handler 'text/ecko'; known handlers: text/echo, text/stats"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("--allow-unregistered"), "{stderr}");

    let (code, id, stderr) =
        run(env
            .qntx()
            .args(["job", "enqueue", "later/thing", "--allow-unregistered"]));
    assert_eq!(code, 0, "{stderr}");
    let (_, shown, _) = run(env.qntx().args(["job", "show", id.trim()]));
    assert!(
        shown.contains("later/thing") && shown.contains("queued"),
        "{shown}"
    );
}

#[test]
fn enqueue_refuses_invalid_json_and_stores_nothing() {
    let env = Env::with_plugins(&[&guests().text]);
    let (code, _, stderr) =
        run(env
            .qntx()
            .args(["job", "enqueue", "text/echo", "--payload", "{oops"]));
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("qntx: --payload is not valid JSON: key must be a string"),
        "{stderr}"
    );
    let (code, listed, _) = run(env.qntx().args(["job", "list"]));
    assert_eq!((code, listed.as_str()), (1, ""), "no job was stored");
}

#[test]
fn show_names_a_missing_job() {
    let env = Env::with_plugins(&[]);
    let (code, _, stderr) = run(env.qntx().args(["job", "show", "01NOPE"]));
    assert_eq!(code, 2);
    assert_eq!(stderr.trim(), "qntx: no job '01NOPE'");
}

#[test]
fn plugin_list_shows_name_version_and_handlers() {
    let env = Env::with_plugins(&[&guests().text]);
    // Listing describes what a node recorded at its last load.
    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, listed, stderr) = run(env.qntx().args(["plugin", "list", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let plugin: Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    assert_eq!(plugin["name"], "text");
    assert_eq!(plugin["version"], "0.1.0");
    assert_eq!(plugin["handlers"][0]["name"], "text/echo");
    assert_eq!(plugin["handlers"][1]["name"], "text/stats");
}

#[test]
fn plugin_build_compiles_checks_and_installs_a_crate() {
    let env = Env::with_plugins(&[]);
    guests(); // warm the shared build cache
    let target = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("guests");
    let (code, installed, stderr) = run(env
        .qntx()
        .env("CARGO_TARGET_DIR", &target)
        .arg("plugin")
        .arg("build")
        .arg(workspace_root().join("plugins/text")));
    assert_eq!(code, 0, "{stderr}");
    let installed = std::path::PathBuf::from(installed.trim());
    assert_eq!(installed, env.plugin_dir().join("text.wasm"));
    assert!(installed.is_file());

    let (code, _, stderr) = run(env.qntx().args(["plugin", "build", "/nonexistent/crate"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("'/nonexistent/crate' is not a plugin crate"),
        "{stderr}"
    );
}

#[test]
fn plugin_inspect_tells_what_a_component_is_and_whether_this_node_would_load_it() {
    let env = Env::with_plugins(&[&guests().probe]);
    let probe = env.plugin_dir().join("qntx_guest_probe.wasm");
    std::fs::write(
        env.plugin_dir().join("qntx_guest_probe.toml"),
        "name = \"probe\"\n[grants]\nenv = [\"PATH\"]\n[limits]\nmemory = \"1 GiB\"\n",
    )
    .unwrap();
    let (code, shown, stderr) = run(env.qntx().args(["plugin", "inspect", "--json"]).arg(&probe));
    assert_eq!(code, 0, "{stderr}");
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(shown["name"], "probe");
    assert_eq!(shown["version"], "0.1.0");
    assert_eq!(shown["world"], "qntx:plugin/plugin@0.1.1");
    assert_eq!(shown["loads"], true);
    let bytes = std::fs::read(&probe).unwrap();
    assert_eq!(shown["size"], bytes.len());
    use sha2::Digest;
    assert_eq!(shown["sha256"], hex::encode(sha2::Sha256::digest(&bytes)));
    let imports = shown["imports"].as_array().unwrap();
    let status = |prefix: &str| {
        imports
            .iter()
            .find(|i| i["name"].as_str().unwrap().starts_with(prefix))
            .map(|i| i["status"].as_str().unwrap().to_owned())
    };
    assert_eq!(status("qntx:plugin/store@0.1.1").as_deref(), Some("linked"));
    assert_eq!(
        status("wasi:sockets/tcp@").as_deref(),
        Some("linked, inert without a grant")
    );
    assert!(
        shown["exports"]
            .as_array()
            .unwrap()
            .contains(&json!("execute-job"))
    );
    assert_eq!(shown["requested"]["grants"]["env"], json!(["PATH"]));
    assert_eq!(
        shown["notes"],
        json!(["plugin 'probe' asks for 1024 MiB memory; this node allows 64 MiB: using 64 MiB"])
    );

    let other = guests().otherworld.clone();
    let (code, shown, stderr) = run(env.qntx().args(["plugin", "inspect"]).arg(&other));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        shown.contains("acme:other/greeter@1.0.0                 refused: it imports 'acme:other/greeter@1.0.0', which this node does not offer"),
        "{shown}"
    );
    assert!(
        shown.contains("world        not qntx:plugin/plugin@0.1.1: it does not export metadata, initialize and execute-job"),
        "{shown}"
    );
    assert!(
        shown.contains("verdict      this node would refuse it: plugin '"),
        "{shown}"
    );
}
