use super::*;
use crate::audit::merkle::{leaf_hash, node_hash, Frontier, Hash};
use std::collections::HashMap;

/// RFC 6962's MTH of leaf hashes `hashes`, by its recursive definition.
fn mth(hashes: &[Hash]) -> Hash {
    if hashes.len() == 1 {
        return hashes[0];
    }
    // The largest power of two below the count.
    let k = 1usize << (usize::BITS - 1 - (hashes.len() - 1).leading_zeros());
    node_hash(&mth(&hashes[..k]), &mth(&hashes[k..]))
}

/// The perfect subtrees an append stores, by (Merkle level, index).
type Stored = HashMap<(u32, u64), Hash>;

/// A tree of `size` leaves: its leaves, their hashes, and the stored nodes an append keeps.
fn tree(size: u64) -> (Vec<Vec<u8>>, Vec<Hash>, Stored) {
    let leaves: Vec<Vec<u8>> = (0..size).map(|i| format!("entry {i}\n").into_bytes()).collect();
    let hashes: Vec<Hash> = leaves.iter().map(|l| leaf_hash(l)).collect();
    let mut frontier = Frontier::empty();
    let mut nodes = HashMap::new();
    for hash in &hashes {
        for (level, index, node) in frontier.push(*hash) {
            nodes.insert((level, index), node);
        }
    }
    (leaves, hashes, nodes)
}

#[test]
fn every_tile_of_a_tree_is_the_subtree_roots_its_definition_names() {
    for size in [1u64, 255, 256, 257, 70_000] {
        let (leaves, hashes, nodes) = tree(size);
        let tiles = tiles_of(size);
        let mut seen_levels = std::collections::BTreeSet::new();
        for tile in &tiles {
            let (level, start, end) = tile.span();
            seen_levels.insert(tile.level());
            match tile.kind {
                TileKind::Entries => {
                    let bundle = entry_bundle(leaves[start as usize..end as usize].iter().map(Vec::as_slice)).unwrap();
                    let parsed = parse_entry_bundle(&bundle).unwrap();
                    assert_eq!(parsed.len(), tile.width as usize);
                    for (n, entry) in parsed.iter().enumerate() {
                        assert_eq!(leaf_hash(entry), hashes[start as usize + n], "size {size} {}", tile.path());
                    }
                }
                TileKind::Hashes { .. } => {
                    // From what the store keeps (leaf hashes, perfect subtrees) …
                    let stored: Vec<Hash> = (start..end)
                        .map(|i| if level == 0 { hashes[i as usize] } else { nodes[&(level, i)] })
                        .collect();
                    // … equal to the MTH of the leaves each one covers.
                    let span = 1u64 << level;
                    for (n, hash) in stored.iter().enumerate() {
                        let first = ((start + n as u64) * span) as usize;
                        assert_eq!(*hash, mth(&hashes[first..first + span as usize]), "size {size} {}", tile.path());
                    }
                }
            }
            assert!(tile.exists_at(size));
            assert_eq!(TileRef::parse(tile.path().strip_prefix("tile/").unwrap()), Ok(*tile));
        }
        // The edge: partial tiles where the size is not a multiple, none past it.
        let level0: Vec<&TileRef> = tiles.iter().filter(|t| t.kind == TileKind::Hashes { level: 0 }).collect();
        assert_eq!(level0.len() as u64, size.div_ceil(256), "size {size}");
        assert_eq!(level0.last().unwrap().width as u64, if size % 256 == 0 { 256 } else { size % 256 });
        assert!(available_width(size, 0, size.div_ceil(256)).is_none());
        let top = if size >= 65_536 {
            2
        } else if size >= 256 {
            1
        } else {
            0
        };
        assert_eq!(seen_levels.into_iter().max(), Some(top), "size {size}");
    }
    // 70,000 leaves: 273 full tiles and one of 112 at level 0 (273 nodes of 256 leaves), so one
    // full tile and one of 17 at level 1, and one node of 65,536 leaves at level 2.
    let at = |level, index| available_width(70_000, level, index);
    assert_eq!((at(0, 272), at(0, 273), at(0, 274)), (Some(256), Some(112), None));
    assert_eq!((at(1, 0), at(1, 1), at(1, 2)), (Some(256), Some(17), None));
    assert_eq!((at(2, 0), at(3, 0)), (Some(1), None));
}

#[test]
fn tile_paths_are_canonical() {
    assert_eq!(encode_index(0), "000");
    assert_eq!(encode_index(1_234_067), "x001/x234/067");
    let tile = TileRef { kind: TileKind::Hashes { level: 1 }, index: 1_234_067, width: 5 };
    assert_eq!(tile.path(), "tile/1/x001/x234/067.p/5");
    let entries = TileRef { kind: TileKind::Entries, index: 7, width: 256 };
    assert_eq!(entries.path(), "tile/entries/007");
    assert_eq!(TileRef::parse("entries/007"), Ok(entries));
    for bad in [
        "0/7",
        "0/0007",
        "00/000",
        "0/x000/001",
        "0/001/002",
        "0/x1/002",
        "0/000.p/0",
        "0/000.p/256",
        "0/000.p/07",
        "64/000",
        "0/000/",
        "",
        "0",
        "entries/000.p/",
        "0/x18446744073709551/615",
    ] {
        assert_eq!(TileRef::parse(bad), Err(TileError::Malformed), "{bad:?}");
    }
}

#[test]
fn entry_bundles_hold_entries_up_to_64_kib() {
    let long = vec![7u8; MAX_ENTRY];
    let bundle = entry_bundle([b"".as_slice(), b"a", &long]).unwrap();
    assert_eq!(parse_entry_bundle(&bundle).unwrap(), [b"".as_slice(), b"a", &long]);
    assert_eq!(entry_bundle([vec![0u8; MAX_ENTRY + 1].as_slice()]), Err(TileError::EntryTooLong));
    assert_eq!(parse_entry_bundle(&bundle[..bundle.len() - 1]), Err(TileError::Truncated));
    assert_eq!(parse_entry_bundle(&[0]), Err(TileError::Truncated));
}
