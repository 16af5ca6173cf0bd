//! `qntx job list` from a user's side: filters combined, pages followed by the cursor it
//! prints on stderr, `--json` lines, and refusals of bad filters.

use qntx::pulse::{NewJob, store};
use serde_json::{Value, json};

use crate::fixtures::{Env, run};

/// An enqueued job: id, handler, source, and whether it was cancelled.
type Enqueued = (String, String, String, bool);

/// The cursor `job list` printed on stderr, if any.
fn cursor(stderr: &str) -> Option<String> {
    let line = stderr.lines().find(|line| line.contains("--after "))?;
    Some(line.rsplit(' ').next()?.to_owned())
}

/// Every page of `qntx job list ARGS --json`, following cursors: the ids in order, and how
/// many pages.
fn all_pages(env: &Env, args: &[&str]) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    for pages in 1.. {
        let mut command = env.qntx();
        command.args(["job", "list", "--json"]).args(args);
        if let Some(after) = &after {
            command.args(["--after", after]);
        }
        let (code, stdout, stderr) = run(&mut command);
        assert!(
            code == 0 || (code == 1 && stdout.is_empty()),
            "{code}: {stderr}"
        );
        for line in stdout.lines() {
            let job: Value = serde_json::from_str(line).expect("one JSON object per line");
            ids.push(job["id"].as_str().unwrap().to_owned());
        }
        after = cursor(&stderr);
        if after.is_none() {
            return (ids, pages);
        }
    }
    unreachable!()
}

#[test]
fn job_list_filters_combine_and_pages_follow_the_printed_cursor() {
    let env = Env::with_plugins(&[]);
    let conn = env.store();
    let mut jobs = Vec::new();
    for i in 0..14 {
        let job = NewJob {
            source: ["cli", "job:01ABC", "schedule:nightly"][i % 3].into(),
            ..NewJob::new(["t/a", "t/b"][i % 2], json!({ "i": i }))
        };
        let id = env.enqueue_job(&job);
        if i % 4 == 0 {
            store::cancel(&conn, &id, qntx::clock::now_ms()).unwrap();
        }
        jobs.push((id, job.handler, job.source, i % 4 == 0));
        // Ids of one millisecond are not ordered by enqueue time.
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let newest_first = |keep: &dyn Fn(&Enqueued) -> bool| -> Vec<String> {
        jobs.iter()
            .rev()
            .filter(|j| keep(j))
            .map(|j| j.0.clone())
            .collect()
    };

    let (ids, pages) = all_pages(&env, &["--limit", "3"]);
    assert_eq!(ids, newest_first(&|_| true));
    assert_eq!(pages, 5, "14 jobs, 3 a page");

    let (ids, pages) = all_pages(
        &env,
        &[
            "--status",
            "queued",
            "--status",
            "cancelled",
            "--handler",
            "t/a",
            "--source",
            "job:*",
            "--since",
            "1h",
            "--limit",
            "2",
        ],
    );
    assert_eq!(
        ids,
        newest_first(&|j| j.1 == "t/a" && j.2.starts_with("job:"))
    );
    assert_eq!(pages, ids.len().div_ceil(2));

    let (ids, _) = all_pages(&env, &["--status", "cancelled,paused", "--source", "cli"]);
    assert_eq!(ids, newest_first(&|j| j.3 && j.2 == "cli"));
    assert!(!ids.is_empty());

    // Between pages, new jobs change nothing in the pages after.
    let (code, first, stderr) = run(env.qntx().args(["job", "list", "--limit", "5"]));
    assert_eq!(code, 0, "{stderr}");
    let after = cursor(&stderr).expect("more than one page");
    env.enqueue("t/a", json!({}));
    let (rest, _) = all_pages(&env, &["--after", &after]);
    let listed: Vec<String> = first
        .lines()
        .map(|line| line.split_whitespace().next().unwrap().to_owned())
        .chain(rest)
        .collect();
    assert_eq!(listed, newest_first(&|_| true));

    let (code, stdout, stderr) = run(env.qntx().args(["job", "list", "--until", "2000-01-01"]));
    assert_eq!(
        (code, stdout.as_str()),
        (1, ""),
        "nothing matches: {stderr}"
    );
    assert!(cursor(&stderr).is_none());
}

#[test]
fn job_list_refuses_bad_filters_with_a_clear_message() {
    let env = Env::with_plugins(&[]);
    env.enqueue("t/a", json!({}));
    for (args, expected) in [
        (
            &["--limit", "0"][..],
            "a page of 0 jobs; pages hold 1 to 1000",
        ),
        (
            &["--limit", "1001"],
            "a page of 1001 jobs; pages hold 1 to 1000",
        ),
        (
            &["--after", "not-a-cursor"],
            "malformed job cursor 'not-a-cursor'",
        ),
        (
            &["--since", "2024-05-02", "--until", "2024-05-01"],
            "the time range is reversed",
        ),
        (&["--since", "soon"], "--since: 'soon' is not a time"),
        (&["--status", "queued,lost"], "unknown job status 'lost'"),
    ] {
        let (code, stdout, stderr) = run(env.qntx().args(["job", "list"]).args(args));
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}
