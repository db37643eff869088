use crate::helpers::*;
use base64::Engine as _;
use clearroom::domain::Actor;
use reqwest::StatusCode;

#[tokio::test]
async fn a_regulator_reads_exact_log_entries_with_a_token() {
    let app = spawn_app().await;
    let token = app.domain.create_token(Actor::Operator, "regulator").await.unwrap();
    let response =
        new_client().get(app.url("/api/v1/log/entries?start=0&end=3")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    let entries = body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["index"], 0);
    let leaf = base64::engine::general_purpose::STANDARD.decode(entries[0]["leaf"].as_str().unwrap()).unwrap();
    assert_eq!(hex::encode(clearroom::audit::merkle::leaf_hash(&leaf)), entries[0]["leaf_hash"].as_str().unwrap());
    assert!(String::from_utf8(leaf).unwrap().contains("\"action\":\"user.create\""));
}

#[tokio::test]
async fn the_log_api_refuses_reviewers_strangers_and_bad_ranges() {
    let app = spawn_app().await;
    let token = app.domain.create_token(Actor::Operator, "reviewer").await.unwrap();
    let client = new_client();
    let status = |r: reqwest::Response| r.status();
    assert_eq!(
        status(client.get(app.url("/api/v1/log/entries")).bearer_auth(&token).send().await.unwrap()),
        StatusCode::FORBIDDEN
    );
    assert_eq!(status(client.get(app.url("/api/v1/log/entries")).send().await.unwrap()), StatusCode::UNAUTHORIZED);
    assert_eq!(
        status(client.get(app.url("/api/v1/log/entries")).bearer_auth("crt_forged").send().await.unwrap()),
        StatusCode::UNAUTHORIZED
    );
    let staff = app.domain.create_token(Actor::Operator, "staff").await.unwrap();
    let response = client.get(app.url("/api/v1/log/entries?start=x")).bearer_auth(&staff).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().await.unwrap().contains("whole numbers"));
}

#[tokio::test]
async fn health_reports_ok() {
    let app = spawn_app().await;
    let (status, body) = app.get_text("/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("ok"));

    // The highlight cache's figures: a first view is a miss, the same view again a memory hit.
    app.login_as("reviewer").await;
    app.open_file("src/main.rs").await;
    app.open_file("src/main.rs").await;
    let (_, body) = app.get_text("/healthz").await;
    let health: serde_json::Value = serde_json::from_str(&body).unwrap();
    let cache = &health["highlight_cache"];
    assert!(cache["misses"].as_u64().unwrap() >= 1, "{cache}");
    assert!(cache["memory_hits"].as_u64().unwrap() >= 1, "{cache}");
    assert!(cache["memory_bytes"].as_u64().unwrap() > 0 && cache["disk_bytes"].as_u64().unwrap() > 0, "{cache}");
}
