//! Writes of review records, each through the log transaction's connection: comments, their
//! versions and states, reviewed marks, verdicts, and the comment revision every such write moves.
//! The tables refuse updates and deletes (triggers); a change is a new row.

use crate::store::{Connection, Result};

pub struct NewCommentRow<'a> {
    pub pin_id: i64,
    pub path: &'a str,
    pub blob_id: Option<&'a str>,
    pub lines: Option<(u32, u32)>,
    pub author_id: i64,
    pub kind: &'a str,
    pub severity: Option<&'a str>,
    /// A finding's CWE ids, `79,787`.
    pub cwe: Option<&'a str>,
    /// A thread's requirement ids, a JSON array of strings.
    pub requirements: Option<&'a str>,
    pub reply_to: Option<i64>,
    pub created_at: i64,
    /// A private note's commitment key (hex); `None` for a comment or a finding.
    pub commitment_key: Option<&'a str>,
}

/// Moves the repository's comment revision (in the transaction of a comment write).
pub async fn bump_revision(conn: &mut Connection, repository_id: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO comment_revisions (repository_id, revision) VALUES ($1, 1) \
         ON CONFLICT (repository_id) DO UPDATE SET revision = comment_revisions.revision + 1",
    )
    .bind(repository_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A new comment with its first version, and, for a thread's root, its `open` state; moves the
/// repository's comment revision.
pub async fn insert_thread(
    conn: &mut Connection,
    new: &NewCommentRow<'_>,
    repository_id: i64,
    body: &str,
) -> Result<i64> {
    let id = insert_comment(conn, new).await?;
    insert_version(conn, id, body, new.author_id, new.created_at).await?;
    bump_revision(conn, repository_id).await?;
    if new.reply_to.is_none() {
        let state = NewState {
            comment_id: id,
            state: "open",
            reason: None,
            fixed_pin: None,
            by_id: Some(new.author_id),
            at: new.created_at,
        };
        insert_state(conn, &state).await?;
    }
    Ok(id)
}

pub async fn insert_comment(conn: &mut Connection, new: &NewCommentRow<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO comments (pin_id, path, blob_id, start_line, end_line, author_id, kind, severity, reply_to, created_at, \
         commitment_key, cwe, requirements) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(new.pin_id)
    .bind(new.path)
    .bind(new.blob_id)
    .bind(new.lines.map(|(first, _)| first as i64))
    .bind(new.lines.map(|(_, last)| last as i64))
    .bind(new.author_id)
    .bind(new.kind)
    .bind(new.severity)
    .bind(new.reply_to)
    .bind(new.created_at)
    .bind(new.commitment_key)
    .bind(new.cwe)
    .bind(new.requirements)
    .fetch_one(conn)
    .await?)
}

/// Adds the next version of a comment's text; returns its number.
pub async fn insert_version(
    conn: &mut Connection,
    comment_id: i64,
    body: &str,
    author_id: i64,
    at: i64,
) -> Result<i64> {
    let next: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM comment_versions WHERE comment_id = $1",
    )
    .bind(comment_id)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO comment_versions (comment_id, version, body, author_id, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(comment_id)
    .bind(next as i32)
    .bind(body)
    .bind(author_id)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(next)
}

pub struct NewState<'a> {
    pub comment_id: i64,
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub fixed_pin: Option<i64>,
    pub by_id: Option<i64>,
    pub at: i64,
}

pub async fn insert_state(conn: &mut Connection, new: &NewState<'_>) -> Result<()> {
    let next: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(seq), 0) + 1 AS BIGINT) FROM comment_states WHERE comment_id = $1",
    )
    .bind(new.comment_id)
    .fetch_one(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO comment_states (comment_id, seq, state, reason, fixed_pin, by_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new.comment_id)
    .bind(next as i32)
    .bind(new.state)
    .bind(new.reason)
    .bind(new.fixed_pin)
    .bind(new.by_id)
    .bind(new.at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn insert_mark(
    conn: &mut Connection,
    pin_id: i64,
    path: &str,
    blob_id: &str,
    reviewer_id: i64,
    reviewed: bool,
    at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO reviewed_marks (pin_id, path, blob_id, reviewer_id, reviewed, at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(pin_id)
    .bind(path)
    .bind(blob_id)
    .bind(reviewer_id)
    .bind(i64::from(reviewed))
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub struct NewVerdict<'a> {
    pub pin_id: i64,
    pub reviewer_id: i64,
    pub verdict: &'a str,
    pub summary: &'a str,
    pub commit_id: &'a str,
    pub coverage: &'a str,
    pub open_findings: &'a str,
    pub binaries: &'a str,
    pub created_at: i64,
}

/// Records a verdict, superseding the reviewer's latest one for the pin; returns (id, superseded).
pub async fn insert_verdict(conn: &mut Connection, new: &NewVerdict<'_>) -> Result<(i64, Option<i64>)> {
    let previous: Option<i64> =
        sqlx::query_scalar("SELECT MAX(id) FROM verdicts WHERE pin_id = $1 AND reviewer_id = $2")
            .bind(new.pin_id)
            .bind(new.reviewer_id)
            .fetch_one(&mut *conn)
            .await?;
    let id = sqlx::query_scalar(
        "INSERT INTO verdicts (pin_id, reviewer_id, verdict, summary, commit_id, coverage, open_findings, binaries, \
         supersedes, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(new.pin_id)
    .bind(new.reviewer_id)
    .bind(new.verdict)
    .bind(new.summary)
    .bind(new.commit_id)
    .bind(new.coverage)
    .bind(new.open_findings)
    .bind(new.binaries)
    .bind(previous)
    .bind(new.created_at)
    .fetch_one(conn)
    .await?;
    Ok((id, previous))
}
