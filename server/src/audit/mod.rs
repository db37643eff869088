//! The audit log: every access and every change is an event, appended to an RFC 6962 Merkle tree
//! in the same transaction as the change it records, and durably committed before anything that
//! depends on it happens.
//!
//! This module is the only issuer of `Receipt`s, the proof that a source read was recorded. It
//! never re-serialises a stored event: the leaf bytes written are the bytes hashed and exported.

pub mod checkpoint;
pub mod merkle;
pub mod note;
pub mod proof;
pub mod verify;

use crate::store::Store;
use app::model::{AuditEntry, AuditPage, AuditQuery, Caller, PinId, RepoPath};
use merkle::Frontier;
use serde::Serialize;
use sqlx::{Any, AnyConnection, Row, Transaction};

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("the audit log could not store the event")]
    Database(#[from] sqlx::Error),
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
}

pub type Result<T, E = AuditError> = std::result::Result<T, E>;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    Denied,
    Failed,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }
}

/// What happened, by whom, to what. Becomes one leaf.
#[derive(Clone, Debug)]
pub struct Event {
    pub actor: Option<String>,
    pub role: Option<&'static str>,
    pub session: Option<String>,
    pub client: Option<String>,
    pub action: &'static str,
    pub outcome: Outcome,
    pub pin: Option<i64>,
    pub path: Option<String>,
    pub details: serde_json::Value,
}

impl Event {
    /// An event by the caller of a request.
    pub fn by(caller: &Caller, action: &'static str, outcome: Outcome) -> Event {
        Event {
            actor: caller.identity.as_ref().map(|i| i.username.clone()),
            role: caller.identity.as_ref().map(|i| i.role.as_str()),
            session: caller.session.clone(),
            client: Some(caller.client_address.clone()),
            action,
            outcome,
            pin: None,
            path: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    /// An event by an operator at the command line.
    pub fn by_operator(action: &'static str) -> Event {
        Event {
            actor: Some("operator".into()),
            role: Some("operator"),
            session: None,
            client: Some("cli".into()),
            action,
            outcome: Outcome::Ok,
            pin: None,
            path: None,
            details: serde_json::Value::Object(Default::default()),
        }
    }

    pub fn on_pin(mut self, pin: PinId) -> Event {
        self.pin = Some(pin.get());
        self
    }

    pub fn on_path(mut self, path: &RepoPath) -> Event {
        self.path = Some(path.as_str().to_string());
        self
    }

    pub fn with(mut self, details: serde_json::Value) -> Event {
        self.details = details;
        self
    }
}

/// The leaf format, version 1: a JSON object with fields in this fixed order. `prev` is the hex
/// leaf hash of the entry before (empty for the first), so a verifier can name the exact index
/// where a stored log was edited, reordered or cut, not only that its root differs.
#[derive(Serialize)]
struct LeafV1<'a> {
    v: u8,
    prev: &'a str,
    time: String,
    time_ms: i64,
    actor: &'a Option<String>,
    role: Option<&'static str>,
    session: &'a Option<String>,
    client: &'a Option<String>,
    action: &'static str,
    outcome: Outcome,
    pin: Option<i64>,
    path: &'a Option<String>,
    details: &'a serde_json::Value,
}

fn encode_leaf(event: &Event, time_ms: i64, prev: &str) -> Vec<u8> {
    let time = time::OffsetDateTime::from_unix_timestamp_nanos(time_ms as i128 * 1_000_000)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default();
    let leaf = LeafV1 {
        v: 1,
        prev,
        time,
        time_ms,
        actor: &event.actor,
        role: event.role,
        session: &event.session,
        client: &event.client,
        action: event.action,
        outcome: event.outcome,
        pin: event.pin,
        path: &event.path,
        details: &event.details,
    };
    serde_json::to_vec(&leaf).expect("a leaf always serialises")
}

/// Proof that an access to (pin, path) was durably recorded at `index`. Only this module makes
/// one, and only after the commit returned; `source` asks for one before reading any object.
#[derive(Debug)]
pub struct Receipt {
    index: u64,
    pin: i64,
    path: String,
}

impl Receipt {
    pub fn index(&self) -> u64 {
        self.index
    }

