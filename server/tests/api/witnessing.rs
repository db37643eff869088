//! The log supervised by witnesses: two Clearroom witnesses and one that is down, a quorum of two.
//! The log reaches the quorum, survives the absent witness, answers a witness's 409 by resending
//! from the size it holds, never serves a forged cosignature as one, and `verify log --policy`
//! checks the quorum. The cosignatures are also checked by a second verifier written here from the
//! C2SP tlog-cosignature text alone.

use crate::helpers::*;
use base64::Engine as _;
use clearroom::audit::cosignature::Cosigner;
use clearroom::audit::policy::Policy;
use clearroom::domain::Actor;
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
fn independently_cosigned(vkey: &str, note: &str) -> bool {
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
    app.domain.supervise(Policy::parse(&policy_text).unwrap());
    let staff = app.domain.create_token(Actor::Operator, "staff").await.unwrap();
    let get = |path: &str| new_client().get(app.url(path)).bearer_auth(&staff).send();

    // Witness A already holds an earlier checkpoint the log does not know it holds: the log's
    // first ask (old 0) is answered 409 with A's size, and the log resends from there.
    let early = app.publish_checkpoint().await;
    let body = format!("old 0\n\n{}", early.note);
    assert_eq!(witness_a.add_checkpoint(body.as_bytes(), 1_800_000_000).await.unwrap().status, 200);
    app.login_as("reviewer").await;
    app.open_file("README.md").await;

    // Before any submission, nothing meets the quorum: 503, and ?latest=1 serves the newest.
    let checkpoint = app.publish_checkpoint().await;
    assert_eq!(get("/api/v1/log/checkpoint").await.unwrap().status(), 503);
    assert_eq!(get("/api/v1/log/checkpoint?latest=1").await.unwrap().text().await.unwrap(), checkpoint.note);

    app.domain.submit_to_witnesses(&checkpoint).await;
    let response = get("/api/v1/log/checkpoint").await.unwrap();
    assert_eq!(response.status(), 200);
    let cosigned = response.text().await.unwrap();
    assert!(cosigned.starts_with(&checkpoint.note), "the log's note, with the cosignature lines appended");
    assert!(independently_cosigned(&vkey_a, &cosigned), "A (after its 409)");
    assert!(independently_cosigned(&vkey_b, &cosigned), "B");
    assert!(!independently_cosigned(&down, &cosigned), "C is down");
    assert_eq!(witness_a.latest(app.signer.name()).await.unwrap().0, checkpoint.size);

    // The /log page shows each witness; the one that is down names its problem.
    let page = get("/log").await.unwrap().text().await.unwrap();
    assert!(page.contains("witness.test") || page.contains(">A<"), "witnesses listed");
    assert!(page.contains("unreachable"), "the absent witness's problem is shown");
    assert!(page.contains("meets the witnesses&#x27; quorum") || page.contains("meets the witnesses' quorum"));

    // verify log --policy checks the quorum from the database and from the server.
    let dir = tempfile::tempdir().unwrap();
    let (key_file, policy_file) = (dir.path().join("log.key"), dir.path().join("policy"));
    std::fs::write(&key_file, app.signer.verifier().to_string()).unwrap();
    std::fs::write(&policy_file, &policy_text).unwrap();
    clearroom::verify_cli::verify_log(&key_file, None, None, None, &app.database_url, Some(&policy_file)).await.unwrap();
    clearroom::verify_cli::verify_log(&key_file, None, Some(&app.address), Some(&staff), "", Some(&policy_file))
        .await
        .unwrap();
    let strict = policy_text.replace("group two 2 A B C", "group two all A B C");
    std::fs::write(&policy_file, strict).unwrap();
    assert!(clearroom::verify_cli::check_quorum(
        &Policy::parse(&std::fs::read_to_string(&policy_file).unwrap()).unwrap(),
        &cosigned
    )
    .is_err());

    // A forged cosignature row for a newer checkpoint does not make it cosigned.
    app.open_file("src/main.rs").await;
    let newer = app.publish_checkpoint().await;
    let forged = Cosigner::from_seed("witness.test/b", [9; 32]).unwrap();
    let body_end = newer.note.find("\n\n").unwrap() + 1;
    let line = forged.cosign(&newer.note[..body_end], 1_800_000_100).unwrap();
    for witness in ["A", "B"] {
        let sql = format!(
            "INSERT INTO cosignatures (checkpoint_size, witness, line, cosigned_at, received_at) VALUES ({}, '{witness}', '{}', 1800000100, 0)",
            newer.size,
            line.replace('\'', "''")
        );
        app.execute_sql(&[&sql]).await;
    }
    let served = get("/api/v1/log/checkpoint").await.unwrap().text().await.unwrap();
    assert_eq!(served, cosigned, "still the older, truly cosigned checkpoint");
}
