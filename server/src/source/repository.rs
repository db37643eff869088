//! Repository handles and directories: a pool of open handles per repository, and staged copies
//! that become a repository only once their row is written.

use super::{Result, SourceError};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Open repositories, kept for reuse: `git2::Repository` is `Send` but not `Sync`, so each handle is
/// used by one blocking task at a time and returned afterwards.
pub(super) struct RepositoryPool {
    repos_dir: PathBuf,
    idle: Mutex<HashMap<String, Vec<git2::Repository>>>,
}

impl RepositoryPool {
    const MAX_IDLE_PER_REPOSITORY: usize = 8;

    pub(super) fn new(repos_dir: PathBuf) -> RepositoryPool {
        RepositoryPool { repos_dir, idle: Mutex::new(HashMap::new()) }
    }

    /// Runs `work` with a handle of repository `name` (on the calling, blocking, thread).
    pub(super) fn with<T>(&self, name: &str, work: impl FnOnce(&git2::Repository) -> Result<T>) -> Result<T> {
        let idle = self.idle.lock().expect("pool lock").get_mut(name).and_then(Vec::pop);
        let repo = match idle {
            Some(repo) => repo,
            None => git2::Repository::open_bare(self.repos_dir.join(format!("{name}.git")))?,
        };
        let result = work(&repo);
        let mut idle = self.idle.lock().expect("pool lock");
        let list = idle.entry(name.to_string()).or_default();
        if list.len() < Self::MAX_IDLE_PER_REPOSITORY {
            list.push(repo);
        }
        result
    }
}

/// A repository copied into a staging directory; removed on drop unless installed.
pub struct StagedRepository {
    path: Option<PathBuf>,
}

impl StagedRepository {
    pub(super) fn new(path: PathBuf) -> StagedRepository {
        StagedRepository { path: Some(path) }
    }

    pub(super) fn path(&self) -> &Path {
        self.path.as_deref().expect("a staged repository has its path until installed")
    }

    /// Renames the staged copy to `target`, replacing a stale directory there.
    pub(super) fn install(mut self, target: &Path) -> Result<()> {
        let path = self.path.take().expect("installed once");
        if target.exists() {
            std::fs::remove_dir_all(target)?;
        }
        std::fs::rename(&path, target).map_err(|error| {
            let _ = std::fs::remove_dir_all(&path);
            SourceError::Io(error)
        })
    }
}

impl Drop for StagedRepository {
    fn drop(&mut self) {
        if let Some(path) = self.path.take() {
            let _ = std::fs::remove_dir_all(path);
        }
    }
}
