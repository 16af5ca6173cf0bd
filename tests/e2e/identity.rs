//! Who speaks and who serves: a plugin name claimed by two files, the actors of plugins,
//! handlers and people, a user handler's job name, and a node whose plugins are all refused.

use qntx::ats::{self, NewAttestation, Query};
use qntx::pulse::JobStatus;
use serde_json::{Value, json};

use crate::fixtures::{Env, guests, run};

#[test]
fn a_name_claimed_by_two_files_refuses_both_whatever_their_order() {
    let env = Env::with_plugins(&[&guests().probe]);
    env.install(&guests().text, "0-impostor.wasm");
    env.install(&guests().text, "text.wasm");
    let node = env.start();
    assert!(
        node.registry()
            .names()
            .iter()
            .all(|h| !h.starts_with("text/")),
        "{:?}",
        node.registry().names()
    );
    assert!(
        node.registry().get("probe/ok").is_some(),
        "others still load"
    );
    let dir = format!("{}/", env.plugin_dir().display());
    let reasons = env.refusals(&node);
    let rule = "each file that claims a name is refused until only one does; remove or rename \
                the others";
    assert_eq!(
        reasons,
        [
            format!("plugin '0-impostor.wasm' is named 'text', like 'text.wasm': {rule}"),
            format!("plugin 'text.wasm' is named 'text', like '0-impostor.wasm': {rule}"),
        ]
    );
    drop(node);

    // The listing says the same from the node's records, without loading anything.
    let (code, listed, stderr) = run(env.qntx().args(["plugin", "list"]));
    assert_eq!(code, 0, "probe is loaded: {stderr}");
    assert!(listed.starts_with("probe 0.1.0"), "{listed}");
    assert!(!listed.contains("text/echo"), "{listed}");
    for (file, other) in [
        ("0-impostor.wasm", "text.wasm"),
        ("text.wasm", "0-impostor.wasm"),
    ] {
        let line = format!(
            "plugin '{dir}{file}' is named 'text', like '{dir}{other}': a node refuses each of them"
        );
        assert!(stderr.contains(&line), "{stderr}");
    }

    // Removing the impostor leaves one claimant: it loads.
    std::fs::remove_file(env.plugin_dir().join("0-impostor.wasm")).unwrap();
    let node = env.start();
    assert!(node.registry().get("text/echo").is_some());
    assert!(node.refused().is_empty(), "{:?}", node.refused());
}

#[test]
fn people_cannot_speak_as_plugins_handlers_or_the_node() {
    let env = Env::with_plugins(&[]);
    for args in [
        &["ALICE", "is", "author", "by", "plugin:text"][..],
        &["ALICE", "is", "author", "by", "Plugin:Text"],
        &["ALICE", "is", "author", "--actor", "handler:word-freq"],
        &["ALICE", "is", "author", "by", "bob", "SYSTEM:node"],
    ] {
        let (code, stdout, stderr) = run(env.qntx().arg("as").args(args));
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains("uses the reserved prefix '"), "{stderr}");
    }
    let (code, _, stderr) = run(env.qntx().arg("as").arg("ALICE").env("USER", "plugin:text"));
    assert_eq!(code, 2, "the default actor is checked too: {stderr}");

    // Nor write what reads as a user handler's record (the older form, actor NAME).
    let (code, _, stderr) = run(env.qntx().args([
        "as",
        "evil",
        "is",
        "handler",
        "of",
        "wasm",
        "by",
        "evil",
        "--attr",
        "sha256=00",
    ]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("shape of a user handler's record"),
        "{stderr}"
    );
    let stored = ats::store::query(&env.store(), &Query::default()).unwrap();
    assert!(stored.attestations.is_empty(), "nothing stored: {stored:?}");

    // A person named like a plugin is still a person, and told apart from the plugin.
    let (code, _, stderr) = run(env
        .qntx()
        .args(["as", "ALICE", "is", "author", "by", "text"]));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn a_plugin_and_a_person_of_the_same_name_are_different_actors() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let id = env.enqueue("probe/forge", json!({ "actors": ["probe"] }));
    node.notify();
    let job = env.wait_final(&id);
    assert_eq!(job.status, JobStatus::Completed, "{job:?}");
    let (code, _, stderr) = run(env.qntx().args(["as", "x", "is", "y", "by", "probe"]));
    assert_eq!(code, 0, "{stderr}");
    let by = |actor: &str| {
        ats::store::query(
            &env.store(),
            &Query {
                actors: vec![actor.into()],
                ..Query::default()
            },
        )
        .unwrap()
        .attestations
        .iter()
        .map(|a| a.source.clone())
        .collect::<Vec<_>>()
    };
    assert_eq!(by("plugin:probe"), ["probe@0.1.0"]);
    assert_eq!(by("probe"), ["qntx-cli"]);
}

