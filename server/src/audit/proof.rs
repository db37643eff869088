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
pub(crate) fn split_point(n: u64) -> u64 {
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

/// The consistency proof from `from` to `to` entries. From the empty tree it is empty: every tree
/// extends the empty tree (see `verify_extension`).
pub fn consistency_proof(nodes: &mut Nodes, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
    if from > to {
        return Err(ProofError::BadSizes);
    }
    if from == 0 {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    subproof(nodes, from, 0, to, true, &mut out)?;
    Ok(out)
}

/// The hash of leaves `start..end` (RFC 9162's MTH of that range), from the stored subtrees.
pub fn range(nodes: &mut Nodes, start: u64, end: u64) -> Result<Hash, ProofError> {
    nodes.range_hash(start, end)
}

/// The root of a tree of `size` leaves.
pub fn root(nodes: &mut Nodes, size: u64) -> Result<Hash, ProofError> {
    nodes.range_hash(0, size)
}

/// Verifies an inclusion proof (RFC 9162 2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &[u8]) -> Result<(), ProofError> {
    if root_from_inclusion(index, size, leaf, proof)?[..] != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// The root an inclusion proof leads to from its leaf (RFC 9162 2.1.3.2, before the final
/// comparison): what a COSE receipt's signature is over.
pub fn root_from_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash]) -> Result<Hash, ProofError> {
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
    Ok(r)
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

/// Whether a tree of `to` entries with `root2` extends one of `from` entries with `root1`: a
/// consistency proof for `from > 0`, and for the empty tree only that `root1` is the empty root
/// and the proof is empty (every tree extends the empty tree). `verify_consistency` refuses
/// `from = 0`, as the reference implementation and its vectors do; the log's own checks use this.
pub fn verify_extension(from: u64, to: u64, root1: &[u8], root2: &[u8], proof: &[Hash]) -> Result<(), ProofError> {
    if from == 0 {
        return if from > to {
            Err(ProofError::BadSizes)
        } else if !proof.is_empty() {
            Err(ProofError::WrongLength)
        } else if root1 != empty_root() {
            Err(ProofError::RootMismatch)
        } else {
            Ok(())
        };
    }
    verify_consistency(from, to, root1, root2, proof)
}

#[cfg(test)]
#[path = "proof_tests.rs"]
mod tests;
