//! Imported tool results: a pin's SARIF logs, their results (where each was placed) and every
//! triage of a result, the latest of which counts. Append-only, like the review tables.

use super::{Connection, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

/// Rows a multi-row insert writes at once (14 parameters each, under SQLite's limit).
const BATCH: usize = 1_000;

pub struct NewLog<'a> {
    pub pin_id: i64,
    pub uploader_id: i64,
    pub tools: &'a str,
    pub sha256: &'a str,
    pub bytes: i64,
    pub results: i64,
    pub placed: i64,
    pub created_at: i64,
}

pub struct LogRow {
    pub id: i64,
    pub pin_id: i64,
    pub uploader_id: i64,
    pub uploader: String,
    pub tools: String,
    pub sha256: String,
    pub bytes: i64,
    pub results: i64,
    pub placed: i64,
    pub created_at: i64,
}

/// A result as stored (`path` when placed, `outside` why not).
pub struct NewResult {
    pub tool: String,
    pub rule_id: String,
    pub rule_name: Option<String>,
    pub level: &'static str,
    pub message: String,
    pub uri: String,
    pub path: Option<String>,
    pub lines: Option<(u32, u32)>,
    pub cwe: Option<String>,
    pub outside: Option<&'static str>,
}

/// A result with its latest triage.
pub struct ResultRow {
    pub log_id: i64,
    pub seq: i64,
    pub tool: String,
    pub rule_id: String,
    pub rule_name: Option<String>,
    pub level: String,
    pub message: String,
    pub uri: String,
    pub path: Option<String>,
    pub start_line: Option<i64>,
    pub end_line: Option<i64>,
    pub cwe: Option<String>,
    pub outside: Option<String>,
    pub triage: Option<TriageRow>,
}

pub struct TriageRow {
    pub state: String,
    pub reason: String,
    pub finding_id: Option<i64>,
    pub by: String,
    pub at: i64,
}

pub struct NewTriage<'a> {
    pub log_id: i64,
    pub seq: i64,
    pub state: &'a str,
    pub reason: &'a str,
    pub finding_id: Option<i64>,
    pub by_id: i64,
    pub at: i64,
}

const LOG_COLUMNS: &str =
    "l.id, l.pin_id, l.uploader_id, u.username, l.tools, l.sha256, l.bytes, l.results, l.placed, \
     l.created_at FROM sarif_logs l JOIN users u ON u.id = l.uploader_id";

fn log_from_row(row: &AnyRow) -> Result<LogRow> {
    Ok(LogRow {
        id: row.try_get(0)?,
        pin_id: row.try_get(1)?,
        uploader_id: row.try_get(2)?,
        uploader: row.try_get(3)?,
        tools: row.try_get(4)?,
        sha256: row.try_get(5)?,
        bytes: row.try_get(6)?,
        results: row.try_get(7)?,
        placed: row.try_get(8)?,
        created_at: row.try_get(9)?,
    })
}

/// A result's columns and its latest triage (none when it has not been triaged).
const RESULT_COLUMNS: &str = "r.log_id, r.seq, r.tool, r.rule_id, r.rule_name, r.level, r.message, r.uri, r.path, \
     r.start_line, r.end_line, r.cwe, r.outside, t.state, t.reason, t.finding_id, tu.username, t.at \
     FROM sarif_results r \
     LEFT JOIN sarif_triage t ON t.id = (SELECT MAX(x.id) FROM sarif_triage x WHERE x.log_id = r.log_id AND x.seq = r.seq) \
     LEFT JOIN users tu ON tu.id = t.by_id";

fn result_from_row(row: &AnyRow) -> Result<ResultRow> {
    let state: Option<String> = row.try_get(13)?;
    let triage = match state {
        Some(state) => Some(TriageRow {
            state,
            reason: row.try_get(14)?,
            finding_id: row.try_get(15)?,
            by: row.try_get::<Option<String>, _>(16)?.unwrap_or_default(),
            at: row.try_get(17)?,
        }),
        None => None,
    };
    Ok(ResultRow {
        log_id: row.try_get(0)?,
        seq: row.try_get(1)?,
        tool: row.try_get(2)?,
        rule_id: row.try_get(3)?,
        rule_name: row.try_get(4)?,
        level: row.try_get(5)?,
        message: row.try_get(6)?,
        uri: row.try_get(7)?,
        path: row.try_get(8)?,
        start_line: row.try_get(9)?,
        end_line: row.try_get(10)?,
        cwe: row.try_get(11)?,
        outside: row.try_get(12)?,
        triage,
    })
}

