//! The public log, as anyone sees it: an authorised release is appended as the vendor's Signed
//! Statement; its checkpoint, tiles, lookup, receipt and Transparent Statement answer without an
//! account, and are checked here with a verifier written from RFC 9162, RFC 9052 and RFC 9942
//! (not the server's). Issuers with registered keys register statements through POST /entries;
//! everything else is refused with problem details naming the rule. A flood is limited.

use crate::helpers::*;
use crate::release_flow::{decide, dossier, propose, record, room, room_on, verdict, Room, BINARY};
use base64::Engine as _;
use ciborium::value::Value;
use clearroom::audit::note::NoteSigner;
use clearroom::releases::keys;
use clearroom::transparency::cose;
use ed25519_dalek::Verifier as _;
use reqwest::StatusCode;
use serde_json::Value as Json;
use sha2::Digest as _;

type Hash = [u8; 32];

fn sha(bytes: &[u8]) -> Hash {
    sha2::Sha256::digest(bytes).into()
}

fn node(left: &[u8], right: &[u8]) -> Hash {
    sha(&[&[1u8][..], left, right].concat())
}

/// MTH (RFC 9162 2.1.1) of leaf hashes.
fn mth(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => sha(b""),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node(&mth(&leaves[..k]), &mth(&leaves[k..]))
        }
    }
}

/// RFC 9162 2.1.3.2, up to the root it leads to.
fn root_from(index: u64, size: u64, leaf: Hash, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in path {
        if s == 0 {
            return None;
        }
        if f % 2 == 1 || f == s {
            r = node(p, &r);
            while f % 2 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

fn cbor(bytes: &[u8]) -> Value {
    ciborium::de::from_reader(bytes).expect("CBOR")
}

fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    ciborium::ser::into_writer(value, &mut out).unwrap();
    out
}

fn get(map: &Value, key: i64) -> Option<&Value> {
    map.as_map()?.iter().find(|(k, _)| k.as_integer() == Some(key.into())).map(|(_, v)| v)
}

/// A COSE_Sign1 (RFC 9052 4.2, tag 18): protected bytes, unprotected map, payload, signature.
fn sign1(bytes: &[u8]) -> (Vec<u8>, Value, Option<Vec<u8>>, Vec<u8>) {
    let Value::Tag(18, inner) = cbor(bytes) else { panic!("not tag 18") };
    let Value::Array(parts) = *inner else { panic!("not an array") };
    let protected = parts[0].as_bytes().unwrap().clone();
    (protected, parts[1].clone(), parts[2].as_bytes().cloned(), parts[3].as_bytes().unwrap().clone())
}

/// RFC 9052 4.4: Sig_structure = ["Signature1", protected, external_aad, payload].
fn to_be_signed(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    encode(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(vec![]),
        Value::Bytes(payload.to_vec()),
    ]))
}

fn ed25519(public: &[u8; 32], message: &[u8], signature: &[u8]) -> bool {
    let key = ed25519_dalek::VerifyingKey::from_bytes(public).unwrap();
    ed25519_dalek::Signature::from_slice(signature).is_ok_and(|sig| key.verify(message, &sig).is_ok())
}

/// The public key of a vkey line (`name+id+base64(0x01 ‖ key)`).
fn vkey_public(line: &str) -> [u8; 32] {
    let encoded = line.trim().splitn(3, '+').nth(2).unwrap();
    base64::engine::general_purpose::STANDARD.decode(encoded).unwrap()[1..].try_into().unwrap()
}

/// RFC 9942 with RFC9162_SHA256: the receipt's proof (header 396, key -1) leads from the leaf to a
/// root, and the receipt's signature is over that root (detached payload). Returns (size, index).
fn verify_receipt(receipt: &[u8], statement: &[u8], log_key: &[u8; 32]) -> Result<(u64, u64), String> {
    let (protected, unprotected, payload, signature) = sign1(receipt);
    let header = cbor(&protected);
    if get(&header, 1) != Some(&Value::from(-8)) || get(&header, 395) != Some(&Value::from(1)) {
        return Err("not an EdDSA receipt of RFC9162_SHA256".into());
    }
    if payload.is_some() {
        return Err("the payload is not detached".into());
    }
    let proofs = get(&unprotected, 396).ok_or("no proofs")?;
    let proof =
        get(proofs, -1).and_then(|list| list.as_array()?.first()?.as_bytes().cloned()).ok_or("no inclusion proof")?;
    let Value::Array(parts) = cbor(&proof) else { return Err("the proof is not an array".into()) };
    let size = u64::try_from(parts[0].as_integer().ok_or("size")?).unwrap();
    let index = u64::try_from(parts[1].as_integer().ok_or("index")?).unwrap();
    let path: Vec<Hash> = parts[2]
        .as_array()
        .ok_or("path")?
        .iter()
        .map(|h| h.as_bytes().unwrap().as_slice().try_into().unwrap())
        .collect();
    let leaf = sha(&[&[0u8][..], statement].concat());
    let root = root_from(index, size, leaf, &path).ok_or("the path does not fit the tree")?;
    if !ed25519(log_key, &to_be_signed(&protected, &root), &signature) {
        return Err("the receipt's signature is not over the root the proof leads to".into());
    }
    Ok((size, index))
}

