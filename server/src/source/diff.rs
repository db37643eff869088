//! Comparing two pins of one repository: the changed files with their line counts (libgit2's tree
//! diff, renames found as git finds them, `renames.rs`), and both sides of one file for a line diff. Reading needs a receipt
//! covering both pins (the list) or both paths (a file).

use super::highlight::Highlighted;
use super::{PinLocation, Result, Source, SourceError};
use crate::audit::Receipt;
use app::model::{ChangeStatus, RepoPath};
use std::path::Path;
use std::sync::Arc;

/// One changed file between two pins.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangedFile {
    pub status: ChangeStatus,
    /// The path at the newer pin (at the older one for a deleted file).
    pub path: String,
    /// The path at the older pin, when it differs (a rename).
    pub old_path: Option<String>,
    pub old_blob: Option<String>,
    pub new_blob: Option<String>,
    pub old_mode: u32,
    pub new_mode: u32,
    /// For a rename: how similar the two files are, in percent.
    pub similarity: Option<u32>,
    pub additions: u64,
    pub deletions: u64,
    pub binary: bool,
}

/// One side of a file diff.
pub struct DiffSide {
    pub blob_id: String,
    pub size: u64,
    pub binary: bool,
    /// The text, when it is text and not over the cap.
    pub text: Option<Arc<str>>,
    /// Its highlighted lines (cached by blob id, as for a file view).
    pub highlighted: Option<Arc<Highlighted>>,
}

fn status(delta: &git2::DiffDelta<'_>) -> ChangeStatus {
    match delta.status() {
        git2::Delta::Added | git2::Delta::Copied | git2::Delta::Untracked => ChangeStatus::Added,
        git2::Delta::Deleted => ChangeStatus::Deleted,
        git2::Delta::Renamed => ChangeStatus::Renamed,
        git2::Delta::Typechange => ChangeStatus::TypeChanged,
        _ if delta.old_file().id() == delta.new_file().id() => ChangeStatus::ModeChanged,
        _ => ChangeStatus::Modified,
    }
}

fn path_text(file: &git2::DiffFile<'_>) -> Option<String> {
    file.path_bytes().map(|p| String::from_utf8_lossy(p).into_owned())
}

fn blob_of(file: &git2::DiffFile<'_>) -> Option<String> {
    (!file.id().is_zero()).then(|| file.id().to_string())
}

impl Source {
    /// The files that differ from pin `a` to pin `b` (two pins of one repository), by path.
    pub async fn diff_list(
        self: &Arc<Self>,
        receipt: &Receipt,
        a: &PinLocation,
        b: &PinLocation,
    ) -> Result<Vec<ChangedFile>> {
        if !receipt.covers_whole(a.pin) || !receipt.covers_whole(b.pin) || a.repository != b.repository {
            return Err(SourceError::WrongReceipt);
        }
        let (old_tree, new_tree) = (a.tree_id.clone(), b.tree_id.clone());
        if let Ok(bytes) = tokio::fs::read(self.kept_list(&old_tree, &new_tree)).await {
            if let Ok(files) = serde_json::from_slice::<Vec<ChangedFile>>(&bytes) {
                return Ok(files);
            }
        }
        self.with_repo(&a.repository, move |this, repo| {
            let old = repo.find_tree(git2::Oid::from_str(&old_tree)?)?;
            let new = repo.find_tree(git2::Oid::from_str(&new_tree)?)?;
            Ok(this.kept_changes(repo, Some(&old), &new))
        })
        .await?
    }

    /// Where the changed-file list of two trees is kept.
    fn kept_list(&self, old_tree: &str, new_tree: &str) -> std::path::PathBuf {
        self.index_dir.join(format!("compare-{old_tree}-{new_tree}.json"))
    }

    /// `tree_changes`, kept on disk: two trees never change, so neither does their list, which is
    /// computed once (by a pin's compare job, the first request, a commit's page in a history) and
    /// read back by any instance after a restart. A root commit's (no old tree) is not kept.
    pub(super) fn kept_changes(
        &self,
        repo: &git2::Repository,
        old: Option<&git2::Tree<'_>>,
        new: &git2::Tree<'_>,
    ) -> Result<Vec<ChangedFile>> {
        let Some(old) = old else { return tree_changes(repo, None, new) };
        let kept = self.kept_list(&old.id().to_string(), &new.id().to_string());
        if let Ok(bytes) = std::fs::read(&kept) {
            if let Ok(files) = serde_json::from_slice::<Vec<ChangedFile>>(&bytes) {
                return Ok(files);
            }
        }
        let files = tree_changes(repo, Some(old), new)?;
        if let Ok(bytes) = serde_json::to_vec(&files) {
            let staged = kept.with_extension(format!("{:016x}", rand::random::<u64>()));
            let written = std::fs::create_dir_all(&self.index_dir)
                .and_then(|()| std::fs::write(&staged, &bytes))
                .and_then(|()| std::fs::rename(&staged, &kept));
            if let Err(error) = written {
                tracing::warn!(%error, "keeping a changed-file list failed; it will be computed again");
                let _ = std::fs::remove_file(&staged);
            }
        }
        Ok(files)
    }

