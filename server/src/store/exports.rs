//! Exports: the bundles asked for, their state and file; and the event reads an export makes.

use super::{Connection, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Clone, Debug)]
pub struct ExportRow {
    pub id: i64,
    pub created_by: Option<i64>,
    pub creator: Option<String>,
    pub scope: String,
    pub previous: Option<String>,
    pub state: String,
    pub file_name: Option<String>,
    pub size: Option<i64>,
    pub sha256: Option<String>,
    pub events: Option<i64>,
    pub message: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
    pub expires_at: Option<i64>,
}

const EXPORT_COLUMNS: &str = "x.id, x.created_by, u.username, x.scope, x.previous, x.state, x.file_name, x.size, \
     x.sha256, x.events, x.message, x.created_at, x.finished_at, x.expires_at";
const EXPORT_FROM: &str = "FROM exports x LEFT JOIN users u ON u.id = x.created_by";

fn export_from_row(row: &AnyRow) -> Result<ExportRow> {
    Ok(ExportRow {
        id: row.try_get(0)?,
        created_by: row.try_get(1)?,
        creator: row.try_get(2)?,
        scope: row.try_get(3)?,
        previous: row.try_get(4)?,
        state: row.try_get(5)?,
        file_name: row.try_get(6)?,
        size: row.try_get(7)?,
        sha256: row.try_get(8)?,
        events: row.try_get(9)?,
        message: row.try_get(10)?,
        created_at: row.try_get(11)?,
        finished_at: row.try_get(12)?,
        expires_at: row.try_get(13)?,
    })
}

/// A stored event as an export reads it.
pub type RawEvent = (u64, Vec<u8>, Vec<u8>);

/// A row of `idx, leaf, leaf_hash`.
fn raw_event(row: &AnyRow) -> Result<RawEvent> {
    Ok((row.try_get::<i64, _>(0)? as u64, row.try_get(1)?, row.try_get(2)?))
}

/// Which events an export's scan reads: a prefilter in SQL; the scope's exact rule is applied to
/// each leaf afterwards.
#[derive(Clone, Debug, Default)]
pub struct EventFilter {
    pub pins: Vec<i64>,
    pub actor_or_grants: Option<String>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
}

enum Bind {
    Int(i64),
    Text(String),
}

/// `select` with the prefilter's conditions: `$1` and `$2` are the index range; the rest bound
/// in order.
fn export_filter_sql(select: &str, filter: &EventFilter) -> (String, Vec<Bind>) {
    let mut sql = format!("{select} WHERE e.idx >= $1 AND e.idx < $2");
    let mut binds = Vec::new();
    if let Some(from) = filter.from_ms {
        binds.push(Bind::Int(from));
        sql.push_str(&format!(" AND e.recorded_at >= ${}", binds.len() + 2));
    }
    if let Some(until) = filter.until_ms {
        binds.push(Bind::Int(until));
        sql.push_str(&format!(" AND e.recorded_at < ${}", binds.len() + 2));
    }
    if let Some(actor) = &filter.actor_or_grants {
        binds.push(Bind::Text(actor.clone()));
        sql.push_str(&format!(" AND (e.actor = ${} OR e.action LIKE 'grant.%')", binds.len() + 2));
    }
    if !filter.pins.is_empty() {
        // Pin ids are numbers, never user text, so they are inlined.
        let list: Vec<String> = filter.pins.iter().map(i64::to_string).collect();
        let list = list.join(",");
        sql.push_str(&format!(
            " AND (e.pin_id IN ({list}) OR EXISTS (SELECT 1 FROM audit_objects o WHERE o.event_idx = e.idx AND o.pin_id IN ({list})))"
        ));
    }
    (sql, binds)
}

