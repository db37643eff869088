//! The log supervised by witnesses: two Clearroom witnesses and one that is down, a quorum of two.
//! The log reaches the quorum, survives the absent witness, answers a witness's 409 by resending
//! from the size it holds, never serves a forged cosignature as one, and `verify log --policy`
//! checks the quorum. The cosignatures are also checked by a second verifier written here from the
//! C2SP tlog-cosignature text alone.

use crate::helpers::*;
use base64::Engine as _;
use clearroom::audit::cosignature::Cosigner;
use clearroom::audit::policy::Policy;
use clearroom::witness::Witness;
use ed25519_dalek::Verifier as _;
use sha2::Digest as _;
use std::sync::Arc;

/// A witness serving the app's log on a random port: (url, vkey, its state).
async fn start_witness(app: &TestApp, dir: &std::path::Path, name: &str, seed: u8) -> (String, String, Arc<Witness>) {
    let policy = Policy::parse(&format!("log {}\nquorum none\n", app.signer.verifier())).unwrap();
    let cosigner = Cosigner::from_seed(name, [seed; 32]).unwrap();
    let vkey = cosigner.verifier().to_string();
    let witness = Arc::new(Witness::open(dir, policy, cosigner).await.unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let router = clearroom::witness::router(Arc::clone(&witness));
    tokio::spawn(async move { axum::serve(listener, router).await });
    (url, vkey, witness)
}

/// The second verifier, from the C2SP text: the vkey's name, id and key; the line's key id,
/// timestamp and signature over `cosignature/v1\ntime <t>\n` ‖ body.
pub(crate) fn independently_cosigned(vkey: &str, note: &str) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut parts = vkey.splitn(3, '+');
    let (name, _, key) = (parts.next().unwrap(), parts.next().unwrap(), b64.decode(parts.next().unwrap()).unwrap());
    assert_eq!(key[0], 0x04);
    let public: [u8; 32] = key[1..].try_into().unwrap();
    let mut id_input = format!("{name}\n").into_bytes();
    id_input.push(0x04);
    id_input.extend_from_slice(&public);
    let id = &sha2::Sha256::digest(&id_input)[..4];
    let (body, lines) = note.split_at(note.find("\n\n").unwrap() + 1);
    lines.lines().any(|line| {
        let Some(rest) = line.strip_prefix(&format!("\u{2014} {name} ")) else { return false };
        let bytes = b64.decode(rest).unwrap();
        if bytes.len() != 76 || &bytes[..4] != id {
            return false;
        }
        let timestamp = u64::from_be_bytes(bytes[4..12].try_into().unwrap());
        let message = format!("cosignature/v1\ntime {timestamp}\n{body}");
        let signature = ed25519_dalek::Signature::from_slice(&bytes[12..]).unwrap();
        ed25519_dalek::VerifyingKey::from_bytes(&public).unwrap().verify(message.as_bytes(), &signature).is_ok()
    })
}

