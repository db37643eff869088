//! The domain: every operation a person or an operator can perform, each checking the actor's role
//! and grants itself (deny by default) and recording its audit event in the same transaction as
//! its change. It implements the UI's `Backend`.

use crate::audit::checkpoint::{self, Checkpoint};
use crate::audit::note::NoteSigner;
use crate::audit::{AuditError, AuditLog, Event, Outcome};
use crate::auth::{self, Password};
use crate::source::{PinLocation, Source, SourceError};
use crate::store::{PinRecord, Store, StoreError, UserRecord};
use app::backend::Backend;
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::sync::Arc;

#[derive(Clone)]
pub struct Domain {
    pub store: Store,
    pub audit: AuditLog,
    pub source: Arc<Source>,
    /// The log's checkpoint signing key.
    pub signer: Arc<NoteSigner>,
}

/// Who performs an administrative operation: a signed-in person, or the operator at the CLI.
pub enum Actor<'a> {
    Web(&'a Caller),
    Operator,
}

impl Actor<'_> {
    fn event(&self, action: &'static str) -> Event {
        match self {
            Actor::Web(caller) => Event::by(caller, action, Outcome::Ok),
            Actor::Operator => Event::by_operator(action),
        }
    }

    fn user_id(&self) -> Option<i64> {
        match self {
            Actor::Web(caller) => caller.identity.as_ref().map(|i| i.user_id),
            Actor::Operator => None,
        }
    }

    fn require_staff(&self) -> AppResult<()> {
        match self {
            Actor::Operator => Ok(()),
            Actor::Web(caller) => match &caller.identity {
                Some(identity) if identity.role == Role::Staff => Ok(()),
                Some(_) => Err(AppError::Forbidden("only staff may do this".into())),
                None => Err(AppError::Unauthorized),
            },
        }
    }
}

/// Logs an internal failure with its cause and returns the short error the user sees.
pub fn internal(error: impl std::error::Error) -> AppError {
    let reference = hex::encode(rand::random::<[u8; 4]>());
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(reference, error = %message, "internal error");
    AppError::Internal(reference)
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        internal(error)
    }
}

fn audit_unavailable(error: AuditError) -> AppError {
    let reference = hex::encode(rand::random::<[u8; 4]>());
    tracing::error!(reference, error = %error, cause = ?std::error::Error::source(&error).map(|c| c.to_string()), "audit log unavailable");
    AppError::Unavailable(format!(
        "the audit log cannot record this right now, so nothing was shown or changed (reference {reference})"
    ))
}

/// Errors from proofs and checkpoints: bad ranges are the caller's, the rest are ours.
fn log_error(error: AuditError) -> AppError {
    match error {
        AuditError::Proof(e) => AppError::Invalid(format!("{e}")),
        other => audit_unavailable(other),
    }
}

fn source_error(error: SourceError) -> AppError {
    match error {
        SourceError::NotFound => AppError::NotFound("there is no such path at this pin".into()),
        SourceError::IsDirectory => AppError::NotFound("this path is a directory; open it as a tree".into()),
        SourceError::IsFile => AppError::NotFound("this path is a file; open it as a blob".into()),
        other => internal(other),
    }
}

fn watermark(identity: &Identity) -> String {
    format!("{} · {} · {}", identity.username, identity.role.as_str(), app::components::time::utc_text(crate::now_ms()))
}

