//! `qntx job`, `qntx budget` and `qntx bench pulse` from a user's side.

use serde_json::{Value, json};

use crate::fixtures::{Env, guests, run};

fn enqueue(env: &Env, args: &[&str]) -> String {
    let (code, id, stderr) = run(env.qntx().args(["job", "enqueue"]).args(args));
    assert_eq!(code, 0, "{stderr}");
    id.trim().to_owned()
}

fn show(env: &Env, id: &str) -> Value {
    let (code, shown, stderr) = run(env.qntx().args(["job", "show", id, "--json"]));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&shown).unwrap()
}

fn run_until_idle(env: &Env) -> String {
    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle", "--workers", "1"]));
    assert_eq!(code, 0, "{stderr}");
    stderr
}

#[test]
fn a_failed_job_is_retried_by_hand_and_its_log_tells_the_story() {
    let env = Env::with_plugins(&[&guests().probe]);
    let id = enqueue(
        &env,
        &[
            "probe/fail",
            "--payload",
            r#"{"message": "nope"}"#,
            "--max-attempts",
            "1",
        ],
    );
    let (code, _, stderr) = run(env.qntx().args(["job", "retry", &id]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("is queued, so it cannot be retried"),
        "{stderr}"
    );
    run_until_idle(&env);
    assert_eq!(show(&env, &id)["status"], "failed");

    let (code, _, stderr) = run(env.qntx().args(["job", "retry", &id, "--attempts", "2"]));
    assert_eq!(code, 0, "{stderr}");
    let job = show(&env, &id);
    assert_eq!(
        (job["status"].as_str(), job["max_attempts"].as_u64()),
        (Some("queued"), Some(3))
    );
    run_until_idle(&env);
    assert_eq!(
        show(&env, &id)["attempt"],
        2,
        "a permanent error fails at once"
    );

    let (code, logs, _) = run(env.qntx().args(["job", "logs", &id]));
    assert_eq!(code, 0);
    let lines: Vec<&str> = logs.lines().collect();
    assert_eq!(lines.len(), 2, "{logs}");
    assert!(
        lines[0].contains(
            "#1  attempt 1/1 failed permanently: plugin 'probe' handler 'fail' failed: nope"
        ),
        "{logs}"
    );
    assert!(
        lines[1].contains("#2  attempt 2/3 failed permanently"),
        "{logs}"
    );
    let (_, json_logs, _) = run(env.qntx().args(["job", "logs", &id, "--json"]));
    let first: Value = serde_json::from_str(json_logs.lines().next().unwrap()).unwrap();
    assert_eq!(
        (first["level"].as_str(), first["stage"].as_str()),
        (Some("error"), Some("pulse"))
    );
}

#[test]
fn pause_resume_and_cancel_from_the_command_line_and_their_refusals() {
    let env = Env::with_plugins(&[&guests().probe]);
    let id = enqueue(&env, &["probe/ok"]);
    let (code, _, stderr) = run(env.qntx().args(["job", "pause", &id[..12]]));
    assert_eq!(code, 0, "{stderr}");
    let (_, shown, _) = run(env.qntx().args(["job", "show", &id]));
    assert!(shown.contains("paused (user)"), "{shown}");
    run_until_idle(&env);
    assert_eq!(
        show(&env, &id)["status"],
        "paused",
        "a paused job is not run"
    );

    let (code, _, stderr) = run(env.qntx().args(["job", "resume", &id]));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(env.qntx().args(["job", "resume", &id]));
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        format!("qntx: job '{id}' is queued, so it cannot be resumed")
    );
    let (code, _, stderr) = run(env.qntx().args(["job", "cancel", &id]));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(env.qntx().args(["job", "cancel", &id]));
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim(),
        format!("qntx: job '{id}' is cancelled, so it cannot be cancelled")
    );
    let (code, _, stderr) = run(env.qntx().args(["job", "pause", "01NOPE"]));
    assert_eq!((code, stderr.trim()), (2, "qntx: no job '01NOPE'"));
}

