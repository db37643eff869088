//! Room builds: a pin's recipe, the toolchains' digests, each build the room ran (its state, log
//! and outputs), the diffoscope reports on artifacts that differ, and the `room` account that
//! records the room's builds.

use super::{Connection, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

/// The account the room records its builds as.
pub const ROOM_ACCOUNT: &str = "room";
/// The largest part of a log stored at once (a part that holds an offset starts at most this far before it).
pub const LOG_PART: usize = 256 * 1024;
/// A password hash no password matches: the room account never signs in.
const LOCKED: &str = "!";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecipeRow {
    pub pin_id: i64,
    pub recipe: String,
    pub digest: String,
    pub set_by: Option<String>,
    pub set_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoomBuildRow {
    pub id: i64,
    pub pin_id: i64,
    pub recipe: String,
    pub recipe_digest: String,
    pub toolchain_digest: Option<String>,
    pub state: String,
    pub reason: Option<String>,
    pub requested_by: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub attempts: i64,
    pub log_sha256: Option<String>,
    pub log_bytes: Option<i64>,
    pub outputs: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffRow {
    pub id: i64,
    pub pin_id: i64,
    pub name: String,
    pub platform: String,
    pub sha256_a: String,
    pub sha256_b: String,
    pub state: String,
    pub reason: Option<String>,
    pub report_sha256: Option<String>,
    pub html_sha256: Option<String>,
    pub cut: bool,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

const ROOM_COLUMNS: &str = "r.id, r.pin_id, r.recipe, r.recipe_digest, r.toolchain_digest, r.state, r.reason, \
     u.username, r.created_at, r.started_at, r.finished_at, r.attempts, r.log_sha256, r.log_bytes, r.outputs";
const ROOM_FROM: &str = "FROM room_builds r LEFT JOIN users u ON u.id = r.requested_by";
const DIFF_COLUMNS: &str = "id, pin_id, name, platform, sha256_a, sha256_b, state, reason, report_sha256, \
     html_sha256, cut, created_at, finished_at";

fn room_from_row(row: &AnyRow) -> Result<RoomBuildRow> {
    Ok(RoomBuildRow {
        id: row.try_get(0)?,
        pin_id: row.try_get(1)?,
        recipe: row.try_get(2)?,
        recipe_digest: row.try_get(3)?,
        toolchain_digest: row.try_get(4)?,
        state: row.try_get(5)?,
        reason: row.try_get(6)?,
        requested_by: row.try_get(7)?,
        created_at: row.try_get(8)?,
        started_at: row.try_get(9)?,
        finished_at: row.try_get(10)?,
        attempts: row.try_get(11)?,
        log_sha256: row.try_get(12)?,
        log_bytes: row.try_get(13)?,
        outputs: row.try_get(14)?,
    })
}

fn diff_from_row(row: &AnyRow) -> Result<DiffRow> {
    Ok(DiffRow {
        id: row.try_get(0)?,
        pin_id: row.try_get(1)?,
        name: row.try_get(2)?,
        platform: row.try_get(3)?,
        sha256_a: row.try_get(4)?,
        sha256_b: row.try_get(5)?,
        state: row.try_get(6)?,
        reason: row.try_get(7)?,
        report_sha256: row.try_get(8)?,
        html_sha256: row.try_get(9)?,
        cut: row.try_get::<i64, _>(10)? != 0,
        created_at: row.try_get(11)?,
        finished_at: row.try_get(12)?,
    })
}

/// How a room build ended, as stored.
pub struct Finished<'a> {
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub log_sha256: Option<&'a str>,
    pub log_bytes: Option<i64>,
    pub outputs: Option<&'a str>,
    pub now: i64,
}

impl Store {
    /// The `room` account's id, made on first use: a builder that never signs in. An account of
    /// that name made by somebody else is refused (the room's records must be the room's alone).
    pub async fn room_account(&self, now: i64) -> Result<std::result::Result<i64, String>> {
        sqlx::query(
            "INSERT INTO users (username, role, password_hash, created_at) VALUES ($1, 'builder', $2, $3) \
             ON CONFLICT (username) DO NOTHING",
        )
        .bind(ROOM_ACCOUNT)
        .bind(LOCKED)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query("SELECT id, role, password_hash FROM users WHERE username = $1")
            .bind(ROOM_ACCOUNT)
            .fetch_one(&self.pool)
            .await?;
        let (id, role, hash): (i64, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        Ok(match role == "builder" && hash == LOCKED {
            true => Ok(id),
            false => Err("an account named `room` exists that is not the room's: rename it first".to_string()),
        })
    }

    pub async fn recipe(&self, pin_id: i64) -> Result<Option<RecipeRow>> {
        let row = sqlx::query(
            "SELECT r.pin_id, r.recipe, r.digest, u.username, r.set_at FROM build_recipes r \
             LEFT JOIN users u ON u.id = r.set_by WHERE r.pin_id = $1",
        )
        .bind(pin_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(RecipeRow {
                pin_id: row.try_get(0)?,
                recipe: row.try_get(1)?,
                digest: row.try_get(2)?,
                set_by: row.try_get(3)?,
                set_at: row.try_get(4)?,
            })
        })
        .transpose()
    }

    /// A toolchain root's digest, if it was computed.
    pub async fn toolchain_digest(&self, name: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT digest FROM toolchains WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Keeps a toolchain root's digest (the first one computed stays).
    pub async fn keep_toolchain_digest(&self, name: &str, digest: &str, now: i64) -> Result<String> {
        sqlx::query(
            "INSERT INTO toolchains (name, digest, computed_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(digest)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(self.toolchain_digest(name).await?.unwrap_or_else(|| digest.to_string()))
    }

    pub async fn room_builds_of_pin(&self, pin_id: i64) -> Result<Vec<RoomBuildRow>> {
        let sql = format!("SELECT {ROOM_COLUMNS} {ROOM_FROM} WHERE r.pin_id = $1 ORDER BY r.id DESC");
        let rows = sqlx::query(&sql).bind(pin_id).fetch_all(&self.pool).await?;
        rows.iter().map(room_from_row).collect()
    }

    pub async fn room_build(&self, id: i64) -> Result<Option<RoomBuildRow>> {
        let sql = format!("SELECT {ROOM_COLUMNS} {ROOM_FROM} WHERE r.id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(room_from_row).transpose()
    }

    /// Marks a room build running, one attempt more (a build taken over starts again).
    pub async fn room_build_started(&self, id: i64, toolchain_digest: &str, now: i64) -> Result<i64> {
        sqlx::query(
            "UPDATE room_builds SET state = 'running', attempts = attempts + 1, started_at = $1, \
             toolchain_digest = $2, reason = NULL WHERE id = $3",
        )
        .bind(now)
        .bind(toolchain_digest)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_scalar("SELECT attempts FROM room_builds WHERE id = $1").bind(id).fetch_one(&self.pool).await?)
    }

    pub async fn diffs_of_pin(&self, pin_id: i64) -> Result<Vec<DiffRow>> {
        let sql = format!("SELECT {DIFF_COLUMNS} FROM build_diffs WHERE pin_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql).bind(pin_id).fetch_all(&self.pool).await?;
        rows.iter().map(diff_from_row).collect()
    }

    pub async fn diff(&self, id: i64) -> Result<Option<DiffRow>> {
        let sql = format!("SELECT {DIFF_COLUMNS} FROM build_diffs WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(diff_from_row).transpose()
    }

    pub async fn diff_running(&self, id: i64) -> Result<()> {
        sqlx::query("UPDATE build_diffs SET state = 'running' WHERE id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }
}

/// Sets a pin's recipe in the caller's transaction.
pub async fn set_recipe(
    conn: &mut Connection,
    pin_id: i64,
    recipe: &str,
    digest: &str,
    set_by: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO build_recipes (pin_id, recipe, digest, set_by, set_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (pin_id) DO UPDATE SET recipe = excluded.recipe, digest = excluded.digest, \
         set_by = excluded.set_by, set_at = excluded.set_at",
    )
    .bind(pin_id)
    .bind(recipe)
    .bind(digest)
    .bind(set_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// A room build of the pin that is queued or running, in the caller's transaction.
pub async fn unfinished_room_build(conn: &mut Connection, pin_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM room_builds WHERE pin_id = $1 AND state IN ('queued', 'running') ORDER BY id LIMIT 1",
    )
    .bind(pin_id)
    .fetch_optional(conn)
    .await?)
}

/// Adds a queued room build in the caller's transaction.
pub async fn insert_room_build(
    conn: &mut Connection,
    pin_id: i64,
    recipe: &str,
    digest: &str,
    requested_by: Option<i64>,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO room_builds (pin_id, recipe, recipe_digest, state, requested_by, created_at) \
         VALUES ($1, $2, $3, 'queued', $4, $5) RETURNING id",
    )
    .bind(pin_id)
    .bind(recipe)
    .bind(digest)
    .bind(requested_by)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

/// Ends a room build in the caller's transaction.
pub async fn finish_room_build(conn: &mut Connection, id: i64, end: &Finished<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE room_builds SET state = $1, reason = $2, log_sha256 = $3, log_bytes = $4, outputs = $5, \
         finished_at = $6 WHERE id = $7",
    )
    .bind(end.state)
    .bind(end.reason)
    .bind(end.log_sha256)
    .bind(end.log_bytes)
    .bind(end.outputs)
    .bind(end.now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Queues a report on two differing artifacts in the caller's transaction: its id, or `None` when
/// one was already asked for.
pub async fn insert_diff(
    conn: &mut Connection,
    pin_id: i64,
    artifact: (&str, &str),
    hashes: (&str, &str),
    now: i64,
) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "INSERT INTO build_diffs (pin_id, name, platform, sha256_a, sha256_b, state, created_at) \
         VALUES ($1, $2, $3, $4, $5, 'queued', $6) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(pin_id)
    .bind(artifact.0)
    .bind(artifact.1)
    .bind(hashes.0)
    .bind(hashes.1)
    .bind(now)
    .fetch_optional(conn)
    .await?)
}

/// Ends a report in the caller's transaction.
pub async fn finish_diff(
    conn: &mut Connection,
    id: i64,
    state: &str,
    reason: Option<&str>,
    report: Option<(&str, Option<&str>, bool)>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE build_diffs SET state = $1, reason = $2, report_sha256 = $3, html_sha256 = $4, cut = $5, \
         finished_at = $6 WHERE id = $7",
    )
    .bind(state)
    .bind(reason)
    .bind(report.map(|r| r.0))
    .bind(report.and_then(|r| r.1))
    .bind(i64::from(report.is_some_and(|r| r.2)))
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

impl Store {
    /// Forgets a room build's log parts (an attempt that starts again writes its own).
    pub async fn clear_room_log(&self, id: i64) -> Result<()> {
        sqlx::query("DELETE FROM room_build_logs WHERE room_build_id = $1").bind(id).execute(&self.pool).await?;
        Ok(())
    }

    /// Adds a part of a room build's log at byte `at`.
    pub async fn add_room_log(&self, id: i64, at: u64, bytes: &[u8]) -> Result<()> {
        sqlx::query("INSERT INTO room_build_logs (room_build_id, at, bytes) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(at as i64)
            .bind(bytes)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A room build's log from byte `from`, at most about `max` bytes (whole parts).
    pub async fn room_log(&self, id: i64, from: u64, max: usize) -> Result<(u64, Vec<u8>)> {
        let rows =
            sqlx::query("SELECT at, bytes FROM room_build_logs WHERE room_build_id = $1 AND at > $2 ORDER BY at")
                .bind(id)
                .bind(from as i64 - LOG_PART as i64)
                .fetch_all(&self.pool)
                .await?;
        let mut text = Vec::new();
        let mut next = from;
        for row in rows {
            let (at, bytes): (i64, Vec<u8>) = (row.try_get(0)?, row.try_get(1)?);
            let (at, end) = (at as u64, at as u64 + bytes.len() as u64);
            if end <= next || at > next {
                continue;
            }
            text.extend_from_slice(&bytes[(next - at) as usize..]);
            next = end;
            if text.len() >= max {
                break;
            }
        }
        Ok((next, text))
    }
}
