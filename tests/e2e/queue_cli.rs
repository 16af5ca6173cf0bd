//! `qntx job enqueue` with large and bulk input, the bounds on every number it takes, and
//! `qntx job show` naming the node of each attempt and saying when no node serves a job.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Instant;

use qntx::pulse::store;
use serde_json::Value;

use crate::fixtures::{Env, guests, run};

fn show(env: &Env, id: &str) -> Value {
    let (code, shown, stderr) = run(env.qntx().args(["job", "show", id, "--json"]));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str(&shown).unwrap()
}

/// Run `qntx` with `input` on stdin.
fn run_with_stdin(command: &mut Command, input: &[u8]) -> (i32, String, String) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // The command may refuse the input before reading all of it.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// `qntx job enqueue HANDLER --allow-unregistered ARGS` with `input` on stdin.
fn enqueue_stdin(env: &Env, handler: &str, args: &[&str], input: &[u8]) -> (i32, String, String) {
    run_with_stdin(
        env.qntx()
            .args(["job", "enqueue", handler, "--allow-unregistered"])
            .args(args),
        input,
    )
}

fn big_payload(bytes: usize) -> String {
    format!("{{\"blob\": \"{}\"}}", "x".repeat(bytes))
}

#[test]
fn payloads_too_large_for_the_command_line_come_from_a_file_or_stdin_up_to_16_mib() {
    let env = Env::with_plugins(&[]);
    let payload = big_payload(10 << 20);
    let file = env.data_dir().join("payload.json");
    std::fs::write(&file, &payload).unwrap();
    let (code, id, stderr) = run(env
        .qntx()
        .args([
            "job",
            "enqueue",
            "ghost/eat",
            "--allow-unregistered",
            "--payload-file",
        ])
        .arg(&file));
    assert_eq!(code, 0, "{stderr}");
    let shown = show(&env, id.trim());
    assert_eq!(shown["payload"]["blob"].as_str().unwrap().len(), 10 << 20);

    let (code, id, stderr) =
        enqueue_stdin(&env, "ghost/eat", &["--payload", "-"], payload.as_bytes());
    assert_eq!(code, 0, "{stderr}");
    let shown = show(&env, id.trim());
    assert_eq!(
        shown["payload"]["blob"].as_str().unwrap().len(),
        10 << 20,
        "from stdin"
    );

    std::fs::write(&file, big_payload(17 << 20)).unwrap();
    let (code, _, stderr) = run(env
        .qntx()
        .args([
            "job",
            "enqueue",
            "ghost/eat",
            "--allow-unregistered",
            "--payload-file",
        ])
        .arg(&file));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("the payload is more than 16777216 bytes (16 MiB)"),
        "{stderr}"
    );
    let (code, _, stderr) = enqueue_stdin(&env, "ghost/eat", &["--payload", "-"], b"{not json");
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--payload - (stdin) is not valid JSON"),
        "{stderr}"
    );
}

#[test]
fn a_batch_of_json_lines_is_enqueued_in_one_transaction_and_prints_the_ids_in_order() {
    let env = Env::with_plugins(&[]);
    let count = 200_000;
    let mut lines = String::with_capacity(count * 40);
    for i in 0..count {
        lines.push_str(&format!(
            "{{\"payload\": {{\"i\": {i}}}, \"priority\": {}}}\n",
            i % 7
        ));
    }
    let started = Instant::now();
    let (code, ids, stderr) =
        enqueue_stdin(&env, "ghost/bulk", &["--batch", "-"], lines.as_bytes());
    let took = started.elapsed();
    eprintln!("{count} jobs through --batch in {took:?}");
    assert_eq!(code, 0, "{stderr}");
    let ids: Vec<&str> = ids.lines().collect();
    assert_eq!(ids.len(), count);
    let stored = store::list_all(
        &env.store(),
        &qntx::pulse::JobFilter::default().handler("ghost/bulk"),
    )
    .unwrap()
    .len() as i64;
    assert_eq!(stored as usize, count);
    let last = show(&env, ids[count - 1]);
    assert_eq!(
        (last["payload"]["i"].as_u64(), last["priority"].as_i64()),
        (Some(count as u64 - 1), Some(((count - 1) % 7) as i64))
    );
    assert!(took.as_secs() < 120, "seconds, not minutes: {took:?}");

    // One bad line: nothing is stored, and the error names the line.
    let bad = "{\"payload\": {}}\n\n{\"payload\": {}, \"timeout\": \"292271023y\"}\n";
    let (code, out, stderr) = enqueue_stdin(&env, "ghost/bad", &["--batch", "-"], bad.as_bytes());
    assert_eq!((code, out.as_str()), (2, ""), "{stderr}");
    assert!(
        stderr.contains("--batch line 3") && stderr.contains("longer than the limit"),
        "{stderr}"
    );
    let (code, _, stderr) = enqueue_stdin(
        &env,
        "ghost/bad",
        &["--batch", "-"],
        b"{\"payload\": {}, \"colour\": \"red\"}\n",
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("--batch line 1") && stderr.contains("unknown field `colour`"),
        "{stderr}"
    );
    let stored = store::list_all(
        &env.store(),
        &qntx::pulse::JobFilter::default().handler("ghost/bad"),
    )
    .unwrap()
    .len() as i64;
    assert_eq!(stored, 0);
}