impl Store {
    pub async fn export(&self, id: i64) -> Result<Option<ExportRow>> {
        let sql = format!("SELECT {EXPORT_COLUMNS} {EXPORT_FROM} WHERE x.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(export_from_row).transpose()
    }

    /// The exports a person asked for (every export for `None`: staff), newest first.
    pub async fn exports_by(&self, creator: Option<i64>, limit: i64) -> Result<Vec<ExportRow>> {
        let rows = match creator {
            Some(user) => {
                let sql = format!(
                    "SELECT {EXPORT_COLUMNS} {EXPORT_FROM} WHERE x.created_by = $1 ORDER BY x.id DESC LIMIT $2"
                );
                sqlx::query(&sql).bind(user).bind(limit).fetch_all(&self.pool).await?
            }
            None => {
                let sql = format!("SELECT {EXPORT_COLUMNS} {EXPORT_FROM} ORDER BY x.id DESC LIMIT $1");
                sqlx::query(&sql).bind(limit).fetch_all(&self.pool).await?
            }
        };
        rows.iter().map(export_from_row).collect()
    }

    /// The bytes of the bundles kept on disk (finished, not yet expired).
    pub async fn kept_export_bytes(&self) -> Result<u64> {
        kept_bytes(&mut *self.pool.acquire().await?).await
    }

    pub async fn set_export_running(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE exports SET state = 'running' WHERE id = $1 AND state IN ('queued', 'running')")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn fail_export(&self, id: i64, message: &str, now: i64) -> Result<()> {
        sqlx::query("UPDATE exports SET state = 'failed', message = $1, finished_at = $2 WHERE id = $3")
            .bind(message)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Marks finished exports past their time as expired; returns their file names (to delete).
    pub async fn expire_exports(&self, now: i64) -> Result<Vec<String>> {
        let names: Vec<Option<String>> = sqlx::query_scalar(
            "SELECT file_name FROM exports WHERE state = 'done' AND expires_at IS NOT NULL AND expires_at <= $1",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        sqlx::query(
            "UPDATE exports SET state = 'expired' WHERE state = 'done' AND expires_at IS NOT NULL AND expires_at <= $1",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(names.into_iter().flatten().collect())
    }

    /// Events `start..end` that may be in an export's scope (the prefilter), oldest first.
    pub async fn export_events(&self, filter: &EventFilter, start: u64, end: u64) -> Result<Vec<RawEvent>> {
        let (sql, binds) = export_filter_sql("SELECT e.idx, e.leaf, e.leaf_hash FROM audit_events e", filter);
        let sql = format!("{sql} ORDER BY e.idx");
        let mut query = sqlx::query(&sql).bind(start as i64).bind(end as i64);
        for bind in binds {
            query = match bind {
                Bind::Int(v) => query.bind(v),
                Bind::Text(t) => query.bind(t),
            };
        }
        let rows = query.fetch_all(&self.pool).await?;
        rows.iter().map(raw_event).collect()
    }

    /// How many events below `end` the prefilter finds (an estimate of an export's size).
    pub async fn count_export_events(&self, filter: &EventFilter, end: u64) -> Result<u64> {
        let (sql, binds) = export_filter_sql("SELECT COUNT(*) FROM audit_events e", filter);
        let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(0i64).bind(end as i64);
        for bind in binds {
            query = match bind {
                Bind::Int(v) => query.bind(v),
                Bind::Text(t) => query.bind(t),
            };
        }
        Ok(query.fetch_one(&self.pool).await?.max(0) as u64)
    }

    /// Sign-ins and sign-outs (and attestation issues) below `end`: the context an export adds.
    pub async fn context_events(&self, actions: &[&str], start: u64, end: u64) -> Result<Vec<RawEvent>> {
        let list: Vec<String> = actions.iter().map(|a| format!("'{a}'")).collect();
        let sql = format!(
            "SELECT idx, leaf, leaf_hash FROM audit_events WHERE idx >= $1 AND idx < $2 AND action IN ({}) ORDER BY idx",
            list.join(",")
        );
        let rows = sqlx::query(&sql).bind(start as i64).bind(end as i64).fetch_all(&self.pool).await?;
        rows.iter().map(raw_event).collect()
    }

    /// The stored events at these indices, in order.
    pub async fn events_at(&self, indices: &[u64]) -> Result<Vec<RawEvent>> {
        if indices.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = indices.iter().map(u64::to_string).collect();
        let sql =
            format!("SELECT idx, leaf, leaf_hash FROM audit_events WHERE idx IN ({}) ORDER BY idx", list.join(","));
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(raw_event).collect()
    }
}

/// A new export row, in the transaction that records the request.
pub async fn insert_export(
    conn: &mut Connection,
    created_by: Option<i64>,
    scope: &str,
    previous: Option<&str>,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO exports (created_by, scope, previous, state, created_at) VALUES ($1, $2, $3, 'queued', $4) RETURNING id",
    )
    .bind(created_by)
    .bind(scope)
    .bind(previous)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// The export still queued or running that `created_by` asked for with the same scope and
/// previous checkpoint, if any (in the transaction that would queue another).
pub async fn pending_like(
    conn: &mut Connection,
    created_by: i64,
    scope: &str,
    previous: Option<&str>,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM exports WHERE created_by = $1 AND scope = $2 AND COALESCE(previous, '') = $3 \
         AND state IN ('queued', 'running') ORDER BY id LIMIT 1",
    )
    .bind(created_by)
    .bind(scope)
    .bind(previous.unwrap_or(""))
    .fetch_optional(conn)
    .await?)
}

/// How many exports `created_by` has waiting (queued or running), and asked for since `since`.
pub async fn counts_for(conn: &mut Connection, created_by: i64, since: i64) -> Result<(i64, i64)> {
    let pending: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM exports WHERE created_by = $1 AND state IN ('queued', 'running')")
            .bind(created_by)
            .fetch_one(&mut *conn)
            .await?;
    let recent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM exports WHERE created_by = $1 AND created_at >= $2")
        .bind(created_by)
        .bind(since)
        .fetch_one(&mut *conn)
        .await?;
    Ok((pending, recent))
}

/// The bytes of the bundles kept on disk (finished, not yet expired).
pub async fn kept_bytes(conn: &mut Connection) -> Result<u64> {
    let bytes: i64 =
        sqlx::query_scalar("SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM exports WHERE state = 'done'")
            .fetch_one(conn)
            .await?;
    Ok(bytes.max(0) as u64)
}

/// The finished bundle, in the transaction that records it.
pub struct FinishedExport<'a> {
    pub id: i64,
    pub file_name: &'a str,
    pub size: u64,
    pub sha256: &'a str,
    pub events: u64,
    pub finished_at: i64,
    pub expires_at: i64,
}

pub async fn finish_export(conn: &mut Connection, done: &FinishedExport<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE exports SET state = 'done', file_name = $1, size = $2, sha256 = $3, events = $4, finished_at = $5, \
         expires_at = $6, message = NULL WHERE id = $7",
    )
    .bind(done.file_name)
    .bind(done.size as i64)
    .bind(done.sha256)
    .bind(done.events as i64)
    .bind(done.finished_at)
    .bind(done.expires_at)
    .bind(done.id)
    .execute(conn)
    .await?;
    Ok(())
}
