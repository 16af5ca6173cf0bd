//! The HTTP API of `qntx run`, over real HTTP on loopback: tokens and their scopes, jobs,
//! attestations, and the errors of bad requests.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::{Value, json};

use crate::fixtures::{Env, eventually, guests, run};

/// A `qntx run` serving HTTP on a free port; stopped when dropped.
pub struct ApiNode {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stderr: Option<JoinHandle<String>>,
}

/// What a node prints once it serves HTTP.
const SERVING: &str = "qntx: serving the HTTP API on ";

impl ApiNode {
    /// `qntx run --workers 2 ARGS` on `env`, once it serves HTTP.
    pub fn start(env: &Env, args: &[&str]) -> Self {
        let mut child = env
            .qntx()
            .args(["run", "--workers", "2"])
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("qntx run starts");
        let pipe = child.stderr.take().expect("stderr is piped");
        let (found, address) = mpsc::channel();
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                if let Some(base) = line.strip_prefix(SERVING) {
                    let _ = found.send(base.to_owned());
                }
                text.push_str(&line);
                text.push('\n');
            }
            text
        });
        let mut node = Self {
            child,
            base: String::new(),
            stderr: Some(stderr),
        };
        match address.recv_timeout(Duration::from_secs(120)) {
            Ok(base) => node.base = base,
            Err(_) => {
                let _ = node.child.kill();
                panic!("the node never served HTTP:\n{}", node.output());
            }
        }
        node
    }

    /// Stop the node (SIGKILL); what it wrote to stderr.
    pub fn output(&mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.stderr
            .take()
            .map(|thread| thread.join().unwrap())
            .unwrap_or_default()
    }

    /// `METHOD PATH` with `token` (if any) and a JSON `body` (if any): status and JSON body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> (u16, Value) {
        let body = body.map(Value::to_string);
        let (status, text) = self.raw(method, path, token, "application/json", body.as_deref());
        let json = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!("{method} {path} answered {status} with non-JSON {text:?}: {e}")
        });
        (status, json)
    }

    /// `METHOD PATH` with any body and content type: status and body text.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Option<&str>,
    ) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = format!("{}{path}", self.base);
        let mut request = ureq::http::Request::builder().method(method).uri(&url);
        if let Some(token) = token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        let request = request
            .header("Content-Type", content_type)
            .body(body.unwrap_or_default().to_owned())
            .unwrap();
        let mut response = agent
            .run(request)
            .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .unwrap();
        (status, text)
    }
}

impl Drop for ApiNode {
    /// Stop the node; when the test failed, show what the node logged.
    fn drop(&mut self) {
        let log = self.output();
        if std::thread::panicking() {
            eprintln!("the node's log:\n{log}");
        }
    }
}

