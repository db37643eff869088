//! Findings classified with CWE ids: checked against the CWE list the repository ships, shown
//! with their names, filterable, recorded in the finding's event, and carried to the export's
//! `comments.json` and to SARIF as taxa of the CWE taxonomy, which the verifier checks.

use crate::exports::{download, export_over_api, member, members, rebuild_signed, verify};
use crate::helpers::*;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

async fn post_comment(app: &TestApp, client: &Client, csrf: &str, body: Value) -> (StatusCode, Value) {
    crate::exports::post_json(app, client, csrf, &format!("/api/v1/pins/{}/comments", app.pin), body).await
}

async fn threads(app: &TestApp, client: &Client, query: &str) -> (StatusCode, Value) {
    let url = app.url(&format!("/api/v1/pins/{}/comments{query}", app.pin));
    let response = client.get(url).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_finding_carries_cwe_ids_from_the_list_named_and_filterable() {
    let app = spawn_app().await;
    let (client, csrf) = signed_in(&app, "reviewer").await;
    let finding = json!({"path": "src/main.rs", "start_line": 2, "severity": "high", "body": "Unchecked copy",
                         "cwe": [787, 20, 787]});
    let (status, created) = post_comment(&app, &client, &csrf, finding).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let events = app.events("comment.create").await;
    let leaf: Value = serde_json::from_str(&events.last().unwrap().leaf).unwrap();
    assert_eq!(leaf["details"]["cwe"], json!([20, 787]), "sorted, once each");

    // Refused, with the reason, and nothing recorded: an id the list lacks, on a plain comment.
    for (body, reason) in [
        (
            json!({"path": "src/main.rs", "severity": "low", "body": "x", "cwe": [99999]}),
            "CWE-99999 is not a weakness of the CWE 4.14 list",
        ),
        (
            json!({"path": "src/main.rs", "body": "a plain comment", "cwe": [79]}),
            "only a finding (a comment with a severity) carries CWE ids",
        ),
    ] {
        let (status, refused) = post_comment(&app, &client, &csrf, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(refused["error"], reason);
    }
    assert_eq!(app.events("comment.create").await.len(), events.len());

    // The form takes ids as people write them.
    let html = app_page_with_form(&app, &client, &csrf).await;
    assert!(html.contains(r#"<span class="badge cwe" title="Use of Hard-coded Credentials">CWE-798</span>"#), "{html}");

    let (_, list) = threads(&app, &client, "").await;
    let unchecked = list["comments"].as_array().unwrap().iter().find(|t| t["body"] == "Unchecked copy").unwrap();
    assert_eq!(
        unchecked["cwe"],
        json!([{"id": 20, "name": "Improper Input Validation"}, {"id": 787, "name": "Out-of-bounds Write"}])
    );
    let (_, only) = threads(&app, &client, "?cwe=CWE-787").await;
    assert_eq!(only["comments"].as_array().unwrap().len(), 1);
    let (_, by_number) = threads(&app, &client, "?cwe=798").await;
    assert_eq!(by_number["comments"][0]["cwe"][1]["id"], 798);
    let (_, none) = threads(&app, &client, "?cwe=78").await;
    assert!(none["comments"].as_array().unwrap().is_empty(), "78 is not 787");
    let (status, _) = threads(&app, &client, "?cwe=seventy").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// Posts a finding through the composer's form ("CWE-798, 22") and opens the comments page.
async fn app_page_with_form(app: &TestApp, client: &Client, csrf: &str) -> String {
    let fields = [
        ("csrf", csrf),
        ("back", ""),
        ("path", "src/main.rs"),
        ("start_line", "1"),
        ("end_line", "1"),
        ("severity", "medium"),
        ("cwe", "CWE-798, 22"),
        ("body", "A password in the source"),
    ];
    let path = format!("/pins/{}/comments", app.pin);
    let response = client.post(app.url(&path)).header("origin", &app.address).form(&fields).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = client.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    assert!(page.contains("<b>CWE-22</b> Improper Limitation of a Pathname"), "the names are shown");
    page
}

#[tokio::test]
async fn the_export_carries_cwe_ids_to_sarif_taxa_and_the_verifier_checks_them() {
    let app = spawn_app().await;
    let (client, csrf) = signed_in(&app, "reviewer").await;
    for (line, cwe) in [(1, json!([787, 20])), (2, json!([20])), (3, json!([]))] {
        let body = json!({"path": "src/main.rs", "start_line": line, "severity": "high", "body": format!("finding {line}"),
                          "cwe": cwe});
        assert_eq!(post_comment(&app, &client, &csrf, body).await.0, StatusCode::CREATED);
    }
    let token = app.token("regulator").await;
    let (id, _) = export_over_api(&app, &token, json!({"pins": [app.pin.get()]})).await;
    let bundle = download(&app, &token, id).await.bytes().await.unwrap().to_vec();
    assert!(verify(&app, &bundle, None).ok());
    let list = members(&bundle);
    let sarif: Value = serde_json::from_slice(member(&list, "findings.sarif")).unwrap();
    let run = &sarif["runs"][0];
    assert_eq!(run["tool"]["driver"]["supportedTaxonomies"], json!([{"name": "CWE", "index": 0}]));
    let taxonomy = &run["taxonomies"][0];
    assert_eq!(
        (&taxonomy["name"], &taxonomy["version"], &taxonomy["organization"]),
        (&json!("CWE"), &json!("4.14"), &json!("MITRE"))
    );
    assert_eq!(
        taxonomy["taxa"],
        json!([{"id": "20", "name": "Improper Input Validation"}, {"id": "787", "name": "Out-of-bounds Write"}])
    );
    let taxa_of = |text: &str| {
        let result = run["results"].as_array().unwrap().iter().find(|r| r["message"]["text"] == text).unwrap();
        result.get("taxa").cloned()
    };
    let component = json!({"name": "CWE", "index": 0});
    assert_eq!(
        taxa_of("finding 1"),
        Some(
            json!([{"id": "20", "index": 0, "toolComponent": component}, {"id": "787", "index": 1, "toolComponent": component}])
        )
    );
    assert_eq!(taxa_of("finding 2"), Some(json!([{"id": "20", "index": 0, "toolComponent": component}])));
    assert_eq!(taxa_of("finding 3"), None, "no taxa for a finding with no CWE id");
    let comments: Value = serde_json::from_slice(member(&list, "comments.json")).unwrap();
    let first =
        comments.as_array().unwrap().iter().find(|t| t["comments"][0]["versions"][0]["body"] == "finding 1").unwrap();
    assert_eq!(first["cwe"], json!([20, 787]));
    let report = String::from_utf8(member(&list, "report.html").to_vec()).unwrap();
    assert!(report.contains("CWE-787: Out-of-bounds Write"));

    // A bundle whose comments.json changes a finding's CWE ids, signed again, is caught.
    let altered = rebuild_signed(&app, &bundle, "comments.json", |text| {
        let mut threads: Value = serde_json::from_str(text).unwrap();
        for thread in threads.as_array_mut().unwrap() {
            if thread["cwe"] == json!([20, 787]) {
                thread["cwe"] = json!([20]);
            }
        }
        serde_json::to_string_pretty(&threads).unwrap()
    });
    let outcome = verify(&app, &altered, None);
    assert!(outcome.failures.iter().any(|f| f.contains("CWE ids or requirements differ")), "{:#?}", outcome.failures);
}
