//! The per-pin file index (path, blob, size, lines) and the background jobs that build it and a
//! pin's definitions (`definitions.rs`).

use super::{Connection, Result, Store};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinFileRow {
    pub path: String,
    pub blob_id: String,
    pub bytes: u64,
    pub lines: u64,
    pub binary: bool,
    /// Where the file's text is in the pin's search pack: (offset, length); none for binaries and
    /// files too large to search.
    pub text: Option<(u64, u64)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub subject: i64,
    pub state: String,
    pub done_units: i64,
    pub total_units: i64,
    pub message: Option<String>,
}

const JOB_COLUMNS: &str = "id, kind, subject, state, done_units, total_units, message";

fn job_from_row(row: &sqlx::any::AnyRow) -> Result<JobRow> {
    Ok(JobRow {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        subject: row.try_get(2)?,
        state: row.try_get(3)?,
        done_units: row.try_get(4)?,
        total_units: row.try_get(5)?,
        message: row.try_get(6)?,
    })
}

/// The kind of job that builds an export bundle (`domain::exports::EXPORT_BUNDLE`).
pub const EXPORT_JOB_KIND: &str = "export.bundle";

/// Which jobs a worker claims: exports run in a queue of their own, so that a pin's index, symbols
/// and imports never wait behind a regulator's bundles (nor bundles behind a large import).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobLane {
    Exports,
    Pins,
    /// Room builds and their reports: long, so that neither a pin's jobs nor an export waits.
    Builds,
}

/// The jobs of the builds lane.
pub const BUILD_JOB_KINDS: [&str; 3] = ["build.run", "build.diff", "artifact.compiled_map"];

