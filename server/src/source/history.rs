//! The history behind pins: the first-parent commits from one pin to another (`git log
//! --first-parent A..B`), a commit's changed files and the two sides of each (against its first
//! parent), and blame at a pin (`git blame`). Reading the commits needs a receipt for the history
//! of both pins; blame one for the file's path at its pin.

use super::diff::{ChangedFile, DiffSide};
use super::{PinLocation, Result, Source, SourceError};
use crate::audit::Receipt;
use app::model::{BlameHunk, CommitPerson, CommitView, RepoPath};
use std::path::Path;
use std::sync::Arc;

/// The most commits a history lists: a longer range is cut at its oldest end, and says so.
pub const MAX_COMMITS: usize = 10_000;

/// Who made a commit or committed it, as git recorded it.
fn person(signature: &git2::Signature<'_>) -> CommitPerson {
    let when = signature.when();
    CommitPerson {
        name: String::from_utf8_lossy(signature.name_bytes()).into_owned(),
        email: String::from_utf8_lossy(signature.email_bytes()).into_owned(),
        at_ms: when.seconds().saturating_mul(1000),
        offset_minutes: when.offset_minutes(),
    }
}

/// A commit as the history shows it (without its files).
fn commit_view(commit: &git2::Commit<'_>) -> CommitView {
    let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
    CommitView {
        id: commit.id().to_string(),
        parents: commit.parent_ids().map(|id| id.to_string()).collect(),
        summary: message.lines().next().unwrap_or_default().to_string(),
        message,
        author: person(&commit.author()),
        committer: person(&commit.committer()),
        files: None,
    }
}

/// How many added and deleted files libgit2's blame compares for renames. Whenever a file changed
/// in a commit, libgit2 diffs the whole trees and searches every added file against every deleted
/// one for a rename of it: in the corpus's release commit (4,071 changed files) blaming a 1,365-line
/// file took 25 s, and 2.6 s with the search capped (the same blame; `git blame` caps it too).
const BLAME_RENAME_LIMIT: i64 = 100;

/// Caps libgit2's rename search for blame in the repository's own configuration (our copy's; the
/// server's own rename detection, `renames/`, does not read it). Best effort.
fn limit_rename_search(repo: &git2::Repository) -> Result<()> {
    let mut config = repo.config()?;
    if config.get_i64("diff.renamelimit").ok() != Some(BLAME_RENAME_LIMIT) {
        if let Err(error) = config.set_i64("diff.renameLimit", BLAME_RENAME_LIMIT) {
            // Blame stays right, only slower on very large commits.
            tracing::warn!(%error, "could not cap the rename search of blame in a repository's configuration");
        }
    }
    Ok(())
}

fn oid(text: &str) -> Result<git2::Oid> {
    git2::Oid::from_str(text).map_err(|_| SourceError::NoSuchCommit(text.to_string()))
}

/// Two pins of one repository and their commits, for reading the history between them.
#[derive(Clone, Debug)]
pub struct PinRange {
    pub older: PinLocation,
    pub older_commit: String,
    pub newer: PinLocation,
    pub newer_commit: String,
}

/// One commit's changes against its first parent.
pub struct CommitChanges {
    pub commit: CommitView,
    pub files: Vec<ChangedFile>,
}

/// The two sides of one changed file of a commit.
pub struct CommitFileSides {
    pub old: Option<DiffSide>,
    pub new: Option<DiffSide>,
}

impl Source {
    fn check_range(receipt: &Receipt, range: &PinRange) -> Result<()> {
        if !receipt.covers_history(range.older.pin, range.newer.pin) || range.older.repository != range.newer.repository
        {
            return Err(SourceError::WrongReceipt);
        }
        Ok(())
    }

    /// The ids of the first-parent commits reachable from the newer pin and not from the older,
    /// newest first, at most `MAX_COMMITS` (and whether there were more).
    pub async fn first_parent_commits(
        self: &Arc<Self>,
        receipt: &Receipt,
        range: &PinRange,
    ) -> Result<(Vec<String>, bool)> {
        Self::check_range(receipt, range)?;
        let (older, newer) = (oid(&range.older_commit)?, oid(&range.newer_commit)?);
        self.with_repo(&range.newer.repository, move |_, repo| {
            let mut walk = repo.revwalk()?;
            walk.simplify_first_parent()?;
            walk.push(newer)?;
            walk.hide(older)?;
            let mut ids = Vec::new();
            for id in walk {
                if ids.len() == MAX_COMMITS {
                    return Ok((ids, true));
                }
                ids.push(id?.to_string());
            }
            Ok((ids, false))
        })
        .await
    }

    /// The commits with these ids (each one of the range's, which the caller took from
    /// `first_parent_commits`), with their changed files when `with_files`.
    pub async fn commits(
        self: &Arc<Self>,
        receipt: &Receipt,
        range: &PinRange,
        ids: Vec<String>,
        with_files: bool,
    ) -> Result<Vec<CommitChanges>> {
        Self::check_range(receipt, range)?;
        self.with_repo(&range.newer.repository, move |this, repo| {
            ids.iter()
                .map(|id| {
                    let commit = repo.find_commit(oid(id)?)?;
                    let files = if with_files {
                        let parent = match commit.parent_count() {
                            0 => None,
                            _ => Some(commit.parent(0)?.tree()?),
                        };
                        this.kept_changes(repo, parent.as_ref(), &commit.tree()?)?
                    } else {
                        Vec::new()
                    };
                    Ok(CommitChanges { commit: commit_view(&commit), files })
                })
                .collect()
        })
        .await
    }

