//! The audit log: every access and every change is an event, appended to an RFC 6962 Merkle tree
//! in the same transaction as the change it records, and durably committed before anything that
//! depends on it happens.
//!
//! This module is the only issuer of `Receipt`s, the proof that a source read was recorded. It
//! never re-serialises a stored event: the leaf bytes written are the bytes hashed and exported.
//! Its SQL lives in `store::log`.

pub mod action;
pub mod checkpoint;
pub mod cosignature;
pub mod event;
pub mod merkle;
pub mod note;
pub mod policy;
pub mod proof;
pub mod receipt;
pub mod tiles;
mod tree;
pub mod verify;
pub mod witnessing;

use crate::clock::Clock;
use crate::store::log::{self as rows, EventRow, ObjectRow};
use crate::store::{Store, StoreError};
use app::model::{AuditEntry, AuditPage, AuditQuery};
use merkle::Frontier;
use sqlx::{Any, Transaction};

pub use action::{Action, Shows};
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
    #[error(transparent)]
    Tile(#[from] tiles::TileError),
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

/// The head of the log as an appender last left it: enough to append on top without reading it.
#[derive(Clone, Debug)]
struct KnownHead {
    size: u64,
    frontier: Frontier,
    /// Hex leaf hash of the last entry (empty for an empty log).
    last_leaf: String,
}

/// Events appended in memory on top of a head, and the rows they make: written together, just
/// before the commit.
struct Appended {
    clock: Clock,
    head: KnownHead,
    events: Vec<EventRow>,
    objects: Vec<ObjectRow>,
    nodes: Vec<(u32, u64, merkle::Hash)>,
}

impl Appended {
    fn on(head: KnownHead, clock: &Clock) -> Appended {
        Appended { clock: clock.clone(), head, events: Vec::new(), objects: Vec::new(), nodes: Vec::new() }
    }

    fn append(&mut self, event: &Event) -> u64 {
        let now = self.clock.now_ms();
        let leaf = event::encode_leaf(event, now, &self.head.last_leaf);
        let hash = merkle::leaf_hash(&leaf);
        let index = self.head.size;
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
            action: event.action.as_str(),
            pin: event.first_pin(),
            path: event.first_path().map(str::to_string),
            outcome: event.outcome.as_str(),
        });
        self.nodes.extend(self.head.frontier.push(hash));
        self.head.size += 1;
        self.head.last_leaf = hex::encode(hash);
        index
    }

    fn rows(&self) -> rows::AppendedRows<'_> {
        rows::AppendedRows {
            events: &self.events,
            objects: &self.objects,
            nodes: &self.nodes,
            size: self.head.size,
            root: self.head.frontier.root(),
            frontier: self.head.frontier.to_bytes(),
        }
    }
}

/// Counts a commit's outcome in the metrics.
fn observe_commit<T, E>(committed: &std::result::Result<T, E>, appended: usize, started: std::time::Instant) {
    let metrics = crate::metrics::metrics();
    match committed {
        Ok(_) => {
            metrics.audit_appends.inc_by(appended as u64);
            metrics.audit_commit_seconds.observe(started.elapsed().as_secs_f64());
        }
        Err(_) => {
            metrics.audit_commits_failed.inc();
        }
    }
}

/// A transaction that holds the log's write lock: business rows written through `conn()` commit
/// together with the events appended, or not at all.
pub struct LogTx {
    tx: Transaction<'static, Any>,
    engine: crate::store::Engine,
    appended: Appended,
}

impl LogTx {
    pub fn conn(&mut self) -> &mut crate::store::Connection {
        &mut self.tx
    }

    /// How many events this transaction appended so far.
    pub fn appended(&self) -> usize {
        self.appended.events.len()
    }

    /// Appends one event and returns its index.
    pub async fn append(&mut self, event: &Event) -> Result<u64> {
        Ok(self.appended.append(event))
    }