    /// Both sides of a file: `old` at pin `a` and `new` at pin `b` (either may be absent). The
    /// receipt must cover each path read.
    pub async fn diff_pair(
        self: &Arc<Self>,
        receipt: &Receipt,
        a: &PinLocation,
        old: Option<&RepoPath>,
        b: &PinLocation,
        new: Option<&RepoPath>,
    ) -> Result<(Option<DiffSide>, Option<DiffSide>)> {
        for (at, path) in [(a, old), (b, new)] {
            if path.is_some_and(|path| !receipt.covers(at.pin, path)) {
                return Err(SourceError::WrongReceipt);
            }
        }
        let reads = [(a.tree_id.clone(), old.cloned()), (b.tree_id.clone(), new.cloned())];
        self.with_repo(&a.repository, move |this, repo| {
            let mut sides = reads.into_iter().map(|(tree_id, path)| match path {
                Some(path) => this.diff_side(repo, &tree_id, &path),
                None => Ok(None),
            });
            let old = sides.next().expect("two sides")?;
            let new = sides.next().expect("two sides")?;
            Ok((old, new))
        })
        .await
    }

    pub(super) fn diff_side(
        &self,
        repo: &git2::Repository,
        tree_id: &str,
        path: &RepoPath,
    ) -> Result<Option<DiffSide>> {
        let root = repo.find_tree(git2::Oid::from_str(tree_id)?)?;
        let entry = match root.get_path(Path::new(path.as_str())) {
            Ok(entry) if entry.kind() == Some(git2::ObjectType::Blob) => entry,
            Ok(_) => return Err(SourceError::IsDirectory),
            Err(error) if error.code() == git2::ErrorCode::NotFound => return Ok(None),
            Err(error) => return Err(error.into()),
        };
        let blob_id = entry.id().to_string();
        // The size from the object's header: a side too large to show is not read (an 8 MiB blob
        // took 110 ms to inflate only to be refused). Whether it is binary is then not known, and
        // the page says it is too large.
        let (size, _) = repo.odb()?.read_header(entry.id())?;
        let size = size as u64;
        if size > self.limits.diff_max_bytes {
            return Ok(Some(DiffSide { blob_id, size, binary: false, text: None, highlighted: None }));
        }
        let blob = repo.find_blob(entry.id())?;
        let binary = blob.is_binary();
        if binary || size > self.limits.diff_max_bytes {
            return Ok(Some(DiffSide { blob_id, size, binary, text: None, highlighted: None }));
        }
        let text: Arc<str> = String::from_utf8_lossy(blob.content()).into();
        let highlighted = Some(self.highlighted(&blob_id, path.file_name(), blob.content()));
        Ok(Some(DiffSide { blob_id, size, binary, text: Some(text), highlighted }))
    }
}

