//! Appending to the log: the write lock, the event, object and subtree rows of a batch (one
//! multi-row INSERT per table on SQLite, one statement of fixed text on PostgreSQL) and the new
//! head, all in the appender's transaction.

use super::{to_hash, Hash};
use crate::store::{Connection, Result, Store};
use sqlx::{Any, Row, Transaction};

/// Opens a transaction that holds the log's write lock and returns the head's size and frontier.
/// The no-op UPDATE is its first statement so that SQLite takes the write lock at once (no failed
/// lock upgrade later) and PostgreSQL locks the single log-state row, serialising appenders across
/// server instances.
pub async fn begin_append(store: &Store) -> Result<(Transaction<'static, Any>, u64, Vec<u8>)> {
    let mut tx = store.begin().await?;
    let row = sqlx::query("UPDATE log_state SET size = size WHERE id = 1 RETURNING size, frontier")
        .fetch_one(&mut *tx)
        .await?;
    let size: i64 = row.try_get(0)?;
    Ok((tx, size as u64, row.try_get(1)?))
}

/// The leaf hash of entry `index`, read inside the append transaction. It is a statement of its
/// own, after the lock: on PostgreSQL a statement that waited for the lock still reads with the
/// snapshot it began with, which may not hold the entry the previous holder appended.
pub async fn leaf_hash_in(conn: &mut Connection, index: u64) -> Result<Hash> {
    let row =
        sqlx::query("SELECT leaf_hash FROM audit_events WHERE idx = $1").bind(index as i64).fetch_one(conn).await?;
    to_hash(row.try_get(0)?)
}

/// One event's row: the leaf and the copies of its fields the log is filtered by.
pub struct EventRow {
    pub index: u64,
    pub leaf: Vec<u8>,
    pub leaf_hash: Hash,
    pub recorded_at: i64,
    pub actor: Option<String>,
    pub action: &'static str,
    pub pin: Option<i64>,
    pub path: Option<String>,
    pub outcome: &'static str,
}

/// One object an event names, for the `audit_objects` index.
pub struct ObjectRow {
    pub event: u64,
    pub position: u32,
    pub pin: i64,
    pub path: String,
    pub blob: Option<String>,
    pub lines: Option<(u32, u32)>,
}

/// Rows per multi-row INSERT (well inside both engines' limits on bound parameters).
const ROWS_PER_STATEMENT: usize = 500;

/// What one commit writes: events, their objects, the perfect subtrees they completed, and the new
/// head (size, root, frontier).
pub struct AppendedRows<'a> {
    pub events: &'a [EventRow],
    pub objects: &'a [ObjectRow],
    pub nodes: &'a [(u32, u64, Hash)],
    pub size: u64,
    pub root: Hash,
    pub frontier: Vec<u8>,
}

/// Writes a commit's rows and the new head inside the append transaction. PostgreSQL takes the
/// rows in one statement whose text never changes (`PG_INSERT_APPENDED`, each table's rows as one
/// JSON array); SQLite, in process, one multi-row INSERT per table (per 500 rows). (SQLite reading
/// the same JSON arrays through `json_each` kept its statements prepared but was measured slower:
/// parsing the JSON lengthens each commit on the one writer thread.)
pub async fn insert_appended(
    conn: &mut Connection,
    engine: crate::store::Engine,
    rows: &AppendedRows<'_>,
) -> Result<()> {
    match engine {
        crate::store::Engine::Postgres => {
            let [events, objects, nodes] = rows_json(rows);
            sqlx::query(PG_INSERT_APPENDED).bind(events).bind(objects).bind(nodes).execute(&mut *conn).await?;
        }
        crate::store::Engine::Sqlite => insert_appended_rows(conn, rows.events, rows.objects, rows.nodes).await?,
    }
    update_head(conn, rows.size, &rows.root, &rows.frontier).await
}

