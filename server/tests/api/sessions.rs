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
