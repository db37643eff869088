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
async fn a_file_page_sent_with_gzip_carries_the_same_rows() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let before = app.events("blob.view").await.len();
    for (path, rows) in [("src/main.rs", 30), ("data/big.py", 4_000), ("data/big.py?from=4001", 4_000)] {
        let url = app.url(&format!("/pins/{}/blob/{path}", app.pin));
        // Twice: the first view packs the rows, the second takes them as packed.
        for _ in 0..2 {
            let (status, encoding, page) = get_compressed(&app.client, &url).await;
            assert_eq!(status, StatusCode::OK);
            assert_eq!(encoding.as_deref(), Some("gzip"), "{path}: the rows go out as packed");
            let (_, plain) = app.get_text(&format!("/pins/{}/blob/{path}", app.pin)).await;
            assert_eq!(code_rows(&page), code_rows(&plain), "{path}: the same rows either way");
            assert!(code_rows(&page).matches("<tr id=\"L").count() >= rows, "{path}");
            assert!(!page.contains("<!--rows-"), "{path}: no marker is left in the page");
            assert!(
                page.contains("</body></html>"),
                "{path}: the page is whole: {}",
                &page[page.len().saturating_sub(300)..]
            );
            // Around the rows, the page is this request's own (its nonce, its watermark).
            assert!(page.contains("reviewer · reviewer ·") && page.contains("nonce=\""));
        }
    }
    // Every view is recorded, packed or not: six of each.
    assert_eq!(app.events("blob.view").await.len(), before + 12);

    // A tree, a binary file and a missing file are sent as before.
    let (status, encoding, page) = get_compressed(&app.client, &app.url(&format!("/pins/{}/tree/src", app.pin))).await;
    assert_eq!((status, encoding.as_deref()), (StatusCode::OK, Some("zstd")));
    assert!(page.contains("main.rs"));
    let (status, _, page) =
        get_compressed(&app.client, &app.url(&format!("/pins/{}/blob/assets/logo.png", app.pin))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("00000000  89 50 4e 47"));
    let (status, _, _) = get_compressed(&app.client, &app.url(&format!("/pins/{}/blob/src/nothing.rs", app.pin))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
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
async fn a_file_over_the_cap_is_shown_a_window_of_lines_at_a_time() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, html) = app.open_file("data/big.py").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("shown as plain text, 4,000 lines at a time"));
    assert!(html.contains("Lines 1–4,000 of 200,000"));
    assert!(html.contains("id=\"L4000\"") && !html.contains("id=\"L4001\""), "one window only");
    assert!(!html.contains("<span class=h"), "no token is highlighted");
    assert!(html.len() < 500_000, "the first window is light: {} bytes", html.len());
    let views = app.events("blob.view").await;
    let leaf = &views.last().unwrap().leaf;
    assert!(leaf.contains("\"lines\":[1,4000]"), "the event names the window: {leaf}");

    // A link to a far line opens the window that holds it (windows start at 1, 4001, …).
    let (status, html) = app.get_text(&format!("/pins/{}/blob/data/big.py?from=199999", app.pin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Lines 196,001–200,000 of 200,000"), "the last window");
    assert!(html.contains("id=\"L199999\"") && !html.contains("id=\"L1\""));

    // The rows a page loads as the reader scrolls: one recorded read of those lines each.
    let before = app.events("blob.lines").await.len();
    let response = app.get(&format!("/pins/{}/lines/data/big.py?from=4001", app.pin)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-lines"], "4001-8000/200000");
    let rows = response.text().await.unwrap();
    assert!(rows.starts_with("<tr id=\"L4001\">") && rows.contains("id=\"L8000\"") && !rows.contains("L8001"));
    assert_eq!(app.events("blob.lines").await.len(), before + 1);
    for bad in ["from=0", "from=x", ""] {
        let response = app.get(&format!("/pins/{}/lines/data/big.py?{bad}", app.pin)).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{bad}");
    }
    let response = app.get(&format!("/pins/{}/lines/data/nothing.py?from=1", app.pin)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // The whole file, as a recorded download.
    let response = app.get(&format!("/pins/{}/raw/data/big.py", app.pin)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/octet-stream");
    assert!(response.headers()["content-disposition"].to_str().unwrap().contains("attachment; filename=\"big.py\""));
    assert_eq!(response.bytes().await.unwrap().len(), "x = 1\n".len() * 200_000);
    assert_eq!(app.events("blob.download").await.len(), 1);
}

/// Security defect 7: a window past the end of a file recorded the lines asked for (8001–12000 of a
/// 6-line file) where the source sent the last line. Each event names exactly the lines sent: a
/// window past the end, at the end, across the end, of a small file, and the page's window.
#[tokio::test]
async fn a_window_records_exactly_the_lines_it_sends() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let main_lines = main_rs().lines().count() as u32;
    let last_recorded = |leaf: &str| -> Option<(u64, u64)> {
        let leaf: serde_json::Value = serde_json::from_str(leaf).unwrap();
        let lines = &leaf["objects"][0]["lines"];
        lines.is_array().then(|| (lines[0].as_u64().unwrap(), lines[1].as_u64().unwrap()))
    };
    let cases = [
        ("src/main.rs", 8001, format!("{main_lines}-{main_lines}/{main_lines}")),
        ("src/main.rs", 1, format!("1-{main_lines}/{main_lines}")),
        ("data/big.py", 196_001, "196001-200000/200000".to_string()),
        ("data/big.py", 199_999, "196001-200000/200000".to_string()),
        ("data/big.py", 250_000, "200000-200000/200000".to_string()),
    ];
    for (path, from, expected) in cases {
        let response = app.get(&format!("/pins/{}/lines/{path}?from={from}", app.pin)).await;
        assert_eq!(response.status(), StatusCode::OK, "{path} {from}");
        let header = response.headers()["x-lines"].to_str().unwrap().to_string();
        assert_eq!(header, expected, "{path} {from}");
        let (first, last) = header.split('/').next().unwrap().split_once('-').unwrap();
        let rows = response.text().await.unwrap();
        assert_eq!(
            rows.matches("<tr id=\"L").count() as u64,
            last.parse::<u64>().unwrap() - first.parse::<u64>().unwrap() + 1
        );
        let events = app.events("blob.lines").await;
        let recorded = last_recorded(&events.iter().max_by_key(|e| e.index).unwrap().leaf);
        assert_eq!(recorded, Some((first.parse().unwrap(), last.parse().unwrap())), "{path} {from}");
    }
    // The page's window past the end names the lines it shows.
    let (status, html) = app.get_text(&format!("/pins/{}/blob/data/big.py?from=999999", app.pin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("id=\"L200000\"") && !html.contains("id=\"L199999\""), "the last line only");
    let views = app.events("blob.view").await;
    assert_eq!(last_recorded(&views.iter().max_by_key(|e| e.index).unwrap().leaf), Some((200_000, 200_000)));
}

#[tokio::test]
async fn lines_and_downloads_need_a_grant() {
    let app = spawn_app().await;
    for path in ["lines/data/big.py?from=1", "raw/src/main.rs"] {
        let response = app.get(&format!("/pins/{}/{path}", app.pin)).await;
        assert!(
            response.status() == StatusCode::UNAUTHORIZED || response.status().is_redirection(),
            "{path}: {}",
            response.status()
        );
    }
    app.login_as("regulator").await;
    for path in ["lines/data/big.py?from=1", "raw/src/main.rs"] {
        let response = app.get(&format!("/pins/{}/{path}", app.pin)).await;
        // Without a grant the pin is not there for them (as for every other read).
        assert!(
            matches!(response.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "{path}: {}",
            response.status()
        );
    }
    assert!(app.events("blob.download").await.iter().all(|e| e.outcome != "ok"), "nothing was read");
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
