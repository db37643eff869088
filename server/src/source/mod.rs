//! Source access: the bare repositories under the data directory, read through git2 off the async
//! runtime, and highlighted through a cache keyed by blob id. Every git2 call of the server is here.
//!
//! Every function that returns source content takes an audit `Receipt` and asks it whether it
//! covers each (pin, path) before reading: there is no way to get a tree entry or a blob byte out of
//! this module without one. `locate` answers only what an event must name before the read — whether
//! a path exists and its object id — never content. Paths resolve inside git trees only; nothing
//! here joins a user path onto the file system.

mod admin;
pub mod binary;
pub mod cache;
mod diff;
mod export;
mod files;
pub mod highlight;
mod history;
pub mod hunks;
mod index;
mod pack;
pub mod prehighlight;
mod renames;
mod repository;
pub mod rows;
mod search;
mod symbols;

use crate::audit::Receipt;
use crate::config::SourceLimits;
use app::model::{BlobContent, EntryKind, PinId, RepoPath, TreeEntry};
use cache::HighlightCache;
use highlight::Highlighter;
use repository::RepositoryPool;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use admin::{confined_repository, Unconfined};
pub use diff::{ChangedFile, DiffSide};
pub use history::{CommitChanges, CommitFileSides, PinRange, MAX_COMMITS};
pub use repository::StagedRepository;
pub use search::{
    Cursor, FileSet, PackedFile, PathFilter, SearchHit, SearchLine, SearchOutcome, SearchRequest, Totals,
};
pub use symbols::Definition;

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("no such path at this pin")]
    NotFound,
    #[error("this path is a directory")]
    IsDirectory,
    #[error("this path is a file")]
    IsFile,
    #[error("this file is too large to be sent")]
    TooLarge,
    #[error("this file is binary")]
    Binary,
    #[error("the receipt does not cover this read")]
    WrongReceipt,
    #[error("{0} does not name a commit")]
    NoSuchCommit(String),
    #[error("the repository could not be copied")]
    Import(#[source] git2::Error),
    #[error("repository error")]
    Git(#[from] git2::Error),
    #[error("file system error")]
    Io(#[from] std::io::Error),
    #[error("background task failed")]
    Task(#[from] tokio::task::JoinError),
}

pub type Result<T, E = SourceError> = std::result::Result<T, E>;

/// Where a pin's objects are: the repository name (its directory) and the pinned root tree.
#[derive(Clone, Debug)]
pub struct PinLocation {
    pub pin: PinId,
    pub repository: String,
    pub tree_id: String,
}

/// What a path at a pin is, without its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    pub kind: EntryKind,
    /// The git object id: a blob for files and symlinks, a tree for directories.
    pub object_id: String,
    /// A blob's size in bytes, from its object header (`None` for trees).
    pub size: Option<u64>,
}

pub struct FileContent {
    pub blob_id: String,
    pub size: u64,
    pub content: BlobContent,
    /// Asked for with `pack` and the content's rows are in an entry: those rows, packed once; the
    /// content's `lines` are then left empty.
    pub packed: Option<Arc<rows::PackedRows>>,
}

pub struct Source {
    repos_dir: PathBuf,
    /// Search packs, one per pin (`pin-<id>.zpack`; `pack.rs`).
    index_dir: PathBuf,
    pool: RepositoryPool,
    highlighter: Highlighter,
    cache: HighlightCache,
    /// Directory listings by tree id (a tree never changes): the tree beside every file view and
    /// every listing would otherwise read each entry's object header again.
    listings: std::sync::Mutex<Listings>,
    /// What a path is under a tree (`locate`), by tree id and path: also never changes. A warm view
    /// then locates and reads its file and directory from memory, on the request's own thread.
    located: std::sync::Mutex<lru::LruCache<String, Option<Located>>>,
    /// Entries being read and rendered now, by key, so that each is made once (`render_blob`).
    in_flight: InFlight,
    /// How many lines a blob has (`line_count`), by blob id; `None`: it shows no lines.
    line_counts: std::sync::Mutex<lru::LruCache<String, Option<u32>>>,
    limits: SourceLimits,
}

/// One lock per key while work for it runs: a second caller with the same key waits for the
/// first to finish, then does its own (cheap, by then) work.
#[derive(Default)]
struct InFlight(std::sync::Mutex<std::collections::HashMap<String, Arc<std::sync::Mutex<()>>>>);

impl InFlight {
    fn run<T>(&self, key: &str, work: impl FnOnce() -> T) -> T {
        let gate = {
            let mut keys = self.0.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(keys.entry(key.to_string()).or_default())
        };
        let result = {
            let _turn = gate.lock().unwrap_or_else(|e| e.into_inner());
            work()
        };
        let mut keys = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Clones are taken only under the map's lock: two left means nobody else waits for it.
        if Arc::strong_count(&gate) == 2 {
            keys.remove(key);
        }
        result
    }
}

/// Listings by tree id, least recently used first out, bounded in bytes.
struct Listings {
    entries: lru::LruCache<git2::Oid, Arc<Vec<TreeEntry>>>,
    bytes: u64,
}

/// The bytes of listings kept: ample for the directories a review moves through.
const LISTINGS_MAX_BYTES: u64 = 8 * 1024 * 1024;

/// How many located paths are kept (each about 200 bytes: a few MiB).
const LOCATED_MAX: usize = 32 * 1024;

/// The key of a located path: the tree it was looked up in and the path.
fn located_key(tree_id: &str, path: &RepoPath) -> String {
    let mut key = String::with_capacity(tree_id.len() + 1 + path.as_str().len());
    key.push_str(tree_id);
    key.push(':');
    key.push_str(path.as_str());
    key
}

fn listing_weight(entries: &[TreeEntry]) -> u64 {
    entries.iter().map(|e| e.name.len() as u64 + 48).sum::<u64>() + 64
}

impl Source {
    /// Repositories under `repos_dir`, search packs under `index_dir`, highlighted files cached
    /// under `cache_dir` (in memory only when it is `None`).
    pub fn new(
        repos_dir: PathBuf,
        index_dir: PathBuf,
        cache_dir: Option<PathBuf>,
        limits: SourceLimits,
    ) -> Arc<Source> {
        // libgit2 caches no tree larger than 4 KiB by default; large directories are read again
        // and again while browsing, so let it keep trees up to 4 MiB decoded.
        // SAFETY: this sets a process-wide libgit2 option; it is called before any repository of
        // this `Source` is opened and the value is valid for every object type.
        unsafe {
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 4 * 1024 * 1024);
        }
        Arc::new(Source {
            pool: RepositoryPool::new(repos_dir.clone()),
            repos_dir,
            index_dir,
            highlighter: Highlighter::default(),
            cache: HighlightCache::new(cache_dir, limits.memory_cache_bytes, limits.disk_cache_bytes),
            listings: std::sync::Mutex::new(Listings { entries: lru::LruCache::unbounded(), bytes: 0 }),
            located: std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(LOCATED_MAX).expect("a positive bound"),
            )),
            in_flight: InFlight::default(),
            line_counts: std::sync::Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(LOCATED_MAX).expect("a positive bound"),
            )),
            limits,
        })
    }

    pub fn limits(&self) -> &SourceLimits {
        &self.limits
    }

    /// The highlight cache (its counters and sizes are shown on `/healthz`).
    pub fn cache(&self) -> &HighlightCache {
        &self.cache
    }

    /// Runs `work` with a pooled handle of the named repository on a blocking thread.
    async fn with_repo<T: Send + 'static>(
        self: &Arc<Self>,
        name: &str,
        work: impl FnOnce(&Source, &git2::Repository) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let this = Arc::clone(self);
        let name = name.to_string();
        tokio::task::spawn_blocking(move || this.pool.with(&name, |repo| work(&this, repo))).await?
    }

    /// What each path is at a pin (`None` where nothing is), reading tree entries only.
    pub async fn locate(self: &Arc<Self>, at: &PinLocation, paths: &[RepoPath]) -> Result<Vec<Option<Located>>> {
        if let Some(kept) = self.kept_locations(&at.tree_id, paths) {
            return Ok(kept);
        }
        let found = self.locate_in_repository(&at.repository, at.tree_id.clone(), paths.to_vec()).await?;
        if let Ok(mut kept) = self.located.lock() {
            for (path, found) in paths.iter().zip(&found) {
                kept.put(located_key(&at.tree_id, path), found.clone());
            }
        }
        Ok(found)
    }

    /// Every path's location under the tree, if all are kept.
    fn kept_locations(&self, tree_id: &str, paths: &[RepoPath]) -> Option<Vec<Option<Located>>> {
        let mut kept = self.located.lock().ok()?;
        paths.iter().map(|path| kept.get(&located_key(tree_id, path)).cloned()).collect()
    }

    async fn locate_in_repository(
        self: &Arc<Self>,
        repository: &str,
        tree_id: String,
        paths: Vec<RepoPath>,
    ) -> Result<Vec<Option<Located>>> {
        self.with_repo(repository, move |_, repo| {
            let root = repo.find_tree(git2::Oid::from_str(&tree_id)?)?;
            let odb = repo.odb()?;
            paths
                .iter()
                .map(|path| {
                    if path.is_root() {
                        return Ok(Some(Located {
                            kind: EntryKind::Directory,
                            object_id: tree_id.clone(),
                            size: None,
                        }));
                    }
                    match root.get_path(Path::new(path.as_str())) {
                        Ok(entry) => Ok(entry_kind(&entry).map(|kind| {
                            let size = matches!(kind, EntryKind::File | EntryKind::Symlink)
                                .then(|| odb.read_header(entry.id()).ok().map(|(size, _)| size as u64))
                                .flatten();
                            Located { kind, object_id: entry.id().to_string(), size }
                        })),
                        Err(error) if error.code() == git2::ErrorCode::NotFound => Ok(None),
                        Err(error) => Err(error.into()),
                    }
                })
                .collect()
        })
        .await
    }

    /// Lists a directory at a pin; directories first, then files, each by name.
    pub async fn read_tree(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        path: &RepoPath,
    ) -> Result<Vec<TreeEntry>> {
        if !receipt.covers(at.pin, path) {
            return Err(SourceError::WrongReceipt);
        }
        let (tree_id, path) = (at.tree_id.clone(), path.clone());
        self.with_repo(&at.repository, move |this, repo| {
            let tree = subtree(repo, &tree_id, &path)?.ok_or(SourceError::IsFile)?;
            Ok(this.listing(repo, &tree)?.as_ref().clone())
        })
        .await
    }

    /// A directory's entries if they are kept.
    fn kept_listing(&self, tree_id: git2::Oid) -> Option<Arc<Vec<TreeEntry>>> {
        self.listings.lock().ok()?.entries.get(&tree_id).cloned()
    }

    /// A directory's entries, from the listings kept or read and kept.
    fn listing(&self, repo: &git2::Repository, tree: &git2::Tree<'_>) -> Result<Arc<Vec<TreeEntry>>> {
        let id = tree.id();
        if let Some(found) = self.kept_listing(id) {
            return Ok(found);
        }
        let listing = Arc::new(list_entries(repo, tree)?);
        if let Ok(mut kept) = self.listings.lock() {
            let weight = listing_weight(&listing);
            if weight <= LISTINGS_MAX_BYTES / 4 {
                if let Some(old) = kept.entries.put(id, Arc::clone(&listing)) {
                    kept.bytes -= listing_weight(&old);
                }
                kept.bytes += weight;
                while kept.bytes > LISTINGS_MAX_BYTES {
                    match kept.entries.pop_lru() {
                        Some((_, old)) => kept.bytes -= listing_weight(&old),
                        None => break,
                    }
                }
            }
        }
        Ok(listing)
    }

    /// A blob's bytes, whole (a raw download). The receipt must cover the path.
    pub async fn read_raw(self: &Arc<Self>, receipt: &Receipt, at: &PinLocation, path: &RepoPath) -> Result<Vec<u8>> {
        if path.is_root() || !receipt.covers(at.pin, path) {
            return Err(SourceError::WrongReceipt);
        }
        let (tree_id, path) = (at.tree_id.clone(), path.clone());
        self.with_repo(&at.repository, move |this, repo| {
            let id = blob_at(repo, &tree_id, &path)?;
            let (size, _) = repo.odb()?.read_header(id)?;
            if size as u64 > this.limits.display_max_bytes {
                return Err(SourceError::TooLarge);
            }
            Ok(repo.find_blob(id)?.content().to_vec())
        })
        .await
    }
}

