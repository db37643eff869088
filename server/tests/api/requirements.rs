//! Requirements traced to code: staff import a pin's list (CSV or JSON; its canonical SHA-256
//! recorded), reviewers tag regions with its ids (checked against it), the traceability page lists
//! untraced requirements first with each region's review state, findings and verdict notes, and the
//! export carries `requirements.json` and `traceability.csv`, which the verifier recomputes.

use crate::exports::{download, export_over_api, member, members, post_json, rebuild_signed, verify};
use crate::helpers::*;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

const LIST: &str = "id,title,text\r\nR.1,Encryption,\"Encrypt, then MAC.\"\r\nR.2,Counting,Count words.\r\nR.3,Logging,Log each access.\r\n";

/// The list's canonical form, written out by hand (RFC 8785: members id, text, title).
const CANONICAL: &str = r#"[{"id":"R.1","text":"Encrypt, then MAC.","title":"Encryption"},{"id":"R.2","text":"Count words.","title":"Counting"},{"id":"R.3","text":"Log each access.","title":"Logging"}]"#;

async fn import(app: &TestApp, client: &Client, csrf: &str, body: &str) -> (StatusCode, Value) {
    let response = client
        .post(app.url(&format!("/api/v1/pins/{}/requirements", app.pin)))
        .header("origin", &app.address)
        .header("x-csrf-token", csrf)
        .header("content-type", "text/csv")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn comment(app: &TestApp, client: &Client, csrf: &str, body: Value) -> (StatusCode, Value) {
    post_json(app, client, csrf, &format!("/api/v1/pins/{}/comments", app.pin), body).await
}

async fn traceability(app: &TestApp, client: &Client) -> Value {
    let response = client.get(app.url(&format!("/api/v1/pins/{}/traceability", app.pin))).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn staff_import_a_list_reviewers_trace_code_to_it_and_the_page_puts_untraced_first() {
    let app = spawn_app().await;
    let (staff, staff_csrf) = signed_in(&app, "staff").await;
    let (reviewer, csrf) = signed_in(&app, "reviewer").await;

    // Before a list: tags are refused, the page says there is none.
    let (status, refused) =
        comment(&app, &reviewer, &csrf, json!({"path": "src/main.rs", "body": "x", "requirements": ["R.1"]})).await;
    assert_eq!(
        (status, refused["error"].as_str()),
        (StatusCode::BAD_REQUEST, Some("this pin has no requirement list; staff import one first"))
    );
    assert!(traceability(&app, &reviewer).await["list"].is_null());

    // Only staff import; a list that is not one is refused with the reason, and recorded.
    let (status, _) = import(&app, &reviewer, &csrf, LIST).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, refused) = import(&app, &staff, &staff_csrf, "id,title,text\nR.1,a,\nR.1,b,\n").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refused["error"], "requirement 2: the id R.1 is listed twice");
    let failed = app.events("requirements.import").await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].outcome, "failed");

    let (status, imported) = import(&app, &staff, &staff_csrf, LIST).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(imported["requirements"], 3);
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(CANONICAL.as_bytes()));
    assert_eq!(imported["sha256"], digest.as_str());
    let events = app.events("requirements.import").await;
    let done = events.iter().find(|e| e.outcome == "ok").unwrap();
    let leaf: Value = serde_json::from_str(&done.leaf).unwrap();
    assert_eq!(leaf["details"]["sha256"], digest.as_str());
    assert_eq!(leaf["details"]["list_id"], imported["list"]);

    // Tags: checked against the list, kept in its order, recorded; not on replies or notes.
    let (status, traced) = comment(
        &app,
        &reviewer,
        &csrf,
        json!({"path": "src/main.rs", "start_line": 1, "end_line": 2, "body": "Counts here.\nMore text.", "requirements": ["R.2"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{traced}");
    let (status, finding) = comment(
        &app,
        &reviewer,
        &csrf,
        json!({"path": "src/main.rs", "start_line": 3, "severity": "high", "body": "No MAC.", "requirements": ["R.2", "R.1", "R.2"]}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{finding}");
    let creates = app.events("comment.create").await;
    let leaves: Vec<Value> = creates.iter().map(|e| serde_json::from_str(&e.leaf).unwrap()).collect();
    let recorded = leaves.iter().find(|l| l["details"]["comment_id"] == finding["id"]).unwrap();
    assert_eq!(recorded["details"]["requirements"], json!(["R.1", "R.2"]));
    for (body, reason) in [
        (
            json!({"path": "src/main.rs", "body": "x", "requirements": ["R.9"]}),
            "R.9 is not in this pin's requirement list",
        ),
        (
            json!({"path": "src/main.rs", "body": "x", "private": true, "requirements": ["R.1"]}),
            "a thread's region is traced to requirements, not a reply or a note",
        ),
        (
            json!({"path": "src/main.rs", "body": "x", "reply_to": finding["id"], "requirements": ["R.1"]}),
            "a thread's region is traced to requirements, not a reply or a note",
        ),
    ] {
        let (status, refused) = comment(&app, &reviewer, &csrf, body).await;
        assert_eq!((status, refused["error"].as_str()), (StatusCode::BAD_REQUEST, Some(reason)));
    }
    let url = app.url(&format!("/api/v1/pins/{}/comments", app.pin));
    let threads: Value = reviewer.get(url).send().await.unwrap().json().await.unwrap();
    let tagged = threads["comments"].as_array().unwrap().iter().find(|t| t["body"] == "No MAC.").unwrap();
    assert_eq!(tagged["requirements"], json!(["R.1", "R.2"]));

    // Not yet shown: the page lists R.3 (untraced) first, then R.1 and R.2 in the list's order.
    let page = traceability(&app, &reviewer).await;
    let ids: Vec<&str> = page["requirements"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["R.3", "R.1", "R.2"]);
    assert_eq!((page["traced"].as_u64(), page["untraced"].as_u64()), (Some(2), Some(1)));
    assert_eq!(page["list"]["sha256"], digest.as_str());
    let r2 = &page["requirements"][2];
    assert_eq!(r2["regions"].as_array().unwrap().len(), 2);
    assert_eq!(r2["regions"][0]["summary"], "Counts here.");
    assert_eq!(r2["regions"][0]["shown_by"], json!([]));
    assert_eq!((r2["findings"].as_u64(), r2["open_findings"].as_u64()), (Some(1), Some(1)));

    // Shown (the file opened), marked reviewed, and a verdict naming R.1: the page says so.
    let (status, _) = app_file(&app, &reviewer).await;
    assert_eq!(status, StatusCode::OK);
    let marked = reviewer
        .put(app.url(&format!("/api/v1/pins/{}/reviewed/src/main.rs", app.pin)))
        .header("origin", &app.address)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert!(marked.status().is_success(), "{}", marked.status());
    jobs_done(&app, app.pin).await;
    let summary = "Mostly fine.\nR.1: the MAC is missing (finding).\nR.10 is not ours.";
    let (status, verdict) = post_json(
        &app,
        &reviewer,
        &csrf,
        &format!("/api/v1/pins/{}/verdicts", app.pin),
        json!({"verdict": "concerns", "summary": summary}),
    )
    .await;
    assert!(status.is_success(), "{verdict}");
    let page = traceability(&app, &reviewer).await;
    let r1 = &page["requirements"][1];
    assert_eq!(r1["regions"][0]["shown_by"], json!(["reviewer"]));
    assert_eq!(r1["regions"][0]["reviewed_by"], json!(["reviewer"]));
    assert_eq!(r1["verdict_notes"][0]["note"], "R.1: the MAC is missing (finding).");
    assert_eq!(r1["verdict_notes"].as_array().unwrap().len(), 1, "R.10 is another id");
    assert!(page["requirements"][0]["verdict_notes"].as_array().unwrap().is_empty());
    // A verdict given again supersedes the first: its notes are the ones that stand.
    let again = json!({"verdict": "concerns", "summary": "R.1: still no MAC."});
    let (status, _) = post_json(&app, &reviewer, &csrf, &format!("/api/v1/pins/{}/verdicts", app.pin), again).await;
    assert!(status.is_success());
    let notes = traceability(&app, &reviewer).await["requirements"][1]["verdict_notes"].clone();
    assert_eq!(
        notes.as_array().map(|n| n.iter().map(|n| n["note"].clone()).collect::<Vec<_>>()),
        Some(vec![json!("R.1: still no MAC.")])
    );
    let views = app.events("traceability.view").await;
    assert_eq!(views.len(), 4, "every reading is recorded");

    // The page: untraced first, marked; the staff's import form; the tags on the file's threads.
    let html =
        reviewer.get(app.url(&format!("/pins/{}/traceability", app.pin))).send().await.unwrap().text().await.unwrap();
    let (r3, r1) = (html.find("id=\"req-R.3\"").unwrap(), html.find("id=\"req-R.1\"").unwrap());
    assert!(r3 < r1, "untraced first");
    assert!(html.contains("untraced-badge") && !html.contains("requirements-upload"), "no import form for a reviewer");
    let staff_page =
        staff.get(app.url(&format!("/pins/{}/traceability", app.pin))).send().await.unwrap().text().await.unwrap();
    assert!(staff_page.contains("requirements-upload"));
    let (_, file) = app_file(&app, &reviewer).await;
    assert!(file.contains(&format!("href=\"/pins/{}/traceability#req-R.2\"", app.pin)), "the tag links to its row");
}

async fn app_file(app: &TestApp, client: &Client) -> (StatusCode, String) {
    let response = client.get(app.url(&format!("/pins/{}/blob/src/main.rs", app.pin))).send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

#[tokio::test]
async fn the_export_carries_the_list_and_the_matrix_and_the_verifier_recomputes_them() {
    let app = spawn_app().await;
    let (staff, staff_csrf) = signed_in(&app, "staff").await;
    let (reviewer, csrf) = signed_in(&app, "reviewer").await;
    let json_list = json!([{"id": "R.1", "title": "Encryption", "text": "Encrypt, then MAC."},
                           {"id": "R.2", "title": "Counting", "text": "Count words."},
                           {"id": "R.3", "title": "Logging", "text": "Log each access."}]);
    let (status, imported) = import(&app, &staff, &staff_csrf, &json_list.to_string()).await;
    assert_eq!(status, StatusCode::CREATED, "JSON is accepted too: {imported}");
    let digest = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(CANONICAL.as_bytes()));
    assert_eq!(imported["sha256"], digest.as_str(), "the same list, the same digest as from CSV");
    let (status, _) = app_file(&app, &reviewer).await;
    assert_eq!(status, StatusCode::OK);
    for (line, ids) in [(1, json!(["R.2"])), (3, json!(["R.1", "R.2"]))] {
        let body =
            json!({"path": "src/main.rs", "start_line": line, "body": format!("line {line}"), "requirements": ids});
        assert_eq!(comment(&app, &reviewer, &csrf, body).await.0, StatusCode::CREATED);
    }

    let token = app.token("regulator").await;
    let (id, _) = export_over_api(&app, &token, json!({"pins": [app.pin.get()]})).await;
    let bundle = download(&app, &token, id).await.bytes().await.unwrap().to_vec();
    let outcome = verify(&app, &bundle, None);
    assert!(outcome.ok(), "{:#?}", outcome.failures);
    let list = members(&bundle);
    let lists: Value = serde_json::from_slice(member(&list, "requirements.json")).unwrap();
    assert_eq!(lists[0]["sha256"], digest.as_str());
    assert_eq!(lists[0]["requirements"][2]["id"], "R.3");
    let csv = String::from_utf8(member(&list, "traceability.csv").to_vec()).unwrap();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    let pin = app.pin.get();
    assert_eq!(
        lines[0],
        "pin,requirement,title,thread,kind,severity,state,path,start_line,end_line,shown_by,reviewed_by"
    );
    assert_eq!(lines.len(), 5, "R.1 once, R.2 twice, R.3 untraced: {csv}");
    assert!(
        lines[1].starts_with(&format!("{pin},R.1,Encryption,"))
            && lines[1].ends_with(",open,src/main.rs,3,3,reviewer,")
    );
    assert_eq!(lines[4], format!("{pin},R.3,Logging,,,,,,,,,"));
    let report = String::from_utf8(member(&list, "report.html").to_vec()).unwrap();
    assert!(report.contains("Requirements traced to code") && report.contains("2 of 3 requirements traced"));

    // A matrix that claims a reviewer saw what they did not, signed again, is caught; so is a list
    // whose text changed, and one that is left out.
    let altered =
        rebuild_signed(&app, &bundle, "traceability.csv", |text| text.replacen(",3,3,reviewer,", ",3,3,,", 1));
    let outcome = verify(&app, &altered, None);
    assert!(outcome.failures.iter().any(|f| f.contains("traceability.csv: row 2")), "{:#?}", outcome.failures);
    let altered = rebuild_signed(&app, &bundle, "requirements.json", |text| text.replace("Log each access.", "Log."));
    let outcome = verify(&app, &altered, None);
    assert!(
        outcome.failures.iter().any(|f| f.contains("does not have the SHA-256 it states")),
        "{:#?}",
        outcome.failures
    );
    let altered = rebuild_signed(&app, &bundle, "comments.json", |text| text.replacen("\"R.1\",", "", 1));
    let outcome = verify(&app, &altered, None);
    assert!(outcome.failures.iter().any(|f| f.contains("CWE ids or requirements differ")), "{:#?}", outcome.failures);
}
