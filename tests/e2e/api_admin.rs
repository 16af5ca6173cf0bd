//! The admin routes of the HTTP API, over real HTTP on loopback: handlers created from source
//! and from a component and run end to end, plugins, schedules and watchers, budgets and
//! tokens; what each scope may do; and the errors of bad requests.

use serde_json::{Value, json};

use crate::api::{ApiNode, token};
use crate::fixtures::{Env, eventually, guests};
use crate::handlers::toolchains;

fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error body: {body}"))
}

/// `POST PATH` with `bytes` as an `application/wasm` body: status and JSON body.
fn upload(node: &ApiNode, path: &str, secret: &str, bytes: &[u8]) -> (u16, Value) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(format!("{}{path}", node.base))
        .header("Authorization", format!("Bearer {secret}"))
        .header("Content-Type", "application/wasm")
        .send(bytes)
        .unwrap();
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap();
    (status, serde_json::from_str(&text).unwrap())
}

/// A Rust handler answering which version it is.
fn versioned(version: u32) -> String {
    format!(
        "use qntx_guest::{{Job, JobError, Value, json}};\n\n\
         fn handle(job: Job) -> Result<Value, JobError> {{\n    \
         Ok(json!({{ \"version\": {version}, \"echo\": job.payload }}))\n}}\n"
    )
}

/// Enqueue a job for `handler` over HTTP (once the node serves it) and wait until it is done.
fn run_job(node: &ApiNode, secret: &str, handler: &str, payload: Value) -> Value {
    let auth = Some(secret);
    let request = json!({ "handler": handler, "payload": payload });
    let id = eventually("the node serves the handler", || {
        let (status, enqueued) = node.call("POST", "/api/v1/jobs", auth, Some(&request));
        match status {
            201 => Some(enqueued["id"].as_str().unwrap().to_owned()),
            422 => None,
            _ => panic!("enqueue answered {status}: {enqueued}"),
        }
    });
    eventually("the job finishes", || {
        let (_, job) = node.call("GET", &format!("/api/v1/jobs/{id}"), auth, None);
        matches!(job["status"].as_str(), Some("completed" | "failed")).then_some(job)
    })
}

