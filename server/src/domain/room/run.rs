//! The `build.run` job: one room build, from the pinned tree to signed records. The tree is
//! exported through a whole-pin receipt (`build.source_export`) into a fresh directory; the
//! recipe runs in the sandbox, watched every two seconds (heartbeat, log parts, bytes written);
//! then either every output is kept and recorded by the `room` account with its provenance
//! (`build.record`, `attestation.issue`, `build.finish`) in one transaction, or the build fails
//! with its reason and log and nothing else (`build.failed`). An instance that stops leaves its
//! job to another, which starts the build again from a clean directory.

use super::Room;
use crate::audit::{Action, Object};
use crate::builds::recipe::Recipe;
use crate::builds::sandbox::{self, Ended, Jail, Toolchain};
use crate::builds::statement::{self, RoomProvenance};
use crate::builds::upload::{self, UploadError};
use crate::domain::builds::Issue;
use crate::domain::guard::Actor;
use crate::store::builds::{self as build_rows, NewBuild};
use crate::store::files::JobRow;
use crate::store::room::{self as rows, Finished, LOG_PART};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Runs a room build (`Room::start` queues it).
pub const RUN_BUILD: &str = "build.run";
/// How often a running build is looked at.
const WATCH: Duration = Duration::from_secs(2);
/// The most of a log stored for the page; the whole log is kept by its hash all the same.
const LOG_STORED: u64 = 8 << 20;

/// Why a build failed, as its record and event say it (never an internal error's text).
struct Failure(String);

impl From<AppError> for Failure {
    fn from(error: AppError) -> Failure {
        match error {
            AppError::Invalid(message) | AppError::Conflict(message) => Failure(message),
            other => {
                tracing::warn!(error = %other, "a room build could not run");
                Failure("the room could not run the build (the server's log says why)".into())
            }
        }
    }
}

impl From<crate::store::StoreError> for Failure {
    fn from(error: crate::store::StoreError) -> Failure {
        AppError::from(error).into()
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Failure {
        super::super::error::internal(&error).into()
    }
}

/// An output kept: what the record says of it.
struct Kept {
    output: crate::builds::recipe::Output,
    sha256: String,
    size: u64,
    path: PathBuf,
    new: bool,
}

/// What the sandbox did.
enum Ending {
    Ended(Ended),
    Cancelled,
    OverOutput,
}

impl Room<'_> {
    pub(in crate::domain) async fn run_build(&self, job: &JobRow) -> AppResult<()> {
        let outcome = self.run_build_once(job).await;
        if let Err(error) = &outcome {
            // The build ends as failed whatever stopped it (its job says why, in the server's log).
            if let Some(row) =
                self.store.room_build(job.subject).await?.filter(|r| !matches!(r.state.as_str(), "done" | "failed"))
            {
                let pin = PinId::from_stored(row.pin_id);
                let commit = self.store.pin(row.pin_id).await?.map(|p| p.commit_id);
                let object = Object::at(pin, commit.as_deref(), &RepoPath::root());
                let work = self.builds.room_dir.join(format!("build-{}", row.id));
                let failure = Failure::from(error.clone());
                self.end_failed(row.id, row.attempts, &object, failure, None, &work).await?;
            }
        }
        outcome
    }

