//! The log asks witnesses (C2SP tlog-witness) to cosign each checkpoint it signs, verifies their
//! answers as C2SP cosignatures with the keys of its trust policy (C2SP tlog-policy), and keeps the
//! valid ones; a checkpoint is served as cosigned once the policy's quorum has cosigned it. A
//! witness that is down, slow or refusing never blocks the log or any request: submissions run in
//! the background with a timeout, and a 429 backs that witness off.

use super::checkpoint::Checkpoint;
use super::policy::{Policy, Witness};
use super::AuditLog;
use crate::store::Store;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long one witness may take to answer.
const TIMEOUT: Duration = Duration::from_secs(10);
/// How long a witness that answered 429 is left alone.
const BACK_OFF: Duration = Duration::from_secs(60);
/// How many recent checkpoints are searched for one that meets the quorum.
const SEARCHED: i64 = 256;

/// What the log knows of one witness, for the `/log` page.
#[derive(Clone, Debug, Default)]
pub struct WitnessState {
    /// The size the witness holds, as far as the log knows.
    pub known_size: Option<u64>,
    pub last_error: Option<String>,
    pub last_attempt_ms: Option<i64>,
    back_off_until: Option<Instant>,
}

/// A log whose checkpoints witnesses cosign: where its consistency proofs come from and where
/// the cosignatures it receives are kept (the audit log, `AuditWitnessed`; the public log).
pub trait Witnessed {
    /// A consistency proof from `old` to `new`.
    fn consistency(
        &self,
        old: u64,
        new: u64,
    ) -> impl std::future::Future<Output = Result<Vec<super::merkle::Hash>, String>> + Send;
    /// The size each witness last cosigned, as stored.
    fn cosigned_sizes(&self) -> impl std::future::Future<Output = Result<Vec<(String, u64)>, String>> + Send;
    /// Keeps a cosignature line of a checkpoint.
    fn keep(
        &self,
        size: u64,
        witness: &str,
        line: &str,
        timestamp: u64,
        now: i64,
    ) -> impl std::future::Future<Output = Result<(), String>> + Send;
}

/// The audit log, as witnesses see it.
pub struct AuditWitnessed<'a> {
    pub log: &'a AuditLog,
    pub store: &'a Store,
}

impl Witnessed for AuditWitnessed<'_> {
    async fn consistency(&self, old: u64, new: u64) -> Result<Vec<super::merkle::Hash>, String> {
        self.log.consistency_proof(old, new).await.map_err(|_| "no consistency proof".to_string())
    }

    async fn cosigned_sizes(&self) -> Result<Vec<(String, u64)>, String> {
        let rows = self.store.latest_cosignatures().await.map_err(|_| "the database did not answer".to_string())?;
        Ok(rows.into_iter().map(|(name, size, _)| (name, size)).collect())
    }

    async fn keep(&self, size: u64, witness: &str, line: &str, timestamp: u64, now: i64) -> Result<(), String> {
        self.store
            .insert_cosignature(size, witness, line, timestamp, now)
            .await
            .map_err(|_| "storing the cosignature failed".to_string())
    }
}

pub struct Supervision {
    policy: Policy,
    client: reqwest::Client,
    state: Mutex<HashMap<String, WitnessState>>,
}

/// A checkpoint with the cosignatures it carries.
#[derive(Clone, Debug)]
pub struct Cosigned {
    pub checkpoint: Checkpoint,
    /// Names of the witnesses whose valid cosignatures are appended.
    pub witnesses: Vec<String>,
    /// The signed note with the cosignature lines appended.
    pub note: String,
    pub quorum: bool,
}