/// PostgreSQL: every row of a commit in one statement and one round trip. Each table's rows travel
/// as one JSON array (binary columns in hex), so the SQL is the same for any number of rows and
/// stays prepared on the connection; a locked group commit then costs six round trips: begin,
/// lock and head, last leaf, rows, new head, commit.
const PG_INSERT_APPENDED: &str = "\
WITH e AS (
    INSERT INTO audit_events (idx, leaf, leaf_hash, recorded_at, actor, action, pin_id, path, outcome)
    SELECT x.idx, decode(x.leaf, 'hex'), decode(x.hash, 'hex'), x.at, x.actor, x.action, x.pin, x.path, x.outcome
    FROM jsonb_to_recordset($1::jsonb) AS x(idx BIGINT, leaf TEXT, hash TEXT, at BIGINT, actor TEXT,
                                            action TEXT, pin BIGINT, path TEXT, outcome TEXT)
), o AS (
    INSERT INTO audit_objects (event_idx, position, pin_id, path, blob_id, first_line, last_line)
    SELECT y.event, y.position, y.pin, y.path, y.blob, y.first, y.last
    FROM jsonb_to_recordset($2::jsonb) AS y(event BIGINT, position INTEGER, pin BIGINT, path TEXT, blob TEXT,
                                            first BIGINT, last BIGINT)
)
INSERT INTO merkle_nodes (level, idx, hash)
SELECT z.level, z.idx, decode(z.hash, 'hex') FROM jsonb_to_recordset($3::jsonb) AS z(level INTEGER, idx BIGINT, hash TEXT)";

/// PostgreSQL: a whole commit in one statement, on its own (autocommit, so one round trip and one
/// durable commit), valid only if the log still has `expected` entries. The head row is updated
/// first, only where its size is still `expected`; a statement that waited for another appender's
/// lock re-checks that condition against the row that appender committed, so it then updates
/// nothing, and each insert writes rows only if the head row was updated. Returns whether it was.
const PG_APPEND_IF_HEAD: &str = "\
WITH s AS (
    UPDATE log_state SET size = $4, root = $5, frontier = $6 WHERE id = 1 AND size = $7 RETURNING id
), e AS (
    INSERT INTO audit_events (idx, leaf, leaf_hash, recorded_at, actor, action, pin_id, path, outcome)
    SELECT x.idx, decode(x.leaf, 'hex'), decode(x.hash, 'hex'), x.at, x.actor, x.action, x.pin, x.path, x.outcome
    FROM jsonb_to_recordset($1::jsonb) AS x(idx BIGINT, leaf TEXT, hash TEXT, at BIGINT, actor TEXT,
                                            action TEXT, pin BIGINT, path TEXT, outcome TEXT)
    WHERE EXISTS (SELECT 1 FROM s)
), o AS (
    INSERT INTO audit_objects (event_idx, position, pin_id, path, blob_id, first_line, last_line)
    SELECT y.event, y.position, y.pin, y.path, y.blob, y.first, y.last
    FROM jsonb_to_recordset($2::jsonb) AS y(event BIGINT, position INTEGER, pin BIGINT, path TEXT, blob TEXT,
                                            first BIGINT, last BIGINT)
    WHERE EXISTS (SELECT 1 FROM s)
), n AS (
    INSERT INTO merkle_nodes (level, idx, hash)
    SELECT z.level, z.idx, decode(z.hash, 'hex')
    FROM jsonb_to_recordset($3::jsonb) AS z(level INTEGER, idx BIGINT, hash TEXT)
    WHERE EXISTS (SELECT 1 FROM s)
)
SELECT count(*) FROM s";

/// PostgreSQL: commits `rows` in one statement if the log still has `expected` entries (see
/// `PG_APPEND_IF_HEAD`). `Ok(false)`: another appender got there first and nothing was written.
pub async fn append_if_head_pg(store: &Store, expected: u64, rows: &AppendedRows<'_>) -> Result<bool> {
    let [events, objects, nodes] = rows_json(rows);
    let row = sqlx::query(PG_APPEND_IF_HEAD)
        .bind(events)
        .bind(objects)
        .bind(nodes)
        .bind(rows.size as i64)
        .bind(rows.root.as_slice())
        .bind(rows.frontier.as_slice())
        .bind(expected as i64)
        .fetch_one(&store.pool)
        .await?;
    let updated: i64 = row.try_get(0)?;
    Ok(updated == 1)
}

