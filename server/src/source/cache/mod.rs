//! The highlighted form of each blob, kept twice: in memory (bounded in bytes, least recently used
//! first out) and on disk under `data/highlight/` (bounded in bytes, zstd-compressed, survives a
//! restart). A blob never changes, so an entry is keyed by what decides its markup: the blob id, the
//! grammar, and the versions of the syntax set and of the renderer.
//!
//! Instances on one data volume may share the directory: an entry is written to a temporary file
//! and renamed into place, so a reader sees a whole entry or none; an entry another instance evicted
//! is a miss, highlighted again. Each instance bounds the entries it knows of (those it wrote, read
//! or found at start).

use super::highlight::Highlighted;
use format::{decode, encode};
use lru::LruCache;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

mod format;

/// zstd's level for entries on disk: the benchmark corpus's entries take 14% less room than at
/// level 3, compressed at about 90 MB/s (highlighting them is far slower).
const LEVEL: i32 = 9;

/// Changes whenever the markup a highlighted line is made of changes (classes, merging rules), so
/// that entries written by an older renderer are never served.
pub const RENDERER_VERSION: u32 = 2;

/// The syntax set's identity: syntect's own version, whose bundled grammars it fixes, and the
/// version of our own grammars (`source/highlight/syntaxes/`; raise it when one changes).
pub const SYNTAX_SET_VERSION: &str = "syntect-5-own-1";

/// The bytes an entry holds in memory: its lines and a little for each, and a fifth of the lines
/// for their packed rows (made on first view, so counted from the start: an entry's weight must not
/// change while it is in the cache).
fn weight(entry: &Highlighted) -> u64 {
    let text: u64 = entry.lines.iter().map(|l| l.len() as u64).sum();
    text + text / 5
        + 24 * entry.lines.len() as u64
        + entry.language.as_ref().map_or(0, |l| l.len() as u64)
        + entry.notice.as_ref().map_or(0, |_| 64)
        + 64
}

struct Memory {
    entries: LruCache<String, Arc<Highlighted>>,
    bytes: u64,
    budget: u64,
}

struct Disk {
    dir: PathBuf,
    /// Every entry this instance knows of and its size on disk, least recently used first out.
    known: Mutex<(LruCache<String, u64>, u64)>,
    budget: u64,
}

pub struct HighlightCache {
    memory: Mutex<Memory>,
    disk: Option<Disk>,
    hits: AtomicU64,
    disk_hits: AtomicU64,
    misses: AtomicU64,
}

/// How often the cache answered: from memory, from disk, or not at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheCounts {
    pub memory: u64,
    pub disk: u64,
    pub misses: u64,
}

