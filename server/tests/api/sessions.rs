//! How long a session lives, on a moved clock: idle timeout that slides with activity, the absolute
//! end, and the end of a reviewer's grants.

use crate::helpers::*;
use reqwest::StatusCode;

const MINUTE: i64 = 60_000;

#[tokio::test]
async fn a_reviewer_who_only_reads_stays_signed_in_past_thirty_minutes() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    for _ in 0..7 {
        app.clock.advance(5 * MINUTE);
        let (status, _) = app.open_file("README.md").await;
        assert_eq!(status, StatusCode::OK, "reading keeps the session alive");
    }
    // 35 minutes after sign-in, with a request every five: still signed in.
    let (status, html) = app.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Release 1.0"));
}

#[tokio::test]
async fn thirty_idle_minutes_end_a_session() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    app.clock.advance(29 * MINUTE);
    assert_eq!(app.get("/").await.status(), StatusCode::OK);
    app.clock.advance(31 * MINUTE);
    let response = app.get("/").await;
    assert_eq!(location(&response), "/login?expired=1");
    assert_eq!(app.count_sessions().await, 0, "the ended session is gone from the store");
}

#[tokio::test]
async fn a_staff_session_ends_twelve_hours_after_sign_in_however_busy() {
    let app = spawn_app().await;
    app.login_as("staff").await;
    for _ in 0..(12 * 60 / 20 - 1) {
        app.clock.advance(20 * MINUTE);
        assert_eq!(app.get("/").await.status(), StatusCode::OK);
    }
    app.clock.advance(20 * MINUTE);
    assert_eq!(location(&app.get("/").await), "/login?expired=1");
}

#[tokio::test]
async fn activity_is_written_back_at_most_once_a_minute() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let stored = || async {
        use sqlx::{Connection, Row};
        let mut connection = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
        let row = sqlx::query("SELECT expiry_date FROM sessions").fetch_one(&mut connection).await.unwrap();
        row.try_get::<i64, _>(0).unwrap()
    };
    let at_sign_in = stored().await;
    for _ in 0..5 {
        app.get("/").await;
    }
    assert_eq!(stored().await, at_sign_in, "requests within a minute write nothing");
    app.clock.advance(2 * MINUTE);
    app.get("/").await;
    assert!(stored().await >= at_sign_in + 110, "a request after a minute moves the expiry");
}

#[tokio::test]
async fn session_ids_are_stored_only_as_hashes_and_the_data_directory_is_private() {
    let app = spawn_app().await;
    let response = app.login("reviewer", PASSWORD).await;
    let cookie = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("clearroom_session="))
        .expect("a session cookie")
        .to_string();
    let id = cookie["clearroom_session=".len()..].split(';').next().unwrap().to_string();
    assert!(!id.is_empty());
    use sqlx::{Connection, Row};
    let mut connection = sqlx::AnyConnection::connect(&app.database_url).await.unwrap();
    let rows = sqlx::query("SELECT id FROM sessions").fetch_all(&mut connection).await.unwrap();
    let stored: Vec<String> = rows.iter().map(|r| r.try_get::<String, _>(0).unwrap()).collect();
    assert!(!stored.contains(&id), "the raw session id is not in the database");
    let hashed = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(id.as_bytes()));
    assert!(stored.contains(&hashed), "its SHA-256 is: {stored:?}");
    assert_eq!(app.get("/").await.status(), StatusCode::OK, "and the session still works");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&app.data_dir).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "the data directory is the server's alone");
    }
}

#[tokio::test]
async fn a_reviewers_pages_count_down_to_the_end_of_their_access() {
    // The header's clock comes from the grants the session check read for the same request.
    let app = spawn_app().await;
    let ends = app.grants().await.iter().filter(|g| g.reviewer == "reviewer").map(|g| g.ends_at_ms).max().unwrap();
    app.login_as("reviewer").await;
    for _ in 0..2 {
        let (status, page) = app.open_file("README.md").await;
        assert_eq!(status, StatusCode::OK);
        let left = format!("{} left", app::times::duration_text(ends - app.clock.now_ms()));
        assert!(page.contains("session-clock") && page.contains(&left), "{left} is shown");
        app.clock.advance(7 * MINUTE);
    }
    app.login_as("staff").await;
    let (status, page) = app.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!page.contains("session-clock"), "staff have no access clock");
}

/// Signs in over a bare connection's worth of state: the session cookie and the page's token.
async fn cookie_and_csrf(app: &TestApp, username: &str) -> (String, String) {
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(app.url("/login"))
        .header("origin", &app.address)
        .form(&[("username", username), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    let cookie = response.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let page = reqwest::Client::new().get(app.url("/")).header("cookie", &cookie).send().await.unwrap();
    (cookie, csrf_of(&page.text().await.unwrap()))
}

/// The race the security review reproduced: a request of session A is in flight (its body held
/// open) when B signs out everywhere else; A's request ends by writing its activity back. That
/// write must not bring A's session back.
#[tokio::test]
async fn a_request_in_flight_cannot_bring_back_a_session_ended_meanwhile() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_app().await;
    let (cookie, csrf) = cookie_and_csrf(&app, "reviewer").await;
    let elsewhere = app.session_client("reviewer").await;
    // Past a minute, so A's next request writes its activity back.
    app.clock.advance(2 * MINUTE);
    let body = serde_json::json!({"path": "README.md", "body": "held open"}).to_string();
    let host = app.address.trim_start_matches("http://").to_string();
    let mut a = tokio::net::TcpStream::connect(&host).await.unwrap();
    let head = format!(
        "POST /api/v1/pins/{}/comments HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nOrigin: {}\r\n\
         X-CSRF-Token: {csrf}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        app.pin,
        app.address,
        body.len()
    );
    a.write_all(head.as_bytes()).await.unwrap();
    a.write_all(&body.as_bytes()[..5]).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    // B ends every other session, A's included, while A's request waits for its body.
    let page = elsewhere.get(app.url("/account")).send().await.unwrap().text().await.unwrap();
    let token = csrf_of(&page);
    let ended =
        elsewhere.post(app.url("/account/sessions/end-others")).form(&[("csrf", token.as_str())]).send().await.unwrap();
    assert_eq!(ended.status(), StatusCode::SEE_OTHER);
    a.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut answer = String::new();
    a.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 "), "{answer}");
    // A's session stays ended: its cookie is a stranger's now.
    let after = reqwest::Client::new()
        .get(app.url(&format!("/api/v1/pins/{}/coverage", app.pin)))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "the ended session came back");
    assert_eq!(app.count_sessions().await, 1, "only B's session is stored");
}