    async fn run_build_once(&self, job: &JobRow) -> AppResult<()> {
        let id = job.subject;
        let row = self.store.room_build(id).await?.ok_or_else(|| AppError::NotFound("no such room build".into()))?;
        if matches!(row.state.as_str(), "done" | "failed") {
            return Ok(());
        }
        let pin = PinId::from_stored(row.pin_id);
        let actor = Actor::System("room");
        let access = self.pin_access(&actor, pin).await?;
        let object = access.object(&RepoPath::root());
        let recipe = Recipe::from_json(row.recipe.as_bytes()).map_err(|e| super::super::error::internal(&e))?;
        let work = self.builds.room_dir.join(format!("build-{id}"));
        let (toolchain, digest) = match self.toolchain(&recipe).await {
            Ok(found) => found,
            Err(error) => return self.end_failed(id, 0, &object, Failure::from(error), None, &work).await,
        };
        let attempt = self.store.room_build_started(id, &digest, self.clock.now_ms()).await?;
        self.store.clear_room_log(id).await?;
        let started_at = self.clock.now_ms();
        let attempted = self.attempt(job, &access, &recipe, (&toolchain, &digest), attempt, &work).await;
        let log = work.join("build.log");
        let kept_log = match std::fs::metadata(&log).map(|m| m.len()) {
            Ok(0) | Err(_) => Ok((crate::builds::sha256_hex(b""), 0)),
            Ok(_) => upload::keep_file(&self.builds.artifacts, &log).await.map(|(sha256, size, _)| (sha256, size)),
        };
        let outcome = match (attempted, kept_log) {
            (Ok(outputs), Ok(log)) => {
                let finished_at = self.clock.now_ms();
                let recorded = self
                    .record_outputs(id, attempt, &access, &recipe, &digest, &outputs, &log, (started_at, finished_at))
                    .await;
                if recorded.is_err() {
                    for kept in outputs.iter().filter(|k| k.new) {
                        let _ = std::fs::remove_file(&kept.path);
                    }
                }
                recorded
            }
            (Err(failure), Ok(log)) => self.end_failed(id, attempt, &object, failure, Some(log), &work).await,
            (attempted, Err(error)) => {
                for kept in attempted.iter().flatten().filter(|k| k.new) {
                    let _ = std::fs::remove_file(&kept.path);
                }
                let failure = Failure::from(super::super::error::internal(&error));
                self.end_failed(id, attempt, &object, failure, None, &work).await
            }
        };
        let _ = std::fs::remove_dir_all(&work);
        outcome?;
        // The build is done whatever happens here; a report not queued now is asked for by the
        // next record of the pin.
        if let Err(error) = self.queue_diffs(pin).await {
            tracing::warn!(%error, %pin, "a report on differing builds could not be queued");
        }
        Ok(())
    }

