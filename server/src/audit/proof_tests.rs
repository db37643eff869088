//! Proof generation and verification against the RFC 6962 vectors (`server/testdata/rfc6962`), a
//! naive tree, and generated trees.

use super::super::merkle::{leaf_hash, Frontier};
use super::*;
use base64::Engine as _;
use serde::Deserialize;
use std::path::PathBuf;

/// All perfect-subtree nodes of a tree, as the store keeps them.
fn all_nodes(leaves: &[Hash]) -> HashMap<NodeKey, Hash> {
    let mut map = HashMap::new();
    let mut level: Vec<Hash> = leaves.to_vec();
    let mut height = 0;
    while !level.is_empty() {
        for (i, h) in level.iter().enumerate() {
            map.insert((height, i as u64), *h);
        }
        level = level.chunks_exact(2).map(|p| node_hash(&p[0], &p[1])).collect();
        height += 1;
    }
    map
}

fn naive_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split_point(n as u64) as usize;
            node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
        }
    }
}

fn vectors(kind: &str) -> Vec<(PathBuf, serde_json::Value)> {
    let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/rfc6962").join(kind);
    let mut out = Vec::new();
    let mut dirs = vec![base];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("the vectors in server/testdata") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
                out.push((path, value));
            }
        }
    }
    assert!(out.len() > 10, "found the {kind} vectors");
    out
}

fn bytes(value: &serde_json::Value) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(value.as_str()?).ok()
}

fn hash(value: &serde_json::Value) -> Option<Hash> {
    bytes(value)?.try_into().ok()
}

fn hashes(value: &serde_json::Value) -> Option<Vec<Hash>> {
    match value {
        serde_json::Value::Null => Some(Vec::new()),
        serde_json::Value::Array(items) => items.iter().map(hash).collect(),
        _ => None,
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Inclusion {
    leaf_idx: i128,
    tree_size: i128,
    want_err: bool,
}

#[test]
fn every_inclusion_vector_passes_or_fails_as_it_says() {
    for (path, value) in vectors("inclusion") {
        let case: Inclusion = serde_json::from_value(value.clone()).unwrap();
        let result = (|| {
            let leaf = hash(&value["leafHash"]).ok_or(ProofError::WrongLength)?;
            let root = bytes(&value["root"]).ok_or(ProofError::RootMismatch)?;
            let proof = hashes(&value["proof"]).ok_or(ProofError::WrongLength)?;
            if case.leaf_idx < 0 || case.tree_size < 0 || case.tree_size > u64::MAX as i128 {
                return Err(ProofError::IndexOutOfRange);
            }
            verify_inclusion(case.leaf_idx as u64, case.tree_size as u64, &leaf, &proof, &root)
        })();
        assert_eq!(result.is_err(), case.want_err, "{}: {result:?}", path.display());
    }
}

#[derive(Deserialize)]
struct Consistency {
    size1: i128,
    size2: i128,
    #[serde(rename = "wantErr")]
    want_err: bool,
}

#[test]
fn every_consistency_vector_passes_or_fails_as_it_says() {
    for (path, value) in vectors("consistency") {
        let case: Consistency = serde_json::from_value(value.clone()).unwrap();
        let result = (|| {
            let root1 = bytes(&value["root1"]).ok_or(ProofError::RootMismatch)?;
            let root2 = bytes(&value["root2"]).ok_or(ProofError::RootMismatch)?;
            let proof = hashes(&value["proof"]).ok_or(ProofError::WrongLength)?;
            if case.size1 < 0 || case.size2 < 0 || case.size2 > u64::MAX as i128 {
                return Err(ProofError::BadSizes);
            }
            verify_consistency(case.size1 as u64, case.size2 as u64, &root1, &root2, &proof)
        })();
        assert_eq!(result.is_err(), case.want_err, "{}: {result:?}", path.display());
    }
}

fn generated(size: u64, seed: u8) -> Vec<Hash> {
    (0..size).map(|i| leaf_hash(&[seed, (i % 251) as u8, (i / 251) as u8])).collect()
}

proptest::proptest! {
    #[test]
    fn generated_proofs_verify_against_the_naive_root(size in 1u64..300, pick in 0u64..300, older in 1u64..300) {
        let leaves = generated(size, 7);
        let mut nodes = Nodes::Known(all_nodes(&leaves));
        let root_now = naive_root(&leaves);
        proptest::prop_assert_eq!(root(&mut nodes, size).unwrap(), root_now);
        let mut frontier = Frontier::empty();
        for leaf in &leaves { frontier.push(*leaf); }
        proptest::prop_assert_eq!(frontier.root(), root_now);

        let index = pick % size;
        let proof = inclusion_proof(&mut nodes, index, size).unwrap();
        proptest::prop_assert!(verify_inclusion(index, size, &leaves[index as usize], &proof, &root_now).is_ok());
        let wrong = leaf_hash(b"not in the log");
        proptest::prop_assert!(verify_inclusion(index, size, &wrong, &proof, &root_now).is_err());

        let from = 1 + (older - 1) % size;
        let proof = consistency_proof(&mut nodes, from, size).unwrap();
        let old_root = naive_root(&leaves[..from as usize]);
        proptest::prop_assert!(verify_consistency(from, size, &old_root, &root_now, &proof).is_ok());
        if from < size {
            let mut forged = leaves.clone();
            forged[0] = wrong;
            let forged_root = naive_root(&forged);
            proptest::prop_assert!(verify_consistency(from, size, &old_root, &forged_root, &proof).is_err());
        }
    }
}

#[test]
fn every_tree_extends_the_empty_tree() {
    let leaves = generated(5, 3);
    let mut nodes = Nodes::Known(all_nodes(&leaves));
    let proof = consistency_proof(&mut nodes, 0, 5).unwrap();
    assert!(proof.is_empty());
    let root = naive_root(&leaves);
    assert!(verify_extension(0, 5, &empty_root(), &root, &proof).is_ok());
    assert!(verify_extension(0, 0, &empty_root(), &empty_root(), &[]).is_ok());
    assert!(verify_extension(0, 5, &root, &root, &proof).is_err(), "a non-empty root at size 0");
    assert!(verify_extension(0, 5, &empty_root(), &root, &[root]).is_err(), "a proof from nothing");
    let from_two = consistency_proof(&mut nodes, 2, 5).unwrap();
    assert!(verify_extension(2, 5, &naive_root(&leaves[..2]), &root, &from_two).is_ok());
}

#[test]
fn recording_names_only_stored_nodes() {
    let mut recorder = Nodes::Recording(BTreeSet::new());
    inclusion_proof(&mut recorder, 5, 1_000_000).unwrap();
    let Nodes::Recording(keys) = recorder else { unreachable!() };
    assert!(keys.len() < 200, "{} nodes", keys.len());
    for (level, index) in keys {
        assert!(((index + 1) << level) <= 1_000_000, "({level}, {index}) lies inside the tree");
    }
}
