//! C2SP tlog-tiles: a log served as immutable tiles of 256 hashes (level `L` holds the roots of
//! the perfect subtrees of 256^L leaves) and bundles of 256 entries, each named by a path that a
//! client computes from the checkpoint's size alone. A tile at the tree's right edge is *partial*
//! (`.p/<W>`, `W` < 256 hashes): a prefix of the full tile it grows into, so every width ever
//! served stays correct.

/// Hashes (or entries) in a full tile.
pub const WIDTH: u64 = 256;
/// Merkle levels a tile level spans.
pub const HEIGHT: u32 = 8;
/// The longest entry an entry bundle can hold (its length is a 16-bit prefix).
pub const MAX_ENTRY: usize = u16::MAX as usize;

/// Which tile: hashes at a level, or the entries (the leaves' bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TileKind {
    Hashes { level: u8 },
    Entries,
}

/// One tile as its path names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TileRef {
    pub kind: TileKind,
    pub index: u64,
    /// 1–256; 256 is a full tile.
    pub width: u16,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TileError {
    #[error("a tile path is tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], in C2SP tlog-tiles' form")]
    Malformed,
    #[error("an entry is longer than an entry bundle can hold")]
    EntryTooLong,
    #[error("an entry bundle is truncated")]
    Truncated,
}

/// A decimal with no leading zero, at most `max`.
fn decimal(text: &str, max: u64) -> Result<u64, TileError> {
    let canonical = !text.is_empty() && text.len() <= 20 && text.bytes().all(|b| b.is_ascii_digit());
    let canonical = canonical && (text == "0" || !text.starts_with('0'));
    let value = canonical.then(|| text.parse::<u64>().ok()).flatten().ok_or(TileError::Malformed)?;
    if value > max {
        return Err(TileError::Malformed);
    }
    Ok(value)
}

/// `N` as zero-padded groups of three digits, all but the last prefixed `x`: 1234067 → `x001/x234/067`.
pub fn encode_index(index: u64) -> String {
    let mut groups = vec![format!("{:03}", index % 1000)];
    let mut rest = index / 1000;
    while rest > 0 {
        groups.push(format!("x{:03}", rest % 1000));
        rest /= 1000;
    }
    groups.reverse();
    groups.join("/")
}

impl TileRef {
    /// Parses the part of a path after `tile/`. Only the canonical form is accepted, so one tile
    /// has one name (and one cache entry).
    pub fn parse(path: &str) -> Result<TileRef, TileError> {
        let (first, rest) = path.split_once('/').ok_or(TileError::Malformed)?;
        let kind = match first {
            "entries" => TileKind::Entries,
            level => TileKind::Hashes { level: decimal(level, 63)? as u8 },
        };
        let (index_path, width) = match rest.split_once(".p/") {
            Some((index, width)) => (index, decimal(width, WIDTH - 1)? as u16),
            None => (rest, WIDTH as u16),
        };
        if width == 0 {
            return Err(TileError::Malformed);
        }
        let mut index: u64 = 0;
        let groups: Vec<&str> = index_path.split('/').collect();
        for (n, group) in groups.iter().enumerate() {
            let digits = if n + 1 < groups.len() { group.strip_prefix('x') } else { Some(*group) };
            let digits = digits.filter(|d| d.len() == 3 && d.bytes().all(|b| b.is_ascii_digit()));
            let value: u64 = digits.ok_or(TileError::Malformed)?.parse().map_err(|_| TileError::Malformed)?;
            index = index.checked_mul(1000).and_then(|i| i.checked_add(value)).ok_or(TileError::Malformed)?;
        }
        if encode_index(index) != index_path {
            return Err(TileError::Malformed);
        }
        Ok(TileRef { kind, index, width })
    }

    /// The path under the log's prefix: `tile/0/x001/234.p/5`.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes { level } => level.to_string(),
            TileKind::Entries => "entries".into(),
        };
        let partial = if self.full() { String::new() } else { format!(".p/{}", self.width) };
        format!("tile/{level}/{}{partial}", encode_index(self.index))
    }

    pub fn full(&self) -> bool {
        u64::from(self.width) == WIDTH
    }

    /// The tile's level in tiles (entries are level 0's leaves).
    pub fn level(&self) -> u8 {
        match self.kind {
            TileKind::Hashes { level } => level,
            TileKind::Entries => 0,
        }
    }

    /// What it holds: the nodes at Merkle level `8·L` with indices `start..end` (level 0 = the
    /// leaves), as (Merkle level, start, end).
    pub fn span(&self) -> (u32, u64, u64) {
        let start = self.index.saturating_mul(WIDTH);
        (u32::from(self.level()) * HEIGHT, start, start.saturating_add(u64::from(self.width)))
    }

    /// Whether a tree of `size` leaves has this tile at this width (or wider: a partial tile
    /// is a prefix of the wider one).
    pub fn exists_at(&self, size: u64) -> bool {
        available_width(size, self.level(), self.index).is_some_and(|width| width >= self.width)
    }
}

/// The width of tile `index` at tile `level` in a tree of `size` leaves (`None`: not yet begun).
pub fn available_width(size: u64, level: u8, index: u64) -> Option<u16> {
    let shift = u32::from(level) * HEIGHT;
    let nodes = if shift >= 64 { 0 } else { size >> shift };
    let full = nodes / WIDTH;
    match index.cmp(&full) {
        std::cmp::Ordering::Less => Some(WIDTH as u16),
        std::cmp::Ordering::Equal if nodes % WIDTH > 0 => Some((nodes % WIDTH) as u16),
        _ => None,
    }
}

/// Every tile of a tree of `size` leaves, at the width it has: the hash tiles of each level, and
/// the entry bundles.
pub fn tiles_of(size: u64) -> Vec<TileRef> {
    let mut tiles = Vec::new();
    for level in 0..=((64 / HEIGHT) as u8) {
        let mut index = 0;
        while let Some(width) = available_width(size, level, index) {
            tiles.push(TileRef { kind: TileKind::Hashes { level }, index, width });
            if level == 0 {
                tiles.push(TileRef { kind: TileKind::Entries, index, width });
            }
            index += 1;
        }
    }
    tiles
}

/// An entry bundle: each entry after its length as a big-endian u16.
pub fn entry_bundle<'e>(entries: impl IntoIterator<Item = &'e [u8]>) -> Result<Vec<u8>, TileError> {
    let mut bundle = Vec::new();
    for entry in entries {
        let length = u16::try_from(entry.len()).map_err(|_| TileError::EntryTooLong)?;
        bundle.extend_from_slice(&length.to_be_bytes());
        bundle.extend_from_slice(entry);
    }
    Ok(bundle)
}

/// The entries of a bundle.
pub fn parse_entry_bundle(mut bundle: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut entries = Vec::new();
    while !bundle.is_empty() {
        let [high, low, rest @ ..] = bundle else { return Err(TileError::Truncated) };
        let length = usize::from(u16::from_be_bytes([*high, *low]));
        if rest.len() < length {
            return Err(TileError::Truncated);
        }
        entries.push(&rest[..length]);
        bundle = &rest[length..];
    }
    Ok(entries)
}

#[cfg(test)]
#[path = "tiles_tests.rs"]
mod tests;