async fn anonymous(app: &TestApp, path: &str) -> reqwest::Response {
    bare_client().get(app.url(path)).send().await.unwrap()
}

/// An authorised release of BINARY (two builders, a verdict, two of three supervisors).
async fn authorised(room: &Room) {
    let Room { app, staff, keys: signers } = room;
    for builder in ["ci", "lab"] {
        let token = crate::builds::builder_token(app, builder).await;
        record(app, &token, BINARY).await;
    }
    verdict(app, "no_objection").await;
    let id = propose(app, staff, "2.4.1").await["id"].as_i64().unwrap();
    let envelope = dossier(app, staff, id).await;
    for (name, key) in [("sup1", &signers[0]), ("sup3", &signers[2])] {
        let (status, body) = decide(app, name, id, &keys::sign(&envelope, key).unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
}

#[tokio::test]
async fn an_authorised_release_is_in_the_public_log_and_anyone_checks_it_without_an_account() {
    let room = room().await;
    let app = &room.app;
    let empty = anonymous(app, "/bt/checkpoint").await.text().await.unwrap();
    assert!(empty.lines().nth(1) == Some("0"), "an empty log's checkpoint: {empty}");
    authorised(&room).await;

    // The checkpoint, signed by the key of /bt/key.
    let key_line = anonymous(app, "/bt/key").await.text().await.unwrap();
    let checkpoint = anonymous(app, "/bt/checkpoint").await.text().await.unwrap();
    let verifier = clearroom::audit::note::NoteVerifier::parse(key_line.trim()).unwrap();
    let body = verifier.open(&checkpoint).expect("the checkpoint verifies with /bt/key");
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!((lines[0].ends_with("/releases"), lines[1]), (true, "1"), "{body}");

    // The tiles: the entry bundle holds the statement; its leaf hash is the level-0 tile's and the root.
    let tile = anonymous(app, "/bt/tile/0/000.p/1").await;
    assert_eq!(tile.status(), StatusCode::OK);
    assert!(tile.headers()["cache-control"].to_str().unwrap().contains("immutable"));
    let hashes = tile.bytes().await.unwrap().to_vec();
    let bundle = anonymous(app, "/bt/tile/entries/000.p/1").await.bytes().await.unwrap().to_vec();
    let length = u16::from_be_bytes([bundle[0], bundle[1]]) as usize;
    let statement = bundle[2..2 + length].to_vec();
    assert_eq!(bundle.len(), 2 + length);
    let leaf = sha(&[&[0u8][..], &statement].concat());
    assert_eq!(hashes, leaf.to_vec());
    let root = base64::engine::general_purpose::STANDARD.decode(lines[2]).unwrap();
    assert_eq!(mth(&[leaf]).to_vec(), root);
    assert_eq!(anonymous(app, "/bt/tile/0/001").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(anonymous(app, "/bt/tile/0/x").await.status(), StatusCode::BAD_REQUEST);

    // The statement: the vendor's COSE_Sign1 over the release's DSSE envelope, every signature in it.
    let (protected, _, payload, signature) = sign1(&statement);
    let header = cbor(&protected);
    let claims = get(&header, 15).unwrap();
    assert_eq!(get(claims, 2).and_then(Value::as_text), Some("product@2.4.1"));
    let payload = payload.expect("attached");
    let keys: Json =
        new_client().get(app.url("/api/v1/keys")).bearer_auth(&room.staff).send().await.unwrap().json().await.unwrap();
    let vendor =
        base64::engine::general_purpose::STANDARD.decode(keys["attestation"]["public_key"].as_str().unwrap()).unwrap();
    assert!(ed25519(&vendor.try_into().unwrap(), &to_be_signed(&protected, &payload), &signature));
    let envelope: Json = serde_json::from_slice(&payload).unwrap();
    assert_eq!(envelope["signatures"].as_array().unwrap().len(), 3, "the vendor and two supervisors");

    // The lookup names it, with its entry id; the receipt verifies against the leaf.
    let lookup: Json =
        anonymous(app, &format!("/bt/lookup/{}", crate::builds::sha256(BINARY))).await.json().await.unwrap();
    let entry = &lookup["entries"][0];
    assert_eq!(entry["index"], 0);
    let entry_id = entry["entry_id"].as_str().unwrap();
    assert_eq!(entry_id, hex::encode(sha(&statement)));
    let receipt = anonymous(app, &format!("/entries/{entry_id}")).await;
    assert_eq!(receipt.headers()["content-type"], "application/cose");
    let receipt = receipt.bytes().await.unwrap().to_vec();
    let log_key = vkey_public(&key_line);
    assert_eq!(verify_receipt(&receipt, &statement, &log_key), Ok((1, 0)));
    assert!(verify_receipt(&receipt, b"another statement", &log_key).is_err());
    assert_eq!(anonymous(app, &format!("/entries/{}", "0".repeat(64))).await.status(), StatusCode::NOT_FOUND);

    // The Transparent Statement carries the receipt in header 394; without it, it is the leaf.
    let transparent = anonymous(app, &format!("/bt/statement/{entry_id}")).await.bytes().await.unwrap().to_vec();
    let (registered, receipts) = cose::split_transparent(&transparent).unwrap();
    assert_eq!(registered, statement);
    assert_eq!(verify_receipt(&receipts[0], &registered, &log_key), Ok((1, 0)));

    // `server verify release`, from the tiles and from the Transparent Statement alone.
    let dir = tempfile::tempdir().unwrap();
    let (file, tampered) = (dir.path().join("product"), dir.path().join("tampered"));
    std::fs::write(&file, BINARY).unwrap();
    std::fs::write(&tampered, [BINARY, b"!"].concat()).unwrap();
    let statement_file = dir.path().join("product.cose");
    std::fs::write(&statement_file, &transparent).unwrap();
    let supervisors: Vec<String> = [0, 2].iter().map(|i| room.keys[*i].verifier().to_string()).collect();
    let vendor = keys["attestation"]["public_key_pem"].as_str().unwrap().to_string();
    let verify = async |file: &std::path::Path, supervisors: &[String], from_statement: bool| {
        let inputs = clearroom::verify_release::Inputs {
            file,
            bt_key: Some(key_line.trim()),
            supervisor_keys: supervisors,
            vendor_key: Some(&vendor),
            policy: None,
            url: (!from_statement).then_some(app.address.as_str()),
            proof: None,
            statement: from_statement.then_some(statement_file.as_path()),
            service_key: Some(key_line.trim()),
        };
        clearroom::verify_release::verify_release(inputs).await.map_err(|e| e.to_string())
    };
    assert_eq!(verify(&file, &supervisors, false).await, Ok(()));
    assert_eq!(verify(&file, &supervisors, true).await, Ok(()));
    assert!(verify(&tampered, &supervisors, false).await.unwrap_err().contains("no release naming"));
    assert!(verify(&tampered, &supervisors, true).await.unwrap_err().contains("does not name a file"));
    assert!(verify(&file, &supervisors[..1], true).await.unwrap_err().contains("its policy needs 2"));

    // Nothing private: the lookup's fields, field by field, and no reviewer's name anywhere.
    let fields: Vec<&str> = entry.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(fields, ["appended_at_ms", "content_type", "entry_id", "index", "issuer", "payload", "subject"]);
    let dossier = base64::engine::general_purpose::STANDARD.decode(envelope["payload"].as_str().unwrap()).unwrap();
    let dossier: Json = serde_json::from_slice(&dossier).unwrap();
    let predicate: Vec<&str> = dossier["predicate"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        predicate,
        ["checkpoint", "policy", "proposedBy", "replaces", "rules", "supervisors", "target", "timeProposed", "version"]
    );
    let verdicts: Vec<&str> =
        dossier["predicate"]["rules"][1]["evidence"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(verdicts, ["concerns", "noObjection", "objection", "reviewSummaries"]);
    for text in [lookup.to_string(), String::from_utf8_lossy(&dossier.to_string().into_bytes()).to_string()] {
        assert!(!text.contains("\"reviewer\"") && !text.contains("account:reviewer"), "a reviewer's name in {text}");
    }

    // The page, for anyone: the release, and a file checked against the log.
    let page = anonymous(app, &format!("/releases?sha256={}", crate::builds::sha256(BINARY))).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(page.contains("product 2.4.1") && page.contains("is part of an authorised release"), "{page}");
    let other = anonymous(app, &format!("/releases?sha256={}", "ab".repeat(32))).await.text().await.unwrap();
    assert!(other.contains("No authorised release contains"));
    // No read of the public log is an audit event.
    assert!(app.events("log.read").await.iter().all(|e| e.actor.is_some()));
}

fn issuer_statement(key: &NoteSigner, issuer: &str, content_type: &str, payload: Vec<u8>) -> Vec<u8> {
    let statement = cose::Statement {
        issuer: issuer.into(),
        subject: "product@2.4.1".into(),
        content_type: content_type.into(),
        kid: cose::thumbprint(&key.verifier().public_key()),
        payload,
    };
    cose::sign_statement(&statement, |tbs| key.sign_bytes(tbs).to_bytes())
}

async fn post_entry(app: &TestApp, token: Option<&str>, body: Vec<u8>) -> (StatusCode, Vec<u8>) {
    let mut request = new_client().post(app.url("/entries")).header("content-type", "application/cose").body(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.bytes().await.unwrap().to_vec())
}

/// The rule a problem details body (RFC 9290: -1 title, -2 detail) names.
fn rule(body: &[u8]) -> String {
    let Ok(map) = ciborium::de::from_reader::<Value, _>(body) else { return String::from_utf8_lossy(body).into() };
    format!(
        "{} — {}",
        get(&map, -1).and_then(Value::as_text).unwrap_or(""),
        get(&map, -2).and_then(Value::as_text).unwrap_or("")
    )
}

#[tokio::test]
async fn registered_issuers_register_statements_with_receipts_at_every_size_and_the_rest_is_refused_by_rule() {
    // No limit per client: the test reads every receipt at five sizes.
    let limits = clearroom::config::SourceLimits { public_per_minute: 0, ..Default::default() };
    let Room { app, keys: signers, .. } = room_on(spawn_app_with(limits).await).await;
    let token = app.token("sup1").await;
    let issuer = "urn:clearroom:account:sup1";
    let log_key = vkey_public(&anonymous(&app, "/bt/key").await.text().await.unwrap());
    let mut statements = Vec::new();
    for n in 0..257u32 {
        let payload = format!(r#"{{"_type":"https://in-toto.io/Statement/v1","n":{n}}}"#).into_bytes();
        let bytes = issuer_statement(&signers[0], issuer, "application/vnd.in-toto+json", payload);
        let (status, receipt) = post_entry(&app, Some(&token), bytes.clone()).await;
        assert_eq!(status, StatusCode::CREATED, "{}", rule(&receipt));
        assert_eq!(verify_receipt(&receipt, &bytes, &log_key), Ok((u64::from(n) + 1, u64::from(n))));
        statements.push(bytes);
        let size = statements.len();
        if [1, 2, 3, 256, 257].contains(&size) {
            for (index, statement) in statements.iter().enumerate() {
                let id = hex::encode(sha(statement));
                let receipt = anonymous(&app, &format!("/entries/{id}")).await.bytes().await.unwrap();
                assert_eq!(verify_receipt(&receipt, statement, &log_key), Ok((size as u64, index as u64)), "at {size}");
            }
        }
    }
    assert_eq!(app.events("entry.register").await.len(), 257);
    // The same statement again: its entry, not a new one.
    let (status, _) = post_entry(&app, Some(&token), statements[0].clone()).await;
    assert_eq!(status, StatusCode::OK);

    let payload = br#"{"_type":"https://in-toto.io/Statement/v1"}"#.to_vec();
    let stranger = NoteSigner::generate("sup1").unwrap();
    let mut unsigned = issuer_statement(&signers[0], issuer, "application/vnd.in-toto+json", payload.clone());
    let at = unsigned.len() - 10;
    unsigned[at] ^= 0xff;
    let big = issuer_statement(&signers[0], issuer, "application/vnd.in-toto+json", vec![b' '; 70_000]);
    for (body, status, named) in [
        (issuer_statement(&stranger, issuer, "application/vnd.in-toto+json", payload.clone()), 403, "issuer"),
        (issuer_statement(&signers[0], issuer, "text/plain", payload.clone()), 400, "content_type"),
        (unsigned, 400, "signature"),
        (statements[1][..statements[1].len() - 5].to_vec(), 400, "encoding"),
        (big, 413, "size"),
        (
            issuer_statement(
                &signers[0],
                "urn:clearroom:account:sup2",
                "application/vnd.in-toto+json",
                payload.clone(),
            ),
            403,
            "issuer",
        ),
    ] {
        let (got, body) = post_entry(&app, Some(&token), body).await;
        assert_eq!(got.as_u16(), status, "{}", rule(&body));
        assert!(rule(&body).contains(&format!("the {named} rule")), "{}", rule(&body));
    }
    let (status, _) = post_entry(&app, None, payload).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "no anonymous registration");
    let keys = anonymous(&app, "/.well-known/scitt-keys").await.bytes().await.unwrap();
    let Value::Array(set) = cbor(&keys) else { panic!("a COSE Key Set") };
    assert_eq!(
        get(&set[0], 2).and_then(Value::as_bytes),
        Some(&cose::thumbprint(&ed25519_dalek::VerifyingKey::from_bytes(&log_key).unwrap()))
    );
}

#[tokio::test]
async fn a_flood_from_one_client_is_limited_and_public_reads_need_no_session() {
    let limits = clearroom::config::SourceLimits { public_per_minute: 30, ..Default::default() };
    let app = spawn_app_with(limits).await;
    let mut statuses = Vec::new();
    for _ in 0..12 {
        statuses.push(anonymous(&app, "/bt/checkpoint").await.status());
    }
    assert_eq!(statuses[0], StatusCode::OK);
    assert!(statuses.contains(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let limited = anonymous(&app, "/bt/key").await;
    assert_eq!(
        (limited.status(), limited.headers()["retry-after"].to_str().unwrap()),
        (StatusCode::TOO_MANY_REQUESTS, "60")
    );
    // Signed-in pages are not limited by it.
    assert_eq!(app.get("/api/v1/log/key").await.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn the_public_logs_checkpoint_is_cosigned_by_the_witnesses_of_the_policy() {
    use clearroom::audit::cosignature::Cosigner;
    use clearroom::audit::policy::Policy;
    let room = room().await;
    let app = &room.app;
    let public_key = app.domain.transparency().verifier_key();
    let mut policy = format!("log {}\n", app.signer.verifier());
    let mut dirs = Vec::new();
    let mut vkeys = Vec::new();
    for (n, name) in ["witness.test/a", "witness.test/b"].into_iter().enumerate() {
        let dir = tempfile::tempdir().unwrap();
        // Each witness follows both logs.
        let own = Policy::parse(&format!("log {}\nlog {public_key}\nquorum none\n", app.signer.verifier())).unwrap();
        let cosigner = Cosigner::from_seed(name, [n as u8 + 1; 32]).unwrap();
        let vkey = cosigner.verifier().to_string();
        let witness = std::sync::Arc::new(clearroom::witness::Witness::open(dir.path(), own, cosigner).await.unwrap());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, clearroom::witness::router(witness)).await });
        policy.push_str(&format!("witness W{n} {vkey} {url}\n"));
        dirs.push(dir);
        vkeys.push(vkey);
    }
    policy.push_str("group both all W0 W1\nquorum both\n");
    app.domain.log().supervise(Policy::parse(&policy).unwrap());
    authorised(&room).await;
    // The server asks in the background each second; the test asks once itself.
    app.domain.transparency().witness_round(0).await.unwrap();
    let served = anonymous(app, "/bt/checkpoint").await.text().await.unwrap();
    assert_eq!(served.lines().nth(1), Some("1"), "{served}");
    for vkey in &vkeys {
        assert!(crate::witnessing::independently_cosigned(vkey, &served), "{vkey} cosigned {served}");
    }
    let parsed = Policy::parse(&policy).unwrap();
    assert_eq!(clearroom::verify_cli::check_quorum(&parsed, &served).unwrap().len(), 2);

    // `verify release --policy` checks the quorum of the served checkpoint.
    let dir = tempfile::tempdir().unwrap();
    let (file, policy_file) = (dir.path().join("product"), dir.path().join("policy"));
    std::fs::write(&file, BINARY).unwrap();
    std::fs::write(&policy_file, &policy).unwrap();
    let supervisors: Vec<String> = [0, 2].iter().map(|i| room.keys[*i].verifier().to_string()).collect();
    let inputs = clearroom::verify_release::Inputs {
        file: &file,
        bt_key: Some(public_key.as_str()),
        supervisor_keys: &supervisors,
        vendor_key: None,
        policy: Some(&policy_file),
        url: Some(app.address.as_str()),
        proof: None,
        statement: None,
        service_key: None,
    };
    assert_eq!(clearroom::verify_release::verify_release(inputs).await.map_err(|e| e.to_string()), Ok(()));
}
