//! A release from proposal to authorisation: staff propose, the dossier is frozen with each rule's
//! evidence, supervisors sign offline with their own keys (2 of 3), and the envelope carries the
//! vendor's and the supervisors' signatures. Checked with a verifier written here from
//! `docs/releases.md`. What keeps a release from being authorised names its reason.

use crate::builds::{builder_token, sha256};
use crate::helpers::*;
use app::model::Role;
use base64::Engine as _;
use clearroom::audit::note::NoteSigner;
use clearroom::auth::Password;
use clearroom::domain::Actor;
use clearroom::releases::keys;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Digest as _;

const POLICY: &str = r#"
reproduced_by = 2
verdicts_no_objection = 1
max_open_findings_at = "high"
[supervisors]
quorum = 2
names = ["sup1", "sup2", "sup3"]
"#;

/// Supervisors with registered keys (kept here, as they would be offline), the policy set.
pub(crate) struct Room {
    pub(crate) app: TestApp,
    pub(crate) staff: String,
    pub(crate) keys: Vec<NoteSigner>,
}

pub(crate) async fn room() -> Room {
    room_on(spawn_app().await).await
}

/// `room` on a server of one's own (with other limits, say).
pub(crate) async fn room_on(app: TestApp) -> Room {
    let mut signers = Vec::new();
    for name in ["sup1", "sup2", "sup3"] {
        let password = Some(Password::new(PASSWORD.into()));
        app.domain.admin().create_user(Actor::Operator, name, Role::Supervisor, password).await.unwrap();
        let key = NoteSigner::generate(name).unwrap();
        app.domain.releases().register_key(Actor::Operator, name, &key.verifier().to_string()).await.unwrap();
        signers.push(key);
    }
    let staff = app.token("staff").await;
    let response = new_client()
        .put(app.url("/api/v1/repositories/product/release-policy"))
        .bearer_auth(&staff)
        .body(POLICY)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    Room { app, staff, keys: signers }
}

pub(crate) const BINARY: &[u8] = b"\x7fELF the product, version 2.4.1";

