//! The stand-alone witness (`server witness serve`) against the real log: it cosigns the first
//! checkpoint and each consistent extension, answers 409 with the size it holds, refuses unknown
//! origins (404), other keys (403), bad proofs and a history rewritten with the real key (422),
//! keeps its state across a restart, and its cosignature lines verify with the witness's vkey.

use crate::helpers::*;
use clearroom::audit::checkpoint;
use clearroom::audit::cosignature::{CosignatureVerifier, Cosigner};
use clearroom::audit::note::NoteSigner;
use clearroom::audit::policy::Policy;
use clearroom::witness::Witness;

fn request(old: u64, proof: &[[u8; 32]], note: &str) -> Vec<u8> {
    use base64::Engine as _;
    let mut body = format!("old {old}\n");
    for hash in proof {
        body.push_str(&base64::engine::general_purpose::STANDARD.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body.into_bytes()
}

async fn witness(app: &TestApp, dir: &std::path::Path, seed: u8) -> (Witness, CosignatureVerifier) {
    let policy = Policy::parse(&format!("log {}\nquorum none\n", app.signer.verifier())).unwrap();
    let cosigner = Cosigner::from_seed("witness.test/w1", [seed; 32]).unwrap();
    let verifier = cosigner.verifier();
    (Witness::open(dir, policy, cosigner).await.unwrap(), verifier)
}

async fn grow(app: &TestApp) {
    app.login_as("reviewer").await;
    app.open_file("README.md").await;
}

#[tokio::test]
async fn a_witness_cosigns_consistent_growth_and_refuses_everything_else() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let (witness, verifier) = witness(&app, dir.path(), 7).await;

    let first = app.publish_checkpoint().await;
    let answer = witness.add_checkpoint(&request(0, &[], &first.note), 1_800_000_000).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);
    let cosigned = format!("{}{}", first.note, answer.body);
    assert_eq!(verifier.cosigned_at(&cosigned), Ok(Some(1_800_000_000)), "the line verifies with the vkey");

    // The log grew: old 0 is now a conflict naming the size held.
    grow(&app).await;
    let second = app.publish_checkpoint().await;
    let answer = witness.add_checkpoint(&request(0, &[], &second.note), 1_800_000_001).await.unwrap();
    assert_eq!((answer.status, answer.content_type), (409, "text/x.tlog.size"));
    assert_eq!(answer.body, format!("{}\n", first.size));

    // A wrong proof is 422; the right one is cosigned.
    let proof = app.log.consistency_proof(first.size, second.size).await.unwrap();
    let mut wrong = proof.clone();
    wrong[0][0] ^= 1;
    let answer = witness.add_checkpoint(&request(first.size, &wrong, &second.note), 1_800_000_002).await.unwrap();
    assert_eq!(answer.status, 422);
    let answer = witness.add_checkpoint(&request(first.size, &proof, &second.note), 1_800_000_003).await.unwrap();
    assert_eq!(answer.status, 200, "{}", answer.body);

    // A history rewritten and re-signed with the real key: same origin, a larger size, another root.
    let origin = app.signer.name().to_string();
    let forged = app.signer.sign(&checkpoint::body(&origin, second.size + 5, &[9u8; 32])).unwrap();
    let answer = witness.add_checkpoint(&request(second.size, &proof, &forged), 1_800_000_004).await.unwrap();
    assert_eq!(answer.status, 422, "never cosigned");
    let same_size_other_root = app.signer.sign(&checkpoint::body(&origin, second.size, &[9u8; 32])).unwrap();
    let answer =
        witness.add_checkpoint(&request(second.size, &[], &same_size_other_root), 1_800_000_005).await.unwrap();
    assert_eq!(answer.status, 409);

    // Other logs and other keys.
    let stranger = NoteSigner::generate("elsewhere.test/log").unwrap();
    let note = stranger.sign(&checkpoint::body("elsewhere.test/log", 1, &[1u8; 32])).unwrap();
    assert_eq!(witness.add_checkpoint(&request(0, &[], &note), 1).await.unwrap().status, 404);
    let impostor = NoteSigner::generate(&origin).unwrap();
    let note = impostor.sign(&checkpoint::body(&origin, second.size + 1, &[1u8; 32])).unwrap();
    assert_eq!(witness.add_checkpoint(&request(second.size, &[], &note), 1).await.unwrap().status, 403);
    assert_eq!(witness.add_checkpoint(&request(second.size + 9, &[], &second.note), 1).await.unwrap().status, 400);
    assert_eq!(witness.add_checkpoint(b"old 01\n\nx", 1).await.unwrap().status, 400);
    assert_eq!(witness.add_checkpoint(b"no blank line", 1).await.unwrap().status, 400);

    // A restart keeps what was cosigned.
    drop(witness);
    let (witness, _) = self::witness(&app, dir.path(), 7).await;
    assert_eq!(witness.latest(&origin).await.unwrap().0, second.size);
    let answer = witness.add_checkpoint(&request(0, &[], &second.note), 1).await.unwrap();
    assert_eq!(answer.body, format!("{}\n", second.size));
}

#[tokio::test]
async fn the_witness_answers_over_http() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let (witness, verifier) = witness(&app, dir.path(), 8).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, clearroom::witness::router(std::sync::Arc::new(witness))).await });
    let first = app.publish_checkpoint().await;
    let response =
        new_client().post(format!("{url}/add-checkpoint")).body(request(0, &[], &first.note)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let line = response.text().await.unwrap();
    assert!(verifier.cosigned_at(&format!("{}{line}", first.note)).unwrap().is_some());
    let response =
        new_client().post(format!("{url}/add-checkpoint")).body(request(0, &[], &first.note)).send().await.unwrap();
    assert_eq!(response.status(), 409);
    assert_eq!(response.headers()["content-type"], "text/x.tlog.size");
}