/// The blob at `path` under the pinned root.
fn blob_at(repo: &git2::Repository, tree_id: &str, path: &RepoPath) -> Result<git2::Oid> {
    let root = repo.find_tree(git2::Oid::from_str(tree_id)?)?;
    let entry = root.get_path(Path::new(path.as_str())).map_err(not_found)?;
    match entry.kind() {
        Some(git2::ObjectType::Blob) => Ok(entry.id()),
        Some(git2::ObjectType::Tree) => Err(SourceError::IsDirectory),
        _ => Err(SourceError::NotFound),
    }
}

fn not_found(error: git2::Error) -> SourceError {
    if error.code() == git2::ErrorCode::NotFound {
        SourceError::NotFound
    } else {
        SourceError::Git(error)
    }
}

fn entry_kind(entry: &git2::TreeEntry<'_>) -> Option<EntryKind> {
    match entry.kind() {
        Some(git2::ObjectType::Tree) => Some(EntryKind::Directory),
        Some(git2::ObjectType::Commit) => Some(EntryKind::Submodule),
        Some(git2::ObjectType::Blob) if entry.filemode() == 0o120000 => Some(EntryKind::Symlink),
        Some(git2::ObjectType::Blob) => Some(EntryKind::File),
        _ => None,
    }
}

/// The tree at `path` under the pinned root, `None` if `path` is not a directory.
fn subtree<'r>(repo: &'r git2::Repository, tree_id: &str, path: &RepoPath) -> Result<Option<git2::Tree<'r>>> {
    let root = repo.find_tree(git2::Oid::from_str(tree_id)?)?;
    if path.is_root() {
        return Ok(Some(root));
    }
    let entry = root.get_path(Path::new(path.as_str())).map_err(not_found)?;
    match entry.kind() {
        Some(git2::ObjectType::Tree) => Ok(Some(repo.find_tree(entry.id())?)),
        _ => Ok(None),
    }
}

