//! Compiled-code maps and the debug files that accompany artifacts.

use super::{Connection, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugFileRow {
    pub id: i64,
    pub pin_id: i64,
    pub of_sha256: String,
    pub sha256: String,
    pub size: i64,
    pub build_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapRow {
    pub id: i64,
    pub pin_id: i64,
    pub sha256: String,
    pub state: String,
    pub reason: Option<String>,
    pub declared_prefix: Option<String>,
    pub debug_sha256: Option<String>,
    pub build_id: Option<String>,
    pub source_prefix: Option<String>,
    pub map_sha256: Option<String>,
    /// files, lines, elsewhere files, elsewhere lines, checksum mismatches.
    pub figures: [i64; 5],
    pub updated_at: i64,
}

/// A finished map, as the job stores it.
pub struct MapEnd<'a> {
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub debug_sha256: Option<&'a str>,
    pub build_id: Option<&'a str>,
    pub source_prefix: Option<&'a str>,
    /// zstd of the canonical JSON.
    pub map: Option<&'a [u8]>,
    pub map_sha256: Option<&'a str>,
    pub figures: [i64; 5],
    pub now: i64,
}

const MAP_COLUMNS: &str = "id, pin_id, sha256, state, reason, declared_prefix, debug_sha256, build_id, source_prefix, \
     map_sha256, files, lines, elsewhere_files, elsewhere_lines, mismatches, updated_at";

fn map_from_row(row: &AnyRow) -> Result<MapRow> {
    Ok(MapRow {
        id: row.try_get(0)?,
        pin_id: row.try_get(1)?,
        sha256: row.try_get(2)?,
        state: row.try_get(3)?,
        reason: row.try_get(4)?,
        declared_prefix: row.try_get(5)?,
        debug_sha256: row.try_get(6)?,
        build_id: row.try_get(7)?,
        source_prefix: row.try_get(8)?,
        map_sha256: row.try_get(9)?,
        figures: [row.try_get(10)?, row.try_get(11)?, row.try_get(12)?, row.try_get(13)?, row.try_get(14)?],
        updated_at: row.try_get(15)?,
    })
}

impl Store {
    /// A pin's maps, by artifact hash.
    pub async fn compiled_maps(&self, pin_id: i64) -> Result<Vec<MapRow>> {
        let sql = format!("SELECT {MAP_COLUMNS} FROM compiled_maps WHERE pin_id = $1 ORDER BY sha256");
        let rows = sqlx::query(&sql).bind(pin_id).fetch_all(&self.pool).await?;
        rows.iter().map(map_from_row).collect()
    }

    pub async fn compiled_map(&self, pin_id: i64, sha256: &str) -> Result<Option<MapRow>> {
        let sql = format!("SELECT {MAP_COLUMNS} FROM compiled_maps WHERE pin_id = $1 AND sha256 = $2");
        let row = sqlx::query(&sql).bind(pin_id).bind(sha256).fetch_optional(&self.pool).await?;
        row.as_ref().map(map_from_row).transpose()
    }

    pub async fn compiled_map_by_id(&self, id: i64) -> Result<Option<MapRow>> {
        let sql = format!("SELECT {MAP_COLUMNS} FROM compiled_maps WHERE id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(map_from_row).transpose()
    }

    /// A done map's stored bytes (zstd of its canonical JSON).
    pub async fn compiled_map_bytes(&self, id: i64) -> Result<Option<Vec<u8>>> {
        let row =
            sqlx::query("SELECT map FROM compiled_maps WHERE id = $1").bind(id).fetch_optional(&self.pool).await?;
        Ok(row.map(|row| row.try_get::<Option<Vec<u8>>, _>(0)).transpose()?.flatten())
    }

    /// Marks a queued map running (false: it is not the map's queued build any more).
    pub async fn start_compiled_map(&self, id: i64, now: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE compiled_maps SET state = 'running', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The debug files recorded for a pin's artifact, and those of the pin with a build-id.
    pub async fn debug_files(&self, pin_id: i64, of_sha256: &str, build_id: Option<&str>) -> Result<Vec<DebugFileRow>> {
        let rows = sqlx::query(
            "SELECT id, pin_id, of_sha256, sha256, size, build_id FROM debug_files \
             WHERE pin_id = $1 AND (of_sha256 = $2 OR build_id = $3) ORDER BY (of_sha256 = $2) DESC, id DESC",
        )
        .bind(pin_id)
        .bind(of_sha256)
        .bind(build_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DebugFileRow {
                    id: row.try_get(0)?,
                    pin_id: row.try_get(1)?,
                    of_sha256: row.try_get(2)?,
                    sha256: row.try_get(3)?,
                    size: row.try_get(4)?,
                    build_id: row.try_get(5)?,
                })
            })
            .collect()
    }
}

/// Records a debug file (once per pin, artifact and file; `false`: it was already recorded).
pub async fn insert_debug_file(
    conn: &mut Connection,
    file: &DebugFileRow,
    recorded_by: Option<i64>,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "INSERT INTO debug_files (pin_id, of_sha256, sha256, size, build_id, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (pin_id, of_sha256, sha256) DO NOTHING",
    )
    .bind(file.pin_id)
    .bind(&file.of_sha256)
    .bind(&file.sha256)
    .bind(file.size)
    .bind(&file.build_id)
    .bind(recorded_by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Queues a (new or repeated) map of an artifact at a pin; its id. A declared prefix replaces the
/// one kept only when given.
pub async fn queue_compiled_map(
    conn: &mut Connection,
    pin_id: i64,
    sha256: &str,
    declared_prefix: Option<&str>,
    now: i64,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO compiled_maps (pin_id, sha256, state, declared_prefix, updated_at) VALUES ($1, $2, 'queued', $3, $4) \
         ON CONFLICT (pin_id, sha256) DO UPDATE SET state = 'queued', reason = NULL, updated_at = $4, \
         declared_prefix = COALESCE($3, compiled_maps.declared_prefix) RETURNING id",
    )
    .bind(pin_id)
    .bind(sha256)
    .bind(declared_prefix)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    Ok(id)
}

/// Stores a map's outcome.
pub async fn finish_compiled_map(conn: &mut Connection, id: i64, end: &MapEnd<'_>) -> Result<()> {
    sqlx::query(
        "UPDATE compiled_maps SET state = $1, reason = $2, debug_sha256 = $3, build_id = $4, source_prefix = $5, \
         map = $6, map_sha256 = $7, files = $8, lines = $9, elsewhere_files = $10, elsewhere_lines = $11, \
         mismatches = $12, updated_at = $13 WHERE id = $14",
    )
    .bind(end.state)
    .bind(end.reason)
    .bind(end.debug_sha256)
    .bind(end.build_id)
    .bind(end.source_prefix)
    .bind(end.map)
    .bind(end.map_sha256)
    .bind(end.figures[0])
    .bind(end.figures[1])
    .bind(end.figures[2])
    .bind(end.figures[3])
    .bind(end.figures[4])
    .bind(end.now)
    .bind(id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