impl Store {
    /// A pin's imported logs, oldest first.
    pub async fn sarif_logs(&self, pin_id: i64) -> Result<Vec<LogRow>> {
        let sql = format!("SELECT {LOG_COLUMNS} WHERE l.pin_id = $1 ORDER BY l.id");
        sqlx::query(&sql).bind(pin_id).fetch_all(&self.pool).await?.iter().map(log_from_row).collect()
    }

    /// One imported log.
    pub async fn sarif_log(&self, id: i64) -> Result<Option<LogRow>> {
        let sql = format!("SELECT {LOG_COLUMNS} WHERE l.id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(log_from_row).transpose()
    }

    /// Every result of a log, in its order, with its latest triage.
    pub async fn sarif_results(&self, log_id: i64) -> Result<Vec<ResultRow>> {
        let sql = format!("SELECT {RESULT_COLUMNS} WHERE r.log_id = $1 ORDER BY r.seq");
        sqlx::query(&sql).bind(log_id).fetch_all(&self.pool).await?.iter().map(result_from_row).collect()
    }

    /// One result with its latest triage.
    pub async fn sarif_result(&self, log_id: i64, seq: i64) -> Result<Option<ResultRow>> {
        let sql = format!("SELECT {RESULT_COLUMNS} WHERE r.log_id = $1 AND r.seq = $2");
        let row = sqlx::query(&sql).bind(log_id).bind(seq).fetch_optional(&self.pool).await?;
        row.as_ref().map(result_from_row).transpose()
    }

    /// What changes the tool results a pin's files show: its newest log, and the newest triage of
    /// any result (both ids only grow, and a log's results commit with it).
    pub async fn sarif_revision(&self, pin_id: i64) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COALESCE((SELECT MAX(id) FROM sarif_logs WHERE pin_id = $1), 0), \
                    COALESCE((SELECT MAX(id) FROM sarif_triage), 0)",
        )
        .bind(pin_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((row.try_get(0)?, row.try_get(1)?))
    }

    /// The results placed at a pin's file, from every log of the pin, by line.
    pub async fn sarif_annotations(&self, pin_id: i64, path: &str) -> Result<Vec<ResultRow>> {
        let sql = format!(
            "SELECT {RESULT_COLUMNS} JOIN sarif_logs l ON l.id = r.log_id \
             WHERE r.path = $1 AND l.pin_id = $2 ORDER BY r.start_line, r.log_id, r.seq"
        );
        sqlx::query(&sql).bind(path).bind(pin_id).fetch_all(&self.pool).await?.iter().map(result_from_row).collect()
    }
}

/// How many placed results of a pin share a log, tool, rule, file and latest triage state.
pub struct CountRow {
    pub log_id: i64,
    pub tool: String,
    pub rule_id: String,
    pub path: String,
    pub state: Option<String>,
    pub count: i64,
}

impl Store {
    /// The pin's placed results, counted by log, tool, rule, file and latest triage state.
    pub async fn sarif_counts(&self, pin_id: i64) -> Result<Vec<CountRow>> {
        let rows = sqlx::query(
            "SELECT r.log_id, r.tool, r.rule_id, r.path, t.state, COUNT(*) FROM sarif_results r \
             JOIN sarif_logs l ON l.id = r.log_id \
             LEFT JOIN sarif_triage t ON t.id = \
               (SELECT MAX(x.id) FROM sarif_triage x WHERE x.log_id = r.log_id AND x.seq = r.seq) \
             WHERE l.pin_id = $1 AND r.path IS NOT NULL \
             GROUP BY r.log_id, r.tool, r.rule_id, r.path, t.state",
        )
        .bind(pin_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(CountRow {
                    log_id: row.try_get(0)?,
                    tool: row.try_get(1)?,
                    rule_id: row.try_get(2)?,
                    path: row.try_get(3)?,
                    state: row.try_get(4)?,
                    count: row.try_get(5)?,
                })
            })
            .collect()
    }
}

