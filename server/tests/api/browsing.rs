use crate::helpers::*;
use reqwest::StatusCode;

#[tokio::test]
async fn a_reviewer_walks_the_tree_and_reads_a_highlighted_file() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;

    let (status, root) = app.open_tree("").await;
    assert_eq!(status, StatusCode::OK);
    assert!(root.contains("README.md") && root.contains(">src<"), "the root lists its entries");
    let (status, src) = app.open_tree("src").await;
    assert_eq!(status, StatusCode::OK);
    assert!(src.contains("main.rs") && src.contains("deep"));
    assert!(src.contains(&format!("href=\"/pins/{}/tree\"", app.pin)), "breadcrumbs lead back to the root");

    let response = app.get(&format!("/pins/{}/blob/src/main.rs", app.pin)).await;
    assert_eq!(response.headers().get("cache-control").unwrap(), "no-store");
    let html = response.text().await.unwrap();
    assert!(html.contains("<span class=hk>") && html.contains("<span class=hf>"), "the code is highlighted");
    assert!(html.contains("HashMap"), "the code is there");
    assert!(html.contains("class=\"entry file current\""), "the tree beside the code marks the open file");
    assert!(html.contains("reviewer · reviewer ·"), "the watermark names the viewer");
}

#[tokio::test]
async fn every_line_has_a_permalink_anchor() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (_, html) = app.open_file("src/main.rs").await;
    for n in [1, 10, 20, 30] {
        assert!(html.contains(&format!("<tr id=\"L{n}\"><td class=\"ln\">{n}</td>")), "line {n}");
    }
}

#[tokio::test]
async fn binary_files_show_a_hex_preview() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, html) = app.open_file("assets/logo.png").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("image/png"));
    assert!(html.contains("00000000  89 50 4e 47"));
}

#[tokio::test]
async fn a_file_over_the_cap_is_plain_text_with_a_notice() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, html) = app.open_file("data/big.py").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("shown as plain text without highlighting"));
    assert!(html.contains("id=\"L200000\""));
    assert!(!html.contains("<span class=h"), "no token is highlighted");
}

#[tokio::test]
async fn a_missing_path_is_a_clear_404() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, html) = app.open_file("src/nope.rs").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains("no such path at this pin"));
}

#[tokio::test]
async fn bad_paths_and_ids_are_refused() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    for path in [
        "/pins/abc/tree".to_string(),
        "/pins/0/tree".to_string(),
        "/pins/-1/blob/README.md".to_string(),
        format!("/pins/{}/blob/src/..%2f..%2fetc%2fpasswd", app.pin),
        format!("/pins/{}/blob/src%00/main.rs", app.pin),
        format!("/pins/{}/blob/%2fetc/passwd", app.pin),
    ] {
        let (status, body) = app.get_text(&path).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        assert!(!body.contains("root:"), "{path}");
    }
    // Invalid UTF-8 never matches a route: the page does not exist.
    let (status, _) = app.get_text(&format!("/pins/{}/blob/src/%ff%fe", app.pin)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get_text("/pins/999999/tree").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app.get_text("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
