//! Proofs and historical roots over the stored tree: a proof computation runs once to learn which
//! stored nodes it needs, which are then fetched in two queries, and runs again with them.

use super::merkle::Hash;
use super::tiles::{self, TileKind, TileRef};
use super::{proof, AuditError, AuditLog, Result};
use std::collections::{BTreeSet, HashMap};

impl AuditLog {
    /// Fetches the stored nodes a proof computation asked for.
    async fn fetch_nodes(&self, keys: &BTreeSet<proof::NodeKey>) -> Result<proof::Nodes> {
        let leaves: Vec<u64> = keys.iter().filter(|(level, _)| *level == 0).map(|(_, index)| *index).collect();
        let inner: Vec<proof::NodeKey> = keys.iter().filter(|(level, _)| *level > 0).copied().collect();
        let mut known = HashMap::new();
        for (index, hash) in self.store.leaf_hashes(&leaves).await? {
            known.insert((0, index), hash);
        }
        for (key, hash) in self.store.tree_nodes(&inner).await? {
            known.insert(key, hash);
        }
        Ok(proof::Nodes::Known(known))
    }

    /// Runs a proof computation: once to learn the nodes, then with them.
    async fn compute<T>(&self, run: impl Fn(&mut proof::Nodes) -> Result<T, proof::ProofError>) -> Result<T> {
        let mut recorder = proof::Nodes::Recording(Default::default());
        run(&mut recorder)?;
        let proof::Nodes::Recording(keys) = recorder else { unreachable!("a recorder stays one") };
        let mut nodes = self.fetch_nodes(&keys).await?;
        Ok(run(&mut nodes)?)
    }

    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>> {
        self.require_size(size).await?;
        self.compute(|nodes| proof::inclusion_proof(nodes, index, size)).await
    }

    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<Hash>> {
        self.require_size(to).await?;
        self.compute(|nodes| proof::consistency_proof(nodes, from, to)).await
    }

    /// The hashes of leaf ranges `start..end` (the nodes of a multi-leaf proof), from stored nodes.
    pub async fn range_hashes(&self, ranges: &[(u64, u64)], size: u64) -> Result<Vec<Hash>> {
        self.require_size(size).await?;
        self.compute(|nodes| ranges.iter().map(|&(start, end)| proof::range(nodes, start, end)).collect()).await
    }

    /// The root of the log's first `size` entries, from stored nodes.
    pub async fn root_at(&self, size: u64) -> Result<Hash> {
        self.require_size(size).await?;
        self.compute(|nodes| proof::root(nodes, size)).await
    }

    /// A tile's bytes when the log has it at that width (else `None`): its hashes, or its
    /// entries' exact leaves as an entry bundle.
    pub async fn tile(&self, tile: &TileRef) -> Result<Option<Vec<u8>>> {
        let (size, _) = self.head().await?;
        if !tile.exists_at(size) {
            return Ok(None);
        }
        let (level, start, end) = tile.span();
        let corrupt = || AuditError::Store(crate::store::StoreError::Corrupt("a tile's stored nodes"));
        match tile.kind {
            TileKind::Hashes { .. } => {
                let hashes = self.store.node_range(level, start, end).await?;
                if hashes.len() != usize::from(tile.width) {
                    return Err(corrupt());
                }
                Ok(Some(hashes.concat()))
            }
            TileKind::Entries => {
                let entries = self.raw_entries(start, end).await?;
                if entries.len() != usize::from(tile.width) {
                    return Err(corrupt());
                }
                Ok(Some(tiles::entry_bundle(entries.iter().map(|(_, leaf, _)| leaf.as_slice()))?))
            }
        }
    }

    async fn require_size(&self, size: u64) -> Result<()> {
        let (current, _) = self.head().await?;
        if size > current {
            return Err(AuditError::Proof(proof::ProofError::IndexOutOfRange));
        }
        Ok(())
    }
}
