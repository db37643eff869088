//! Regulator exports end to end: a fixture review (views, comments, findings, a private note,
//! marks, a verdict, builds) exported over the API, downloaded and verified offline; every member
//! altered, an event removed or reordered, a bundle re-signed with another key and a checkpoint
//! from a rewritten history each caught with a precise message; the SARIF, CSV and JSON members
//! read back; who may export and download; a job resumed after its instance stopped; expiry;
//! the limits (a repeat answered with the waiting export, three waiting, a day's quota, the disk
//! kept for bundles) and the exports' own queue.

use crate::helpers::*;
use app::model::{ExportRequest, Role};
use clearroom::audit::note::NoteSigner;
use clearroom::domain::Actor;
use clearroom::export::verify::{verify_bundle, Outcome, Trust};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Digest as _;
use std::io::{Read as _, Write as _};

fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

pub(crate) async fn post_json(
    app: &TestApp,
    client: &reqwest::Client,
    csrf: &str,
    path: &str,
    body: Value,
) -> (StatusCode, Value) {
    let response = client
        .post(app.url(path))
        .header("origin", &app.address)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Views, a comment, a finding (answered and disputed), a private note, a reviewed mark, a
/// verdict and two builds.
async fn fixture_review(app: &TestApp) {
    let pin = app.pin;
    let (reviewer, csrf) = signed_in(app, "reviewer").await;
    for path in ["src/main.rs", "README.md"] {
        let status = reviewer.get(app.url(&format!("/pins/{pin}/blob/{path}"))).send().await.unwrap().status();
        assert_eq!(status, StatusCode::OK);
    }
    let (status, _) = post_json(
        app,
        &reviewer,
        &csrf,
        &format!("/api/v1/pins/{pin}/comments"),
        json!({"path": "src/main.rs", "start_line": 2, "end_line": 4, "body": "Is `count` bounded?"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, finding) = post_json(
        app,
        &reviewer,
        &csrf,
        &format!("/api/v1/pins/{pin}/comments"),
        json!({"path": "src/main.rs", "start_line": 5, "end_line": 5, "severity": "high",
               "body": "Unbounded allocation\n\nThe map grows with the input."}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{finding}");
    let finding = finding["id"].as_i64().unwrap();
    let (status, _) = post_json(
        app,
        &reviewer,
        &csrf,
        &format!("/api/v1/pins/{pin}/comments"),
        json!({"path": "README.md", "private": true, "body": "PRIVATE NOTE TEXT"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let status = reviewer
        .put(app.url(&format!("/api/v1/pins/{pin}/reviewed/README.md")))
        .header("origin", &app.address)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap()
        .status();
    assert!(status.is_success(), "{status}");
    let (staff, staff_csrf) = signed_in(app, "staff").await;
    let (status, _) = post_json(
        app,
        &staff,
        &staff_csrf,
        &format!("/api/v1/pins/{pin}/comments"),
        json!({"path": "src/main.rs", "body": "The input is bounded upstream.", "reply_to": finding}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = post_json(
        app,
        &staff,
        &staff_csrf,
        &format!("/api/v1/comments/{finding}/state"),
        json!({"state": "disputed", "reason": "bounded upstream"}),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    let (status, body) = post_json(
        app,
        &reviewer,
        &csrf,
        &format!("/api/v1/pins/{pin}/verdicts"),
        json!({"verdict": "concerns", "summary": "One open finding."}),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");
    // Two builder accounts agree: a build reproduced (a builder is the account that records).
    for builder in ["ci", "rebuilder"] {
        let password = Some(clearroom::auth::Password::new(PASSWORD.into()));
        app.domain.admin().create_user(Actor::Operator, builder, Role::Builder, password).await.unwrap();
        let body =
            json!({ "name": "server", "platform": "linux-x86_64", "sha256": sha256(b"the server binary"), "size": 17 });
        let response = new_client()
            .post(app.url(&format!("/api/v1/pins/{pin}/builds")))
            .bearer_auth(app.token(builder).await)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
    }
}

/// Asks for an export over the API and waits for the background job.
pub(crate) async fn export_over_api(app: &TestApp, token: &str, body: Value) -> (i64, Value) {
    let response = new_client().post(app.url("/api/v1/exports")).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = response.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    for _ in 0..600 {
        let status: Value = new_client()
            .get(app.url(&format!("/api/v1/exports/{id}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        match status["state"].as_str() {
            Some("done") => return (id, status),
            Some("queued" | "running") => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
            _ => panic!("the export ended badly: {status}"),
        }
    }
    panic!("the export did not finish");
}

pub(crate) fn members(bundle: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bundle)).unwrap();
    let mut out = Vec::new();
    for index in 0..archive.len() {
        let mut file = archive.by_index(index).unwrap();
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).unwrap();
        out.push((file.name().unwrap().into_owned(), bytes));
    }
    out
}

pub(crate) fn member<'a>(members: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &members.iter().find(|(n, _)| n == name).unwrap_or_else(|| panic!("{name} is missing")).1
}

/// Writes a bundle back, after `edit`; with `signer`, the manifest's hashes are brought up to date
/// and it is signed again (what a forger with that key would do).
fn rebuild(bundle: &[u8], edit: impl FnOnce(&mut Vec<(String, Vec<u8>)>), signer: Option<&NoteSigner>) -> Vec<u8> {
    let mut list = members(bundle);
    edit(&mut list);
    if let Some(signer) = signer {
        let mut manifest: Value =
            serde_json::from_slice(&list.iter().find(|(n, _)| n == "manifest.json").unwrap().1).unwrap();
        let records: Vec<Value> = list
            .iter()
            .filter(|(n, _)| n != "manifest.json" && n != "manifest.sig")
            .map(|(n, b)| json!({"name": n, "sha256": sha256(b), "size": b.len()}))
            .collect();
        manifest["members"] = Value::Array(records);
        let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
        let signature = signer.sign(&clearroom::export::signature_text(signer.name(), &sha256(&bytes))).unwrap();
        for (name, content) in list.iter_mut() {
            if name == "manifest.json" {
                *content = bytes.clone();
            } else if name == "manifest.sig" {
                *content = signature.clone().into_bytes();
            }
        }
    }
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        for (name, bytes) in &list {
            zip.start_file(name.as_str(), zip::write::SimpleFileOptions::default()).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
    }
    out.into_inner()
}

/// The bundle with one text member changed by `edit`, its manifest brought up to date and signed
/// again with the log's own key (what an insider with the key could do).
pub(crate) fn rebuild_signed(app: &TestApp, bundle: &[u8], name: &str, edit: impl FnOnce(&str) -> String) -> Vec<u8> {
    let edit_member = |list: &mut Vec<(String, Vec<u8>)>| {
        let content = &mut list.iter_mut().find(|(n, _)| n == name).unwrap().1;
        *content = edit(std::str::from_utf8(content).unwrap()).into_bytes();
    };
    rebuild(bundle, edit_member, Some(&app.signer))
}

pub(crate) fn verify(app: &TestApp, bundle: &[u8], previous: Option<&str>) -> Outcome {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), bundle).unwrap();
    let key = app.signer.verifier();
    verify_bundle(
        file.path(),
        &Trust { log_key: &key, attestation_key: None, policy: None, previous_checkpoint: previous },
    )
}

fn failures_mention(outcome: &Outcome, needle: &str) -> bool {
    outcome.failures.iter().any(|f| f.contains(needle))
}

async fn regulator_token(app: &TestApp) -> String {
    app.token("regulator").await
}

pub(crate) async fn download(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    new_client().get(app.url(&format!("/api/v1/exports/{id}/bundle"))).bearer_auth(token).send().await.unwrap()
}

#[tokio::test]
async fn a_regulator_exports_a_review_and_the_bundle_verifies_offline() {
    let app = spawn_app().await;
    fixture_review(&app).await;
    let token = regulator_token(&app).await;
    let (id, status) = export_over_api(&app, &token, json!({"pins": [app.pin.get()]})).await;
    let response = download(&app, &token, id).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let bundle = response.bytes().await.unwrap().to_vec();
    assert_eq!(status["sha256"].as_str(), Some(sha256(&bundle).as_str()), "the status names the file's hash");

    let outcome = verify(&app, &bundle, None);
    assert!(outcome.ok(), "{:#?}", outcome);
    assert!(outcome.passed.iter().any(|p| p.starts_with("inclusion: all")), "{:#?}", outcome.passed);

    let list = members(&bundle);
    let manifest: Value = serde_json::from_slice(member(&list, "manifest.json")).unwrap();
    assert_eq!(manifest["format"], "clearroom-bundle/1");
    assert_eq!(manifest["scope"]["pins"], json!([app.pin.get()]));

    // The events: the reviewer's views are there, with their blob ids.
    let events = String::from_utf8(member(&list, "events.jsonl").to_vec()).unwrap();
    let leaves: Vec<Value> = events
        .lines()
        .map(|line| {
            let entry: Value = serde_json::from_str(line).unwrap();
            let bytes =
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, entry["leaf"].as_str().unwrap())
                    .unwrap();
            serde_json::from_slice(&bytes).unwrap()
        })
        .collect();
    assert!(leaves
        .iter()
        .any(|l| l["action"] == "blob.view" && l["actor"] == "reviewer" && l["objects"][0]["path"] == "src/main.rs"));
    assert!(
        leaves.iter().any(|l| l["action"] == "auth.login" && l["actor"] == "reviewer"),
        "sign-ins of the sessions come along"
    );
    assert!(!events.contains("PRIVATE NOTE TEXT"));

    // SARIF: one result for the finding, as specified.
    let sarif: Value = serde_json::from_slice(member(&list, "findings.sarif")).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(
        sarif["$schema"],
        "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    );
    let run = &sarif["runs"][0];
    assert_eq!(run["versionControlProvenance"][0]["revisionId"].as_str().unwrap().len(), 40);
    assert!(run["versionControlProvenance"][0]["repositoryUri"].as_str().unwrap().starts_with("file://"));
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 1, "{results:#?}");
    let result = &results[0];
    assert_eq!(result["level"], "error", "high maps to error");
    assert_eq!(result["message"]["text"], "Unbounded allocation");
    assert_eq!(result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "src/main.rs");
    assert_eq!(result["locations"][0]["physicalLocation"]["region"], json!({"startLine": 5, "endLine": 5}));
    assert_eq!(result["suppressions"][0]["status"], "underReview", "disputed is under review");
    assert_eq!(result["properties"]["reviewer"], "reviewer");
    assert!(result["partialFingerprints"]["clearroomFinding/v1"].as_str().unwrap().starts_with("product/"));

    // comments.json: both threads, the reply, no private note.
    let comments = String::from_utf8(member(&list, "comments.json").to_vec()).unwrap();
    assert!(comments.contains("Is `count` bounded?") && comments.contains("bounded upstream"));
    assert!(!comments.contains("PRIVATE NOTE TEXT"), "private notes stay private");

    // coverage.csv read back with the csv crate.
    let mut reader = csv::Reader::from_reader(member(&list, "coverage.csv"));
    assert_eq!(reader.headers().unwrap().iter().collect::<Vec<_>>(), clearroom::export::COVERAGE_HEADER.to_vec());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    let main = rows.iter().find(|r| &r[1] == "src/main.rs").expect("a row for src/main.rs");
    assert_eq!(&main[3], "1", "one view");
    assert_eq!(&main[4], "reviewer");
    let readme = rows.iter().find(|r| &r[1] == "README.md").unwrap();
    assert_eq!(&readme[7], "reviewer", "marked reviewed");

    let verdicts: Value = serde_json::from_slice(member(&list, "verdicts.json")).unwrap();
    assert_eq!(verdicts[0]["verdict"], "concerns");
    let grants: Value = serde_json::from_slice(member(&list, "grants.json")).unwrap();
    assert_eq!(grants[0]["reviewer"], "reviewer");
    let sessions: Value = serde_json::from_slice(member(&list, "sessions.json")).unwrap();
    assert!(sessions.as_array().unwrap().iter().any(|s| s["actor"] == "reviewer" && !s["signed_in"].is_null()));
    let attestations = String::from_utf8(member(&list, "attestations.intoto.jsonl").to_vec()).unwrap();
    assert_eq!(attestations.lines().count(), 2, "one provenance envelope per build");
    let report = String::from_utf8(member(&list, "report.html").to_vec()).unwrap();
    assert!(report.contains("Unbounded allocation") && report.contains("reproduced"));
    assert!(!report.contains("<script") && !report.contains("src=\"http"), "self-contained");
    // The report's coverage says what the coverage page says, rounded alike.
    let after = |text: &str, marker: &str| text[text.find(marker).expect(marker) + marker.len()..].to_string();
    let in_report = after(&after(&report, "<th>Lines</th>"), "Shown to reviewers</th><td class=\"num\">");
    let in_report = in_report[..in_report.find("</td>").unwrap()].to_string();
    app.login_as("staff").await;
    let (_, page) = app.get_text(&format!("/pins/{}/coverage", app.pin)).await;
    let together = after(&page, "Everyone together</a></td><td>");
    let shown = &together[..together.find("</td>").unwrap()];
    let page_lines = shown.split(" · ").nth(1).unwrap();
    assert!(
        page_lines.ends_with(in_report.split(' ').skip(1).collect::<Vec<_>>().join(" ").as_str()),
        "{page_lines} | {in_report}"
    );
    assert!(page_lines.starts_with(in_report.split(' ').next().unwrap()), "{page_lines} | {in_report}");

    // The export is on the record with the bundle's hash.
    let completed = app.events("export.complete").await;
    assert_eq!(completed.len(), 1);
    let leaf: Value = serde_json::from_str(&completed[0].leaf).unwrap();
    assert_eq!(leaf["details"]["sha256"].as_str(), Some(sha256(&bundle).as_str()));
    assert_eq!(app.events("export.request").await[0].actor.as_deref(), Some("regulator"));
    assert_eq!(app.events("export.download").await.len(), 1);
}

#[tokio::test]
async fn every_alteration_is_caught_with_a_precise_message() {
    let app = spawn_app().await;
    fixture_review(&app).await;
    let token = regulator_token(&app).await;
    let (id, _) = export_over_api(&app, &token, json!({})).await;
    let bundle = download(&app, &token, id).await.bytes().await.unwrap().to_vec();
    assert!(verify(&app, &bundle, None).ok());

    // A byte changed anywhere in any member: the member is named.
    for (name, bytes) in members(&bundle) {
        for position in [0, bytes.len() / 2, bytes.len().saturating_sub(2)] {
            if bytes.is_empty() {
                continue;
            }
            let altered = rebuild(
                &bundle,
                |list| {
                    let content = &mut list.iter_mut().find(|(n, _)| *n == name).unwrap().1;
                    content[position] ^= 0x01;
                },
                None,
            );
            let outcome = verify(&app, &altered, None);
            assert!(!outcome.ok(), "{name} byte {position} altered went unnoticed");
            assert!(
                outcome
                    .failures
                    .iter()
                    .any(|f| f.contains(&name) || (name == "manifest.json" && f.contains("manifest"))),
                "{name} byte {position}: {:#?}",
                outcome.failures
            );
        }
    }

    // Forgers holding the log key: the manifest is re-signed, so the contents must speak.
    let events_of = |list: &Vec<(String, Vec<u8>)>| {
        String::from_utf8(list.iter().find(|(n, _)| n == "events.jsonl").unwrap().1.clone()).unwrap()
    };
    let set_events = |list: &mut Vec<(String, Vec<u8>)>, lines: Vec<&str>| {
        let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
        list.iter_mut().find(|(n, _)| n == "events.jsonl").unwrap().1 = text.into_bytes();
    };
    let removed = rebuild(
        &bundle,
        |list| {
            let text = events_of(list);
            let mut lines: Vec<&str> = text.lines().collect();
            lines.remove(lines.len() / 2);
            set_events(list, lines);
        },
        Some(&app.signer),
    );
    let outcome = verify(&app, &removed, None);
    assert!(failures_mention(&outcome, "an event was removed or added"), "{:#?}", outcome.failures);
    assert!(failures_mention(&outcome, "inclusion:"), "{:#?}", outcome.failures);

    let reordered = rebuild(
        &bundle,
        |list| {
            let text = events_of(list);
            let mut lines: Vec<&str> = text.lines().collect();
            lines.swap(3, 4);
            set_events(list, lines);
        },
        Some(&app.signer),
    );
    let outcome = verify(&app, &reordered, None);
    assert!(failures_mention(&outcome, "reordered"), "{:#?}", outcome.failures);

    // A comment's text changed and everything re-hashed and re-signed with the real key: the
    // comment no longer matches the hash its event recorded.
    let rewritten = rebuild(
        &bundle,
        |list| {
            let content = &mut list.iter_mut().find(|(n, _)| n == "comments.json").unwrap().1;
            *content =
                String::from_utf8(content.clone()).unwrap().replace("Is `count` bounded?", "All fine.").into_bytes();
        },
        Some(&app.signer),
    );
    let outcome = verify(&app, &rewritten, None);
    assert!(failures_mention(&outcome, "text differs from what entry"), "{:#?}", outcome.failures);

    // The same, signed with another key of the same name.
    let impostor = NoteSigner::generate(app.signer.name()).unwrap();
    let resigned = rebuild(&bundle, |_| {}, Some(&impostor));
    let outcome = verify(&app, &resigned, None);
    assert!(failures_mention(&outcome, "manifest.sig: not signed by the log key"), "{:#?}", outcome.failures);
}

#[tokio::test]
async fn a_checkpoint_from_a_rewritten_history_fails_consistency() {
    let app = spawn_app().await;
    let token = regulator_token(&app).await;
    let (reviewer, _) = signed_in(&app, "reviewer").await;
    reviewer.get(app.url(&format!("/pins/{}/blob/README.md", app.pin))).send().await.unwrap();
    let held = app.publish_checkpoint().await; // what the regulator keeps

    // With the checkpoint they hold, an honest bundle proves the log extends it.
    reviewer.get(app.url(&format!("/pins/{}/blob/src/main.rs", app.pin))).send().await.unwrap();
    let (id, _) = export_over_api(&app, &token, json!({"previous_checkpoint": held.note})).await;
    let bundle = download(&app, &token, id).await.bytes().await.unwrap().to_vec();
    let outcome = verify(&app, &bundle, Some(&held.note));
    assert!(outcome.ok(), "{:#?}", outcome);
    assert!(outcome.passed.iter().any(|p| p.starts_with("consistency:")), "{:#?}", outcome.passed);

    // Another history (a second server) signed with this log's key: its bundle, made to claim
    // the held checkpoint as its past, does not extend it.
    let other = spawn_app().await;
    for _ in 0..3 {
        other.domain.log().publish_checkpoint().await.unwrap();
        let (client, _) = signed_in(&other, "staff").await;
        client.get(other.url("/admin")).send().await.unwrap();
    }
    let other_token = regulator_token(&other).await;
    let (other_id, _) = export_over_api(&other, &other_token, json!({})).await;
    let other_bundle = download(&other, &other_token, other_id).await.bytes().await.unwrap().to_vec();
    let (size, root) = other.log.head().await.unwrap();
    let (size, root) = {
        let list = members(&other_bundle);
        let manifest: Value = serde_json::from_slice(member(&list, "manifest.json")).unwrap();
        let bundle_size = manifest["checkpoint"]["size"].as_u64().unwrap();
        assert!(bundle_size <= size);
        (bundle_size, if bundle_size == size { root } else { other.log.root_at(bundle_size).await.unwrap() })
    };
    assert!(held.size <= size, "the other log is at least as long");
    let proof = other.log.consistency_proof(held.size, size).await.unwrap();
    let forged_checkpoint =
        app.signer.sign(&clearroom::audit::checkpoint::body(app.signer.name(), size, &root)).unwrap();
    let forged = rebuild(
        &other_bundle,
        |list| {
            for (name, content) in list.iter_mut() {
                if name == "checkpoint" {
                    *content = forged_checkpoint.clone().into_bytes();
                }
            }
            list.push(("previous-checkpoint".into(), held.note.clone().into_bytes()));
            let text: String = proof.iter().map(|h| format!("{}\n", hex::encode(h))).collect();
            list.push(("consistency.proof".into(), text.into_bytes()));
        },
        Some(&app.signer),
    );
    let outcome = verify(&app, &forged, Some(&held.note));
    assert!(failures_mention(&outcome, "history was rewritten"), "{:#?}", outcome.failures);
}

#[tokio::test]
async fn only_staff_and_regulators_export_and_only_the_creator_downloads() {
    let app = spawn_app().await;
    let token = regulator_token(&app).await;
    let reviewer_token = app.token("reviewer").await;
    let response = new_client()
        .post(app.url("/api/v1/exports"))
        .bearer_auth(&reviewer_token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = new_client().post(app.url("/api/v1/exports")).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);

    // Bad input: a clear 4xx, nothing recorded as an export.
    for (body, expected) in [
        (json!({"pins": [999]}), StatusCode::NOT_FOUND),
        (json!({"reviewer": "nobody"}), StatusCode::NOT_FOUND),
        (json!({"from": "yesterday"}), StatusCode::BAD_REQUEST),
        (json!({"from": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"}), StatusCode::BAD_REQUEST),
        (json!({"previous_checkpoint": "not a checkpoint"}), StatusCode::BAD_REQUEST),
        (json!({"pins": "one"}), StatusCode::BAD_REQUEST),
    ] {
        let response =
            new_client().post(app.url("/api/v1/exports")).bearer_auth(&token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), expected, "{body}");
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()));
    }
    assert!(app.events("export.request").await.is_empty());
    let response = new_client().get(app.url("/api/v1/exports/abc")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let (id, _) = export_over_api(&app, &token, json!({"reviewer": "reviewer"})).await;
    let staff_token = app.token("staff").await;
    assert_eq!(download(&app, &staff_token, id).await.status(), StatusCode::NOT_FOUND, "only its creator downloads it");
    let status =
        new_client().get(app.url(&format!("/api/v1/exports/{id}"))).bearer_auth(&staff_token).send().await.unwrap();
    assert_eq!(status.status(), StatusCode::OK, "staff see every export's state");
    app.domain
        .admin()
        .create_user(
            Actor::Operator,
            "regulator2",
            Role::Regulator,
            Some(clearroom::auth::Password::new(PASSWORD.into())),
        )
        .await
        .unwrap();
    let other = app.token("regulator2").await;
    let status = new_client().get(app.url(&format!("/api/v1/exports/{id}"))).bearer_auth(&other).send().await.unwrap();
    assert_eq!(status.status(), StatusCode::NOT_FOUND, "another regulator does not see it");
    assert_eq!(download(&app, &token, id).await.status(), StatusCode::OK);

    // Past its retention, the bundle is gone.
    app.clock.advance(73 * 3_600_000);
    let response = download(&app, &token, id).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let status: Value = new_client()
        .get(app.url(&format!("/api/v1/exports/{id}")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "expired");
    assert!(!app.data_dir.join("exports").join(format!("export-{id}.zip")).exists());
}

#[tokio::test]
async fn an_export_whose_instance_stopped_is_taken_over_and_finishes() {
    let app = spawn_app().await;
    // An export whose instance died while writing it: its job is running with a heartbeat that
    // stops, and a partial file is left behind.
    let id = app.domain.exports().request_export(Actor::Operator, &ExportRequest::default(), false).await.unwrap();
    let now = app.clock.now_ms();
    app.execute_sql(&[&format!(
        "INSERT INTO jobs (kind, subject, state, done_units, total_units, created_at, heartbeat_at) \
         VALUES ('export.bundle', {id}, 'running', 10, 100, {now}, {now})"
    )])
    .await;
    let exports = app.data_dir.join("exports");
    std::fs::create_dir_all(&exports).unwrap();
    let path = exports.join(format!("export-{id}.zip"));
    std::fs::write(clearroom::export::writer::part_path(&path), b"half a bundle").unwrap();
    let store = clearroom::store::Store::connect(&app.database_url).await.unwrap();
    while app.domain.jobs().run_next_job().await.unwrap() {} // the pin's own jobs
    assert_eq!(store.export(id).await.unwrap().unwrap().state, "queued", "a live job is not taken over");

    // A minute without a heartbeat: another instance takes it over and finishes it.
    app.clock.advance(120_000);
    for _ in 0..300 {
        app.domain.jobs().run_next_job().await.unwrap();
        if store.export(id).await.unwrap().unwrap().state == "done" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let row = store.export(id).await.unwrap().unwrap();
    assert_eq!(row.state, "done", "{:?}", row.message);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(Some(sha256(&bytes)), row.sha256);
    assert!(verify(&app, &bytes, None).ok());
    assert!(!clearroom::export::writer::part_path(&path).exists(), "no partial file is left");
}

/// The app's coverage and the bundle's `coverage.csv` count one reviewer's shown files by the same
/// rule (`audit::Action::shows`): a view, a window of a long file and a raw download all count.
#[tokio::test]
async fn the_app_and_the_bundle_agree_on_what_a_reviewer_was_shown_downloads_included() {
    let app = spawn_app().await;
    let pin = app.pin;
    let (reviewer, _) = signed_in(&app, "reviewer").await;
    for path in [
        format!("/pins/{pin}/blob/src/main.rs"),
        format!("/pins/{pin}/raw/README.md"),
        format!("/pins/{pin}/lines/data/big.py?from=4001"),
    ] {
        let status = reviewer.get(app.url(&path)).send().await.unwrap().status();
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    // The app's figure, once the pin's files are indexed.
    let mut in_app = None;
    for _ in 0..100 {
        let report: Value =
            reviewer.get(app.url(&format!("/api/v1/pins/{pin}/coverage"))).send().await.unwrap().json().await.unwrap();
        if report["indexed"] == true {
            in_app = Some(report);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let in_app = in_app.expect("the pin was indexed");
    let mine = in_app["reviewers"].as_array().unwrap().iter().find(|r| r["username"] == "reviewer").unwrap();
    let mut shown_in_app: Vec<String> = mine["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["state"] != "None")
        .map(|f| f["path"].as_str().unwrap().to_string())
        .collect();
    shown_in_app.sort();
    assert_eq!(shown_in_app, ["README.md", "data/big.py", "src/main.rs"], "{mine}");

    let token = regulator_token(&app).await;
    let (id, _) = export_over_api(&app, &token, json!({"pins": [pin.get()]})).await;
    let bundle = download(&app, &token, id).await.bytes().await.unwrap().to_vec();
    assert!(verify(&app, &bundle, None).ok());
    let list = members(&bundle);
    let mut reader = csv::Reader::from_reader(member(&list, "coverage.csv"));
    let mut shown_in_bundle: Vec<String> = reader
        .records()
        .map(|r| r.unwrap())
        .filter(|r| r[4].split(' ').any(|who| who == "reviewer"))
        .map(|r| r[1].to_string())
        .collect();
    shown_in_bundle.sort();
    assert_eq!(shown_in_bundle, shown_in_app, "the bundle counts what the app counts");
}

/// A bundle written by the server before the bundle's records were typed (kept in
/// `tests/fixtures/bundle-2026-12`) still verifies, and each JSON member reads into its record type
/// and writes back to the same bytes: the types are the format as it was written.
#[test]
fn a_bundle_from_before_the_typed_records_verifies_and_its_members_round_trip() {
    use clearroom::export::bundle::{GrantRecord, Manifest, SarifLog, ThreadRecord, VerdictRecord};
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/bundle-2026-12");
    let key =
        clearroom::audit::note::NoteVerifier::parse(std::fs::read_to_string(dir.join("log.vkey")).unwrap().trim_end())
            .unwrap();
    let outcome = verify_bundle(
        &dir.join("bundle.zip"),
        &Trust { log_key: &key, attestation_key: None, policy: None, previous_checkpoint: None },
    );
    assert!(outcome.ok(), "{:#?}", outcome.failures);
    assert!(outcome.passed.iter().any(|p| p.starts_with("records:")), "{:#?}", outcome.passed);

    let list = members(&std::fs::read(dir.join("bundle.zip")).unwrap());
    fn same_bytes<T: serde::Serialize + serde::de::DeserializeOwned>(name: &str, bytes: &[u8]) {
        let record: T = serde_json::from_slice(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            String::from_utf8(serde_json::to_vec_pretty(&record).unwrap()).unwrap(),
            String::from_utf8(bytes.to_vec()).unwrap(),
            "{name} writes back as it was written"
        );
    }
    same_bytes::<Manifest>("manifest.json", member(&list, "manifest.json"));
    same_bytes::<Vec<ThreadRecord>>("comments.json", member(&list, "comments.json"));
    same_bytes::<Vec<VerdictRecord>>("verdicts.json", member(&list, "verdicts.json"));
    same_bytes::<Vec<GrantRecord>>("grants.json", member(&list, "grants.json"));
    same_bytes::<SarifLog>("findings.sarif", member(&list, "findings.sarif"));
    let events = String::from_utf8(member(&list, "events.jsonl").to_vec()).unwrap();
    for line in events.lines() {
        let record: clearroom::export::bundle::EventLine = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&record).unwrap(), line);
    }
}

async fn ask(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let response = new_client().post(app.url("/api/v1/exports")).bearer_auth(token).json(&body).send().await.unwrap();
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

/// An export row as if its job were still waiting (no job runs it, so it stays so).
async fn waiting_export(app: &TestApp, store: &clearroom::store::Store, user: &str, scope: &str) -> i64 {
    let uid = store.user_by_name(user).await.unwrap().unwrap().id;
    let now = app.clock.now_ms();
    let scope = scope.replace('\'', "''");
    app.execute_sql(&[&format!(
        "INSERT INTO exports (created_by, scope, state, created_at) VALUES ({uid}, '{scope}', 'queued', {now})"
    )])
    .await;
    store.exports_by(Some(uid), 1).await.unwrap()[0].id
}

#[tokio::test]
async fn a_repeated_request_gets_the_waiting_export_and_an_account_has_at_most_three_waiting() {
    let app = spawn_app().await;
    let store = clearroom::store::Store::connect(&app.database_url).await.unwrap();
    let token = regulator_token(&app).await;
    let body = json!({ "pins": [app.pin] });
    let (first, _) = export_over_api(&app, &token, body.clone()).await;
    let scope = store.export(first).await.unwrap().unwrap().scope;

    // The same request while one like it waits is answered with it, and recorded as a repeat.
    let waiting = waiting_export(&app, &store, "regulator", &scope).await;
    let (status, answer) = ask(&app, &token, body.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    assert_eq!(answer["id"], waiting, "no second job for the same request");
    let mut requests = app.events("export.request").await;
    requests.sort_by_key(|e| e.index);
    assert_eq!(requests.len(), 2);
    assert!(
        requests[1].leaf.contains(&format!(r#""export_id":{waiting}"#))
            && requests[1].leaf.contains(r#""repeated":true"#)
    );
    assert!(!requests[0].leaf.contains("repeated"), "{}", requests[0].leaf);
    let other_time = json!({ "pins": [app.pin], "from": "2020-01-01T00:00:00Z" });

    // Three waiting: a fourth, different request is refused (429) and queues nothing.
    waiting_export(&app, &store, "regulator", r#"{"other":1}"#).await;
    waiting_export(&app, &store, "regulator", r#"{"other":2}"#).await;
    let before = store.exports_by(None, 100).await.unwrap().len();
    let (status, answer) = ask(&app, &token, other_time.clone()).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("3 exports waiting"), "{answer}");
    assert_eq!(store.exports_by(None, 100).await.unwrap().len(), before, "nothing queued");
    assert_eq!(app.events("export.request").await.len(), 2, "nothing recorded as asked");
    // Another account is not held back by the regulator's.
    let staff = app.token("staff").await;
    let (status, answer) = ask(&app, &staff, other_time.clone()).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");

    // Once one ends, the regulator may ask again.
    app.execute_sql(&[&format!("UPDATE exports SET state = 'failed' WHERE id = {waiting}")]).await;
    let (status, answer) = ask(&app, &token, other_time).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
}

#[tokio::test]
async fn exports_per_day_and_the_disk_kept_for_bundles_are_limited() {
    let app = spawn_app_configured(|config| {
        config.limits.exports_per_day = 1;
        config.limits.export_disk_bytes = 1024;
    })
    .await;
    let store = clearroom::store::Store::connect(&app.database_url).await.unwrap();
    let token = regulator_token(&app).await;

    // The first is accepted; its bundle (larger than the 1 KiB kept for bundles) is refused after
    // it is built, and nothing of it stays on disk.
    let (status, answer) = ask(&app, &token, json!({})).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    let id = answer["id"].as_i64().unwrap();
    let mut row = store.export(id).await.unwrap().unwrap();
    for _ in 0..600 {
        if !matches!(row.state.as_str(), "queued" | "running") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        row = store.export(id).await.unwrap().unwrap();
    }
    assert_eq!(row.state, "failed");
    assert!(row.message.as_deref().unwrap_or_default().contains("does not fit in the disk kept"), "{row:?}");
    assert!(!app.data_dir.join("exports").join(format!("export-{id}.zip")).exists());

    // One a day: the second is refused.
    let (status, answer) = ask(&app, &token, json!({ "pins": [app.pin] })).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("last 24 hours"), "{answer}");
    app.clock.advance(24 * 3_600_000 + 1);
    let token = regulator_token(&app).await;

    // Kept bundles fill the disk: every request is refused until they expire.
    let uid = store.user_by_name("staff").await.unwrap().unwrap().id;
    let now = app.clock.now_ms();
    app.execute_sql(&[&format!(
        "INSERT INTO exports (created_by, scope, state, size, created_at, finished_at, expires_at) \
         VALUES ({uid}, '{{}}', 'done', 4096, {now}, {now}, {})",
        now + 3_600_000
    )])
    .await;
    let (status, answer) = ask(&app, &token, json!({ "pins": [app.pin] })).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("disk kept for export bundles is full"), "{answer}");
}

#[tokio::test]
async fn exports_wait_in_a_queue_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let url = test_database_url(dir.path()).await;
    let store = clearroom::store::Store::connect(&url).await.unwrap();
    let now = 1_000;
    for kind in ["export.bundle", "export.bundle", "pin.index", "export.bundle", "pin.symbols"] {
        store.queue_job(kind, 1, now).await.unwrap();
    }
    use clearroom::store::files::JobLane;
    let mut pins = Vec::new();
    while let Some(job) = store.claim_job(now, now - 60_000, Some(JobLane::Pins)).await.unwrap() {
        pins.push(job.kind);
    }
    assert_eq!(pins, ["pin.index", "pin.symbols"], "a pin's jobs do not wait behind the exports queued before them");
    let mut exports = 0;
    while let Some(job) = store.claim_job(now, now - 60_000, Some(JobLane::Exports)).await.unwrap() {
        assert_eq!(job.kind, "export.bundle");
        exports += 1;
    }
    assert_eq!(exports, 3);
    assert!(store.claim_job(now, now - 60_000, None).await.unwrap().is_none());
}