pub(crate) async fn record(app: &TestApp, token: &str, bytes: &[u8]) {
    let body = json!({"name": "product", "platform": "linux", "sha256": sha256(bytes)});
    let url = app.url(&format!("/api/v1/pins/{}/builds", app.pin));
    let response = new_client().post(url).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

pub(crate) async fn verdict(app: &TestApp, kind: &str) {
    let (client, csrf) = signed_in(app, "reviewer").await;
    let response = client
        .post(app.url(&format!("/api/v1/pins/{}/verdicts", app.pin)))
        .header("origin", &app.address)
        .header("x-csrf-token", &csrf)
        .json(&json!({"verdict": kind, "summary": "read the whole of it"}))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
}

pub(crate) async fn propose(app: &TestApp, staff: &str, version: &str) -> Value {
    let body =
        json!({"version": version, "artifacts": [{"name": "product", "platform": "linux", "sha256": sha256(BINARY)}]});
    let url = app.url(&format!("/api/v1/pins/{}/releases", app.pin));
    let response = new_client().post(url).bearer_auth(staff).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

pub(crate) async fn dossier(app: &TestApp, token: &str, id: i64) -> String {
    let url = app.url(&format!("/api/v1/releases/{id}/dossier"));
    new_client().get(url).bearer_auth(token).send().await.unwrap().text().await.unwrap()
}

pub(crate) async fn decide(app: &TestApp, supervisor: &str, id: i64, decision: &keys::Decision) -> (StatusCode, Value) {
    let token = app.token(supervisor).await;
    let url = app.url(&format!("/api/v1/releases/{id}/decisions"));
    let response = new_client().post(url).bearer_auth(token).json(decision).send().await.unwrap();
    (response.status(), response.json().await.unwrap())
}

fn unmet(release: &Value) -> Vec<String> {
    let rules = release["rules"].as_array().unwrap();
    rules
        .iter()
        .filter(|r| r["met"] == false)
        .map(|r| format!("{}: {}", r["rule"].as_str().unwrap(), r["reason"].as_str().unwrap()))
        .collect()
}

/// The verifier of `docs/releases.md`, written from it: the envelope's statement, the vendor's
/// signature with the attestation key, `quorum` distinct supervisors of the policy's names, each
/// over the PAE with their own key, and the file's hash among the subjects.
fn verify_release(
    envelope: &str,
    file: &[u8],
    vendor_pem: &str,
    supervisors: &[(&str, ed25519_dalek::VerifyingKey)],
) -> Result<(), String> {
    let envelope: Value = serde_json::from_str(envelope).map_err(|e| e.to_string())?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload_type = envelope["payloadType"].as_str().ok_or("no payloadType")?;
    let payload = b64.decode(envelope["payload"].as_str().ok_or("no payload")?).map_err(|e| e.to_string())?;
    let mut pae = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    pae.extend_from_slice(&payload);
    let keyid = |key: &ed25519_dalek::VerifyingKey| {
        let mut der = hex::decode("302a300506032b6570032100").unwrap();
        der.extend_from_slice(key.as_bytes());
        hex::encode(sha2::Sha256::digest(der))
    };
    let signed_by = |key: &ed25519_dalek::VerifyingKey| {
        envelope["signatures"].as_array().into_iter().flatten().any(|s| {
            s["keyid"] == keyid(key).as_str()
                && b64
                    .decode(s["sig"].as_str().unwrap_or(""))
                    .ok()
                    .and_then(|b| ed25519_dalek::Signature::from_slice(&b).ok())
                    .is_some_and(|sig| key.verify_strict(&pae, &sig).is_ok())
        })
    };
    let statement: Value = serde_json::from_slice(&payload).map_err(|e| e.to_string())?;
    if statement["predicateType"] != "https://clearroom.dev/attestations/release/v1" {
        return Err("not a release".into());
    }
    let vendor = ed25519_dalek::VerifyingKey::from_public_key_pem(vendor_pem).map_err(|e| e.to_string())?;
    if !signed_by(&vendor) {
        return Err("no vendor signature".into());
    }
    let policy = &statement["predicate"]["policy"]["rules"]["supervisors"];
    let names: Vec<&str> = policy["names"].as_array().ok_or("no names")?.iter().filter_map(Value::as_str).collect();
    let count = supervisors.iter().filter(|(name, key)| names.contains(name) && signed_by(key)).count();
    if count < policy["quorum"].as_u64().ok_or("no quorum")? as usize {
        return Err(format!("{count} supervisor signature(s), quorum {}", policy["quorum"]));
    }
    let hash = hex::encode(sha2::Sha256::digest(file));
    let subjects = statement["subject"].as_array().ok_or("no subjects")?;
    if !subjects.iter().any(|s| s["digest"]["sha256"] == hash.as_str()) {
        return Err("the file is not a subject".into());
    }
    Ok(())
}

#[tokio::test]
async fn two_builders_one_verdict_and_two_of_three_supervisors_authorise_a_release() {
    let Room { app, staff, keys: signers } = room().await;
    let (b1, b2) = (builder_token(&app, "ci").await, builder_token(&app, "lab").await);
    record(&app, &b1, BINARY).await;
    record(&app, &b2, BINARY).await;
    verdict(&app, "no_objection").await;

    let release = propose(&app, &staff, "2.4.1").await;
    let id = release["id"].as_i64().unwrap();
    assert_eq!(release["state"], "proposed");
    assert!(release["ready_for_supervisors"].as_bool().unwrap(), "{release}");
    assert_eq!(unmet(&release), ["supervisors: 0 of 2 supervisor signature(s) of sup1, sup2, sup3"]);

    // The dossier names the evidence: the builders, the provenance behind them, the verdicts.
    let sup1 = app.token("sup1").await;
    let envelope = dossier(&app, &sup1, id).await;
    let statement: Value = serde_json::from_slice(&keys::dossier_statement(&envelope).unwrap()).unwrap();
    let rules = &statement["predicate"]["rules"];
    assert_eq!(
        rules[0]["evidence"]["artifacts"][0]["builders"],
        json!(["urn:clearroom:account:ci", "urn:clearroom:account:lab"])
    );
    assert_eq!(rules[0]["evidence"]["artifacts"][0]["provenance"].as_array().unwrap().len(), 2);
    assert_eq!(rules[1]["evidence"]["noObjection"], 1);
    assert!(rules[1]["evidence"].get("reviewers").is_none(), "no reviewer names unless the policy says so");
    assert_eq!(statement["predicate"]["checkpoint"]["size"].as_u64().map(|s| s > 0), Some(true));

    // The first signature is recorded; the release waits for the second.
    let (status, after) = decide(&app, "sup1", id, &keys::sign(&envelope, &signers[0]).unwrap()).await;
    assert_eq!((status, &after["state"]), (StatusCode::OK, &json!("proposed")), "{after}");
    let (status, again) = decide(&app, "sup1", id, &keys::sign(&envelope, &signers[0]).unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT, "a supervisor decides once: {again}");
    assert!(again["error"].as_str().unwrap().contains("sup1 has already signed"), "{again}");
    // A signature by a key sup2 never registered is refused, and so is sup2's signature of
    // another dossier.
    let stranger = NoteSigner::generate("sup2").unwrap();
    let (status, refused) = decide(&app, "sup2", id, &keys::sign(&envelope, &stranger).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["error"].as_str().unwrap().contains("not registered to sup2"), "{refused}");
    let mut other = keys::sign(&envelope, &signers[1]).unwrap();
    other.dossier_sha256 = "00".repeat(32);
    let (status, refused) = decide(&app, "sup2", id, &other).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(refused["error"].as_str().unwrap().contains("another dossier"), "{refused}");

    let (status, authorised) = decide(&app, "sup2", id, &keys::sign(&envelope, &signers[1]).unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(authorised["state"], "authorised", "{authorised}");
    assert!(unmet(&authorised).is_empty());
    assert_eq!(app.events("release.authorise").await.len(), 1);
    for action in ["release.propose", "release.sign", "release.dossier"] {
        assert!(!app.events(action).await.is_empty(), "{action} recorded");
    }

    // The envelope, now with every signature, verifies with the keys alone.
    let full = dossier(&app, &sup1, id).await;
    let keys: Value =
        new_client().get(app.url("/api/v1/keys")).bearer_auth(&staff).send().await.unwrap().json().await.unwrap();
    let vendor = keys["attestation"]["public_key_pem"].as_str().unwrap();
    let public: Vec<(&str, _)> =
        ["sup1", "sup2", "sup3"].into_iter().zip(signers.iter().map(|k| k.verifier().public_key())).collect();
    assert_eq!(verify_release(&full, BINARY, vendor, &public), Ok(()));
    assert!(verify_release(&full, b"a tampered binary", vendor, &public).is_err(), "a tampered file");
    let mut missing: Value = serde_json::from_str(&full).unwrap();
    missing["signatures"].as_array_mut().unwrap().pop();
    assert!(verify_release(&missing.to_string(), BINARY, vendor, &public).unwrap_err().contains("quorum"));

    // Nothing more is decided on it, and the version is not proposed again.
    let (status, _) = decide(&app, "sup3", id, &keys::sign(&envelope, &signers[2]).unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let again = new_client()
        .post(app.url(&format!("/api/v1/pins/{}/releases", app.pin)))
        .bearer_auth(&staff)
        .json(&json!({"version": "2.4.1", "artifacts": [{"name": "x", "platform": "", "sha256": sha256(BINARY)}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn a_missing_reproducer_an_open_high_finding_or_an_objection_keeps_a_release_from_authorisation() {
    let Room { app, staff, keys: signers } = room().await;
    let b1 = builder_token(&app, "ci").await;
    record(&app, &b1, BINARY).await;
    verdict(&app, "no_objection").await;
    let (client, csrf) = signed_in(&app, "reviewer").await;
    let finding = client
        .post(app.url(&format!("/api/v1/pins/{}/comments", app.pin)))
        .header("origin", &app.address)
        .header("x-csrf-token", &csrf)
        .json(&json!({"path": "src/main.rs", "start_line": 2, "severity": "high", "body": "Unbounded allocation"}))
        .send()
        .await
        .unwrap();
    assert_eq!(finding.status(), StatusCode::CREATED);

    let release = propose(&app, &staff, "2.5.0").await;
    let id = release["id"].as_i64().unwrap();
    assert!(!release["ready_for_supervisors"].as_bool().unwrap());
    assert_eq!(
        unmet(&release),
        [
            "reproduced_by: not reproduced: product (linux): 1 of 2 builders",
            "max_open_findings_at: 1 open finding(s) at or above high",
            "supervisors: 0 of 2 supervisor signature(s) of sup1, sup2, sup3",
        ]
    );
    let envelope = dossier(&app, &staff, id).await;
    let (status, refused) = decide(&app, "sup1", id, &keys::sign(&envelope, &signers[0]).unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(refused["error"].as_str().unwrap().contains("every other rule is met"), "{refused}");

    // A second builder: a new dossier replaces the first, by reference; the finding still counts.
    let b2 = builder_token(&app, "lab").await;
    record(&app, &b2, BINARY).await;
    let second = propose(&app, &staff, "2.5.0").await;
    let second_id = second["id"].as_i64().unwrap();
    assert_eq!(second["replaces"], id);
    assert_eq!(unmet(&second).len(), 2, "{second}");
    let first: Value = new_client()
        .get(app.url(&format!("/api/v1/releases/{id}")))
        .bearer_auth(&staff)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((&first["state"], &first["replaced_by"]), (&json!("replaced"), &json!(second_id)));

    // An objection: signed, with its reason, shown; the release is not authorised.
    let envelope = dossier(&app, &staff, second_id).await;
    let objection = keys::object(&envelope, &signers[2], "the allocation finding is still open").unwrap();
    let (status, objected) = decide(&app, "sup3", second_id, &objection).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(objected["state"], "objected");
    assert_eq!(objected["decisions"][0]["reason"], "the allocation finding is still open");
    assert!(unmet(&objected).last().unwrap().contains("objected to by sup3"));
    assert_eq!(app.events("release.object").await.len(), 1);
    assert!(app.events("release.authorise").await.is_empty());
}

#[tokio::test]
async fn only_named_supervisors_decide_and_only_staff_propose() {
    let Room { app, staff, keys: signers } = room().await;
    let release = propose(&app, &staff, "3.0.0").await;
    let id = release["id"].as_i64().unwrap();
    let envelope = dossier(&app, &staff, id).await;
    // A supervisor the policy does not name.
    let password = Some(Password::new(PASSWORD.into()));
    app.domain.admin().create_user(Actor::Operator, "sup4", Role::Supervisor, password).await.unwrap();
    let (status, _) = decide(&app, "sup4", id, &keys::sign(&envelope, &signers[0]).unwrap()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Staff cannot sign for a supervisor through the API; a reviewer cannot propose.
    let url = app.url(&format!("/api/v1/releases/{id}/decisions"));
    let response = new_client()
        .post(url)
        .bearer_auth(&staff)
        .json(&keys::sign(&envelope, &signers[0]).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let reviewer = app.token("reviewer").await;
    let body = json!({"version": "3.0.1", "artifacts": [{"name": "p", "platform": "", "sha256": sha256(BINARY)}]});
    let url = app.url(&format!("/api/v1/pins/{}/releases", app.pin));
    assert_eq!(
        new_client().post(url).bearer_auth(&reviewer).json(&body).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    // Malformed input names its rule.
    for (body, expected) in [
        (json!({"version": "", "artifacts": []}), "version"),
        (json!({"version": "1", "artifacts": [{"name": "p", "platform": "", "sha256": "xyz"}]}), "SHA-256"),
    ] {
        let url = app.url(&format!("/api/v1/pins/{}/releases", app.pin));
        let response = new_client().post(url).bearer_auth(&staff).json(&body).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let error: Value = response.json().await.unwrap();
        assert!(error["error"].as_str().unwrap().contains(expected), "{error}");
    }
    let response = new_client().get(app.url("/api/v1/releases/abc")).bearer_auth(&staff).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = new_client().get(app.url("/api/v1/releases/999")).bearer_auth(&staff).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}
