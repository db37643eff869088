//! Offline verification of a log: the checkpoint's signature, every leaf against its stored hash
//! and against the hash chain (`prev`), the root recomputed from all entries, and consistency with
//! an older checkpoint a regulator kept. It trusts nothing the server says except what the
//! verifier key signs.

use super::checkpoint;
use super::merkle::{leaf_hash, Frontier, Hash};
use super::note::NoteVerifier;

/// Why verification failed; `index` names the first bad entry where one can be named.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    pub index: Option<u64>,
    pub reason: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(index) => write!(f, "first bad index {index}: {}", self.reason),
            None => f.write_str(&self.reason),
        }
    }
}

fn fail(index: Option<u64>, reason: impl Into<String>) -> Failure {
    Failure { index, reason: reason.into() }
}

/// One entry hashed and read, waiting for its turn in `LogVerifier::push_prepared`.
pub struct Prepared {
    index: u64,
    hash: Hash,
    prev: Prev,
    /// Whether the leaf hashes to the hash stored beside it.
    stored_matches: bool,
}

/// A leaf's `prev`: empty for the first entry, else the lower-case hex of the previous leaf hash.
enum Prev {
    /// The leaf has no `prev` string: it is not a Clearroom event.
    Missing,
    /// Anything but empty or 64 lower-case hex digits: it follows no entry.
    Malformed,
    First,
    After(Hash),
}

/// The hash a leaf says precedes it: read in place where the leaf is as Clearroom writes it.
fn prev_of(leaf: &[u8]) -> Prev {
    written_prev(leaf).unwrap_or_else(|| parsed_prev(leaf))
}

/// `prev` of a leaf as Clearroom writes it: `{"v":1,"prev":"…",` or `{"v":2,"prev":"…",` with an
/// empty or 64-digit lower-case hex `prev`, in a leaf that is valid JSON. Checking that the leaf is
/// JSON without keeping anything from it costs half of reading it into a structure, and the format
/// fixes `prev` as the second member. `None` sends any other leaf to `parsed_prev`.
fn written_prev(leaf: &[u8]) -> Option<Prev> {
    let rest = leaf.strip_prefix(b"{\"v\":2,\"prev\":\"").or_else(|| leaf.strip_prefix(b"{\"v\":1,\"prev\":\""))?;
    let prev = if rest.starts_with(b"\",") {
        Prev::First
    } else {
        let text = rest.get(..64).filter(|_| rest.get(64..66) == Some(b"\","))?;
        let mut hash = [0u8; 32];
        if !text.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            || hex::decode_to_slice(text, &mut hash).is_err()
        {
            return None;
        }
        Prev::After(hash)
    };
    serde_json::from_slice::<serde::de::IgnoredAny>(leaf).ok()?;
    Some(prev)
}

/// `prev` read by parsing the leaf as an object, wherever the member stands.
fn parsed_prev(leaf: &[u8]) -> Prev {
    #[derive(serde::Deserialize)]
    struct Chained<'a> {
        #[serde(borrow)]
        prev: std::borrow::Cow<'a, str>,
    }
    match serde_json::from_slice::<Chained>(leaf) {
        Err(_) => Prev::Missing,
        Ok(chained) if chained.prev.is_empty() => Prev::First,
        Ok(chained) => {
            let text = chained.prev.as_bytes();
            let mut hash = [0u8; 32];
            if text.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                && hex::decode_to_slice(text, &mut hash).is_ok()
            {
                Prev::After(hash)
            } else {
                Prev::Malformed
            }
        }
    }
}

/// The outcome of a successful verification.
#[derive(Debug, PartialEq, Eq)]
pub struct Report {
    pub size: u64,
    pub root: Hash,
    pub consistent_with: Option<u64>,
}

/// A verifier fed entries in order.
pub struct LogVerifier {
    size: u64,
    root: Hash,
    old: Option<(u64, Hash)>,
    frontier: Frontier,
    /// The leaf hash of the last entry taken (none before the first).
    previous: Option<Hash>,
}

