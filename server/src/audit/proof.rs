//! Inclusion and consistency proofs (RFC 9162 sections 2.1.3 and 2.1.4): generation over any
//! source of perfect-subtree hashes, and verification that needs nothing but hashes.
//!
//! Generation runs twice: once to learn which stored nodes it needs (so they are fetched in one
//! query), then with those nodes. A perfect subtree of 2^level leaves starting at leaf
//! `index << level` is the node (level, index); level 0 nodes are leaf hashes.

use super::merkle::{empty_root, node_hash, Hash};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("the index is not below the tree size")]
    IndexOutOfRange,
    #[error("the sizes must satisfy 0 < from <= to")]
    BadSizes,
    #[error("the proof has the wrong length")]
    WrongLength,
    #[error("the proof does not lead to the expected root")]
    RootMismatch,
    #[error("a stored tree node is missing")]
    MissingNode,
}

/// Node coordinates: (level, index).
pub type NodeKey = (u32, u64);

/// The largest power of two strictly below `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// Hashes over a set of fetched nodes, or records the nodes asked for.
pub enum Nodes {
    Recording(BTreeSet<NodeKey>),
    Known(HashMap<NodeKey, Hash>),
}

impl Nodes {
    fn get(&mut self, key: NodeKey) -> Result<Hash, ProofError> {
        match self {
            Nodes::Recording(keys) => {
                keys.insert(key);
                Ok([0; 32])
            }
            Nodes::Known(map) => map.get(&key).copied().ok_or(ProofError::MissingNode),
        }
    }

    /// MTH of leaves `start..end`, from the perfect subtrees that cover it.
    fn range_hash(&mut self, start: u64, end: u64) -> Result<Hash, ProofError> {
        let n = end - start;
        if n == 0 {
            return Ok(empty_root());
        }
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros();
            return self.get((level, start >> level));
        }
        let k = split_point(n);
        let left = self.range_hash(start, start + k)?;
        let right = self.range_hash(start + k, end)?;
        Ok(node_hash(&left, &right))
    }
}

/// PATH(m, D[start..end]) of RFC 9162 2.1.3.1, bottom-up.
fn path(nodes: &mut Nodes, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) -> Result<(), ProofError> {
    let n = end - start;
    if n <= 1 {
        return Ok(());
    }
    let k = split_point(n);
    if m < k {
        path(nodes, m, start, start + k, out)?;
        out.push(nodes.range_hash(start + k, end)?);
    } else {
        path(nodes, m - k, start + k, end, out)?;
        out.push(nodes.range_hash(start, start + k)?);
    }
    Ok(())
}

/// SUBPROOF(m, D[start..end], b) of RFC 9162 2.1.4.1, bottom-up.
fn subproof(
    nodes: &mut Nodes,
    m: u64,
    start: u64,
    end: u64,
    whole: bool,
    out: &mut Vec<Hash>,
) -> Result<(), ProofError> {
    let n = end - start;
    if m == n {
        if !whole {
            out.push(nodes.range_hash(start, end)?);
        }
        return Ok(());
    }
    let k = split_point(n);
    if m <= k {
        subproof(nodes, m, start, start + k, whole, out)?;
        out.push(nodes.range_hash(start + k, end)?);
    } else {
        subproof(nodes, m - k, start + k, end, false, out)?;
        out.push(nodes.range_hash(start, start + k)?);
    }
    Ok(())
}

pub fn inclusion_proof(nodes: &mut Nodes, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange);
    }
    let mut out = Vec::new();
    path(nodes, index, 0, size, &mut out)?;
    Ok(out)
}

pub fn consistency_proof(nodes: &mut Nodes, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
    if from == 0 || from > to {
        return Err(ProofError::BadSizes);
    }
    let mut out = Vec::new();
    subproof(nodes, from, 0, to, true, &mut out)?;
    Ok(out)
}

/// The root of a tree of `size` leaves.
pub fn root(nodes: &mut Nodes, size: u64) -> Result<Hash, ProofError> {
    nodes.range_hash(0, size)
}

/// Verifies an inclusion proof (RFC 9162 2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &[u8]) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange);
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(ProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength);
    }
    if r[..] != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162 2.1.4.2).
pub fn verify_consistency(from: u64, to: u64, root1: &[u8], root2: &[u8], proof: &[Hash]) -> Result<(), ProofError> {
    if from > to {
        return Err(ProofError::BadSizes);
    }
    if from == 0 {
        // Every tree extends the empty tree, so such a proof proves nothing: refused, as the
        // reference implementation does.
        return Err(ProofError::BadSizes);
    }
    if from == to {
        return if proof.is_empty() && root1 == root2 {
            Ok(())
        } else if !proof.is_empty() {
            Err(ProofError::WrongLength)
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    if proof.is_empty() {
        return Err(ProofError::WrongLength);
    }
    let root1_hash: Hash = root1.try_into().map_err(|_| ProofError::RootMismatch)?;
    let mut path: Vec<Hash> = proof.to_vec();
    if from.is_power_of_two() {
        path.insert(0, root1_hash);
    }
    let (mut f_n, mut s_n) = (from - 1, to - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s_n == 0 {
            return Err(ProofError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr[..] != *root1 || sr[..] != *root2 {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
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
        let base = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/rfc6962").join(kind);
        let mut out = Vec::new();
        let mut dirs = vec![base];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).expect("the shared vectors") {
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
    fn recording_names_only_stored_nodes() {
        let mut recorder = Nodes::Recording(BTreeSet::new());
        inclusion_proof(&mut recorder, 5, 1_000_000).unwrap();
        let Nodes::Recording(keys) = recorder else { unreachable!() };
        assert!(keys.len() < 200, "{} nodes", keys.len());
        for (level, index) in keys {
            assert!(((index + 1) << level) <= 1_000_000, "({level}, {index}) lies inside the tree");
        }
    }
}
