//! Regulator exports: asking for a bundle (recorded), building it as a background job (or at the
//! command line), and handing it to its creator. The bundle's members and their rules are in
//! `crate::export` and `docs/bundle-format.md`.
//!
//! An export reads the log in two passes: the first finds the events in scope (and the sessions
//! and pins they name); the events that give them context — the sign-ins and sign-outs of those
//! sessions, the attestation issues of those pins — are added; the second pass writes them in
//! index order. Only indices are kept between passes, so memory stays flat.

use super::error::internal;
use super::guard::{require, Actor, Permission};
use super::threads::{assemble, Viewer};
use super::Domain;
use crate::audit::checkpoint::{self, Checkpoint};
use crate::audit::Action;
use crate::audit::Object;
use crate::builds::sha256_hex;
use crate::export::writer::{BundleWriter, Written};
use crate::export::{self, bundle, members, multiproof::Gaps, Leaf, Scope, Summary};
use crate::store::exports::{EventFilter, ExportRow, FinishedExport};
use crate::store::files::JobRow;
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Builds one export's bundle.
pub const EXPORT_BUNDLE: &str = "export.bundle";

/// Events read per query.
const PAGE: u64 = 5000;
/// Proof ranges hashed per query.
const PROOF_BATCH: usize = 1024;

/// Where bundles are kept, and for how long their creator may download them.
#[derive(Clone, Debug)]
pub struct ExportSettings {
    pub dir: PathBuf,
    pub retention_ms: i64,
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

impl Domain {
    pub fn set_export_settings(&self, settings: ExportSettings) {
        let _ = self.exports.set(settings);
    }