impl LogVerifier {
    /// Checks the checkpoint signatures and sets up the expected sizes and roots.
    pub fn new(key: &NoteVerifier, latest: &str, old: Option<&str>) -> Result<LogVerifier, Failure> {
        let (size, root) = checkpoint::open(key, latest)
            .map_err(|e| fail(None, format!("the latest checkpoint does not verify with the key: {e}")))?;
        let old = match old {
            Some(note) => {
                let (old_size, old_root) = checkpoint::open(key, note)
                    .map_err(|e| fail(None, format!("the old checkpoint does not verify with the key: {e}")))?;
                if old_size > size {
                    return Err(fail(
                        Some(size),
                        format!("the log shrank: the old checkpoint has {old_size} entries, the latest {size}"),
                    ));
                }
                Some((old_size, old_root))
            }
            None => None,
        };
        Ok(LogVerifier { size, root, old, frontier: Frontier::empty(), previous: None })
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Takes the next entry: its index as stored, its exact bytes, and the hash stored beside it.
    pub fn push(&mut self, index: u64, leaf: &[u8], stored_hash: &[u8]) -> Result<(), Failure> {
        self.push_prepared(&Self::prepare(&[(index, leaf, stored_hash)]))
    }

    /// Takes the next entries in order, hashing and reading them on every core first (the chain
    /// and the root are then checked in one pass, in order).
    pub fn push_all<L, H>(&mut self, entries: &[(u64, L, H)]) -> Result<(), Failure>
    where
        L: AsRef<[u8]> + Sync,
        H: AsRef<[u8]> + Sync,
    {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let chunk = entries.len().div_ceil(threads).max(1);
        let mut prepared: Vec<Vec<Prepared>> = Vec::new();
        std::thread::scope(|scope| {
            let workers: Vec<_> = entries.chunks(chunk).map(|part| scope.spawn(move || Self::prepare(part))).collect();
            prepared = workers.into_iter().map(|w| w.join().expect("a hashing thread panicked")).collect();
        });
        prepared.iter().try_for_each(|part| self.push_prepared(part))
    }

    /// The costly half of taking entries, which needs no order and no verifier: each leaf hashed,
    /// compared with its stored hash, and its `prev` read. A caller may prepare pages on other
    /// threads while earlier pages go through `push_prepared` in order.
    pub fn prepare<L, H>(entries: &[(u64, L, H)]) -> Vec<Prepared>
    where
        L: AsRef<[u8]>,
        H: AsRef<[u8]>,
    {
        entries
            .iter()
            .map(|(index, leaf, stored_hash)| {
                let (leaf, hash) = (leaf.as_ref(), leaf_hash(leaf.as_ref()));
                Prepared { index: *index, stored_matches: stored_hash.as_ref() == hash, hash, prev: prev_of(leaf) }
            })
            .collect()
    }

    /// Takes the next prepared entries, in order: the index, the chain, the root.
    pub fn push_prepared(&mut self, entries: &[Prepared]) -> Result<(), Failure> {
        entries.iter().try_for_each(|entry| self.push_one(entry))
    }

    fn push_one(&mut self, entry: &Prepared) -> Result<(), Failure> {
        let Prepared { index, hash, ref prev, stored_matches } = *entry;
        let expected = self.frontier.size();
        if index != expected {
            return Err(fail(Some(expected), format!("entry {expected} is missing (next stored index is {index})")));
        }
        if expected >= self.size {
            return Ok(()); // Entries past the checkpoint are for a later checkpoint.
        }
        if !stored_matches {
            return Err(fail(Some(index), "the entry's bytes do not match its stored leaf hash (altered)"));
        }
        let follows = match prev {
            Prev::Missing => return Err(fail(Some(index), "the entry is not a Clearroom event")),
            Prev::Malformed => false,
            Prev::First => self.previous.is_none(),
            Prev::After(prev) => self.previous == Some(*prev),
        };
        if !follows {
            return Err(fail(
                Some(index),
                "the entry does not follow the one before it (removed, inserted or reordered)",
            ));
        }
        self.previous = Some(hash);
        self.frontier.push(hash);
        if let Some((old_size, old_root)) = self.old {
            if self.frontier.size() == old_size && self.frontier.root() != old_root {
                return Err(fail(
                    None,
                    format!("the log's first {old_size} entries differ from the old checkpoint: history was rewritten"),
                ));
            }
        }
        Ok(())
    }

    /// How many entries have been taken so far.
    pub fn verified(&self) -> u64 {
        self.frontier.size()
    }

    /// Aims at a newer checkpoint once the entries so far matched an older one (`check`): the
    /// entries after it are then pushed, and `check` compares the root again. Matching the newer
    /// root over entries that matched the older proves the newer extends it.
    pub fn retarget(&mut self, key: &NoteVerifier, latest: &str) -> Result<(), Failure> {
        let (size, root) = checkpoint::open(key, latest)
            .map_err(|e| fail(None, format!("the latest checkpoint does not verify with the key: {e}")))?;
        if size < self.frontier.size() {
            return Err(fail(
                Some(size),
                format!("the log shrank: {} entries verified, the latest checkpoint has {size}", self.frontier.size()),
            ));
        }
        self.size = size;
        self.root = root;
        Ok(())
    }

    /// Whether the entries taken reach the target checkpoint and give its root.
    pub fn check(&self) -> Result<(), Failure> {
        if self.frontier.size() < self.size {
            let missing = self.frontier.size();
            return Err(fail(Some(missing), format!("entry {missing} is missing (the log ends early)")));
        }
        if self.frontier.root() != self.root {
            return Err(fail(None, "the root recomputed from the entries differs from the signed checkpoint"));
        }
        Ok(())
    }

    pub fn finish(self) -> Result<Report, Failure> {
        if self.frontier.size() < self.size {
            let missing = self.frontier.size();
            return Err(fail(Some(missing), format!("entry {missing} is missing (the log ends early)")));
        }
        if self.frontier.root() != self.root {
            return Err(fail(None, "the root recomputed from the entries differs from the signed checkpoint"));
        }
        Ok(Report { size: self.size, root: self.root, consistent_with: self.old.map(|(size, _)| size) })
    }
}

#[cfg(test)]
mod tests {
    use super::{parsed_prev, prev_of, written_prev, Prev};

