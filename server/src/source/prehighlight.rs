//! Pre-highlighting a whole pin into the disk cache, so that no reader waits for a file, and finding
//! its definitions (go to definition) in the same parse: every text file within the highlight cap,
//! each distinct blob once; a blob an earlier pin (or an earlier, interrupted run) already stored
//! with its definitions is not parsed again. Two worker threads at the lowest CPU priority, so that
//! requests come first; progress and cancellation through shared counters.

use super::cache::HighlightCache;
use super::symbols::{Defined, Definition};
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

/// The pin's files to parse: every (path, work item), and the work items, one per distinct blob and
/// grammar-deciding name.
struct Work {
    paths: Vec<(String, usize)>,
    items: Vec<(String, git2::Oid)>,
}

impl Source {
    /// Highlights every text file of a pin into the disk cache (when there is one) and finds its
    /// definitions, one parse per distinct blob. The receipt must cover the whole pin. Returns the
    /// definitions when done (`None` when cancelled); `progress` counts distinct blobs.
    pub async fn prehighlight(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        progress: Arc<Progress>,
    ) -> Result<Option<Vec<Definition>>> {
        if !receipt.covers_whole(at.pin) {
            return Err(SourceError::WrongReceipt);
        }
        let tree_id = at.tree_id.clone();
        let repository = at.repository.clone();
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let work = this.pool.with(&repository, |repo| this.text_blobs(repo, &tree_id))?;
            progress.total.store(work.items.len() as u64, Ordering::Relaxed);
            let found: Vec<std::sync::OnceLock<Vec<Defined>>> =
                work.items.iter().map(|_| std::sync::OnceLock::new()).collect();
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
                            let index = next.fetch_add(1, Ordering::Relaxed);
                            let Some((name, id)) = work.items.get(index) else { return Ok(()) };
                            let (reused, definitions) = this.prehighlight_one(repo, name, *id)?;
                            if reused {
                                progress.reused.fetch_add(1, Ordering::Relaxed);
                            }
                            let _ = found[index].set(definitions);
                            progress.done.fetch_add(1, Ordering::Relaxed);
                        });
                        if let Err(error) = outcome {
                            progress.cancel.store(true, Ordering::Relaxed);
                            *failure.lock().expect("failure lock") = Some(error);
                        }
                    });
                }
            });
            if let Some(error) = failure.into_inner().expect("failure lock") {
                return Err(error);
            }
            if progress.cancel.load(Ordering::Relaxed) {
                return Ok(None);
            }
            let mut definitions = Vec::new();
            for (path, item) in work.paths {
                let blob_id = work.items[item].1.to_string();
                for defined in found[item].get().into_iter().flatten() {
                    definitions.push(Definition {
                        path: path.clone(),
                        blob_id: blob_id.clone(),
                        name: defined.name.clone(),
                        kind: defined.kind.to_string(),
                        line: defined.line,
                    });
                }
            }
            Ok(Some(definitions))
        })
        .await?
    }

    /// The pin's regular files within the highlight cap (symbolic links and submodules are not
    /// files), in path order, and the work they make: one item per distinct blob and file name.
    fn text_blobs(&self, repo: &git2::Repository, tree_id: &str) -> Result<Work> {
        let root = repo.find_tree(git2::Oid::from_str(tree_id)?)?;
        let odb = repo.odb()?;
        let mut items: std::collections::HashMap<(git2::Oid, String), usize> = std::collections::HashMap::new();
        let mut work = Work { paths: Vec::new(), items: Vec::new() };
        let cap = self.limits.highlight_max_bytes;
        root.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
            let regular = matches!(entry.filemode(), 0o100644 | 0o100755 | 0o100664);
            if entry.kind() == Some(git2::ObjectType::Blob) && regular {
                let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
                if odb.read_header(entry.id()).is_ok_and(|(size, _)| size as u64 <= cap) {
                    let path = format!("{dir}{name}");
                    let item = *items.entry((entry.id(), name.clone())).or_insert_with(|| {
                        work.items.push((name, entry.id()));
                        work.items.len() - 1
                    });
                    work.paths.push((path, item));
                }
            }
            git2::TreeWalkResult::Ok
        })?;
        work.paths.sort();
        Ok(work)
    }

    /// Highlights one blob into the disk cache and finds its definitions, unless it is binary or
    /// the cache holds both; (whether it was there, its definitions).
    fn prehighlight_one(&self, repo: &git2::Repository, name: &str, id: git2::Oid) -> Result<(bool, Vec<Defined>)> {
        let blob = repo.find_blob(id)?;
        if blob.is_binary() {
            return Ok((false, Vec::new()));
        }
        let text = String::from_utf8_lossy(blob.content());
        let syntax = self.highlighter.syntax_for(name, &text);
        let key = HighlightCache::key(&id.to_string(), syntax.map(|s| s.name.as_str()));
        if let Some(definitions) = self.cache.definitions_on_disk(&key) {
            return Ok((true, definitions));
        }
        // Ten times a view's budget: only a truly pathological file is left cut short.
        let limits =
            SourceLimits { highlight_budget_ms: self.limits.highlight_budget_ms.saturating_mul(10), ..self.limits };
        let highlighted = self.highlighter.highlight_finding_definitions(syntax, &text, &limits);
        self.cache.put_on_disk(&key, &highlighted);
        Ok((false, highlighted.definitions.unwrap_or_default()))
    }

    /// Whether highlighted files are kept on disk (pre-highlighting has a purpose).
    pub fn has_disk_cache(&self) -> bool {
        self.cache.has_disk()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::Scope;
    use app::model::PinId;

    /// One parse finds a file's definitions and highlights it; a second pin of the same blobs reads
    /// both from the cache and parses nothing, with the same definitions, at every path of a blob.
    #[tokio::test]
    async fn a_pin_is_highlighted_and_its_definitions_found_in_one_parse_reused_by_the_next_pin() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init_bare(dir.path().join("repos/product.git")).unwrap();
        let code = b"pub struct Ledger;\n\npub fn settle(l: &Ledger) {}\n".to_vec();
        let files = [("src/a.rs", code.clone()), ("copy/a.rs", code), ("notes.txt", b"plain\n".to_vec())];
        let commit = crate::demo::write_commit(&repo, &files, "one").unwrap();
        let tree_id = repo.find_commit(commit).unwrap().tree_id().to_string();
        let source = Source::new(
            dir.path().join("repos"),
            dir.path().join("index"),
            Some(dir.path().join("highlight")),
            SourceLimits::default(),
        );
        let mut found = Vec::new();
        for pin in ["1", "2"] {
            let at =
                PinLocation { pin: PinId::parse(pin).unwrap(), repository: "product".into(), tree_id: tree_id.clone() };
            let receipt = Receipt::for_tests(Scope::WholePin(at.pin));
            let progress = Arc::new(Progress::default());
            let definitions = source.prehighlight(&receipt, &at, Arc::clone(&progress)).await.unwrap().unwrap();
            let mut named: Vec<(String, String, u32)> =
                definitions.into_iter().map(|d| (d.path, d.name, d.line)).collect();
            named.sort();
            found.push((named, progress.reused.load(Ordering::Relaxed), progress.total.load(Ordering::Relaxed)));
        }
        let expected: Vec<(String, String, u32)> = ["copy/a.rs", "src/a.rs"]
            .iter()
            .flat_map(|p| [(p.to_string(), "Ledger".to_string(), 1), (p.to_string(), "settle".to_string(), 3)])
            .collect();
        assert_eq!(found[0], (expected.clone(), 0, 2), "two blobs parsed (one Rust, one plain), none reused");
        assert_eq!(found[1], (expected, 2, 2), "both read back from the cache");
    }
}
