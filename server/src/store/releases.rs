//! Release records: each repository's release policies, newest last (append-only).

use super::{Connection, Result, Store};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRow {
    pub id: i64,
    pub repository_id: i64,
    pub policy: String,
    pub digest: String,
    pub written: String,
    pub set_by: Option<String>,
    pub set_at: i64,
}

/// A new policy for a repository, in the caller's transaction.
pub async fn add_release_policy(
    conn: &mut Connection,
    repository_id: i64,
    (policy, digest, written): (&str, &str, &str),
    set_by: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO release_policies (repository_id, policy, digest, written, set_by, set_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(repository_id)
    .bind(policy)
    .bind(digest)
    .bind(written)
    .bind(set_by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// A repository's policy: its newest.
    pub async fn release_policy(&self, repository_id: i64) -> Result<Option<PolicyRow>> {
        let row = sqlx::query(
            "SELECT p.id, p.repository_id, p.policy, p.digest, p.written, u.username, p.set_at \
             FROM release_policies p LEFT JOIN users u ON u.id = p.set_by \
             WHERE p.repository_id = $1 ORDER BY p.id DESC LIMIT 1",
        )
        .bind(repository_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(PolicyRow {
                id: row.try_get(0)?,
                repository_id: row.try_get(1)?,
                policy: row.try_get(2)?,
                digest: row.try_get(3)?,
                written: row.try_get(4)?,
                set_by: row.try_get(5)?,
                set_at: row.try_get(6)?,
            })
        })
        .transpose()
    }
}