impl Store {
    pub async fn pin_files(&self, pin_id: i64) -> Result<Vec<PinFileRow>> {
        let rows = sqlx::query(
            "SELECT path, blob_id, bytes, lines, is_binary, text_offset, text_length FROM pin_files WHERE pin_id = $1",
        )
        .bind(pin_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PinFileRow {
                    path: row.try_get(0)?,
                    blob_id: row.try_get(1)?,
                    bytes: row.try_get::<i64, _>(2)? as u64,
                    lines: row.try_get::<i64, _>(3)? as u64,
                    binary: row.try_get::<i64, _>(4)? != 0,
                    text: match (row.try_get::<Option<i64>, _>(5)?, row.try_get::<Option<i64>, _>(6)?) {
                        (Some(offset), Some(length)) => Some((offset as u64, length as u64)),
                        _ => None,
                    },
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(|mut files| {
                // In the bytes' order, as the pack and search cursors are, whatever the database's
                // collation orders text by (PostgreSQL's may ignore punctuation).
                files.sort_by(|a, b| a.path.cmp(&b.path));
                files
            })
    }

    /// Adds index rows (a job may write the same rows again after a restart: they are kept once).
    pub async fn insert_pin_files(&self, pin_id: i64, files: &[PinFileRow]) -> Result<()> {
        let mut tx = self.begin().await?;
        for file in files {
            sqlx::query(
                "INSERT INTO pin_files (pin_id, path, blob_id, bytes, lines, is_binary, text_offset, text_length) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (pin_id, path) DO UPDATE SET text_offset = excluded.text_offset, text_length = excluded.text_length",
            )
            .bind(pin_id)
            .bind(&file.path)
            .bind(&file.blob_id)
            .bind(file.bytes as i64)
            .bind(file.lines as i64)
            .bind(i64::from(file.binary))
            .bind(file.text.map(|(offset, _)| offset as i64))
            .bind(file.text.map(|(_, length)| length as i64))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Queues a job on its own (not part of a change).
    pub async fn queue_job(&self, kind: &str, subject: i64, now: i64) -> Result<i64> {
        let mut conn = self.pool.acquire().await?;
        queue_job(&mut conn, kind, subject, now).await
    }

    /// The latest job of a kind for a subject.
    pub async fn job_for(&self, kind: &str, subject: i64) -> Result<Option<JobRow>> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE kind = $1 AND subject = $2 ORDER BY id DESC LIMIT 1");
        let row = sqlx::query(&sql).bind(kind).bind(subject).fetch_optional(&self.pool).await?;
        row.as_ref().map(job_from_row).transpose()
    }

    /// Claims the oldest job that is queued, or running with a heartbeat older than `stale_before`
    /// (its instance stopped): the claim sets the heartbeat, so one instance wins.
    pub async fn claim_job(&self, now: i64, stale_before: i64, lane: Option<JobLane>) -> Result<Option<JobRow>> {
        let only = match lane {
            None => "",
            Some(JobLane::Exports) => "kind = $2 AND ",
            Some(JobLane::Builds) => "kind IN ($3, $4, $5) AND kind <> $2 AND ",
            Some(JobLane::Pins) => "kind NOT IN ($2, $3, $4, $5) AND ",
        };
        let sql = format!(
            "SELECT id FROM jobs WHERE {only}(state = 'queued' OR (state = 'running' AND heartbeat_at < $1)) \
             ORDER BY id LIMIT 5"
        );
        let mut query = sqlx::query_scalar::<_, i64>(&sql).bind(stale_before);
        match lane {
            None => {}
            Some(JobLane::Exports) => query = query.bind(EXPORT_JOB_KIND),
            Some(JobLane::Builds | JobLane::Pins) => {
                query = BUILD_JOB_KINDS.iter().fold(query.bind(EXPORT_JOB_KIND), |query, kind| query.bind(*kind))
            }
        }
        let candidates = query.fetch_all(&self.pool).await?;
        for id in candidates {
            if let Some(job) = self.claim_job_id(id, now, stale_before).await? {
                return Ok(Some(job));
            }
        }
        Ok(None)
    }

    /// Claims job `id` if it is queued, or running with a heartbeat older than `stale_before`.
    pub async fn claim_job_id(&self, id: i64, now: i64, stale_before: i64) -> Result<Option<JobRow>> {
        let claimed = sqlx::query(
            "UPDATE jobs SET state = 'running', heartbeat_at = $1 \
             WHERE id = $2 AND (state = 'queued' OR (state = 'running' AND heartbeat_at < $3))",
        )
        .bind(now)
        .bind(id)
        .bind(stale_before)
        .execute(&self.pool)
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(None);
        }
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(job_from_row).transpose()
    }

    /// Records progress (and keeps the claim alive); false when the job was cancelled meanwhile.
    pub async fn job_progress(&self, id: i64, done: u64, total: u64, now: i64) -> Result<bool> {
        let updated = sqlx::query(
            "UPDATE jobs SET done_units = $1, total_units = $2, heartbeat_at = $3 WHERE id = $4 AND state = 'running'",
        )
        .bind(done as i64)
        .bind(total as i64)
        .bind(now)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(updated.rows_affected() == 1)
    }

    pub async fn finish_job(&self, id: i64, state: &str, message: Option<&str>, now: i64) -> Result<()> {
        sqlx::query("UPDATE jobs SET state = $1, message = $2, finished_at = $3 WHERE id = $4 AND state = 'running'")
            .bind(state)
            .bind(message)
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Cancels a queued or running job in the caller's transaction; false if it was neither.
pub async fn cancel_job(conn: &mut Connection, id: i64, now: i64) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE jobs SET state = 'cancelled', finished_at = $1 WHERE id = $2 AND state IN ('queued', 'running')",
    )
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Queues a job in the caller's transaction (a pin's index job commits with the pin).
pub async fn queue_job(conn: &mut Connection, kind: &str, subject: i64, now: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO jobs (kind, subject, state, created_at) VALUES ($1, $2, 'queued', $3) RETURNING id",
    )
    .bind(kind)
    .bind(subject)
    .bind(now)
    .fetch_one(conn)
    .await?)
}

impl Store {
    /// How many background jobs are in each state (for the metrics).
    pub async fn count_jobs_by_state(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }
}

impl Store {
    /// `INSERT INTO <table> VALUES (…), …` for `rows` rows of `columns` parameters, then `tail`:
    /// numbered placeholders on PostgreSQL, anonymous ones on SQLite (`log::append::multi_row_insert`).
    pub(super) fn values_insert(&self, table: &str, columns: usize, rows: usize, tail: &str) -> String {
        format!("INSERT INTO {table} VALUES {}{tail}", self.placeholder_rows(columns, rows))
    }

    /// `rows` rows of `columns` placeholders each: `(?, ?), (?, ?)` on SQLite (anonymous ones:
    /// `log::append::multi_row_insert` says why), `($1, $2), ($3, $4)` on PostgreSQL.
    pub(super) fn placeholder_rows(&self, columns: usize, rows: usize) -> String {
        let mut sql = String::with_capacity(rows * columns * 5);
        for row in 0..rows {
            sql.push_str(if row == 0 { "(" } else { ", (" });
            for column in 0..columns {
                if column > 0 {
                    sql.push_str(", ");
                }
                match self.engine {
                    super::Engine::Sqlite => sql.push('?'),
                    super::Engine::Postgres => sql.push_str(&format!("${}", row * columns + column + 1)),
                }
            }
            sql.push(')');
        }
        sql
    }
}
