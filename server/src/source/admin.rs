//! The repositories themselves: copying one in (staged, then installed once its row is written),
//! fetching new commits from where it came from, and resolving what to pin.

use super::{Result, Source, SourceError, StagedRepository};
use std::sync::Arc;

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
