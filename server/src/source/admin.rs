//! The repositories themselves: copying one in (staged, then installed once its row is written),
//! fetching new commits from where it came from, and resolving what to pin.

use super::{Result, Source, SourceError, StagedRepository};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why a directory may not be copied from the console: it is outside every import root, or git
/// would read objects from outside them.
#[derive(Debug, PartialEq, Eq)]
pub enum Unconfined {
    /// It does not exist, or resolves (symbolic links and `..`) outside every import root.
    OutsideRoots,
    /// A `.git` file (`gitdir: …`) or a worktree's `commondir`: git would go where it points.
    Redirected,
    /// `.git` or `objects` resolves outside every import root.
    ObjectsOutside,
    /// `objects/info/alternates` (or `http-alternates`): git would read objects from elsewhere.
    Alternates,
}

impl std::fmt::Display for Unconfined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Unconfined::OutsideRoots => "it is not a directory under an import root",
            Unconfined::Redirected => "it redirects git elsewhere (a .git file or a worktree's commondir)",
            Unconfined::ObjectsOutside => "its .git or objects directory leads outside the import roots",
            Unconfined::Alternates => "it borrows objects from elsewhere (objects/info/alternates)",
        })
    }
}

/// The directory `path` resolves to when git, copying it, would read only what lies under one
/// of `roots`: the directory itself, its `.git` directory (no `.git` file) and its objects all
/// resolve (symbolic links and `..` followed) under a root, and it has no alternates and no
/// `commondir`. The copy is made from the resolved directory, so a link swapped afterwards
/// changes nothing.
pub fn confined_repository(path: &Path, roots: &[PathBuf]) -> std::result::Result<PathBuf, Unconfined> {
    let roots: Vec<PathBuf> =
        roots.iter().map(|root| std::fs::canonicalize(root).unwrap_or_else(|_| root.clone())).collect();
    let under = |path: &Path| std::fs::canonicalize(path).is_ok_and(|c| roots.iter().any(|root| c.starts_with(root)));
    let resolved = std::fs::canonicalize(path).map_err(|_| Unconfined::OutsideRoots)?;
    if !resolved.is_dir() || !roots.iter().any(|root| resolved.starts_with(root)) {
        return Err(Unconfined::OutsideRoots);
    }
    let dot_git = resolved.join(".git");
    let git_dir = match std::fs::symlink_metadata(&dot_git) {
        Ok(meta) if meta.is_file() => return Err(Unconfined::Redirected),
        Ok(_) => dot_git,
        Err(_) => resolved.clone(),
    };
    if !under(&git_dir) {
        return Err(Unconfined::ObjectsOutside);
    }
    if std::fs::symlink_metadata(git_dir.join("commondir")).is_ok() {
        return Err(Unconfined::Redirected);
    }
    let objects = git_dir.join("objects");
    if objects.exists() && !under(&objects) {
        return Err(Unconfined::ObjectsOutside);
    }
    let info = objects.join("info");
    for borrowed in ["alternates", "http-alternates"] {
        if std::fs::symlink_metadata(info.join(borrowed)).is_ok() {
            return Err(Unconfined::Alternates);
        }
    }
    Ok(resolved)
}

/// A ref that a fetch moved: its name, where it pointed before (none if new), and where now.
pub type MovedRef = (String, Option<String>, String);

impl Source {
    /// Copies a repository (bare) into a staging directory beside the imported ones; `install`
    /// moves it into place once its row is written. A staged copy that is not installed is removed.
    pub async fn stage_import(&self, from: &str) -> Result<StagedRepository> {
        self.stage_import_with_progress(from, Arc::new(super::prehighlight::Progress::default())).await
    }

    /// `stage_import`, reporting objects received and in all as it goes; setting `cancel` stops it.
    pub async fn stage_import_with_progress(
        &self,
        from: &str,
        progress: Arc<super::prehighlight::Progress>,
    ) -> Result<StagedRepository> {
        use std::sync::atomic::Ordering;
        let staging = self.repos_dir.join(format!(".staging-{}", hex::encode(rand::random::<[u8; 8]>())));
        let from = from.to_string();
        let repos_dir = self.repos_dir.clone();
        tokio::task::spawn_blocking(move || {
            std::fs::create_dir_all(&repos_dir)?;
            let staged = StagedRepository::new(staging);
            let mut callbacks = git2::RemoteCallbacks::new();
            callbacks.transfer_progress(|stats| {
                progress.done.store(stats.received_objects() as u64, Ordering::Relaxed);
                progress.total.store(stats.total_objects() as u64, Ordering::Relaxed);
                !progress.cancel.load(Ordering::Relaxed)
            });
            let mut fetch = git2::FetchOptions::new();
            fetch.remote_callbacks(callbacks);
            git2::build::RepoBuilder::new()
                .bare(true)
                .fetch_options(fetch)
                .clone(&from, staged.path())
                .map_err(SourceError::Import)?;
            crate::private_files::make_private(staged.path())?;
            Ok(staged)
        })
        .await?
    }

    /// Moves a staged copy into place as repository `name`, replacing a directory left by an
    /// import that crashed before its row was written (the caller holds that row's insert).
    pub fn install(&self, staged: StagedRepository, name: &str) -> Result<()> {
        staged.install(&self.repos_dir.join(format!("{name}.git")))
    }

