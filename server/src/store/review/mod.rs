//! Comments with their versions and states, reviewed marks, and verdicts. Every table is
//! append-only: what is current is the latest row.

mod writes;

use super::{Result, Store, StoreError};
use app::model::Role;
use sqlx::any::AnyRow;
use sqlx::Row;
pub use writes::*;

pub struct CommentRow {
    pub id: i64,
    pub pin_id: i64,
    pub path: String,
    pub blob_id: Option<String>,
    pub start_line: Option<i64>,
    pub end_line: Option<i64>,
    pub author_id: i64,
    pub author: String,
    pub author_role: Role,
    pub kind: String,
    pub severity: Option<String>,
    pub reply_to: Option<i64>,
    pub created_at: i64,
    /// A private note's commitment key (hex), which its log events' HMACs are keyed with.
    pub commitment_key: Option<String>,
    /// A finding's CWE ids, `79,787` (`review::cwe::stored`).
    pub cwe: Option<String>,
    /// A thread's requirement ids, a JSON array of strings.
    pub requirements: Option<String>,
}

pub struct VersionRow {
    pub comment_id: i64,
    pub version: i64,
    pub body: String,
    pub author: String,
    pub created_at: i64,
}

pub struct StateRow {
    pub comment_id: i64,
    pub state: String,
    pub reason: Option<String>,
    pub fixed_pin: Option<i64>,
    pub by: Option<String>,
    pub at: i64,
}

/// A pin's comments, or a chosen set of threads, with every version and state.
pub struct CommentRows {
    pub comments: Vec<CommentRow>,
    pub versions: Vec<VersionRow>,
    pub states: Vec<StateRow>,
}

const COMMENT_COLUMNS: &str = "c.id, c.pin_id, c.path, c.blob_id, c.start_line, c.end_line, c.author_id, u.username, \
     u.role, c.kind, c.severity, c.reply_to, c.created_at, c.commitment_key, c.cwe, c.requirements";

fn comment_from_row(row: &AnyRow) -> Result<CommentRow> {
    let role: String = row.try_get(8)?;
    Ok(CommentRow {
        id: row.try_get(0)?,
        pin_id: row.try_get(1)?,
        path: row.try_get(2)?,
        blob_id: row.try_get(3)?,
        start_line: row.try_get(4)?,
        end_line: row.try_get(5)?,
        author_id: row.try_get(6)?,
        author: row.try_get(7)?,
        author_role: Role::parse(&role).map_err(|_| StoreError::Corrupt("a user's role"))?,
        kind: row.try_get(9)?,
        severity: row.try_get(10)?,
        reply_to: row.try_get(11)?,
        created_at: row.try_get(12)?,
        commitment_key: row.try_get(13)?,
        cwe: row.try_get(14)?,
        requirements: row.try_get(15)?,
    })
}

impl Store {
    /// The comments `in_threads` (a condition on `c` that holds for every comment of the wanted
    /// threads, roots and replies), with their versions and states; `bind` gives its parameters.
    async fn comment_rows(&self, in_threads: &str, bind: ThreadKey<'_>) -> Result<CommentRows> {
        let comments_sql = format!(
            "SELECT {COMMENT_COLUMNS} FROM comments c JOIN users u ON u.id = c.author_id WHERE {in_threads} ORDER BY c.id"
        );
        let versions_sql = format!(
            "SELECT v.comment_id, v.version, v.body, u.username, v.created_at FROM comment_versions v \
             JOIN comments c ON c.id = v.comment_id JOIN users u ON u.id = v.author_id \
             WHERE {in_threads} ORDER BY v.comment_id, v.version"
        );
        let states_sql = format!(
            "SELECT s.comment_id, s.state, s.reason, s.fixed_pin, u.username, s.at FROM comment_states s \
             JOIN comments c ON c.id = s.comment_id LEFT JOIN users u ON u.id = s.by_id \
             WHERE {in_threads} ORDER BY s.comment_id, s.seq"
        );
        let comments = bind.apply(sqlx::query(&comments_sql)).fetch_all(&self.pool).await?;
        let versions = bind.apply(sqlx::query(&versions_sql)).fetch_all(&self.pool).await?;
        let states = bind.apply(sqlx::query(&states_sql)).fetch_all(&self.pool).await?;
        Ok(CommentRows {
            comments: comments.iter().map(comment_from_row).collect::<Result<_>>()?,
            versions: versions
                .iter()
                .map(|row| {
                    Ok(VersionRow {
                        comment_id: row.try_get(0)?,
                        version: row.try_get::<i32, _>(1)? as i64,
                        body: row.try_get(2)?,
                        author: row.try_get(3)?,
                        created_at: row.try_get(4)?,
                    })
                })
                .collect::<Result<_>>()?,
            states: states
                .iter()
                .map(|row| {
                    Ok(StateRow {
                        comment_id: row.try_get(0)?,
                        state: row.try_get(1)?,
                        reason: row.try_get(2)?,
                        fixed_pin: row.try_get(3)?,
                        by: row.try_get(4)?,
                        at: row.try_get(5)?,
                    })
                })
                .collect::<Result<_>>()?,
        })
    }

