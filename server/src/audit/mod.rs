//! The audit log: every access and every change is an event, appended to an RFC 6962 Merkle tree
//! in the same transaction as the change it records, and durably committed before anything that
//! depends on it happens.
//!
//! This module is the only issuer of `Receipt`s, the proof that a source read was recorded. It
//! never re-serialises a stored event: the leaf bytes written are the bytes hashed and exported.
//! Its SQL lives in `store::log`.

pub mod checkpoint;
pub mod cosignature;
pub mod event;
pub mod merkle;
pub mod note;
pub mod policy;
pub mod proof;
pub mod receipt;
mod tree;
pub mod verify;
pub mod witnessing;

use crate::clock::Clock;
use crate::store::log::{self as rows, EventRow, ObjectRow};
use crate::store::{Store, StoreError};
use app::model::{AuditEntry, AuditPage, AuditQuery};
use merkle::Frontier;
use sqlx::{Any, Transaction};

pub use event::{Event, Object, Outcome, Query};
pub use receipt::{Receipt, Scope};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit log could not store the event")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Corrupt(#[from] merkle::CorruptFrontier),
    #[error(transparent)]
    Proof(#[from] proof::ProofError),
    #[error(transparent)]
    Note(#[from] note::NoteError),
    #[error("the audit log could not store the event")]
    Unavailable,
    #[error("refusing to sign: the log is not consistent with checkpoint {0}")]
    Inconsistent(u64),
    /// A programming error: a receipt was asked for a scope its event does not name.
    #[error("the event does not name the scope of the read it allows")]
    ScopeNotRecorded,
}

impl From<sqlx::Error> for AuditError {
    fn from(error: sqlx::Error) -> Self {
        AuditError::Store(error.into())
    }
}

pub type Result<T, E = AuditError> = std::result::Result<T, E>;

/// A transaction that holds the log's write lock: business rows written through `conn()` commit
/// together with the events appended, or not at all.
pub struct LogTx {
    tx: Transaction<'static, Any>,
    engine: crate::store::Engine,
    clock: Clock,
    size: u64,
    frontier: Frontier,
    /// Hex leaf hash of the last entry (empty for an empty log).
    last_leaf: String,
    appended: usize,
    /// Rows appended but not yet written: written together, just before the commit.
    events: Vec<EventRow>,
    objects: Vec<ObjectRow>,
    nodes: Vec<(u32, u64, merkle::Hash)>,
}

impl LogTx {
    pub fn conn(&mut self) -> &mut crate::store::Connection {
        &mut self.tx
    }

    /// How many events this transaction appended so far.
    pub fn appended(&self) -> usize {
        self.appended
    }

    /// Appends one event and returns its index.
    pub async fn append(&mut self, event: &Event) -> Result<u64> {
        let now = self.clock.now_ms();
        let leaf = event::encode_leaf(event, now, &self.last_leaf);
        let hash = merkle::leaf_hash(&leaf);
        let index = self.size;
        self.objects.extend(event.objects.iter().enumerate().map(|(position, o)| ObjectRow {
            event: index,
            position: position as u32,
            pin: o.pin,
            path: o.path.clone(),
            blob: o.blob.clone(),
            lines: o.lines.map(|l| (l.first, l.last)),
        }));
        self.events.push(EventRow {
            index,
            leaf,
            leaf_hash: hash,
            recorded_at: now,
            actor: event.actor.clone(),
            action: event.action,
            pin: event.first_pin(),
            path: event.first_path().map(str::to_string),
            outcome: event.outcome.as_str(),
        });
        self.nodes.extend(self.frontier.push(hash));
        self.size += 1;
        self.last_leaf = hex::encode(hash);
        self.appended += 1;
        Ok(index)
    }

    /// Writes the new log head and commits everything durably.
    pub async fn commit(mut self) -> Result<()> {
        let started = std::time::Instant::now();
        let appended = self.appended;
        let committed = async {
            rows::insert_appended(&mut self.tx, self.engine, &self.events, &self.objects, &self.nodes).await?;
            rows::update_head(&mut self.tx, self.size, &self.frontier.root(), &self.frontier.to_bytes()).await?;
            self.tx.commit().await?;
            Ok(())
        }
        .await;
        let metrics = crate::metrics::metrics();
        match &committed {
            Ok(()) => {
                metrics.audit_appends.inc_by(appended as u64);
                metrics.audit_commit_seconds.observe(started.elapsed().as_secs_f64());
            }
            Err(_) => {
                metrics.audit_commits_failed.inc();
            }
        }
        committed
    }
}

/// The audit log over the store.
#[derive(Clone, Debug)]
pub struct AuditLog {
    store: Store,
    clock: Clock,
    /// Where stand-alone events queue for the group committer.
    queue: tokio::sync::mpsc::Sender<Pending>,
}

/// An event waiting for the group committer, and where to report its index.
struct Pending {
    event: Event,
    reply: tokio::sync::oneshot::Sender<Option<u64>>,
}

/// Most events a single group commit takes.
const MAX_BATCH: usize = 512;

/// How many times a group commit lets the runtime's other tasks run while it waits for callers it
/// expects: a few rounds, never a timed spin that would take a core from the requests.
const LINGER_ROUNDS: usize = 8;

impl AuditLog {
    /// The log over a store, with its group committer (a task on the current runtime).
    pub fn new(store: Store, clock: Clock) -> AuditLog {
        let (queue, receiver) = tokio::sync::mpsc::channel(4 * MAX_BATCH);
        let log = AuditLog { store, clock, queue };
        tokio::spawn(group_commit(log.clone_for_committer(), receiver));
        log
    }

    /// What the committer needs: the store and the clock (not the queue, which would keep it alive).
    fn clone_for_committer(&self) -> (Store, Clock) {
        (self.store.clone(), self.clock.clone())
    }

    /// Opens a transaction that holds the log's write lock (see `store::log::begin_append`).
    pub async fn begin(&self) -> Result<LogTx> {
        begin(&self.store, &self.clock).await
    }

    /// Records one event on its own and returns its index once it is durable. Concurrent calls
    /// share one transaction and one durable commit (group commit); each still returns only after
    /// that commit, and every event of a failed commit fails.
    pub async fn record(&self, event: &Event) -> Result<u64> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.queue.send(Pending { event: event.clone(), reply }).await.map_err(|_| AuditError::Unavailable)?;
        // A committer that does not answer in time counts as a failed commit: fail closed.
        match tokio::time::timeout(std::time::Duration::from_secs(30), answer).await {
            Ok(Ok(Some(index))) => Ok(index),
            _ => Err(AuditError::Unavailable),
        }
    }

    /// Records an event that names `scope` and hands out the receipt that allows reading it.
    pub async fn record_read(&self, event: &Event, scope: Scope) -> Result<Receipt> {
        if !scope.is_named_by(event) {
            return Err(AuditError::ScopeNotRecorded);
        }
        let index = self.record(event).await?;
        Ok(Receipt::after_commit(index, scope))
    }

    pub async fn size(&self) -> Result<u64> {
        Ok(self.store.log_head().await?.0)
    }

    /// The committed head: (size, root).
    pub async fn head(&self) -> Result<(u64, merkle::Hash)> {
        Ok(self.store.log_head().await?)
    }

    /// Events newest first, filtered; the page size is capped at 500.
    pub async fn query(&self, query: &AuditQuery) -> Result<AuditPage> {
        Ok(self.store.query_events(query).await?)
    }

    /// Events with `start <= index < end`, oldest first.
    pub async fn entries(&self, start: u64, end: u64) -> Result<Vec<AuditEntry>> {
        Ok(self.store.log_entries(start, end).await?)
    }

    /// Stored entries `start..end` as they are: (index, exact leaf bytes, stored leaf hash).
    pub async fn raw_entries(&self, start: u64, end: u64) -> Result<Vec<(u64, Vec<u8>, Vec<u8>)>> {
        Ok(self.store.raw_log_entries(start, end).await?)
    }
}

