//! Searching a pin (literal, regular expression, case, path glob, paging, an invalid pattern, a
//! search past its budget), finding files, and going to a definition — each recorded: the query
//! before any blob is read, then the files and lines shown.

use crate::helpers::*;
use clearroom::config::SourceLimits;
use reqwest::StatusCode;
use serde_json::Value;

async fn search(app: &TestApp, client: &reqwest::Client, query: &str) -> (StatusCode, Value) {
    let response = client.get(app.url(&format!("/api/v1/pins/{}/search?{query}", app.pin))).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn paths(results: &Value) -> Vec<String> {
    results["results"].as_array().unwrap().iter().map(|r| r["path"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_search_finds_literals_and_patterns_with_case_and_paths_as_asked() {
    let app = spawn_app().await;
    let session = app.session_client("reviewer").await;
    let (status, found) = search(&app, &session, "q=hashmap").await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(paths(&found), ["src/main.rs"]);
    let lines: Vec<u64> =
        found["results"][0]["matches"].as_array().unwrap().iter().map(|m| m["line"].as_u64().unwrap()).collect();
    let expected: Vec<u64> = main_rs()
        .lines()
        .enumerate()
        .filter(|(_, l)| l.to_lowercase().contains("hashmap"))
        .map(|(i, _)| i as u64 + 1)
        .collect();
    assert_eq!(lines, expected, "every matching line, by number");
    assert_eq!(found["total"], serde_json::json!({ "files": 1, "lines": expected.len(), "exact": true }));
    assert_eq!(found["query"]["case"], false, "letter case is stated: {found}");
    assert!(found["next"].is_null(), "one page holds it");
    let (_, exact) = search(&app, &session, "q=hashmap&case=1").await;
    assert!(paths(&exact).is_empty(), "case is respected");
    let (_, pattern) = search(&app, &session, "q=LIMIT_%5B0-9%5D%2B%3A&re=1").await;
    assert_eq!(pattern["results"][0]["matches"].as_array().unwrap().len(), 15);
    // `counts\s+\}` runs across a newline: no line holds it, as with grep, unless asked for.
    let (_, within) = search(&app, &session, "q=counts%5Cs%2B%5C%7D&re=1").await;
    assert!(paths(&within).is_empty(), "a line matches by what lies within it: {within}");
    let (_, across) = search(&app, &session, "q=counts%5Cs%2B%5C%7D&re=1&multiline=1").await;
    assert_eq!(paths(&across), ["src/main.rs"]);
    let runs = app.events("search.run").await;
    assert!(runs[0].leaf.contains(r#""kind":"regex-multiline""#) && runs[1].leaf.contains(r#""kind":"regex""#));
    let (_, literal) = search(&app, &session, "q=LIMIT_%5B0-9%5D").await;
    assert!(paths(&literal).is_empty(), "without re=1 the brackets are literal");
    let (_, in_c) = search(&app, &session, &format!("q={}&path=**/*.c", "return")).await;
    assert_eq!(paths(&in_c), ["src/deep/secret.c"]);
    let (_, none) = search(&app, &session, "q=no+such+text+anywhere").await;
    assert!(paths(&none).is_empty() && none["truncated"] == false);

    let (status, invalid) = search(&app, &session, "q=fn+(&re=1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(invalid["error"].as_str().unwrap().contains("unclosed group"), "{invalid}");
    let (status, _) = search(&app, &session, "q=x&path=%5B").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for per_page in ["0", "501", "x"] {
        let (status, _) = search(&app, &session, &format!("q=x&per_page={per_page}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "per_page={per_page}");
    }
    let runs = app.events("search.run").await.len();
    for cursor in ["%21%21", "bm90IGEgY3Vyc29y", "MDphLnJz"] {
        let (status, bad) = search(&app, &session, &format!("q=x&cursor={cursor}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{cursor}");
        assert!(bad["error"].as_str().unwrap().contains("not a search cursor"), "{bad}");
    }
    assert_eq!(app.events("search.run").await.len(), runs, "a request refused as malformed searches nothing");
}

#[tokio::test]
async fn the_query_is_recorded_before_reading_and_the_lines_shown_before_sending() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, html) = app.get_text(&format!("/pins/{}/search?q=count", app.pin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<mark>count</mark>"));
    let run = app.events("search.run").await;
    let results = app.events("search.results").await;
    assert_eq!((run.len(), results.len()), (1, 1));
    assert!(run[0].index < results[0].index, "the query first");
    let query: Value = serde_json::from_str(&run[0].leaf).unwrap();
    assert_eq!(query["query"], serde_json::json!({"kind": "text", "text": "count", "case": false, "path": null}));
    let shown: Value = serde_json::from_str(&results[0].leaf).unwrap();
    let objects = shown["objects"].as_array().unwrap();
    assert!(
        !objects.is_empty() && objects.iter().all(|o| o["path"] == "src/main.rs" && o["lines"].is_array()),
        "{shown}"
    );
    // The page's line links are exactly the lines the event names.
    for object in objects {
        let (first, last) = (object["lines"][0].as_u64().unwrap(), object["lines"][1].as_u64().unwrap());
        for line in first..=last {
            assert!(html.contains(&format!("#L{line}\">{line}</a>")), "line {line} is on the page");
        }
    }
}

/// Security defect 18: the API dropped the context lines the event had recorded (5 lines sent, 15
/// recorded). The API's event names exactly the matching lines it sends.
#[tokio::test]
async fn the_api_records_exactly_the_lines_it_sends() {
    let app = spawn_app().await;
    let session = app.session_client("reviewer").await;
    let (status, found) = search(&app, &session, "q=hashmap").await;
    assert_eq!(status, StatusCode::OK);
    let mut sent: Vec<u64> = Vec::new();
    for result in found["results"].as_array().unwrap() {
        assert_eq!(result["path"], "src/main.rs");
        sent.extend(result["matches"].as_array().unwrap().iter().map(|m| m["line"].as_u64().unwrap()));
    }
    let results = app.events("search.results").await;
    let shown: Value = serde_json::from_str(&results.last().unwrap().leaf).unwrap();
    let mut recorded: Vec<u64> = Vec::new();
    for object in shown["objects"].as_array().unwrap() {
        let (first, last) = (object["lines"][0].as_u64().unwrap(), object["lines"][1].as_u64().unwrap());
        recorded.extend(first..=last);
    }
    assert!(!sent.is_empty());
    assert_eq!(recorded, sent, "the event names the lines sent, no more");
}

#[tokio::test]
async fn a_search_past_its_budget_says_so() {
    let app = spawn_app_with(SourceLimits { search_budget_ms: 0, ..SourceLimits::default() }).await;
    let session = app.session_client("reviewer").await;
    let (status, found) = search(&app, &session, "q=x").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(found["truncated"], true);
}

#[tokio::test]
async fn a_search_needs_a_grant_and_pages_through_many_files() {
    let app = spawn_app().await;
    let outsider = app.session_client("outsider").await;
    let (status, _) = search(&app, &outsider, "q=fn").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(app.events("search.run").await.is_empty(), "nothing was searched");
    assert_eq!(app.events("access.denied").await.len(), 1);
}

#[tokio::test]
async fn go_to_file_and_go_to_definition() {
    let app = spawn_app().await;
    let session = app.session_client("reviewer").await;
    // The pin's index and definitions are built in the background.
    for _ in 0..100 {
        let response = session.get(app.url(&format!("/api/v1/pins/{}/symbols/count", app.pin))).send().await.unwrap();
        let body: Value = response.json().await.unwrap();
        if body["indexing"] == false {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let response = session.get(app.url(&format!("/api/v1/pins/{}/files?q=mainrs", app.pin))).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["files"][0]["path"], "src/main.rs", "{body}");
    let response = session.get(app.url(&format!("/api/v1/pins/{}/symbols/count", app.pin))).send().await.unwrap();
    let symbol: Value = response.json().await.unwrap();
    let definition = &symbol["definitions"][0];
    assert_eq!(
        (definition["path"].as_str(), definition["kind"].as_str()),
        (Some("src/main.rs"), Some("function")),
        "{symbol}"
    );
    let line = main_rs().lines().position(|l| l.contains("pub fn count")).unwrap() as u64 + 1;
    assert_eq!(definition["line"], line);
    let references = symbol["references"].as_array().unwrap();
    assert!(references.iter().any(|r| r["text"].as_str().unwrap().contains("count(\"a b a\")")), "{symbol}");
    assert_eq!(app.events("symbol.lookup").await.len(), app.events("symbol.results").await.len());
    assert!(!app.events("files.find").await.is_empty());
}

/// A file with more matching lines than a page shows links to all of them: the search again, with
/// the file's own path as the glob and `lines=all`, 2,000 lines a page, each page going on from
/// the line after the last.
#[tokio::test]
async fn and_n_more_lines_is_a_link_that_shows_them() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, page) = app.get_text(&format!("/pins/{}/search?q=x+%3D+1", app.pin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("and 199,980 more matching lines in this file"), "20 shown of 200,000");
    let before = &page[..page.find(">and 199,980 more").unwrap()];
    let link = before[before.rfind("href=\"").unwrap() + 6..before.len() - 1].replace("&amp;", "&");
    assert!(link.contains("path=data%2Fbig%2Epy") && link.contains("lines=all") && !link.contains("page="), "{link}");
    let (status, all) = app.get_text(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all.matches(r#"<tr class="hit">"#).count(), 2_000);
    assert!(all.contains("200,000 matching lines in 1 file"), "the totals");
    assert!(all.contains("matching lines go on on the next page"));
    let next = &all[all.find("rel=\"next\"").map(|at| all[..at].rfind("href=\"").unwrap() + 6).unwrap()..];
    let next = next[..next.find('"').unwrap()].replace("&amp;", "&");
    let (_, second) = app.get_text(&next).await;
    assert_eq!(second.matches(r#"<tr class="hit">"#).count(), 2_000);
    assert!(second.contains("#L2001\">2001</a>") && !second.contains("#L2000\">2000</a></td><td class=\"lc\"><mark>"));
    let session = app.session_client("reviewer").await;
    let (_, found) = search(&app, &session, "q=x+%3D+1&path=data/big.py&lines=all").await;
    let matches = found["results"][0]["matches"].as_array().unwrap();
    assert_eq!((matches.len(), &matches[1_999]["line"]), (2_000, &serde_json::json!(2000)));
    let cursor = found["next"].as_str().expect("a next page");
    let (_, then) = search(&app, &session, &format!("q=x+%3D+1&path=data/big.py&lines=all&cursor={cursor}")).await;
    assert_eq!(then["results"][0]["matches"][0]["line"], 2001, "{}", then["results"][0]["matches"][0]);
    let results = app.events("search.results").await;
    assert!(
        results.iter().any(|e| e.leaf.contains(r#""from":{"line":2001,"path":"data/big.py"}"#)),
        "the page's start is recorded"
    );
}

/// A result line is the file view's highlighted line with its matches marked, once the file's
/// highlighting is at hand (here: the file was opened); plain text before.
#[tokio::test]
async fn result_lines_are_highlighted_as_the_file_view_highlights_them() {
    let app = spawn_app().await;
    app.login_as("reviewer").await;
    let (status, _) = app.open_file("src/main.rs").await;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = app.get_text(&format!("/pins/{}/search?q=fn+count&case=1", app.pin)).await;
    assert_eq!(status, StatusCode::OK);
    let row = page.split("<tr class=\"hit\">").nth(1).expect("a hit");
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(row.contains("<span class="), "highlighted: {row}");
    assert!(row.contains("<mark>fn </mark>") && row.contains("<mark>count</mark>"), "marked: {row}");
    assert!(!row.contains("<mark></mark>"), "no empty mark: {row}");
    let marks_open = row.matches("<mark>").count();
    assert_eq!(marks_open, row.matches("</mark>").count(), "balanced: {row}");
}

/// Pages walked by their cursor, one file a page, give the files one large page gives, in order,
/// each once; every page carries the same totals.
#[tokio::test]
async fn pages_walked_by_cursor_give_every_file_once() {
    let app = spawn_app().await;
    let session = app.session_client("reviewer").await;
    let (_, whole) = search(&app, &session, "q=e&per_page=500").await;
    let expected = paths(&whole);
    assert!(expected.len() >= 3, "{expected:?}");
    let (mut walked, mut cursor) = (Vec::new(), String::new());
    loop {
        let (status, page) = search(&app, &session, &format!("q=e&per_page=1{cursor}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert_eq!(page["total"], whole["total"]);
        walked.extend(paths(&page));
        match page["next"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(walked, expected);
}