#[test]
fn numbers_out_of_range_are_refused_with_the_limit_named() {
    let env = Env::with_plugins(&[]);
    let enqueue = |args: &[&str]| {
        run(env
            .qntx()
            .args(["job", "enqueue", "ghost/x", "--allow-unregistered"])
            .args(args))
    };
    for (args, expected) in [
        (vec!["--timeout", "292271023y"], "--timeout: timeout "),
        (
            vec!["--delay", "20000y"],
            "--delay: delay 631152000000000 ms is too long",
        ),
        (vec!["--run-at", "99999-01-01T00:00:00Z"], "is not a time"),
        (
            vec!["--cost-estimate", "NaN"],
            "cost estimate must be a non-negative number, got NaN",
        ),
        (
            vec!["--cost-estimate", "-1"],
            "cost estimate must be a non-negative number, got -1",
        ),
        (
            vec!["--max-attempts", "0"],
            "max attempts 0 is outside 1..=1000",
        ),
        (
            vec!["--priority", "99999"],
            "priority 99999 is outside -1000..=1000",
        ),
    ] {
        let (code, _, stderr) = enqueue(&args);
        assert_eq!(code, 2, "{args:?} is refused: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    for (args, expected) in [
        (vec!["--workers", "0"], "--workers"),
        (vec!["--workers", "100000"], "--workers"),
        (vec!["--grace", "1000y"], "--grace"),
        (
            vec!["--default-timeout", "292271023y"],
            "--default-timeout: timeout",
        ),
        (vec!["--lease", "1000y"], "longer than the limit of 1d"),
        (
            vec!["--retention", "1000y"],
            "longer than the limit of 100 years",
        ),
        (
            vec!["--max-job-descendants", "0"],
            "max_job_descendants is 0",
        ),
    ] {
        let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle"]).args(&args));
        assert_eq!(code, 2, "{args:?} is refused: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    let (code, help, _) = run(env.qntx().args(["run", "--help"]));
    assert_eq!(code, 0);
    assert!(
        help.contains("Workers, concurrency and timeouts") && help.contains("N-1 workers"),
        "{help}"
    );
    let (code, _, stderr) =
        run(env
            .qntx()
            .args(["schedule", "add", "ghost/x", "--every", "292271023y"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("the interval must be 1 s to 366 days"),
        "{stderr}"
    );
    let stored = store::list_all(&env.store(), &qntx::pulse::JobFilter::default())
        .unwrap()
        .len();
    assert_eq!(stored, 0);
}

#[test]
fn job_show_names_the_node_of_each_attempt_and_says_when_no_node_serves_a_job() {
    let env = Env::with_plugins(&[&guests().probe]);
    let (code, id, stderr) = run(env.qntx().args(["job", "enqueue", "probe/ok"]));
    assert_eq!(code, 0, "{stderr}");
    let id = id.trim().to_owned();
    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle"]));
    assert_eq!(code, 0, "{stderr}");
    let shown = show(&env, &id);
    assert_eq!(shown["status"], "completed");
    let nodes = shown["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 1, "{shown}");
    assert_eq!(nodes[0]["attempt"], 1);
    let node = nodes[0]["node"].as_str().unwrap();
    assert!(node.starts_with("node-"), "{shown}");
    let (code, text, _) = run(env.qntx().args(["job", "show", &id]));
    assert_eq!(code, 0);
    assert!(
        text.contains(&format!("ran on     attempt 1 on {node} (host ")),
        "{text}"
    );
    assert!(
        !text.contains("no running node serves"),
        "a finished job waits for nothing: {text}"
    );

    let (code, ghost, stderr) =
        run(env
            .qntx()
            .args(["job", "enqueue", "ghost/x", "--allow-unregistered"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, text, _) = run(env.qntx().args(["job", "show", ghost.trim()]));
    assert_eq!(code, 0);
    assert!(
        text.contains("waiting    no running node serves 'ghost/x'"),
        "{text}"
    );
    assert_eq!(
        show(&env, ghost.trim())["serving_nodes"],
        serde_json::json!([])
    );
}
