//! A reviewer's working day, as pages (issue 33): a regulator finds every pin whose records they may
//! read, and pages offer only what the role may open.

use crate::helpers::*;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_regulator_without_a_grant_reaches_the_records_and_is_offered_nothing_else() {
    let app = spawn_app().await;
    let pin = app.pin;
    let (reviewer, csrf) = signed_in(&app, "reviewer").await;
    let response = reviewer
        .post(app.url(&format!("/api/v1/pins/{pin}/comments")))
        .header("origin", &app.address)
        .header("x-csrf-token", &csrf)
        .json(&json!({"path": "src/main.rs", "start_line": 5, "end_line": 7, "body": "Is `count` bounded?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);

    app.login_as("regulator").await;
    let (status, home) = app.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(!home.contains("No pins to show"), "the pin is listed");
    for records in ["comments", "coverage", "verdicts", "builds"] {
        assert!(home.contains(&format!("href=\"/pins/{pin}/{records}\"")), "a link to {records}");
    }
    assert!(home.contains(&format!("href=\"/pins/{pin}/comments\" class=\"strong\"")), "the pin opens on its records");
    assert!(!home.contains(&format!("/pins/{pin}/tree")), "no link to source they may not read");

    let (status, page) = app.get_text(&format!("/pins/{pin}/comments")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Is <code>count</code> bounded?"), "the thread is there");
    assert!(page.contains("<span class=\"anchor\">src/main.rs"), "its place as plain text");
    assert!(!page.contains(&format!("/pins/{pin}/blob/")), "no link into the source");
    for tab in ["files-tab", "search-tab", "compare-tab"] {
        assert!(!page.contains(tab), "no {tab}");
    }
    for tab in ["comments-tab", "coverage-tab", "verdicts-tab", "builds-tab"] {
        assert!(page.contains(tab), "{tab}");
    }

    // The reviewer, granted, still has every tab and linked places.
    let session = app.session_client("reviewer").await;
    let page = session.get(app.url(&format!("/pins/{pin}/comments"))).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("files-tab") && page.contains(&format!("href=\"/pins/{pin}/blob/src/main.rs#L5")));
}
