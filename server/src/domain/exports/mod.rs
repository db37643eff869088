//! Regulator exports: asking for a bundle (recorded), building it as a background job (or at the
//! command line), and handing it to its creator. The bundle's members and their rules are in
//! `crate::export` and `docs/bundle-format.md`.
//!
//! An export reads the log in two passes: the first finds the events in scope (and the sessions
//! and pins they name); the events that give them context — the sign-ins and sign-outs of those
//! sessions, the attestation issues of those pins — are added; the second pass writes them in
//! index order. Only indices are kept between passes, so memory stays flat.

mod build;
mod maps;
mod requirements;

use super::error::internal;
use super::guard::{require, Actor, Permission};
use super::Exports;
use crate::audit::checkpoint::{self, Checkpoint};
use crate::audit::Action;
use crate::audit::Object;
use crate::export::writer::Written;
use crate::export::Scope;
use crate::store::exports::{EventFilter, ExportRow, FinishedExport};
use crate::store::files::JobRow;
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::path::{Path, PathBuf};

/// Builds one export's bundle.
pub const EXPORT_BUNDLE: &str = crate::store::files::EXPORT_JOB_KIND;

/// Exports one account may have waiting (queued or running) at once.
pub const PENDING_PER_ACCOUNT: i64 = 3;

/// The window `exports_per_day` counts in.
const DAY_MS: i64 = 24 * 3_600_000;

/// Events read per query.
const PAGE: u64 = 5000;
/// Proof ranges hashed per query.
const PROOF_BATCH: usize = 1024;

/// Where bundles are kept, and for how long their creator may download them.
#[derive(Clone, Debug)]
pub struct ExportSettings {
    pub dir: PathBuf,
    pub retention_ms: i64,
    /// Disk kept for finished bundles: past it, requests are refused until older ones expire.
    pub disk_bytes: u64,
    /// Exports one account may ask for in 24 hours.
    pub per_day: u32,
}

/// What building a bundle found, for the record of it.
pub struct Built {
    pub written: Written,
    pub events: u64,
    pub checkpoint_size: u64,
}

fn io_error(error: std::io::Error) -> AppError {
    internal(&error)
}

