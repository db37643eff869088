//! A stand-alone C2SP tlog-witness (`server witness serve`): for each log its policy names, it
//! keeps the latest checkpoint it cosigned, durably, and cosigns a new one only when a consistency
//! proof shows it extends that one. Meant to run beside, not inside, the vendor's deployment: its
//! own data directory, its own SQLite database, its own key.
//!
//! `POST /add-checkpoint` answers as the specification names: 200 with the cosignature line; 400 a
//! malformed request or an old size past the checkpoint's; 403 no trusted log signature; 404 an
//! unknown origin; 409 (`text/x.tlog.size`, the size it holds) an old size that is not the one it
//! holds, or the same size with another root; 422 a consistency proof that does not verify.

use crate::audit::checkpoint;
use crate::audit::cosignature::Cosigner;
use crate::audit::merkle::Hash;
use crate::audit::policy::Policy;
use crate::audit::proof;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sqlx::Row;
use std::path::Path;
use std::sync::Arc;

/// The most consistency proof lines a request may carry (the protocol's limit).
const MAX_PROOF_LINES: usize = 63;

/// A witness: its policy, its key and what it has cosigned.
pub struct Witness {
    policy: Policy,
    cosigner: Cosigner,
    pool: sqlx::SqlitePool,
    /// Checking the old size and storing the new checkpoint happen under this lock, atomically.
    lock: tokio::sync::Mutex<()>,
}

/// An answer: status, content type and body.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

fn refuse(status: u16, message: &str) -> Answer {
    Answer { status, content_type: "text/plain; charset=utf-8", body: format!("{message}\n") }
}

/// The request body: the old size, the proof, and the signed checkpoint.
struct AddCheckpoint<'a> {
    old: u64,
    proof: Vec<Hash>,
    note: &'a str,
}

fn parse_request(body: &str) -> Option<AddCheckpoint<'_>> {
    let (head, note) = body.split_once("\n\n")?;
    let mut lines = head.split('\n');
    let old = lines.next()?.strip_prefix("old ")?;
    if old.is_empty() || (old.len() > 1 && old.starts_with('0')) || !old.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let old = old.parse().ok()?;
    let mut proof = Vec::new();
    for line in lines {
        proof.push(BASE64.decode(line).ok().and_then(|b| Hash::try_from(b).ok())?);
    }
    (proof.len() <= MAX_PROOF_LINES).then_some(AddCheckpoint { old, proof, note })
}

/// The witness's signing key at `path` (a 32-byte seed, base64, mode 0600), created when missing.
pub fn load_or_create_key(path: &Path, name: &str) -> anyhow::Result<Cosigner> {
    use anyhow::Context as _;
    if path.exists() {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let seed: [u8; 32] = BASE64
            .decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| anyhow::anyhow!("{} is not a witness key", path.display()))?;
        return Cosigner::from_seed(name, seed).map_err(|e| anyhow::anyhow!("witness name {name:?}: {e}"));
    }
    let seed: [u8; 32] = rand::random();
    let cosigner = Cosigner::from_seed(name, seed).map_err(|e| anyhow::anyhow!("witness name {name:?}: {e}"))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    crate::audit::checkpoint::write_private(path, &format!("{}\n", BASE64.encode(seed)))
        .with_context(|| format!("writing the witness key {}", path.display()))?;
    Ok(cosigner)
}

