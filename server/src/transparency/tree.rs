//! The public log's Merkle tree in memory: every perfect subtree's hash by (level, index), grown a
//! leaf at a time from the stored leaf hashes. Releases are few (a million entries are 64 MB), so
//! tiles, roots and proofs are answered from memory without touching the database.

use crate::audit::merkle::{empty_root, node_hash, Hash};
use crate::audit::proof::{self, Nodes, ProofError};
use crate::audit::tiles::{TileKind, TileRef};
use std::collections::HashMap;

#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    /// `levels[l][i]`: the hash of leaves `i·2^l .. (i+1)·2^l`.
    levels: Vec<Vec<Hash>>,
}

impl MemoryTree {
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |leaves| leaves.len() as u64)
    }

    pub fn push(&mut self, leaf: Hash) {
        if self.levels.is_empty() {
            self.levels.push(Vec::new());
        }
        self.levels[0].push(leaf);
        let mut level = 0;
        while self.levels[level].len().is_multiple_of(2) {
            let nodes = &self.levels[level];
            let parent = node_hash(&nodes[nodes.len() - 2], &nodes[nodes.len() - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
    }

    /// Runs a proof computation over the stored nodes: once to learn which, then with them.
    fn compute<T>(&self, run: impl Fn(&mut Nodes) -> Result<T, ProofError>) -> Result<T, ProofError> {
        let mut recorder = Nodes::Recording(Default::default());
        run(&mut recorder)?;
        let Nodes::Recording(keys) = recorder else { unreachable!("a recorder stays one") };
        let mut known = HashMap::new();
        for (level, index) in keys {
            let hash = self.levels.get(level as usize).and_then(|nodes| nodes.get(index as usize));
            known.insert((level, index), *hash.ok_or(ProofError::MissingNode)?);
        }
        run(&mut Nodes::Known(known))
    }

    pub fn root(&self, size: u64) -> Result<Hash, ProofError> {
        if size > self.size() {
            return Err(ProofError::IndexOutOfRange);
        }
        if size == 0 {
            return Ok(empty_root());
        }
        self.compute(|nodes| proof::root(nodes, size))
    }

    pub fn inclusion(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        if size > self.size() {
            return Err(ProofError::IndexOutOfRange);
        }
        self.compute(|nodes| proof::inclusion_proof(nodes, index, size))
    }

    pub fn consistency(&self, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
        if to > self.size() {
            return Err(ProofError::IndexOutOfRange);
        }
        self.compute(|nodes| proof::consistency_proof(nodes, from, to))
    }

    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels.first()?.get(index as usize).copied()
    }

    /// A hash tile's bytes, when the tree has it at that width (entry bundles are stored).
    pub fn hash_tile(&self, tile: &TileRef) -> Option<Vec<u8>> {
        if !matches!(tile.kind, TileKind::Hashes { .. }) || !tile.exists_at(self.size()) {
            return None;
        }
        let (level, start, end) = tile.span();
        let nodes = self.levels.get(level as usize)?.get(start as usize..end as usize)?;
        Some(nodes.concat())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::merkle::leaf_hash;
    use crate::audit::tiles::tiles_of;

    /// MTH of RFC 9162 2.1.1, recursively from the leaves: the reference the tree is held to.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = proof::split_point(n as u64) as usize;
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn every_tile_root_and_proof_agrees_with_the_recursive_definition() {
        let leaves: Vec<Hash> = (0..70_000u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut tree = MemoryTree::default();
        let mut grown = 0;
        for size in [1usize, 255, 256, 257, 70_000] {
            while grown < size {
                tree.push(leaves[grown]);
                grown += 1;
            }
            let root = tree.root(size as u64).unwrap();
            assert_eq!(root, mth(&leaves[..size]), "root at {size}");
            for tile in tiles_of(size as u64).iter().filter(|t| matches!(t.kind, TileKind::Hashes { .. })) {
                let bytes = tree.hash_tile(tile).unwrap_or_else(|| panic!("{} at {size}", tile.path()));
                let (level, start, end) = tile.span();
                for (i, hash) in bytes.chunks(32).enumerate() {
                    let first = (start + i as u64) << level;
                    let last = ((first >> level) + 1) << level;
                    assert_eq!(hash, mth(&leaves[first as usize..last as usize]), "{} at {size}", tile.path());
                }
                assert_eq!(bytes.len() as u64, (end - start) * 32);
            }
            for index in [0, size / 2, size - 1] {
                let path = tree.inclusion(index as u64, size as u64).unwrap();
                proof::verify_inclusion(index as u64, size as u64, &leaves[index], &path, &root).unwrap();
            }
        }
        let old = tree.root(257).unwrap();
        let path = tree.consistency(257, 70_000).unwrap();
        proof::verify_consistency(257, 70_000, &old, &tree.root(70_000).unwrap(), &path).unwrap();
        assert!(tree.hash_tile(&TileRef::parse("0/273").unwrap()).is_none(), "not yet full at 70,000");
    }
}