impl HighlightCache {
    /// A cache holding up to `memory_bytes` in memory and `disk_bytes` under `dir` (no disk cache
    /// when `dir` is `None` or `disk_bytes` is 0). Entries already on disk are found (oldest first
    /// out) and the directory trimmed to its budget.
    pub fn new(dir: Option<PathBuf>, memory_bytes: u64, disk_bytes: u64) -> HighlightCache {
        let disk = dir.filter(|_| disk_bytes > 0).map(|dir| {
            let disk = Disk { known: Mutex::new((LruCache::unbounded(), 0)), budget: disk_bytes, dir };
            disk.scan();
            disk
        });
        HighlightCache {
            memory: Mutex::new(Memory { entries: LruCache::unbounded(), bytes: 0, budget: memory_bytes }),
            disk,
            hits: AtomicU64::new(0),
            disk_hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The key of a blob highlighted with a grammar (`None`: plain text).
    pub fn key(blob_id: &str, grammar: Option<&str>) -> String {
        use sha2::Digest as _;
        let grammar = hex::encode(&sha2::Sha256::digest(grammar.unwrap_or("plain").as_bytes())[..6]);
        format!("{blob_id}-{grammar}-{SYNTAX_SET_VERSION}-r{RENDERER_VERSION}")
    }

    /// Whether entries are kept on disk.
    pub fn has_disk(&self) -> bool {
        self.disk.is_some()
    }

    pub fn counts(&self) -> CacheCounts {
        CacheCounts {
            memory: self.hits.load(Ordering::Relaxed),
            disk: self.disk_hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
        }
    }

    /// The entry from memory, or from disk (then kept in memory too).
    pub fn get(&self, key: &str) -> Option<Arc<Highlighted>> {
        self.get_kept(key, true)
    }

    /// `get`, or from memory only (no file read: safe on a request's own thread) unless `from_disk`.
    pub fn get_kept(&self, key: &str, from_disk: bool) -> Option<Arc<Highlighted>> {
        let found = self.find_in(key, from_disk);
        if found.is_none() && from_disk {
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// `get_any`, or from memory only unless `from_disk` (as `get_kept`).
    pub fn get_any_kept(&self, key: &str, from_disk: bool) -> Option<Arc<Highlighted>> {
        let found = self.find_in(key, from_disk).or_else(|| self.find_in(&Self::partial_key(key), from_disk));
        if found.is_none() && from_disk {
            self.misses.fetch_add(1, Ordering::Relaxed);
        }
        found
    }

    /// The entry from memory, else (when `from_disk`) from disk, without counting a miss.
    fn find_in(&self, key: &str, from_disk: bool) -> Option<Arc<Highlighted>> {
        if let Some(hit) = self.memory.lock().expect("cache lock").entries.get(key).cloned() {
            self.hits.fetch_add(1, Ordering::Relaxed);
            if let Some(disk) = &self.disk {
                disk.known.lock().expect("cache lock").0.promote(key);
            }
            return Some(hit);
        }
        if !from_disk {
            return None;
        }
        let found = self.disk.as_ref().and_then(|disk| disk.read(key)).map(Arc::new);
        if let Some(entry) = &found {
            self.disk_hits.fetch_add(1, Ordering::Relaxed);
            self.remember(key, Arc::clone(entry));
        }
        found
    }

    /// The definitions a complete entry on disk holds, if it was written with them (read without
    /// keeping the entry in memory: pre-highlighting reads a whole pin).
    pub fn definitions_on_disk(&self, key: &str) -> Option<Vec<super::symbols::Defined>> {
        self.disk.as_ref()?.read(key)?.definitions
    }

    /// Whether the disk (or, without one, memory) holds the key, without reading it.
    pub fn contains(&self, key: &str) -> bool {
        match &self.disk {
            Some(disk) => disk.path(key).exists(),
            None => self.memory.lock().expect("cache lock").entries.contains(key),
        }
    }

    /// The key under which a result cut short by the time budget is kept: views serve it rather
    /// than spend the budget again, and pre-highlighting (with a longer budget) tries to replace it
    /// with a complete one under the plain key.
    pub fn partial_key(key: &str) -> String {
        format!("{key}-partial")
    }

    /// The complete entry, else a cut-short one.
    pub fn get_any(&self, key: &str) -> Option<Arc<Highlighted>> {
        self.get_any_kept(key, true)
    }

    /// Keeps a fresh entry in memory and on disk, under its key when complete, under its partial
    /// key when the time budget cut it short.
    pub fn put(&self, key: &str, entry: Arc<Highlighted>) {
        let key = if entry.timed_out { Self::partial_key(key) } else { key.to_string() };
        self.put_on_disk(&key, &entry);
        self.remember(&key, entry);
    }

    /// Stores an entry on disk only (pre-highlighting: the pages read it when asked), under its
    /// partial key when it was cut short.
    pub fn put_on_disk(&self, key: &str, entry: &Highlighted) {
        if let Some(disk) = &self.disk {
            let key =
                if entry.timed_out && !key.ends_with("-partial") { Self::partial_key(key) } else { key.to_string() };
            if let Err(error) = disk.write(&key, entry) {
                tracing::warn!(%error, "writing a highlighted file to the cache failed");
            }
        }
    }

    fn remember(&self, key: &str, entry: Arc<Highlighted>) {
        let size = weight(&entry);
        let mut memory = self.memory.lock().expect("cache lock");
        if size > memory.budget / 4 {
            return; // One entry may not crowd out the rest.
        }
        if let Some(old) = memory.entries.put(key.to_string(), entry) {
            memory.bytes -= weight(&old);
        }
        memory.bytes += size;
        while memory.bytes > memory.budget {
            let Some((_, evicted)) = memory.entries.pop_lru() else { break };
            memory.bytes -= weight(&evicted);
        }
    }

    /// Bytes held: (in memory, on disk).
    pub fn sizes(&self) -> (u64, u64) {
        let memory = self.memory.lock().expect("cache lock").bytes;
        let disk = self.disk.as_ref().map_or(0, |d| d.known.lock().expect("cache lock").1);
        (memory, disk)
    }
}

impl Disk {
    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2.min(key.len())]).join(format!("{key}.zst"))
    }

    /// Finds the entries already stored, oldest modified first, and trims to the budget.
    fn scan(&self) {
        let mut found = Vec::new();
        let Ok(shards) = std::fs::read_dir(&self.dir) else { return };
        for shard in shards.flatten() {
            let Ok(files) = std::fs::read_dir(shard.path()) else { continue };
            for file in files.flatten() {
                let name = file.file_name().to_string_lossy().into_owned();
                let Some(key) = name.strip_suffix(".zst") else {
                    // A temporary file left by a write that stopped half way.
                    let _ = std::fs::remove_file(file.path());
                    continue;
                };
                let Ok(meta) = file.metadata() else { continue };
                let used = meta.modified().unwrap_or(std::time::SystemTime::UNIX_EPOCH);
                found.push((used, key.to_string(), meta.len()));
            }
        }
        found.sort();
        let mut known = self.known.lock().expect("cache lock");
        for (_, key, size) in found {
            known.0.put(key, size);
            known.1 += size;
        }
        self.trim(&mut known);
    }

    fn trim(&self, known: &mut (LruCache<String, u64>, u64)) {
        while known.1 > self.budget {
            let Some((key, size)) = known.0.pop_lru() else { break };
            known.1 -= size;
            let _ = std::fs::remove_file(self.path(&key));
        }
    }

    fn read(&self, key: &str) -> Option<Highlighted> {
        let path = self.path(key);
        let file = std::fs::File::open(&path).ok()?;
        let size = file.metadata().ok()?.len();
        let mut text = String::new();
        zstd::stream::read::Decoder::new(file).ok()?.read_to_string(&mut text).ok()?;
        let entry = decode(&text)?;
        // Recently used, here and for the next start's scan.
        let _ =
            std::fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(std::time::SystemTime::now()));
        let mut known = self.known.lock().expect("cache lock");
        if known.0.put(key.to_string(), size).is_none() {
            known.1 += size; // Written by another instance.
        }
        Some(entry)
    }

