//! Every API route, walked as four people who must be refused: a builder, a reviewer without a
//! grant (signed in), a reviewer whose grant was revoked (through a `review` token, which outlives
//! the revocation), and an expired token. Each request carries a body the route would accept, so
//! a refusal can only come from the guard: an answer of 401, a 403 in the guard's words, or a 404
//! "no such pin" with `access.denied` recorded. Nothing is ever answered 2xx, except the few
//! routes a builder is for, the public keys and the API's description, which any account reads,
//! and the lookups by hash, which answer with nothing of a pin the caller may not see.

use crate::api::routed_api_paths;
use crate::helpers::*;
use app::model::{Role, Scope};
use clearroom::auth::Password;
use clearroom::domain::{Actor, TokenRequest};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// Routes every signed-in person may read: the public keys and the API's own description.
const ANY_ACCOUNT: [&str; 3] = ["/api/v1/keys", "/api/v1/log/key", "/api/v1/openapi.json"];

/// What a builder is for (recording builds; asking what a hash is). Security issue defect 11 narrows
/// what the last two show a builder.
const BUILDER_MAY: [(&str, &str); 3] = [
    ("POST", "/api/v1/pins/{pin}/builds"),
    ("GET", "/api/v1/artifacts/{sha256}"),
    ("GET", "/api/v1/attestations/{sha256}"),
];

/// Lookups by hash across pins: they answer what the caller may see of each pin, so a person who
/// may see none of them gets an empty answer (which says nothing of the pins), never their records.
const LOOKUPS: [(&str, &str); 2] =
    [("/api/v1/artifacts/{sha256}", "origins"), ("/api/v1/attestations/{sha256}", "envelopes")];

/// The words the guard refuses with (`domain::guard`), and nothing else a route might say.
const GUARD_WORDS: [&str; 14] = [
    "there is no such comment",
    "only staff",
    "you may not read source",
    "builders take no part",
    "this API token lacks the",
    "an API token cannot do this",
    "there is no such pin, or you have no access to it",
    "regulators oversee reviews",
    "reviewers mark files reviewed",
    "reviewers give verdicts",
    "staff answer threads",
    "only staff and regulators",
    "only staff may",
    "only supervisors",
];

const SHA: &str = "0000000000000000000000000000000000000000000000000000000000000001";

/// The concrete request for a route: its path with ids filled in, and a body it would accept.
fn request_for(path: &str, method: &str, comment: i64) -> (String, Option<Value>) {
    let concrete = path
        .replace("{pin}", "1")
        .replace("{a}", "1")
        .replace("{b}", "1")
        .replace("{sha256}", SHA)
        .replace("{id}", &comment.to_string())
        .replace("{index}", "0")
        .replace("{log}", "1")
        .replace("{name}", "count")
        .replace("{username}", "staff")
        .replace("{path}", "README.md");
    let concrete = match path {
        "/api/v1/pins/{pin}/search" => format!("{concrete}?q=count"),
        "/api/v1/pins/{pin}/files" => format!("{concrete}?q=main"),
        "/api/v1/log/entries" => format!("{concrete}?start=0&end=1"),
        "/api/v1/log/proof/inclusion" => format!("{concrete}?index=0&size=1"),
        "/api/v1/log/proof/consistency" => format!("{concrete}?from=1&to=2"),
        "/api/v1/log/tile/{path}" => "/api/v1/log/tile/0/000.p/1".into(),
        _ => concrete,
    };
    let body = match (method, path) {
        ("POST", "/api/v1/pins/{pin}/comments") => Some(json!({"path": "README.md", "body": "hello"})),
        ("POST", "/api/v1/comments/{id}/state") => Some(json!({"state": "resolved"})),
        ("POST", "/api/v1/comments/{id}/versions") => Some(json!({"body": "again"})),
        ("POST", "/api/v1/pins/{pin}/verdicts") => Some(json!({"verdict": "concerns", "summary": "s"})),
        ("POST", "/api/v1/exports" | "/api/v1/exports/estimate") => Some(json!({"pins": [1]})),
        ("POST", "/api/v1/pins/{pin}/builds") => Some(json!({"name": "server", "platform": "linux", "sha256": SHA})),
        ("POST", "/api/v1/pins/{pin}/releases") => {
            Some(json!({"version": "1.0", "artifacts": [{"name": "server", "platform": "linux", "sha256": SHA}]}))
        }
        ("POST", "/api/v1/releases/{id}/decisions") => Some(
            json!({"type": "https://clearroom.dev/release-signature/v1", "dossier_sha256": SHA, "keyid": SHA, "sig": "AA=="}),
        ),
        ("POST", "/api/v1/users/{username}/keys") => Some(json!({"vkey": "sup1+00000000+AQ=="})),
        ("POST", "/api/v1/grants") => Some(json!({"username": "outsider", "pins": [1], "until": "2036-01-01T00:00"})),
        ("POST", "/api/v1/pins/{pin}/sarif") => Some(json!({"version": "2.1.0", "runs": []})),
        ("POST", "/api/v1/pins/{pin}/requirements") => Some(json!([{"id": "W.1", "title": "walk", "text": ""}])),
        ("POST", "/api/v1/pins/{pin}/sarif/{log}/results/{index}/triage") => {
            Some(json!({"state": "not_useful", "reason": "walk"}))
        }
        _ => None,
    };
    (concrete, body)
}

