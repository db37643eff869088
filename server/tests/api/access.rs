use crate::helpers::*;
use clearroom::domain::Actor;
use reqwest::StatusCode;

#[tokio::test]
async fn a_reviewer_without_a_grant_is_refused_and_the_attempt_recorded() {
    let app = spawn_app().await;
    app.login_as("outsider").await;
    let (_, home) = app.get_text("/").await;
    assert!(home.contains("No pins to show"));
    let (status, html) = app.open_file("src/deep/secret.c").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains(SECRET_MARKER));
    let denied = app.events("access.denied").await;
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].actor.as_deref(), Some("outsider"));
    assert_eq!(denied[0].pin, Some(app.pin.get()));
    assert!(app.events("blob.view").await.is_empty());
}

#[tokio::test]
async fn a_revoked_grant_ends_a_live_session_at_once() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, _) = app.open_file("README.md").await;
    assert_eq!(status, StatusCode::OK);

    let grant = app.grants().await[0].id;
    app.domain.access().revoke_grant(Actor::Operator, grant, Some("the review ended early")).await.unwrap();

    let response = app.get(&format!("/pins/{}/blob/README.md", app.pin)).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?expired=1");
    let (_, page) = app.get_text("/login?expired=1").await;
    assert!(page.contains("Your session has ended"));
    assert_eq!(app.count_sessions().await, 0, "the session is gone from the store");
}

#[tokio::test]
async fn a_session_ends_when_the_grant_window_ends() {
    let app = spawn_app().await;
    let now = app.clock.now_ms();
    app.domain.access().grant(Actor::Operator, "outsider", &[app.pin], now - 1_000, now + 1_500).await.unwrap();
    app.login_as("outsider").await;
    let (status, _) = app.open_file("README.md").await;
    assert_eq!(status, StatusCode::OK);
    app.clock.advance(1_700);
    let response = app.get(&format!("/pins/{}/blob/README.md", app.pin)).await;
    assert_eq!(location(&response), "/login?expired=1");
}

#[tokio::test]
async fn a_regulator_without_a_grant_sees_no_source() {
    let app = spawn_app().await;
    app.login_as("regulator").await;
    let (status, html) = app.open_file("src/deep/secret.c").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!html.contains(SECRET_MARKER));
}

#[tokio::test]
async fn staff_may_browse_every_pin() {
    let app = spawn_app().await;
    app.login_as("staff").await;
    let (status, html) = app.open_file("src/deep/secret.c").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(SECRET_MARKER));
}