#[test]
fn a_handler_created_over_http_runs_and_is_rolled_back_and_removed() {
    let env = Env::with_plugins(&[]);
    let admin = token(&env, "ops", "admin");
    let reader = token(&env, "viewer", "read");
    let enqueuer = token(&env, "ci", "enqueue");
    let dir = toolchains();
    let node = ApiNode::start(&env, &["--toolchains", dir.to_str().unwrap()]);
    let create = |secret: &str, body: &Value| {
        node.call("POST", "/api/v1/handlers", Some(secret), Some(body))
    };
    let source = |version: u32| {
        json!({"name": "greet", "language": "rust", "source": versioned(version),
               "description": "says its version"})
    };

    // Only admin creates handlers.
    for secret in [&reader, &enqueuer] {
        let (status, body) = create(secret, &source(1));
        assert_eq!((status, error_code(&body)), (403, "forbidden"), "{body}");
    }
    let (status, first) = create(&admin, &source(1));
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["handler"], "handler/greet");
    assert_eq!(first["language"], "rust");
    assert_eq!(first["description"], "says its version");
    let sha1 = first["sha256"].as_str().unwrap().to_owned();

    let job = run_job(&node, &enqueuer, "handler/greet", json!({"n": 1}));
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(job["result"], json!({"version": 1, "echo": {"n": 1}}));
    assert_eq!(job["plugin_version"], sha1.as_str());

    let (status, list) = node.call("GET", "/api/v1/handlers", Some(&reader), None);
    assert_eq!(status, 200, "{list}");
    assert_eq!(list["handlers"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["handlers"][0]["sha256"], sha1.as_str());
    let (status, text) = node.raw(
        "GET",
        "/api/v1/handlers/greet/source",
        Some(&reader),
        "text/plain",
        None,
    );
    assert_eq!((status, text), (200, versioned(1)));

    // Source that does not compile is refused with the compiler's message; nothing is stored.
    let broken = json!({"name": "greet", "language": "rust",
                        "source": "fn handle(job: Job) -> u32 { job }"});
    let (status, body) = create(&admin, &broken);
    assert_eq!((status, error_code(&body)), (400, "invalid"), "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("compiling handler 'greet.rs' failed"),
        "{body}"
    );
    for (body, says) in [
        (
            json!({"name": "greet", "language": "cobol", "source": "x"}),
            "unknown language 'cobol'",
        ),
        (
            json!({"name": "Bad Name", "language": "rust", "source": versioned(1)}),
            "Bad Name",
        ),
        (
            json!({"name": "greet", "language": "rust"}),
            "missing field `source`",
        ),
    ] {
        let (status, answer) = create(&admin, &body);
        assert_eq!(status, 400, "{answer}");
        let message = answer["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{says}: {answer}");
    }

    let (status, second) = create(&admin, &source(2));
    assert_eq!(status, 201, "{second}");
    let sha2 = second["sha256"].as_str().unwrap().to_owned();
    assert_ne!(sha1, sha2);
    // The node follows the new version within a second; jobs until then run the old one.
    let job = eventually("a job runs version 2", || {
        let job = run_job(&node, &enqueuer, "handler/greet", json!({}));
        (job["plugin_version"] == sha2.as_str()).then_some(job)
    });
    assert_eq!(job["result"]["version"], 2, "{job}");

    // Rollbacks: an unknown version is 404, the default goes back one version.
    let rollback = |secret: &str, body: Option<&Value>| {
        node.call(
            "POST",
            "/api/v1/handlers/greet/rollback",
            Some(secret),
            body,
        )
    };
    let (status, body) = rollback(&enqueuer, None);
    assert_eq!(status, 403, "{body}");
    let (status, body) = rollback(&admin, Some(&json!({"to": "0123456789abcdef"})));
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    let (status, back) = rollback(&admin, None);
    assert_eq!(status, 200, "{back}");
    assert_eq!(back["sha256"], sha1.as_str());
    assert_eq!(back["rolled_back_from"], sha2.as_str());
    let (status, versions) = node.call(
        "GET",
        "/api/v1/handlers/greet/versions",
        Some(&reader),
        None,
    );
    assert_eq!(status, 200, "{versions}");
    let shas: Vec<&str> = versions["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(
        shas,
        [sha1.as_str(), sha2.as_str(), sha1.as_str()],
        "no broken version"
    );

    // Components: a body that is not WebAssembly, and a plugin announcing two handlers, are
    // refused with the reason, and nothing is stored.
    let (status, body) = upload(&node, "/api/v1/handlers?name=odd", &admin, b"hello");
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not WebAssembly")
    );
    let text = std::fs::read(&guests().text).unwrap();
    let (status, body) = upload(&node, "/api/v1/handlers?name=odd", &admin, &text);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("announces exactly one handler; this one announces 2"),
        "{body}"
    );
    let (status, body) = upload(&node, "/api/v1/handlers", &admin, &text);
    assert_eq!(status, 400, "a component needs a name: {body}");
    let (status, body) = node.call("GET", "/api/v1/handlers/odd", Some(&reader), None);
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    let (status, text_body) = node.raw(
        "POST",
        "/api/v1/handlers",
        Some(&admin),
        "text/plain",
        Some("fn handle() {}"),
    );
    assert_eq!(status, 415, "{text_body}");

    // Removed, the handler is gone from the listing and refused; a second removal conflicts.
    let (status, body) = node.call("DELETE", "/api/v1/handlers/greet", Some(&reader), None);
    assert_eq!(status, 403, "{body}");
    let (status, removed) = node.call("DELETE", "/api/v1/handlers/greet", Some(&admin), None);
    assert_eq!(status, 200, "{removed}");
    assert_eq!(removed["removed"], sha1.as_str());
    let (status, body) = node.call("GET", "/api/v1/handlers/greet", Some(&reader), None);
    assert_eq!(status, 404, "{body}");
    let (status, body) = node.call("DELETE", "/api/v1/handlers/greet", Some(&admin), None);
    assert_eq!((status, error_code(&body)), (409, "conflict"), "{body}");
    let (_, list) = node.call("GET", "/api/v1/handlers", Some(&reader), None);
    assert_eq!(list["handlers"], json!([]));

    // The stored component of version 1, uploaded as a component, is that version again.
    let bytes = qntx::handlers::store::component(&env.store(), &sha1)
        .unwrap()
        .expect("the component is stored");
    let (status, uploaded) = upload(
        &node,
        "/api/v1/handlers?name=greet&description=uploaded",
        &admin,
        &bytes,
    );
    assert_eq!(status, 201, "{uploaded}");
    assert_eq!(uploaded["sha256"], sha1.as_str());
    assert_eq!(uploaded["language"], "wasm");
    let job = run_job(&node, &enqueuer, "handler/greet", json!({}));
    assert_eq!(job["result"]["version"], 1, "{job}");
}

