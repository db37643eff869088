use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn each_view_is_one_event_with_actor_pin_and_path() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, _) = app.open_file("src/main.rs").await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.open_tree("src").await;
    assert_eq!(status, StatusCode::OK);

    let views = app.events("blob.view").await;
    assert_eq!(views.len(), 1, "one event for one file view");
    assert_eq!(views[0].actor.as_deref(), Some("reviewer"));
    assert_eq!(views[0].pin, Some(app.pin.get()));
    assert_eq!(views[0].path.as_deref(), Some("src/main.rs"));
    assert!(views[0].leaf.contains("\"client\":\"127.0.0.1\""));
    assert!(views[0].leaf.starts_with("{\"v\":2,"), "leaf format v2: {}", views[0].leaf);
    let trees = app.events("tree.view").await;
    assert_eq!(trees.len(), 1);
    assert_eq!(trees[0].path.as_deref(), Some("src"));

    // The events name the git objects shown, so the exact bytes can be proven later.
    let repo = git2::Repository::open_bare(&app.repository_path).unwrap();
    let tree = repo.head().unwrap().peel_to_tree().unwrap();
    let commit = repo.head().unwrap().peel_to_commit().unwrap().id().to_string();
    let blob = tree.get_path(std::path::Path::new("src/main.rs")).unwrap().id().to_string();
    let src = tree.get_path(std::path::Path::new("src")).unwrap().id().to_string();
    let leaf: serde_json::Value = serde_json::from_str(&views[0].leaf).unwrap();
    assert_eq!(
        leaf["objects"],
        serde_json::json!([
            {"pin": app.pin.get(), "commit": commit, "path": "src/main.rs", "blob": blob, "lines": null},
            {"pin": app.pin.get(), "commit": commit, "path": "src", "blob": src, "lines": null}
        ])
    );
    let leaf: serde_json::Value = serde_json::from_str(&trees[0].leaf).unwrap();
    assert_eq!(leaf["objects"][0]["blob"], src);
}

#[tokio::test]
async fn a_missing_path_is_recorded_as_a_failed_view_naming_no_object() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, _) = app.open_file("src/nope.rs").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let views = app.events("blob.view").await;
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].outcome, "failed");
    let leaf: serde_json::Value = serde_json::from_str(&views[0].leaf).unwrap();
    assert_eq!(leaf["objects"][0]["path"], "src/nope.rs");
    assert_eq!(leaf["objects"][0]["blob"], serde_json::Value::Null);
}

#[tokio::test]
async fn no_source_is_sent_when_the_event_cannot_be_stored() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let before = app.events("blob.view").await.len();
    app.break_audit_inserts().await;
    let (status, html) = app.open_file("src/deep/secret.c").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(html.contains("audit log cannot record"), "a clear message");
    assert!(!html.contains(SECRET_MARKER), "no source byte was sent");
    assert!(!html.contains("disk full"), "no internal error text");
    let (status, html) = app.open_tree("src/deep").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!html.contains("secret.c"), "not even a file name");
    assert_eq!(app.events("blob.view").await.len(), before);
}

#[tokio::test]
async fn no_one_signs_in_unrecorded() {
    let app = spawn_app().await;
    app.break_audit_inserts().await;
    let response = app.login("reviewer", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().get("set-cookie").is_none(), "no session was started");
    let page = response.text().await.unwrap();
    assert!(page.contains("<html") && page.contains("audit log cannot record"), "{page}");
    assert!(!page.contains("disk full"));
}

#[tokio::test]
async fn events_are_append_only_in_the_database() {
    let app = spawn_app().await;
    use sqlx::Connection;
    let mut connection = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
    assert!(sqlx::query("UPDATE audit_events SET actor = 'someone else'").execute(&mut connection).await.is_err());
    assert!(sqlx::query("DELETE FROM audit_events").execute(&mut connection).await.is_err());
    assert!(sqlx::query("UPDATE log_state SET size = 0").execute(&mut connection).await.is_err());
}

#[tokio::test]
async fn the_log_head_matches_a_rebuild_from_the_stored_leaves() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    app.open_file("README.md").await;
    // A signed checkpoint fixes a size and a root (background jobs may append meanwhile).
    let checkpoint = app.publish_checkpoint().await;
    let entries = app.log.entries(0, checkpoint.size).await.unwrap();
    assert_eq!(entries.len() as u64, checkpoint.size);
    let mut frontier = clearroom::audit::merkle::Frontier::empty();
    for (i, entry) in entries.iter().enumerate() {
        assert_eq!(entry.index, i as i64, "no gaps");
        let hash = clearroom::audit::merkle::leaf_hash(entry.leaf.as_bytes());
        assert_eq!(hex::encode(hash), entry.leaf_hash);
        frontier.push(hash);
    }
    assert_eq!(frontier.root(), checkpoint.root, "the stored leaves rebuild the signed root");
}

#[tokio::test]
async fn staff_filter_the_audit_log_in_the_ui() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    app.open_file("src/main.rs").await;
    let staff = spawn_client_as(&app, "staff").await;
    let html = staff.get(app.url("/audit?action=blob.view")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("src/main.rs"));
    assert!(!html.contains("auth.login</code>"), "the filter keeps other actions out");
    let html = staff.get(app.url("/audit?actor=nobody")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("No events match"));
}

#[tokio::test]
async fn a_reviewer_cannot_read_the_audit_log() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, html) = app.get_text("/audit").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(html.contains("only staff, regulators and supervisors"));
}

/// A second browser, signed in as someone else.
pub async fn spawn_client_as(app: &TestApp, username: &str) -> reqwest::Client {
    let client = new_client();
    let response = client
        .post(app.url("/login"))
        .header("origin", &app.address)
        .form(&[("username", username), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    client
}