fn summary(pin: &PinRecord, access_ends_ms: Option<i64>) -> PinSummary {
    PinSummary {
        id: PinId::from_stored(pin.id),
        repository: pin.repository.clone(),
        label: pin.label.clone(),
        commit_id: pin.commit_id.clone(),
        pinned_at_ms: pin.pinned_at,
        pinned_by: pin.pinned_by.clone(),
        withdrawn: pin.withdrawn_at.is_some(),
        access_ends_ms,
    }
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
    pub fn new(store: Store, source: Arc<Source>, signer: Arc<NoteSigner>) -> Domain {
        let audit = AuditLog::new(store.clone());
        Domain { store, audit, source, signer }
    }

    fn require_log_reader(caller: &Caller) -> AppResult<()> {
        match Self::identity(caller)?.role {
            Role::Staff | Role::Regulator => Ok(()),
            Role::Reviewer => Err(AppError::Forbidden("only staff and regulators may read the audit log".into())),
        }
    }

    /// The latest signed checkpoint, signing one now if the log grew since (on demand).
    pub async fn log_checkpoint(&self, caller: &Caller) -> AppResult<Checkpoint> {
        Self::require_log_reader(caller)?;
        self.audit.publish_checkpoint(&self.signer).await.map_err(log_error)
    }

    /// The verifier key, in signed-note verifier-key format.
    pub fn log_verifier_key(&self) -> String {
        self.signer.verifier().to_string()
    }

    pub async fn inclusion_proof(&self, caller: &Caller, index: u64, size: u64) -> AppResult<Vec<[u8; 32]>> {
        Self::require_log_reader(caller)?;
        self.audit.inclusion_proof(index, size).await.map_err(log_error)
    }

    pub async fn consistency_proof(&self, caller: &Caller, from: u64, to: u64) -> AppResult<Vec<[u8; 32]>> {
        Self::require_log_reader(caller)?;
        self.audit.consistency_proof(from, to).await.map_err(log_error)
    }

    /// A `tlog-proof` for one entry against the latest checkpoint (signed now if needed).
    pub async fn entry_proof(&self, caller: &Caller, index: u64) -> AppResult<String> {
        let checkpoint = self.log_checkpoint(caller).await?;
        if index >= checkpoint.size {
            return Err(AppError::NotFound(format!("there is no entry {index} in the log")));
        }
        let proof = self.audit.inclusion_proof(index, checkpoint.size).await.map_err(log_error)?;
        Ok(checkpoint::tlog_proof(index, &proof, &checkpoint))
    }

    /// Checks an old checkpoint (pasted by a regulator) against the log: its signature, then
    /// consistency with the latest checkpoint.
    pub async fn check_old_checkpoint(&self, caller: &Caller, note: &str) -> AppResult<String> {
        Self::require_log_reader(caller)?;
        let verifier = self.signer.verifier();
        let note = note.replace("\r\n", "\n");
        let note = if note.ends_with('\n') { note } else { format!("{note}\n") };
        let (size, root) = checkpoint::open(&verifier, &note)
            .map_err(|e| AppError::Invalid(format!("this is not a checkpoint signed by this log's key ({e})")))?;
        let latest = self.log_checkpoint(caller).await?;
        if size > latest.size {
            return Err(AppError::Conflict(format!(
                "NOT consistent: the old checkpoint has {size} entries but the log has {}; the log was truncated",
                latest.size
            )));
        }
        if size == 0 {
            return Ok("consistent: the empty log is a prefix of every log".into());
        }
        let proof = self.audit.consistency_proof(size, latest.size).await.map_err(log_error)?;
        crate::audit::proof::verify_consistency(size, latest.size, &root, &latest.root, &proof).map_err(|_| {
            AppError::Conflict(format!(
                "NOT consistent: the log at {} entries does not extend the checkpoint of {size} entries",
                latest.size
            ))
        })?;
        Ok(format!("consistent: the checkpoint of {size} entries is a prefix of the log at {} entries", latest.size))
    }

    fn identity(caller: &Caller) -> AppResult<&Identity> {
        caller.identity.as_ref().ok_or(AppError::Unauthorized)
    }

    fn role_of(user: &UserRecord) -> Role {
        Role::parse(&user.role).unwrap_or(Role::Reviewer)
    }

    /// Decides whether the caller may read source at `pin`, and records a refusal.
    /// Staff may read every pin; reviewers and regulators need an active grant for it.
    async fn authorize_pin(&self, caller: &Caller, pin: PinId) -> AppResult<(PinRecord, Option<i64>)> {
        let identity = Self::identity(caller)?;
        let now = crate::now_ms();
        let record = self.store.pin(pin.get()).await?;
        let allowed = match (&record, identity.role) {
            (Some(_), Role::Staff) => Some(None),
            (Some(record), Role::Reviewer | Role::Regulator) => {
                self.store.active_grant_end(identity.user_id, record.id, now).await?.map(Some)
            }
            (None, _) => None,
        };
        match (record, allowed) {
            (Some(record), Some(ends)) => Ok((record, ends)),
            _ => {
                let event = Event::by(caller, "access.denied", Outcome::Denied).on_pin(pin);
                self.audit.record(&event).await.map_err(audit_unavailable)?;
                Err(AppError::NotFound("there is no such pin, or you have no access to it".into()))
            }
        }
    }

    // Sign-in ---------------------------------------------------------------------------------

    /// Checks a username and password, records the attempt, and returns the user on success.
    pub async fn sign_in(&self, client: &str, username: &str, password: Password) -> AppResult<Option<UserRecord>> {
        let user = if auth::parse_username(username).is_ok() { self.store.user_by_name(username).await? } else { None };
        let ok =
            auth::verify_password(user.as_ref().map(|u| u.password_hash.clone()), password).await.map_err(internal)?;
        let caller = Caller { identity: None, session: None, client_address: client.to_string(), csrf_token: None };
        let attempted: String = username.chars().take(64).collect();
        let event = match (&user, ok) {
            (Some(user), true) => {
                let mut event = Event::by(&caller, "auth.login", Outcome::Ok);
                event.actor = Some(user.username.clone());
                event.role = Some(Self::role_of(user).as_str());
                event
            }
            _ => Event::by(&caller, "auth.login_failed", Outcome::Denied).with(json!({ "username": attempted })),
        };
        self.audit.record(&event).await.map_err(audit_unavailable)?;
        Ok(if ok { user } else { None })
    }

    pub async fn record_sign_out(&self, caller: &Caller) -> AppResult<()> {
        self.audit.record(&Event::by(caller, "auth.logout", Outcome::Ok)).await.map_err(audit_unavailable)?;
        Ok(())
    }

    /// The identity behind a user id, if the account still exists.
    pub async fn identity_of(&self, user_id: i64) -> AppResult<Option<Identity>> {
        Ok(self.store.user_by_id(user_id).await?.map(|u| Identity {
            user_id: u.id,
            role: Self::role_of(&u),
            username: u.username,
        }))
    }

    pub async fn identity_for_token(&self, token: &str) -> AppResult<Option<Identity>> {
        Ok(self.store.user_by_token_hash(&auth::token_digest(token)).await?.map(|u| Identity {
            user_id: u.id,
            role: Self::role_of(&u),
            username: u.username,
        }))
    }

    // Administration ---------------------------------------------------------------------------

    /// Creates an account. Without a password, one is generated and returned (shown once).
    pub async fn create_user(
        &self,
        actor: Actor<'_>,
        username: &str,
        role: Role,
        password: Option<Password>,
    ) -> AppResult<(i64, Option<Password>)> {
        actor.require_staff()?;
        let username = auth::parse_username(username).map_err(|m| AppError::Invalid(m.into()))?;
        if self.store.user_by_name(&username).await?.is_some() {
            return Err(AppError::Conflict(format!("the username {username} is taken")));
        }
        let generated = password.is_none().then(Password::generate);
        let chosen = password.or_else(|| generated.clone()).expect("a password");
        let hash = auth::hash_password(chosen).await.map_err(|e| match e {
            auth::AuthError::WeakPassword => AppError::Invalid(e.to_string()),
            other => internal(other),
        })?;
        let mut tx = self.audit.begin().await.map_err(audit_unavailable)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, role, password_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(&username)
        .bind(role.as_str())
        .bind(hash)
        .bind(crate::now_ms())
        .fetch_one(tx.conn())
        .await
        .map_err(|e| internal(StoreError::from(e)))?;
        let event =
            actor.event("user.create").with(json!({ "username": username, "role": role.as_str(), "user_id": id }));
        tx.append(&event).await.map_err(audit_unavailable)?;
        tx.commit().await.map_err(audit_unavailable)?;
        Ok((id, generated))
    }

    /// Copies a local repository (bare) into the data directory and registers it.
    pub async fn import_repository(&self, actor: Actor<'_>, name: &str, from: &str) -> AppResult<i64> {
        actor.require_staff()?;
        let name = parse_repository_name(name)?;
        if self.store.repository_by_name(&name).await?.is_some() {
            return Err(AppError::Conflict(format!("a repository named {name} exists")));
        }
        let target = self.source.repos_dir().join(format!("{name}.git"));
        if target.exists() {
            return Err(AppError::Conflict(format!("a repository directory named {name} exists")));
        }
        let source = from.to_string();
        let clone_target = target.clone();
        let cloned = tokio::task::spawn_blocking(move || -> Result<(), git2::Error> {
            std::fs::create_dir_all(clone_target.parent().expect("repos dir"))
                .map_err(|e| git2::Error::from_str(&e.to_string()))?;
            git2::build::RepoBuilder::new().bare(true).clone(&source, &clone_target)?;
            Ok(())
        })
        .await
        .map_err(internal)?;
        if let Err(error) = cloned {
            let _ = std::fs::remove_dir_all(&target);
            tracing::warn!(error = %error.message(), "repository import failed");
            return Err(AppError::Invalid(format!(
                "could not import from {from}: it must be a git repository this server can read (a local path; network URLs need network access)"
            )));
        }
        let result = async {
            let mut tx = self.audit.begin().await.map_err(audit_unavailable)?;
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO repositories (name, source, imported_by, imported_at) VALUES ($1, $2, $3, $4) RETURNING id",
            )
            .bind(&name)
            .bind(from)
            .bind(actor.user_id())
            .bind(crate::now_ms())
            .fetch_one(tx.conn())
            .await
            .map_err(|e| internal(StoreError::from(e)))?;
            let event = actor.event("repo.import").with(json!({ "repository": name, "source": from, "repository_id": id }));
            tx.append(&event).await.map_err(audit_unavailable)?;
            tx.commit().await.map_err(audit_unavailable)?;
            Ok(id)
        }
        .await;
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&target);
        }
        result
    }

    /// Pins a commit (any revision expression that names one) with a label.
    pub async fn create_pin(&self, actor: Actor<'_>, repository: &str, commit: &str, label: &str) -> AppResult<PinId> {
        actor.require_staff()?;
        let label = label.trim();
        if label.is_empty() || label.len() > 200 {
            return Err(AppError::Invalid("a label is 1 to 200 characters".into()));
        }
        let repo = self
            .store
            .repository_by_name(repository)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no repository named {repository}")))?;
        let dir = self.source.repos_dir().join(format!("{}.git", repo.name));
        let spec = commit.trim().to_string();
        let resolved = tokio::task::spawn_blocking(move || -> Result<(String, String), git2::Error> {
            let git = git2::Repository::open_bare(dir)?;
            let commit = git.revparse_single(&spec)?.peel_to_commit()?;
            Ok((commit.id().to_string(), commit.tree_id().to_string()))
        })
        .await
        .map_err(internal)?;
        let (commit_id, tree_id) =
            resolved.map_err(|_| AppError::Invalid(format!("{commit} does not name a commit in {repository}")))?;
        let mut tx = self.audit.begin().await.map_err(audit_unavailable)?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO pins (repository_id, commit_id, tree_id, label, pinned_by, pinned_at) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(repo.id)
        .bind(&commit_id)
        .bind(&tree_id)
        .bind(label)
        .bind(actor.user_id())
        .bind(crate::now_ms())
        .fetch_one(tx.conn())
        .await
        .map_err(|e| internal(StoreError::from(e)))?;
        let pin = PinId::from_stored(id);
        let event = actor
            .event("pin.create")
            .on_pin(pin)
            .with(json!({ "repository": repo.name, "commit": commit_id, "tree": tree_id, "label": label }));
        tx.append(&event).await.map_err(audit_unavailable)?;
        tx.commit().await.map_err(audit_unavailable)?;
        Ok(pin)
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
        actor.require_staff()?;
        if pins.is_empty() {
            return Err(AppError::Invalid("choose at least one pin".into()));
        }
        if ends_at_ms <= starts_at_ms {
            return Err(AppError::Invalid("a grant must end after it starts".into()));
        }
        let user = self
            .store
            .user_by_name(username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no user named {username}")))?;
        if Self::role_of(&user) == Role::Staff {
            return Err(AppError::Invalid("staff see every pin; grants are for reviewers and regulators".into()));
        }
        for pin in pins {
            match self.store.pin(pin.get()).await? {
                None => return Err(AppError::NotFound(format!("there is no pin {pin}"))),
                Some(record) if record.withdrawn_at.is_some() => {
                    return Err(AppError::Invalid(format!("pin {pin} is withdrawn")))
                }
                Some(_) => {}
            }
        }
        let mut tx = self.audit.begin().await.map_err(audit_unavailable)?;
        let mut ids = Vec::new();
        let now = crate::now_ms();
        for pin in pins {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO grants (reviewer_id, pin_id, starts_at, ends_at, granted_by, granted_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(user.id)
            .bind(pin.get())
            .bind(starts_at_ms)
            .bind(ends_at_ms)
            .bind(actor.user_id())
            .bind(now)
            .fetch_one(tx.conn())
            .await
            .map_err(|e| internal(StoreError::from(e)))?;
            let event = actor.event("grant.create").on_pin(*pin).with(json!({
                "grant_id": id, "grantee": user.username, "starts_at_ms": starts_at_ms, "ends_at_ms": ends_at_ms
            }));
            tx.append(&event).await.map_err(audit_unavailable)?;
            ids.push(id);
        }
        tx.commit().await.map_err(audit_unavailable)?;
        Ok(ids)
    }

    /// Revokes a grant; the grantee loses access on their next request.
    pub async fn revoke_grant(&self, actor: Actor<'_>, grant_id: i64) -> AppResult<()> {
        actor.require_staff()?;
        let mut tx = self.audit.begin().await.map_err(audit_unavailable)?;
        let row: Option<(i64,)> = sqlx::query_as("SELECT pin_id FROM grants WHERE id = $1 AND revoked_at IS NULL")
            .bind(grant_id)
            .fetch_optional(tx.conn())
            .await
            .map_err(|e| internal(StoreError::from(e)))?;
        let Some((pin_id,)) = row else {
            return Err(AppError::NotFound("there is no active grant with that id".into()));
        };
        sqlx::query("UPDATE grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3")
            .bind(crate::now_ms())
            .bind(actor.user_id())
            .bind(grant_id)
            .execute(tx.conn())
            .await
            .map_err(|e| internal(StoreError::from(e)))?;
        let event =
            actor.event("grant.revoke").on_pin(PinId::from_stored(pin_id)).with(json!({ "grant_id": grant_id }));
        tx.append(&event).await.map_err(audit_unavailable)?;
        tx.commit().await.map_err(audit_unavailable)?;
        Ok(())
    }

    /// Creates an API token for a user; the token is returned once and stored as a digest.
    pub async fn create_token(&self, actor: Actor<'_>, username: &str) -> AppResult<String> {
        actor.require_staff()?;
        let user = self
            .store
            .user_by_name(username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no user named {username}")))?;
        let (token, digest) = auth::new_api_token();
        let mut tx = self.audit.begin().await.map_err(audit_unavailable)?;
        sqlx::query("INSERT INTO api_tokens (user_id, token_sha256, created_at) VALUES ($1, $2, $3)")
            .bind(user.id)
            .bind(digest)
            .bind(crate::now_ms())
            .execute(tx.conn())
            .await
            .map_err(|e| internal(StoreError::from(e)))?;
        tx.append(&actor.event("token.create").with(json!({ "username": user.username })))
            .await
            .map_err(audit_unavailable)?;
        tx.commit().await.map_err(audit_unavailable)?;
        Ok(token)
    }

    /// Audit entries by index range for the API (staff and regulators), itself recorded.
    pub async fn log_entries(&self, caller: &Caller, start: i64, end: i64) -> AppResult<Vec<AuditEntry>> {
        let identity = Self::identity(caller)?;
        if !matches!(identity.role, Role::Staff | Role::Regulator) {
            return Err(AppError::Forbidden("only staff and regulators may read the audit log".into()));
        }
        if start < 0 || end < start {
            return Err(AppError::Invalid("start and end must satisfy 0 <= start <= end".into()));
        }
        let end = end.min(start + 1000);
        self.audit
            .record(&Event::by(caller, "log.read", Outcome::Ok).with(json!({ "start": start, "end": end })))
            .await
            .map_err(audit_unavailable)?;
        self.audit.entries(start, end).await.map_err(audit_unavailable)
    }
}

#[async_trait::async_trait]
impl Backend for Domain {
    async fn me(&self, caller: &Caller) -> AppResult<Me> {
        let identity = Self::identity(caller)?;
        Ok(Me {
            username: identity.username.clone(),
            role: identity.role,
            csrf_token: caller.csrf_token.clone().unwrap_or_default(),
        })
    }

    async fn list_pins(&self, caller: &Caller) -> AppResult<Vec<PinSummary>> {
        let identity = Self::identity(caller)?;
        Ok(match identity.role {
            Role::Staff => self.store.list_pins().await?.iter().map(|p| summary(p, None)).collect(),
            Role::Reviewer | Role::Regulator => self
                .store
                .pins_granted_to(identity.user_id, crate::now_ms())
                .await?
                .iter()
                .map(|(p, ends)| summary(p, Some(*ends)))
                .collect(),
        })
    }

    async fn open_tree(&self, caller: &Caller, pin: PinId, path: RepoPath) -> AppResult<TreeView> {
        let (record, ends) = self.authorize_pin(caller, pin).await?;
        let identity = Self::identity(caller)?;
        let event = Event::by(caller, "tree.view", Outcome::Ok).on_pin(pin).on_path(&path);
        let receipt = self.audit.record_source_read(&event, pin, &path).await.map_err(audit_unavailable)?;
        let location = PinLocation { pin, repository: record.repository.clone(), tree_id: record.tree_id.clone() };
        let entries = self.source.read_tree(&receipt, &location, &path).await.map_err(source_error)?;
        Ok(TreeView { pin: summary(&record, ends), path, entries, watermark: watermark(identity) })
    }

    async fn open_blob(&self, caller: &Caller, pin: PinId, path: RepoPath) -> AppResult<BlobView> {
        if path.is_root() {
            return Err(AppError::Invalid("name a file to open".into()));
        }
        let (record, ends) = self.authorize_pin(caller, pin).await?;
        let identity = Self::identity(caller)?;
        let event = Event::by(caller, "blob.view", Outcome::Ok).on_pin(pin).on_path(&path);
        let receipt = self.audit.record_source_read(&event, pin, &path).await.map_err(audit_unavailable)?;
        let location = PinLocation { pin, repository: record.repository.clone(), tree_id: record.tree_id.clone() };
        let (file, siblings) = self.source.read_file(&receipt, &location, &path).await.map_err(source_error)?;
        Ok(BlobView {
            pin: summary(&record, ends),
            path,
            blob_id: file.blob_id,
            size: file.size,
            content: file.content,
            siblings,
            watermark: watermark(identity),
        })
    }

    async fn audit_log(&self, caller: &Caller, query: AuditQuery) -> AppResult<AuditPage> {
        let identity = Self::identity(caller)?;
        if !matches!(identity.role, Role::Staff | Role::Regulator) {
            return Err(AppError::Forbidden("only staff and regulators may read the audit log".into()));
        }
        self.audit.query(&query).await.map_err(audit_unavailable)
    }

    async fn log_overview(&self, caller: &Caller) -> AppResult<LogOverview> {
        let checkpoint = self.log_checkpoint(caller).await?;
        let verifier = self.signer.verifier();
        Ok(LogOverview {
            size: checkpoint.size,
            root_hex: hex::encode(checkpoint.root),
            checkpoint: checkpoint.note,
            verifier_key: verifier.to_string(),
            fingerprint: verifier.fingerprint(),
        })
    }

    async fn admin_overview(&self, caller: &Caller) -> AppResult<AdminOverview> {
        Actor::Web(caller).require_staff()?;
        Ok(AdminOverview {
            users: self
                .store
                .list_users()
                .await?
                .into_iter()
                .map(|u| UserSummary {
                    id: u.id,
                    role: Self::role_of(&u),
                    username: u.username,
                    created_at_ms: u.created_at,
                })
                .collect(),
            repositories: self
                .store
                .list_repositories()
                .await?
                .into_iter()
                .map(|r| RepositorySummary { id: r.id, name: r.name, source: r.source, imported_at_ms: r.imported_at })
                .collect(),
            pins: self.store.list_pins().await?.iter().map(|p| summary(p, None)).collect(),
            grants: self
                .store
                .list_grants()
                .await?
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
