//! One inclusion proof for many leaves of an RFC 9162 tree: the hashes of the largest subtrees
//! that hold none of the leaves, in the order a left-to-right walk of the tree meets them. With the
//! leaves' hashes, they give the root; each subtree hash is sent once however many leaves share it,
//! so a run of contiguous events costs about two hashes per tree level, not one per event.
//!
//! The walk: start with the range `0..size`. A range holding none of the leaves is a *gap*: its
//! hash is the next proof hash. A range of one leaf holding one is that leaf's hash. Otherwise split
//! it where RFC 9162 does (at the largest power of two below its length) and walk the left part,
//! then the right; the range's hash is `node_hash(left, right)`.

use crate::audit::merkle::{node_hash, Hash};
use crate::audit::proof::split_point;

/// The gaps of a walk over `0..size` for the sorted `indices`, in order: the ranges whose hashes
/// form the proof. Lazy, so a proof for a million leaves needs no more memory than its indices.
pub struct Gaps<'a> {
    indices: &'a [u64],
    next: usize,
    stack: Vec<(u64, u64)>,
}

impl<'a> Gaps<'a> {
    /// `indices` strictly increasing and below `size`.
    pub fn new(indices: &'a [u64], size: u64) -> Gaps<'a> {
        let stack = if size > 0 { vec![(0, size)] } else { Vec::new() };
        Gaps { indices, next: 0, stack }
    }
}

impl Iterator for Gaps<'_> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        while let Some((start, end)) = self.stack.pop() {
            let holds_leaf = self.indices.get(self.next).is_some_and(|&i| i < end);
            if !holds_leaf {
                return Some((start, end));
            }
            if end - start == 1 {
                self.next += 1;
                continue;
            }
            let k = split_point(end - start);
            self.stack.push((start + k, end));
            self.stack.push((start, start + k));
        }
        None
    }
}

/// Why a multi-leaf proof does not lead to a root.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum MultiproofError {
    #[error("the proof has too few hashes")]
    TooShort,
    #[error("the proof has {0} hashes too many")]
    TooLong(usize),
    #[error("entry {0} is not below the checkpoint's size")]
    BeyondSize(u64),
    #[error("the entries are not in strictly increasing order of index")]
    Unordered,
}

/// The root of a tree of `size` leaves from `leaves` ((index, leaf hash), strictly increasing) and
/// the proof hashes, consumed in order.
pub fn root_from(
    size: u64,
    leaves: &[(u64, Hash)],
    proof: &mut dyn Iterator<Item = Hash>,
) -> Result<Hash, MultiproofError> {
    if leaves.windows(2).any(|pair| pair[0].0 >= pair[1].0) {
        return Err(MultiproofError::Unordered);
    }
    if let Some(&(index, _)) = leaves.iter().find(|(index, _)| *index >= size) {
        return Err(MultiproofError::BeyondSize(index));
    }
    if size == 0 {
        return Ok(crate::audit::merkle::empty_root());
    }
    let mut next = 0usize;
    let root = walk(0, size, leaves, &mut next, proof)?;
    let extra = proof.count();
    if extra > 0 {
        return Err(MultiproofError::TooLong(extra));
    }
    Ok(root)
}

