//! Administration: accounts, repositories, pins, grants and API tokens. Each operation is staff's
//! (or the operator's) and writes its rows in the same transaction as its event.

use super::browse::summary;
use super::error::OnDuplicate;
use super::guard::{require, Actor, Permission};
use super::Domain;
use crate::audit::Action;
use crate::audit::Object;
use crate::auth::{self, Password};
use crate::store::grants::{self, NewGrant};
use crate::store::pins::{self, NewPin};
use crate::store::users;
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;

/// What a new API token may do and for how long.
pub struct TokenRequest<'a> {
    pub scopes: &'a [Scope],
    /// Days until it expires, 1 to 366.
    pub days: i64,
    /// A note for staff: what the token is for.
    pub label: &'a str,
}

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

impl Domain {
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
        let progress = std::sync::Arc::new(crate::source::prehighlight::Progress::default());
        let copying = self.source.stage_import_with_progress(&repository.source, std::sync::Arc::clone(&progress));
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
        let installed = match staged {
            Ok(staged) => self.source.install(staged, &repository.name).map_err(|error| error.to_string()),
            Err(error) => {
                tracing::warn!(error = %crate::error_chain(&error), "a repository import failed");
                Err("it must be a git repository this server can read".to_string())
            }
        };
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

    /// Sets a pin's take-away policy: raw downloads refused and copying discouraged, for everyone
    /// but staff. Recorded as `pin.policy`.
    pub async fn set_pin_policy(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        no_download: bool,
        no_copy: bool,
    ) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        self.write(async |tx| {
            if !pins::set_pin_policy(tx.conn(), pin.get(), no_download, no_copy).await? {
                return Err(AppError::NotFound(format!("there is no pin {pin}")));
            }
            let event = actor
                .event(Action::PinPolicy)
                .on(Object::at(pin, None, &RepoPath::root()))
                .with(json!({ "no_download": no_download, "no_copy": no_copy }));
            tx.append(&event).await?;
            Ok(())
        })
        .await
    }

    /// The account named `username`, or "there is no user named …".
    pub(super) async fn user_named(&self, username: &str) -> AppResult<crate::store::users::UserRecord> {
        self.store
            .user_by_name(username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no user named {username}")))
    }

    /// Sets the directories staff may import repositories from (`--import-root`).
    pub fn set_import_roots(&self, roots: Vec<std::path::PathBuf>) {
        let canonical = roots.iter().filter_map(|root| std::fs::canonicalize(root).ok()).collect();
        let _ = self.import_roots.set(canonical);
    }

    /// Where an import may come from. The operator at the command line already has the server's
    /// files, so any path; a person on the web only a local directory inside a configured import
    /// root (symbolic links and `..` resolved first), never a URL (the server would fetch it).
    fn allowed_import_source(&self, actor: &Actor<'_>, from: &str) -> AppResult<()> {
        if matches!(actor, Actor::Operator | Actor::System(_)) {
            return Ok(());
        }
        let roots = self.import_roots.get().map(Vec::as_slice).unwrap_or_default();
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
        let resolved = std::fs::canonicalize(path).map_err(|_| refused())?;
        if roots.iter().any(|root| resolved.starts_with(root)) {
            Ok(())
        } else {
            Err(refused())
        }
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
            // The pin's file index (coverage, the file finder) is built in the background.
            crate::store::files::queue_job(tx.conn(), super::jobs::INDEX_PIN, pin.get(), new.pinned_at).await?;
            crate::store::files::queue_job(tx.conn(), super::jobs::EXTRACT_SYMBOLS, pin.get(), new.pinned_at).await?;
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

    /// Grants a reviewer (or regulator) access to pins for a time window.
    pub async fn grant(
        &self,
        actor: Actor<'_>,
        username: &str,
        pins: &[PinId],
        starts_at_ms: i64,
        ends_at_ms: i64,
    ) -> AppResult<Vec<i64>> {
        require(&actor, Permission::Administer)?;
        if pins.is_empty() {
            return Err(AppError::Invalid("choose at least one pin".into()));
        }
        if ends_at_ms <= starts_at_ms {
            return Err(AppError::Invalid("a grant must end after it starts".into()));
        }
        let user = self.user_named(username).await?;
        if user.role == Role::Staff {
            return Err(AppError::Invalid("staff see every pin; grants are for reviewers and regulators".into()));
        }
        let mut records = Vec::new();
        for pin in pins {
            match self.store.pin(pin.get()).await? {
                None => return Err(AppError::NotFound(format!("there is no pin {pin}"))),
                Some(record) if record.withdrawn_at.is_some() => {
                    return Err(AppError::Invalid(format!("pin {pin} is withdrawn")))
                }
                Some(record) => records.push(record),
            }
        }
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let mut ids = Vec::new();
            for record in &records {
                let new = NewGrant {
                    reviewer_id: user.id,
                    pin_id: record.id,
                    starts_at: starts_at_ms,
                    ends_at: ends_at_ms,
                    granted_by: actor.user_id(),
                    granted_at: now,
                };
                let id = grants::insert_grant(tx.conn(), &new).await?;
                let pin = PinId::from_stored(record.id);
                let event = actor
                    .event(Action::GrantCreate)
                    .on(Object::at(pin, Some(&record.commit_id), &RepoPath::root()))
                    .with(json!({
                        "grant_id": id, "grantee": user.username, "starts_at_ms": starts_at_ms, "ends_at_ms": ends_at_ms
                    }));
                tx.append(&event).await?;
                ids.push(id);
            }
            Ok(ids)
        })
        .await
    }

    /// Moves a grant's end (later or earlier); the grantee's access follows on their next request.
    pub async fn extend_grant(&self, actor: Actor<'_>, grant_id: i64, ends_at_ms: i64) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        self.write(async |tx| {
            let starts = grants::grant_start(tx.conn(), grant_id).await?;
            if starts.is_some_and(|start| ends_at_ms <= start) {
                return Err(AppError::Invalid("a grant must end after it starts".into()));
            }
            let Some((pin_id, old_end)) = grants::extend_grant(tx.conn(), grant_id, ends_at_ms).await? else {
                return Err(AppError::NotFound("there is no active grant with that id".into()));
            };
            let event = actor
                .event(Action::GrantExtend)
                .on(Object::at(PinId::from_stored(pin_id), None, &RepoPath::root()))
                .with(json!({ "grant_id": grant_id, "from_ends_at_ms": old_end, "ends_at_ms": ends_at_ms }));
            tx.append(&event).await?;
            Ok(())
        })
        .await
    }

    /// Revokes a grant, with a reason for the log; the grantee loses access on their next request.
    pub async fn revoke_grant(&self, actor: Actor<'_>, grant_id: i64, reason: Option<&str>) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > 500) {
            return Err(AppError::Invalid("a reason is at most 500 characters".into()));
        }
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let Some(pin_id) = grants::revoke_grant(tx.conn(), grant_id, now, actor.user_id()).await? else {
                return Err(AppError::NotFound("there is no active grant with that id".into()));
            };
            let pin = PinId::from_stored(pin_id);
            let event = actor
                .event(Action::GrantRevoke)
                .on(Object::at(pin, None, &RepoPath::root()))
                .with(json!({ "grant_id": grant_id, "reason": reason }));
            tx.append(&event).await?;
            Ok(())
        })
        .await
    }

    /// Creates an API token for a user with the given scopes (each one the account's role can
    /// hold), living `days` days (1 to 366); the token is returned once and stored as a digest.
    pub async fn create_token(&self, actor: Actor<'_>, username: &str, request: TokenRequest<'_>) -> AppResult<String> {
        require(&actor, Permission::Administer)?;
        let user = self.user_named(username).await?;
        if user.disabled_at.is_some() {
            return Err(AppError::Conflict(format!("{username} is disabled")));
        }
        let mut scopes = request.scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(AppError::Invalid("name at least one scope: log:read, review, build:write or export".into()));
        }
        if let Some(scope) = scopes.iter().find(|scope| !scope.fits(user.role)) {
            return Err(AppError::Invalid(format!(
                "a {} account cannot hold the {} scope",
                user.role.as_str(),
                scope.as_str()
            )));
        }
        if !(1..=366).contains(&request.days) {
            return Err(AppError::Invalid("a token lives 1 to 366 days".into()));
        }
        let label = request.label.trim();
        if label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(AppError::Invalid("a token's label is at most 100 characters, on one line".into()));
        }
        let (token, digest) = auth::new_api_token();
        let now = self.clock.now_ms();
        let expires_at = now + request.days * 86_400_000;
        let joined = Scope::join(&scopes);
        self.write(async |tx| {
            let new = users::NewToken {
                user_id: user.id,
                token_sha256: &digest,
                scopes: &joined,
                label,
                created_at: now,
                expires_at,
            };
            let id = users::insert_token(tx.conn(), new).await?;
            let details = json!({
                "username": user.username, "token_id": id, "scopes": joined, "label": label, "expires_at_ms": expires_at,
            });
            tx.append(&actor.event(Action::TokenCreate).with(details)).await?;
            Ok(())
        })
        .await?;
        Ok(token)
    }

    /// Every API token (never the token itself), newest first.
    pub async fn list_tokens(&self, actor: Actor<'_>) -> AppResult<Vec<TokenSummary>> {
        require(&actor, Permission::Administer)?;
        let now = self.clock.now_ms();
        Ok(self
            .store
            .list_tokens()
            .await?
            .into_iter()
            .map(|t| TokenSummary {
                id: t.id,
                username: t.username,
                scopes: Scope::split(&t.scopes),
                label: t.label,
                created_at_ms: t.created_at,
                expires_at_ms: t.expires_at,
                revoked_at_ms: t.revoked_at,
                live: t.revoked_at.is_none() && now < t.expires_at,
            })
            .collect())
    }

    /// Revokes an API token at once, on every instance (each request looks the token up).
    pub async fn revoke_token(&self, actor: Actor<'_>, id: i64) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let Some(username) = users::revoke_token(tx.conn(), id, now).await? else {
                return Err(AppError::NotFound("there is no live token with that id".into()));
            };
            tx.append(&actor.event(Action::TokenRevoke).with(json!({ "token_id": id, "username": username }))).await?;
            Ok(())
        })
        .await
    }

    /// Disables an account: it signs in nowhere, its sessions end and its tokens are revoked, in
    /// one transaction with the event. The account and everything it did stay on record.
    pub async fn disable_user(&self, actor: Actor<'_>, username: &str, reason: &str) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        let user = self.user_named(username).await?;
        if actor.user_id() == Some(user.id) {
            return Err(AppError::Invalid("you cannot disable your own account".into()));
        }
        let now = self.clock.now_ms();
        self.write(async |tx| {
            if !users::disable_user(tx.conn(), user.id, now).await? {
                return Err(AppError::Conflict(format!("{username} is already disabled")));
            }
            let sessions = users::end_sessions_of(tx.conn(), user.id, now).await?;
            let tokens = users::revoke_tokens_of(tx.conn(), user.id, now).await?;
            let details = json!({
                "username": user.username, "reason": reason.trim(), "sessions_ended": sessions, "tokens_revoked": tokens,
            });
            tx.append(&actor.event(Action::UserDisable).with(details)).await?;
            Ok(())
        })
        .await
    }

    /// Ends every session of an account (staff, for anyone; the account stays usable).
    pub async fn end_sessions_of(&self, actor: Actor<'_>, username: &str) -> AppResult<u64> {
        require(&actor, Permission::Administer)?;
        let user = self.user_named(username).await?;
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let ended = users::end_sessions_of(tx.conn(), user.id, now).await?;
            let details = json!({ "username": user.username, "sessions_ended": ended });
            tx.append(&actor.event(Action::SessionEndAll).with(details)).await?;
            Ok(ended)
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
        let mut highlighting = Vec::new();
        for pin in &pins {
            highlighting.extend(self.job_status(super::jobs::PREHIGHLIGHT_PIN, PinId::from_stored(pin.id)).await?);
        }
        Ok(AdminOverview {
            highlighting,
            users: users
                .into_iter()
                .map(|u| UserSummary {
                    id: u.id,
                    role: u.role,
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
            grants: grants
                .into_iter()
                .map(|g| GrantSummary {
                    id: g.id,
                    reviewer: g.reviewer,
                    pin: PinId::from_stored(g.pin_id),
                    pin_label: g.pin_label,
                    starts_at_ms: g.starts_at,
                    ends_at_ms: g.ends_at,
                    granted_by: g.granted_by,
                    revoked_at_ms: g.revoked_at,
                })
                .collect(),
        })
    }
}