/// The files that differ from tree `old` (none: an empty tree, for a root commit) to tree `new`,
/// renames paired as `git diff -M` pairs them, each with its line counts, in path order.
pub(super) fn tree_changes(
    repo: &git2::Repository,
    old: Option<&git2::Tree<'_>>,
    new: &git2::Tree<'_>,
) -> Result<Vec<ChangedFile>> {
    let mut options = git2::DiffOptions::new();
    options.include_typechange(true).ignore_submodules(true).context_lines(0);
    let diff = repo.diff_tree_to_tree(old, Some(new), Some(&mut options))?;
    let mut files = Vec::with_capacity(diff.deltas().len());
    for delta in diff.deltas() {
        let status = status(&delta);
        let (old_path, new_path) = (path_text(&delta.old_file()), path_text(&delta.new_file()));
        let path = match status {
            ChangeStatus::Deleted => old_path.clone(),
            _ => new_path.clone(),
        }
        .unwrap_or_default();
        let file = ChangedFile {
            status,
            old_path: old_path.filter(|old| *old != path),
            path,
            old_blob: blob_of(&delta.old_file()),
            new_blob: blob_of(&delta.new_file()),
            old_mode: u32::from(delta.old_file().mode()),
            new_mode: u32::from(delta.new_file().mode()),
            similarity: None,
            additions: 0,
            deletions: 0,
            binary: delta.flags().is_binary(),
        };
        files.push(file);
    }
    let files = pair_renames(repo, files);
    let to_count: Vec<usize> = (0..files.len()).filter(|&i| files[i].similarity != Some(100)).collect();
    // Line counts are most of the cost: two threads, each with its own repository handle.
    let location = repo.path().to_path_buf();
    let halves: Vec<Vec<usize>> = (0..2).map(|half| to_count.iter().copied().skip(half).step_by(2).collect()).collect();
    let mut files = files;
    let counted: Vec<Vec<(usize, Option<Counts>)>> = std::thread::scope(|scope| {
        let files = &files;
        let workers: Vec<_> = halves
            .into_iter()
            .map(|half| {
                let location = location.clone();
                scope.spawn(move || {
                    let Ok(repo) = git2::Repository::open(&location) else {
                        return half.into_iter().map(|i| (i, None)).collect::<Vec<_>>();
                    };
                    half.into_iter().map(|i| (i, count_lines_changed(&repo, &files[i]))).collect()
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_default()).collect()
    });
    for (index, counts) in counted.into_iter().flatten() {
        let Some(counts) = counts else { continue };
        let file = &mut files[index];
        file.additions = counts.additions;
        file.deletions = counts.deletions;
        file.binary |= counts.binary;
    }
    files.sort_by(|x, y| x.path.cmp(&y.path));
    Ok(files)
}

/// A changed file's line counts.
struct Counts {
    additions: u64,
    deletions: u64,
    binary: bool,
}

/// The added and deleted files that are renames, as `git diff -M` finds them (`renames.rs`), each
/// pair made one renamed file; the list stays in path order.
fn pair_renames(repo: &git2::Repository, files: Vec<ChangedFile>) -> Vec<ChangedFile> {
    let side = |file: &ChangedFile, blob: &Option<String>, mode: u32| {
        let blob = git2::Oid::from_str(blob.as_deref()?).ok()?;
        Some(super::renames::Side { path: file.path.clone(), blob, mode })
    };
    let (mut sources, mut destinations) = (Vec::new(), Vec::new());
    for (index, file) in files.iter().enumerate() {
        match file.status {
            ChangeStatus::Deleted => sources.extend(side(file, &file.old_blob, file.old_mode).map(|s| (index, s))),
            ChangeStatus::Added => destinations.extend(side(file, &file.new_blob, file.new_mode).map(|d| (index, d))),
            _ => {}
        }
    }
    let found = super::renames::detect(
        repo,
        &sources.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
        &destinations.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>(),
    );
    let mut files: Vec<Option<ChangedFile>> = files.into_iter().map(Some).collect();
    let mut renamed = Vec::with_capacity(found.len());
    for rename in found {
        let (old_index, new_index) = (sources[rename.source].0, destinations[rename.destination].0);
        let (Some(old), Some(new)) = (files[old_index].take(), files[new_index].take()) else { continue };
        renamed.push(ChangedFile {
            status: ChangeStatus::Renamed,
            path: new.path,
            old_path: Some(old.path),
            old_blob: old.old_blob,
            new_blob: new.new_blob,
            old_mode: old.old_mode,
            new_mode: new.new_mode,
            similarity: Some((rename.score * 100 / super::renames::MAX_SCORE) as u32),
            additions: 0,
            deletions: 0,
            binary: old.binary || new.binary,
        });
    }
    let mut files: Vec<ChangedFile> = files.into_iter().flatten().chain(renamed).collect();
    files.sort_by(|x, y| x.path.cmp(&y.path));
    files
}

/// Counts the lines a file's change adds and deletes (none for a submodule or an unreadable blob).
fn count_lines_changed(repo: &git2::Repository, file: &ChangedFile) -> Option<Counts> {
    let load = |id: &Option<String>| -> Option<Option<git2::Blob<'_>>> {
        match id {
            None => Some(None),
            Some(id) => repo.find_blob(git2::Oid::from_str(id).ok()?).ok().map(Some),
        }
    };
    let (old, new) = (load(&file.old_blob)?, load(&file.new_blob)?);
    let mut options = git2::DiffOptions::new();
    options.context_lines(0);
    let (old_bytes, new_bytes) =
        (old.as_ref().map_or(&[][..], |b| b.content()), new.as_ref().map_or(&[][..], |b| b.content()));
    let patch = git2::Patch::from_buffers(old_bytes, None, new_bytes, None, Some(&mut options)).ok()?;
    let (_, additions, deletions) = patch.line_stats().ok()?;
    Some(Counts { additions: additions as u64, deletions: deletions as u64, binary: patch.delta().flags().is_binary() })
}
