//! The server's audit of its own log. An insider with database access can edit a stored event;
//! `server verify log` would catch it, but only when someone runs it. This job re-verifies the
//! stored entries as `verify log` does — each entry's bytes against its stored leaf hash, the hash
//! chain, and the Merkle root against the latest signed checkpoint — incrementally each minute as
//! the log grows, and all of it at start-up and at least daily. On the first mismatch it raises an
//! alarm that stays until the server restarts: `/healthz`, the `clearroom_self_audit_alarm`
//! metric, an error log line, a banner for staff and regulators, and an event in the log itself.

use super::Log;
use crate::audit::note::NoteVerifier;
use crate::audit::verify::{Failure, LogVerifier};
use crate::audit::Action;
use crate::audit::{Event, Outcome};
use app::error::AppResult;
use serde::Serialize;
use std::sync::Mutex;

/// Entries read from the database at a time.
const PAGE: u64 = 10_000;
/// A full pass at least this often.
pub const FULL_PASS_MS: i64 = 24 * 3_600_000;

/// What the self-audit found so far.
#[derive(Clone, Debug, Default, Serialize)]
pub struct IntegrityStatus {
    /// Entries verified against the latest checkpoint checked.
    pub verified_size: u64,
    pub last_check_ms: Option<i64>,
    pub last_full_pass_ms: Option<i64>,
    /// Set at the first mismatch; stays until restart.
    pub alarm: Option<IntegrityAlarm>,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct IntegrityAlarm {
    /// The first bad entry, where one can be named.
    pub index: Option<u64>,
    pub reason: String,
    pub at_ms: i64,
}

impl IntegrityAlarm {
    /// One line for people: the banner and the log line.
    pub fn describe(&self) -> String {
        match self.index {
            Some(index) => format!("the audit log failed its self-check at entry {index}: {}", self.reason),
            None => format!("the audit log failed its self-check: {}", self.reason),
        }
    }
}

/// The self-audit's state, kept by the domain.
#[derive(Default)]
pub struct Integrity {
    status: Mutex<IntegrityStatus>,
    /// The verifier of the incremental checks, at the entries verified so far.
    verifier: tokio::sync::Mutex<Option<LogVerifier>>,
}

impl Integrity {
    pub fn status(&self) -> IntegrityStatus {
        self.status.lock().map(|s| s.clone()).unwrap_or_default()
    }

    pub fn alarm(&self) -> Option<IntegrityAlarm> {
        self.status().alarm
    }
}

impl Log<'_> {
    /// One round of the self-audit: the entries added since the last round (or, when `full` or on
    /// the first round, all of them) checked against the latest signed checkpoint. Answers the
    /// status after the round; a mismatch raises the alarm (once).
    pub async fn self_audit(&self, full: bool) -> AppResult<IntegrityStatus> {
        let integrity = &self.integrity;
        let mut held = integrity.verifier.lock().await;
        if integrity.alarm().is_some() {
            return Ok(integrity.status());
        }
        let Some(latest) = self.audit.latest_checkpoint().await? else {
            return Ok(integrity.status());
        };
        let key = NoteVerifier::parse(&self.signer.verifier().to_string())
            .map_err(|e| super::error::internal(&std::io::Error::other(e.to_string())))?;
        let fresh = full || held.is_none();
        let mut verifier = match held.take() {
            Some(mut verifier) if !fresh => match verifier.retarget(&key, &latest.note) {
                Ok(()) => verifier,
                Err(failure) => return self.raise_alarm(failure).await,
            },
            _ => match LogVerifier::new(&key, &latest.note, None) {
                Ok(verifier) => verifier,
                Err(failure) => return self.raise_alarm(failure).await,
            },
        };
        let size = verifier.size();
        let mut start = verifier.verified();
        while start < size {
            let end = (start + PAGE).min(size);
            let page = self.audit.raw_entries(start, end).await?;
            let complete = page.len() as u64 == end - start;
            let (back, pushed) = tokio::task::spawn_blocking(move || {
                let pushed = verifier.push_all(&page);
                (verifier, pushed)
            })
            .await
            .map_err(|e| super::error::internal(&e))?;
            verifier = back;
            if let Err(failure) = pushed {
                return self.raise_alarm(failure).await;
            }
            if !complete {
                break; // Rows are missing: `check` names the first.
            }
            start = end;
        }
        if let Err(failure) = verifier.check() {
            return self.raise_alarm(failure).await;
        }
        let now = self.clock.now_ms();
        if let Ok(mut status) = integrity.status.lock() {
            status.verified_size = verifier.verified();
            status.last_check_ms = Some(now);
            if fresh {
                status.last_full_pass_ms = Some(now);
            }
        }
        *held = Some(verifier);
        Ok(integrity.status())
    }

    async fn raise_alarm(&self, failure: Failure) -> AppResult<IntegrityStatus> {
        let alarm = IntegrityAlarm { index: failure.index, reason: failure.reason, at_ms: self.clock.now_ms() };
        let first = match self.integrity.status.lock() {
            Ok(mut status) if status.alarm.is_none() => {
                status.alarm = Some(alarm.clone());
                status.last_check_ms = Some(alarm.at_ms);
                true
            }
            _ => false,
        };
        if first {
            tracing::error!(index = ?alarm.index, reason = %alarm.reason, "AUDIT LOG SELF-CHECK FAILED");
            // On record in the log itself (a new entry, after the bad one), so that the failure
            // is part of the history every verifier reads.
            let event = Event::by_system("self-audit", Action::LogSelfCheckFailed)
                .outcome(Outcome::Failed)
                .with(serde_json::json!({ "index": alarm.index, "reason": alarm.reason }));
            if let Err(error) = self.record(event).await {
                tracing::error!(%error, "recording the failed self-check failed");
            }
        }
        Ok(self.integrity.status())
    }

    /// The self-audit's state, for `/healthz` and the banner.
    pub fn integrity_status(&self) -> IntegrityStatus {
        self.integrity.status()
    }
}