#[test]
fn tokens_are_created_listed_and_revoked_by_admin_tokens_only() {
    let env = Env::with_plugins(&[]);
    let admin = token(&env, "ops", "admin");
    let enqueuer = token(&env, "ci", "enqueue");
    let node = ApiNode::start(&env, &[]);
    let tokens = |secret: &str, body: Option<&Value>| {
        let method = if body.is_some() { "POST" } else { "GET" };
        node.call(method, "/api/v1/tokens", Some(secret), body)
    };

    let (status, body) = tokens(&enqueuer, None);
    assert_eq!(status, 403, "{body}");
    let (status, body) = tokens(&enqueuer, Some(&json!({"name": "x", "scope": "admin"})));
    assert_eq!(
        status, 403,
        "an enqueue token cannot make an admin one: {body}"
    );

    let (status, created) = tokens(&admin, Some(&json!({"name": "viewer", "scope": "read"})));
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["token"]["scope"], "read");
    let secret = created["secret"].as_str().unwrap().to_owned();
    let (status, me) = node.call("GET", "/api/v1/status", Some(&secret), None);
    assert_eq!(status, 200, "{me}");
    assert_eq!(
        (me["token"].as_str(), me["scope"].as_str()),
        (Some("viewer"), Some("read"))
    );
    let (status, body) = tokens(&secret, None);
    assert_eq!(status, 403, "{body}");

    for (body, code) in [
        (json!({"name": "viewer", "scope": "read"}), "conflict"),
        (json!({"name": "other", "scope": "root"}), "invalid"),
        (json!({"name": "bad name!", "scope": "read"}), "invalid"),
        (json!({"name": "other"}), "invalid"),
    ] {
        let (_, answer) = tokens(&admin, Some(&body));
        assert_eq!(error_code(&answer), code, "{body}: {answer}");
    }

    let (status, list) = tokens(&admin, None);
    assert_eq!(status, 200, "{list}");
    let names: Vec<&str> = list["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .map(|token| token["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 3, "{list}");
    assert!(!list.to_string().contains(&secret), "no secret is listed");

    let (status, revoked) = node.call("POST", "/api/v1/tokens/viewer/revoke", Some(&admin), None);
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked_at"].is_i64(), "{revoked}");
    let (status, _) = node.call("GET", "/api/v1/status", Some(&secret), None);
    assert_eq!(status, 401, "a revoked token fails at once");
    let (status, body) = node.call("POST", "/api/v1/tokens/viewer/revoke", Some(&admin), None);
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
}