/// A commit's rows as the three JSON arrays the insert statements take (binary columns in hex).
fn rows_json(rows: &AppendedRows<'_>) -> [String; 3] {
    use serde_json::json;
    let events: Vec<_> = rows
        .events
        .iter()
        .map(|e| {
            json!({
                "idx": e.index, "leaf": hex::encode(&e.leaf), "hash": hex::encode(e.leaf_hash), "at": e.recorded_at,
                "actor": e.actor, "action": e.action, "pin": e.pin, "path": e.path, "outcome": e.outcome,
            })
        })
        .collect();
    let objects: Vec<_> = rows
        .objects
        .iter()
        .map(|o| {
            json!({
                "event": o.event, "position": o.position, "pin": o.pin, "path": o.path, "blob": o.blob,
                "first": o.lines.map(|(first, _)| first), "last": o.lines.map(|(_, last)| last),
            })
        })
        .collect();
    let nodes: Vec<_> = rows
        .nodes
        .iter()
        .map(|(level, index, hash)| json!({"level": level, "idx": index, "hash": hex::encode(hash)}))
        .collect();
    [events, objects, nodes].map(|array| serde_json::Value::Array(array).to_string())
}

async fn insert_appended_rows(
    conn: &mut Connection,
    events: &[EventRow],
    objects: &[ObjectRow],
    nodes: &[(u32, u64, Hash)],
) -> Result<()> {
    for chunk in events.chunks(ROWS_PER_STATEMENT) {
        let sql = multi_row_insert(
            "INSERT INTO audit_events (idx, leaf, leaf_hash, recorded_at, actor, action, pin_id, path, outcome)",
            9,
            chunk.len(),
        );
        // Kept prepared for one row and for a full chunk; the sizes between would fill the cache.
        let mut insert = sqlx::query(&sql).persistent(chunk.len() == 1 || chunk.len() == ROWS_PER_STATEMENT);
        for event in chunk {
            insert = insert
                .bind(event.index as i64)
                .bind(event.leaf.as_slice())
                .bind(event.leaf_hash.as_slice())
                .bind(event.recorded_at)
                .bind(event.actor.as_deref())
                .bind(event.action)
                .bind(event.pin)
                .bind(event.path.as_deref())
                .bind(event.outcome);
        }
        insert.execute(&mut *conn).await?;
    }
    for chunk in objects.chunks(ROWS_PER_STATEMENT) {
        let sql = multi_row_insert(
            "INSERT INTO audit_objects (event_idx, position, pin_id, path, blob_id, first_line, last_line)",
            7,
            chunk.len(),
        );
        // Kept prepared for one row and for a full chunk; the sizes between would fill the cache.
        let mut insert = sqlx::query(&sql).persistent(chunk.len() == 1 || chunk.len() == ROWS_PER_STATEMENT);
        for object in chunk {
            insert = insert
                .bind(object.event as i64)
                .bind(object.position as i32)
                .bind(object.pin)
                .bind(object.path.as_str())
                .bind(object.blob.as_deref())
                .bind(object.lines.map(|(first, _)| first as i64))
                .bind(object.lines.map(|(_, last)| last as i64));
        }
        insert.execute(&mut *conn).await?;
    }
    for chunk in nodes.chunks(ROWS_PER_STATEMENT) {
        let sql = multi_row_insert("INSERT INTO merkle_nodes (level, idx, hash)", 3, chunk.len());
        // Kept prepared for one row and for a full chunk; the sizes between would fill the cache.
        let mut insert = sqlx::query(&sql).persistent(chunk.len() == 1 || chunk.len() == ROWS_PER_STATEMENT);
        for (level, index, hash) in chunk {
            insert = insert.bind(*level as i32).bind(*index as i64).bind(hash.as_slice());
        }
        insert.execute(&mut *conn).await?;
    }
    Ok(())
}

/// `head VALUES (?, …), (…), …` for `rows` rows of `columns`: SQLite's anonymous placeholders,
/// bound in order. (Numbered ones cost O(n²) to bind: sqlx asks SQLite for each parameter's name,
/// and SQLite finds a name by a linear scan, so a 3,500-parameter statement took millions of steps.)
pub(crate) fn multi_row_insert(head: &str, columns: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * columns * 3 + 8);
    sql.push_str(head);
    sql.push_str(" VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            sql.push('?');
        }
        sql.push(')');
    }
    sql
}

async fn update_head(conn: &mut Connection, size: u64, root: &Hash, frontier: &[u8]) -> Result<()> {
    sqlx::query("UPDATE log_state SET size = $1, root = $2, frontier = $3 WHERE id = 1")
        .bind(size as i64)
        .bind(root.as_slice())
        .bind(frontier)
        .execute(conn)
        .await?;
    Ok(())
}
