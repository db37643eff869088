//! The log as staff and regulators read it: the event list, exact entries, signed checkpoints,
//! proofs, and checking an old checkpoint. Reading entries is itself recorded.

use super::guard::{require, Actor, Permission};
use super::Domain;
use crate::audit::checkpoint::{self, Checkpoint};
use crate::audit::proof;
use app::error::{AppError, AppResult};
use app::model::{AuditEntry, AuditPage, AuditQuery, Caller, LogOverview};
use serde_json::json;

/// Most entries one request returns.
pub const MAX_ENTRIES: u64 = 1000;

impl Domain {
    /// The latest signed checkpoint, signing one now if the log grew since (on demand).
    pub async fn log_checkpoint(&self, caller: &Caller) -> AppResult<Checkpoint> {
        require(&Actor::Web(caller), Permission::ReadLog)?;
        self.publish_checkpoint().await
    }

    /// Signs a checkpoint if the log grew (the background publisher and on-demand readers).
    pub async fn publish_checkpoint(&self) -> AppResult<Checkpoint> {
        Ok(self.audit.publish_checkpoint(&self.signer).await?)
    }

    /// The verifier key, in signed-note verifier-key format.
    pub fn log_verifier_key(&self) -> String {
        self.signer.verifier().to_string()
    }

    pub async fn inclusion_proof(&self, caller: &Caller, index: u64, size: u64) -> AppResult<Vec<[u8; 32]>> {
        require(&Actor::Web(caller), Permission::ReadLog)?;
        Ok(self.audit.inclusion_proof(index, size).await?)
    }

    pub async fn consistency_proof(&self, caller: &Caller, from: u64, to: u64) -> AppResult<Vec<[u8; 32]>> {
        require(&Actor::Web(caller), Permission::ReadLog)?;
        Ok(self.audit.consistency_proof(from, to).await?)
    }

    /// A `tlog-proof` for one entry against the latest checkpoint (signed now if needed).
    pub async fn entry_proof(&self, caller: &Caller, index: u64) -> AppResult<String> {
        let checkpoint = self.log_checkpoint(caller).await?;
        if index >= checkpoint.size {
            return Err(AppError::NotFound(format!("there is no entry {index} in the log")));
        }
        let proof = self.audit.inclusion_proof(index, checkpoint.size).await?;
        Ok(checkpoint::tlog_proof(index, &proof, &checkpoint))
    }

    /// Checks an old checkpoint (pasted by a regulator) against the log: its signature, then
    /// consistency with the latest checkpoint.
    pub async fn check_old_checkpoint(&self, caller: &Caller, note: &str) -> AppResult<String> {
        require(&Actor::Web(caller), Permission::ReadLog)?;
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
    pub async fn log_entries(&self, caller: &Caller, start: u64, end: u64) -> AppResult<Vec<AuditEntry>> {
        let actor = Actor::Web(caller);
        require(&actor, Permission::ReadLog)?;
        if end < start {
            return Err(AppError::Invalid("start and end must satisfy 0 <= start <= end".into()));
        }
        let end = end.min(start.saturating_add(MAX_ENTRIES));
        self.record(actor.event("log.read").with(json!({ "start": start, "end": end }))).await?;
        Ok(self.audit.entries(start, end).await?)
    }

    /// The event list, newest first, filtered.
    pub async fn audit_log(&self, actor: Actor<'_>, query: &AuditQuery) -> AppResult<AuditPage> {
        require(&actor, Permission::ReadLog)?;
        Ok(self.audit.query(query).await?)
    }

    pub(super) async fn log_overview(&self, caller: &Caller) -> AppResult<LogOverview> {
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
}