fn refused_by_the_guard(status: StatusCode, body: &Value) -> bool {
    let words = body["error"].as_str().unwrap_or("");
    match status {
        StatusCode::UNAUTHORIZED => true,
        StatusCode::FORBIDDEN | StatusCode::NOT_FOUND => GUARD_WORDS.iter().any(|w| words.contains(w)),
        _ => false,
    }
}

#[tokio::test]
async fn every_api_route_refuses_builders_strangers_revoked_reviewers_and_expired_tokens_in_the_guard() {
    let app = spawn_app().await;
    app.domain
        .admin()
        .create_user(Actor::Operator, "builder", Role::Builder, Some(Password::new(PASSWORD.into())))
        .await
        .unwrap();
    let builder = app.token("builder").await;
    // A comment at the pin, so the comment routes have one to refuse.
    let (reviewer, csrf) = signed_in(&app, "reviewer").await;
    let response = reviewer
        .post(app.url("/api/v1/pins/1/comments"))
        .header("origin", &app.address)
        .header("x-csrf-token", &csrf)
        .json(&json!({"path": "README.md", "body": "first"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let comment = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    // The revoked reviewer's token: made while the grant held, kept after the revocation.
    let scopes = [Scope::Review];
    let revoked = app
        .domain
        .access()
        .create_token(Actor::Operator, "reviewer", TokenRequest { scopes: &scopes, days: 30, label: "revoked" })
        .await
        .unwrap();
    let grant = app.grants().await.into_iter().find(|g| g.reviewer == "reviewer").unwrap();
    app.domain.access().revoke_grant(Actor::Operator, grant.id, Some("walk")).await.unwrap();
    let expiring = app.token("regulator").await;
    let (outsider, outsider_csrf) = signed_in(&app, "outsider").await;

    // A room build and a report of the pin, with the comment's id, so their routes have one to refuse.
    let id = comment.to_string();
    app.execute_sql(&[
        &format!("INSERT INTO room_builds (id, pin_id, recipe, recipe_digest, state, created_at) VALUES ({id}, 1, '{{}}', 'x', 'failed', 0)"),
        &format!("INSERT INTO build_diffs (id, pin_id, name, platform, sha256_a, sha256_b, state, html_sha256, created_at) VALUES ({id}, 1, 'a', '', '0', '1', 'done', '{SHA}', 0)"),
    ])
    .await;
    let routes = routed_api_paths();
    assert!(routes.len() >= 25, "the walk found too few routes: {routes:?}");
    // Nobody unknown reads anything of the API.
    for (path, _) in &routes {
        let (url, _) = request_for(path, "GET", comment);
        let response = bare_client().get(app.url(&url)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "anonymous GET {url}");
    }

    async fn walk(
        app: &TestApp,
        who: &str,
        send: &(dyn Fn(Method, String, Option<Value>) -> reqwest::RequestBuilder + Sync),
        comment: i64,
        routes: &[(String, Vec<String>)],
    ) -> usize {
        let mut walked = 0;
        for (path, methods) in routes {
            if ANY_ACCOUNT.contains(&path.as_str()) && who != "expired token" {
                continue;
            }
            for method in methods {
                let method_name = method.to_uppercase();
                let allowed = who == "builder" && BUILDER_MAY.contains(&(method_name.as_str(), path.as_str()));
                let (url, body) = request_for(path, &method_name, comment);
                let before = app.events("access.denied").await.len();
                let response = send(Method::from_bytes(method_name.as_bytes()).unwrap(), app.url(&url), body)
                    .send()
                    .await
                    .unwrap();
                let status = response.status();
                let answer: Value = response.json().await.unwrap_or(Value::Null);
                walked += 1;
                if allowed {
                    assert!(
                        status.is_success() || status == StatusCode::NOT_FOUND,
                        "{who}: {method_name} {url} is a builder's: {status} {answer}"
                    );
                    continue;
                }
                let nothing_shown = LOOKUPS.iter().any(|(lookup, list)| {
                    lookup == path && status == StatusCode::OK && answer[*list].as_array().is_some_and(Vec::is_empty)
                });
                assert!(
                    refused_by_the_guard(status, &answer) || nothing_shown,
                    "{who}: {method_name} {url} answered {status} {answer}"
                );
                if status == StatusCode::NOT_FOUND {
                    assert!(
                        app.events("access.denied").await.len() > before,
                        "{who}: {method_name} {url}: a 404 without its access.denied"
                    );
                }
            }
        }
        walked
    }

    let bearer = |token: String| {
        move |method: Method, url: String, body: Option<Value>| {
            let request = new_client().request(method, url).bearer_auth(&token);
            match body {
                Some(body) => request.json(&body),
                None => request.body(""),
            }
        }
    };
    let session = |client: reqwest::Client, csrf: String, origin: String| {
        move |method: Method, url: String, body: Option<Value>| {
            let request = client.request(method, url).header("origin", &origin).header("x-csrf-token", &csrf);
            match body {
                Some(body) => request.json(&body),
                None => request.body(""),
            }
        }
    };
    let mut walked = walk(&app, "builder", &bearer(builder), comment, &routes).await;
    walked += walk(&app, "outsider", &session(outsider, outsider_csrf, app.address.clone()), comment, &routes).await;
    walked += walk(&app, "revoked reviewer", &bearer(revoked), comment, &routes).await;
    // Past the token's ninety days.
    app.clock.advance(91 * 24 * 3_600_000);
    walked += walk(&app, "expired token", &bearer(expiring), comment, &routes).await;
    assert!(walked >= 4 * 25, "{walked} requests");
}