async fn begin(store: &Store, clock: &Clock) -> Result<LogTx> {
    let (tx, head) = rows::begin_append(store).await?;
    let frontier = Frontier::from_bytes(head.size, &head.frontier)?;
    let last_leaf = head.last_leaf.map(hex::encode).unwrap_or_default();
    Ok(LogTx {
        tx,
        engine: store.engine(),
        clock: clock.clone(),
        size: head.size,
        frontier,
        last_leaf,
        appended: 0,
        events: Vec::new(),
        objects: Vec::new(),
        nodes: Vec::new(),
    })
}

/// The group committer: takes every event waiting (up to `MAX_BATCH`), appends them in one
/// transaction, commits once, then answers each caller. A failed commit fails them all.
async fn group_commit((store, clock): (Store, Clock), mut queue: tokio::sync::mpsc::Receiver<Pending>) {
    // How many callers the last commit answered: most of them send their next event at once, but
    // their tasks run after this one, so a batch smaller than that waits a moment for them.
    let mut last_batch = 1;
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        for round in 0..=LINGER_ROUNDS {
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            if batch.len() >= last_batch || round == LINGER_ROUNDS {
                break;
            }
            tokio::task::yield_now().await;
        }
        last_batch = batch.len();
        let committed = async {
            let mut tx = begin(&store, &clock).await?;
            let mut indices = Vec::with_capacity(batch.len());
            for pending in &batch {
                indices.push(tx.append(&pending.event).await?);
            }
            tx.commit().await?;
            Ok::<_, AuditError>(indices)
        }
        .await;
        match committed {
            Ok(indices) => {
                for (pending, index) in batch.into_iter().zip(indices) {
                    let _ = pending.reply.send(Some(index));
                }
            }
            Err(error) => {
                let cause = crate::error_chain(&error);
                tracing::error!(cause, events = batch.len(), "the audit log could not commit");
                for pending in batch {
                    let _ = pending.reply.send(None);
                }
            }
        }
    }
}