    /// Whether this receipt covers reading `path` at `pin`.
    pub fn covers(&self, pin: PinId, path: &RepoPath) -> bool {
        self.pin == pin.get() && self.path == path.as_str()
    }
}

/// A transaction that holds the log's write lock: business rows written through `conn()` commit
/// together with the event, or not at all.
pub struct LogTx {
    tx: Transaction<'static, Any>,
    size: u64,
    frontier: Frontier,
    /// Hex leaf hash of the last entry (empty for an empty log).
    last_leaf: String,
}

impl LogTx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// Appends one event and returns its index.
    pub async fn append(&mut self, event: &Event) -> Result<u64> {
        let now = crate::now_ms();
        let leaf = encode_leaf(event, now, &self.last_leaf);
        let hash = merkle::leaf_hash(&leaf);
        let index = self.size;
        sqlx::query(
            "INSERT INTO audit_events (idx, leaf, leaf_hash, recorded_at, actor, action, pin_id, path, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(index as i64)
        .bind(leaf)
        .bind(hash.to_vec())
        .bind(now)
        .bind(event.actor.clone())
        .bind(event.action)
        .bind(event.pin)
        .bind(event.path.clone())
        .bind(event.outcome.as_str())
        .execute(&mut *self.tx)
        .await?;
        for (level, node_index, node) in self.frontier.push(hash) {
            sqlx::query("INSERT INTO merkle_nodes (level, idx, hash) VALUES ($1, $2, $3)")
                .bind(level as i32)
                .bind(node_index as i64)
                .bind(node.to_vec())
                .execute(&mut *self.tx)
                .await?;
        }
        self.size += 1;
        self.last_leaf = hex::encode(hash);
        Ok(index)
    }

    /// Writes the new log head and commits everything durably.
    pub async fn commit(mut self) -> Result<()> {
        sqlx::query("UPDATE log_state SET size = $1, root = $2, frontier = $3 WHERE id = 1")
            .bind(self.size as i64)
            .bind(self.frontier.root().to_vec())
            .bind(self.frontier.to_bytes())
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// The audit log over the store.
#[derive(Clone, Debug)]
pub struct AuditLog {
    store: Store,
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

impl AuditLog {
    /// The log over a store, with its group committer (a task on the current runtime).
    pub fn new(store: Store) -> AuditLog {
        let (queue, receiver) = tokio::sync::mpsc::channel(4 * MAX_BATCH);
        let log = AuditLog { store, queue };
        tokio::spawn(group_commit(log.store.clone(), receiver));
        log
    }

    /// Opens a transaction that holds the log's write lock. The no-op UPDATE is its first statement
    /// so that SQLite takes the write lock at once (no failed lock upgrade later) and PostgreSQL
    /// locks the single log-state row, serialising appenders across server instances.
    pub async fn begin(&self) -> Result<LogTx> {
        begin(&self.store).await
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

    /// Records a read of source at (pin, path) and hands out the receipt that allows it.
    pub async fn record_source_read(&self, event: &Event, pin: PinId, path: &RepoPath) -> Result<Receipt> {
        debug_assert_eq!(event.pin, Some(pin.get()));
        let index = self.record(event).await?;
        Ok(Receipt { index, pin: pin.get(), path: path.as_str().to_string() })
    }

    pub async fn size(&self) -> Result<i64> {
        Ok(sqlx::query("SELECT size FROM log_state WHERE id = 1").fetch_one(&self.store.pool).await?.try_get(0)?)
    }

    /// Events newest first, filtered; the page size is capped at 500.
    pub async fn query(&self, query: &AuditQuery) -> Result<AuditPage> {
        let limit = query.limit.clamp(1, 500) as i64;
        let mut sql = String::from(
            "SELECT idx, recorded_at, actor, action, pin_id, path, outcome, leaf, leaf_hash FROM audit_events WHERE 1 = 1",
        );
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if query.actor.is_some() {
            sql += &format!(" AND actor = {}", next());
        }
        if query.pin.is_some() {
            sql += &format!(" AND pin_id = {}", next());
        }
        if query.action.is_some() {
            sql += &format!(" AND action = {}", next());
        }
        if query.from_ms.is_some() {
            sql += &format!(" AND recorded_at >= {}", next());
        }
        if query.until_ms.is_some() {
            sql += &format!(" AND recorded_at <= {}", next());
        }
        if query.before.is_some() {
            sql += &format!(" AND idx < {}", next());
        }
        sql += &format!(" ORDER BY idx DESC LIMIT {}", next());
        let mut q = sqlx::query(&sql);
        if let Some(actor) = &query.actor {
            q = q.bind(actor.clone());
        }
        if let Some(pin) = query.pin {
            q = q.bind(pin);
        }
        if let Some(action) = &query.action {
            q = q.bind(action.clone());
        }
        if let Some(from) = query.from_ms {
            q = q.bind(from);
        }
        if let Some(until) = query.until_ms {
            q = q.bind(until);
        }
        if let Some(before) = query.before {
            q = q.bind(before);
        }
        let rows = q.bind(limit + 1).fetch_all(&self.store.pool).await?;
        let mut entries = rows.iter().map(entry_from_row).collect::<Result<Vec<_>>>()?;
        let next_before = if entries.len() as i64 > limit {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.index)
        } else {
            None
        };
        Ok(AuditPage { entries, log_size: self.size().await?, next_before })
    }

    /// Events with `start <= index < end`, oldest first.
    pub async fn entries(&self, start: i64, end: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT idx, recorded_at, actor, action, pin_id, path, outcome, leaf, leaf_hash FROM audit_events \
             WHERE idx >= $1 AND idx < $2 ORDER BY idx",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Stored entries `start..end` as they are: (index, exact leaf bytes, stored leaf hash).
    pub async fn raw_entries(&self, start: i64, end: i64) -> Result<Vec<(i64, Vec<u8>, Vec<u8>)>> {
        let rows =
            sqlx::query("SELECT idx, leaf, leaf_hash FROM audit_events WHERE idx >= $1 AND idx < $2 ORDER BY idx")
                .bind(start)
                .bind(end)
                .fetch_all(&self.store.pool)
                .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))).collect()
    }

    /// The committed log head: (size, root).
    pub async fn head(&self) -> Result<(u64, merkle::Hash)> {
        let row = sqlx::query("SELECT size, root FROM log_state WHERE id = 1").fetch_one(&self.store.pool).await?;
        let size: i64 = row.try_get(0)?;
        Ok((size as u64, to_hash(row.try_get(1)?)?))
    }

    /// Fetches the stored nodes a proof computation asked for, in two queries.
    async fn fetch_nodes(&self, keys: &std::collections::BTreeSet<proof::NodeKey>) -> Result<proof::Nodes> {
        let mut known = std::collections::HashMap::new();
        let leaves: Vec<String> = keys.iter().filter(|(l, _)| *l == 0).map(|(_, i)| i.to_string()).collect();
        // The keys are numbers this module computed, never user text, so they are inlined.
        if !leaves.is_empty() {
            let sql = format!("SELECT idx, leaf_hash FROM audit_events WHERE idx IN ({})", leaves.join(","));
            for row in sqlx::query(&sql).fetch_all(&self.store.pool).await? {
                let index: i64 = row.try_get(0)?;
                known.insert((0, index as u64), to_hash(row.try_get(1)?)?);
            }
        }
        let inner: Vec<String> = keys.iter().filter(|(l, _)| *l > 0).map(|(l, i)| format!("({l},{i})")).collect();
        if !inner.is_empty() {
            let sql = format!("SELECT level, idx, hash FROM merkle_nodes WHERE (level, idx) IN ({})", inner.join(","));
            for row in sqlx::query(&sql).fetch_all(&self.store.pool).await? {
                let level: i32 = row.try_get(0)?;
                let index: i64 = row.try_get(1)?;
                known.insert((level as u32, index as u64), to_hash(row.try_get(2)?)?);
            }
        }
        Ok(proof::Nodes::Known(known))
    }

    /// Runs a proof computation: once to learn the nodes, then with them.
    async fn compute<T>(&self, run: impl Fn(&mut proof::Nodes) -> Result<T, proof::ProofError>) -> Result<T> {
        let mut recorder = proof::Nodes::Recording(Default::default());
        run(&mut recorder)?;
        let proof::Nodes::Recording(keys) = recorder else { unreachable!("a recorder stays one") };
        let mut nodes = self.fetch_nodes(&keys).await?;
        Ok(run(&mut nodes)?)
    }

    pub async fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<merkle::Hash>> {
        self.require_size(size).await?;
        self.compute(|nodes| proof::inclusion_proof(nodes, index, size)).await
    }

    pub async fn consistency_proof(&self, from: u64, to: u64) -> Result<Vec<merkle::Hash>> {
        self.require_size(to).await?;
        self.compute(|nodes| proof::consistency_proof(nodes, from, to)).await
    }

    /// The root of the log's first `size` entries, from stored nodes.
    pub async fn root_at(&self, size: u64) -> Result<merkle::Hash> {
        self.require_size(size).await?;
        self.compute(|nodes| proof::root(nodes, size)).await
    }

    async fn require_size(&self, size: u64) -> Result<()> {
        let (current, _) = self.head().await?;
        if size > current {
            return Err(AuditError::Proof(proof::ProofError::IndexOutOfRange));
        }
        Ok(())
    }
}

/// Opens a transaction holding the log's write lock (see `AuditLog::begin`).
async fn begin(store: &Store) -> Result<LogTx> {
    let mut tx = store.pool.begin().await?;
    sqlx::query("UPDATE log_state SET size = size WHERE id = 1").execute(&mut *tx).await?;
    let row = sqlx::query("SELECT size, frontier FROM log_state WHERE id = 1").fetch_one(&mut *tx).await?;
    let size: i64 = row.try_get(0)?;
    let frontier_bytes: Vec<u8> = row.try_get(1)?;
    let frontier = Frontier::from_bytes(size as u64, &frontier_bytes)?;
    let last_leaf = match size {
        0 => String::new(),
        _ => {
            let row = sqlx::query("SELECT leaf_hash FROM audit_events WHERE idx = $1")
                .bind(size - 1)
                .fetch_one(&mut *tx)
                .await?;
            hex::encode(row.try_get::<Vec<u8>, _>(0)?)
        }
    };
    Ok(LogTx { tx, size: size as u64, frontier, last_leaf })
}

/// The group committer: takes every event waiting (up to `MAX_BATCH`), appends them in one
/// transaction, commits once, then answers each caller. A failed commit fails them all.
async fn group_commit(store: Store, mut queue: tokio::sync::mpsc::Receiver<Pending>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let committed = async {
            let mut tx = begin(&store).await?;
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
                let cause = std::error::Error::source(&error).map(|c| c.to_string()).unwrap_or_default();
                tracing::error!(%error, cause, events = batch.len(), "the audit log could not commit");
                for pending in batch {
                    let _ = pending.reply.send(None);
                }
            }
        }
    }
}

