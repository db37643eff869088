//! The log as staff and regulators read it: the event list, exact entries, signed checkpoints,
//! proofs, and checking an old checkpoint. Reading entries is itself recorded.

use super::guard::{require, Actor, Permission};
use super::Log;
use crate::audit::checkpoint::{self, Checkpoint};
use crate::audit::proof;
use crate::audit::tiles::{TileKind, TileRef};
use crate::audit::Action;
use app::error::{AppError, AppResult};
use app::model::{AuditEntry, AuditPage, AuditQuery, LogOverview, WitnessStatus};
use serde_json::json;

/// Most entries one request returns.
pub const MAX_ENTRIES: u64 = 1000;

impl Log<'_> {
    /// The latest signed checkpoint, signing one now if the log grew since (on demand).
    pub async fn log_checkpoint(&self, actor: Actor<'_>) -> AppResult<Checkpoint> {
        require(&actor, Permission::ReadLog)?;
        self.publish_checkpoint().await
    }

    /// The checkpoint to serve: without a witness policy the latest (signed now if needed); with
    /// one, the newest that meets the quorum with its cosignatures appended (`latest`: the newest,
    /// with whatever cosignatures it has).
    pub async fn served_checkpoint(&self, actor: Actor<'_>, latest: bool) -> AppResult<Checkpoint> {
        let newest = self.log_checkpoint(actor).await?;
        let Some(supervision) = self.supervision.get() else { return Ok(newest) };
        match supervision.cosigned(&self.store, !latest).await? {
            Some(cosigned) => Ok(Checkpoint { note: cosigned.note, ..cosigned.checkpoint }),
            None if latest => Ok(newest),
            None => Err(AppError::Unavailable(
                "no checkpoint has reached the witnesses' quorum yet; ?latest=1 serves the newest".into(),
            )),
        }
    }

    /// Starts asking the policy's witnesses to cosign each checkpoint (once, at start-up).
    pub fn supervise(&self, policy: crate::audit::policy::Policy) {
        let public = crate::audit::witnessing::Supervision::new(policy.clone());
        let _ = self.public_supervision.set(std::sync::Arc::new(public));
        let _ = self.supervision.set(std::sync::Arc::new(crate::audit::witnessing::Supervision::new(policy)));
    }

    /// Asks the witnesses to cosign the newest checkpoint, if a policy is configured.
    pub async fn submit_to_witnesses(&self, checkpoint: &Checkpoint) {
        if let Some(supervision) = self.supervision.get() {
            let log = crate::audit::witnessing::AuditWitnessed { log: &self.audit, store: &self.store };
            supervision.submit(&log, checkpoint, self.clock.now_ms()).await;
        }
    }

    /// Signs a checkpoint if the log grew (the background publisher and on-demand readers).
    pub async fn publish_checkpoint(&self) -> AppResult<Checkpoint> {
        Ok(self.audit.publish_checkpoint(&self.signer).await?)
    }

    /// The verifier key, in signed-note verifier-key format.
    pub fn log_verifier_key(&self) -> String {
        self.signer.verifier().to_string()
    }

    pub async fn inclusion_proof(&self, actor: Actor<'_>, index: u64, size: u64) -> AppResult<Vec<[u8; 32]>> {
        require(&actor, Permission::ReadLog)?;
        Ok(self.audit.inclusion_proof(index, size).await?)
    }

    pub async fn consistency_proof(&self, actor: Actor<'_>, from: u64, to: u64) -> AppResult<Vec<[u8; 32]>> {
        require(&actor, Permission::ReadLog)?;
        Ok(self.audit.consistency_proof(from, to).await?)
    }

    /// A `tlog-proof` for one entry against the latest checkpoint (signed now if needed).
    pub async fn entry_proof(&self, actor: Actor<'_>, index: u64) -> AppResult<String> {
        // The cosigned checkpoint when witnesses supervise the log, else the latest.
        let checkpoint = match self.served_checkpoint(actor, false).await {
            Ok(checkpoint) if index < checkpoint.size => checkpoint,
            _ => self.served_checkpoint(actor, true).await?,
        };
        if index >= checkpoint.size {
            return Err(AppError::NotFound(format!("there is no entry {index} in the log")));
        }
        let proof = self.audit.inclusion_proof(index, checkpoint.size).await?;
        Ok(checkpoint::tlog_proof(index, &proof, &checkpoint))
    }

    /// Checks an old checkpoint (pasted by a regulator) against the log: its signature, then
    /// consistency with the latest checkpoint.
    pub async fn check_old_checkpoint(&self, actor: Actor<'_>, note: &str) -> AppResult<String> {
        require(&actor, Permission::ReadLog)?;
        let verifier = self.signer.verifier();
        let note = note.replace("\r\n", "\n");
        let note = if note.ends_with('\n') { note } else { format!("{note}\n") };
        let (size, root) = checkpoint::open(&verifier, &note)
            .map_err(|e| AppError::Invalid(format!("this is not a checkpoint signed by this log's key ({e})")))?;
        let latest = self.log_checkpoint(actor).await?;
        if size > latest.size {
            return Err(AppError::Conflict(format!(
                "NOT consistent: the old checkpoint has {size} entries but the log has {}; the log was truncated",
                latest.size
            )));
        }
        let proof = self.audit.consistency_proof(size, latest.size).await?;
        proof::verify_extension(size, latest.size, &root, &latest.root, &proof).map_err(|_| {
            AppError::Conflict(format!(
                "NOT consistent: the log at {} entries does not extend the checkpoint of {size} entries",
                latest.size
            ))
        })?;
        Ok(format!("consistent: the checkpoint of {size} entries is a prefix of the log at {} entries", latest.size))
    }

    /// Audit entries `start..end` (at most `MAX_ENTRIES`), exact leaves included; the read is
    /// recorded first.
    pub async fn log_entries(&self, actor: Actor<'_>, start: u64, end: u64) -> AppResult<Vec<AuditEntry>> {
        require(&actor, Permission::ReadLog)?;
        if end < start {
            return Err(AppError::Invalid("start and end must satisfy 0 <= start <= end".into()));
        }
        let end = end.min(start.saturating_add(MAX_ENTRIES));
        self.record(actor.event(Action::LogRead).with(json!({ "start": start, "end": end }))).await?;
        Ok(self.audit.entries(start, end).await?)
    }

    /// A tile of the log (C2SP tlog-tiles) by its path after `tile/`, and whether it is full (and
    /// so never changes). Hash tiles name no event; an entry bundle holds events, so it is
    /// recorded as `log.read` before it is read, as the entries API is.
    pub async fn tile(&self, actor: Actor<'_>, path: &str) -> AppResult<(Vec<u8>, bool)> {
        require(&actor, Permission::ReadLog)?;
        let tile = TileRef::parse(path).map_err(|e| AppError::Invalid(e.to_string()))?;
        let missing = || AppError::NotFound("the log has no such tile (yet)".into());
        let (size, _) = self.audit.head().await?;
        if !tile.exists_at(size) {
            return Err(missing());
        }
        if tile.kind == TileKind::Entries {
            let (_, start, end) = tile.span();
            let details = json!({ "start": start, "end": end, "tile": tile.path() });
            self.record(actor.event(Action::LogRead).with(details)).await?;
        }
        let bytes = self.audit.tile(&tile).await?.ok_or_else(missing)?;
        Ok((bytes, tile.full() && tile.kind != TileKind::Entries))
    }

    /// The event list, newest first, filtered.
    pub async fn audit_log(&self, actor: Actor<'_>, query: &AuditQuery) -> AppResult<AuditPage> {
        require(&actor, Permission::ReadLog)?;
        let mut page = self.audit.query(query).await?;
        for entry in &mut page.entries {
            describe(entry);
        }
        Ok(page)
    }

    pub(super) async fn log_overview(&self, actor: Actor<'_>) -> AppResult<LogOverview> {
        let checkpoint = self.served_checkpoint(actor, true).await?;
        let verifier = self.signer.verifier();
        let mut overview = LogOverview {
            size: checkpoint.size,
            root_hex: hex::encode(checkpoint.root),
            checkpoint: checkpoint.note,
            verifier_key: verifier.to_string(),
            fingerprint: verifier.fingerprint(),
            witnesses: Vec::new(),
            quorum_met: None,
            quorum_lagging_ms: None,
        };
        if let Some(supervision) = self.supervision.get() {
            let cosigned = self.store.latest_cosignatures().await?;
            let state = supervision.state();
            overview.witnesses = supervision
                .policy()
                .witnesses
                .iter()
                .map(|w| {
                    let last = cosigned.iter().find(|(name, _, _)| *name == w.name);
                    WitnessStatus {
                        name: w.name.clone(),
                        url: w.url.clone(),
                        cosigned_size: last.map(|(_, size, _)| *size),
                        cosigned_at_ms: last.map(|(_, _, at)| at * 1000),
                        last_error: state.get(&w.name).and_then(|s| s.last_error.clone()),
                    }
                })
                .collect();
            let quorum = supervision.cosigned(&self.store, true).await?;
            overview.quorum_met = Some(quorum.as_ref().is_some_and(|q| q.checkpoint.size == overview.size));
            overview.quorum_lagging_ms = self.quorum_lag(quorum.map(|q| q.checkpoint.size)).await?;
        }
        Ok(overview)
    }

    /// How long the oldest checkpoint signed after the newest quorum-cosigned one has waited for
    /// the quorum (none when the newest checkpoint has it).
    async fn quorum_lag(&self, cosigned_size: Option<u64>) -> AppResult<Option<i64>> {
        let waiting = self.store.checkpoints_signed_after(cosigned_size.unwrap_or(0)).await?;
        Ok(waiting.map(|signed_at| self.clock.now_ms() - signed_at))
    }

    /// For `/healthz`: whether witnesses keep up (true without a policy).
    pub async fn witnesses_keep_up(&self) -> AppResult<bool> {
        let Some(supervision) = self.supervision.get() else { return Ok(true) };
        let cosigned = supervision.cosigned(&self.store, true).await?.map(|c| c.checkpoint.size);
        Ok(self.quorum_lag(cosigned).await?.is_none_or(|lag| lag < QUORUM_WARNING_MS))
    }
}

/// A checkpoint that has waited this long for the witnesses' quorum is a warning.
pub const QUORUM_WARNING_MS: i64 = 10 * 60_000;

/// Fills in what the audit page shows of an entry beyond its columns: every path its objects name
/// and the leaf indented. A leaf that is not JSON (never written so) is shown as it is.
fn describe(entry: &mut AuditEntry) {
    let Ok(leaf) = serde_json::from_str::<serde_json::Value>(&entry.leaf) else {
        entry.leaf_formatted = entry.leaf.clone();
        return;
    };
    let mut paths: Vec<String> = Vec::new();
    for object in leaf.get("objects").and_then(|o| o.as_array()).into_iter().flatten() {
        if let Some(path) = object.get("path").and_then(|p| p.as_str()) {
            if !paths.iter().any(|p| p == path) {
                paths.push(path.to_string());
            }
        }
    }
    entry.paths = paths;
    entry.leaf_formatted = serde_json::to_string_pretty(&leaf).unwrap_or_else(|_| entry.leaf.clone());
}