    fn export_settings(&self) -> ExportSettings {
        self.exports.get().cloned().unwrap_or_else(|| ExportSettings {
            dir: self.builds.artifacts.parent().map(|p| p.join("exports")).unwrap_or_else(|| "exports".into()),
            retention_ms: 7 * 24 * 3_600_000,
        })
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
    /// the caller to build at once). Returns the export's id.
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
        let id = self
            .write(async |tx| {
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
                let mut event = actor.event(Action::ExportRequest);
                for pin in &pins {
                    event = event.on(Object::at(PinId::from_stored(pin.id), Some(&pin.commit_id), &RepoPath::root()));
                }
                let details = json!({
                    "export_id": id,
                    "scope": scope.statement(),
                    "previous_size": previous.as_ref().map(|(_, size)| *size),
                });
                tx.append(&event.with(details)).await?;
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
        let fresh = self.publish_checkpoint().await?;
        let Some(supervision) = self.supervision.get() else { return Ok(fresh) };
        self.submit_to_witnesses(&fresh).await;
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

    /// Writes the bundle of `row`'s scope to `path`.
    async fn build_bundle(&self, row: &ExportRow, path: &Path, job: Option<i64>) -> AppResult<Built> {
        let scope: Scope = serde_json::from_str(&row.scope).map_err(|e| internal(&e))?;
        let checkpoint = self.export_checkpoint().await?;
        let size = checkpoint.size;
        let reviewer_grants: HashSet<i64> = match &scope.reviewer {
            Some(name) => match self.store.user_by_name(name).await? {
                Some(user) => self.store.grants_of(user.id).await?.into_iter().map(|g| g.id).collect(),
                None => HashSet::new(),
            },
            None => HashSet::new(),
        };

        // Pass 1: the events in scope, their sessions and pins.
        let filter = EventFilter {
            pins: scope.pins.clone(),
            actor_or_grants: scope.reviewer.clone(),
            from_ms: scope.from_ms,
            until_ms: scope.until_ms,
        };
        let mut selected: Vec<u64> = Vec::new();
        let mut actors: HashSet<String> = HashSet::new();
        let mut named_pins: BTreeSet<i64> = BTreeSet::new();
        let mut start = 0u64;
        while start < size {
            let end = (start + PAGE).min(size);
            for (index, leaf, _) in self.store.export_events(&filter, start, end).await? {
                let Some(leaf) = Leaf::parse(&leaf) else { continue };
                if scope.holds(&leaf, &reviewer_grants) {
                    selected.push(index);
                    actors.extend(leaf.actor.clone());
                    named_pins.extend(leaf.pins());
                }
            }
            self.export_progress(job, end / 2, size).await?;
            start = end;
        }
        let record_pins: Vec<i64> =
            if scope.pins.is_empty() { named_pins.into_iter().collect() } else { scope.pins.clone() };

        // The context: sign-ins and sign-outs of those people, attestations of those pins (read a
        // range of the log at a time, so that a log of many sign-ins is not held at once).
        let mut start = 0u64;
        while start < size {
            let end = (start + 20 * PAGE).min(size);
            let actions = ["auth.login", "auth.logout", "attestation.issue"];
            for (index, leaf, _) in self.store.context_events(&actions, start, end).await? {
                let Some(leaf) = Leaf::parse(&leaf) else { continue };
                let wanted = if leaf.action == "attestation.issue" {
                    leaf.pins().iter().any(|pin| record_pins.contains(pin))
                } else {
                    scope.is_session_context(&leaf, &actors)
                };
                if wanted {
                    selected.push(index);
                }
            }
            start = end;
        }
        selected.sort_unstable();
        selected.dedup();
        let total = selected.len() as u64;

        // Pass 2: write.
        let mut bundle = BundleWriter::create(path, self.clock.now_ms()).map_err(io_error)?;
        let mut summary = Summary::default();
        let mut comment_events: HashMap<i64, u64> = HashMap::new();
        let mut verdict_events: HashSet<i64> = HashSet::new();
        let mut grant_events: HashSet<i64> = HashSet::new();
        let mut envelope_hashes: HashSet<String> = HashSet::new();
        bundle.begin(members::EVENTS).await.map_err(io_error)?;
        let base64 = base64::engine::general_purpose::STANDARD;
        for (n, chunk) in selected.chunks(1000).enumerate() {
            let events = self.store.events_at(chunk).await?;
            if events.len() != chunk.len() {
                return Err(AppError::Unavailable("the log changed under the export; try again".into()));
            }
            let mut lines = Vec::with_capacity(events.len() * 600);
            for (index, leaf, leaf_hash) in &events {
                let line = bundle::EventLine {
                    index: *index,
                    leaf: base64::Engine::encode(&base64, leaf),
                    leaf_hash: hex::encode(leaf_hash),
                };
                serde_json::to_writer(&mut lines, &line).map_err(|e| internal(&e))?;
                lines.push(b'\n');
                let Some(leaf) = Leaf::parse(leaf) else { continue };
                summary.add(&leaf);
                let id = leaf.details["comment_id"].as_i64();
                match leaf.action.as_str() {
                    "comment.create" => {
                        if let Some(id) = id {
                            comment_events.insert(id, *index);
                        }
                    }
                    "verdict.submit" => verdict_events.extend(leaf.details["verdict_id"].as_i64()),
                    "grant.create" => grant_events.extend(leaf.details["grant_id"].as_i64()),
                    "attestation.issue" => {
                        envelope_hashes.extend(leaf.details["envelope_sha256"].as_str().map(str::to_string))
                    }
                    _ => {}
                }
            }
            bundle.write(&lines).await.map_err(io_error)?;
            let done = ((n + 1) * 1000).min(selected.len()) as u64;
            self.export_progress(job, size / 2 + done * size / 2 / total.max(1), size).await?;
        }
        bundle.end().await.map_err(io_error)?;
        summary.finish();

        // The proof of every event against the checkpoint.
        bundle.begin(members::PROOF).await.map_err(io_error)?;
        let mut gaps = Gaps::new(&selected, size);
        loop {
            let batch: Vec<(u64, u64)> = gaps.by_ref().take(PROOF_BATCH).collect();
            if batch.is_empty() {
                break;
            }
            let hashes = self.audit.range_hashes(&batch, size).await?;
            let mut text = String::with_capacity(hashes.len() * 65);
            for hash in hashes {
                text.push_str(&hex::encode(hash));
                text.push('\n');
            }
            bundle.write(text.as_bytes()).await.map_err(io_error)?;
        }
        bundle.end().await.map_err(io_error)?;

        bundle.member(members::CHECKPOINT, checkpoint.note.as_bytes()).await.map_err(io_error)?;
        let mut previous_size = None;
        if let Some(note) = &row.previous {
            let (old_size, old_root) = checkpoint::open(&self.signer.verifier(), note)
                .map_err(|_| AppError::Invalid("the previous checkpoint no longer verifies".into()))?;
            let proof = if old_size <= size { self.audit.consistency_proof(old_size, size).await? } else { Vec::new() };
            let text: String = proof.iter().map(|h| format!("{}\n", hex::encode(h))).collect();
            bundle.member(members::PREVIOUS_CHECKPOINT, note.as_bytes()).await.map_err(io_error)?;
            bundle.member(members::CONSISTENCY, text.as_bytes()).await.map_err(io_error)?;
            previous_size = Some((old_size, hex::encode(old_root)));
        }
        let mut witnesses = Vec::new();
        if let Some(supervision) = self.supervision.get() {
            let policy = supervision.policy();
            bundle.member(members::POLICY, policy.text.as_bytes()).await.map_err(io_error)?;
            for witness in &policy.witnesses {
                witnesses.push(bundle::WitnessKeyRef { name: witness.name.clone(), vkey: witness.key.to_string() });
            }
        }
        let log_key = self.signer.verifier();
        bundle.member(members::LOG_KEY, format!("{log_key}\n").as_bytes()).await.map_err(io_error)?;
        let attestation_pem = self.builds.key.public_pem();
        bundle.member(members::ATTESTATION_KEY, attestation_pem.as_bytes()).await.map_err(io_error)?;

        // The records of the pins in scope.
        let mut pins = Vec::new();
        let mut labels = HashMap::new();
        for pin in &record_pins {
            if let Some(record) = self.store.pin(*pin).await? {
                labels.insert(record.id, record.label.clone());
                pins.push(record);
            }
        }
        let mut attestations = Vec::new();
        for pin in &pins {
            for attestation in self.store.attestations_of_pin(pin.id).await? {
                if envelope_hashes.contains(&attestation.envelope_sha256) {
                    attestations.extend_from_slice(attestation.envelope.as_bytes());
                    attestations.push(b'\n');
                }
            }
        }
        bundle.member(members::ATTESTATIONS, &attestations).await.map_err(io_error)?;

        let viewer = Viewer { user_id: None, role: Role::Regulator, may_review: false };
        let mut threads = Vec::new();
        for pin in &pins {
            let rows = self.store.comments_of_pin(pin.id).await?;
            for thread in assemble(&rows, &viewer, Some(pin.id), &labels) {
                let in_scope = std::iter::once(&thread.root)
                    .chain(&thread.replies)
                    .any(|comment| comment_events.contains_key(&comment.id));
                if in_scope {
                    threads.push(thread);
                }
            }
        }
        let repositories: HashMap<i64, String> = {
            let mut map = HashMap::new();
            for repository in self.store.list_repositories().await? {
                map.insert(repository.id, repository.source);
            }
            map
        };
        let sarif = export::sarif::findings(&threads, &pins, &repositories, env!("CARGO_PKG_VERSION"));
        bundle
            .member(members::FINDINGS, &serde_json::to_vec_pretty(&sarif).map_err(|e| internal(&e))?)
            .await
            .map_err(io_error)?;
        let comments = export::sarif::comments_json(&threads, &comment_events);
        bundle
            .member(members::COMMENTS, &serde_json::to_vec_pretty(&comments).map_err(|e| internal(&e))?)
            .await
            .map_err(io_error)?;

        let mut verdicts = Vec::new();
        for pin in &pins {
            for verdict in self.store.verdicts_of_pin(pin.id).await? {
                if verdict_events.contains(&verdict.id) {
                    let stored = |text: &str| serde_json::from_str::<serde_json::Value>(text).unwrap_or_default();
                    verdicts.push(bundle::VerdictRecord {
                        binaries: stored(&verdict.binaries),
                        commit: verdict.commit_id,
                        coverage: stored(&verdict.coverage),
                        created: app::times::rfc3339_millis(verdict.created_at),
                        id: verdict.id,
                        open_findings: stored(&verdict.open_findings),
                        pin: pin.id,
                        reviewer: verdict.reviewer,
                        summary_sha256: sha256_hex(verdict.summary.as_bytes()),
                        summary: verdict.summary,
                        supersedes: verdict.supersedes,
                        verdict: verdict.verdict,
                    });
                }
            }
        }
        bundle
            .member(members::VERDICTS, &serde_json::to_vec_pretty(&verdicts).map_err(|e| internal(&e))?)
            .await
            .map_err(io_error)?;

        let grants: Vec<bundle::GrantRecord> = self
            .store
            .list_grants()
            .await?
            .into_iter()
            .rev()
            .filter(|grant| grant_events.contains(&grant.id))
            .map(|grant| bundle::GrantRecord {
                ends_at: app::times::rfc3339_millis(grant.ends_at),
                granted_by: grant.granted_by,
                id: grant.id,
                pin: grant.pin_id,
                pin_label: grant.pin_label,
                reviewer: grant.reviewer,
                revoked_at: grant.revoked_at.map(app::times::rfc3339_millis),
                starts_at: app::times::rfc3339_millis(grant.starts_at),
            })
            .collect();
        bundle
            .member(members::GRANTS, &serde_json::to_vec_pretty(&grants).map_err(|e| internal(&e))?)
            .await
            .map_err(io_error)?;
        let session_list: Vec<&export::SessionSummary> = summary.sessions.values().collect();
        bundle
            .member(members::SESSIONS, &serde_json::to_vec_pretty(&session_list).map_err(|e| internal(&e))?)
            .await
            .map_err(io_error)?;

        let mut coverage = std::mem::take(&mut summary.files);
        for pin in &pins {
            for file in self.store.pin_files(pin.id).await? {
                let row = coverage.entry((pin.id, file.path.clone())).or_insert_with(|| export::CoverageRow {
                    pin: pin.id,
                    path: file.path.clone(),
                    ..Default::default()
                });
                row.lines = Some(file.lines);
            }
        }
        // Streamed a thousand rows at a time: a pin may have a hundred thousand files.
        bundle.begin(members::COVERAGE).await.map_err(io_error)?;
        let csv_writer = || csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
        let csv_bytes = |csv: csv::Writer<Vec<u8>>| csv.into_inner().map_err(|e| internal(e.error()));
        let mut csv = csv_writer();
        csv.write_record(export::COVERAGE_HEADER).map_err(|e| internal(&e))?;
        for (n, row) in coverage.values().enumerate() {
            csv.write_record(row.record()).map_err(|e| internal(&e))?;
            if n % 1000 == 999 {
                let chunk = csv_bytes(std::mem::replace(&mut csv, csv_writer()))?;
                bundle.write(&chunk).await.map_err(io_error)?;
            }
        }
        bundle.write(&csv_bytes(csv)?).await.map_err(io_error)?;
        bundle.end().await.map_err(io_error)?;

        let created = app::times::rfc3339_millis(self.clock.now_ms());
        let manifest_pins: Vec<bundle::ManifestPin> = pins
            .iter()
            .map(|p| bundle::ManifestPin {
                commit: p.commit_id.clone(),
                id: p.id,
                label: p.label.clone(),
                repository: p.repository.clone(),
            })
            .collect();
        let builds = {
            let mut all = Vec::new();
            for pin in &pins {
                all.extend(self.store.builds_of_pin(pin.id).await?);
            }
            all
        };
        let report = export::report::Report {
            created: &created,
            scope: &scope,
            checkpoint_size: size,
            events: total,
            pins: &pins,
            sessions: &session_list,
            coverage: &coverage,
            threads: &threads,
            verdicts: &verdicts,
            builds: &builds,
            log_key: &log_key.to_string(),
            log_fingerprint: &log_key.fingerprint(),
        }
        .render();
        bundle.member(members::REPORT, report.as_bytes()).await.map_err(io_error)?;

        let records = bundle.records().await.map_err(io_error)?;
        let manifest = bundle::Manifest {
            checkpoint: bundle::CheckpointRef {
                origin: log_key.name().to_string(),
                root: hex::encode(checkpoint.root),
                size,
            },
            created,
            events: total,
            export_id: row.id,
            format: export::FORMAT.into(),
            keys: bundle::Keys {
                attestation: bundle::AttestationKeyRef { keyid: self.builds.key.keyid().to_string() },
                log: bundle::LogKeyRef { fingerprint: log_key.fingerprint(), vkey: log_key.to_string() },
                witnesses,
            },
            members: records
                .iter()
                .map(|m| bundle::MemberRecord { name: m.name.clone(), sha256: m.sha256.clone(), size: m.size })
                .collect(),
            pins: manifest_pins,
            previous_checkpoint: previous_size.map(|(size, root)| bundle::PreviousCheckpoint { root, size }),
            proof: "multi-leaf/1".into(),
            requested_by: row.creator.clone(),
            scope: scope.statement(),
            server_version: env!("CARGO_PKG_VERSION").into(),
        };
        let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| internal(&e))?;
        bundle.member(members::MANIFEST, &manifest_bytes).await.map_err(io_error)?;
        let signed = export::signature_text(log_key.name(), &sha256_hex(&manifest_bytes));
        let signature = self.signer.sign(&signed).map_err(|e| internal(&e))?;
        bundle.member(members::SIGNATURE, signature.as_bytes()).await.map_err(io_error)?;
        let written = bundle.finish().await.map_err(io_error)?;
        self.export_progress(job, size, size).await?;
        Ok(Built { written, events: total, checkpoint_size: size })
    }

    /// The caller's exports (all of them for staff), with progress; expired files are removed.
    pub async fn exports(&self, caller: &Caller) -> AppResult<Vec<ExportStatus>> {
        let actor = Actor::Web(caller);
        require(&actor, Permission::Export)?;
        self.expire_exports().await?;
        let identity = super::guard::signed_in(caller)?;
        let creator = super::guard::rules::exports_visible_to(identity.role, identity.user_id);
        let mut list = Vec::new();
        for row in self.store.exports_by(creator, 100).await? {
            list.push(self.export_status(identity.user_id, &row).await?);
        }
        Ok(list)
    }

    /// The `/exports` page: the pins and accounts to choose from, and the caller's exports.
    pub async fn exports_page(&self, caller: &Caller) -> AppResult<ExportsPage> {
        let exports = self.exports(caller).await?;
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
    pub async fn export(&self, caller: &Caller, id: i64) -> AppResult<ExportStatus> {
        let actor = Actor::Web(caller);
        require(&actor, Permission::Export)?;
        self.expire_exports().await?;
        let identity = super::guard::signed_in(caller)?;
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
    pub async fn export_file(&self, caller: &Caller, id: i64) -> AppResult<(PathBuf, String)> {
        let actor = Actor::Web(caller);
        require(&actor, Permission::Export)?;
        self.expire_exports().await?;
        let identity = super::guard::signed_in(caller)?;
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
    pub async fn estimate_export(&self, caller: &Caller, request: &ExportRequest) -> AppResult<ExportEstimate> {
        require(&Actor::Web(caller), Permission::Export)?;
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
