//! Running it: request ids, metrics.

use crate::helpers::*;
use app::model::Scope;
use clearroom::domain::{Actor, TokenRequest};
use reqwest::StatusCode;

fn request_id(response: &reqwest::Response) -> String {
    response.headers().get("x-request-id").expect("a request id").to_str().unwrap().to_string()
}

#[tokio::test]
async fn every_answer_carries_a_request_id_and_errors_show_it() {
    let app = spawn_app().await;
    let first = app.get("/healthz").await;
    let second = app.get("/healthz").await;
    let (a, b) = (request_id(&first), request_id(&second));
    assert_eq!(a.len(), 16);
    assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
    assert_ne!(a, b, "one id per request");
    // A JSON error names the id its header carries.
    let response = new_client().get(app.url("/api/v1/log/checkpoint")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let id = request_id(&response);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["request_id"], id.as_str());
    // So does an error page.
    let response = bare_client().post(app.url("/login")).form(&[("username", "x")]).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let id = request_id(&response);
    assert!(response.text().await.unwrap().contains(&format!("Request id {id}")));
}

#[tokio::test]
async fn metrics_are_for_staff_and_name_requests_and_audit_commits() {
    let app = spawn_app().await;
    assert_eq!(app.get("/metrics").await.status(), StatusCode::UNAUTHORIZED);
    let reviewer = app.session_client("reviewer").await;
    reviewer.get(app.url(&format!("/pins/{}/blob/README.md", app.pin))).send().await.unwrap();
    assert_eq!(reviewer.get(app.url("/metrics")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let staff = app.session_client("staff").await;
    let response = staff.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    let text = response.text().await.unwrap();
    for needle in [
        "clearroom_http_requests_total{method=\"GET\",route=\"/pins/{id}/blob\",status=\"200\"}",
        "clearroom_http_request_duration_seconds_bucket",
        "clearroom_audit_appends_total",
        "clearroom_audit_commit_duration_seconds_count",
        // The gauge, not its value: metrics are the process's, and under `cargo test` another
        // test in this process raises the alarm on purpose.
        "clearroom_self_audit_alarm ",
        "clearroom_highlight_cache_misses",
    ] {
        assert!(text.contains(needle), "{needle} in\n{text}");
    }
    assert!(
        !text.contains("README"),
        "no path of source in a label: {:?}",
        text.lines().filter(|l| l.contains("README")).collect::<Vec<_>>()
    );
    // A staff token with ops:read may scrape; without it, not.
    let request = |scopes: &'static [Scope]| TokenRequest { scopes, days: 1, label: "prometheus" };
    let ops = app.domain.access().create_token(Actor::Operator, "staff", request(&[Scope::OpsRead])).await.unwrap();
    let log = app.domain.access().create_token(Actor::Operator, "staff", request(&[Scope::LogRead])).await.unwrap();
    let scrape = |token: String| new_client().get(app.url("/metrics")).bearer_auth(token).send();
    assert_eq!(scrape(ops).await.unwrap().status(), StatusCode::OK);
    assert_eq!(scrape(log).await.unwrap().status(), StatusCode::FORBIDDEN);
}