impl Witness {
    /// Opens the witness's state in `data_dir` (created when missing).
    pub async fn open(data_dir: &Path, policy: Policy, cosigner: Cosigner) -> anyhow::Result<Witness> {
        use anyhow::Context as _;
        std::fs::create_dir_all(data_dir).with_context(|| format!("creating {}", data_dir.display()))?;
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(data_dir.join("witness.db"))
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Full);
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(2).connect_with(options).await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS witnessed (origin TEXT PRIMARY KEY, size BIGINT NOT NULL, \
             root BLOB NOT NULL, checkpoint TEXT NOT NULL, cosigned_at BIGINT NOT NULL)",
        )
        .execute(&pool)
        .await?;
        Ok(Witness { policy, cosigner, pool, lock: tokio::sync::Mutex::new(()) })
    }

    pub fn verifier_key(&self) -> String {
        self.cosigner.verifier().to_string()
    }

    /// The size and root last cosigned for `origin` (0 and none if never).
    pub async fn latest(&self, origin: &str) -> anyhow::Result<(u64, Option<Hash>)> {
        let row = sqlx::query("SELECT size, root FROM witnessed WHERE origin = ?1")
            .bind(origin)
            .fetch_optional(&self.pool)
            .await?;
        Ok(match row {
            Some(row) => {
                let root: Vec<u8> = row.try_get(1)?;
                (row.try_get::<i64, _>(0)? as u64, Hash::try_from(root).ok())
            }
            None => (0, None),
        })
    }

    /// Handles one `add-checkpoint` request at `now` (POSIX seconds).
    pub async fn add_checkpoint(&self, body: &[u8], now: u64) -> anyhow::Result<Answer> {
        let Some(request) = std::str::from_utf8(body).ok().and_then(parse_request) else {
            return Ok(refuse(400, "malformed request"));
        };
        let origin = request.note.split('\n').next().unwrap_or("");
        let logs: Vec<_> = self.policy.logs.iter().filter(|(key, _)| key.name() == origin).collect();
        if logs.is_empty() {
            return Ok(refuse(404, "unknown log origin"));
        }
        let Some((size, root)) = logs.iter().find_map(|(key, _)| checkpoint::open(key, request.note).ok()) else {
            return Ok(refuse(403, "no trusted log signature verifies"));
        };
        if request.old > size {
            return Ok(refuse(400, "the old size is past the checkpoint's size"));
        }
        let _guard = self.lock.lock().await;
        let (held, held_root) = self.latest(origin).await?;
        if request.old != held {
            return Ok(Answer { status: 409, content_type: "text/x.tlog.size", body: format!("{held}\n") });
        }
        let consistent = match (request.old, held_root) {
            (0, _) => request.proof.is_empty(),
            (old, Some(held_root)) if old == size => held_root == root && request.proof.is_empty(),
            (old, Some(held_root)) => proof::verify_consistency(old, size, &held_root, &root, &request.proof).is_ok(),
            (_, None) => false,
        };
        if !consistent {
            if request.old == size {
                return Ok(Answer { status: 409, content_type: "text/x.tlog.size", body: format!("{held}\n") });
            }
            tracing::warn!(origin, old = request.old, size, "a checkpoint that does not extend the one cosigned");
            return Ok(refuse(422, "the consistency proof does not verify"));
        }
        // The log's signature verified above, so the note has its blank line.
        let body = crate::audit::note::split(request.note).map_or("", |(body, _)| body);
        let line = self.cosigner.cosign(body, now)?;
        sqlx::query(
            "INSERT INTO witnessed (origin, size, root, checkpoint, cosigned_at) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (origin) DO UPDATE SET size = ?2, root = ?3, checkpoint = ?4, cosigned_at = ?5",
        )
        .bind(origin)
        .bind(size as i64)
        .bind(root.to_vec())
        .bind(request.note)
        .bind(now as i64)
        .execute(&self.pool)
        .await?;
        Ok(Answer { status: 200, content_type: "text/plain; charset=utf-8", body: format!("{line}\n") })
    }
}

/// The witness's HTTP interface: `POST /add-checkpoint`.
pub fn router(witness: Arc<Witness>) -> axum::Router {
    axum::Router::new()
        .route("/add-checkpoint", axum::routing::post(add_checkpoint))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(witness)
}

async fn add_checkpoint(State(witness): State<Arc<Witness>>, body: Bytes) -> Response {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    match witness.add_checkpoint(&body, now).await {
        Ok(answer) => {
            let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, [(header::CONTENT_TYPE, answer.content_type)], answer.body).into_response()
        }
        Err(error) => {
            tracing::error!(error = %crate::error_chain(error.as_ref()), "the witness failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "the witness failed\n").into_response()
        }
    }
}