fn walk(
    start: u64,
    end: u64,
    leaves: &[(u64, Hash)],
    next: &mut usize,
    proof: &mut dyn Iterator<Item = Hash>,
) -> Result<Hash, MultiproofError> {
    let holds_leaf = leaves.get(*next).is_some_and(|&(i, _)| i < end);
    if !holds_leaf {
        return proof.next().ok_or(MultiproofError::TooShort);
    }
    if end - start == 1 {
        let hash = leaves[*next].1;
        *next += 1;
        return Ok(hash);
    }
    let k = split_point(end - start);
    let left = walk(start, start + k, leaves, next, proof)?;
    let right = walk(start + k, end, leaves, next, proof)?;
    Ok(node_hash(&left, &right))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::merkle::{leaf_hash, Frontier};
    use proptest::prelude::*;

    /// MTH of `hashes[start..end]`, the slow way.
    fn mth(hashes: &[Hash], start: u64, end: u64) -> Hash {
        let mut frontier = Frontier::empty();
        for hash in &hashes[start as usize..end as usize] {
            frontier.push(*hash);
        }
        frontier.root()
    }

    fn tree(size: u64) -> Vec<Hash> {
        (0..size).map(|i| leaf_hash(format!("leaf {i}").as_bytes())).collect()
    }

    fn proof_for(hashes: &[Hash], indices: &[u64]) -> Vec<Hash> {
        Gaps::new(indices, hashes.len() as u64).map(|(s, e)| mth(hashes, s, e)).collect()
    }

    #[test]
    fn a_contiguous_run_costs_a_few_hashes_per_level() {
        let hashes = tree(1000);
        let indices: Vec<u64> = (300..700).collect();
        let proof = proof_for(&hashes, &indices);
        assert!(proof.len() <= 2 * 10, "{} hashes", proof.len());
        let leaves: Vec<(u64, Hash)> = indices.iter().map(|&i| (i, hashes[i as usize])).collect();
        assert_eq!(root_from(1000, &leaves, &mut proof.into_iter()), Ok(mth(&hashes, 0, 1000)));
    }

    #[test]
    fn one_leaf_has_the_hashes_of_its_ordinary_inclusion_proof() {
        let hashes = tree(13);
        let mut proof = proof_for(&hashes, &[6]);
        let ordinary = {
            let mut known = std::collections::HashMap::new();
            for level in 0..4u32 {
                for index in 0..(13u64 >> level) {
                    known.insert((level, index), mth(&hashes, index << level, (index + 1) << level));
                }
            }
            let mut nodes = crate::audit::proof::Nodes::Known(known);
            crate::audit::proof::inclusion_proof(&mut nodes, 6, 13).unwrap()
        };
        // The same hashes; the walk takes them left to right, RFC 9162 bottom-up.
        let mut ordinary = ordinary;
        proof.sort_unstable();
        ordinary.sort_unstable();
        assert_eq!(proof, ordinary);
    }

    #[test]
    fn a_wrong_leaf_a_missing_hash_or_an_extra_one_fail() {
        let hashes = tree(50);
        let indices = [3u64, 4, 17, 49];
        let proof = proof_for(&hashes, &indices);
        let root = mth(&hashes, 0, 50);
        let mut leaves: Vec<(u64, Hash)> = indices.iter().map(|&i| (i, hashes[i as usize])).collect();
        assert_eq!(root_from(50, &leaves, &mut proof.clone().into_iter()), Ok(root));
        let short = proof[..proof.len() - 1].to_vec();
        assert_eq!(root_from(50, &leaves, &mut short.into_iter()), Err(MultiproofError::TooShort));
        let mut long = proof.clone();
        long.push([0; 32]);
        assert_eq!(root_from(50, &leaves, &mut long.into_iter()), Err(MultiproofError::TooLong(1)));
        leaves[1].1[0] ^= 1;
        assert_ne!(root_from(50, &leaves, &mut proof.clone().into_iter()), Ok(root));
        leaves.swap(0, 1);
        assert_eq!(root_from(50, &leaves, &mut proof.into_iter()), Err(MultiproofError::Unordered));
    }

    proptest! {
        #[test]
        fn any_subset_of_any_tree_proves_its_root(size in 1u64..300, picks in proptest::collection::vec(any::<u16>(), 0..40)) {
            let hashes = tree(size);
            let mut indices: Vec<u64> = picks.iter().map(|p| u64::from(*p) % size).collect();
            indices.sort_unstable();
            indices.dedup();
            let proof = proof_for(&hashes, &indices);
            let leaves: Vec<(u64, Hash)> = indices.iter().map(|&i| (i, hashes[i as usize])).collect();
            prop_assert_eq!(root_from(size, &leaves, &mut proof.into_iter()), Ok(mth(&hashes, 0, size)));
        }
    }
}
