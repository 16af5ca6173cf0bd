//! `qntx db status`, `qntx db copy` and choosing the database (`--database`, `QNTX_DATABASE`,
//! `[database]` in qntx.toml), run as the `qntx` binary on real SQLite files and a real
//! PostgreSQL server the tests start.

use std::process::Command;

use serde_json::Value;

use crate::fixtures::{Env, run};

/// `qntx` on `env`'s data directory with no database named by the environment.
fn qntx(env: &Env) -> Command {
    let mut command = env.qntx();
    command.env_remove("QNTX_DATABASE");
    command
}

/// Run `qntx ARGS` on `env`; stdout, after checking that it succeeded.
fn ok(env: &Env, args: &[&str]) -> String {
    let (code, stdout, stderr) = run(qntx(env).args(args));
    assert_eq!(code, 0, "qntx {args:?}: {stderr}");
    stdout
}

/// A SQLite store with attestations, jobs (one with a log), a schedule and a budget.
fn filled() -> Env {
    let env = Env::with_plugins(&[]);
    ok(
        &env,
        &["as", "ALICE", "is", "author", "of", "github", "by", "bob"],
    );
    ok(
        &env,
        &[
            "as", "CAROL", "is", "reviewer", "by", "bob", "--attr", "n=3",
        ],
    );
    for text in ["one", "two"] {
        let payload = format!(r#"{{"text": "{text}"}}"#);
        ok(
            &env,
            &[
                "job",
                "enqueue",
                "text/stats",
                "--payload",
                &payload,
                "--allow-unregistered",
            ],
        );
    }
    ok(&env, &["schedule", "add", "text/stats", "--every", "10m"]);
    ok(&env, &["budget", "set", "--daily", "5"]);
    env
}

fn status(env: &Env, database: Option<&str>) -> Value {
    let mut command = qntx(env);
    if let Some(url) = database {
        command.args(["--database", url]);
    }
    let (code, stdout, stderr) = run(command.args(["db", "status", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&stdout).expect("one JSON object")
}

#[test]
fn db_status_shows_the_backend_schema_and_counts() {
    let env = filled();
    let status = status(&env, None);
    let file = env.data_dir().join("qntx.db");
    assert_eq!(
        status["backend"],
        format!("sqlite database '{}'", file.display())
    );
    assert_eq!(status["schema_version"], status["schema_known"]);
    assert_eq!(status["attestations"], 2);
    assert_eq!(status["jobs"], serde_json::json!({"queued": 2}));
    assert_eq!(status["schedules"], 1);
    assert_eq!(status["budgets"], 1);
    assert_eq!(status["nodes_live"], 0);

    let text = ok(&env, &["db", "status"]);
    assert!(text.contains("jobs          2 (queued 2)"), "{text}");
    assert!(text.contains("attestations  2"), "{text}");
}

#[test]
fn db_copy_between_sqlite_files_keeps_every_answer_and_refuses_a_non_empty_target() {
    let env = filled();
    let target = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", target.path().join("copy.db").display());
    let (code, stdout, stderr) = run(qntx(&env).args(["db", "copy", "--to", &url]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("attestations: 2 of 2 rows"), "{stderr}");
    assert!(
        stdout.contains("jobs                          2          2"),
        "{stdout}"
    );

    let on = |args: &[&str]| {
        let mut command = qntx(&env);
        command.args(["--database", &url]).args(args);
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, 0, "{args:?}: {stderr}");
        stdout
    };
    assert_eq!(on(&["ax", "by", "bob"]), ok(&env, &["ax", "by", "bob"]));
    assert_eq!(on(&["job", "list"]), ok(&env, &["job", "list"]));
    assert_eq!(on(&["schedule", "list"]), ok(&env, &["schedule", "list"]));
    assert_eq!(on(&["budget", "show"]), ok(&env, &["budget", "show"]));

    let (code, _, stderr) = run(qntx(&env).args(["db", "copy", "--to", &url]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the target is not empty (attestations: 2,")
            && stderr.contains("nothing was copied; --force deletes every row"),
        "{stderr}"
    );
    ok(&env, &["as", "DAVE", "is", "new"]);
    let (code, _, stderr) = run(qntx(&env).args(["db", "copy", "--to", &url, "--force"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("deleted 2 rows of attestations"),
        "{stderr}"
    );
    assert_eq!(on(&["ax", "DAVE"]), ok(&env, &["ax", "DAVE"]));

    let own = format!("{}", env.data_dir().join("qntx.db").display());
    let (code, _, stderr) = run(qntx(&env).args(["db", "copy", "--to", &own, "--force"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--to names the store being copied"),
        "{stderr}"
    );
}

#[test]
fn the_flag_beats_the_environment_which_beats_qntx_toml() {
    let env = Env::with_plugins(&[]);
    let dir = tempfile::tempdir().unwrap();
    let [flag, from_env, from_file] =
        ["flag.db", "env.db", "file.db"].map(|name| dir.path().join(name).display().to_string());
    std::fs::write(
        env.data_dir().join("qntx.toml"),
        format!("[database]\nurl = {from_file:?}\n"),
    )
    .unwrap();
    let backend = |command: &mut Command| {
        let (code, stdout, stderr) = run(command.args(["db", "status", "--json"]));
        assert_eq!(code, 0, "{stderr}");
        let status: Value = serde_json::from_str(&stdout).unwrap();
        status["backend"].as_str().unwrap().to_owned()
    };
    let named = |file: &str| format!("sqlite database '{file}'");
    assert_eq!(backend(&mut qntx(&env)), named(&from_file));
    assert_eq!(
        backend(qntx(&env).env("QNTX_DATABASE", &from_env)),
        named(&from_env)
    );
    assert_eq!(
        backend(
            qntx(&env)
                .env("QNTX_DATABASE", &from_env)
                .args(["--database", &flag])
        ),
        named(&flag)
    );
    assert!(
        !env.data_dir().join("qntx.db").exists(),
        "the data directory's own file is never opened"
    );

    std::fs::write(env.data_dir().join("qntx.toml"), "[database]\nurl = 3\n").unwrap();
    let (code, _, stderr) = run(qntx(&env).args(["db", "status"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("qntx.toml"), "{stderr}");
}

#[test]
fn bad_database_urls_are_errors_that_hide_the_password() {
    let env = Env::with_plugins(&[]);
    let server = qntx_pgtest::shared();
    let free_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let good = server.database();
    let wrong_password = good.replacen("qntx-test", "not-the-password", 1);
    assert_ne!(good, wrong_password, "the URL holds the password: {good}");
    let cases = [
        (
            "postgres://qntx:s3cret@127.0.0.1:notaport/db".to_owned(),
            "is not a PostgreSQL URL",
        ),
        (
            format!("postgres://qntx:s3cret@127.0.0.1:{free_port}/db?connect_timeout=5"),
            "connecting to postgres://qntx@127.0.0.1:",
        ),
        (wrong_password, "password authentication failed"),
        (
            "mysql://root:s3cret@127.0.0.1/db".to_owned(),
            "qntx has no 'mysql' backend",
        ),
    ];
    for (url, expected) in cases {
        for args in [&["db", "status"][..], &["ax", "ALICE"], &["job", "list"]] {
            let (code, stdout, stderr) = run(qntx(&env).args(["--database", &url]).args(args));
            assert_eq!(code, 2, "{url} {args:?}: {stdout}{stderr}");
            assert!(stderr.contains(expected), "{url} {args:?}: {stderr}");
            assert!(
                !stderr.contains("s3cret") && !stderr.contains("not-the-password"),
                "the password shows: {stderr}"
            );
        }
    }
}

#[test]
fn db_copy_moves_a_sqlite_store_into_postgres_where_commands_answer_the_same() {
    let env = filled();
    let job = ok(&env, &["job", "list", "--json"]);
    let first: Value = serde_json::from_str(job.lines().next().unwrap()).unwrap();
    let id = first["id"].as_str().unwrap().to_owned();
    let url = qntx_pgtest::shared().database();
    let (code, _, stderr) = run(qntx(&env).args(["db", "copy", "--to", &url]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        !stderr.contains("qntx-test"),
        "the password shows: {stderr}"
    );

    // The same exit code and output on the copy (`handler list` of a store without user
    // handlers answers no, on both).
    for args in [
        &["job", "show", id.as_str()][..],
        &["ax", "by", "bob"],
        &["handler", "list"],
        &["schedule", "list"],
        &["budget", "show"],
    ] {
        let (code, stdout, stderr) = run(qntx(&env).args(["--database", &url]).args(args));
        let (here_code, here_stdout, _) = run(qntx(&env).args(args));
        assert_eq!(
            (code, stdout),
            (here_code, here_stdout),
            "{args:?}: {stderr}"
        );
    }
    let copied = status(&env, Some(&url));
    let source = status(&env, None);
    for key in ["attestations", "jobs", "job_logs", "schedules", "budgets"] {
        assert_eq!(copied[key], source[key], "{key}");
    }
    assert!(
        copied["backend"]
            .as_str()
            .unwrap()
            .starts_with("postgresql database postgres://qntx@127.0.0.1:"),
        "{copied}"
    );
    ok(&env, &["--database", &url, "as", "ERIN", "is", "new"]);
    let after = status(&env, Some(&url));
    assert_eq!(
        after["attestations"], 3,
        "the feed numbers on after the copied rows"
    );
}
