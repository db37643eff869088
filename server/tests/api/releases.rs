//! Releases a supervisor authorises. Supervisors: an outside organisation's accounts; they read
//! the audit log and every pin's review records, source only with a grant, and take no part in a
//! review. A repository's release policy: set by staff as TOML or JSON, refused by rule name.

use crate::helpers::*;
use app::model::{Role, Scope};
use clearroom::auth::Password;
use clearroom::domain::{Actor, TokenRequest};
use reqwest::StatusCode;
use serde_json::{json, Value};

async fn supervisor(app: &TestApp, name: &str) {
    app.domain
        .admin()
        .create_user(Actor::Operator, name, Role::Supervisor, Some(Password::new(PASSWORD.into())))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_supervisor_reads_the_log_and_review_records_but_no_source_without_a_grant_and_takes_no_part() {
    let app = spawn_app().await;
    supervisor(&app, "sup1").await;
    let token = app.token("sup1").await;
    let get = |path: &str| new_client().get(app.url(path)).bearer_auth(&token).send();
    assert_eq!(get("/api/v1/log/entries?start=0&end=2").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get("/api/v1/log/tile/0/000.p/1").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get(&format!("/api/v1/pins/{}/comments", app.pin)).await.unwrap().status(), StatusCode::OK);
    assert_eq!(get(&format!("/api/v1/pins/{}/coverage", app.pin)).await.unwrap().status(), StatusCode::OK);
    let export = new_client().post(app.url("/api/v1/exports")).bearer_auth(&token).json(&json!({"pins": [1]}));
    assert_eq!(export.send().await.unwrap().status(), StatusCode::FORBIDDEN, "supervisors do not export");
    let request = TokenRequest { scopes: &[Scope::Export], days: 30, label: "x" };
    assert!(app.domain.access().create_token(Actor::Operator, "sup1", request).await.is_err());

    // In the browser: the pin's review, not its source; no comment.
    let (client, csrf) = signed_in(&app, "sup1").await;
    let file = client.get(app.url(&format!("/pins/{}/blob/README.md", app.pin))).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::NOT_FOUND);
    let comment = client
        .post(app.url(&format!("/api/v1/pins/{}/comments", app.pin)))
        .header("origin", &app.address)
        .header("x-csrf-token", &csrf)
        .json(&json!({"path": "README.md", "body": "looks fine"}))
        .send()
        .await
        .unwrap();
    assert_eq!(comment.status(), StatusCode::FORBIDDEN);
    let body: Value = comment.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("supervisors authorise releases"), "{body}");
    let log = client.get(app.url("/log")).send().await.unwrap();
    assert_eq!(log.status(), StatusCode::OK);

    // With a grant, the source; every read recorded under the supervisor's name.
    let now = app.clock.now_ms();
    app.domain.access().grant(Actor::Operator, "sup1", &[app.pin], now - 1000, now + 3_600_000).await.unwrap();
    let file = client.get(app.url(&format!("/pins/{}/blob/README.md", app.pin))).send().await.unwrap();
    assert_eq!(file.status(), StatusCode::OK);
    let view = app.events("blob.view").await.into_iter().find(|e| e.actor.as_deref() == Some("sup1"));
    assert!(view.is_some_and(|e| e.leaf.contains("\"role\":\"supervisor\"")));
}

const POLICY: &str = r#"
reproduced_by = 2
verdicts_no_objection = 1
max_open_findings_at = "high"
[supervisors]
quorum = 2
names = ["sup3", "sup1", "sup2"]
"#;

async fn put_policy(app: &TestApp, token: &str, body: &str, json: bool) -> (StatusCode, Value) {
    let request = new_client()
        .put(app.url("/api/v1/repositories/product/release-policy"))
        .bearer_auth(token)
        .header("content-type", if json { "application/json" } else { "application/toml" })
        .body(body.to_string());
    let response = request.send().await.unwrap();
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn staff_set_a_release_policy_that_overseers_read_and_a_bad_one_is_refused_by_rule() {
    let app = spawn_app().await;
    for name in ["sup1", "sup2", "sup3"] {
        supervisor(&app, name).await;
    }
    let staff = app.token("staff").await;
    let path = "/api/v1/repositories/product/release-policy";
    let (status, none) = get_json(&app, &staff, path).await;
    assert_eq!((status, none), (StatusCode::OK, Value::Null));

    let (status, set) = put_policy(&app, &staff, POLICY, false).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["policy"]["supervisors"], json!({"quorum": 2, "names": ["sup1", "sup2", "sup3"]}));
    assert_eq!(set["policy"]["max_open_findings_at"], "high");
    assert_eq!(set["written"], POLICY);
    let digest = set["sha256"].as_str().unwrap().to_string();
    // The digest is SHA-256 of the canonical JSON, which JSON sets to the same policy.
    let canonical = serde_json::to_string(&set["policy"]).unwrap();
    assert_eq!(digest, sha256(canonical.as_bytes()));
    let (status, again) = put_policy(&app, &staff, &canonical, true).await;
    assert_eq!((status, again["sha256"].as_str()), (StatusCode::OK, Some(digest.as_str())));
    let event = app.events("release.policy_set").await;
    assert_eq!(event.len(), 2);
    assert!(event[0].leaf.contains(&format!("\"policy_sha256\":\"{digest}\"")));

    // Regulators and supervisors read it; reviewers and builders do not; only staff set it.
    for reader in ["regulator", "sup1"] {
        let token = app.token(reader).await;
        let (status, read) = get_json(&app, &token, path).await;
        assert_eq!((status, read["sha256"].as_str()), (StatusCode::OK, Some(digest.as_str())), "{reader}");
        assert_eq!(put_policy(&app, &token, POLICY, false).await.0, StatusCode::FORBIDDEN, "{reader}");
    }
    let reviewer = app.token("reviewer").await;
    assert_eq!(get_json(&app, &reviewer, path).await.0, StatusCode::FORBIDDEN);

    // Refusals name the rule; nothing is stored.
    let refusals = [
        ("signed_by_ceo = true\n", "release policy: signed_by_ceo: is not a release policy rule"),
        ("reproduced_by = 1\n", "release policy: supervisors: is required"),
        (
            "[supervisors]\nquorum = 1\nnames = [\"reviewer\"]\n",
            "release policy: supervisors.names: reviewer is not an enabled supervisor account",
        ),
        (
            "[supervisors]\nquorum = 1\nnames = [\"nobody\"]\n",
            "release policy: supervisors.names: nobody is not an enabled supervisor account",
        ),
    ];
    for (body, reason) in refusals {
        let (status, refused) = put_policy(&app, &staff, body, false).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(refused["error"].as_str().unwrap().starts_with(reason), "{refused}");
    }
    let (status, _) = put_policy(&app, &staff, &"#".repeat(70_000), false).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    let unknown = new_client().get(app.url("/api/v1/repositories/nothing/release-policy")).bearer_auth(&staff);
    assert_eq!(unknown.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(app.events("release.policy_set").await.len(), 2);
}

async fn get_json(app: &TestApp, token: &str, path: &str) -> (StatusCode, Value) {
    let response = new_client().get(app.url(path)).bearer_auth(token).send().await.unwrap();
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}