    fn write(&self, key: &str, entry: &Highlighted) -> std::io::Result<()> {
        static SEQUENCE: AtomicU64 = AtomicU64::new(0);
        let path = self.path(key);
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        let temporary = dir.join(format!(".{key}.{}.{}", std::process::id(), SEQUENCE.fetch_add(1, Ordering::Relaxed)));
        let compressed = zstd::bulk::compress(encode(entry).as_bytes(), LEVEL)?;
        std::fs::write(&temporary, &compressed)?;
        std::fs::rename(&temporary, &path)?;
        let size = compressed.len() as u64;
        let mut known = self.known.lock().expect("cache lock");
        if let Some(old) = known.0.put(key.to_string(), size) {
            known.1 -= old;
        }
        known.1 += size;
        self.trim(&mut known);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::FileNotice;

    fn entry(lines: &[&str]) -> Highlighted {
        Highlighted {
            lines: lines.iter().map(|l| l.to_string()).collect(),
            language: Some("Rust".into()),
            notice: None,
            timed_out: false,
            total: None,
            packed: Default::default(),
            definitions: None,
        }
    }

    #[test]
    fn an_entry_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let key = HighlightCache::key("ab12", Some("Rust"));
        {
            let cache = HighlightCache::new(Some(dir.path().to_path_buf()), 1 << 20, 1 << 20);
            cache.put(&key, Arc::new(entry(&["<span class=hk>fn</span>", "", "}"])));
        }
        let cache = HighlightCache::new(Some(dir.path().to_path_buf()), 1 << 20, 1 << 20);
        let found = cache.get(&key).expect("found on disk");
        assert_eq!(found.lines, vec!["<span class=hk>fn</span>", "", "}"]);
        assert_eq!(found.language.as_deref(), Some("Rust"));
        assert_eq!(cache.counts(), CacheCounts { memory: 0, disk: 1, misses: 0 });
        assert!(cache.get(&key).is_some());
        assert_eq!(cache.counts().memory, 1, "the second read is from memory");
    }

