//! Imported tool results: Debian's flawfinder run on a C file of a pin, its SARIF imported with
//! every result at its line, shown on the file's lines, triaged (a confirmed result becomes a
//! finding carrying the rule's CWE), counted per tool and rule; results outside the pin, logs that
//! are not SARIF, a log over the cap, who reads them and a reader limited to paths.

use crate::exports::post_json;
use crate::helpers::*;
use app::model::PinId;
use clearroom::domain::Actor;
use reqwest::StatusCode;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

/// A C file with calls flawfinder reports (a copy without a bound, a format string from the user,
/// a shell command); the demo imports flawfinder's results on it too.
const COPY_C: &str = include_str!("../fixtures/sarif/copy.c");

/// A release with the C file, indexed, granted to the reviewer.
async fn release_with_c(app: &TestApp) -> PinId {
    let files =
        [("src/main.rs", main_rs().into_bytes(), 0o100644), ("src/copy.c", COPY_C.as_bytes().to_vec(), 0o100644)];
    let pin = next_release(app, &files, "With C").await;
    jobs_done(app, pin).await;
    pin
}

/// flawfinder's SARIF for the C file, run in a checkout as a lab would.
fn flawfinder_log() -> Vec<u8> {
    let checkout = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(checkout.path().join("src")).unwrap();
    std::fs::write(checkout.path().join("src/copy.c"), COPY_C).unwrap();
    let output = std::process::Command::new("flawfinder")
        .args(["--sarif", "src"])
        .current_dir(checkout.path())
        .output()
        .expect("flawfinder runs (Debian: apt-get install flawfinder; `cargo xtask test` installs it)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    output.stdout
}

async fn import(app: &TestApp, client: &reqwest::Client, csrf: &str, pin: PinId, body: Vec<u8>) -> (StatusCode, Value) {
    let response = client
        .post(app.url(&format!("/api/v1/pins/{pin}/sarif")))
        .header("origin", &app.address)
        .header("x-csrf-token", csrf)
        .header("content-type", "application/sarif+json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn get_json(app: &TestApp, client: &reqwest::Client, path: &str) -> (StatusCode, Value) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn flawfinder_results_land_on_their_lines_and_are_triaged_into_findings() {
    let app = spawn_app().await;
    let pin = release_with_c(&app).await;
    let log = flawfinder_log();
    let sarif: Value = serde_json::from_slice(&log).unwrap();
    let expected = sarif["runs"][0]["results"].as_array().unwrap().clone();
    assert!(expected.len() >= 3, "flawfinder reports the copy, the format and the shell: {sarif}");

    let (client, csrf) = signed_in(&app, "reviewer").await;
    let (status, imported) = import(&app, &client, &csrf, pin, log.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    let id = imported["id"].as_i64().unwrap();
    assert_eq!(imported["results"], expected.len());
    assert_eq!(imported["placed"], expected.len(), "every result is at a line of the pin");
    assert_eq!(imported["outside"], 0);

    // Every result at the line flawfinder named, which holds the code it quoted.
    let (status, page) = get_json(&app, &client, &format!("/api/v1/pins/{pin}/sarif/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let results = page["results"].as_array().unwrap();
    assert_eq!(results.len(), expected.len());
    for (result, wanted) in results.iter().zip(&expected) {
        let region = &wanted["locations"][0]["physicalLocation"]["region"];
        assert_eq!(result["path"], "src/copy.c");
        assert_eq!(result["start_line"], region["startLine"]);
        assert_eq!(result["rule_id"], wanted["ruleId"]);
        assert_eq!(result["level"], wanted["level"]);
        let line = COPY_C.lines().nth(region["startLine"].as_u64().unwrap() as usize - 1).unwrap();
        assert_eq!(line, region["snippet"]["text"].as_str().unwrap(), "the line the result names");
    }
    let strcpy = results.iter().find(|r| r["rule_id"] == "FF1001").expect("strcpy's rule");
    assert_eq!(
        strcpy["cwe"],
        json!([{"id": 120, "name": "Buffer Copy without Checking Size of Input ('Classic Buffer Overflow')"}])
    );

    // The file view lists each result after the code, in its rule's group, with a link to its
    // line (the page's script places it under the line); the rows are the file's packed rows all
    // the same: the page goes out with gzip, not compressed whole per view.
    let url = app.url(&format!("/pins/{pin}/blob/src/copy.c"));
    let (status, encoding, html) = get_compressed(&client, &url).await;
    assert_eq!((status, encoding.as_deref()), (StatusCode::OK, Some("gzip")), "the rows are spliced");
    let (_, plain) = app_get(&client, &app, &format!("/pins/{pin}/blob/src/copy.c")).await;
    assert_eq!(code_rows(&html), code_rows(&plain), "the same rows either way");
    let strcpy_at = strcpy["index"].as_u64().unwrap();
    let listed = html.find(&format!("<p class=\"result-lines\" data-i=\"{strcpy_at}\"><span class=\"result-state\">Not triaged</span> (1): <a href=\"#L6\">6</a>"));
    let link = listed.expect("the strcpy result listed: its index, and its line");
    assert!(html.find("</tbody>").unwrap() < link, "listed after the code");
    let group = &html[html[..link].rfind("<li class=\"result-group\"").unwrap()..link];
    assert!(group.contains("data-level=\"error\"") && group.contains("<code class=\"rule\">FF1001</code>"), "{group}");
    assert!(group.contains(&format!("data-triage=\"/pins/{pin}/sarif/{id}\"")), "{group}");
    assert!(html.contains(&format!("{} tool results", expected.len())), "counted in the file's header");
    let view = app.events("blob.view").await;
    let leaf: Value = serde_json::from_str(&view.last().unwrap().leaf).unwrap();
    assert_eq!(leaf["details"]["tool_results"], expected.len());

    // Triage: confirmed becomes a high finding with the rule's CWE, once.
    let triage = |index: u64| format!("/api/v1/pins/{pin}/sarif/{id}/results/{index}/triage");
    let (status, confirmed) =
        post_json(&app, &client, &csrf, &triage(strcpy_at), json!({"state": "confirmed", "reason": "argv reaches it"}))
            .await;
    assert_eq!(status, StatusCode::CREATED, "{confirmed}");
    let finding = confirmed["finding"].as_i64().unwrap();
    let (_, threads) = get_json(&app, &client, &format!("/api/v1/pins/{pin}/comments")).await;
    let made = threads["comments"].as_array().unwrap().iter().find(|t| t["id"] == finding).expect("the finding");
    assert_eq!((made["severity"].as_str(), made["path"].as_str()), (Some("high"), Some("src/copy.c")));
    assert_eq!(made["start_line"], 6);
    assert_eq!(made["cwe"][0]["id"], 120);
    assert!(made["body"].as_str().unwrap().contains("argv reaches it"));
    // The file's list (read from memory since the first view) shows the triage at once.
    let (_, html) = app_get(&client, &app, &format!("/pins/{pin}/blob/src/copy.c")).await;
    let confirmed = format!("data-i=\"{strcpy_at}\" data-state=\"confirmed\"><span class=\"result-state triage-confirmed\">Confirmed</span> (1): <a href=\"#L6\" data-finding=\"{finding}\">6</a>");
    assert!(html.contains(&confirmed), "{html}");
    let (status, again) =
        post_json(&app, &client, &csrf, &triage(strcpy_at), json!({"state": "not_useful", "reason": "x"})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{again}");

    let others: Vec<u64> = results.iter().map(|r| r["index"].as_u64().unwrap()).filter(|i| *i != strcpy_at).collect();
    let (status, refused) =
        post_json(&app, &client, &csrf, &triage(others[0]), json!({"state": "false_positive"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a false positive says why: {refused}");
    let (status, _) =
        post_json(&app, &client, &csrf, &triage(others[0]), json!({"state": "false_positive", "reason": "bounded"}))
            .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) =
        post_json(&app, &client, &csrf, &triage(others[1]), json!({"state": "not_useful", "reason": "test code"}))
            .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) =
        post_json(&app, &client, &csrf, &triage(999), json!({"state": "not_useful", "reason": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Counts per log and per rule, with the false-positive rate; filters.
    let (status, logs) = get_json(&app, &client, &format!("/api/v1/pins/{pin}/sarif")).await;
    assert_eq!(status, StatusCode::OK, "{logs}");
    let untriaged = expected.len() - 3;
    assert_eq!(
        logs["logs"][0]["counts"],
        json!({"untriaged": untriaged, "confirmed": 1, "false_positive": 1, "not_useful": 1})
    );
    assert_eq!(logs["logs"][0]["tools"][0].as_str().unwrap().split(' ').next(), Some("Flawfinder"));
    let rule = results[others[0] as usize]["rule_id"].clone();
    let counted = logs["rules"].as_array().unwrap().iter().find(|r| r["rule_id"] == rule).unwrap();
    assert_eq!(counted["counts"]["false_positive"], 1);
    let (_, open) = get_json(&app, &client, &format!("/api/v1/pins/{pin}/sarif/{id}?state=untriaged")).await;
    assert_eq!(open["results"].as_array().unwrap().len(), untriaged);
    let (_, only) = get_json(&app, &client, &format!("/api/v1/pins/{pin}/sarif/{id}?rule=FF1001")).await;
    assert_eq!(only["matching"], 1);
    let (status, _) = get_json(&app, &client, &format!("/api/v1/pins/{pin}/sarif/{id}?state=maybe")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Recorded: the import, three triages, the finding with its result.
    let import_events = app.events("sarif.import").await;
    let leaf: Value = serde_json::from_str(&import_events[0].leaf).unwrap();
    assert_eq!(leaf["details"]["results"], expected.len());
    assert_eq!(leaf["details"]["sha256"], hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&log)));
    assert_eq!(app.events("sarif.triage").await.len(), 3);
    let created = app.events("comment.create").await;
    let leaf: Value = serde_json::from_str(&created.last().unwrap().leaf).unwrap();
    assert_eq!(leaf["details"]["tool_result"], json!({"log_id": id, "result": strcpy_at}));
    assert!(
        app.data_dir.join(format!("artifacts/sarif/sha256/{}", leaf_sha(&import_events[0]))).is_file(),
        "the log is kept"
    );

    // The pin's page and the log's page.
    let (status, html) = app_get(&client, &app, &format!("/pins/{pin}/sarif")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("FF1001") && html.contains("False-positive rate"), "{html}");
    let (status, html) = app_get(&client, &app, &format!("/pins/{pin}/sarif/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("finding #{finding}")));
}

fn leaf_sha(entry: &app::model::AuditEntry) -> String {
    let leaf: Value = serde_json::from_str(&entry.leaf).unwrap();
    leaf["details"]["sha256"].as_str().unwrap().to_string()
}

async fn app_get(client: &reqwest::Client, app: &TestApp, path: &str) -> (StatusCode, String) {
    let response = client.get(app.url(path)).send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

/// A SARIF log of one run whose results are at `locations` (uri, line).
fn log_at(locations: &[(&str, Option<u32>)]) -> Vec<u8> {
    let results: Vec<Value> = locations
        .iter()
        .map(|(uri, line)| {
            let mut result = json!({"ruleId": "R1", "level": "warning", "message": {"text": format!("at {uri}")}});
            if !uri.is_empty() {
                let mut physical = json!({"artifactLocation": {"uri": uri}});
                if let Some(line) = line {
                    physical["region"] = json!({"startLine": line});
                }
                result["locations"] = json!([{"physicalLocation": physical}]);
            }
            result
        })
        .collect();
    serde_json::to_vec(
        &json!({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "lab-tool"}}, "results": results}]}),
    )
    .unwrap()
}

#[tokio::test]
async fn results_outside_the_pin_are_listed_with_why_and_bad_logs_are_refused_leaving_nothing() {
    let app = spawn_app().await;
    jobs_done(&app, app.pin).await;
    let (client, csrf) = signed_in(&app, "reviewer").await;
    let log = log_at(&[
        ("file:///home/lab/checkout/src/main.rs", Some(2)),
        ("vendor/zlib/inflate.c", Some(10)),
        ("src/main.rs", Some(9999)),
        ("", None),
    ]);
    let (status, imported) = import(&app, &client, &csrf, app.pin, log).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(imported, json!({"id": imported["id"], "results": 4, "placed": 1, "outside": 3}));
    let (_, page) = get_json(&app, &client, &format!("/api/v1/pins/{}/sarif/{}", app.pin, imported["id"])).await;
    assert_eq!(page["results"][0]["path"], "src/main.rs");
    let why: Vec<&str> = page["outside"].as_array().unwrap().iter().map(|r| r["outside"].as_str().unwrap()).collect();
    assert_eq!(why, ["no such file at the pin", "past the end of the file", "the result names no file"]);
    assert_eq!(page["outside"][0]["uri"], "vendor/zlib/inflate.c");

    // Not SARIF 2.1.0: refused with the reason, recorded, nothing kept.
    let kept =
        |app: &TestApp| std::fs::read_dir(app.data_dir.join("artifacts/sarif/sha256")).map(|d| d.count()).unwrap_or(0);
    let before = kept(&app);
    let crowded = format!(
        r#"{{"version": "2.1.0", "runs": [{{"tool": {{"driver": {{"name": "t"}}}}, "results": [{}{{}}]}}]}}"#,
        "{},".repeat(200_000)
    );
    for (body, reason) in [
        (crowded.into_bytes(), "the log holds 200001 results; a log holds at most 200000"),
        (b"{".to_vec(), "not SARIF 2.1.0 JSON"),
        (br#"{"version": "2.0.0", "runs": []}"#.to_vec(), "SARIF 2.0.0"),
        (br#"{"version": "2.1.0", "runs": [{"tool": {}}]}"#.to_vec(), "not SARIF 2.1.0 JSON"),
        (Vec::new(), "the log is empty"),
    ] {
        let (status, refused) = import(&app, &client, &csrf, app.pin, body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
        assert!(refused["error"].as_str().unwrap().contains(reason), "{refused}");
    }
    assert_eq!(kept(&app), before);
    assert_eq!(std::fs::read_dir(app.data_dir.join("artifacts/sarif/staging")).unwrap().count(), 0);
    let failed = app.events("sarif.import").await;
    assert_eq!(failed.iter().filter(|e| e.outcome == "failed").count(), 4, "the empty body is refused before");

    // A 200 MB log is refused by its declared length, before a byte of it is read.
    let token = app.token("reviewer").await;
    let address = app.address.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!(
        "POST /api/v1/pins/{}/sarif HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/sarif+json\r\nContent-Length: {}\r\n\r\n",
        app.pin,
        200 * 1024 * 1024
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).to_string();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("at most 128 MiB"), "{answer}");

    // Who reads them: not a regulator, not another reviewer without a grant, not an anonymous caller.
    let path = format!("/api/v1/pins/{}/sarif", app.pin);
    let (regulator, _) = signed_in(&app, "regulator").await;
    assert_eq!(get_json(&app, &regulator, &path).await.0, StatusCode::FORBIDDEN);
    let (outsider, _) = signed_in(&app, "outsider").await;
    assert_eq!(get_json(&app, &outsider, &path).await.0, StatusCode::NOT_FOUND);
    assert_eq!(get_json(&app, &bare_client(), &path).await.0, StatusCode::UNAUTHORIZED);
    let reviewer_token = app.token("reviewer").await;
    let response = bare_client().get(app.url(&path)).bearer_auth(&reviewer_token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "a token with `review` reads them");
}

#[tokio::test]
async fn a_reviewer_limited_to_paths_places_and_sees_only_results_on_their_paths() {
    let app = spawn_app().await;
    jobs_done(&app, app.pin).await;
    let now = app.clock.now_ms();
    let patterns = vec!["src/main.rs".to_string()];
    let access = app.domain.access();
    access
        .grant_paths(Actor::Operator, "outsider", &[app.pin], (now - 1000, now + 3_600_000), &patterns)
        .await
        .unwrap();
    let (scoped, scoped_csrf) = signed_in(&app, "outsider").await;
    let log = log_at(&[("src/main.rs", Some(3)), ("src/deep/secret.c", Some(1)), ("README.md", Some(1))]);
    let (status, imported) = import(&app, &scoped, &scoped_csrf, app.pin, log.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!((imported["placed"].as_u64(), imported["outside"].as_u64()), (Some(1), Some(2)));
    let (_, own) = get_json(&app, &scoped, &format!("/api/v1/pins/{}/sarif/{}", app.pin, imported["id"])).await;
    let why: Vec<&str> = own["outside"].as_array().unwrap().iter().map(|r| r["outside"].as_str().unwrap()).collect();
    assert_eq!(
        why,
        ["no such file at the pin", "no such file at the pin"],
        "a file outside the paths is as one absent"
    );

    // The whole-pin reviewer's log: the scoped reader sees its results on their paths only, and
    // no location of the others.
    let (client, csrf) = signed_in(&app, "reviewer").await;
    let (_, whole) = import(&app, &client, &csrf, app.pin, log).await;
    assert_eq!(whole["placed"], 3);
    let (status, page) = get_json(&app, &scoped, &format!("/api/v1/pins/{}/sarif/{}", app.pin, whole["id"])).await;
    assert_eq!(status, StatusCode::OK);
    let body = page.to_string();
    assert!(!body.contains(SECRET_MARKER) && !body.contains("secret.c") && !body.contains("README"), "{body}");
    assert_eq!(page["results"].as_array().unwrap().len(), 1);
    assert_eq!(page["log"]["counts"]["untriaged"], 1);
    let (_, logs) = get_json(&app, &scoped, &format!("/api/v1/pins/{}/sarif", app.pin)).await;
    assert!(!logs.to_string().contains("secret.c"));
    let counts: Vec<u64> =
        logs["logs"].as_array().unwrap().iter().map(|l| l["counts"]["untriaged"].as_u64().unwrap()).collect();
    assert_eq!(counts, [1, 1]);
    // Triaging a result on a file outside the paths is answered as a result that does not exist.
    let secret = {
        let (_, all) = get_json(&app, &client, &format!("/api/v1/pins/{}/sarif/{}", app.pin, whole["id"])).await;
        all["results"].as_array().unwrap().iter().find(|r| r["path"] == "src/deep/secret.c").unwrap()["index"].clone()
    };
    let triage = format!("/api/v1/pins/{}/sarif/{}/results/{secret}/triage", app.pin, whole["id"]);
    let (status, refused) =
        post_json(&app, &scoped, &scoped_csrf, &triage, json!({"state": "not_useful", "reason": "x"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{refused}");
    assert_eq!(refused["error"], "there is no such result in this log");
}

#[tokio::test]
async fn a_long_files_windows_carry_the_results_on_their_lines() {
    let app = spawn_app().await;
    jobs_done(&app, app.pin).await;
    let (client, csrf) = signed_in(&app, "reviewer").await;
    let log = log_at(&[("data/big.py", Some(10)), ("data/big.py", Some(4005)), ("data/big.py", Some(4003))]);
    let (status, imported) = import(&app, &client, &csrf, app.pin, log).await;
    assert_eq!((status, imported["placed"].as_u64()), (StatusCode::CREATED, Some(3)), "{imported}");

    // The page's window (lines 1–4000) lists the result on line 10, not those further on.
    let (status, page) = app_get(&client, &app, &format!("/pins/{}/blob/data/big.py", app.pin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains(r##"data-i="0"><span class="result-state">Not triaged</span> (1): <a href="#L10">10</a>"##));
    assert!(!page.contains("href=\"#L4005\"") && page.contains("Tool results on these lines"));

    // The next window, loaded as the reader scrolls, has the two on its lines, each after its line.
    let response = client.get(app.url(&format!("/pins/{}/lines/data/big.py?from=4001", app.pin))).send().await.unwrap();
    assert_eq!(response.headers()["x-lines"].to_str().unwrap().split('/').next(), Some("4001-8000"));
    let rows = response.text().await.unwrap();
    let at = |needle: &str| rows.find(needle).unwrap_or_else(|| panic!("{needle} in the window"));
    let id = imported["id"].as_i64().unwrap();
    let (l4003, first, l4004) = (at("id=\"L4003\""), at(&format!("id=\"result-{id}-2\"")), at("id=\"L4004\""));
    let (l4005, second, l4006) = (at("id=\"L4005\""), at(&format!("id=\"result-{id}-1\"")), at("id=\"L4006\""));
    assert!(l4003 < first && first < l4004 && l4005 < second && second < l4006, "each under its line");
    assert_eq!(rows.matches("class=\"annotation-row\"").count(), 2);
    let lines = app.events("blob.lines").await;
    let leaf: Value = serde_json::from_str(&lines.last().unwrap().leaf).unwrap();
    assert_eq!(leaf["details"]["tool_results"], 2, "the window's event counts the results it sent");
    assert_eq!(app.count_sql("SELECT COUNT(*) FROM sarif_staged").await, 0, "the written rows are not left staged");

    // A log whose import cannot be recorded leaves no result, staged or not.
    let results = app.count_sql("SELECT COUNT(*) FROM sarif_results").await;
    app.break_audit_inserts().await;
    let (status, _) = import(&app, &client, &csrf, app.pin, log_at(&[("data/big.py", Some(7))])).await;
    assert!(status.is_server_error(), "{status}");
    assert_eq!(app.count_sql("SELECT COUNT(*) FROM sarif_results").await, results);
    assert_eq!(app.count_sql("SELECT COUNT(*) FROM sarif_staged").await, 0);
}
