//! Writing a bundle: the events of a scope found in one pass over the log and written with their
//! context and proofs in a second, then the records of the pins in scope, the report and the signed
//! manifest (`docs/bundle-format.md`), each member as its `export::bundle` type.

use super::{io_error, Built, PAGE, PROOF_BATCH};
use crate::audit::checkpoint;
use crate::builds::sha256_hex;
use crate::domain::error::internal;
use crate::domain::guard::{rules, PinFacts};
use crate::domain::threads::{assemble, Viewer};
use crate::domain::Exports;
use crate::export::writer::BundleWriter;
use crate::export::{self, bundle, members, multiproof::Gaps, Leaf, Scope, Summary};
use crate::store::exports::{EventFilter, ExportRow};
use app::error::{AppError, AppResult};
use app::model::*;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;

impl Exports<'_> {
    /// Writes the bundle of `row`'s scope to `path`.
    pub(super) async fn build_bundle(&self, row: &ExportRow, path: &Path, job: Option<i64>) -> AppResult<Built> {
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
            let actions =
                ["auth.login", "auth.logout", "attestation.issue", "artifact.compiled_map", "requirements.import"];
            for (index, leaf, _) in self.store.context_events(&actions, start, end).await? {
                let Some(leaf) = Leaf::parse(&leaf) else { continue };
                let of_pins = leaf.pins().iter().any(|pin| record_pins.contains(pin));
                let wanted = match leaf.action.as_str() {
                    // Attestations, and the digests of the requirement lists the bundle holds.
                    "attestation.issue" | "requirements.import" => of_pins,
                    // A map's digest, so that the map the bundle holds is proven.
                    "artifact.compiled_map" => of_pins && leaf.details["state"] == "done",
                    _ => scope.is_session_context(&leaf, &actors),
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
        let (requirement_lists, traceability) = self.bundled_requirements(&mut bundle, &summary, &comments).await?;

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

        let builds = {
            let mut all = Vec::new();
            for pin in &pins {
                all.extend(self.store.builds_of_pin(pin.id).await?);
            }
            all
        };
        let maps = self.bundled_maps(&mut bundle, &summary, &builds).await?;
        let compiled = export::compiled::records(&maps, &summary);
        bundle
            .member(members::COMPILED, &serde_json::to_vec_pretty(&compiled).map_err(|e| internal(&e))?)
            .await
            .map_err(io_error)?;
        let compiled_lines = export::compiled::compiled_lines(&maps);
        let mut coverage = std::mem::take(&mut summary.files);
        let creator = match &row.creator {
            Some(name) => self.store.user_by_name(name).await?,
            None => None,
        };
        // Each pin's size (files, lines), which the report's shares are of, as on the coverage page.
        let mut pin_totals = std::collections::BTreeMap::new();
        for pin in &pins {
            // Every file of the pin by path only for a creator who may read its source (the
            // operator may); otherwise the rows are the files the events name (security defect 9),
            // with their lines, as the coverage page shows them.
            let every_path = match &creator {
                Some(user) => {
                    let grants = self.store.grants_of_for_pin(user.id, pin.id).await?;
                    let caps = rules::capabilities(user.role, PinFacts::of(pin), &grants, self.clock.now_ms(), None);
                    rules::coverage_lists_every_path(&caps)
                }
                None => true,
            };
            let files = self.store.pin_files(pin.id).await?;
            pin_totals.insert(pin.id, (files.len() as u64, files.iter().map(|f| f.lines).sum::<u64>()));
            for file in files {
                if !every_path {
                    if let Some(row) = coverage.get_mut(&(pin.id, file.path.clone())) {
                        row.lines = Some(file.lines);
                    }
                    continue;
                }
                let row = coverage.entry((pin.id, file.path.clone())).or_insert_with(|| export::CoverageRow {
                    pin: pin.id,
                    path: file.path.clone(),
                    ..Default::default()
                });
                row.lines = Some(file.lines);
            }
        }
        for ((pin, path), lines) in compiled_lines {
            if let Some(row) = coverage.get_mut(&(pin, path)) {
                row.compiled_lines = Some(lines);
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
        let report = export::report::Report {
            created: &created,
            scope: &scope,
            checkpoint_size: size,
            events: total,
            pins: &pins,
            sessions: &session_list,
            coverage: &coverage,
            pin_totals: &pin_totals,
            threads: &threads,
            verdicts: &verdicts,
            builds: &builds,
            compiled: &compiled,
            requirements: &requirement_lists,
            traceability: &traceability,
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
}