    /// Of these commits (the range's), those that change a path `keep` keeps (its old or its new
    /// path): the tree diffs alone, without renames found or contents read.
    pub async fn commits_touching(
        self: &Arc<Self>,
        receipt: &Receipt,
        range: &PinRange,
        ids: Vec<String>,
        keep: super::PathFilter,
    ) -> Result<Vec<String>> {
        Self::check_range(receipt, range)?;
        self.with_repo(&range.newer.repository, move |_, repo| {
            let mut touching = Vec::new();
            for id in ids {
                let commit = repo.find_commit(oid(&id)?)?;
                let parent = match commit.parent_count() {
                    0 => None,
                    _ => Some(commit.parent(0)?.tree()?),
                };
                let diff = repo.diff_tree_to_tree(parent.as_ref(), Some(&commit.tree()?), None)?;
                let kept = |file: git2::DiffFile<'_>| {
                    file.path_bytes().is_some_and(|path| std::str::from_utf8(path).is_ok_and(|path| keep(path)))
                };
                if diff.deltas().any(|delta| kept(delta.old_file()) || kept(delta.new_file())) {
                    touching.push(id);
                }
            }
            Ok(touching)
        })
        .await
    }

    /// Both sides of each of `files` (as `commits` listed them for `commit`): the old at the
    /// commit's first parent, the new at the commit.
    pub async fn commit_file_sides(
        self: &Arc<Self>,
        receipt: &Receipt,
        range: &PinRange,
        commit: String,
        files: Vec<ChangedFile>,
    ) -> Result<Vec<CommitFileSides>> {
        Self::check_range(receipt, range)?;
        self.with_repo(&range.newer.repository, move |this, repo| {
            let commit = repo.find_commit(oid(&commit)?)?;
            let new_tree = commit.tree_id().to_string();
            let old_tree = match commit.parent_count() {
                0 => None,
                _ => Some(commit.parent(0)?.tree_id().to_string()),
            };
            files
                .iter()
                .map(|file| {
                    let old_path = file.old_path.as_deref().unwrap_or(&file.path);
                    // A path git holds but no pin's path could name (`..`, a control character):
                    // listed, its sides not read.
                    let side = |tree: Option<&String>, path: &str, present: bool| -> Result<Option<DiffSide>> {
                        match (tree, present, RepoPath::parse(path)) {
                            (Some(tree), true, Ok(path)) => this.diff_side(repo, tree, &path),
                            _ => Ok(None),
                        }
                    };
                    Ok(CommitFileSides {
                        old: side(old_tree.as_ref(), old_path, file.old_blob.is_some())?,
                        new: side(Some(&new_tree), &file.path, file.new_blob.is_some())?,
                    })
                })
                .collect()
        })
        .await
    }

    /// Who last changed each line of `path` at the pin (`git blame` at the pinned commit), the
    /// commits named, and the file's lines highlighted as its view shows them.
    pub async fn blame(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        commit: &str,
        path: &RepoPath,
    ) -> Result<(Vec<BlameHunk>, Vec<CommitView>, Vec<String>)> {
        if !receipt.covers(at.pin, path) {
            return Err(SourceError::WrongReceipt);
        }
        let (commit, path, tree_id) = (oid(commit)?, path.clone(), at.tree_id.clone());
        self.with_repo(&at.repository, move |this, repo| {
            let root = repo.find_tree(oid(&tree_id)?)?;
            let entry = root.get_path(Path::new(path.as_str())).map_err(|_| SourceError::NotFound)?;
            let blob = repo.find_blob(entry.id()).map_err(|_| SourceError::IsDirectory)?;
            if blob.size() as u64 > this.limits.diff_max_bytes {
                return Err(SourceError::TooLarge);
            }
            if blob.is_binary() {
                return Err(SourceError::Binary);
            }
            limit_rename_search(repo)?;
            let mut options = git2::BlameOptions::new();
            options.newest_commit(commit);
            let blame = repo.blame_file(Path::new(path.as_str()), Some(&mut options))?;
            let mut hunks = Vec::with_capacity(blame.len());
            let mut commits: Vec<CommitView> = Vec::new();
            for hunk in blame.iter() {
                let id = hunk.final_commit_id();
                if !commits.iter().any(|c| c.id == id.to_string()) {
                    commits.push(commit_view(&repo.find_commit(id)?));
                }
                hunks.push(BlameHunk {
                    commit: id.to_string(),
                    first: hunk.final_start_line() as u32,
                    lines: hunk.lines_in_hunk() as u32,
                    original_path: hunk.path().map(|p| p.to_string_lossy().into_owned()).unwrap_or_default(),
                    original_first: hunk.orig_start_line() as u32,
                });
            }
            let lines = this.highlighted(&entry.id().to_string(), path.file_name(), blob.content()).lines.clone();
            Ok((hunks, commits, lines))
        })
        .await
    }
}
