//! Supervisors: an outside organisation's accounts that authorise releases. They read the audit
//! log and every pin's review records, source only with a grant, and take no part in a review.

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
