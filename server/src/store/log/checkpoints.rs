//! Signed checkpoints and the witnesses' cosignatures of them, as stored.

use super::to_hash;
use super::Hash;
use crate::store::{Result, Store};
use sqlx::Row;

/// A stored checkpoint row.
pub struct CheckpointRow {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

impl Store {
    pub async fn latest_checkpoint(&self) -> Result<Option<CheckpointRow>> {
        let row = sqlx::query("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            let size: i64 = row.try_get(0)?;
            Ok(CheckpointRow { size: size as u64, root: to_hash(row.try_get(1)?)?, note: row.try_get(2)? })
        })
        .transpose()
    }

    /// Stores a signed checkpoint unless one of that size exists (another instance signed first).
    pub async fn insert_checkpoint(&self, size: u64, root: &Hash, note: &str, signed_at: i64) -> Result<()> {
        sqlx::query(
            "INSERT INTO checkpoints (size, root, note, signed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING",
        )
        .bind(size as i64)
        .bind(root.as_slice())
        .bind(note)
        .bind(signed_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The newest checkpoints, newest first.
    pub async fn recent_checkpoints(&self, limit: i64) -> Result<Vec<CheckpointRow>> {
        let rows = sqlx::query("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT $1")
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let size: i64 = row.try_get(0)?;
                Ok(CheckpointRow { size: size as u64, root: to_hash(row.try_get(1)?)?, note: row.try_get(2)? })
            })
            .collect()
    }

    /// Stores a verified cosignature (a repeated one is ignored).
    pub async fn insert_cosignature(
        &self,
        size: u64,
        witness: &str,
        line: &str,
        cosigned_at: u64,
        now: i64,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO cosignatures (checkpoint_size, witness, line, cosigned_at, received_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (checkpoint_size, witness) DO NOTHING",
        )
        .bind(size as i64)
        .bind(witness)
        .bind(line)
        .bind(cosigned_at as i64)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The cosignatures of the checkpoints from `min_size` up: (size, witness, line).
    pub async fn cosignatures_from(&self, min_size: u64) -> Result<Vec<(u64, String, String)>> {
        let rows = sqlx::query(
            "SELECT checkpoint_size, witness, line FROM cosignatures WHERE checkpoint_size >= $1 ORDER BY checkpoint_size, witness",
        )
        .bind(min_size as i64)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get::<i64, _>(0)? as u64, row.try_get(1)?, row.try_get(2)?))).collect()
    }

    /// Each witness's newest cosignature: (witness, size, cosigned at in POSIX seconds).
    pub async fn latest_cosignatures(&self) -> Result<Vec<(String, u64, i64)>> {
        let rows = sqlx::query(
            "SELECT c.witness, c.checkpoint_size, c.cosigned_at FROM cosignatures c \
             JOIN (SELECT witness, MAX(checkpoint_size) AS size FROM cosignatures GROUP BY witness) m \
             ON m.witness = c.witness AND m.size = c.checkpoint_size ORDER BY c.witness",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get::<i64, _>(1)? as u64, row.try_get(2)?))).collect()
    }

    /// When the first checkpoint larger than `size` was signed, if any.
    pub async fn checkpoints_signed_after(&self, size: u64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT MIN(signed_at) FROM checkpoints WHERE size > $1")
            .bind(size as i64)
            .fetch_one(&self.pool)
            .await?)
    }
}
