//! Pre-highlighting a whole pin into the disk cache, so that no reader waits for a file: every text
//! file within the highlight cap, each distinct blob once, skipping what an earlier pin (or an
//! earlier, interrupted run) already stored. Two worker threads at the lowest CPU priority, so that
//! requests come first; progress and cancellation through shared counters.

use super::cache::HighlightCache;
use super::{PinLocation, Result, Source, SourceError};
use crate::audit::Receipt;
use crate::config::SourceLimits;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

/// What a pre-highlight run has done so far; `cancel` stops it between files.
#[derive(Default)]
pub struct Progress {
    pub done: AtomicU64,
    pub total: AtomicU64,
    /// Files that were already in the cache.
    pub reused: AtomicU64,
    pub cancel: AtomicBool,
}

/// Worker threads: the machine's cores, at most two (requests share them, at a higher priority).
fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 2)
}

/// Lowers the calling thread's CPU priority to the least (Linux: a thread's nice value is its own).
fn lowest_priority() {
    #[cfg(target_os = "linux")]
    // SAFETY: setpriority with PRIO_PROCESS and a thread id changes only that thread's nice value;
    // it takes no pointers. A failure (not permitted) leaves the priority as it was.
    unsafe {
        let thread = libc::syscall(libc::SYS_gettid) as libc::id_t;
        let _ = libc::setpriority(libc::PRIO_PROCESS, thread, 19);
    }
}

impl Source {
    /// Highlights every text file of a pin into the disk cache. The receipt must cover the whole
    /// pin. Returns when done or cancelled; `progress` counts distinct blobs.
    pub async fn prehighlight(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        progress: Arc<Progress>,
    ) -> Result<()> {
        if !receipt.covers_whole(at.pin) {
            return Err(SourceError::WrongReceipt);
        }
        let tree_id = at.tree_id.clone();
        let repository = at.repository.clone();
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let files = this.pool.with(&repository, |repo| this.text_blobs(repo, &tree_id))?;
            progress.total.store(files.len() as u64, Ordering::Relaxed);
            let next = AtomicUsize::new(0);
            let failure = std::sync::Mutex::new(None);
            std::thread::scope(|scope| {
                for _ in 0..workers() {
                    scope.spawn(|| {
                        lowest_priority();
                        let outcome = this.pool.with(&repository, |repo| loop {
                            if progress.cancel.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            let Some((name, id)) = files.get(next.fetch_add(1, Ordering::Relaxed)) else {
                                return Ok(());
                            };
                            if this.prehighlight_one(repo, name, *id)? {
                                progress.reused.fetch_add(1, Ordering::Relaxed);
                            }
                            progress.done.fetch_add(1, Ordering::Relaxed);
                        });
                        if let Err(error) = outcome {
                            progress.cancel.store(true, Ordering::Relaxed);
                            *failure.lock().expect("failure lock") = Some(error);
                        }
                    });
                }
            });
            match failure.into_inner().expect("failure lock") {
                Some(error) => Err(error),
                None => Ok(()),
            }
        })
        .await?
    }

    /// The pin's regular files within the highlight cap, one (file name, blob id) per distinct blob
    /// and grammar-deciding name, in path order.
    fn text_blobs(&self, repo: &git2::Repository, tree_id: &str) -> Result<Vec<(String, git2::Oid)>> {
        let root = repo.find_tree(git2::Oid::from_str(tree_id)?)?;
        let odb = repo.odb()?;
        let mut seen = std::collections::HashSet::new();
        let mut files = Vec::new();
        let cap = self.limits.highlight_max_bytes;
        root.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
            let regular = matches!(entry.filemode(), 0o100644 | 0o100755 | 0o100664);
            if entry.kind() == Some(git2::ObjectType::Blob) && regular {
                let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                let small = odb.read_header(entry.id()).is_ok_and(|(size, _)| size as u64 <= cap);
                if small && seen.insert((entry.id(), name.clone())) {
                    files.push((name, entry.id()));
                }
            }
            git2::TreeWalkResult::Ok
        })?;
        Ok(files)
    }

    /// Highlights one blob into the disk cache unless it is there or binary; true if it was there.
    fn prehighlight_one(&self, repo: &git2::Repository, name: &str, id: git2::Oid) -> Result<bool> {
        let blob = repo.find_blob(id)?;
        if blob.is_binary() {
            return Ok(false);
        }
        let text = String::from_utf8_lossy(blob.content());
        let syntax = self.highlighter.syntax_for(name, &text);
        let key = HighlightCache::key(&id.to_string(), syntax.map(|s| s.name.as_str()));
        if self.cache.contains(&key) {
            return Ok(true);
        }
        // Ten times a view's budget: only a truly pathological file is left cut short.
        let limits =
            SourceLimits { highlight_budget_ms: self.limits.highlight_budget_ms.saturating_mul(10), ..self.limits };
        let highlighted = self.highlighter.highlight_as(syntax, &text, &limits);
        self.cache.put_on_disk(&key, &highlighted);
        Ok(false)
    }

    /// Whether highlighted files are kept on disk (pre-highlighting has a purpose).
    pub fn has_disk_cache(&self) -> bool {
        self.cache.has_disk()
    }
}