    fn same(a: &Prev, b: &Prev) -> bool {
        match (a, b) {
            (Prev::Missing, Prev::Missing) | (Prev::Malformed, Prev::Malformed) | (Prev::First, Prev::First) => true,
            (Prev::After(x), Prev::After(y)) => x == y,
            _ => false,
        }
    }

    #[test]
    fn the_written_form_reads_as_the_parsed_one_and_anything_else_is_parsed() {
        let hash = "3f5c".repeat(16);
        let leaves = [
            format!(r#"{{"v":2,"prev":"{hash}","time":"x","details":{{"prev":"ignored"}}}}"#),
            r#"{"v":2,"prev":"","time":"x"}"#.to_string(),
            format!(r#"{{"v":1,"prev":"{hash}","action":"a"}}"#),
            // Written otherwise: parsed.
            format!(r#"{{"prev":"{hash}","v":2}}"#),
            format!(r#"{{"v":2, "prev":"{hash}"}}"#),
            format!(r#"{{"v":2,"prev":"{}","time":"x"}}"#, hash.to_uppercase()),
            r#"{"v":2,"prev":"abc","time":"x"}"#.to_string(),
            // Not JSON after a well-formed start, or no prev at all: not a Clearroom event.
            format!(r#"{{"v":2,"prev":"{hash}","time":"#),
            format!(r#"{{"v":2,"prev":"{hash}","time":"x"}} trailing"#),
            r#"{"v":2,"time":"x"}"#.to_string(),
            "not json".to_string(),
        ];
        let expected: [fn(&Prev) -> bool; 11] = [
            |p| matches!(p, Prev::After(h) if h[..2] == [0x3f, 0x5c]),
            |p| matches!(p, Prev::First),
            |p| matches!(p, Prev::After(_)),
            |p| matches!(p, Prev::After(_)),
            |p| matches!(p, Prev::After(_)),
            |p| matches!(p, Prev::Malformed),
            |p| matches!(p, Prev::Malformed),
            |p| matches!(p, Prev::Missing),
            |p| matches!(p, Prev::Missing),
            |p| matches!(p, Prev::Missing),
            |p| matches!(p, Prev::Missing),
        ];
        for (leaf, expected) in leaves.iter().zip(expected) {
            let prev = prev_of(leaf.as_bytes());
            assert!(expected(&prev), "{leaf}");
            assert!(same(&prev, &parsed_prev(leaf.as_bytes())), "{leaf}");
        }
        // Only the first three take the fast path.
        let fast: Vec<bool> = leaves.iter().map(|leaf| written_prev(leaf.as_bytes()).is_some()).collect();
        assert_eq!(fast, [true, true, true, false, false, false, false, false, false, false, false]);
    }
}