fn list_entries(repo: &git2::Repository, tree: &git2::Tree<'_>) -> Result<Vec<TreeEntry>> {
    let odb = repo.odb()?;
    let mut entries = Vec::with_capacity(tree.len());
    for entry in tree.iter() {
        let Some(kind) = entry_kind(&entry) else { continue };
        let size = matches!(kind, EntryKind::File | EntryKind::Symlink)
            .then(|| odb.read_header(entry.id()).ok().map(|(size, _)| size as u64))
            .flatten();
        entries.push(TreeEntry { name: String::from_utf8_lossy(entry.name_bytes()).into_owned(), kind, size });
    }
    entries.sort_by(|a, b| {
        let dir = |e: &TreeEntry| e.kind != EntryKind::Directory;
        dir(a).cmp(&dir(b)).then_with(|| a.name.cmp(&b.name))
    });
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    #[test]
    fn work_for_one_key_runs_once_while_others_wait_for_it() {
        let in_flight = Arc::new(InFlight::default());
        let (made, computed) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (in_flight, made, computed) = (Arc::clone(&in_flight), Arc::clone(&made), Arc::clone(&computed));
                std::thread::spawn(move || {
                    in_flight.run("blob", || {
                        // As `render_blob` does: look in the "cache" first, make the entry if missing.
                        if !made.load(Ordering::SeqCst) {
                            computed.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(std::time::Duration::from_millis(30));
                            made.store(true, Ordering::SeqCst);
                        }
                    })
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(computed.load(Ordering::SeqCst), 1, "the entry was made once");
        assert!(in_flight.0.lock().unwrap().is_empty(), "no key is left behind");
        // Another key does not wait for this one.
        assert_eq!(in_flight.run("other", || 7), 7);
    }
}