#[tokio::test]
async fn witnesses_cosign_the_log_and_the_cosigned_checkpoint_is_served() {
    let app = spawn_app().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let (url_a, vkey_a, witness_a) = start_witness(&app, dir_a.path(), "witness.test/a", 1).await;
    let (url_b, vkey_b, _) = start_witness(&app, dir_b.path(), "witness.test/b", 2).await;
    let down = Cosigner::from_seed("witness.test/down", [3; 32]).unwrap().verifier().to_string();
    let policy_text = format!(
        "log {}\nwitness A {vkey_a} {url_a}\nwitness B {vkey_b} {url_b}\nwitness C {down} http://127.0.0.1:9\n\
         group two 2 A B C\nquorum two\n",
        app.signer.verifier()
    );
    let staff = app.session_client("staff").await;
    let get = |path: &str| staff.get(app.url(path)).send();

    // Witness A already holds a checkpoint the log does not know it holds: the log's first ask
    // (old 0) is answered 409 with A's size, and the log resends from there.
    let early = app.publish_checkpoint().await;
    let body = format!("old 0\n\n{}", early.note);
    assert_eq!(witness_a.add_checkpoint(body.as_bytes(), 1_800_000_000).await.unwrap().status, 200);
    app.login_as("reviewer").await;
    app.open_file("README.md").await;

    // From now on the server also asks the witnesses in the background, each second; the test
    // asks once more itself, so it does not depend on that timing.
    app.domain.log().supervise(Policy::parse(&policy_text).unwrap());
    let checkpoint = app.publish_checkpoint().await;
    app.domain.log().submit_to_witnesses(&checkpoint).await;
    let response = get("/api/v1/log/checkpoint").await.unwrap();
    assert_eq!(response.status(), 200);
    let cosigned = response.text().await.unwrap();
    let size: u64 = cosigned.lines().nth(1).unwrap().parse().unwrap();
    assert!(size >= checkpoint.size, "the newest cosigned checkpoint");
    assert!(independently_cosigned(&vkey_a, &cosigned), "A (after its 409)");
    assert!(independently_cosigned(&vkey_b, &cosigned), "B");
    assert!(!independently_cosigned(&down, &cosigned), "C is down");
    assert!(witness_a.latest(app.signer.name()).await.unwrap().0 >= checkpoint.size);
    let latest = get("/api/v1/log/checkpoint?latest=1").await.unwrap().text().await.unwrap();
    assert!(latest.lines().nth(1).unwrap().parse::<u64>().unwrap() >= size, "?latest=1: the newest");

    // The /log page shows each witness; the one that is down names its problem.
    let page = get("/log").await.unwrap().text().await.unwrap();
    assert!(page.contains("witness.test") || (page.contains(">A<") && page.contains(">C<")), "witnesses listed");
    assert!(page.contains("unreachable"), "the absent witness's problem is shown");

    // verify log --policy checks the quorum from the database and from the server.
    let dir = tempfile::tempdir().unwrap();
    let (key_file, policy_file) = (dir.path().join("log.key"), dir.path().join("policy"));
    std::fs::write(&key_file, app.signer.verifier().to_string()).unwrap();
    std::fs::write(&policy_file, &policy_text).unwrap();
    clearroom::verify_cli::verify_log(&key_file, None, None, None, &app.database_url, Some(&policy_file))
        .await
        .unwrap();
    clearroom::verify_cli::verify_log(
        &key_file,
        None,
        Some(&app.address),
        Some(&app.token("staff").await),
        "",
        Some(&policy_file),
    )
    .await
    .unwrap();
    let strict = policy_text.replace("group two 2 A B C", "group two all A B C");
    std::fs::write(&policy_file, strict).unwrap();
    assert!(clearroom::verify_cli::check_quorum(
        &Policy::parse(&std::fs::read_to_string(&policy_file).unwrap()).unwrap(),
        &cosigned
    )
    .is_err());

    // A forged cosignature row (C's name, another key) is never served, nor counted.
    app.open_file("src/main.rs").await;
    let newer = app.publish_checkpoint().await;
    let forged = Cosigner::from_seed("witness.test/down", [9; 32]).unwrap();
    let body_end = newer.note.find("\n\n").unwrap() + 1;
    let line = forged.cosign(&newer.note[..body_end], 1_800_000_100).unwrap();
    let sql = format!(
        "INSERT INTO cosignatures (checkpoint_size, witness, line, cosigned_at, received_at) VALUES ({}, 'C', '{}', 1800000100, 0)",
        newer.size,
        line.replace('\'', "''")
    );
    app.execute_sql(&[&sql]).await;
    for path in ["/api/v1/log/checkpoint", "/api/v1/log/checkpoint?latest=1"] {
        let served = get(path).await.unwrap().text().await.unwrap();
        assert!(!served.contains(&line), "{path} serves a forged line");
    }
}

#[tokio::test]
async fn without_the_quorum_the_cosigned_checkpoint_is_unavailable_and_latest_still_served() {
    let app = spawn_app().await;
    let down = Cosigner::from_seed("witness.test/down", [3; 32]).unwrap().verifier().to_string();
    let policy = format!("log {}\nwitness C {down} http://127.0.0.1:9\nquorum C\n", app.signer.verifier());
    app.domain.log().supervise(Policy::parse(&policy).unwrap());
    let checkpoint = app.publish_checkpoint().await;
    app.domain.log().submit_to_witnesses(&checkpoint).await;
    let staff = app.session_client("staff").await;
    let get = |path: &str| staff.get(app.url(path)).send();
    let response = get("/api/v1/log/checkpoint").await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.text().await.unwrap().contains("quorum"));
    let latest = get("/api/v1/log/checkpoint?latest=1").await.unwrap();
    assert_eq!(latest.status(), 200);
    let health: serde_json::Value = get("/healthz").await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["witnesses"], "ok", "not yet ten minutes");
    // Eleven minutes on: the checkpoint waiting for the quorum is a warning.
    app.clock.advance(11 * 60_000);
    let health: serde_json::Value = get("/healthz").await.unwrap().json().await.unwrap();
    assert_ne!(health["witnesses"], "ok");
}
