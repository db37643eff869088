//! The public log's rows: its entries (Signed Statements, in order), the artifacts each names,
//! and its signed checkpoints. Append-only.

use super::{Connection, Result, Store};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sqlx::Row;

/// One entry of the public log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicEntry {
    pub index: u64,
    pub entry_id: String,
    pub statement: Vec<u8>,
    pub leaf_hash: [u8; 32],
    pub release_id: Option<i64>,
    pub issuer: String,
    pub subject: String,
    pub content_type: String,
    pub appended_at: i64,
}

/// An entry to append (the index is the log's next).
pub struct NewPublicEntry<'a> {
    pub entry_id: &'a str,
    pub statement: &'a [u8],
    pub leaf_hash: &'a [u8; 32],
    pub release_id: Option<i64>,
    pub issuer: &'a str,
    pub subject: &'a str,
    pub content_type: &'a str,
    pub registered_by: Option<i64>,
    /// SHA-256s of the artifacts it names.
    pub subjects: &'a [String],
    pub now: i64,
}

/// Appends an entry at the log's next index, in the caller's transaction, which holds the audit
/// log's write lock (its event was appended first): appends are serialised with it. Returns the
/// index.
pub async fn append(conn: &mut Connection, new: &NewPublicEntry<'_>) -> Result<u64> {
    let next: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(idx) + 1, 0) FROM public_entries").fetch_one(&mut *conn).await?;
    sqlx::query(
        "INSERT INTO public_entries (idx, entry_id, statement, leaf_hash, release_id, issuer, subject, content_type, \
         registered_by, appended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(next)
    .bind(new.entry_id)
    .bind(BASE64.encode(new.statement))
    .bind(hex::encode(new.leaf_hash))
    .bind(new.release_id)
    .bind(new.issuer)
    .bind(new.subject)
    .bind(new.content_type)
    .bind(new.registered_by)
    .bind(new.now)
    .execute(&mut *conn)
    .await?;
    let mut seen = std::collections::BTreeSet::new();
    for sha256 in new.subjects.iter().filter(|s| seen.insert(s.as_str())) {
        sqlx::query("INSERT INTO public_subjects (sha256, idx) VALUES ($1, $2)")
            .bind(sha256)
            .bind(next)
            .execute(&mut *conn)
            .await?;
    }
    Ok(next as u64)
}

const ENTRY_COLUMNS: &str =
    "idx, entry_id, statement, leaf_hash, release_id, issuer, subject, content_type, appended_at FROM public_entries";

fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<PublicEntry> {
    let corrupt = || super::StoreError::Corrupt("a public log entry");
    let statement: String = row.try_get(2)?;
    let leaf: String = row.try_get(3)?;
    Ok(PublicEntry {
        index: row.try_get::<i64, _>(0)? as u64,
        entry_id: row.try_get(1)?,
        statement: BASE64.decode(statement).map_err(|_| corrupt())?,
        leaf_hash: hex::decode(leaf).ok().and_then(|b| b.try_into().ok()).ok_or_else(corrupt)?,
        release_id: row.try_get(4)?,
        issuer: row.try_get(5)?,
        subject: row.try_get(6)?,
        content_type: row.try_get(7)?,
        appended_at: row.try_get(8)?,
    })
}

