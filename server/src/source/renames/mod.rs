//! Rename detection as `git diff -M` does it by default, so that a compare lists the renames git
//! lists and its totals equal `git diff --numstat -M`:
//!
//! 1. exact renames: an added file whose blob a deleted file had (preferring the same basename);
//! 2. basename pairs: a deleted and an added file whose basename is unique among the deleted and
//!    among the added files left, paired when at least 75% similar;
//! 3. similarity: while (added left) × (deleted left) ≤ 1,000², every pair is scored and the best
//!    taken first, down to 50%.
//!
//! Similarity is git's estimate (`diffcore-delta`): each file is cut into chunks that end at a
//! newline or after 64 bytes (a CR before a newline skipped in a text; a last chunk without its
//! newline left out), each chunk's bytes counted under a hash of it; the bytes the destination has
//! from the source, over the larger size, on a scale of 60,000. The hash and the scale are git's,
//! so scores, ties and the pairs chosen are git's.

use std::collections::HashMap;

/// Git's similarity scale: 60,000 is identical.
pub const MAX_SCORE: u64 = 60_000;
/// `-M`'s default threshold, 50%.
const MIN_SCORE: u64 = MAX_SCORE / 2;
/// Basename pairs need half-way between the threshold and identical: 75%.
const MIN_BASENAME_SCORE: u64 = MIN_SCORE + (MAX_SCORE - MIN_SCORE) / 2;
/// `diff.renameLimit`'s default: similarity is scored only while destinations × sources ≤ this².
pub const RENAME_LIMIT: u64 = 1_000;
/// Best candidates kept per destination while scoring.
const CANDIDATES: usize = 4;
/// Chunks are counted under a hash modulo this prime.
const HASH_BASE: u32 = 107_927;

/// A deleted (source) or added (destination) file.
#[derive(Clone, Debug)]
pub struct Side {
    pub path: String,
    pub blob: git2::Oid,
    pub mode: u32,
}

/// A rename found: indexes into the sources and destinations, and git's score (of 60,000).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rename {
    pub source: usize,
    pub destination: usize,
    pub score: u64,
}

fn regular(mode: u32) -> bool {
    mode & 0o170000 == 0o100000
}

fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// A file's chunks: (hash, bytes) sorted by hash, one entry a hash.
fn chunks(data: &[u8]) -> Vec<(u32, u32)> {
    let text = !data[..data.len().min(8_000)].contains(&0);
    let mut counts: HashMap<u32, u32> = HashMap::new();
    let (mut high, mut low, mut length) = (0u32, 0u32, 0u32);
    for (at, &byte) in data.iter().enumerate() {
        if text && byte == b'\r' && data.get(at + 1) == Some(&b'\n') {
            continue;
        }
        let previous_high = high;
        high = (high << 7) ^ (low >> 25);
        low = (low << 7) ^ (previous_high >> 25);
        high = high.wrapping_add(u32::from(byte));
        length += 1;
        if length < 64 && byte != b'\n' {
            continue;
        }
        *counts.entry(high.wrapping_add(low.wrapping_mul(0x61)) % HASH_BASE).or_default() += length;
        (high, low, length) = (0, 0, 0);
    }
    let mut chunks: Vec<(u32, u32)> = counts.into_iter().collect();
    chunks.sort_unstable();
    chunks
}

/// Bytes of `source`'s chunks that `destination` also has.
fn copied(source: &[(u32, u32)], destination: &[(u32, u32)]) -> u64 {
    let (mut copied, mut d) = (0u64, 0usize);
    for &(hash, count) in source {
        while d < destination.len() && destination[d].0 < hash {
            d += 1;
        }
        if d < destination.len() && destination[d].0 == hash {
            copied += u64::from(count.min(destination[d].1));
            d += 1;
        }
    }
    copied
}

/// Reads blobs' sizes and chunks once each.
struct Blobs<'r> {
    repo: &'r git2::Repository,
    sizes: HashMap<git2::Oid, u64>,
    chunks: HashMap<git2::Oid, Option<Vec<(u32, u32)>>>,
}

impl Blobs<'_> {
    fn size(&mut self, id: git2::Oid) -> Option<u64> {
        if let Some(size) = self.sizes.get(&id) {
            return Some(*size);
        }
        let (size, _) = self.repo.odb().ok()?.read_header(id).ok()?;
        self.sizes.insert(id, size as u64);
        Some(size as u64)
    }

    fn chunks(&mut self, id: git2::Oid) -> Option<&[(u32, u32)]> {
        let repo = self.repo;
        self.chunks.entry(id).or_insert_with(|| repo.find_blob(id).ok().map(|blob| chunks(blob.content()))).as_deref()
    }

    /// Git's similarity of two files, 0 when below `minimum` by their sizes alone.
    fn similarity(&mut self, source: &Side, destination: &Side, minimum: u64) -> u64 {
        if !regular(source.mode) || !regular(destination.mode) {
            return 0;
        }
        let (Some(a), Some(b)) = (self.size(source.blob), self.size(destination.blob)) else { return 0 };
        let (larger, smaller) = (a.max(b), a.min(b));
        if larger * (MAX_SCORE - minimum) < (larger - smaller) * MAX_SCORE || b == 0 {
            return 0;
        }
        let Some(from) = self.chunks(source.blob).map(<[_]>::to_vec) else { return 0 };
        let Some(to) = self.chunks(destination.blob) else { return 0 };
        copied(&from, to) * MAX_SCORE / larger
    }
}