    #[test]
    fn a_window_keeps_its_file_total() {
        let notice = FileNotice::PlainWhole { highlight_max_bytes: 1 };
        let window = Highlighted { total: Some(250_000), notice: Some(notice.clone()), ..entry(&["a", "b"]) };
        let decoded = decode(&encode(&window)).unwrap();
        assert_eq!((decoded.total, decoded.lines.len(), decoded.notice), (Some(250_000), 2, Some(notice)));
    }

    #[test]
    fn an_empty_file_and_a_file_of_empty_lines_differ() {
        for lines in [&[][..], &[""][..], &["", ""][..]] {
            let decoded = decode(&encode(&entry(lines))).unwrap();
            assert_eq!(decoded.lines.len(), lines.len());
        }
    }

    #[test]
    fn the_disk_is_bounded_in_bytes_least_recently_used_first_out() {
        let dir = tempfile::tempdir().unwrap();
        // Lines that do not compress much, so that each entry takes room on disk.
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut line = || -> String {
            (0..2000)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    char::from(b'a' + (state % 26) as u8)
                })
                .collect()
        };
        // Nothing stays in memory, so every read is from disk.
        let cache = HighlightCache::new(Some(dir.path().to_path_buf()), 0, 100_000);
        for n in 0..10 {
            let lines = (0..20).map(|_| line()).collect();
            cache.put(&format!("k{n}"), Arc::new(Highlighted { lines, ..entry(&[]) }));
            assert!(cache.get("k0").is_some(), "k0 is kept while it is used (after k{n})");
        }
        let (_, on_disk) = cache.sizes();
        assert!(on_disk <= 100_000 && on_disk > 40_000, "{on_disk} bytes on disk");
        assert!(cache.contains("k9"), "the newest entry is kept");
        assert!(!cache.contains("k1"), "an old unused entry was evicted");
        let again = HighlightCache::new(Some(dir.path().to_path_buf()), 0, 100_000);
        assert_eq!(again.sizes().1, on_disk, "a restart finds what is on disk");
    }

    #[test]
    fn memory_is_bounded_in_bytes() {
        let cache = HighlightCache::new(None, 10_000, 0);
        for n in 0..100 {
            cache.put(&format!("k{n}"), Arc::new(entry(&["x".repeat(500).as_str()])));
        }
        let (memory, disk) = cache.sizes();
        assert!(memory <= 10_000, "{memory}");
        assert_eq!(disk, 0);
        assert!(cache.get("k99").is_some() && cache.get("k0").is_none());
    }

    #[test]
    fn a_cut_short_entry_is_kept_apart_and_served_until_a_complete_one_exists() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HighlightCache::new(Some(dir.path().to_path_buf()), 0, 1 << 20);
        cache.put("k", Arc::new(Highlighted { timed_out: true, ..entry(&["cut"]) }));
        assert!(!cache.contains("k"), "pre-highlighting still tries it");
        assert_eq!(cache.get_any("k").unwrap().lines, vec!["cut"], "views serve it meanwhile");
        cache.put_on_disk("k", &entry(&["whole"]));
        assert!(cache.contains("k"));
        assert_eq!(cache.get_any("k").unwrap().lines, vec!["whole"], "the complete one wins");
    }

    #[test]
    fn a_damaged_entry_is_a_miss() {
        let dir = tempfile::tempdir().unwrap();
        let cache = HighlightCache::new(Some(dir.path().to_path_buf()), 1 << 20, 1 << 20);
        cache.put_on_disk("abcd", &entry(&["a"]));
        let path = dir.path().join("ab").join("abcd.zst");
        std::fs::write(&path, b"not zstd").unwrap();
        assert!(cache.get("abcd").is_none());
    }
}