impl Store {
    /// The leaf hashes from `start` on, in order.
    pub async fn public_leaf_hashes(&self, start: u64) -> Result<Vec<(u64, [u8; 32])>> {
        let rows = sqlx::query("SELECT idx, leaf_hash FROM public_entries WHERE idx >= $1 ORDER BY idx")
            .bind(start as i64)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let hash: String = row.try_get(1)?;
                let hash = hex::decode(hash).ok().and_then(|b| b.try_into().ok());
                Ok((row.try_get::<i64, _>(0)? as u64, hash.ok_or(super::StoreError::Corrupt("a public leaf hash"))?))
            })
            .collect()
    }

    /// Entries `start..end`, in order.
    pub async fn public_entries(&self, start: u64, end: u64) -> Result<Vec<PublicEntry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} WHERE idx >= $1 AND idx < $2 ORDER BY idx");
        let rows = sqlx::query(&sql).bind(start as i64).bind(end as i64).fetch_all(&self.pool).await?;
        rows.iter().map(entry_from_row).collect()
    }

    pub async fn public_entry_of_release(&self, release_id: i64) -> Result<Option<PublicEntry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} WHERE release_id = $1");
        let row = sqlx::query(&sql).bind(release_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    pub async fn public_entry_by_id(&self, entry_id: &str) -> Result<Option<PublicEntry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} WHERE entry_id = $1");
        let row = sqlx::query(&sql).bind(entry_id).fetch_optional(&self.pool).await?;
        row.as_ref().map(entry_from_row).transpose()
    }

    /// The entries naming an artifact, in order.
    pub async fn public_entries_naming(&self, sha256: &str) -> Result<Vec<PublicEntry>> {
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} WHERE idx IN (SELECT idx FROM public_subjects WHERE sha256 = $1) ORDER BY idx"
        );
        let rows = sqlx::query(&sql).bind(sha256).fetch_all(&self.pool).await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// The entries of authorised releases, newest first.
    pub async fn public_release_entries(&self, limit: i64) -> Result<Vec<PublicEntry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} WHERE release_id IS NOT NULL ORDER BY idx DESC LIMIT $1");
        let rows = sqlx::query(&sql).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// The newest checkpoint: (size, note).
    pub async fn public_checkpoint(&self) -> Result<Option<(u64, String)>> {
        let row = sqlx::query("SELECT size, note FROM public_checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.try_get::<i64, _>(0)? as u64, row.try_get(1)?))).transpose()
    }

    /// Keeps a checkpoint; another instance may have kept the same one (Ed25519 signatures are
    /// deterministic, so it is the same note).
    pub async fn add_public_checkpoint(&self, size: u64, root: &[u8; 32], note: &str, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO public_checkpoints (size, root, note, signed_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (size) DO NOTHING",
        )
        .bind(size as i64)
        .bind(hex::encode(root))
        .bind(note)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest checkpoints (at most `limit`), newest first: (size, root, note).
    pub async fn public_checkpoints(&self, limit: i64) -> Result<Vec<(u64, [u8; 32], String)>> {
        let rows = sqlx::query("SELECT size, root, note FROM public_checkpoints ORDER BY size DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let root: String = row.try_get(1)?;
                let root = hex::decode(root).ok().and_then(|b| b.try_into().ok());
                let root = root.ok_or(super::StoreError::Corrupt("a public checkpoint's root"))?;
                Ok((row.try_get::<i64, _>(0)? as u64, root, row.try_get(2)?))
            })
            .collect()
    }

    pub async fn add_public_cosignature(&self, size: u64, witness: &str, line: &str, at: u64, now: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO public_cosignatures (size, witness, line, cosigned_at, received_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (size, witness) DO NOTHING",
        )
        .bind(size as i64)
        .bind(witness)
        .bind(line)
        .bind(at as i64)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The size each witness last cosigned.
    pub async fn public_cosigned_sizes(&self) -> Result<Vec<(String, u64)>> {
        let rows = sqlx::query("SELECT witness, MAX(size) FROM public_cosignatures GROUP BY witness ORDER BY witness")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get::<i64, _>(1)? as u64))).collect()
    }

    /// The cosignature lines of checkpoints from `size` on: (size, witness, line).
    pub async fn public_cosignatures_from(&self, size: u64) -> Result<Vec<(u64, String, String)>> {
        let rows =
            sqlx::query("SELECT size, witness, line FROM public_cosignatures WHERE size >= $1 ORDER BY size, witness")
                .bind(size as i64)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|row| Ok((row.try_get::<i64, _>(0)? as u64, row.try_get(1)?, row.try_get(2)?))).collect()
    }
}
