//! What the domain keeps in memory between requests. Each cache holds something immutable (a
//! version's rendered Markdown, a tree pair's changed files, an indexed pin's files) or checks a
//! revision in the database before use (a file's comments, what the log said was shown), so that
//! several instances on one database never serve each other's stale state.

use crate::review::markdown;
use crate::source::ChangedFile;
use crate::store::review::CommentRows;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// A file at a pin: (pin, path, blob).
pub type FileKey = (i64, String, String);
/// Two trees compared: (older tree, newer tree).
pub type TreePair = (String, String);
/// A history read through grants limited to paths: (older commit, newer commit, the older pin's
/// scope, the newer's).
pub type ScopedRange = (String, String, String, String);

fn lru<K: std::hash::Hash + Eq, V>(capacity: usize) -> Mutex<lru::LruCache<K, V>> {
    Mutex::new(lru::LruCache::new(NonZeroUsize::new(capacity).expect("a capacity")))
}

pub struct Caches {
    /// Rendered Markdown of comment versions.
    pub markdown: markdown::Cache,
    /// Indexed pins' files and the shown objects read from the log so far.
    pub coverage: super::coverage::CoverageCache,
    /// The stored comments of recently viewed files, with the comment revision they were read at.
    pub file_threads: Mutex<lru::LruCache<FileKey, (i64, Arc<CommentRows>)>>,
    /// Changed files between two trees, by (older tree, newer tree).
    pub compare: Mutex<lru::LruCache<TreePair, Arc<Vec<ChangedFile>>>>,
    /// A search's totals, counted on its first page, with the files that match when they were
    /// counted from the pin's search pack (a pin never changes, so neither do they).
    pub search_totals: Mutex<lru::LruCache<super::search::TotalsKey, super::search::Counted>>,
    /// Pins' done compiled-code maps, parsed, with the pin's maps revision they were read at.
    pub compiled: Mutex<lru::LruCache<i64, Arc<super::compiled::PinMaps>>>,
    /// The paths in a grant's scope at a pin, by (pin's tree, the scope's patterns).
    pub scoped_paths: Mutex<lru::LruCache<(String, String), Arc<super::guard::scope::ScopedPaths>>>,
    /// The commits between two pins changing a path in a grant's scope, by (older commit, newer
    /// commit, older pin's scope, newer pin's scope).
    pub scoped_commits: Mutex<lru::LruCache<ScopedRange, Arc<Vec<String>>>>,
    /// The imported tool results on a file, by (pin, path), with the pin's tool-results revision
    /// they were read at (`Store::sarif_revision`) and their list, once made.
    pub annotations: Mutex<lru::LruCache<(i64, String), Arc<super::sarif::FileAnnotations>>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            markdown: markdown::Cache::new(20_000),
            coverage: Default::default(),
            file_threads: lru(512),
            compare: lru(16),
            search_totals: lru(256),
            compiled: lru(8),
            scoped_paths: lru(64),
            scoped_commits: lru(16),
            annotations: lru(256),
        }
    }
}