/// A new token's secret, from `qntx token create NAME --scope SCOPE --json`.
pub fn token(env: &Env, name: &str, scope: &str) -> String {
    let (code, stdout, stderr) = run(env
        .qntx()
        .args(["token", "create", name, "--scope", scope, "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let created: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(created["token"]["scope"], scope);
    created["secret"].as_str().unwrap().to_owned()
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
}

#[test]
fn a_job_enqueued_over_http_runs_and_its_state_logs_and_listing_are_served() {
    let env = Env::with_plugins(&[&guests().probe]);
    let secret = token(&env, "ci", "enqueue");
    let node = ApiNode::start(&env, &[]);
    let auth = Some(secret.as_str());

    let (status, enqueued) = node.call(
        "POST",
        "/api/v1/jobs",
        auth,
        Some(&json!({"handler": "probe/ok", "payload": {"answer": 42}, "priority": 3})),
    );
    assert_eq!(status, 201, "{enqueued}");
    let id = enqueued["id"].as_str().unwrap().to_owned();
    assert_eq!(enqueued["existing"], false);

    let job = eventually("the job completes", || {
        let (status, job) = node.call("GET", &format!("/api/v1/jobs/{id}"), auth, None);
        assert_eq!(status, 200, "{job}");
        (job["status"] == "completed").then_some(job)
    });
    assert_eq!(job["result"], json!({"answer": 42}));
    assert_eq!(job["source"], "api");
    assert_eq!(job["priority"], 3);

    let (status, page) = node.call("GET", "/api/v1/jobs?status=completed&limit=10", auth, None);
    assert_eq!(status, 200, "{page}");
    let ids: Vec<&str> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [id.as_str()]);

    let (status, logs) = node.call("GET", &format!("/api/v1/jobs/{id}/logs"), auth, None);
    assert_eq!(status, 200, "{logs}");
    let lines = logs["lines"].as_array().unwrap();
    assert!(!lines.is_empty(), "{logs}");
    let last = lines.last().unwrap()["number"].as_i64().unwrap();
    let (_, after) = node.call(
        "GET",
        &format!("/api/v1/jobs/{id}/logs?after={last}"),
        auth,
        None,
    );
    assert_eq!(after["lines"], json!([]), "nothing after the last line");

    // The node's metrics count the job and the requests, by handler and route, never by id.
    let (status, text) = node.raw("GET", "/metrics", auth, "text/plain", None);
    assert_eq!(status, 200, "{text}");
    let finished = text
        .lines()
        .find(|line| {
            line.starts_with("qntx_jobs_finished_total{")
                && line.contains(r#"handler="probe/ok""#)
                && line.contains(r#"outcome="completed""#)
        })
        .unwrap_or_else(|| panic!("no finished count in:\n{text}"));
    assert!(finished.ends_with(" 1"), "{finished}");
    assert!(
        text.lines()
            .any(|line| line.starts_with("qntx_http_requests_total{")
                && line.contains(r#"route="/api/v1/jobs/{id}""#)),
        "{text}"
    );
    assert!(!text.contains(&id), "a job id is never a label");
    let (status, _) = node.raw("GET", "/metrics", None, "text/plain", None);
    assert_eq!(status, 401, "metrics need a token too");

    // A unique request that matches an active job answers that job, with 200.
    let paused = json!({"handler": "probe/sleep", "payload": {"ms": 60000}, "unique": true,
                        "source": "nightly", "delay": "1h"});
    let (first, one) = node.call("POST", "/api/v1/jobs", auth, Some(&paused));
    let (again, two) = node.call("POST", "/api/v1/jobs", auth, Some(&paused));
    assert_eq!((first, again), (201, 200), "{one} {two}");
    assert_eq!(one["id"], two["id"]);
    assert_eq!(two["existing"], true);
}

#[test]
fn a_batch_is_enqueued_all_or_none_and_its_ids_keep_the_order() {
    let env = Env::with_plugins(&[&guests().probe]);
    let secret = token(&env, "loader", "enqueue");
    let node = ApiNode::start(&env, &[]);
    let auth = Some(secret.as_str());
    let count = |node: &ApiNode| {
        let (_, page) = node.call("GET", "/api/v1/jobs?limit=1000", auth, None);
        page["jobs"].as_array().unwrap().len()
    };

    let jobs: Vec<Value> = (0..50)
        .map(|i| json!({"handler": "probe/ok", "payload": {"i": i}}))
        .collect();
    let (status, answer) = node.call(
        "POST",
        "/api/v1/jobs/batch",
        auth,
        Some(&json!({"jobs": jobs})),
    );
    assert_eq!(status, 201, "{answer}");
    let ids: Vec<String> = answer["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|job| job["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 50);
    for (i, id) in ids.iter().enumerate() {
        let (_, job) = node.call("GET", &format!("/api/v1/jobs/{id}"), auth, None);
        assert_eq!(
            job["payload"],
            json!({"i": i}),
            "the ids are in the order of the request"
        );
    }
    eventually("the batch completes", || {
        let (_, page) = node.call(
            "GET",
            "/api/v1/jobs?status=completed&limit=1000",
            auth,
            None,
        );
        (page["jobs"].as_array().unwrap().len() == 50).then_some(())
    });

    let before = count(&node);
    let bad = json!({"jobs": [
        {"handler": "probe/ok"},
        {"handler": "probe/ok"},
        {"handler": "probe/ok", "priority": 5000},
    ]});
    let (status, error) = node.call("POST", "/api/v1/jobs/batch", auth, Some(&bad));
    assert_eq!(status, 400, "{error}");
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("jobs[2]") && message.contains("priority 5000"),
        "{message}"
    );
    let unserved = json!({"jobs": [{"handler": "probe/ok"}, {"handler": "nobody/home"}]});
    let (status, error) = node.call("POST", "/api/v1/jobs/batch", auth, Some(&unserved));
    assert_eq!((status, error_code(&error)), (422, "unserved"), "{error}");
    let (status, error) = node.call(
        "POST",
        "/api/v1/jobs/batch",
        auth,
        Some(&json!({"jobs": []})),
    );
    assert_eq!(status, 400, "{error}");
    assert_eq!(count(&node), before, "a refused batch enqueues nothing");
}

#[test]
fn every_route_but_health_needs_a_token_whose_scope_allows_it() {
    let env = Env::with_plugins(&[&guests().probe]);
    let reader = token(&env, "dashboard", "read");
    let writer = token(&env, "app", "enqueue");
    let node = ApiNode::start(&env, &[]);
    let job = json!({"handler": "probe/ok"});

    let (status, health) = node.call("GET", "/api/v1/health", None, None);
    assert_eq!((status, &health), (200, &json!({"ok": true})));

    for (method, path) in [
        ("GET", "/api/v1/status"),
        ("GET", "/api/v1/jobs"),
        ("POST", "/api/v1/jobs"),
        ("POST", "/api/v1/jobs/batch"),
        ("GET", "/api/v1/attestations"),
        ("POST", "/api/v1/attestations"),
    ] {
        let (status, body) = node.call(method, path, None, Some(&job));
        assert_eq!(
            (status, error_code(&body)),
            (401, "unauthorized"),
            "{method} {path}"
        );
        let (status, body) = node.call(method, path, Some("qntx_0000"), Some(&job));
        assert_eq!(
            (status, error_code(&body)),
            (401, "unauthorized"),
            "{method} {path}"
        );
    }

    let (status, me) = node.call("GET", "/api/v1/status", Some(&reader), None);
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["token"].as_str(), me["scope"].as_str()),
        (Some("dashboard"), Some("read"))
    );
    assert!(
        me["node_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{me}"
    );

    let (status, body) = node.call("POST", "/api/v1/jobs", Some(&reader), Some(&job));
    assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("needs enqueue"),
        "{body}"
    );
    let attestation = json!({"subjects": ["x"]});
    let (status, _) = node.call(
        "POST",
        "/api/v1/attestations",
        Some(&reader),
        Some(&attestation),
    );
    assert_eq!(status, 403);

    let (status, enqueued) = node.call("POST", "/api/v1/jobs", Some(&writer), Some(&job));
    assert_eq!(status, 201, "{enqueued}");
    let id = enqueued["id"].as_str().unwrap();
    let (status, _) = node.call("GET", &format!("/api/v1/jobs/{id}"), Some(&reader), None);
    assert_eq!(status, 200);

    // Revoked from the CLI while the node runs: refused at the next request.
    let (code, _, stderr) = run(env.qntx().args(["token", "revoke", "app"]));
    assert_eq!(code, 0, "{stderr}");
    let (status, body) = node.call("POST", "/api/v1/jobs", Some(&writer), Some(&job));
    assert_eq!((status, error_code(&body)), (401, "unauthorized"), "{body}");
}

#[test]
fn bad_requests_get_a_specific_json_error_and_change_nothing() {
    let env = Env::with_plugins(&[&guests().probe]);
    let secret = token(&env, "ci", "enqueue");
    let node = ApiNode::start(&env, &[]);
    let auth = Some(secret.as_str());
    let post = |body: &str, content_type: &str| {
        let (status, text) = node.raw("POST", "/api/v1/jobs", auth, content_type, Some(body));
        let json: Value = serde_json::from_str(&text).unwrap_or_else(|_| panic!("{text:?}"));
        (status, json)
    };

    let (status, body) = post("{\"handler\": ", "application/json");
    assert_eq!((status, error_code(&body)), (400, "invalid"), "{body}");
    let (status, body) = post(
        r#"{"handler": "probe/ok", "colour": "red"}"#,
        "application/json",
    );
    assert_eq!((status, error_code(&body)), (400, "invalid"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{body}"
    );
    let (status, body) = post(r#"{"handler": "probe/ok"}"#, "text/plain");
    assert_eq!(
        (status, error_code(&body)),
        (415, "unsupported_media_type"),
        "{body}"
    );
    let (status, body) = post(
        r#"{"handler": "probe/ok", "timeout": "ages"}"#,
        "application/json",
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("'ages' is not a duration")
    );
    let (status, body) = post(r#"{"handler": "nobody/home"}"#, "application/json");
    assert_eq!((status, error_code(&body)), (422, "unserved"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("probe/ok"),
        "names what is known"
    );
    let (status, body) = post(
        r#"{"handler": "nobody/home", "allow_unregistered": true}"#,
        "application/json",
    );
    assert_eq!(status, 201, "allow_unregistered skips the check: {body}");

    let huge = format!(
        r#"{{"handler": "probe/ok", "payload": "{}"}}"#,
        "x".repeat(33 << 20)
    );
    let (status, body) = post(&huge, "application/json");
    assert_eq!((status, error_code(&body)), (413, "too_large"), "{body}");

    let (status, body) = node.call("GET", "/api/v1/jobs/01NOSUCHJOB", auth, None);
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    let (status, body) = node.call("GET", "/api/v1/nothing-here", auth, None);
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    let (status, body) = node.call("GET", "/api/v1/jobs?status=sleeping", auth, None);
    assert_eq!((status, error_code(&body)), (400, "invalid"), "{body}");
    let (status, body) = node.call("GET", "/api/v1/jobs?limit=0", auth, None);
    assert_eq!((status, error_code(&body)), (400, "invalid"), "{body}");

    let (_, done) = node.call(
        "POST",
        "/api/v1/jobs",
        auth,
        Some(&json!({"handler": "probe/ok"})),
    );
    let id = done["id"].as_str().unwrap();
    eventually("the job completes", || {
        let (_, job) = node.call("GET", &format!("/api/v1/jobs/{id}"), auth, None);
        (job["status"] == "completed").then_some(())
    });
    let (status, body) = node.call("POST", &format!("/api/v1/jobs/{id}/cancel"), auth, None);
    assert_eq!((status, error_code(&body)), (409, "conflict"), "{body}");
    let (status, body) = node.call(
        "POST",
        &format!("/api/v1/jobs/{id}/retry"),
        auth,
        Some(&json!({"attempts": 0})),
    );
    assert_eq!((status, error_code(&body)), (400, "invalid"), "{body}");
    let (_, job) = node.call("GET", &format!("/api/v1/jobs/{id}"), auth, None);
    assert_eq!(
        job["status"], "completed",
        "refused requests left the job as it was"
    );
}

#[test]
fn jobs_are_paused_resumed_cancelled_and_retried_over_http() {
    let env = Env::with_plugins(&[&guests().probe]);
    let secret = token(&env, "ops", "enqueue");
    let node = ApiNode::start(&env, &[]);
    let auth = Some(secret.as_str());
    let enqueue = |job: Value| {
        let (status, body) = node.call("POST", "/api/v1/jobs", auth, Some(&job));
        assert_eq!(status, 201, "{body}");
        body["id"].as_str().unwrap().to_owned()
    };
    let steer = |id: &str, action: &str| {
        let (status, body) = node.call("POST", &format!("/api/v1/jobs/{id}/{action}"), auth, None);
        assert_eq!(status, 200, "{action}: {body}");
        body
    };

    let later = enqueue(json!({"handler": "probe/ok", "delay": "1h"}));
    assert_eq!(steer(&later, "pause")["status"], "paused");
    assert_eq!(steer(&later, "resume")["status"], "queued");
    let cancelled = steer(&later, "cancel");
    assert_eq!(cancelled["cancelled"], json!([later]));

    let failing =
        enqueue(json!({"handler": "probe/fail", "payload": {"message": "no"}, "max_attempts": 1}));
    eventually("the job fails", || {
        let (_, job) = node.call("GET", &format!("/api/v1/jobs/{failing}"), auth, None);
        (job["status"] == "failed").then_some(())
    });
    let (status, retried) = node.call(
        "POST",
        &format!("/api/v1/jobs/{failing}/retry"),
        auth,
        Some(&json!({"attempts": 2})),
    );
    assert_eq!(status, 200, "{retried}");
    assert_eq!(retried["status"], "queued");
    assert_eq!(retried["max_attempts"], 3);
}

#[test]
fn attestations_are_recorded_and_queried_with_the_ax_grammar_in_one_string() {
    let env = Env::with_plugins(&[&guests().probe]);
    let secret = token(&env, "bob", "enqueue");
    let node = ApiNode::start(&env, &[]);
    let auth = Some(secret.as_str());

    let claim = json!({"subjects": ["ALICE"], "predicates": ["author"], "contexts": ["New York"],
                       "attributes": {"stars": 5}});
    let (status, stored) = node.call("POST", "/api/v1/attestations", auth, Some(&claim));
    assert_eq!(status, 201, "{stored}");
    assert_eq!(
        stored["actors"],
        json!(["bob"]),
        "the token's name speaks by default"
    );
    assert_eq!(stored["source"], "qntx-api");
    let id = stored["id"].as_str().unwrap();
    let (status, read) = node.call("GET", &format!("/api/v1/attestations/{id}"), auth, None);
    assert_eq!((status, &read), (200, &stored));
    let other = json!({"subjects": ["CAROL"], "predicates": ["author"]});
    assert_eq!(
        node.call("POST", "/api/v1/attestations", auth, Some(&other))
            .0,
        201
    );

    let (status, page) = node.call(
        "GET",
        "/api/v1/attestations?ax=alice%20is%20author%20of%20%22new%20york%22%20by%20bob",
        auth,
        None,
    );
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["attestations"], json!([stored]));
    let (_, both) = node.call(
        "GET",
        "/api/v1/attestations?ax=is%20author&limit=1",
        auth,
        None,
    );
    assert_eq!(both["attestations"].as_array().unwrap().len(), 1);
    let cursor = both["next_cursor"].as_str().expect("a second page");
    let (_, rest) = node.call(
        "GET",
        &format!("/api/v1/attestations?ax=is%20author&limit=1&cursor={cursor}"),
        auth,
        None,
    );
    assert_eq!(rest["attestations"].as_array().unwrap().len(), 1);
    assert_ne!(rest["attestations"][0]["id"], both["attestations"][0]["id"]);

    for (query, expected) in [
        ("ax=ALICE%20of%20%22New", "not closed"),
        ("ax=ALICE%20sinc%20yesterday", "sinc"),
        ("cursor=garbage", "malformed cursor"),
        ("limit=5000", "limit 5000"),
    ] {
        let (status, body) = node.call("GET", &format!("/api/v1/attestations?{query}"), auth, None);
        assert_eq!(
            (status, error_code(&body)),
            (400, "invalid"),
            "{query}: {body}"
        );
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(expected), "{query}: {message}");
    }
    let reserved = json!({"subjects": ["x"], "actors": ["plugin:text"]});
    let (status, body) = node.call("POST", "/api/v1/attestations", auth, Some(&reserved));
    assert_eq!((status, error_code(&body)), (400, "invalid"), "{body}");
    let (status, body) = node.call(
        "POST",
        "/api/v1/attestations",
        auth,
        Some(&json!({"subjects": []})),
    );
    assert_eq!((status, error_code(&body)), (400, "invalid"), "{body}");
}

#[test]
fn a_node_refuses_an_address_it_cannot_bind_or_must_not_serve_without_tokens() {
    let env = Env::with_plugins(&[&guests().probe]);
    let (code, _, stderr) = run(env
        .qntx()
        .args(["run", "--until-idle", "--http", "0.0.0.0:0"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("other machines can reach") && stderr.contains("qntx token create"),
        "{stderr}"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle", "--http", &addr]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot serve HTTP on {addr}")) && stderr.contains("--no-http"),
        "{stderr}"
    );

    let (code, _, stderr) = run(env.qntx().args(["run", "--until-idle", "--no-http"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("serving the HTTP API"), "{stderr}");

    token(&env, "fleet", "read");
    let (code, _, stderr) = run(env
        .qntx()
        .args(["run", "--until-idle", "--http", "0.0.0.0:0"]));
    assert_eq!(
        code, 0,
        "with a token the node serves every address: {stderr}"
    );
    assert!(
        stderr.contains("serving the HTTP API on http://0.0.0.0:"),
        "{stderr}"
    );
}

#[test]
fn tokens_are_created_listed_and_revoked_from_the_cli() {
    let env = Env::with_plugins(&[]);
    let (code, stdout, stderr) = run(env.qntx().args(["token", "list"]));
    assert_eq!((code, stdout.as_str()), (1, ""));
    assert!(stderr.contains("no tokens yet"), "{stderr}");

    let (code, secret, stderr) = run(env
        .qntx()
        .args(["token", "create", "grafana", "--scope", "read"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        secret.trim().starts_with("qntx_") && secret.trim().len() == 69,
        "{secret}"
    );
    assert!(stderr.contains("shown only now"), "{stderr}");

    let (code, _, stderr) = run(env
        .qntx()
        .args(["token", "create", "grafana", "--scope", "admin"]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("a token named 'grafana' exists"),
        "{stderr}"
    );
    let (code, _, stderr) =
        run(env
            .qntx()
            .args(["token", "create", "two words", "--scope", "read"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("must be 1 to 64 characters"), "{stderr}");
    let (code, _, stderr) = run(env.qntx().args(["token", "create", "x", "--scope", "root"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown scope 'root'"), "{stderr}");

    let (code, listed, _) = run(env.qntx().args(["token", "list", "--json"]));
    assert_eq!(code, 0);
    let token: Value = serde_json::from_str(listed.trim()).unwrap();
    assert_eq!(
        (token["name"].as_str(), token["scope"].as_str()),
        (Some("grafana"), Some("read"))
    );
    assert!(
        !listed.contains(secret.trim()),
        "the secret is never listed"
    );

    let (code, _, stderr) = run(env.qntx().args(["token", "revoke", "grafana"]));
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(env.qntx().args(["token", "revoke", "grafana"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("no token named 'grafana'"), "{stderr}");
    let (_, listed, _) = run(env.qntx().args(["token", "list"]));
    assert!(
        listed.contains("grafana") && listed.contains("revoked"),
        "{listed}"
    );
    let (code, _, stderr) = run(env
        .qntx()
        .args(["token", "create", "grafana", "--scope", "admin"]));
    assert_eq!(code, 0, "a revoked token's name is free again: {stderr}");
}