    /// One attempt: the tree exported, the recipe run and watched, the outputs kept.
    async fn attempt(
        &self,
        job: &JobRow,
        access: &crate::domain::guard::PinPage,
        recipe: &Recipe,
        (toolchain, digest): (&Toolchain, &str),
        attempt: i64,
        work: &Path,
    ) -> Result<Vec<Kept>, Failure> {
        let id = job.subject;
        let object = access.object(&RepoPath::root());
        let tree = work.join("tree");
        if work.exists() {
            std::fs::remove_dir_all(work)?;
        }
        std::fs::create_dir_all(&tree)?;
        // The sandbox's user passes through to the tree (when the server runs as root).
        for dir in [&self.builds.room_dir, &work.to_path_buf()] {
            std::fs::set_permissions(dir, std::os::unix::fs::PermissionsExt::from_mode(0o711))?;
        }
        let actor = Actor::System("room");
        let event = actor
            .event(Action::BuildSourceExport)
            .on(object.clone().shown(&access.record.tree_id))
            .with(json!({ "room_build": id, "attempt": attempt }));
        let receipt = self.read(event, crate::audit::Scope::WholePin(access.pin())).await?;
        let exported = self.source.export_tree(&receipt, &access.location(), &tree).await.map_err(AppError::from)?;
        let jail = Jail {
            toolchain,
            work: &tree,
            inputs: Vec::new(),
            env: &recipe.env,
            source_date_epoch: access.record.committed_at.unwrap_or(0) / 1000,
            limits: recipe.limits,
            log: &work.join("build.log"),
        };
        let details = json!({
            "room_build": id, "attempt": attempt, "recipe_sha256": recipe.digest(), "toolchain": recipe.toolchain,
            "toolchain_digest": digest, "files": exported.files, "bytes": exported.bytes,
        });
        self.record(actor.event(Action::BuildStart).on(object.clone()).with(details)).await?;
        let mut running = match jail.start(&recipe.argv()) {
            Ok(running) => running,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Err(Failure(error.to_string())),
            Err(error) => return Err(error.into()),
        };
        let (started, base, limit) = (Instant::now(), sandbox::tree_bytes(&tree), recipe.limits.output_mb << 20);
        let mut shipped = 0;
        let ending = loop {
            if let Some(ended) = running.wait_for(WATCH).await? {
                break Ending::Ended(ended);
            }
            shipped = self.ship_log(id, jail.log, shipped).await?;
            let (elapsed, now) = (started.elapsed().as_secs(), self.clock.now_ms());
            if !self.store.job_progress(job.id, elapsed, recipe.limits.wall_seconds, now).await? {
                running.kill().await?;
                break Ending::Cancelled;
            }
            if running.written().saturating_sub(base) > limit {
                running.kill().await?;
                break Ending::OverOutput;
            }
        };
        self.ship_log(id, jail.log, shipped).await?;
        let limits = recipe.limits;
        match ending {
            Ending::Ended(Ended::Exited(0)) => {}
            // A file that reached the size limit was cut there (its writer got SIGXFSZ, its shell
            // exited 153): that is the limit, whatever status the command ended with.
            Ending::Ended(Ended::Exited(_)) if sandbox::largest_file(&tree) >= limit => {
                return Err(Failure(format!("limit: a file reached the output limit of {} MB", limits.output_mb)))
            }
            Ending::Ended(Ended::Exited(code)) => return Err(Failure(format!("exit status {code}"))),
            // SIGXFSZ: a file grew past the limit.
            Ending::Ended(Ended::Signalled(25)) => {
                return Err(Failure(format!("limit: a file passed the output limit of {} MB", limits.output_mb)))
            }
            Ending::Ended(Ended::Signalled(signal)) => {
                return Err(Failure(format!(
                    "killed by signal {signal} (a limit: memory {} MB, processes {})",
                    limits.memory_mb, limits.processes
                )))
            }
            Ending::Ended(Ended::Timeout) => {
                return Err(Failure(format!("timeout: the wall-time limit of {} s", limits.wall_seconds)))
            }
            Ending::Cancelled => return Err(Failure("cancelled".into())),
            Ending::OverOutput => {
                return Err(Failure(format!("limit: the build wrote over {} MB", limits.output_mb)));
            }
        }
        // Every output is found before any is kept: a build missing one keeps nothing.
        let inside = tree.canonicalize()?;
        let mut found = Vec::new();
        for output in &recipe.outputs {
            let path = tree.join(&output.path).canonicalize().ok().filter(|path| path.starts_with(&inside));
            match path.filter(|path| std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file())) {
                Some(path) => found.push((output, path)),
                None => return Err(Failure(format!("missing output {}", output.path))),
            }
        }
        let mut kept: Vec<Kept> = Vec::new();
        for (output, path) in found {
            let failure = match upload::keep_file(&self.builds.artifacts, &path).await {
                Ok((sha256, size, file)) => {
                    kept.push(Kept { output: output.clone(), sha256, size, path: file.path, new: file.new });
                    continue;
                }
                Err(UploadError::Empty) => Failure(format!("output {} is empty", output.path)),
                Err(error) => super::super::error::internal(&error).into(),
            };
            for file in kept.iter().filter(|k| k.new) {
                let _ = std::fs::remove_file(&file.path);
            }
            return Err(failure);
        }
        Ok(kept)
    }

    /// Stores the log written since `shipped` (in parts, up to `LOG_STORED`); the new offset.
    async fn ship_log(&self, id: i64, log: &Path, shipped: u64) -> AppResult<u64> {
        use std::io::{Read as _, Seek as _};
        let Ok(mut file) = std::fs::File::open(log) else { return Ok(shipped) };
        let end = file.metadata().map(|m| m.len()).unwrap_or(0).min(LOG_STORED);
        let mut at = shipped;
        while at < end {
            let mut part = vec![0u8; ((end - at) as usize).min(LOG_PART)];
            file.seek(std::io::SeekFrom::Start(at)).map_err(|e| super::super::error::internal(&e))?;
            file.read_exact(&mut part).map_err(|e| super::super::error::internal(&e))?;
            self.store.add_room_log(id, at, &part).await?;
            at += part.len() as u64;
        }
        Ok(at)
    }

    /// Ends a build as failed: its reason and log, recorded; nothing else is kept.
    async fn end_failed(
        &self,
        id: i64,
        attempt: i64,
        object: &Object,
        Failure(reason): Failure,
        log: Option<(String, u64)>,
        work: &Path,
    ) -> AppResult<()> {
        let _ = std::fs::remove_dir_all(work);
        let now = self.clock.now_ms();
        let actor = Actor::System("room");
        self.write(async |tx| {
            let end = Finished {
                state: "failed",
                reason: Some(&reason),
                log_sha256: log.as_ref().map(|l| l.0.as_str()),
                log_bytes: log.as_ref().map(|l| l.1 as i64),
                outputs: None,
                now,
            };
            rows::finish_room_build(tx.conn(), id, &end).await?;
            let details = json!({ "room_build": id, "attempt": attempt, "reason": reason, "log_sha256": log.as_ref().map(|l| &l.0) });
            tx.append(&actor.event(Action::BuildFailed).on(object.clone()).with(details)).await?;
            Ok(())
        })
        .await
    }

    /// Records every output as a build by the `room` account, with its provenance, and ends the
    /// build: all in one transaction.
    #[allow(clippy::too_many_arguments)]
    async fn record_outputs(
        &self,
        id: i64,
        attempt: i64,
        access: &crate::domain::guard::PinPage,
        recipe: &Recipe,
        toolchain_digest: &str,
        outputs: &[Kept],
        (log_sha256, log_bytes): &(String, u64),
        (started_at, finished_at): (i64, i64),
    ) -> AppResult<()> {
        let room = self.store.room_account(finished_at).await?.map_err(AppError::Conflict)?;
        let record = &access.record;
        let source = self.repository_source(record).await?;
        let object = access.object(&RepoPath::root());
        let actor = Actor::System("room");
        let command = recipe.argv().join(" ");
        let notes = format!("room build {id}, recipe sha256 {}", recipe.digest());
        let sandbox = sandbox::settings(recipe);
        let limits = serde_json::to_value(recipe.limits).map_err(|e| super::super::error::internal(&e))?;
        // Each object file gets its compiled-code map, its paths under the build's directory.
        let mut objects = Vec::new();
        for kept in outputs {
            objects.push(self.compiled().is_object_file(&kept.sha256).await);
        }
        self.write(async |tx| {
            let mut listed = Vec::new();
            for kept in outputs {
                let new = NewBuild {
                    pin_id: record.id,
                    name: &kept.output.artifact,
                    platform: &kept.output.platform,
                    sha256: &kept.sha256,
                    size: Some(kept.size as i64),
                    // The room is the account; it gives itself no label.
                    builder: "",
                    recorded_by: Some(room),
                    command: &command,
                    toolchain: toolchain_digest,
                    notes: &notes,
                    started_at: Some(started_at),
                    finished_at: Some(finished_at),
                    recorded_at: finished_at,
                    uploaded: true,
                };
                let build_id = build_rows::insert_build(tx.conn(), &new).await?;
                tx.append(&actor.event(Action::BuildRecord).on(object.clone()).with(json!({
                    "build_id": build_id, "name": kept.output.artifact, "platform": kept.output.platform,
                    "sha256": kept.sha256, "size": kept.size, "builder": "", "uploaded": true, "room_build": id,
                })))
                .await?;
                let payload = statement::room_provenance(&RoomProvenance {
                    room_build_id: id,
                    name: &kept.output.artifact,
                    platform: &kept.output.platform,
                    path: &kept.output.path,
                    sha256: &kept.sha256,
                    repository: &record.repository,
                    repository_source: &source,
                    commit: &record.commit_id,
                    pin_id: record.id,
                    pin_label: &record.label,
                    recipe_sha256: &recipe.digest(),
                    toolchain: &recipe.toolchain,
                    toolchain_digest,
                    sandbox: sandbox.clone(),
                    limits: limits.clone(),
                    log_sha256,
                    builder_id: &self.builds.builder_id,
                    started_at,
                    finished_at,
                });
                let subjects = [kept.sha256.clone()];
                let issue = Issue {
                    object: &object,
                    pin_id: record.id,
                    build_id: Some(build_id),
                    kind: "provenance",
                    payload: &payload,
                    subjects: &subjects,
                    now: finished_at,
                };
                self.builds().issue(tx, &actor, issue).await?;
                listed.push(RoomOutput {
                    artifact: kept.output.artifact.clone(),
                    platform: kept.output.platform.clone(),
                    path: kept.output.path.clone(),
                    sha256: kept.sha256.clone(),
                    size: kept.size,
                    build_id,
                });
            }
            for (kept, _) in outputs.iter().zip(&objects).filter(|(_, object)| **object) {
                self.compiled().queue_in(tx, &actor, access, &kept.sha256, Some(sandbox::BUILD_DIR)).await?;
            }
            let outputs_json = serde_json::to_string(&listed).map_err(|e| super::super::error::internal(&e))?;
            let end = Finished {
                state: "done",
                reason: None,
                log_sha256: Some(log_sha256),
                log_bytes: Some(*log_bytes as i64),
                outputs: Some(&outputs_json),
                now: finished_at,
            };
            rows::finish_room_build(tx.conn(), id, &end).await?;
            let details = json!({ "room_build": id, "attempt": attempt, "outputs": listed, "log_sha256": log_sha256 });
            tx.append(&actor.event(Action::BuildFinish).on(object.clone()).with(details)).await?;
            Ok(())
        })
        .await
    }
}