pub async fn insert_log(conn: &mut Connection, new: &NewLog<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sarif_logs (pin_id, uploader_id, tools, sha256, bytes, results, placed, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(new.pin_id)
    .bind(new.uploader_id)
    .bind(new.tools)
    .bind(new.sha256)
    .bind(new.bytes)
    .bind(new.results)
    .bind(new.placed)
    .bind(new.created_at)
    .fetch_one(conn)
    .await?)
}

/// How long rows an interrupted import left in `sarif_staged` are kept (an import takes seconds).
const STAGED_KEPT_MS: i64 = 3_600_000;

impl Store {
    /// Writes a log's results, numbered from 0 in order, under `stage` (the import's random id), to
    /// be copied to the log when its import is recorded (`insert_staged`): a batch of rows a
    /// statement, each its own transaction, so that no one waits on the whole. Rows an interrupted
    /// import left are removed first.
    pub async fn stage_results(&self, stage: &str, results: &[NewResult], now: i64) -> Result<()> {
        sqlx::query("DELETE FROM sarif_staged WHERE created_at < $1")
            .bind(now - STAGED_KEPT_MS)
            .execute(&self.pool)
            .await?;
        for (batch_at, batch) in results.chunks(BATCH).enumerate() {
            let mut sql = String::from(
                "INSERT INTO sarif_staged (stage, seq, tool, rule_id, rule_name, level, message, uri, path, \
                 start_line, end_line, cwe, outside, created_at) VALUES ",
            );
            for at in 0..batch.len() {
                let p = at * 14;
                if at > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                sql.push_str(&(1..=14).map(|n| format!("${}", p + n)).collect::<Vec<_>>().join(", "));
                sql.push(')');
            }
            let mut query = sqlx::query(&sql);
            for (at, result) in batch.iter().enumerate() {
                query = query
                    .bind(stage)
                    .bind((batch_at * BATCH + at) as i64)
                    .bind(result.tool.as_str())
                    .bind(result.rule_id.as_str())
                    .bind(result.rule_name.as_deref())
                    .bind(result.level)
                    .bind(result.message.as_str())
                    .bind(result.uri.as_str())
                    .bind(result.path.as_deref())
                    .bind(result.lines.map(|(first, _)| i64::from(first)))
                    .bind(result.lines.map(|(_, last)| i64::from(last)))
                    .bind(result.cwe.as_deref())
                    .bind(result.outside)
                    .bind(now);
            }
            query.execute(&self.pool).await?;
        }
        Ok(())
    }

    /// Removes what `stage_results` wrote for an import that was not recorded.
    pub async fn unstage_results(&self, stage: &str) -> Result<()> {
        sqlx::query("DELETE FROM sarif_staged WHERE stage = $1").bind(stage).execute(&self.pool).await?;
        Ok(())
    }
}

/// Copies the results staged under `stage` to the log `log_id` by one statement, and removes
/// them; how many it copied.
pub async fn insert_staged(conn: &mut Connection, log_id: i64, stage: &str) -> Result<u64> {
    let copied = sqlx::query(
        "INSERT INTO sarif_results (log_id, seq, tool, rule_id, rule_name, level, message, uri, path, \
         start_line, end_line, cwe, outside) \
         SELECT $1, seq, tool, rule_id, rule_name, level, message, uri, path, start_line, end_line, cwe, outside \
         FROM sarif_staged WHERE stage = $2 ORDER BY seq",
    )
    .bind(log_id)
    .bind(stage)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM sarif_staged WHERE stage = $1").bind(stage).execute(&mut *conn).await?;
    Ok(copied)
}

pub async fn insert_triage(conn: &mut Connection, new: &NewTriage<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sarif_triage (log_id, seq, state, reason, finding_id, by_id, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(new.log_id)
    .bind(new.seq)
    .bind(new.state)
    .bind(new.reason)
    .bind(new.finding_id)
    .bind(new.by_id)
    .bind(new.at)
    .fetch_one(conn)
    .await?)
}

/// A result's latest triage state and finding, read in the writing transaction (which holds the
/// log's write lock, so no other triage commits between this read and the write).
pub async fn latest_triage(conn: &mut Connection, log_id: i64, seq: i64) -> Result<Option<(String, Option<i64>)>> {
    let row = sqlx::query(
        "SELECT state, finding_id FROM sarif_triage WHERE log_id = $1 AND seq = $2 ORDER BY id DESC LIMIT 1",
    )
    .bind(log_id)
    .bind(seq)
    .fetch_optional(conn)
    .await?;
    row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).transpose()
}
