use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn a_reviewer_signs_in_sees_their_pin_and_signs_out() {
    let app = spawn_app().await;
    let response = app.login("reviewer", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers().get("set-cookie").unwrap().to_str().unwrap().to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Strict"), "{cookie}");

    let (status, home) = app.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("Release 1.0"), "the granted pin is listed");
    assert!(home.contains("reviewer"), "the header names the signed-in user");

    let csrf = app.csrf_token().await;
    let response = app.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(location(&response), "/login?signed_out=1");
    let response = app.get("/").await;
    assert!(location(&response).starts_with("/login"), "signed out, the home page asks to sign in");
    assert_eq!(app.events("auth.logout").await.len(), 1);
}

#[tokio::test]
async fn a_wrong_password_is_refused_and_recorded() {
    let app = spawn_app().await;
    let response = app.login("reviewer", "not the password at all").await;
    assert_eq!(location(&response), "/login?error=1");
    let (_, page) = app.get_text("/login?error=1").await;
    assert!(page.contains("Wrong username or password"));
    let response = app.get("/").await;
    assert!(location(&response).starts_with("/login"));
    let failures = app.events("auth.login_failed").await;
    assert_eq!(failures.len(), 1);
    assert!(failures[0].leaf.contains("\"account\":\"reviewer\""), "{}", failures[0].leaf);
    assert!(!failures[0].leaf.contains("not the password"), "a password never reaches the log");
}

#[tokio::test]
async fn a_name_that_is_no_account_is_recorded_only_as_a_keyed_hash() {
    let app = spawn_app().await;
    // A password typed into the name field by mistake.
    app.login("Tr0ub4dor&3-my-real-password", "whatever").await;
    app.login("Tr0ub4dor&3-my-real-password", "again").await;
    let failures = app.events("auth.login_failed").await;
    assert_eq!(failures.len(), 2);
    for failure in &failures {
        assert!(!failure.leaf.contains("Tr0ub4dor"), "the typed name never reaches the log: {}", failure.leaf);
        assert!(failure.leaf.contains("\"known\":false"));
    }
    let hash = |leaf: &str| {
        let value: serde_json::Value = serde_json::from_str(leaf).unwrap();
        value["details"]["name_hash"].as_str().unwrap().to_string()
    };
    assert_eq!(hash(&failures[0].leaf), hash(&failures[1].leaf), "one name, one hash");
    assert_eq!(hash(&failures[0].leaf).len(), 32);
}

#[tokio::test]
async fn an_unknown_user_gets_the_same_answer_as_a_wrong_password() {
    let app = spawn_app().await;
    let response = app.login("nobody", PASSWORD).await;
    assert_eq!(location(&response), "/login?error=1");
}

#[tokio::test]
async fn the_session_id_changes_at_sign_in_and_the_old_one_is_dead() {
    let app = spawn_app().await;
    let first = app.login("reviewer", PASSWORD).await;
    let old_cookie =
        first.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    let second = app.login("reviewer", PASSWORD).await;
    let new_cookie =
        second.headers().get("set-cookie").unwrap().to_str().unwrap().split(';').next().unwrap().to_string();
    assert_ne!(old_cookie, new_cookie);
    let stale = new_client().get(app.url("/")).header("cookie", old_cookie).send().await.unwrap();
    assert!(location(&stale).starts_with("/login"), "the id from before sign-in no longer works");
}

#[tokio::test]
async fn repeated_failures_are_rate_limited() {
    let app = spawn_app().await;
    let mut last = StatusCode::OK;
    for _ in 0..8 {
        last = app.login("reviewer", "wrong password, again").await.status();
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sign_in_only_follows_local_next_paths() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/login"))
        .header("origin", &app.address)
        .form(&[("username", "reviewer"), ("password", PASSWORD), ("next", "https://evil.example/")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&response), "/");
}
