//! The `artifact.compiled_map` job: the line tables read (the artifact's, else a companion's
//! whose build-id matches), assigned to the pin's indexed paths, checksums compared, and the map
//! stored with its digest and the event that names it, in one write.

use super::INDEX_WAIT_MS;
use crate::audit::{Action, Scope};
use crate::builds::compiled::{self as mapping, Assigned};
use crate::builds::dwarf::{self, DebugLines, Limits};
use crate::domain::guard::{Actor, PinPage};
use crate::domain::Compiled;
use crate::store::compiled::{self as rows, MapEnd, MapRow};
use crate::store::files::JobRow;
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::collections::HashSet;
use std::path::PathBuf;

/// What the job found: a map, or why there is none.
enum Outcome {
    Done { lines: DebugLines, debug_sha256: Option<String>, assigned: Assigned },
    NoDebugInfo { build_id: Option<String>, reason: String },
}

impl Compiled<'_> {
    /// The `artifact.compiled_map` job.
    pub async fn run_map(&self, job: &JobRow) -> AppResult<()> {
        let Some(row) = self.store.compiled_map_by_id(job.subject).await? else { return Ok(()) };
        self.store.start_compiled_map(row.id, self.clock.now_ms()).await?;
        let actor = Actor::System("compiled");
        let pin = PinId::from_stored(row.pin_id);
        let access = self.pin_access(&actor, pin).await?;
        let outcome = self.build_map(job, &row, &access).await;
        let now = self.clock.now_ms();
        let object = access.object(&RepoPath::root());
        match outcome {
            Ok(Outcome::Done { lines, debug_sha256, assigned }) => {
                let prefix = assigned.prefix.clone();
                let (files, elsewhere, totals) = match self.compare_checksums(&actor, &access, assigned).await {
                    Ok(compared) => compared,
                    Err(error) => {
                        let reason = failure_text(&error);
                        return self.end_without_map(&actor, &object, &row, "failed", &reason, None).await;
                    }
                };
                self.store.job_progress(job.id, 3, 3, self.clock.now_ms()).await?;
                let canonical = mapping::canonical(&files, &elsewhere);
                let map_sha256 = crate::builds::sha256_hex(&canonical);
                let packed = zstd::bulk::compress(&canonical, 3).map_err(|e| crate::domain::error::internal(&e))?;
                let figures = [
                    totals.files,
                    totals.lines,
                    totals.elsewhere_files,
                    totals.elsewhere_lines,
                    totals.checksum_mismatches,
                ]
                .map(|n| n as i64);
                let end = MapEnd {
                    state: "done",
                    reason: None,
                    debug_sha256: debug_sha256.as_deref(),
                    build_id: lines.build_id.as_deref(),
                    source_prefix: prefix.as_deref(),
                    map: Some(&packed),
                    map_sha256: Some(&map_sha256),
                    figures,
                    now,
                };
                let details = json!({
                    "map": row.id, "sha256": row.sha256, "state": "done", "map_sha256": map_sha256,
                    "debug_sha256": debug_sha256, "build_id": lines.build_id, "source_prefix": end.source_prefix,
                    "files": totals.files, "lines": totals.lines, "elsewhere_files": totals.elsewhere_files,
                    "elsewhere_lines": totals.elsewhere_lines, "checksum_mismatches": totals.checksum_mismatches,
                });
                self.write(async |tx| {
                    rows::finish_compiled_map(tx.conn(), row.id, &end).await?;
                    tx.append(&actor.event(Action::ArtifactCompiledMap).on(object.clone()).with(details)).await?;
                    Ok(())
                })
                .await
            }
            Ok(Outcome::NoDebugInfo { build_id, reason }) => {
                self.end_without_map(&actor, &object, &row, "no_debug_info", &reason, build_id.as_deref()).await
            }
            Err(error) => self.end_without_map(&actor, &object, &row, "failed", &failure_text(&error), None).await,
        }
    }

    async fn end_without_map(
        &self,
        actor: &Actor<'_>,
        object: &crate::audit::Object,
        row: &MapRow,
        state: &str,
        reason: &str,
        build_id: Option<&str>,
    ) -> AppResult<()> {
        let end = MapEnd {
            state,
            reason: Some(reason),
            debug_sha256: None,
            build_id,
            source_prefix: None,
            map: None,
            map_sha256: None,
            figures: [0; 5],
            now: self.clock.now_ms(),
        };
        let details = json!({ "map": row.id, "sha256": row.sha256, "state": state, "reason": reason });
        self.write(async |tx| {
            rows::finish_compiled_map(tx.conn(), row.id, &end).await?;
            tx.append(&actor.event(Action::ArtifactCompiledMap).on(object.clone()).with(details)).await?;
            Ok(())
        })
        .await
    }

    /// Reads the line tables: the artifact's own, else a companion's whose build-id matches.
    async fn build_map(&self, job: &JobRow, row: &MapRow, access: &PinPage) -> AppResult<Outcome> {
        let artifact = self.artifact_path(&row.sha256);
        let kept = tokio::fs::try_exists(&artifact).await.unwrap_or(false);
        let own = if kept { Some(read_lines(artifact).await?) } else { None };
        let build_id = own.as_ref().and_then(|lines| lines.build_id.clone());
        let mut found = own.filter(|lines| lines.has_lines).map(|lines| (lines, None));
        let mut refused = None;
        if found.is_none() {
            for companion in self.store.debug_files(row.pin_id, &row.sha256, build_id.as_deref()).await? {
                if let (Some(ours), Some(theirs)) = (&build_id, &companion.build_id) {
                    if ours != theirs {
                        refused = Some(format!("the debug file {} has another build-id", companion.sha256));
                        continue;
                    }
                }
                let lines = read_lines(self.artifact_path(&companion.sha256)).await?;
                if lines.has_lines {
                    found = Some((lines, Some(companion.sha256)));
                    break;
                }
            }
        }
        let Some((lines, debug_sha256)) = found else {
            let reason = match (kept, refused) {
                (_, Some(refused)) => format!("no DWARF: strip happened before upload, and {refused}"),
                (true, None) => {
                    "no DWARF: strip happened before upload (upload its debug file with kind=debuginfo)".into()
                }
                (false, None) => "only the artifact's hash was recorded: upload the artifact or its debug file".into(),
            };
            return Ok(Outcome::NoDebugInfo { build_id, reason });
        };
        // Progress in three steps: the line tables read, assigned to the pin, checksums compared.
        self.store.job_progress(job.id, 1, 3, self.clock.now_ms()).await?;
        let files = self.indexed_files(job, access).await?;
        let pinned: HashSet<&str> = files.iter().map(|f| f.path.as_str()).collect();
        let declared: Vec<String> = row.declared_prefix.iter().cloned().collect();
        let assigned = mapping::assign(&lines, &pinned, &declared);
        self.store.job_progress(job.id, 2, 3, self.clock.now_ms()).await?;
        Ok(Outcome::Done { lines, debug_sha256, assigned })
    }

    /// The pin's file index, waiting (with the job's heartbeat) while `pin.index` builds it.
    async fn indexed_files(&self, job: &JobRow, access: &PinPage) -> AppResult<Vec<crate::store::files::PinFileRow>> {
        let started = std::time::Instant::now();
        loop {
            let index = self.store.job_for(crate::domain::jobs::INDEX_PIN, access.record.id).await?;
            match index.map(|job| job.state) {
                Some(state) if state == "done" => return Ok(self.store.pin_files(access.record.id).await?),
                Some(state) if state == "failed" || state == "cancelled" => {
                    return Err(AppError::Conflict("the pin's file index could not be built".into()))
                }
                _ if started.elapsed().as_millis() as u64 > INDEX_WAIT_MS => {
                    return Err(AppError::Conflict("the pin's file index is not built yet".into()))
                }
                _ => {
                    self.store.job_progress(job.id, 1, 3, self.clock.now_ms()).await?;
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Compares the compiler's MD5s with the pinned blobs (read through a whole-pin receipt,
    /// recorded first, only when the debug information has any).
    async fn compare_checksums(
        &self,
        actor: &Actor<'_>,
        access: &PinPage,
        assigned: Assigned,
    ) -> AppResult<(Vec<CompiledFile>, Vec<ElsewhereFile>, CompiledTotals)> {
        let wanted: Vec<String> = assigned.pinned.iter().filter(|f| f.md5.is_some()).map(|f| f.path.clone()).collect();
        let mut pinned_md5 = std::collections::HashMap::new();
        if !wanted.is_empty() {
            let event = actor
                .event(Action::ArtifactCompiledMap)
                .on(access.object(&RepoPath::root()).shown(&access.record.tree_id))
                .with(json!({ "state": "reading", "files": wanted.len() }));
            let receipt = self.read(event, Scope::WholePin(access.pin())).await?;
            let location = access.location();
            for path in &wanted {
                let Ok(repo_path) = RepoPath::parse(path) else { continue };
                let bytes = self.source.read_raw(&receipt, &location, &repo_path).await?;
                use md5::Digest as _;
                pinned_md5.insert(path.clone(), <[u8; 16]>::from(md5::Md5::digest(&bytes)));
            }
        }
        let (files, totals) =
            mapping::finish(assigned.pinned, &assigned.elsewhere, |path| pinned_md5.get(path).copied());
        Ok((files, assigned.elsewhere, totals))
    }
}

/// Reads a kept file's line tables, its bytes first checked against the hash it is kept under.
async fn read_lines(path: PathBuf) -> AppResult<DebugLines> {
    let (sha256, _) = crate::builds::upload::hash_file(&path).await.map_err(|e| crate::domain::error::internal(&e))?;
    if path.file_name().and_then(|name| name.to_str()) != Some(sha256.as_str()) {
        return Err(AppError::Conflict(format!("the kept file no longer has its SHA-256 (it is now {sha256})")));
    }
    tokio::task::spawn_blocking(move || dwarf::read(&path, Limits::default()))
        .await
        .map_err(|e| crate::domain::error::internal(&e))?
        .map_err(|e| AppError::Invalid(e.to_string()))
}

/// A failure as the map's reason shows it: a reading problem as it is, anything else plainly.
fn failure_text(error: &AppError) -> String {
    match error {
        AppError::Invalid(text) | AppError::Conflict(text) => text.clone(),
        _ => "the map could not be built".into(),
    }
}