#[test]
fn a_budget_set_from_the_command_line_pauses_a_job_that_does_not_fit() {
    let env = Env::with_plugins(&[&guests().probe]);
    let (code, _, stderr) = run(env
        .qntx()
        .args(["budget", "set", "--daily", "5", "--weekly", "20"]));
    assert_eq!(code, 0, "{stderr}");
    let file = std::fs::read_to_string(env.data_dir().join("qntx.toml")).unwrap();
    assert!(
        file.contains("daily = 5.0") && file.contains("weekly = 20.0"),
        "{file}"
    );
    let (_, shown, _) = run(env.qntx().args(["budget", "show", "--json"]));
    let shown: Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(
        shown["limits"],
        json!({ "daily": 5.0, "weekly": 20.0, "monthly": null })
    );
    assert_eq!(shown["headroom"], 5.0);

    let costly = enqueue(&env, &["probe/ok", "--cost-estimate", "8"]);
    let cheap = enqueue(&env, &["probe/ok", "--cost-estimate", "1"]);
    run_until_idle(&env);
    let job = show(&env, &costly);
    assert_eq!(
        (job["status"].as_str(), job["pause_reason"].as_str()),
        (Some("paused"), Some("budget_exceeded"))
    );
    assert_eq!(show(&env, &cheap)["status"], "completed");

    // Removing the daily limit (the weekly one has room) lets the resumer put it back, at the
    // start of the next node, which runs it.
    let (code, _, stderr) = run(env.qntx().args(["budget", "set", "--daily", "none"]));
    assert_eq!(code, 0, "{stderr}");
    run_until_idle(&env);
    assert_eq!(show(&env, &costly)["status"], "completed");

    let (code, _, stderr) = run(env.qntx().args(["budget", "set", "--daily", "-1"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("'-1' is not a non-negative amount or 'none'"),
        "{stderr}"
    );
    let (code, _, stderr) = run(env.qntx().args(["budget", "set"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("nothing to set"), "{stderr}");
}

#[test]
fn wait_follows_a_job_to_its_result_and_exits_1_when_it_fails() {
    let env = Env::with_plugins(&[&guests().probe]);
    let node = env.start();
    let (code, out, stderr) = run(env.qntx().args([
        "job",
        "enqueue",
        "probe/sleep",
        "--payload",
        r#"{"ms": 300}"#,
        "--wait",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert!(out.contains("completed, attempt 1/3"), "{out}");
    assert!(out.contains(r#"{"attempt":1,"slept_ms":300}"#), "{out}");

    let (code, out, _) = run(env.qntx().args([
        "job",
        "enqueue",
        "probe/fail",
        "--max-attempts",
        "1",
        "--wait",
    ]));
    assert_eq!(code, 1);
    assert!(out.contains("failed, attempt 1/1"), "{out}");

    let id = enqueue(&env, &["probe/sleep", "--payload", r#"{"ms": 300}"#]);
    node.notify();
    let (code, followed, stderr) = run(env.qntx().args(["job", "logs", &id, "--follow"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        followed.contains("attempt 1 completed"),
        "--follow ends with the job: {followed}"
    );
}

#[test]
fn run_at_schedules_a_job_for_later() {
    let env = Env::with_plugins(&[&guests().probe]);
    let id = enqueue(&env, &["probe/ok", "--run-at", "2100-01-01T00:00:00Z"]);
    let stderr = run_until_idle(&env);
    assert!(
        stderr.contains("jobs wait for a retry or a later start"),
        "{stderr}"
    );
    assert_eq!(show(&env, &id)["status"], "queued");
    let (code, _, stderr) = run(env
        .qntx()
        .args(["job", "enqueue", "probe/ok", "--run-at", "soon"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("'soon' is not a time like"), "{stderr}");
}

#[test]
fn bench_pulse_runs_tiny_and_writes_its_figures() {
    let env = Env::with_plugins(&[&guests().probe]);
    let out = env.data_dir().join("bench.json");
    let (code, table, stderr) = run(env
        .qntx()
        .args([
            "bench",
            "pulse",
            "--jobs",
            "20",
            "--workers",
            "1,2",
            "--depths",
            "50",
            "--claims",
            "10",
            "--handler",
            "probe/ok",
            "--out",
        ])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        table.contains("jobs/s") && table.contains("p99 µs"),
        "{table}"
    );
    let figures: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(figures["throughput"].as_array().unwrap().len(), 2);
    assert_eq!(figures["throughput"][1]["workers"], 2);
    assert_eq!(figures["claim_latency"][0]["claims"], 10);

    let (code, _, stderr) = run(env.qntx().args([
        "bench",
        "pulse",
        "--jobs",
        "1",
        "--workers",
        "1",
        "--depths",
        "1",
        "--handler",
        "none/such",
    ]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no plugin in the plugin directories announces 'none/such'"),
        "{stderr}"
    );
}

#[test]
fn claim_settings_come_from_flags_or_the_file_and_zero_batches_are_refused() {
    let env = Env::with_plugins(&[&guests().probe]);
    let (code, _, stderr) = run(env
        .qntx()
        .args(["run", "--until-idle", "--claim-batch", "0"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("0 is not in 1..=1000"), "{stderr}");

    std::fs::write(
        env.data_dir().join("qntx.toml"),
        "[pulse]\nclaim_batch = 0\n",
    )
    .unwrap();
    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("claim_batch 0 in the settings file must be from 1 to 1000"),
        "{stderr}"
    );

    std::fs::write(
        env.data_dir().join("qntx.toml"),
        "[pulse]\nclaim_batch = 4\nclaim_horizon = \"0s\"\n",
    )
    .unwrap();
    let ids: Vec<String> = (0..3).map(|_| enqueue(&env, &["probe/ok"])).collect();
    run_until_idle(&env);
    for id in &ids {
        assert_eq!(show(&env, id)["status"], "completed");
    }
}