#[test]
fn plugins_schedules_watchers_and_budgets_are_served_and_changed_with_admin_only() {
    let env = Env::with_plugins(&[&guests().probe]);
    let admin = token(&env, "ops", "admin");
    let reader = token(&env, "viewer", "read");
    let enqueuer = token(&env, "ci", "enqueue");
    let node = ApiNode::start(&env, &[]);
    let (read, adm) = (Some(reader.as_str()), Some(admin.as_str()));

    // Plugins, as the node recorded them.
    let (status, plugins) = node.call("GET", "/api/v1/plugins", read, None);
    assert_eq!(status, 200, "{plugins}");
    let probe = &plugins["plugins"][0];
    assert_eq!(
        (probe["name"].as_str(), probe["status"].as_str()),
        (Some("probe"), Some("loaded"))
    );
    assert!(
        probe["handlers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["name"] == "probe/ok")
    );
    let (status, inspection) = node.call("GET", "/api/v1/plugins/probe", read, None);
    assert_eq!(status, 200, "{inspection}");
    assert_eq!(inspection["loads"], true, "{inspection}");
    assert_eq!(inspection["sha256"], probe["sha256"]);
    let (status, body) = node.call("GET", "/api/v1/plugins/nope", read, None);
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");

    // Schedules: changed with admin only, since they enqueue jobs on their own.
    let schedule = json!({"handler": "probe/ok", "every": "1h", "payload": {"from": "cron"}});
    for secret in [&reader, &enqueuer] {
        let (status, body) = node.call("POST", "/api/v1/schedules", Some(secret), Some(&schedule));
        assert_eq!(status, 403, "{body}");
    }
    // A body of the wrong shape is 422, as every JSON body of the API.
    for (bad, expected, says) in [
        (
            json!({"handler": "probe/ok", "every": "10ms"}),
            400,
            "interval",
        ),
        (
            json!({"handler": "probe/ok", "every": "soon"}),
            400,
            "every",
        ),
        (json!({"handler": "probe/ok"}), 422, "missing field `every`"),
    ] {
        let (status, body) = node.call("POST", "/api/v1/schedules", adm, Some(&bad));
        assert_eq!(status, expected, "{bad}: {body}");
        assert!(
            body["error"]["message"].as_str().unwrap().contains(says),
            "{body}"
        );
    }
    let (status, added) = node.call("POST", "/api/v1/schedules", adm, Some(&schedule));
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["enabled"], true);
    let id = added["id"].as_str().unwrap().to_owned();
    let (_, list) = node.call("GET", "/api/v1/schedules", read, None);
    assert!(
        list["schedules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == id.as_str()),
        "{list}"
    );

    let (status, paused) = node.call("POST", &format!("/api/v1/schedules/{id}/pause"), adm, None);
    assert_eq!(
        (status, paused["enabled"].as_bool()),
        (200, Some(false)),
        "{paused}"
    );
    let (status, resumed) = node.call("POST", &format!("/api/v1/schedules/{id}/resume"), adm, None);
    assert_eq!(
        (status, resumed["enabled"].as_bool()),
        (200, Some(true)),
        "{resumed}"
    );
    let (status, body) = node.call("POST", &format!("/api/v1/schedules/{id}/run"), read, None);
    assert_eq!(status, 403, "{body}");
    let (status, enqueued) = node.call("POST", &format!("/api/v1/schedules/{id}/run"), adm, None);
    assert_eq!(status, 201, "{enqueued}");
    let job_id = enqueued["id"].as_str().unwrap().to_owned();
    let job = eventually("the schedule's job completes", || {
        let (_, job) = node.call("GET", &format!("/api/v1/jobs/{job_id}"), read, None);
        (job["status"] == "completed").then_some(job)
    });
    assert_eq!(job["result"], json!({"from": "cron"}));
    assert_eq!(job["source"], format!("schedule:{id}"));

    let (status, removed) = node.call("DELETE", &format!("/api/v1/schedules/{id}"), adm, None);
    assert_eq!(
        (status, removed["removed"].as_str()),
        (200, Some(id.as_str())),
        "{removed}"
    );
    for path in [
        format!("/api/v1/schedules/{id}"),
        format!("/api/v1/schedules/{id}/pause"),
    ] {
        let method = if path.ends_with("pause") {
            "POST"
        } else {
            "DELETE"
        };
        let (status, body) = node.call(method, &path, adm, None);
        assert_eq!(
            (status, error_code(&body)),
            (404, "not_found"),
            "{path}: {body}"
        );
    }
    let (status, watchers) = node.call("GET", "/api/v1/watchers", read, None);
    assert_eq!(status, 200, "{watchers}");
    assert!(watchers["watchers"].is_array(), "{watchers}");

    // Budgets: set in the store and in qntx.toml, as `qntx budget set` does.
    let (status, budgets) = node.call("GET", "/api/v1/budgets", read, None);
    assert_eq!(status, 200, "{budgets}");
    assert_eq!(budgets["headroom"], Value::Null, "no limits yet: {budgets}");
    let daily = json!({"limit": 5.0});
    let (status, body) = node.call("PUT", "/api/v1/budgets/daily", read, Some(&daily));
    assert_eq!(status, 403, "{body}");
    let (status, budgets) = node.call("PUT", "/api/v1/budgets/daily", adm, Some(&daily));
    assert_eq!(status, 200, "{budgets}");
    assert_eq!(budgets["limits"]["daily"], 5.0, "{budgets}");
    assert_eq!(budgets["headroom"], 5.0, "{budgets}");
    let settings = std::fs::read_to_string(env.data_dir().join("qntx.toml")).unwrap();
    assert!(settings.contains("daily = 5.0"), "{settings}");
    let (code, stdout, stderr) =
        crate::fixtures::run(env.qntx().args(["budget", "show", "--json"]));
    assert_eq!(code, 0, "{stderr}");
    let shown: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        shown["limits"], budgets["limits"],
        "the CLI reads the same limits"
    );

    let (status, body) = node.call("PUT", "/api/v1/budgets/yearly", adm, Some(&daily));
    assert_eq!((status, error_code(&body)), (404, "not_found"), "{body}");
    let (status, body) = node.call(
        "PUT",
        "/api/v1/budgets/weekly",
        adm,
        Some(&json!({"limit": -1})),
    );
    assert_eq!((status, error_code(&body)), (400, "invalid"), "{body}");
    let (status, body) = node.call(
        "PUT",
        "/api/v1/budgets/weekly",
        adm,
        Some(&json!({"max": 1})),
    );
    assert_eq!((status, error_code(&body)), (422, "invalid"), "{body}");
    let (status, budgets) = node.call(
        "PUT",
        "/api/v1/budgets/daily",
        adm,
        Some(&json!({"limit": null})),
    );
    assert_eq!(status, 200, "{budgets}");
    assert_eq!(budgets["limits"]["daily"], Value::Null, "{budgets}");
    assert_eq!(
        budgets["limits"]["weekly"],
        Value::Null,
        "a refused limit is not stored"
    );
    let settings = std::fs::read_to_string(env.data_dir().join("qntx.toml")).unwrap();
    assert!(!settings.contains("daily"), "{settings}");
}
