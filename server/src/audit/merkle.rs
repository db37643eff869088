//! RFC 6962 / RFC 9162 Merkle tree hashing and the compact range ("frontier") that lets each append
//! cost O(log n): the roots of the perfect subtrees that make up the tree, largest first.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// SHA-256 of the empty string: the root of the empty tree.
pub fn empty_root() -> Hash {
    Sha256::digest(b"").into()
}

/// SHA-256(0x00 ‖ leaf).
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(leaf);
    hasher.finalize().into()
}

/// SHA-256(0x01 ‖ left ‖ right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The compact range covering leaves `0..size`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// One root per set bit of `size`, from the most significant (largest subtree) down.
    roots: Vec<Hash>,
}

#[derive(Debug, thiserror::Error)]
#[error("the stored log frontier does not match the log size")]
pub struct CorruptFrontier;

impl Frontier {
    pub fn empty() -> Frontier {
        Frontier { size: 0, roots: Vec::new() }
    }

    /// Reads the stored form: concatenated 32-byte hashes.
    pub fn from_bytes(size: u64, bytes: &[u8]) -> Result<Frontier, CorruptFrontier> {
        if !bytes.len().is_multiple_of(32) || bytes.len() / 32 != size.count_ones() as usize {
            return Err(CorruptFrontier);
        }
        let roots = bytes.chunks_exact(32).map(|c| c.try_into().expect("32-byte chunk")).collect();
        Ok(Frontier { size, roots })
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.roots.concat()
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds one leaf hash: merge equal-sized subtrees, as a binary counter carries. Returns the
    /// perfect subtrees this completed, as (level, index, hash) with level >= 1.
    pub fn push(&mut self, leaf: Hash) -> Vec<(u32, u64, Hash)> {
        let mut node = leaf;
        let mut size = self.size;
        let mut level = 0;
        let mut completed = Vec::new();
        while size & 1 == 1 {
            let left = self.roots.pop().expect("a set bit has a subtree");
            node = node_hash(&left, &node);
            size >>= 1;
            level += 1;
            completed.push((level, size, node));
        }
        self.roots.push(node);
        self.size += 1;
        completed
    }

    /// The tree head: fold the subtrees from the smallest (rightmost) up.
    pub fn root(&self) -> Hash {
        let mut iter = self.roots.iter().rev();
        let Some(last) = iter.next() else {
            return empty_root();
        };
        iter.fold(*last, |acc, left| node_hash(left, &acc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reference MTH of RFC 6962 section 2.1, recursively.
    fn naive_root(leaves: &[Vec<u8>]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaf_hash(&leaves[0]),
            n => {
                let k = (n as u64).next_power_of_two() as usize / 2;
                let k = if k == n { n / 2 } else { k };
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    fn reference_leaves() -> Vec<Vec<u8>> {
        ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
            .iter()
            .map(|h| hex::decode(h).unwrap())
            .collect()
    }

    #[test]
    fn the_empty_tree_has_the_known_root() {
        assert_eq!(
            hex::encode(Frontier::empty().root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn the_reference_tree_has_the_known_root() {
        let mut frontier = Frontier::empty();
        for leaf in reference_leaves() {
            frontier.push(leaf_hash(&leaf));
        }
        assert_eq!(hex::encode(frontier.root()), "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
    }

    #[test]
    fn a_frontier_survives_its_stored_form() {
        let mut frontier = Frontier::empty();
        for leaf in reference_leaves().iter().take(7) {
            frontier.push(leaf_hash(leaf));
        }
        let back = Frontier::from_bytes(7, &frontier.to_bytes()).unwrap();
        assert_eq!(back, frontier);
        assert!(Frontier::from_bytes(8, &frontier.to_bytes()).is_err());
    }

    proptest::proptest! {
        #[test]
        fn appending_equals_rebuilding(leaves in proptest::collection::vec(proptest::collection::vec(0u8..=255, 0..8), 0..70)) {
            let mut frontier = Frontier::empty();
            for (i, leaf) in leaves.iter().enumerate() {
                frontier.push(leaf_hash(leaf));
                proptest::prop_assert_eq!(frontier.root(), naive_root(&leaves[..=i]));
            }
            proptest::prop_assert_eq!(frontier.root(), naive_root(&leaves));
        }
    }
}
