//! The dashboard in real headless Chromium: sign in with a token, watch a long job's progress
//! bar move on its page, cancel it with the button, see it cancelled; a read-only session sees
//! no buttons. Screenshots of the pages go to `target/screenshots/` for people to look at.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::json;

use crate::api::{ApiNode, token};
use crate::browser::{self, Browser};
use crate::fixtures::{Env, guests, skip_or_fail, workspace_root};

/// Where the screenshots go.
fn screenshot(name: &str) -> PathBuf {
    workspace_root().join("target/screenshots").join(name)
}

/// A browser signed in to `node` with `secret`, on the overview.
fn signed_in(node: &ApiNode, secret: &str) -> Browser {
    let browser = Browser::start();
    browser.goto(&format!("{}/", node.base));
    assert!(browser.url().ends_with("/sign-in"), "{}", browser.url());
    let field = browser.find("input[name=token]");
    browser.type_into(&field, secret);
    browser.click(&browser.find("button[type=submit]"));
    browser.find("section.counts");
    assert_eq!(browser.url(), format!("{}/", node.base));
    browser
}

/// The value of the job page's progress bar (0 while the page reloads).
fn progress(browser: &Browser) -> f64 {
    browser
        .property_now("progress[data-progress]", "value")
        .and_then(|value| value.as_f64())
        .unwrap_or(0.0)
}

/// Wait up to 30 s for `check` on `browser`.
fn until(what: &str, browser: &Browser, mut check: impl FnMut(&Browser) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check(browser) {
        assert!(
            Instant::now() < deadline,
            "never happened: {what} (on {})",
            browser.url()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The status the job page shows (empty while the page reloads: the script reloads it when
/// the status changes).
fn shown_status(browser: &Browser) -> String {
    browser
        .text_now("dl.facts [data-status]")
        .unwrap_or_default()
}

#[test]
fn a_signed_in_browser_watches_a_job_progress_and_cancels_it_with_the_button() {
    if let Err(reason) = browser::available() {
        return skip_or_fail(&reason);
    }
    let env = Env::with_plugins(&[&guests().probe]);
    let ops = token(&env, "ops", "enqueue");
    let viewer = token(&env, "viewer", "read");
    let node = ApiNode::start(&env, &[]);
    let (status, enqueued) = node.call(
        "POST",
        "/api/v1/jobs",
        Some(&ops),
        Some(&json!({"handler": "probe/sleep", "timeout": "3m", "payload": {"ms": 150_000}})),
    );
    assert_eq!(status, 201, "{enqueued}");
    let id = enqueued["id"].as_str().unwrap().to_owned();

    let browser = signed_in(&node, &ops);
    until("the overview counts the job", &browser, |b| {
        b.goto(&format!("{}/", node.base));
        b.text_now("[data-count=running]").as_deref() == Some("1")
    });
    browser.screenshot(&screenshot("overview.png"));

    browser.goto(&format!("{}/jobs/{id}", node.base));
    until("the job page shows it running", &browser, |b| {
        shown_status(b) == "running"
    });
    let first = progress(&browser);
    until("the progress bar moves without a reload", &browser, |b| {
        progress(b) > first
    });
    let second = progress(&browser);
    until("and moves again", &browser, |b| progress(b) > second);
    browser.screenshot(&screenshot("job-running.png"));

    browser.click(&browser.find("button[data-action=cancel]"));
    until("the page shows it cancelled", &browser, |b| {
        shown_status(b) == "cancelled"
    });
    assert!(
        browser.find_all("button[data-action]").is_empty(),
        "a cancelled job has no buttons"
    );
    browser.screenshot(&screenshot("job-cancelled.png"));
    let (_, job) = node.call("GET", &format!("/api/v1/jobs/{id}"), Some(&ops), None);
    assert_eq!(job["status"], "cancelled", "{job}");

    let (_, later) = node.call(
        "POST",
        "/api/v1/jobs",
        Some(&ops),
        Some(&json!({"handler": "probe/ok", "delay": "1h"})),
    );
    let later = later["id"].as_str().unwrap().to_owned();
    let reader = signed_in(&node, &viewer);
    reader.goto(&format!("{}/jobs/{later}", node.base));
    until("the page shows the job queued", &reader, |b| {
        shown_status(b) == "queued"
    });
    assert!(
        reader.find_all("button[data-action]").is_empty(),
        "a read-only session sees buttons"
    );
    reader.goto(&format!("{}/jobs", node.base));
    reader.find(&format!("tr[data-job='{later}']"));
    reader.screenshot(&screenshot("jobs.png"));
}