    /// Removes an installed repository again (its row did not commit).
    pub fn uninstall(&self, name: &str) {
        let _ = std::fs::remove_dir_all(self.repos_dir.join(format!("{name}.git")));
    }

    /// The commit, its root tree and its committer time (ms) a revision expression names.
    pub async fn resolve_commit(self: &Arc<Self>, repository: &str, spec: &str) -> Result<(String, String, i64)> {
        let spec = spec.trim().to_string();
        self.with_repo(repository, move |_, repo| {
            let commit = repo
                .revparse_single(&spec)
                .and_then(|object| object.peel_to_commit())
                .map_err(|_| SourceError::NoSuchCommit(spec.clone()))?;
            Ok((commit.id().to_string(), commit.tree_id().to_string(), commit.time().seconds() * 1000))
        })
        .await
    }

    /// Fetches branches and tags from `from` (where the repository was imported from) into it.
    /// Objects are only ever added, so every pinned commit keeps its objects; returns the refs
    /// that moved.
    pub async fn fetch(self: &Arc<Self>, repository: &str, from: &str) -> Result<Vec<MovedRef>> {
        let from = from.to_string();
        self.with_repo(repository, move |_, repo| {
            let private = |repo: &git2::Repository| crate::private_files::make_private(repo.path());
            let refs = |repo: &git2::Repository| -> Result<std::collections::BTreeMap<String, String>> {
                let mut refs = std::collections::BTreeMap::new();
                for reference in repo.references()? {
                    let reference = reference?;
                    if let (Some(name), Some(target)) = (reference.name(), reference.target()) {
                        refs.insert(name.to_string(), target.to_string());
                    }
                }
                Ok(refs)
            };
            let before = refs(repo)?;
            let mut remote = repo.remote_anonymous(&from).map_err(SourceError::Import)?;
            remote
                .fetch(&["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], None, None)
                .map_err(SourceError::Import)?;
            private(repo)?;
            let after = refs(repo)?;
            Ok(after
                .into_iter()
                .filter(|(name, id)| before.get(name) != Some(id))
                .map(|(name, id)| {
                    let old = before.get(&name).cloned();
                    (name, old, id)
                })
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn only_a_repository_whose_objects_are_all_under_a_root_may_be_copied() {
        let dir = tempfile::tempdir().unwrap();
        let (root, outside) = (dir.path().join("root"), dir.path().join("outside"));
        std::fs::create_dir_all(&root).unwrap();
        git2::Repository::init_bare(outside.join("elsewhere.git")).unwrap();
        let roots = [root.clone()];
        let check = |name: &str| confined_repository(&root.join(name), &roots);

        git2::Repository::init_bare(root.join("plain.git")).unwrap();
        assert_eq!(check("plain.git"), Ok(std::fs::canonicalize(root.join("plain.git")).unwrap()));
        git2::Repository::init(root.join("work")).unwrap();
        assert!(check("work").is_ok(), "a working tree with its own .git directory");
        symlink(root.join("plain.git"), root.join("link-in")).unwrap();
        assert!(check("link-in").is_ok(), "a link that stays inside copies the directory it names");

        symlink(outside.join("elsewhere.git"), root.join("link-out")).unwrap();
        assert_eq!(check("link-out"), Err(Unconfined::OutsideRoots));
        assert_eq!(check("missing"), Err(Unconfined::OutsideRoots));
        assert_eq!(check("../outside/elsewhere.git"), Err(Unconfined::OutsideRoots));

        std::fs::create_dir_all(root.join("gitfile")).unwrap();
        std::fs::write(root.join("gitfile/.git"), format!("gitdir: {}\n", outside.join("elsewhere.git").display()))
            .unwrap();
        assert_eq!(check("gitfile"), Err(Unconfined::Redirected));

        std::fs::create_dir_all(root.join("linked-git")).unwrap();
        symlink(outside.join("elsewhere.git"), root.join("linked-git/.git")).unwrap();
        assert_eq!(check("linked-git"), Err(Unconfined::ObjectsOutside));

        git2::Repository::init_bare(root.join("worktree.git")).unwrap();
        std::fs::write(root.join("worktree.git/commondir"), "../outside/elsewhere.git\n").unwrap();
        assert_eq!(check("worktree.git"), Err(Unconfined::Redirected));

        git2::Repository::init_bare(root.join("linked-objects.git")).unwrap();
        std::fs::remove_dir_all(root.join("linked-objects.git/objects")).unwrap();
        symlink(outside.join("elsewhere.git/objects"), root.join("linked-objects.git/objects")).unwrap();
        assert_eq!(check("linked-objects.git"), Err(Unconfined::ObjectsOutside));

        git2::Repository::init_bare(root.join("borrowing.git")).unwrap();
        let alternates = root.join("borrowing.git/objects/info/alternates");
        std::fs::create_dir_all(alternates.parent().unwrap()).unwrap();
        std::fs::write(&alternates, format!("{}\n", outside.join("elsewhere.git/objects").display())).unwrap();
        assert_eq!(check("borrowing.git"), Err(Unconfined::Alternates));
    }
}
