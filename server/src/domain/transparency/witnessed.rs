//! The public log's checkpoints, cosigned by the witnesses of the trust policy (`--witness-policy`,
//! the audit log's): each newer checkpoint is sent to them in the background (C2SP
//! tlog-witness, with a consistency proof from the size each holds), their cosignatures are kept,
//! and `/bt/checkpoint` serves the newest checkpoint whose cosignatures meet the policy's quorum
//! (the newest checkpoint while none does, or with no policy), its cosignature lines appended.

use super::Transparency;
use crate::audit::checkpoint::Checkpoint;
use crate::audit::merkle::Hash;
use crate::audit::witnessing::Witnessed;
use app::error::AppResult;
use std::collections::HashSet;

/// How many recent checkpoints are searched for one that meets the quorum.
const SEARCHED: i64 = 256;

/// The public log, as witnesses see it.
struct PublicWitnessed<'a, 'b> {
    service: &'a Transparency<'b>,
}

impl Witnessed for PublicWitnessed<'_, '_> {
    async fn consistency(&self, old: u64, new: u64) -> Result<Vec<Hash>, String> {
        if self.service.public.size() < new {
            self.service.sync().await.map_err(|_| "the database did not answer".to_string())?;
        }
        let tree = self.service.public.tree.read().expect("the tree's lock");
        tree.consistency(old, new).map_err(|_| "no consistency proof".to_string())
    }

    async fn cosigned_sizes(&self) -> Result<Vec<(String, u64)>, String> {
        self.service.store.public_cosigned_sizes().await.map_err(|_| "the database did not answer".to_string())
    }

    async fn keep(&self, size: u64, witness: &str, line: &str, timestamp: u64, now: i64) -> Result<(), String> {
        self.service
            .store
            .add_public_cosignature(size, witness, line, timestamp, now)
            .await
            .map_err(|_| "storing the cosignature failed".to_string())
    }
}

impl Transparency<'_> {
    /// Signs a checkpoint when the log grew and asks the witnesses to cosign the newest (the
    /// background publisher, once a second; witnesses that are slow or down delay nothing else).
    /// Returns the size submitted, if any.
    pub async fn witness_round(&self, submitted: u64) -> AppResult<Option<u64>> {
        self.publish().await?;
        let Some(supervision) = self.public_supervision.get() else { return Ok(None) };
        let Some((size, root, note)) = self.store.public_checkpoints(1).await?.into_iter().next() else {
            return Ok(None);
        };
        if size <= submitted {
            return Ok(None);
        }
        let checkpoint = Checkpoint { size, root, note };
        supervision.submit(&PublicWitnessed { service: self }, &checkpoint, self.clock.now_ms()).await;
        Ok(Some(size))
    }

    /// The checkpoint to serve: with a policy, the newest whose valid cosignatures meet its quorum
    /// (else the newest), with the valid cosignature lines appended.
    pub(super) async fn cosigned_checkpoint(&self) -> AppResult<Option<String>> {
        let checkpoints = self.store.public_checkpoints(SEARCHED).await?;
        let Some(supervision) = self.public_supervision.get() else {
            return Ok(checkpoints.into_iter().next().map(|(_, _, note)| note));
        };
        let Some(oldest) = checkpoints.last().map(|(size, _, _)| *size) else { return Ok(None) };
        let lines = self.store.public_cosignatures_from(oldest).await?;
        let policy = supervision.policy();
        let mut newest = None;
        for (size, _, note) in checkpoints {
            let body = crate::audit::note::split(&note).map_or(note.as_str(), |(body, _)| body);
            let valid: Vec<&(u64, String, String)> = lines
                .iter()
                .filter(|(s, name, line)| {
                    *s == size
                        && policy
                            .witnesses
                            .iter()
                            .any(|w| w.name == *name && matches!(w.key.check_line(body, line), Ok(Some(_))))
                })
                .collect();
            let mut served = note.clone();
            for (_, _, line) in &valid {
                served.push_str(line);
                served.push('\n');
            }
            let names: HashSet<String> = valid.iter().map(|(_, name, _)| name.clone()).collect();
            if policy.satisfied(&names) {
                return Ok(Some(served));
            }
            newest.get_or_insert(served);
        }
        Ok(newest)
    }
}