fn to_hash(bytes: Vec<u8>) -> Result<merkle::Hash> {
    bytes.try_into().map_err(|_| AuditError::Corrupt(merkle::CorruptFrontier))
}

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    let leaf: Vec<u8> = row.try_get(7)?;
    let hash: Vec<u8> = row.try_get(8)?;
    Ok(AuditEntry {
        index: row.try_get(0)?,
        recorded_at_ms: row.try_get(1)?,
        actor: row.try_get(2)?,
        action: row.try_get(3)?,
        pin: row.try_get(4)?,
        path: row.try_get(5)?,
        outcome: row.try_get(6)?,
        leaf: String::from_utf8_lossy(&leaf).into_owned(),
        leaf_hash: hex::encode(hash),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leaf_is_canonical_json_in_a_fixed_order() {
        let event = Event::by_operator("user.create").with(serde_json::json!({"username": "alice"}));
        let leaf = String::from_utf8(encode_leaf(&event, 0, "")).unwrap();
        assert_eq!(
            leaf,
            r#"{"v":1,"prev":"","time":"1970-01-01T00:00:00Z","time_ms":0,"actor":"operator","role":"operator","session":null,"client":"cli","action":"user.create","outcome":"ok","pin":null,"path":null,"details":{"username":"alice"}}"#
        );
    }
}