#[test]
fn a_wasm_handler_sees_the_name_it_announced_and_older_records_still_serve() {
    let env = Env::with_plugins(&[]);
    // The announcer component announces one handler, `h0`.
    let (code, stdout, stderr) = run(env
        .qntx()
        .args(["handler", "create", "greet", "--file"])
        .arg(&guests().announcer));
    assert_eq!(code, 0, "{stdout}{stderr}");
    let version = qntx::handlers::current(&env.store(), "greet")
        .unwrap()
        .unwrap();
    let record = ats::store::get(&env.store(), &version.attestation).unwrap();
    assert_eq!(record.actors, ["handler:greet"]);

    // The same component recorded the way older nodes wrote it: actor NAME.
    let mut legacy = NewAttestation {
        subjects: vec!["legacy".into()],
        predicates: vec!["handler".into()],
        contexts: vec!["wasm".into()],
        actors: vec!["legacy".into()],
        timestamp: None,
        source: "qntx-cli".into(),
        attributes: json!({
            "sha256": version.sha256, "size": version.size, "language": "wasm",
            "source": "", "wit_version": "qntx:plugin/plugin@0.1.0", "description": "old",
        }),
    }
    .validate(&ats::Limits::default(), qntx::clock::now_ms())
    .unwrap();
    ats::store::insert(&env.store(), &mut legacy).unwrap();

    let node = env.start();
    for name in ["greet", "legacy"] {
        let id = env.enqueue(&format!("handler/{name}"), json!({ "n": 1 }));
        node.notify();
        let job = env.wait_final(&id);
        assert_eq!(job.status, JobStatus::Completed, "{job:?}");
        assert_eq!(
            job.result,
            Some(json!({ "handler": "h0", "payload": { "n": 1 } })),
            "the job carries the handler name the component announced"
        );
    }
}

#[test]
fn run_fails_loudly_when_every_plugin_is_refused_or_jobs_are_stranded_by_a_refusal() {
    // Every plugin refused, nothing else to serve: an error at once, naming the refusals.
    let env = Env::with_plugins(&[]);
    env.install(&guests().text, "a.wasm");
    env.install(&guests().text, "b.wasm");
    let (code, _, stderr) =
        run(env
            .qntx()
            .args(["job", "enqueue", "text/echo", "--allow-unregistered"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is named 'text', like"), "{stderr}");
    assert!(
        stderr.contains(
            "every plugin file was refused (2, reasons above) and there is no user handler"
        ),
        "{stderr}"
    );

    // One plugin refused, another served: the jobs left for the refused one are named, with
    // the refusal, and the exit is an error.
    let env = Env::with_plugins(&[&guests().text]);
    let probe = std::fs::read(&guests().probe).unwrap();
    env.install_bytes(&probe[..probe.len() / 2], "probe.wasm");
    for handler in ["probe/ok", "probe/ok", "text/echo"] {
        let (code, _, stderr) =
            run(env
                .qntx()
                .args(["job", "enqueue", handler, "--allow-unregistered"]));
        assert_eq!(code, 0, "{stderr}");
    }
    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("jobs stay queued for handlers this node does not serve: probe/ok (2); plugin files were refused:\n  - plugin '"),
        "{stderr}"
    );
    assert!(
        stderr.contains("probe.wasm' is not a valid component"),
        "{stderr}"
    );
    let (_, listed, _) = run(env.qntx().args(["job", "list", "--json"]));
    let statuses: Vec<(String, String)> = listed
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .map(|job| {
            (
                job["handler"].as_str().unwrap().to_owned(),
                job["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        statuses.contains(&("text/echo".into(), "completed".into())),
        "{statuses:?}"
    );

    // Without a refusal, jobs for another node's handler are only mentioned.
    std::fs::remove_file(env.plugin_dir().join("probe.wasm")).unwrap();
    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr
            .contains("idle; jobs stay queued for handlers this node does not serve: probe/ok (2)"),
        "{stderr}"
    );
}
