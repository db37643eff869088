//! Builds and attestations as builders, staff and reviewers use them: recording by hash and by
//! upload, reproducibility and a loud mismatch, DSSE envelopes checked by a second verifier written
//! here from the DSSE, in-toto and SLSA specifications, the review summary, the verify lookup, and
//! what a builder's token may not do.

use crate::helpers::*;
use app::model::Role;
use base64::Engine as _;
use clearroom::auth::Password;
use clearroom::config::SourceLimits;
use clearroom::domain::Actor;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Digest as _;

pub(crate) fn sha256(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// A builder account and its API token.
pub(crate) async fn builder_token(app: &TestApp, name: &str) -> String {
    app.domain
        .admin()
        .create_user(Actor::Operator, name, Role::Builder, Some(Password::new(PASSWORD.into())))
        .await
        .unwrap();
    app.token(name).await
}

async fn record_json(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let response = new_client()
        .post(app.url(&format!("/api/v1/pins/{}/builds", app.pin)))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap_or_default())
}

pub(crate) async fn upload(app: &TestApp, token: &str, query: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    crate::compiled::upload_to(app, token, app.pin, query, bytes).await
}

/// The second verifier: DSSE v1 from its specification (PAE, base64 payload, Ed25519 over the
/// PAE, the key named by id), then the in-toto Statement v1 layer. Returns the statement.
pub(crate) fn independent_verify(envelope: &Value, key_pem: &str, keyid: &str) -> Result<Value, String> {
    let key = ed25519_dalek::VerifyingKey::from_public_key_pem(key_pem).map_err(|e| e.to_string())?;
    let payload_type = envelope["payloadType"].as_str().ok_or("no payloadType")?;
    if payload_type != "application/vnd.in-toto+json" {
        return Err(format!("payloadType {payload_type}"));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(envelope["payload"].as_str().ok_or("no payload")?).map_err(|e| e.to_string())?;
    let mut pae = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    pae.extend_from_slice(&payload);
    let signatures = envelope["signatures"].as_array().ok_or("no signatures")?;
    let signature = signatures.iter().find(|s| s["keyid"] == keyid).ok_or("no signature by the key")?;
    let sig = b64.decode(signature["sig"].as_str().ok_or("no sig")?).map_err(|e| e.to_string())?;
    let sig = ed25519_dalek::Signature::from_slice(&sig).map_err(|e| e.to_string())?;
    key.verify_strict(&pae, &sig).map_err(|_| "bad signature".to_string())?;
    let statement: Value = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
    if statement["_type"] != "https://in-toto.io/Statement/v1" {
        return Err("not a Statement v1".into());
    }
    let subjects = statement["subject"].as_array().filter(|s| !s.is_empty()).ok_or("no subjects")?;
    for subject in subjects {
        let digest = subject["digest"]["sha256"].as_str().ok_or("a subject without sha256")?;
        if digest.len() != 64 || digest.chars().any(|c| !c.is_ascii_hexdigit() || c.is_ascii_uppercase()) {
            return Err("a digest is not lowercase hex".into());
        }
    }
    statement["predicateType"].as_str().filter(|t| !t.is_empty()).ok_or("no predicateType")?;
    Ok(statement)
}

fn pinned_commit(app: &TestApp) -> String {
    let repository = git2::Repository::open_bare(&app.repository_path).unwrap();
    let commit = repository.head().unwrap().peel_to_commit().unwrap().id().to_string();
    commit
}

pub(crate) async fn keys(app: &TestApp, token: &str) -> (String, String) {
    let keys: Value =
        new_client().get(app.url("/api/v1/keys")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    let pem = keys["attestation"]["public_key_pem"].as_str().unwrap().to_string();
    let keyid = keys["attestation"]["keyid"].as_str().unwrap().to_string();
    // The key id is the SHA-256 of the key's SubjectPublicKeyInfo DER.
    let der = b64_pem_body(&pem);
    assert_eq!(keyid, sha256(&der));
    assert!(keys["log"]["verifier_key"].as_str().unwrap().starts_with("test.invalid/clearroom/log+"));
    (pem, keyid)
}

fn b64_pem_body(pem: &str) -> Vec<u8> {
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    base64::engine::general_purpose::STANDARD.decode(body).unwrap()
}

#[tokio::test]
async fn a_builder_records_by_hash_and_by_upload_and_each_record_is_attested() {
    let app = spawn_app().await;
    let token = builder_token(&app, "ci").await;
    let commit = pinned_commit(&app);
    let hash = "AB".repeat(32);
    let (status, recorded) = record_json(
        &app,
        &token,
        json!({
            "name": "app.tar.gz", "platform": "linux/amd64", "sha256": hash, "size": 1234,
            "command": "make release", "toolchain": "rustc 1.90.0",
            "started_at": "2026-11-28T10:00:00Z", "finished_at": "2026-11-28T10:05:00Z",
        }),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{recorded}");
    assert_eq!(recorded["sha256"], "ab".repeat(32), "hashes are kept in lowercase");

    let artifact = b"\x7fELF pretend binary".repeat(10_000);
    let (status, uploaded) = upload(&app, &token, "name=app-cli&platform=linux%2Famd64", artifact.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{uploaded}");
    assert_eq!(uploaded["sha256"], sha256(&artifact));
    assert_eq!(uploaded["size"], artifact.len());
    let kept = app.data_dir.join("artifacts/sha256").join(sha256(&artifact));
    assert_eq!(std::fs::read(kept).unwrap(), artifact, "the upload is kept under its hash");

    let (pem, keyid) = keys(&app, &token).await;
    let response = new_client()
        .get(app.url(&format!("/api/v1/attestations/{}", "ab".repeat(32))))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let envelopes = body["envelopes"].as_array().unwrap();
    assert_eq!(envelopes.len(), 1);
    let statement = independent_verify(&envelopes[0], &pem, &keyid).unwrap();
    assert_eq!(statement["subject"], json!([{ "name": "app.tar.gz", "digest": { "sha256": "ab".repeat(32) } }]));
    assert_eq!(statement["predicateType"], "https://slsa.dev/provenance/v1");
    let definition = &statement["predicate"]["buildDefinition"];
    assert_eq!(definition["buildType"], "https://clearroom.dev/attestations/build-record/v1");
    assert_eq!(definition["externalParameters"]["commit"], commit);
    let dependency = &definition["resolvedDependencies"][0];
    assert!(dependency["uri"].as_str().unwrap().starts_with("git+"));
    assert!(dependency["uri"].as_str().unwrap().ends_with(&format!("@{commit}")));
    assert_eq!(dependency["digest"]["gitCommit"], commit);
    let run = &statement["predicate"]["runDetails"];
    assert_eq!(run["builder"]["id"], "urn:clearroom:account:ci", "the builder is the account that recorded");
    assert_eq!(run["metadata"]["invocationId"], format!("urn:clearroom:build:{}", recorded["id"]));
    assert_eq!(run["metadata"]["startedOn"], "2026-11-28T10:00:00Z");
    assert_eq!(run["metadata"]["finishedOn"], "2026-11-28T10:05:00Z");

    // Each envelope's hash is in the log, and the .intoto.jsonl serves the very bytes it names.
    let issued: Vec<String> = app
        .events("attestation.issue")
        .await
        .iter()
        .map(|e| {
            serde_json::from_str::<Value>(&e.leaf).unwrap()["details"]["envelope_sha256"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(issued.len(), 2);
    assert_eq!(app.events("build.record").await.len(), 2);
    app.login_as("staff").await;
    let (status, jsonl) = app.get_text(&format!("/pins/{}/attestations.intoto.jsonl", app.pin)).await;
    assert_eq!(status, StatusCode::OK);
    let lines: Vec<&str> = jsonl.lines().collect();
    assert_eq!(lines.len(), 2);
    for line in &lines {
        assert!(issued.contains(&sha256(line.as_bytes())), "every served envelope's hash is in the log");
        independent_verify(&serde_json::from_str(line).unwrap(), &pem, &keyid).unwrap();
    }

    // Offline, with the published key: the command-line verifier agrees, and refuses a tampered one.
    let dir = tempfile::tempdir().unwrap();
    let (envelope_file, key_file) = (dir.path().join("pin.intoto.jsonl"), dir.path().join("key.pem"));
    std::fs::write(&envelope_file, &jsonl).unwrap();
    std::fs::write(&key_file, &pem).unwrap();
    clearroom::verify_cli::verify_attestation(&envelope_file, &key_file).unwrap();
    let mut tampered: Value = serde_json::from_str(lines[0]).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = String::from_utf8(b64.decode(tampered["payload"].as_str().unwrap()).unwrap()).unwrap();
    tampered["payload"] = json!(b64.encode(payload.replace("app.tar.gz", "evil.tar.gz")));
    std::fs::write(&envelope_file, tampered.to_string()).unwrap();
    let error = clearroom::verify_cli::verify_attestation(&envelope_file, &key_file).unwrap_err();
    assert!(error.to_string().contains("does not verify"), "{error}");
}

#[tokio::test]
async fn builders_who_disagree_are_a_mismatch_shown_on_every_pin_page_and_agreement_is_reproduction() {
    let app = spawn_app().await;
    let ci = builder_token(&app, "ci").await;
    let lab = builder_token(&app, "lab").await;
    for (token, name, hash) in [
        (&ci, "server.bin", "11".repeat(32)),
        (&lab, "server.bin", "22".repeat(32)),
        (&ci, "docs.zip", "33".repeat(32)),
        (&lab, "docs.zip", "33".repeat(32)),
    ] {
        let (status, body) = record_json(&app, token, json!({ "name": name, "sha256": hash })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let listed: Value = new_client()
        .get(app.url(&format!("/api/v1/pins/{}/builds", app.pin)))
        .bearer_auth(app.token("staff").await)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let statuses: Vec<(String, Value)> = listed["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["name"].as_str().unwrap().to_string(), a["status"].clone()))
        .collect();
    assert_eq!(
        statuses,
        vec![
            ("docs.zip".to_string(), json!({ "status": "reproduced", "builders": 2 })),
            ("server.bin".to_string(), json!({ "status": "mismatch" })),
        ]
    );

    app.login_as("reviewer").await;
    let (status, builds) = app.get_text(&format!("/pins/{}/builds", app.pin)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(builds.contains("MISMATCH") && builds.contains("reproduced by 2"));
    let (_, file) = app.open_file("src/main.rs").await;
    assert!(file.contains("Build mismatch") && file.contains("server.bin"), "every file view's header says it");
    let (_, verdicts) = app.get_text(&format!("/pins/{}/verdicts", app.pin)).await;
    assert!(verdicts.contains("Builders disagree on server.bin"), "the verdict form says it");
}

/// Security defect 2: one builder token posted one hash three times as `lab-A`, `lab-B` and `lab-C`,
/// and the pin read "reproduced by 3". A builder is the account that records: the labels stay as
/// notes, the signed statements name the account, and only a second account reproduces.
#[tokio::test]
async fn one_account_cannot_fake_reproduction_whatever_it_calls_itself() {
    let app = spawn_app().await;
    let ci = builder_token(&app, "ci").await;
    let hash = "77".repeat(32);
    for label in ["lab-A", "lab-B", "lab-C"] {
        let (status, body) =
            record_json(&app, &ci, json!({ "name": "app.bin", "sha256": hash, "builder": label })).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let staff = app.token("staff").await;
    let listed = |token: String| {
        let url = app.url(&format!("/api/v1/pins/{}/builds", app.pin));
        async move { new_client().get(url).bearer_auth(token).send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let artifacts = listed(staff.clone()).await["artifacts"].clone();
    assert_eq!(artifacts[0]["status"], json!({ "status": "single" }), "{artifacts}");
    let builds = artifacts[0]["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 3);
    assert!(builds.iter().all(|b| b["recorded_by"] == "ci"), "{builds:?}");
    let labels: Vec<&str> = builds.iter().map(|b| b["builder"].as_str().unwrap()).collect();
    assert_eq!(labels.len(), 3, "the labels stay as notes: {labels:?}");
    // Every statement names the account, not the label.
    let response =
        new_client().get(app.url(&format!("/api/v1/attestations/{hash}"))).bearer_auth(&staff).send().await.unwrap();
    let body: Value = response.json().await.unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    for envelope in body["envelopes"].as_array().unwrap() {
        let statement: Value =
            serde_json::from_slice(&b64.decode(envelope["payload"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(statement["predicate"]["runDetails"]["builder"]["id"], "urn:clearroom:account:ci");
        let label = statement["predicate"]["buildDefinition"]["internalParameters"]["builderLabel"].as_str().unwrap();
        assert!(label.starts_with("lab-"), "{label}");
    }
    // A second account reproduces it; staff on the console record as themselves.
    let lab = builder_token(&app, "lab").await;
    let (status, _) = record_json(&app, &lab, json!({ "name": "app.bin", "sha256": hash })).await;
    assert_eq!(status, StatusCode::CREATED);
    let artifacts = listed(staff.clone()).await["artifacts"].clone();
    assert_eq!(artifacts[0]["status"], json!({ "status": "reproduced", "builders": 2 }));
    let (status, _) = record_json(&app, &staff, json!({ "name": "app.bin", "sha256": hash, "builder": "lab-D" })).await;
    assert_eq!(status, StatusCode::CREATED);
    let artifacts = listed(staff).await["artifacts"].clone();
    assert_eq!(artifacts[0]["status"], json!({ "status": "reproduced", "builders": 3 }));
}

#[tokio::test]
async fn a_builder_token_cannot_read_source_comments_or_grants() {
    let app = spawn_app().await;
    let token = builder_token(&app, "ci").await;
    let client = new_client();
    let pin = app.pin;
    for path in [
        format!("/api/v1/pins/{pin}/search?q=count"),
        format!("/api/v1/pins/{pin}/files?q=main"),
        format!("/api/v1/pins/{pin}/comments"),
        format!("/api/v1/pins/{pin}/coverage"),
        format!("/api/v1/pins/{pin}/builds"),
        "/api/v1/log/entries".to_string(),
    ] {
        let response = client.get(app.url(&path)).bearer_auth(&token).send().await.unwrap();
        assert!(matches!(response.status().as_u16(), 403 | 404), "{path}: {}", response.status());
        let text = response.text().await.unwrap();
        assert!(!text.contains(SECRET_MARKER) && !text.contains("count"), "{path} leaked {text}");
    }
    let response = client
        .post(app.url(&format!("/api/v1/pins/{pin}/comments")))
        .bearer_auth(&token)
        .json(&json!({ "path": "src/main.rs", "body": "hello", "kind": "comment" }))
        .send()
        .await
        .unwrap();
    assert!(matches!(response.status().as_u16(), 400 | 403 | 404), "{}", response.status());
    let builder = app::model::Caller {
        identity: Some(app::model::Identity { user_id: 5, username: "ci".into(), role: Role::Builder }),
        session: Some("api-token".into()),
        client_address: "127.0.0.1".into(),
        csrf_token: None,
        token: None,
        access_ends_ms: None,
    };
    let now = app.clock.now_ms();
    let refused = app.domain.access().grant(Actor::Web(&builder), "outsider", &[pin], now, now + 60_000).await;
    assert!(matches!(refused, Err(app::error::AppError::Forbidden(_))), "a builder cannot grant: {refused:?}");
    // A builder account has no web session: its password does not sign in.
    let response = app.login("ci", PASSWORD).await;
    assert_ne!(location(&response), "/", "a builder cannot sign in to the web");
    // Nor can anyone but staff and builders record a build.
    let reviewer = app.token("reviewer").await;
    let (status, _) =
        record_json(&app, &reviewer, json!({ "name": "x", "sha256": "44".repeat(32), "builder": "me" })).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bad_records_and_oversized_uploads_are_refused_and_leave_nothing() {
    let app = spawn_app_with(SourceLimits { upload_max_bytes: 1000, ..SourceLimits::default() }).await;
    let token = builder_token(&app, "ci").await;
    let (status, body) = upload(&app, &token, "name=big", vec![7u8; 5000]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert!(body["error"].as_str().unwrap().contains("1000 bytes"));
    let staging = app.data_dir.join("artifacts/staging");
    assert_eq!(std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0), 0, "no partial file is left");

    let (status, body) = upload(&app, &token, &format!("name=small&sha256={}", "55".repeat(32)), vec![1u8; 10]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "a hash that does not match the upload: {body}");
    // Security defect 10: the refused upload is not kept, and the refusal is recorded.
    let kept = app.data_dir.join("artifacts/sha256");
    assert_eq!(std::fs::read_dir(&kept).map(|d| d.count()).unwrap_or(0), 0, "a refused upload is not kept");
    assert_eq!(std::fs::read_dir(&staging).map(|d| d.count()).unwrap_or(0), 0, "nor left in staging");
    let refusals = app.events("build.record").await;
    assert_eq!(refusals.len(), 1, "{refusals:?}");
    assert_eq!(refusals[0].outcome, "failed");
    assert!(refusals[0].leaf.contains(&"55".repeat(32)) && refusals[0].leaf.contains("\"size\":10"));
    let (status, _) = record_json(&app, &token, json!({ "name": "x", "sha256": "not hex" })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = record_json(&app, &token, json!({ "name": "", "sha256": "66".repeat(32) })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = record_json(&app, &token, json!({ "name": "x", "sha256": "66".repeat(32), "surprise": 1 })).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = record_json(
        &app,
        &token,
        json!({ "name": "x", "sha256": "66".repeat(32), "started_at": "2026-11-28T10:00:00Z", "finished_at": "2026-11-28T09:00:00Z" }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let response = new_client()
        .post(app.url("/api/v1/pins/999/builds"))
        .bearer_auth(&token)
        .json(&json!({ "name": "x", "sha256": "66".repeat(32) }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let recorded = app.events("build.record").await;
    assert!(recorded.iter().all(|e| e.outcome != "ok"), "no build was recorded: {recorded:?}");

    // A session's write needs the page's anti-forgery header.
    app.login_as("staff").await;
    let response = app
        .client
        .post(app.url(&format!("/api/v1/pins/{}/builds", app.pin)))
        .json(&json!({ "name": "x", "sha256": "66".repeat(32), "builder": "ci" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_review_summary_binds_verdicts_coverage_findings_and_a_checkpoint_to_the_artifacts() {
    let app = spawn_app().await;
    let token = builder_token(&app, "ci").await;
    record_json(&app, &token, json!({ "name": "app", "sha256": "77".repeat(32) })).await;
    let staff = app.token("staff").await;
    let response = new_client()
        .post(app.url(&format!("/api/v1/pins/{}/review-summary", app.pin)))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let (pem, keyid) = keys(&app, &staff).await;
    let body: Value = new_client()
        .get(app.url(&format!("/api/v1/attestations/{}", "77".repeat(32))))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let envelopes = body["envelopes"].as_array().unwrap();
    assert_eq!(envelopes.len(), 2, "provenance and review summary");
    let review = independent_verify(&envelopes[1], &pem, &keyid).unwrap();
    assert_eq!(review["predicateType"], "https://clearroom.dev/attestations/review-summary/v1");
    let predicate = &review["predicate"];
    assert_eq!(predicate["target"]["digest"]["gitCommit"], pinned_commit(&app));
    assert!(predicate["reviewers"].as_array().unwrap().is_empty());
    assert!(predicate["coverage"]["total"]["files"].is_u64());
    assert_eq!(predicate["openFindings"]["critical"], 0);
    let note = predicate["checkpoint"]["note"].as_str().unwrap();
    clearroom::audit::checkpoint::open(&app.signer.verifier(), note).expect("the checkpoint is signed by the log key");

    // Only staff issue it.
    let reviewer = app.token("reviewer").await;
    let response = new_client()
        .post(app.url(&format!("/api/v1/pins/{}/review-summary", app.pin)))
        .bearer_auth(&reviewer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_file_is_verified_by_its_hash_and_an_unknown_one_is_not_a_recorded_build() {
    let app = spawn_app().await;
    let token = builder_token(&app, "ci").await;
    let artifact = b"release artifact bytes".to_vec();
    upload(&app, &token, "name=tool", artifact.clone()).await;
    let reviewer = app.token("reviewer").await;

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tool");
    std::fs::write(&file, &artifact).unwrap();
    clearroom::verify_cli::verify_binary(&file, &app.address, Some(&reviewer)).await.unwrap();
    std::fs::write(&file, b"something else").unwrap();
    let error = clearroom::verify_cli::verify_binary(&file, &app.address, Some(&reviewer)).await.unwrap_err();
    assert!(error.to_string().contains("not a recorded build"), "{error}");

    app.login_as("reviewer").await;
    let (status, page) = app.get_text(&format!("/verify?sha256={}", sha256(&artifact))).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("is a recorded build") && page.contains("Release 1.0"), "{page}");
    let (_, page) = app.get_text(&format!("/verify?sha256={}", "88".repeat(32))).await;
    assert!(page.contains("Not a recorded build"));
    let lookups = app.events("artifact.lookup").await;
    assert!(lookups.len() >= 4, "every lookup is recorded, found or not");
}
