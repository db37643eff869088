//! Long files and long diffs a window at a time (issue 33): a highlighted file of more lines than a
//! window opens in windows as a file past the highlight cap does, a long diff shows a window of its
//! rows, and each event names exactly the lines sent.

use crate::helpers::*;
use reqwest::StatusCode;

/// A Rust file of `lines` lines, each a small function.
fn long_rust(lines: u32) -> Vec<u8> {
    (1..=lines).map(|n| format!("fn f{n}() -> u32 {{ {n} }}\n")).collect::<String>().into_bytes()
}

/// The leaf of the latest event of `action`.
async fn latest(app: &TestApp, action: &str) -> String {
    app.events(action).await.into_iter().max_by_key(|event| event.index).expect("an event").leaf
}

/// The files of the fixture's first commit plus `extra`.
fn with_files(extra: Vec<(&'static str, Vec<u8>, u32)>) -> Vec<(&'static str, Vec<u8>, u32)> {
    let mut files = vec![
        ("README.md", b"# Sample\n\nReview me.\n".to_vec(), 0o100644),
        ("src/main.rs", main_rs().into_bytes(), 0o100644),
    ];
    files.extend(extra);
    files
}

#[tokio::test]
async fn a_highlighted_file_longer_than_a_window_opens_a_window_at_a_time() {
    let app = spawn_app().await;
    let pin = next_release(&app, &with_files(vec![("src/long.rs", long_rust(6_000), 0o100644)]), "Long").await;
    app.login_as("reviewer").await;
    let (status, html) = app.get_text(&format!("/pins/{pin}/blob/src/long.rs")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Lines 1–4,000 of 6,000"), "a window, not 6,000 rows");
    assert!(html.contains("id=\"L4000\"") && !html.contains("id=\"L4001\""));
    assert!(html.contains("<span class=h"), "still highlighted");
    assert!(html.contains("class=\"goto-line\"") && html.contains("class=\"find-in-file\""));
    let leaf = latest(&app, "blob.view").await;
    assert!(leaf.contains("\"lines\":[1,4000]"), "the event names the lines sent: {leaf}");

    // Go to line 5,000: the window that holds it, recorded as its lines.
    let (status, html) = app.get_text(&format!("/pins/{pin}/blob/src/long.rs?line=5000")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Lines 4,001–6,000 of 6,000") && html.contains("id=\"L5000\"") && !html.contains("id=\"L1\"")
    );
    let leaf = latest(&app, "blob.view").await;
    assert!(leaf.contains("\"lines\":[4001,6000]"), "{leaf}");

    // The rows loaded while scrolling: highlighted, one recorded read of those lines.
    let response = app.get(&format!("/pins/{pin}/lines/src/long.rs?from=4001")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-lines"], "4001-6000/6000");
    let rows = response.text().await.unwrap();
    assert!(rows.starts_with("<tr id=\"L4001\">") && rows.contains("<span class=h"));

    // A file of a window's lines or fewer still comes whole.
    let (_, html) = app.open_file("src/main.rs").await;
    assert!(!html.contains("window-range"));
}

#[tokio::test]
async fn a_long_diff_shows_a_window_of_rows_and_records_only_their_lines() {
    let app = spawn_app().await;
    let before = next_release(&app, &with_files(vec![]), "Before").await;
    let after = next_release(&app, &with_files(vec![("src/long.rs", long_rust(6_000), 0o100644)]), "After").await;
    app.login_as("reviewer").await;
    let page = format!("/pins/{before}/compare/{after}/src/long.rs");
    let (status, html) = app.get_text(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Rows 1–4,000 of 6,000"), "a window of the added file's rows");
    assert!(html.contains("id=\"R-4000\"") && !html.contains("id=\"R-4001\""));
    let leaf = latest(&app, "diff.view").await;
    assert!(leaf.contains("\"lines\":[1,4000]") && !leaf.contains("6000]"), "only the lines sent: {leaf}");

    let (status, html) = app.get_text(&format!("{page}?rows=4001")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        html.contains("Rows 4,001–6,000 of 6,000") && html.contains("id=\"R-6000\"") && !html.contains("id=\"R-1\"")
    );
    assert!(html.contains("@@ −0,0 +4001,2000 @@"), "the header of the lines kept");
    let leaf = latest(&app, "diff.view").await;
    assert!(leaf.contains("\"lines\":[4001,6000]"), "{leaf}");
    for bad in ["rows=x", "rows=-1"] {
        let (status, _) = app.get_text(&format!("{page}?{bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
    }

    // The API's diff is whole.
    let session = app.session_client("reviewer").await;
    let response = session
        .get(app.url(&format!("/api/v1/pins/{before}/compare/{after}/diff?path=src/long.rs")))
        .send()
        .await
        .unwrap();
    let diff: serde_json::Value = response.json().await.unwrap();
    assert_eq!(diff["hunks"][0]["lines"].as_array().unwrap().len(), 6_000);
}
