//! Administration: accounts, repositories, pins, grants and API tokens. Each operation is staff's
//! (or the operator's) and writes its rows in the same transaction as its event.

use super::browse::summary;
use super::error::OnDuplicate;
use super::guard::{require, Actor, Permission};
use super::Admin;
use crate::audit::Action;
use crate::audit::Object;
use crate::auth::{self, Password};
use crate::store::pins::{self, NewPin, PolicyChange};
use crate::store::users;
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;

/// A repository name: 1–64 characters of `A-Z a-z 0-9 . _ -`, not starting with a dot.
pub fn parse_repository_name(text: &str) -> AppResult<String> {
    let ok = (1..=64).contains(&text.len())
        && !text.starts_with('.')
        && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(text.to_string())
    } else {
        Err(AppError::Invalid(
            "a repository name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'".into(),
        ))
    }
}

impl Admin<'_> {
    /// Creates an account. Without a password, one is generated and returned (shown once).
    pub async fn create_user(
        &self,
        actor: Actor<'_>,
        username: &str,
        role: Role,
        password: Option<Password>,
    ) -> AppResult<(i64, Option<Password>)> {
        require(&actor, Permission::Administer)?;
        let username = auth::parse_username(username).map_err(|m| AppError::Invalid(m.into()))?;
        let generated = password.is_none().then(Password::generate);
        let chosen = password.or_else(|| generated.clone()).expect("a given or generated password");
        let hash = auth::hash_password(chosen, &username).await?;
        let now = self.clock.now_ms();
        let id = self
            .write(async |tx| {
                let id = users::insert_user(tx.conn(), &username, role, &hash, now)
                    .await
                    .on_duplicate(|| format!("the username {username} is taken"))?;
                let details = json!({ "username": username, "role": role.as_str(), "user_id": id });
                tx.append(&actor.event(Action::UserCreate).with(details)).await?;
                Ok(id)
            })
            .await?;
        Ok((id, generated))
    }

    /// Copies a local repository (bare) into the data directory and registers it. The copy is made
    /// aside and moved into place inside the transaction that writes its row, so a concurrent or
    /// repeated import of the same name is one repository and one 409.
    pub async fn import_repository(&self, actor: Actor<'_>, name: &str, from: &str) -> AppResult<i64> {
        require(&actor, Permission::Administer)?;
        let name = parse_repository_name(name)?;
        self.allowed_import_source(&actor, from)?;
        if self.store.repository_by_name(&name).await?.is_some() {
            return Err(AppError::Conflict(format!("a repository named {name} exists")));
        }
        let staged = self.source.stage_import(from).await.map_err(|error| {
            tracing::warn!(error = %crate::error_chain(&error), "repository import failed");
            AppError::Invalid(format!(
                "could not import from {from}: it must be a git repository this server can read (a local path; network URLs need network access)"
            ))
        })?;
        let now = self.clock.now_ms();
        let mut installed = false;
        let result = self
            .write(async |tx| {
                let id = pins::insert_repository(tx.conn(), &name, from, actor.user_id(), now)
                    .await
                    .on_duplicate(|| format!("a repository named {name} exists"))?;
                let details = json!({ "repository": name, "source": from, "repository_id": id });
                tx.append(&actor.event(Action::RepoImport).with(details)).await?;
                self.source.install(staged, &name)?;
                installed = true;
                Ok(id)
            })
            .await;
        if result.is_err() && installed {
            self.source.uninstall(&name);
        }
        result
    }

    /// Imports a repository in the background (the console): the row and its `repo.import` event
    /// are written now, marked importing, with a `repo.import` job that copies it; the staff
    /// console shows the job's progress. A failed copy removes the row again
    /// (`repo.import_failed`), so the name can be used again.
    pub async fn request_import(&self, actor: Actor<'_>, name: &str, from: &str) -> AppResult<i64> {
        require(&actor, Permission::Administer)?;
        let name = parse_repository_name(name)?;
        self.allowed_import_source(&actor, from)?;
        let from = from.trim();
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let id = pins::insert_repository(tx.conn(), &name, from, actor.user_id(), now)
                .await
                .on_duplicate(|| format!("a repository named {name} exists"))?;
            pins::set_importing(tx.conn(), id, true).await?;
            crate::store::files::queue_job(tx.conn(), super::jobs::IMPORT_REPOSITORY, id, now).await?;
            let details = json!({ "repository": name, "source": from, "repository_id": id, "background": true });
            tx.append(&actor.event(Action::RepoImport).with(details)).await?;
            Ok(id)
        })
        .await
    }

    /// The import job: copies the repository into a staging directory (reporting objects as they
    /// arrive), installs it, and marks it in place; on failure removes the row and says why.
    pub(super) async fn run_import_job(&self, job: &crate::store::files::JobRow) -> AppResult<()> {
        let Some(repository) = self.store.repository_by_id(job.subject).await? else {
            return Err(AppError::NotFound("the repository to import is gone".into()));
        };
        if !repository.importing {
            return Ok(()); // Done by an instance that stopped before it could say so.
        }
        let actor = Actor::System("import");
        let installed = match self.checked_source(&repository) {
            Ok(from) => self.copy_in(job, &repository.name, &from).await?,
            Err(reason) => Err(reason),
        };
        self.finish_import(actor, &repository, installed).await
    }

    /// The import job's copy: staged (reporting progress, stopping when staff cancel), then
    /// installed; `Err` says why not, for the record.
    async fn copy_in(
        &self,
        job: &crate::store::files::JobRow,
        name: &str,
        from: &str,
    ) -> AppResult<Result<(), String>> {
        let progress = std::sync::Arc::new(crate::source::prehighlight::Progress::default());
        let copying = self.source.stage_import_with_progress(from, std::sync::Arc::clone(&progress));
        tokio::pin!(copying);
        let staged = loop {
            tokio::select! {
                staged = &mut copying => break staged,
                () = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                    use std::sync::atomic::Ordering;
                    let (done, total) = (progress.done.load(Ordering::Relaxed), progress.total.load(Ordering::Relaxed));
                    // The heartbeat: false when staff cancelled the job.
                    if !self.store.job_progress(job.id, done, total, self.clock.now_ms()).await? {
                        progress.cancel.store(true, Ordering::Relaxed);
                    }
                }
            }
        };
        Ok(match staged {
            Ok(staged) => self.source.install(staged, name).map_err(|error| error.to_string()),
            Err(error) => {
                tracing::warn!(error = %crate::error_chain(&error), "a repository import failed");
                Err("it must be a git repository this server can read".to_string())
            }
        })
    }

    /// Marks an imported repository in place, or removes its row and records why it failed.
    async fn finish_import(
        &self,
        actor: Actor<'_>,
        repository: &crate::store::pins::RepositoryRecord,
        installed: Result<(), String>,
    ) -> AppResult<()> {
        match installed {
            Ok(()) => {
                let result = self
                    .write(async |tx| {
                        pins::set_importing(tx.conn(), repository.id, false).await?;
                        let details = json!({ "repository": repository.name, "repository_id": repository.id });
                        tx.append(&actor.event(Action::RepoImportComplete).with(details)).await?;
                        Ok(())
                    })
                    .await;
                if result.is_err() {
                    self.source.uninstall(&repository.name);
                }
                result
            }
            Err(reason) => {
                self.write(async |tx| {
                    pins::delete_importing_repository(tx.conn(), repository.id).await?;
                    let details =
                        json!({ "repository": repository.name, "source": repository.source, "reason": reason });
                    tx.append(
                        &actor.event(Action::RepoImportFailed).outcome(crate::audit::Outcome::Failed).with(details),
                    )
                    .await?;
                    Ok(())
                })
                .await?;
                Err(AppError::Invalid(format!("could not import {}: {reason}", repository.name)))
            }
        }
    }

    /// Changes a pin's policies: the take-away policy (raw downloads refused and copying
    /// discouraged) and the history policy (how much of the history behind it is shown), for
    /// everyone but staff. Recorded as `pin.policy` with the policies the pin then has.
    pub async fn set_pin_policy(&self, actor: Actor<'_>, pin: PinId, change: PolicyChange) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        self.write(async |tx| {
            let Some((no_download, no_copy, history)) = pins::set_pin_policy(tx.conn(), pin.get(), change).await?
            else {
                return Err(AppError::NotFound(format!("there is no pin {pin}")));
            };
            let event = actor
                .event(Action::PinPolicy)
                .on(Object::at(pin, None, &RepoPath::root()))
                .with(json!({ "no_download": no_download, "no_copy": no_copy, "history": history.as_str() }));
            tx.append(&event).await?;
            Ok(())
        })
        .await
    }

    /// Where an import may come from. The operator at the command line already has the server's
    /// files, so any path; a person on the web only a local directory inside a configured import
    /// root (symbolic links and `..` resolved first), never a URL (the server would fetch it).
    fn allowed_import_source(&self, actor: &Actor<'_>, from: &str) -> AppResult<()> {
        if matches!(actor, Actor::Operator | Actor::System(_)) {
            return Ok(());
        }
        let roots = self.import_roots.as_slice();
        if roots.is_empty() {
            return Err(AppError::Forbidden(
                "imports from the web need an import root (serve --import-root DIR); or use `server repo import`"
                    .into(),
            ));
        }
        let refused = || {
            AppError::Invalid(format!(
                "import from a directory under {}",
                roots.iter().map(|r| r.display().to_string()).collect::<Vec<_>>().join(" or ")
            ))
        };
        let path = std::path::Path::new(from.trim());
        if !path.is_absolute() || from.contains("://") {
            return Err(refused());
        }
        match crate::source::confined_repository(path, roots) {
            Ok(_) => Ok(()),
            Err(crate::source::Unconfined::OutsideRoots) => Err(refused()),
            Err(other) => Err(AppError::Invalid(format!("could not import from {}: {other}", from.trim()))),
        }
    }

    /// Where a repository is copied or fetched from. The operator's imports: their source as
    /// given. One imported from the console: its source checked against the import roots again
    /// now (a link may have been swapped, an alternates file added, a root removed since it was
    /// asked for), and the directory it resolves to, so that git reads nothing outside them.
    pub(super) fn checked_source(&self, repository: &crate::store::pins::RepositoryRecord) -> Result<String, String> {
        if repository.imported_by.is_none() {
            return Ok(repository.source.clone());
        }
        crate::source::confined_repository(std::path::Path::new(&repository.source), &self.import_roots)
            .map(|resolved| resolved.to_string_lossy().into_owned())
            .map_err(|reason| reason.to_string())
    }

    /// Pins a commit (any revision expression that names one) with a label.
    /// Withdraws a pin: from now on only staff read it (reviewers and regulators are refused, as
    /// for a pin they have no grant to); its records stay. Recorded as `pin.withdraw`.
    pub async fn withdraw_pin(&self, actor: Actor<'_>, pin: PinId, reason: Option<&str>) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        let record =
            self.store.pin(pin.get()).await?.ok_or_else(|| AppError::NotFound(format!("there is no pin {pin}")))?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(|r| r.chars().take(500).collect::<String>());
        let now = self.clock.now_ms();
        self.write(async |tx| {
            if !pins::withdraw_pin(tx.conn(), pin.get(), now).await? {
                return Err(AppError::Conflict(format!("pin {pin} is already withdrawn")));
            }
            let event = actor
                .event(Action::PinWithdraw)
                .on(Object::at(pin, Some(&record.commit_id), &RepoPath::root()))
                .with(json!({ "reason": reason }));
            tx.append(&event).await?;
            Ok(())
        })
        .await
    }

    pub async fn create_pin(&self, actor: Actor<'_>, repository: &str, commit: &str, label: &str) -> AppResult<PinId> {
        require(&actor, Permission::Administer)?;
        let label = label.trim();
        if label.is_empty() || label.chars().count() > 200 {
            return Err(AppError::Invalid("a label is 1 to 200 characters".into()));
        }
        let repo = self
            .store
            .repository_by_name(repository)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no repository named {repository}")))?;
        if repo.importing {
            return Err(AppError::Conflict(format!("{repository} is still being imported; pin it when it is done")));
        }
        let (commit_id, tree_id, committed_at) = self
            .source
            .resolve_commit(&repo.name, commit)
            .await
            .map_err(|_| AppError::Invalid(format!("{} does not name a commit in {repository}", commit.trim())))?;
        let new = NewPin {
            repository_id: repo.id,
            commit_id: &commit_id,
            tree_id: &tree_id,
            label,
            pinned_by: actor.user_id(),
            pinned_at: self.clock.now_ms(),
            committed_at,
        };
        self.write(async |tx| {
            let pin = PinId::from_stored(pins::insert_pin(tx.conn(), &new).await?);
            // The pin's file index (coverage, the file finder, search), the compare with the
            // release before, and its highlighting with its definitions are made in the background.
            crate::store::files::queue_job(tx.conn(), super::jobs::INDEX_PIN, pin.get(), new.pinned_at).await?;
            crate::store::files::queue_job(tx.conn(), super::jobs::COMPARE_PREVIOUS, pin.get(), new.pinned_at).await?;
            crate::store::files::queue_job(tx.conn(), super::jobs::PREHIGHLIGHT_PIN, pin.get(), new.pinned_at).await?;
            let event = actor
                .event(Action::PinCreate)
                .on(Object::at(pin, Some(&commit_id), &RepoPath::root()))
                .with(json!({ "repository": repo.name, "tree": tree_id, "label": label }));
            tx.append(&event).await?;
            Ok(pin)
        })
        .await
    }

    /// Users, repositories, pins and grants, for the staff console (and the operator).
    pub async fn admin_overview(&self, actor: Actor<'_>) -> AppResult<AdminOverview> {
        require(&actor, Permission::Administer)?;
        let users = self.store.list_users().await?;
        let repositories = self.store.list_repositories().await?;
        let mut imports = Vec::new();
        for repository in repositories.iter().filter(|r| r.importing) {
            imports.push((repository.id, self.store.job_for(super::jobs::IMPORT_REPOSITORY, repository.id).await?));
        }
        let pins = self.store.list_pins().await?;
        let grants = self.store.list_grants().await?;
        let sessions = self.store.live_session_counts(self.clock.now_ms()).await?;
        let tokens = self.access().list_tokens(actor).await?;
        let mut highlighting = Vec::new();
        for pin in &pins {
            highlighting
                .extend(self.jobs().job_status(super::jobs::PREHIGHLIGHT_PIN, PinId::from_stored(pin.id)).await?);
        }
        Ok(AdminOverview {
            highlighting,
            users: users
                .into_iter()
                .map(|u| UserSummary {
                    id: u.id,
                    role: u.role,
                    live_sessions: sessions.get(&u.id).copied().unwrap_or(0),
                    live_tokens: tokens.iter().filter(|t| t.live && t.username == u.username).count() as u64,
                    second_factor: u.totp_secret.is_some(),
                    username: u.username,
                    created_at_ms: u.created_at,
                    disabled_at_ms: u.disabled_at,
                })
                .collect(),
            repositories: repositories
                .into_iter()
                .map(|r| {
                    let importing = r.importing.then(|| {
                        let job = imports.iter().find(|(id, _)| *id == r.id).and_then(|(_, job)| job.as_ref());
                        job.map_or((0, 0), |job| (job.done_units.max(0) as u64, job.total_units.max(0) as u64))
                    });
                    RepositorySummary {
                        id: r.id,
                        name: r.name,
                        source: r.source,
                        imported_at_ms: r.imported_at,
                        importing,
                    }
                })
                .collect(),
            pins: pins.iter().map(|p| summary(p, None, super::guard::rules::every_capability())).collect(),
            grants: grants.into_iter().map(super::access::grant_summary).collect(),
            tokens,
        })
    }
}