    // A reply has its thread's pin, path and blob (the domain gives it them), so the conditions on
    // those select whole threads.

    /// Every thread anchored at a pin.
    pub async fn comments_of_pin(&self, pin_id: i64) -> Result<CommentRows> {
        self.comment_rows("c.pin_id = $1", ThreadKey::Id(pin_id)).await
    }

    /// Threads anchored at a file of a pin, and those on the same blob at other pins of the same
    /// repository (carried comments).
    pub async fn comments_of_file(&self, pin_id: i64, path: &str, blob_id: &str) -> Result<CommentRows> {
        let key = ThreadKey::File(pin_id, path, blob_id);
        self.comment_rows(
            "((c.pin_id = $1 AND c.path = $2) OR (c.blob_id = $3 AND c.pin_id <> $1 AND c.pin_id IN \
             (SELECT p.id FROM pins p WHERE p.repository_id = (SELECT repository_id FROM pins WHERE id = $1))))",
            key,
        )
        .await
    }

    /// The comments of the given threads (roots), with their replies.
    pub async fn comments_of_threads(&self, roots: &[i64]) -> Result<CommentRows> {
        if roots.is_empty() {
            return Ok(CommentRows { comments: Vec::new(), versions: Vec::new(), states: Vec::new() });
        }
        // Ids are numbers from the database, never user text, so they are inlined.
        let list: Vec<String> = roots.iter().map(i64::to_string).collect();
        let list = list.join(",");
        let condition = format!("(c.id IN ({list}) OR c.reply_to IN ({list}))");
        self.comment_rows(&condition, ThreadKey::None).await
    }