impl Exports<'_> {
    fn export_settings(&self) -> ExportSettings {
        self.exports.clone()
    }

    /// Checks a request and turns it into a scope and the previous checkpoint (normalised).
    async fn parse_export(&self, request: &ExportRequest) -> AppResult<(Scope, Option<(String, u64)>)> {
        let mut pins: Vec<i64> = request.pins.clone();
        pins.sort_unstable();
        pins.dedup();
        if pins.len() > 1000 {
            return Err(AppError::Invalid("at most 1,000 pins may be exported at once".into()));
        }
        for pin in &pins {
            if *pin <= 0 || self.store.pin(*pin).await?.is_none() {
                return Err(AppError::NotFound(format!("there is no pin {pin}")));
            }
        }
        let reviewer = match request.reviewer.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(name) => {
                if self.store.user_by_name(name).await?.is_none() {
                    return Err(AppError::NotFound(format!("there is no account named {name:?}")));
                }
                Some(name.to_string())
            }
            None => None,
        };
        let time = |text: &Option<String>| -> AppResult<Option<i64>> {
            match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                Some(text) => app::times::parse(text).map(Some).map_err(|e| AppError::Invalid(e.to_string())),
                None => Ok(None),
            }
        };
        let (from_ms, until_ms) = (time(&request.from)?, time(&request.until)?);
        if let (Some(from), Some(until)) = (from_ms, until_ms) {
            if from >= until {
                return Err(AppError::Invalid("the start of the time range must be before its end".into()));
            }
        }
        let previous = match request.previous_checkpoint.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(note) => {
                if note.len() > 64 * 1024 {
                    return Err(AppError::Invalid("that is not a checkpoint (too long)".into()));
                }
                let note = format!("{}\n", note.replace("\r\n", "\n"));
                let (size, _) = checkpoint::open(&self.signer.verifier(), &note).map_err(|_| {
                    AppError::Invalid("the previous checkpoint is not a checkpoint signed by this log's key".into())
                })?;
                let (head, _) = self.audit.head().await?;
                if size > head {
                    return Err(AppError::Conflict(format!(
                        "the previous checkpoint has {size} entries but the log has {head}: the log was truncated"
                    )));
                }
                Some((note, size))
            }
            None => None,
        };
        Ok((Scope { pins, reviewer, from_ms, until_ms }, previous))
    }

    /// Records a request for a bundle and queues its job (or, for the command line, leaves it to
    /// the caller to build at once). Returns the export's id. A person's request is limited: the
    /// same request while theirs is still waiting is answered with that export (and recorded as a
    /// repeat); more than `PENDING_PER_ACCOUNT` waiting or `per_day` a day is refused (429); so is
    /// any request while the kept bundles fill their disk (503). Exports run in their own queue,
    /// so a pin's jobs never wait behind them (`jobs::JobLane`).
    pub async fn request_export(&self, actor: Actor<'_>, request: &ExportRequest, queue: bool) -> AppResult<i64> {
        require(&actor, Permission::Export)?;
        let (scope, previous) = self.parse_export(request).await?;
        let scope_json = serde_json::to_string(&scope).map_err(|e| internal(&e))?;
        let mut pins = Vec::new();
        for pin in &scope.pins {
            if let Some(record) = self.store.pin(*pin).await? {
                pins.push(record);
            }
        }
        let now = self.clock.now_ms();
        let settings = self.export_settings();
        let limited = if queue { actor.user_id() } else { None };
        let request_event = |id: i64, repeated: bool| {
            let mut event = actor.event(Action::ExportRequest);
            for pin in &pins {
                event = event.on(Object::at(PinId::from_stored(pin.id), Some(&pin.commit_id), &RepoPath::root()));
            }
            let mut details = json!({
                "export_id": id,
                "scope": scope.statement(),
                "previous_size": previous.as_ref().map(|(_, size)| *size),
            });
            if repeated {
                details["repeated"] = json!(true);
            }
            event.with(details)
        };
        let id = self
            .write(async |tx| {
                if let Some(user) = limited {
                    let note = previous.as_ref().map(|(note, _)| note.as_str());
                    if let Some(id) = crate::store::exports::pending_like(tx.conn(), user, &scope_json, note).await? {
                        tx.append(&request_event(id, true)).await?;
                        return Ok(id);
                    }
                    let (pending, recent) = crate::store::exports::counts_for(tx.conn(), user, now - DAY_MS).await?;
                    if pending >= PENDING_PER_ACCOUNT {
                        return Err(AppError::TooMany(format!(
                            "you have {pending} exports waiting; wait for one to finish, or cancel one"
                        )));
                    }
                    if recent >= i64::from(settings.per_day) {
                        return Err(AppError::TooMany(format!(
                            "you asked for {recent} exports in the last 24 hours, the most allowed; try later"
                        )));
                    }
                    if crate::store::exports::kept_bytes(tx.conn()).await? >= settings.disk_bytes {
                        return Err(AppError::Unavailable(
                            "the disk kept for export bundles is full; new exports start when older ones expire".into(),
                        ));
                    }
                }
                let id = crate::store::exports::insert_export(
                    tx.conn(),
                    actor.user_id(),
                    &scope_json,
                    previous.as_ref().map(|(note, _)| note.as_str()),
                    now,
                )
                .await?;
                if queue {
                    crate::store::files::queue_job(tx.conn(), EXPORT_BUNDLE, id, now).await?;
                }
                tx.append(&request_event(id, false)).await?;
                Ok(id)
            })
            .await?;
        Ok(id)
    }

    /// The command line's export: recorded, built at once into `out`, recorded as done.
    pub async fn export_now(&self, request: &ExportRequest, out: &Path) -> AppResult<(i64, Built)> {
        let id = self.request_export(Actor::Operator, request, false).await?;
        let row = self.store.export(id).await?.ok_or_else(|| AppError::NotFound("the export vanished".into()))?;
        match self.build_bundle(&row, out, None).await {
            Ok(built) => {
                self.complete_export(Actor::Operator, &row, &built).await?;
                Ok((id, built))
            }
            Err(error) => {
                let _ = self.store.fail_export(id, &error.to_string(), self.clock.now_ms()).await;
                Err(error)
            }
        }
    }

    /// The background job: builds the bundle under the exports directory.
    pub(super) async fn run_export_job(&self, job: &JobRow) -> AppResult<()> {
        let row =
            self.store.export(job.subject).await?.ok_or_else(|| AppError::NotFound("the export vanished".into()))?;
        self.store.set_export_running(row.id).await?;
        let settings = self.export_settings();
        std::fs::create_dir_all(&settings.dir).map_err(io_error)?;
        let path = settings.dir.join(format!("export-{}.zip", row.id));
        match self.build_bundle(&row, &path, Some(job.id)).await {
            Ok(built)
                if self.store.kept_export_bytes().await?.saturating_add(built.written.size) > settings.disk_bytes =>
            {
                let _ = std::fs::remove_file(&path);
                let message = format!(
                    "the bundle ({} MiB) does not fit in the disk kept for export bundles; ask again when older ones expire",
                    built.written.size.div_ceil(1024 * 1024)
                );
                self.store.fail_export(row.id, &message, self.clock.now_ms()).await?;
                Err(AppError::Unavailable(message))
            }
            Ok(built) => self.complete_export(Actor::System("export"), &row, &built).await,
            Err(error) => {
                let _ = std::fs::remove_file(&path);
                let message = match &error {
                    AppError::Internal(_) => "the export failed; the server's log has the cause".to_string(),
                    other => other.to_string(),
                };
                self.store.fail_export(row.id, &message, self.clock.now_ms()).await?;
                Err(error)
            }
        }
    }

    /// Records the finished bundle (its SHA-256 in the log) and makes it downloadable.
    async fn complete_export(&self, actor: Actor<'_>, row: &ExportRow, built: &Built) -> AppResult<()> {
        let now = self.clock.now_ms();
        let expires_at = now + self.export_settings().retention_ms;
        let file_name = built.written.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let scope: Scope = serde_json::from_str(&row.scope).map_err(|e| internal(&e))?;
        self.write(async |tx| {
            let done = FinishedExport {
                id: row.id,
                file_name: &file_name,
                size: built.written.size,
                sha256: &built.written.sha256,
                events: built.events,
                finished_at: now,
                expires_at,
            };
            crate::store::exports::finish_export(tx.conn(), &done).await?;
            let details = json!({
                "export_id": row.id,
                "requested_by": row.creator,
                "scope": scope.statement(),
                "sha256": built.written.sha256,
                "size": built.written.size,
                "events": built.events,
                "checkpoint_size": built.checkpoint_size,
            });
            tx.append(&actor.event(Action::ExportComplete).with(details)).await?;
            Ok(())
        })
        .await
    }

    /// The checkpoint a bundle is proven against: one signed now; with witnesses, the newest that
    /// meets their quorum once they were asked to cosign it (so the bundle carries cosignatures).
    async fn export_checkpoint(&self) -> AppResult<Checkpoint> {
        let fresh = self.log().publish_checkpoint().await?;
        let Some(supervision) = self.supervision.get() else { return Ok(fresh) };
        self.log().submit_to_witnesses(&fresh).await;
        match supervision.cosigned(&self.store, true).await? {
            Some(cosigned) => Ok(Checkpoint { note: cosigned.note, ..cosigned.checkpoint }),
            None => Ok(fresh),
        }
    }

    /// Reports progress; fails when the job was cancelled meanwhile.
    async fn export_progress(&self, job: Option<i64>, done: u64, total: u64) -> AppResult<()> {
        if let Some(job) = job {
            if !self.store.job_progress(job, done, total, self.clock.now_ms()).await? {
                return Err(AppError::Conflict("the export was cancelled".into()));
            }
        }
        Ok(())
    }

    /// The caller's exports (all of them for staff), with progress; expired files are removed.
    pub async fn exports(&self, actor: Actor<'_>) -> AppResult<Vec<ExportStatus>> {
        require(&actor, Permission::Export)?;
        self.expire_exports().await?;
        let (_, identity) = actor.person()?;
        let creator = super::guard::rules::exports_visible_to(identity.role, identity.user_id);
        let mut list = Vec::new();
        for row in self.store.exports_by(creator, 100).await? {
            list.push(self.export_status(identity.user_id, &row).await?);
        }
        Ok(list)
    }

    /// The `/exports` page: the pins and accounts to choose from, and the caller's exports.
    pub async fn exports_page(&self, actor: Actor<'_>) -> AppResult<ExportsPage> {
        let exports = self.exports(actor).await?;
        let pins = self
            .store
            .list_pins()
            .await?
            .into_iter()
            .map(|p| (p.id, format!("{} · {}", p.repository, p.label)))
            .collect();
        let reviewers = self
            .store
            .list_users()
            .await?
            .into_iter()
            .filter(|u| matches!(u.role, Role::Reviewer | Role::Staff))
            .map(|u| u.username)
            .collect();
        Ok(ExportsPage {
            pins,
            reviewers,
            exports,
            retention_hours: (self.export_settings().retention_ms / 3_600_000).max(0) as u64,
        })
    }

    /// One export's state (its creator and staff).
    pub async fn export(&self, actor: Actor<'_>, id: i64) -> AppResult<ExportStatus> {
        require(&actor, Permission::Export)?;
        self.expire_exports().await?;
        let (_, identity) = actor.person()?;
        let row = self.store.export(id).await?.ok_or_else(|| AppError::NotFound(format!("there is no export {id}")))?;
        if !super::guard::rules::may_see_export(identity.role, identity.user_id, row.created_by) {
            return Err(AppError::NotFound(format!("there is no export {id}")));
        }
        self.export_status(identity.user_id, &row).await
    }

    async fn export_status(&self, viewer: i64, row: &ExportRow) -> AppResult<ExportStatus> {
        let job = self.store.job_for(EXPORT_BUNDLE, row.id).await?;
        let (done, total) =
            job.as_ref().map(|j| (j.done_units.max(0) as u64, j.total_units.max(0) as u64)).unwrap_or((0, 0));
        // A job cancelled (by staff) before it ran leaves the export's row waiting: say so.
        let (state, message) = match (row.state.as_str(), job.as_ref().map(|j| j.state.as_str())) {
            ("queued" | "running", Some("cancelled")) => ("cancelled".to_string(), Some("cancelled by staff".into())),
            ("queued" | "running", Some("failed")) => ("failed".to_string(), job.and_then(|j| j.message)),
            (state, _) => (state.to_string(), row.message.clone()),
        };
        let scope: Scope = serde_json::from_str(&row.scope).unwrap_or_default();
        Ok(ExportStatus {
            id: row.id,
            state: state.clone(),
            created_by: row.creator.clone(),
            scope: scope.describe(row.previous.is_some()),
            done,
            total,
            events: row.events.map(|e| e as u64),
            size: row.size.map(|s| s as u64),
            sha256: row.sha256.clone(),
            message,
            created_at_ms: row.created_at,
            finished_at_ms: row.finished_at,
            expires_at_ms: row.expires_at,
            downloadable: state == "done" && super::guard::rules::may_download_export(viewer, row.created_by),
        })
    }

    /// The bundle's file, for its creator only; the download is recorded first.
    pub async fn export_file(&self, actor: Actor<'_>, id: i64) -> AppResult<(PathBuf, String)> {
        require(&actor, Permission::Export)?;
        self.expire_exports().await?;
        let (_, identity) = actor.person()?;
        let row = self.store.export(id).await?.ok_or_else(|| AppError::NotFound(format!("there is no export {id}")))?;
        if !super::guard::rules::may_download_export(identity.user_id, row.created_by) {
            return Err(AppError::NotFound(format!("there is no export {id} of yours")));
        }
        let (Some(name), Some(sha256), "done") = (&row.file_name, &row.sha256, row.state.as_str()) else {
            return Err(AppError::Conflict(match row.state.as_str() {
                "expired" => "this export has expired; export again".into(),
                "failed" => "this export failed".into(),
                _ => "this export is not finished yet".into(),
            }));
        };
        let path = self.export_settings().dir.join(name);
        if !path.is_file() {
            return Err(AppError::NotFound("this export's file is gone; export again".into()));
        }
        self.record(actor.event(Action::ExportDownload).with(json!({"export_id": id, "sha256": sha256}))).await?;
        Ok((path, format!("clearroom-export-{id}.zip")))
    }

    /// What a scope would hold: the events the log's prefilter finds, and a rough size.
    pub async fn estimate_export(&self, actor: Actor<'_>, request: &ExportRequest) -> AppResult<ExportEstimate> {
        require(&actor, Permission::Export)?;
        let (scope, _) = self.parse_export(request).await?;
        let (size, _) = self.audit.head().await?;
        let filter = EventFilter {
            pins: scope.pins.clone(),
            actor_or_grants: scope.reviewer.clone(),
            from_ms: scope.from_ms,
            until_ms: scope.until_ms,
        };
        let events = self.store.count_export_events(&filter, size).await?;
        Ok(ExportEstimate { events, bytes: events * 420 + 64 * 1024 })
    }

    /// Marks exports past their time as expired and deletes their files.
    async fn expire_exports(&self) -> AppResult<()> {
        let dir = self.export_settings().dir;
        for name in self.store.expire_exports(self.clock.now_ms()).await? {
            let _ = std::fs::remove_file(dir.join(name));
        }
        Ok(())
    }
}