impl Supervision {
    pub fn new(policy: Policy) -> Supervision {
        let client = reqwest::Client::builder().timeout(TIMEOUT).build().unwrap_or_default();
        Supervision { policy, client, state: Mutex::new(HashMap::new()) }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn state(&self) -> HashMap<String, WitnessState> {
        self.state.lock().expect("witness state").clone()
    }

    fn update(&self, name: &str, change: impl FnOnce(&mut WitnessState)) {
        change(self.state.lock().expect("witness state").entry(name.to_string()).or_default());
    }

    /// Asks every witness with a URL to cosign `checkpoint`, concurrently; stores what verifies.
    pub async fn submit(&self, log: &impl Witnessed, checkpoint: &Checkpoint, now_ms: i64) {
        let asks = self.policy.witnesses.iter().filter(|w| w.url.is_some()).map(|witness| async move {
            let backing_off = self
                .state
                .lock()
                .expect("witness state")
                .get(&witness.name)
                .and_then(|s| s.back_off_until)
                .is_some_and(|until| Instant::now() < until);
            if backing_off {
                return;
            }
            let outcome = self.submit_to(witness, log, checkpoint, now_ms).await;
            self.update(&witness.name, |state| {
                state.last_attempt_ms = Some(now_ms);
                state.last_error = outcome.err();
            });
        });
        futures_util::future::join_all(asks).await;
    }

    async fn submit_to(
        &self,
        witness: &Witness,
        log: &impl Witnessed,
        checkpoint: &Checkpoint,
        now_ms: i64,
    ) -> Result<(), String> {
        let url = format!("{}/add-checkpoint", witness.url.as_deref().unwrap_or("").trim_end_matches('/'));
        let known = self.state.lock().expect("witness state").get(&witness.name).and_then(|s| s.known_size);
        let mut old = match known {
            Some(size) => size,
            None => log
                .cosigned_sizes()
                .await?
                .into_iter()
                .find(|(name, _)| *name == witness.name)
                .map(|(_, size)| size)
                .unwrap_or(0),
        };
        let checkpoint_body = super::note::split(&checkpoint.note).map_or(checkpoint.note.as_str(), |(body, _)| body);
        // At most two tries: the second from the size a 409 names.
        for _ in 0..2 {
            if old > checkpoint.size {
                return Err(format!("the witness holds size {old}, past this checkpoint"));
            }
            let proof = if old == 0 || old == checkpoint.size {
                Vec::new()
            } else {
                log.consistency(old, checkpoint.size).await?
            };
            let mut request = format!("old {old}\n");
            for hash in &proof {
                request.push_str(&BASE64.encode(hash));
                request.push('\n');
            }
            request.push('\n');
            request.push_str(&checkpoint.note);
            let response = self.client.post(&url).body(request).send().await.map_err(|e| {
                if e.is_timeout() {
                    "timed out".to_string()
                } else {
                    "unreachable".to_string()
                }
            })?;
            let status = response.status().as_u16();
            let size_answer = response
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("text/x.tlog.size"));
            let text = bounded_text(response).await;
            match status {
                200 => {
                    let mut stored = false;
                    for line in text.lines() {
                        if let Ok(Some(timestamp)) = witness.key.check_line(checkpoint_body, line) {
                            log.keep(checkpoint.size, &witness.name, line, timestamp, now_ms).await?;
                            stored = true;
                        }
                    }
                    if !stored {
                        return Err("200 without a valid cosignature by its key".into());
                    }
                    self.update(&witness.name, |state| state.known_size = Some(checkpoint.size));
                    return Ok(());
                }
                409 if size_answer => {
                    let held = text.trim().parse::<u64>().map_err(|_| "409 without a size".to_string())?;
                    self.update(&witness.name, |state| state.known_size = Some(held));
                    old = held;
                }
                429 => {
                    self.update(&witness.name, |state| state.back_off_until = Some(Instant::now() + BACK_OFF));
                    return Err("429: backing off".into());
                }
                status => {
                    if status == 409 || status == 422 {
                        tracing::warn!(
                            witness = witness.name,
                            status,
                            "a witness refused a checkpoint as inconsistent"
                        );
                    }
                    self.update(&witness.name, |state| state.known_size = None);
                    return Err(format!("answered {status}"));
                }
            }
        }
        Err("409 twice".into())
    }

    /// The newest checkpoint whose valid cosignatures meet the quorum (`quorum_only`), or the
    /// newest checkpoint, each with its cosignature lines appended.
    pub async fn cosigned(&self, store: &Store, quorum_only: bool) -> crate::store::Result<Option<Cosigned>> {
        let checkpoints = store.recent_checkpoints(SEARCHED).await?;
        let Some(oldest) = checkpoints.last().map(|c| c.size) else { return Ok(None) };
        let mut lines: HashMap<u64, Vec<(String, String)>> = HashMap::new();
        for (size, witness, line) in store.cosignatures_from(oldest).await? {
            lines.entry(size).or_default().push((witness, line));
        }
        for row in checkpoints {
            // Each stored line is checked again with its witness's key: a line that does not
            // verify (a forged row) counts for nothing and is not served.
            let body = super::note::split(&row.note).map_or(row.note.as_str(), |(body, _)| body);
            let found: Vec<(String, String)> = lines
                .remove(&row.size)
                .unwrap_or_default()
                .into_iter()
                .filter(|(name, line)| {
                    self.policy
                        .witnesses
                        .iter()
                        .any(|w| w.name == *name && matches!(w.key.check_line(body, line), Ok(Some(_))))
                })
                .collect();
            let names: HashSet<String> = found.iter().map(|(w, _)| w.clone()).collect();
            let quorum = self.policy.satisfied(&names);
            if quorum || !quorum_only {
                let mut note = row.note.clone();
                for (_, line) in &found {
                    note.push_str(line);
                    note.push('\n');
                }
                let checkpoint = Checkpoint { size: row.size, root: row.root, note: row.note };
                return Ok(Some(Cosigned { checkpoint, witnesses: names.into_iter().collect(), note, quorum }));
            }
        }
        Ok(None)
    }
}

/// Most of a witness's answer read: cosignature lines or a size, a few hundred bytes; a witness that
/// sends more is not believed past this (and cannot fill the server's memory).
const ANSWER_MAX: usize = 64 * 1024;

/// A witness's answer as text, read a chunk at a time up to `ANSWER_MAX` bytes (the rest dropped).
async fn bounded_text(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = ANSWER_MAX - bytes.len();
        bytes.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if bytes.len() >= ANSWER_MAX {
            break;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