    /// The threads of a pin that match `filter`, as the viewer may see them: a page of their ids
    /// (oldest first) and how many match in all.
    pub async fn find_threads(&self, filter: &ThreadFilter<'_>, offset: u64, limit: u64) -> Result<(Vec<i64>, u64)> {
        let mut conditions = vec![
            "c.pin_id = $1".to_string(),
            "c.reply_to IS NULL".to_string(),
            "(c.kind <> 'note' OR c.author_id = $2)".to_string(),
        ];
        let mut texts: Vec<String> = Vec::new();
        let mut next = 3;
        let mut parameter = |value: String| {
            texts.push(value);
            next += 1;
            format!("${}", next - 1)
        };
        if let Some(path) = filter.path {
            let prefix = format!("{path}/");
            let (exact, under) = (parameter(path.to_string()), parameter(prefix.clone()));
            conditions.push(format!("(c.path = {exact} OR substr(c.path, 1, {}) = {under})", prefix.chars().count()));
        }
        if let Some(severity) = filter.severity {
            conditions.push(format!("c.severity = {}", parameter(severity.to_string())));
        }
        if let Some(cwe) = filter.cwe {
            // Stored as `79,787`: one id among them.
            conditions.push(format!("(',' || c.cwe || ',') LIKE {}", parameter(format!("%,{cwe},%"))));
        }
        if let Some(kind) = filter.kind {
            conditions.push(format!("c.kind = {}", parameter(kind.to_string())));
        }
        if let Some(author) = filter.author {
            conditions.push(format!("u.username = {}", parameter(author.to_string())));
        }
        if let Some(states) = &filter.states {
            // The states are the domain's own names, never user text.
            let list: Vec<String> = states.iter().map(|s| format!("'{s}'")).collect();
            conditions.push(format!(
                "COALESCE((SELECT s.state FROM comment_states s WHERE s.comment_id = c.id ORDER BY s.seq DESC LIMIT 1), 'open') IN ({})",
                list.join(",")
            ));
        }
        let from = format!("FROM comments c JOIN users u ON u.id = c.author_id WHERE {}", conditions.join(" AND "));
        fn bind<'q>(
            sql: &'q str,
            filter: &ThreadFilter<'_>,
            texts: &[String],
        ) -> sqlx::query::QueryScalar<'q, sqlx::Any, i64, sqlx::any::AnyArguments<'q>> {
            let mut query = sqlx::query_scalar::<_, i64>(sql).bind(filter.pin_id).bind(filter.viewer_id);
            for text in texts {
                query = query.bind(text.clone());
            }
            query
        }
        let count_sql = format!("SELECT COUNT(*) {from}");
        let count = bind(&count_sql, filter, &texts).fetch_one(&self.pool).await?;
        let ids_sql = format!("SELECT c.id {from} ORDER BY c.id LIMIT {limit} OFFSET {offset}");
        let ids = bind(&ids_sql, filter, &texts).fetch_all(&self.pool).await?;
        Ok((ids, count.max(0) as u64))
    }

    /// Who started the threads of a pin the viewer may see, and how many threads there are.
    pub async fn thread_authors(&self, pin_id: i64, viewer_id: i64) -> Result<(Vec<String>, u64)> {
        let rows = sqlx::query(
            "SELECT u.username, COUNT(*) FROM comments c JOIN users u ON u.id = c.author_id \
             WHERE c.pin_id = $1 AND c.reply_to IS NULL AND (c.kind <> 'note' OR c.author_id = $2) \
             GROUP BY u.username ORDER BY u.username",
        )
        .bind(pin_id)
        .bind(viewer_id)
        .fetch_all(&self.pool)
        .await?;
        let mut total = 0;
        let mut authors = Vec::new();
        for row in &rows {
            authors.push(row.try_get::<String, _>(0)?);
            total += row.try_get::<i64, _>(1)?.max(0) as u64;
        }
        Ok((authors, total))
    }

    /// Threads a person started (their home page), with their replies.
    pub async fn comments_by_author(&self, author_id: i64) -> Result<CommentRows> {
        let roots = "SELECT r.id FROM comments r WHERE r.reply_to IS NULL AND r.author_id = $1";
        let condition = format!("(c.id IN ({roots}) OR c.reply_to IN ({roots}))");
        self.comment_rows(&condition, ThreadKey::Id(author_id)).await
    }

    /// One comment (a thread root or a reply).
    pub async fn comment(&self, id: i64) -> Result<Option<CommentRow>> {
        let sql =
            format!("SELECT {COMMENT_COLUMNS} FROM comments c JOIN users u ON u.id = c.author_id WHERE c.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(comment_from_row).transpose()
    }

    /// The thread's current state, if it has one.
    pub async fn current_state(&self, comment_id: i64) -> Result<Option<String>> {
        Ok(sqlx::query_scalar("SELECT state FROM comment_states WHERE comment_id = $1 ORDER BY seq DESC LIMIT 1")
            .bind(comment_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The latest reviewed mark of each path a reviewer marked at a pin: path → (blob, reviewed).
    pub async fn latest_marks(&self, pin_id: i64, reviewer_id: Option<i64>) -> Result<Vec<MarkRow>> {
        let sql = "SELECT m.reviewer_id, u.username, m.path, m.blob_id, m.reviewed, m.pin_id FROM reviewed_marks m \
                   JOIN users u ON u.id = m.reviewer_id \
                   WHERE m.id IN (SELECT MAX(id) FROM reviewed_marks WHERE pin_id = $1 GROUP BY reviewer_id, path) \
                   AND ($2 < 0 OR m.reviewer_id = $2)";
        let rows = sqlx::query(sql).bind(pin_id).bind(reviewer_id.unwrap_or(-1)).fetch_all(&self.pool).await?;
        rows.iter().map(mark_from_row).collect()
    }

    /// Whether the reviewer's latest mark of this path at this pin says reviewed (one index probe).
    pub async fn is_marked(&self, pin_id: i64, reviewer_id: i64, path: &str) -> Result<bool> {
        let reviewed: Option<i64> = super::hot_read!(
            self,
            sqlx::query_scalar(
                "SELECT reviewed FROM reviewed_marks WHERE pin_id = $1 AND reviewer_id = $2 AND path = $3 \
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(pin_id)
            .bind(reviewer_id)
            .bind(path),
            fetch_optional
        );
        Ok(reviewed.is_some_and(|r| r != 0))
    }

    /// The latest marks at the earlier pins of the pin's repository (for carried coverage).
    pub async fn latest_marks_before(&self, pin_id: i64) -> Result<Vec<MarkRow>> {
        let sql = "SELECT m.reviewer_id, u.username, m.path, m.blob_id, m.reviewed, m.pin_id FROM reviewed_marks m \
                   JOIN users u ON u.id = m.reviewer_id \
                   WHERE m.id IN (SELECT MAX(id) FROM reviewed_marks WHERE pin_id IN \
                       (SELECT p.id FROM pins p WHERE p.id < $1 AND p.repository_id = \
                           (SELECT repository_id FROM pins WHERE id = $1)) \
                       GROUP BY pin_id, reviewer_id, path)";
        let rows = sqlx::query(sql).bind(pin_id).fetch_all(&self.pool).await?;
        rows.iter().map(mark_from_row).collect()
    }

    /// The verdicts given for a pin, oldest first.
    pub async fn verdicts_of_pin(&self, pin_id: i64) -> Result<Vec<VerdictRow>> {
        let rows = sqlx::query(
            "SELECT v.id, u.username, v.verdict, v.summary, v.commit_id, v.coverage, v.open_findings, v.binaries, \
             v.supersedes, v.created_at, v.reviewer_id FROM verdicts v JOIN users u ON u.id = v.reviewer_id \
             WHERE v.pin_id = $1 ORDER BY v.id",
        )
        .bind(pin_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(VerdictRow {
                    id: row.try_get(0)?,
                    reviewer: row.try_get(1)?,
                    verdict: row.try_get(2)?,
                    summary: row.try_get(3)?,
                    commit_id: row.try_get(4)?,
                    coverage: row.try_get(5)?,
                    open_findings: row.try_get(6)?,
                    binaries: row.try_get(7)?,
                    supersedes: row.try_get(8)?,
                    created_at: row.try_get(9)?,
                    reviewer_id: row.try_get(10)?,
                })
            })
            .collect()
    }
}

/// What a pin's thread list is filtered by (all optional but the pin and who is looking).
pub struct ThreadFilter<'a> {
    pub pin_id: i64,
    /// The viewer's account (their private notes are listed), or -1.
    pub viewer_id: i64,
    /// A file, or a directory whose files' threads are wanted.
    pub path: Option<&'a str>,
    /// The thread states wanted (a thread without a state row is open).
    pub states: Option<Vec<&'static str>>,
    pub severity: Option<&'a str>,
    /// Findings classified with this CWE id.
    pub cwe: Option<u32>,
    pub kind: Option<&'a str>,
    pub author: Option<&'a str>,
}

/// The parameters of a thread condition.
enum ThreadKey<'a> {
    None,
    Id(i64),
    File(i64, &'a str, &'a str),
}

impl ThreadKey<'_> {
    fn apply<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        match self {
            ThreadKey::None => query,
            ThreadKey::Id(id) => query.bind(*id),
            ThreadKey::File(pin, path, blob) => query.bind(*pin).bind(path.to_string()).bind(blob.to_string()),
        }
    }
}

pub struct MarkRow {
    pub reviewer_id: i64,
    pub reviewer: String,
    pub path: String,
    pub blob_id: String,
    pub reviewed: bool,
    pub pin_id: i64,
}

fn mark_from_row(row: &AnyRow) -> Result<MarkRow> {
    Ok(MarkRow {
        reviewer_id: row.try_get(0)?,
        reviewer: row.try_get(1)?,
        path: row.try_get(2)?,
        blob_id: row.try_get(3)?,
        reviewed: row.try_get::<i64, _>(4)? != 0,
        pin_id: row.try_get(5)?,
    })
}

pub struct VerdictRow {
    pub id: i64,
    pub reviewer_id: i64,
    pub reviewer: String,
    pub verdict: String,
    pub summary: String,
    pub commit_id: String,
    pub coverage: String,
    pub open_findings: String,
    pub binaries: String,
    pub supersedes: Option<i64>,
    pub created_at: i64,
}