    /// Writes the new log head and commits everything durably.
    pub async fn commit(self) -> Result<()> {
        self.commit_known().await.map(|_| ())
    }

    /// Commits, and returns the head this commit left.
    async fn commit_known(mut self) -> Result<KnownHead> {
        let started = std::time::Instant::now();
        let count = self.appended.events.len();
        let committed = async {
            rows::insert_appended(&mut self.tx, self.engine, &self.appended.rows()).await?;
            self.tx.commit().await?;
            Ok(self.appended.head)
        }
        .await;
        observe_commit(&committed, count, started);
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
        begin(&self.store, &self.clock, None).await
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

/// Opens an append transaction. `known`, the head the caller's last commit left, spares reading
/// the last leaf when the locked head is still that one (same size and frontier).
async fn begin(store: &Store, clock: &Clock, known: Option<KnownHead>) -> Result<LogTx> {
    let (mut tx, size, frontier) = rows::begin_append(store).await?;
    let head = match known {
        Some(known) if known.size == size && known.frontier.to_bytes() == frontier => known,
        _ => {
            let frontier = Frontier::from_bytes(size, &frontier)?;
            let last_leaf = match size {
                0 => String::new(),
                _ => hex::encode(rows::leaf_hash_in(&mut tx, size - 1).await?),
            };
            KnownHead { size, frontier, last_leaf }
        }
    };
    Ok(LogTx { tx, engine: store.engine(), appended: Appended::on(head, clock) })
}

/// The group committer: takes every event waiting (up to `MAX_BATCH`), appends them in one
/// transaction, commits once, then answers each caller. A failed commit fails them all.
async fn group_commit((store, clock): (Store, Clock), mut queue: tokio::sync::mpsc::Receiver<Pending>) {
    // How many callers the last commit answered: most of them send their next event at once, but
    // their tasks run after this one, so a batch smaller than that waits a moment for them.
    // (Waiting also for those who queued while it ran makes batches full but serial: measured
    // slower on SQLite, where the callers' turnaround then no longer overlaps a commit.)
    let mut expected = 1;
    // The head this committer's last commit left, if it knows it.
    let mut known = None;
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        for round in 0..=LINGER_ROUNDS {
            while batch.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            if batch.len() >= expected || round == LINGER_ROUNDS {
                break;
            }
            tokio::task::yield_now().await;
        }
        expected = batch.len();
        let committed = commit_batch(&store, &clock, &mut known, &batch).await;
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

/// Appends a batch in one transaction and commits it. On PostgreSQL, when the committer knows the
/// head its last commit left, the whole commit is one statement that holds only if the head is
/// still that one (another instance, or a business transaction, may have appended since); if it is
/// not, nothing was written and the batch takes the locked path, which reads the head under the
/// lock (and, on either engine, reads the last leaf only when the head is not the one it knows).
/// Any failure forgets the head.
async fn commit_batch(
    store: &Store,
    clock: &Clock,
    known: &mut Option<KnownHead>,
    batch: &[Pending],
) -> Result<Vec<u64>> {
    let last = known.take();
    if let (crate::store::Engine::Postgres, Some(head)) = (store.engine(), &last) {
        let started = std::time::Instant::now();
        let mut appended = Appended::on(head.clone(), clock);
        let indices: Vec<u64> = batch.iter().map(|pending| appended.append(&pending.event)).collect();
        let committed = rows::append_if_head_pg(store, head.size, &appended.rows()).await;
        match committed {
            Ok(true) => {
                observe_commit(&committed, batch.len(), started);
                *known = Some(appended.head);
                return Ok(indices);
            }
            Ok(false) => {}
            Err(error) => {
                observe_commit(&Err::<(), _>(()), batch.len(), started);
                return Err(error.into());
            }
        }
    }
    let mut tx = begin(store, clock, last).await?;
    let indices = batch.iter().map(|pending| tx.appended.append(&pending.event)).collect();
    *known = Some(tx.commit_known().await?);
    Ok(indices)
}
