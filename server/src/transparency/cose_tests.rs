use super::*;
use crate::audit::merkle::leaf_hash;
use crate::transparency::tree::MemoryTree;
use ed25519_dalek::{Signer as _, SigningKey};

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn statement(kid: Vec<u8>) -> Statement {
    Statement {
        issuer: "urn:clearroom:account:sup1".into(),
        subject: "product@2.4.1".into(),
        content_type: "application/vnd.in-toto+json".into(),
        kid,
        payload: br#"{"_type":"https://in-toto.io/Statement/v1"}"#.to_vec(),
    }
}

#[test]
fn a_signed_statement_reads_back_and_verifies_with_its_key_only() {
    let signer = key(1);
    let wanted = statement(thumbprint(&signer.verifying_key()));
    let bytes = sign_statement(&wanted, |tbs| signer.sign(tbs).to_bytes());
    assert_eq!(bytes[0], 0xd2, "tag 18");
    let (sign1, read) = read_statement(&bytes).unwrap();
    assert_eq!(read, wanted);
    assert_eq!(verify_statement(&sign1, &signer.verifying_key()), Ok(()));
    assert_eq!(verify_statement(&sign1, &key(2).verifying_key()), Err(CoseError::Signature));
    assert_eq!(read_statement(&bytes[..bytes.len() - 3]), Err(CoseError::NotSign1), "truncated");
    assert_eq!(read_statement(b"\xa0"), Err(CoseError::NotSign1));
}

#[test]
fn the_thumbprint_is_the_hash_of_the_deterministic_okp_map() {
    let public = key(7).verifying_key();
    let mut map = vec![0xa3, 0x01, 0x01, 0x20, 0x06, 0x21, 0x58, 0x20];
    map.extend_from_slice(public.as_bytes());
    assert_eq!(thumbprint(&public), Sha256::digest(&map).to_vec());
    let set = key_set(&[public]);
    let parsed = coset::CoseKeySet::from_slice(&set).unwrap();
    assert_eq!(parsed.0[0].key_id, thumbprint(&public));
}

#[test]
fn receipts_verify_against_their_leaf_at_every_size_and_nothing_else() {
    let log = key(9);
    let kid = thumbprint(&log.verifying_key());
    let leaves: Vec<Hash> = (0..257u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
    let mut tree = MemoryTree::default();
    for size in 1..=257u64 {
        tree.push(leaves[size as usize - 1]);
        if ![1, 2, 3, 256, 257].contains(&size) {
            continue;
        }
        let root = tree.root(size).unwrap();
        for index in [0, size / 2, size - 1] {
            let inclusion = (size, index, tree.inclusion(index, size).unwrap());
            let receipt = receipt("example/releases", &kid, &inclusion, &root, |tbs| log.sign(tbs).to_bytes());
            assert_eq!(verify_receipt(&receipt, &leaves[index as usize], &log.verifying_key()), Ok(inclusion.clone()));
            let other = leaves[(index as usize + 1) % size as usize];
            if size > 1 {
                assert!(verify_receipt(&receipt, &other, &log.verifying_key()).is_err(), "another leaf at {size}");
            }
            assert_eq!(
                verify_receipt(&receipt, &leaves[index as usize], &key(8).verifying_key()),
                Err(CoseError::Signature)
            );
        }
    }
}

#[test]
fn a_transparent_statement_splits_into_the_statement_as_registered_and_its_receipts() {
    let signer = key(3);
    let bytes = sign_statement(&statement(vec![1, 2]), |tbs| signer.sign(tbs).to_bytes());
    let receipts = vec![vec![0xd2, 0x84], vec![0x01]];
    let transparent = transparent(&bytes, &receipts).unwrap();
    assert_ne!(transparent, bytes);
    assert_eq!(split_transparent(&transparent).unwrap(), (bytes.clone(), receipts));
    assert_eq!(split_transparent(&bytes).unwrap(), (bytes, vec![]));
}
