//! Dashboard sessions over real HTTP: signing in with a token sets an HttpOnly, same-site
//! cookie; the cookie reads the API, changes nothing without the session's CSRF token, ends at
//! sign-out and with its token's revocation; a read-only session's page has no buttons.

use std::time::Duration;

use serde_json::{Value, json};

use crate::api::{ApiNode, token};
use crate::fixtures::{Env, guests, run};

/// One answer: status, `Set-Cookie` and `Location` headers, body.
struct Answer {
    status: u16,
    set_cookie: Option<String>,
    location: Option<String>,
    body: String,
}

/// `METHOD base+path` with these headers and body, following no redirect.
fn send(node: &ApiNode, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(format!("{}{path}", node.base));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = agent
        .run(request.body(body.to_owned()).unwrap())
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|value| value.to_str().unwrap().to_owned())
    };
    let (set_cookie, location) = (header("set-cookie"), header("location"));
    Answer {
        status: response.status().as_u16(),
        set_cookie,
        location,
        body: response.body_mut().read_to_string().unwrap(),
    }
}

/// Sign in with `secret`: the `Cookie` header value of the session.
fn sign_in(node: &ApiNode, secret: &str) -> String {
    let form = format!("token={secret}");
    let answer = send(
        node,
        "POST",
        "/sign-in",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    );
    assert_eq!(answer.status, 303, "{}", answer.body);
    assert_eq!(answer.location.as_deref(), Some("/"));
    let cookie = answer.set_cookie.expect("signing in sets a cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(
            cookie.contains(attribute),
            "{attribute} missing from {cookie}"
        );
    }
    let pair = cookie.split(';').next().unwrap().to_owned();
    assert!(pair.starts_with("qntx_session=qntxs_"), "{pair}");
    assert!(
        !cookie.contains(secret),
        "the cookie carries the token itself"
    );
    pair
}