/// One candidate pair while scoring: higher score first, then the same basename.
#[derive(Clone, Copy, Debug)]
struct Scored {
    source: usize,
    destination: Option<usize>,
    score: u64,
    same_name: bool,
}

/// Git's order of candidates: unused slots last, then by score, then same basename first.
fn order(a: &Scored, b: &Scored) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    match (a.destination, b.destination) {
        (None, None) => Ordering::Equal,
        (None, _) => Ordering::Greater,
        (_, None) => Ordering::Less,
        _ => b.score.cmp(&a.score).then(b.same_name.cmp(&a.same_name)),
    }
}

/// Each basename with its one file's index, or `None` when more than one file has it.
fn unique<'a>(names: impl Iterator<Item = (&'a str, usize)>) -> HashMap<&'a str, Option<usize>> {
    let mut map: HashMap<&str, Option<usize>> = HashMap::new();
    for (name, index) in names {
        map.entry(name).and_modify(|seen| *seen = None).or_insert(Some(index));
    }
    map
}

fn same_basename(a: &str, b: &str) -> bool {
    basename(a) == basename(b)
}

/// The renames among `sources` (deleted files) and `destinations` (added files), both in path
/// order, as `git diff -M` finds them.
pub fn detect(repo: &git2::Repository, sources: &[Side], destinations: &[Side]) -> Vec<Rename> {
    let mut blobs = Blobs { repo, sizes: HashMap::new(), chunks: HashMap::new() };
    let mut renames = Vec::new();
    let (mut source_used, mut destination_used) = (vec![false; sources.len()], vec![false; destinations.len()]);
    // 1. Exact: for each destination in order, an unused source with its blob, the same basename
    // preferred, else the first in path order (git looks at up to 100 alternatives).
    let mut by_blob: HashMap<git2::Oid, Vec<usize>> = HashMap::new();
    for (index, source) in sources.iter().enumerate() {
        by_blob.entry(source.blob).or_default().push(index);
    }
    for (d, destination) in destinations.iter().enumerate() {
        let Some(candidates) = by_blob.get(&destination.blob) else { continue };
        let (mut best, mut looked): (Option<usize>, usize) = (None, 0);
        for &s in candidates {
            let source = &sources[s];
            if (!regular(source.mode) || !regular(destination.mode)) && source.mode != destination.mode {
                continue;
            }
            if source_used[s] {
                continue;
            }
            if same_basename(&source.path, &destination.path) {
                best = Some(s);
                break;
            }
            best.get_or_insert(s);
            looked += 1;
            if looked == 100 {
                break; // git looks at no more identical alternatives
            }
        }
        if let Some(s) = best {
            source_used[s] = true;
            destination_used[d] = true;
            renames.push(Rename { source: s, destination: d, score: MAX_SCORE });
        }
    }
    // 2. Basenames unique on both sides.
    let source_names =
        unique(sources.iter().enumerate().filter(|(i, _)| !source_used[*i]).map(|(i, s)| (basename(&s.path), i)));
    let destination_names = unique(
        destinations.iter().enumerate().filter(|(i, _)| !destination_used[*i]).map(|(i, d)| (basename(&d.path), i)),
    );
    for (s, source) in sources.iter().enumerate() {
        if source_used[s] {
            continue;
        }
        let name = basename(&source.path);
        let (Some(Some(only_source)), Some(Some(d))) = (source_names.get(name), destination_names.get(name)) else {
            continue;
        };
        if *only_source != s || destination_used[*d] {
            continue;
        }
        let score = blobs.similarity(source, &destinations[*d], MIN_BASENAME_SCORE);
        if score >= MIN_BASENAME_SCORE {
            source_used[s] = true;
            destination_used[*d] = true;
            renames.push(Rename { source: s, destination: *d, score });
        }
    }
    // 3. Every pair left, within the limit.
    let left_sources: Vec<usize> = (0..sources.len()).filter(|&s| !source_used[s]).collect();
    let left_destinations: Vec<usize> = (0..destinations.len()).filter(|&d| !destination_used[d]).collect();
    let pairs = left_sources.len() as u64 * left_destinations.len() as u64;
    if pairs == 0 || pairs > RENAME_LIMIT * RENAME_LIMIT {
        return renames;
    }
    let mut matrix: Vec<Scored> = Vec::with_capacity(left_destinations.len() * CANDIDATES);
    for &d in &left_destinations {
        let mut best = [Scored { source: 0, destination: None, score: 0, same_name: false }; CANDIDATES];
        for &s in &left_sources {
            let candidate = Scored {
                source: s,
                destination: Some(d),
                score: blobs.similarity(&sources[s], &destinations[d], MIN_SCORE),
                same_name: same_basename(&sources[s].path, &destinations[d].path),
            };
            // Replace the worst kept (the first of the worst) when this one is better.
            let mut worst = 0;
            for i in 1..CANDIDATES {
                if order(&best[i], &best[worst]).is_gt() {
                    worst = i;
                }
            }
            if order(&best[worst], &candidate).is_gt() {
                best[worst] = candidate;
            }
        }
        matrix.extend(best);
    }
    matrix.sort_by(order); // stable, as git's
    for candidate in matrix {
        let Some(d) = candidate.destination else { break };
        if candidate.score < MIN_SCORE {
            break;
        }
        if destination_used[d] || source_used[candidate.source] {
            continue;
        }
        source_used[candidate.source] = true;
        destination_used[d] = true;
        renames.push(Rename { source: candidate.source, destination: d, score: candidate.score });
    }
    renames
}

#[cfg(test)]
mod tests;