/// The CSRF token a signed-in page carries for its scripts.
fn csrf_of(node: &ApiNode, cookie: &str) -> String {
    let page = send(node, "GET", "/", &[("Cookie", cookie)], "");
    assert_eq!(page.status, 200, "{}", page.body);
    let start = page
        .body
        .find(r#"name="csrf-token" content=""#)
        .expect("a csrf meta tag")
        + r#"name="csrf-token" content=""#.len();
    page.body[start..start + 64].to_owned()
}

#[test]
fn a_session_reads_the_api_but_changes_nothing_without_its_csrf_token() {
    let env = Env::with_plugins(&[&guests().probe]);
    let secret = token(&env, "ops", "enqueue");
    let node = ApiNode::start(&env, &[]);

    let page = send(&node, "GET", "/", &[], "");
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/sign-in"))
    );
    let form = send(&node, "GET", "/sign-in", &[], "");
    assert_eq!(form.status, 200);
    assert!(form.body.contains(r#"name="token""#), "{}", form.body);

    let cookie = sign_in(&node, &secret);
    let status = send(&node, "GET", "/api/v1/status", &[("Cookie", &cookie)], "");
    assert_eq!(status.status, 200, "{}", status.body);
    let status: Value = serde_json::from_str(&status.body).unwrap();
    assert_eq!(
        (status["token"].as_str(), status["scope"].as_str()),
        (Some("ops"), Some("enqueue"))
    );

    let job = json!({"handler": "probe/ok", "delay": "1h"}).to_string();
    let json_type = ("Content-Type", "application/json");
    let refused = send(
        &node,
        "POST",
        "/api/v1/jobs",
        &[("Cookie", &cookie), json_type],
        &job,
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(refused.body.contains("CSRF"), "{}", refused.body);
    let wrong = send(
        &node,
        "POST",
        "/api/v1/jobs",
        &[
            ("Cookie", &cookie),
            json_type,
            ("X-CSRF-Token", &"0".repeat(64)),
        ],
        &job,
    );
    assert_eq!(wrong.status, 403, "{}", wrong.body);
    let (_, listed) = node.call("GET", "/api/v1/jobs", Some(&secret), None);
    assert_eq!(listed["jobs"], json!([]), "a refused request stored a job");

    let csrf = csrf_of(&node, &cookie);
    let enqueued = send(
        &node,
        "POST",
        "/api/v1/jobs",
        &[("Cookie", &cookie), json_type, ("X-CSRF-Token", &csrf)],
        &job,
    );
    assert_eq!(enqueued.status, 201, "{}", enqueued.body);
    let id = serde_json::from_str::<Value>(&enqueued.body).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let form_type = ("Content-Type", "application/x-www-form-urlencoded");
    let forged = send(
        &node,
        "POST",
        &format!("/jobs/{id}/pause"),
        &[("Cookie", &cookie), form_type],
        &format!("csrf={}", "0".repeat(64)),
    );
    assert_eq!(forged.status, 403, "{}", forged.body);
    let paused = send(
        &node,
        "POST",
        &format!("/jobs/{id}/pause"),
        &[("Cookie", &cookie), form_type],
        &format!("csrf={csrf}"),
    );
    assert_eq!(paused.status, 303, "{}", paused.body);
    assert_eq!(paused.location, Some(format!("/jobs/{id}")));
    let (_, job) = node.call("GET", &format!("/api/v1/jobs/{id}"), Some(&secret), None);
    assert_eq!(job["status"], "paused");
    let unknown = send(
        &node,
        "POST",
        &format!("/jobs/{id}/explode"),
        &[("Cookie", &cookie), form_type],
        &format!("csrf={csrf}"),
    );
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    let out = send(
        &node,
        "POST",
        "/sign-out",
        &[("Cookie", &cookie), form_type],
        &format!("csrf={csrf}"),
    );
    assert_eq!(
        (out.status, out.location.as_deref()),
        (303, Some("/sign-in"))
    );
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    let after = send(&node, "GET", "/api/v1/status", &[("Cookie", &cookie)], "");
    assert_eq!(
        after.status, 401,
        "a closed session still reads: {}",
        after.body
    );
    let page = send(
        &node,
        "GET",
        &format!("/jobs/{id}"),
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!(
        (page.status, page.location.as_deref()),
        (303, Some("/sign-in"))
    );
}

#[test]
fn a_bad_token_does_not_sign_in_and_revoking_a_token_ends_its_sessions() {
    let env = Env::with_plugins(&[]);
    let secret = token(&env, "viewer", "read");
    let node = ApiNode::start(&env, &[]);
    let form_type = ("Content-Type", "application/x-www-form-urlencoded");
    for bad in ["nonsense", "qntx_0000", ""] {
        let answer = send(
            &node,
            "POST",
            "/sign-in",
            &[form_type],
            &format!("token={bad}"),
        );
        assert_eq!(answer.status, 401, "{bad}: {}", answer.body);
        assert!(answer.set_cookie.is_none());
        assert!(
            answer.body.contains("unknown or revoked"),
            "{}",
            answer.body
        );
    }
    let missing = send(&node, "POST", "/sign-in", &[form_type], "");
    assert!(
        missing.status >= 400 && missing.set_cookie.is_none(),
        "{}",
        missing.status
    );

    let cookie = sign_in(&node, &secret);
    let page = send(&node, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("viewer"), "the page names the token");
    let (code, _, stderr) = run(env.qntx().args(["token", "revoke", "viewer"]));
    assert_eq!(code, 0, "{stderr}");
    let after = send(&node, "GET", "/", &[("Cookie", &cookie)], "");
    assert_eq!(
        (after.status, after.location.as_deref()),
        (303, Some("/sign-in"))
    );
    let api = send(&node, "GET", "/api/v1/status", &[("Cookie", &cookie)], "");
    assert_eq!(api.status, 401, "{}", api.body);
}

#[test]
fn bulk_actions_apply_to_the_ticked_jobs_or_to_every_job_matching_the_filter() {
    let env = Env::with_plugins(&[&guests().probe]);
    let ops = token(&env, "ops", "enqueue");
    let reader = token(&env, "reader", "read");
    let node = ApiNode::start(&env, &[]);
    let ids: Vec<String> = (0..4)
        .map(|_| {
            let job = json!({"handler": "probe/ok", "delay": "1h"});
            let (status, body) = node.call("POST", "/api/v1/jobs", Some(&ops), Some(&job));
            assert_eq!(status, 201, "{body}");
            body["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let status_of = |id: &str| {
        let (_, job) = node.call("GET", &format!("/api/v1/jobs/{id}"), Some(&ops), None);
        job["status"].as_str().unwrap().to_owned()
    };
    let cookie = sign_in(&node, &ops);
    let csrf = csrf_of(&node, &cookie);
    let form_type = ("Content-Type", "application/x-www-form-urlencoded");
    let bulk = |cookie: &str, body: String| {
        send(
            &node,
            "POST",
            "/jobs/bulk",
            &[("Cookie", cookie), form_type],
            &body,
        )
    };

    let paused = bulk(
        &cookie,
        format!("csrf={csrf}&do=pause:selected&id={}&id={}", ids[0], ids[1]),
    );
    assert_eq!(paused.status, 303, "{}", paused.body);
    assert_eq!(paused.location.as_deref(), Some("/jobs?done=pause%3A2%3A0"));
    let listed = send(
        &node,
        "GET",
        paused.location.as_deref().unwrap(),
        &[("Cookie", &cookie)],
        "",
    );
    assert!(listed.body.contains("pause: 2 jobs."), "{}", listed.body);
    assert_eq!(
        ids.iter().map(|id| status_of(id)).collect::<Vec<_>>(),
        ["paused", "paused", "queued", "queued"]
    );

    let again = bulk(
        &cookie,
        format!("csrf={csrf}&do=resume:selected&id={}&id={}", ids[0], ids[2]),
    );
    assert_eq!(
        again.location.as_deref(),
        Some("/jobs?done=resume%3A1%3A1"),
        "the queued job is skipped"
    );

    let cancelled = bulk(
        &cookie,
        format!("csrf={csrf}&do=cancel:matching&status=queued&handler=probe%2Fok"),
    );
    assert_eq!(cancelled.status, 303, "{}", cancelled.body);
    assert_eq!(
        cancelled.location.as_deref(),
        Some("/jobs?status=queued&handler=probe%2Fok&done=cancel%3A3%3A0")
    );
    assert_eq!(
        ids.iter().map(|id| status_of(id)).collect::<Vec<_>>(),
        ["cancelled", "paused", "cancelled", "cancelled"]
    );

    for (body, code) in [
        (format!("csrf={csrf}&do=pause:selected"), 400),
        (
            format!("csrf={csrf}&do=explode:selected&id={}", ids[1]),
            404,
        ),
        (
            format!("csrf={csrf}&do=pause:everything&id={}", ids[1]),
            400,
        ),
        (
            format!("csrf={csrf}&do=cancel:matching&status=sleeping"),
            400,
        ),
        (format!("do=cancel:selected&id={}", ids[1]), 403),
    ] {
        let refused = bulk(&cookie, body.clone());
        assert_eq!(refused.status, code, "{body}: {}", refused.body);
    }
    let read_only = sign_in(&node, &reader);
    let read_csrf = csrf_of(&node, &read_only);
    let page = send(&node, "GET", "/jobs", &[("Cookie", &read_only)], "");
    assert!(
        !page.body.contains(r#"name="do""#),
        "a read-only list has bulk buttons"
    );
    let refused = bulk(
        &read_only,
        format!("csrf={read_csrf}&do=cancel:selected&id={}", ids[1]),
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        status_of(&ids[1]),
        "paused",
        "a refused bulk action changed a job"
    );
}
