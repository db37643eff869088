//! The audit log's tables: events (exact leaf bytes and their hashes), the objects each names, the
//! stored Merkle subtrees, the head, and the signed checkpoints. What the rows mean is `audit`'s
//! business; this module only moves them.

use super::{Connection, Result, Store, StoreError};
use app::model::{AuditEntry, AuditPage, AuditQuery};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};

pub type Hash = [u8; 32];

fn to_hash(bytes: Vec<u8>) -> Result<Hash> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("a stored hash"))
}

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
pub async fn insert_appended(conn: &mut Connection, engine: super::Engine, rows: &AppendedRows<'_>) -> Result<()> {
    match engine {
        super::Engine::Postgres => {
            let [events, objects, nodes] = rows_json(rows);
            sqlx::query(PG_INSERT_APPENDED).bind(events).bind(objects).bind(nodes).execute(&mut *conn).await?;
        }
        super::Engine::Sqlite => insert_appended_rows(conn, rows.events, rows.objects, rows.nodes).await?,
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

/// `head VALUES ($1, …, $columns), (…), …` for `rows` rows: numbered placeholders, which both
/// engines accept.
fn multi_row_insert(head: &str, columns: usize, rows: usize) -> String {
    let mut sql = String::with_capacity(head.len() + rows * columns * 6);
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
            sql.push('$');
            sql.push_str(&(row * columns + column + 1).to_string());
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

const ENTRY_COLUMNS: &str = "idx, recorded_at, actor, action, pin_id, path, outcome, leaf, leaf_hash";

fn entry_from_row(row: &AnyRow) -> Result<AuditEntry> {
    let leaf: Vec<u8> = row.try_get(7)?;
    let hash: Vec<u8> = row.try_get(8)?;
    Ok(AuditEntry {
        index: row.try_get(0)?,
        recorded_at_ms: row.try_get(1)?,
        actor: row.try_get(2)?,
        action: row.try_get(3)?,
        pin: row.try_get(4)?,
        path: row.try_get(5)?,
        outcome: row.try_get(6)?,
        leaf: String::from_utf8_lossy(&leaf).into_owned(),
        leaf_hash: hex::encode(hash),
    })
}

/// An object the log says was shown to someone: who, which path and blob, which lines.
pub struct ShownRow {
    pub event_idx: u64,
    pub actor: String,
    pub path: String,
    pub blob_id: String,
    pub lines: Option<(u64, u64)>,
}

/// Which actions show which of their objects (`audit::Action::shows`, the one rule), as wire
/// names: the store is told the rule, it does not hold one of its own.
pub struct ShownRule<'a> {
    /// Actions whose first object is shown.
    pub first_object: &'a [&'static str],
    /// Actions all of whose objects (with a blob and a path) are shown.
    pub every_object: &'a [&'static str],
}

impl ShownRule<'_> {
    /// The rule as a condition on an object `o` of an event `e`.
    fn condition(&self) -> String {
        let names = |actions: &[&str]| {
            let quoted: Vec<String> = actions
                .iter()
                .filter(|a| a.bytes().all(|b| b.is_ascii_lowercase() || b == b'.' || b == b'_'))
                .map(|a| format!("'{a}'"))
                .collect();
            if quoted.is_empty() {
                "NULL".to_string()
            } else {
                quoted.join(", ")
            }
        };
        format!(
            "o.blob_id IS NOT NULL AND o.path <> '' AND e.outcome = 'ok' AND e.actor IS NOT NULL \
             AND ((e.action IN ({}) AND o.position = 0) OR e.action IN ({}))",
            names(self.first_object),
            names(self.every_object)
        )
    }
}

/// A stored checkpoint row.
pub struct CheckpointRow {
    pub size: u64,
    pub root: Hash,
    pub note: String,
}

impl Store {
    /// The committed head: (size, root).
    pub async fn log_head(&self) -> Result<(u64, Hash)> {
        let row = sqlx::query("SELECT size, root FROM log_state WHERE id = 1").fetch_one(&self.pool).await?;
        let size: i64 = row.try_get(0)?;
        Ok((size as u64, to_hash(row.try_get(1)?)?))
    }

    /// Events newest first, filtered; the page size is capped at 500.
    pub async fn query_events(&self, query: &AuditQuery) -> Result<AuditPage> {
        let limit = query.limit.clamp(1, 500) as i64;
        let mut sql = format!("SELECT {ENTRY_COLUMNS} FROM audit_events WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let filters: [(bool, &str); 6] = [
            (query.actor.is_some(), "actor ="),
            (query.pin.is_some(), "pin_id ="),
            (query.action.is_some(), "action ="),
            (query.from_ms.is_some(), "recorded_at >="),
            (query.until_ms.is_some(), "recorded_at <="),
            (query.before.is_some(), "idx <"),
        ];
        for (present, condition) in filters {
            if present {
                sql += &format!(" AND {condition} {}", next());
            }
        }
        sql += &format!(" ORDER BY idx DESC LIMIT {}", next());
        let mut q = sqlx::query(&sql);
        if let Some(actor) = &query.actor {
            q = q.bind(actor.clone());
        }
        if let Some(pin) = query.pin {
            q = q.bind(pin);
        }
        if let Some(action) = &query.action {
            q = q.bind(action.clone());
        }
        for number in [query.from_ms, query.until_ms, query.before].into_iter().flatten() {
            q = q.bind(number);
        }
        let rows = q.bind(limit + 1).fetch_all(&self.pool).await?;
        let mut entries = rows.iter().map(entry_from_row).collect::<Result<Vec<_>>>()?;
        let next_before = if entries.len() as i64 > limit {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.index)
        } else {
            None
        };
        let (size, _) = self.log_head().await?;
        Ok(AuditPage { entries, log_size: size as i64, next_before })
    }

    /// The objects of a pin that the log says were shown, and to whom, from events after
    /// `after` (an event index; -1 for all), in log order.
    pub async fn shown_objects(&self, pin_id: i64, after: i64, rule: &ShownRule<'_>) -> Result<Vec<ShownRow>> {
        let sql = format!(
            "SELECT o.event_idx, e.actor, o.path, o.blob_id, o.first_line, o.last_line FROM audit_objects o \
             JOIN audit_events e ON e.idx = o.event_idx \
             WHERE o.pin_id = $1 AND o.event_idx > $2 AND {} ORDER BY o.event_idx",
            rule.condition()
        );
        let rows = sqlx::query(&sql).bind(pin_id).bind(after).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let first: Option<i64> = row.try_get(4)?;
                let last: Option<i64> = row.try_get(5)?;
                Ok(ShownRow {
                    event_idx: row.try_get::<i64, _>(0)? as u64,
                    actor: row.try_get(1)?,
                    path: row.try_get(2)?,
                    blob_id: row.try_get(3)?,
                    lines: first.zip(last).map(|(a, b)| (a.max(0) as u64, b.max(0) as u64)),
                })
            })
            .collect()
    }

    /// Events with `start <= index < end`, oldest first.
    pub async fn log_entries(&self, start: u64, end: u64) -> Result<Vec<AuditEntry>> {
        let sql = format!("SELECT {ENTRY_COLUMNS} FROM audit_events WHERE idx >= $1 AND idx < $2 ORDER BY idx");
        let rows = sqlx::query(&sql).bind(start as i64).bind(end as i64).fetch_all(&self.pool).await?;
        rows.iter().map(entry_from_row).collect()
    }

    /// Stored entries `start..end` as they are: (index, exact leaf bytes, stored leaf hash).
    pub async fn raw_log_entries(&self, start: u64, end: u64) -> Result<Vec<(u64, Vec<u8>, Vec<u8>)>> {
        // Read packed first: many entries a row spare a row's hand-over and conversion per
        // entry, most of the cost of reading a long log. Anything the packed form cannot carry
        // exactly (on PostgreSQL a leaf that is not UTF-8; a value that does not read back) reads
        // that range again row by row, so the caller sees exactly the stored rows.
        if let Ok(Some(entries)) = self.raw_log_entries_packed(start, end).await {
            return Ok(entries);
        }
        let rows =
            sqlx::query("SELECT idx, leaf, leaf_hash FROM audit_events WHERE idx >= $1 AND idx < $2 ORDER BY idx")
                .bind(start as i64)
                .bind(end as i64)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|row| Ok((row.try_get::<i64, _>(0)? as u64, row.try_get(1)?, row.try_get(2)?))).collect()
    }

    /// `raw_log_entries` packed, one value per 250 entries. On SQLite each entry is
    /// `idx:n:` then the stored hash's n bytes, then `length:` and the leaf's bytes, all as stored
    /// (a hash as hex cost SQLite more than the rest of the entry); on PostgreSQL, whose text cannot
    /// carry any bytes, `idx:hash:length:leaf` with the hash in hex and the leaf as UTF-8. Lengths
    /// come before what they measure, so nothing a leaf or hash holds can be taken for the next
    /// entry. The values are not asked for in order (ordering would sort); the entries are put in
    /// index order here. `None` when a value does not read back exactly.
    async fn raw_log_entries_packed(&self, start: u64, end: u64) -> Result<Option<Vec<(u64, Vec<u8>, Vec<u8>)>>> {
        // About 100 KB a group: a value of several MB is a fresh mapping of zeroed pages each time
        // (the server keeps large blocks out of its heap); reading a million entries in groups of
        // ten thousand spent about a sixth of its CPU in page faults.
        const GROUP: u64 = 250;
        let (sql, hashes) = match self.engine {
            super::Engine::Sqlite => (
                "SELECT CAST(group_concat(idx || ':' || length(CAST(leaf_hash AS BLOB)) || ':' || leaf_hash \
                 || length(CAST(leaf AS BLOB)) || ':' || leaf, '') AS BLOB) FROM audit_events \
                 WHERE idx >= $1 AND idx < $2",
                Packed::Bytes,
            ),
            super::Engine::Postgres => (
                "SELECT string_agg(idx || ':' || encode(leaf_hash, 'hex') || ':' || octet_length(leaf) || ':' \
                 || convert_from(leaf, 'UTF8'), '') FROM audit_events WHERE idx >= $1 AND idx < $2",
                Packed::Hex,
            ),
        };
        let mut entries = Vec::with_capacity(end.saturating_sub(start).min(100_000) as usize);
        let mut from = start;
        while from < end {
            let to = end.min(from.saturating_add(GROUP));
            let row = sqlx::query(sql).bind(from as i64).bind(to as i64).fetch_one(&self.pool).await?;
            let packed = match hashes {
                Packed::Bytes => row.try_get::<Option<Vec<u8>>, _>(0)?,
                Packed::Hex => row.try_get::<Option<String>, _>(0)?.map(String::into_bytes),
            };
            if let Some(packed) = packed {
                if unpack_entries(&packed, hashes, &mut entries).is_none() {
                    return Ok(None);
                }
            }
            from = to;
        }
        entries.sort_by_key(|entry| entry.0);
        Ok(Some(entries))
    }

    /// Leaf hashes by index (level-0 nodes), for proofs.
    pub async fn leaf_hashes(&self, indices: &[u64]) -> Result<Vec<(u64, Hash)>> {
        if indices.is_empty() {
            return Ok(Vec::new());
        }
        // The indices are numbers the proof code computed, never user text, so they are inlined.
        let list: Vec<String> = indices.iter().map(u64::to_string).collect();
        let sql = format!("SELECT idx, leaf_hash FROM audit_events WHERE idx IN ({})", list.join(","));
        // Not kept prepared: each list is a new statement, and a cache of them costs memory.
        let rows = sqlx::query(&sql).persistent(false).fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((row.try_get::<i64, _>(0)? as u64, to_hash(row.try_get(1)?)?))).collect()
    }

    /// Stored subtree hashes by (level, index), for proofs.
    pub async fn tree_nodes(&self, keys: &[(u32, u64)]) -> Result<Vec<((u32, u64), Hash)>> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = keys.iter().map(|(level, index)| format!("({level},{index})")).collect();
        let sql = format!("SELECT level, idx, hash FROM merkle_nodes WHERE (level, idx) IN ({})", list.join(","));
        let rows = sqlx::query(&sql).persistent(false).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|row| {
                let level: i32 = row.try_get(0)?;
                let index: i64 = row.try_get(1)?;
                Ok(((level as u32, index as u64), to_hash(row.try_get(2)?)?))
            })
            .collect()
    }

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

/// How a packed value of log entries (see `raw_log_entries_packed`) carries each stored hash.
#[derive(Clone, Copy)]
enum Packed {
    /// `idx:n:` and the hash's n bytes.
    Bytes,
    /// `idx:` and the hash in hex up to the next `:`.
    Hex,
}

/// Reads packed entries (see `raw_log_entries_packed`) onto `entries`; `None` unless the whole
/// value is such entries.
fn unpack_entries(mut text: &[u8], hashes: Packed, entries: &mut Vec<(u64, Vec<u8>, Vec<u8>)>) -> Option<()> {
    fn number(text: &mut &[u8]) -> Option<u64> {
        let end = text.iter().take(20).position(|&b| b == b':')?;
        let (digits, rest) = text.split_at(end);
        if digits.is_empty() || digits.len() > 19 || !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        *text = &rest[1..];
        std::str::from_utf8(digits).ok()?.parse().ok()
    }
    fn bytes<'a>(text: &mut &'a [u8], length: u64) -> Option<&'a [u8]> {
        let length = usize::try_from(length).ok().filter(|&length| length <= text.len())?;
        let (taken, rest) = text.split_at(length);
        *text = rest;
        Some(taken)
    }
    while !text.is_empty() {
        let index = number(&mut text)?;
        let hash = match hashes {
            Packed::Bytes => {
                let length = number(&mut text)?;
                bytes(&mut text, length)?.to_vec()
            }
            Packed::Hex => {
                let colon = text.iter().position(|&b| b == b':')?;
                let mut hash = vec![0u8; colon / 2];
                if colon % 2 != 0 || hex::decode_to_slice(&text[..colon], &mut hash).is_err() {
                    return None;
                }
                text = &text[colon + 1..];
                hash
            }
        };
        let length = number(&mut text)?;
        entries.push((index, bytes(&mut text, length)?.to_vec(), hash));
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::{unpack_entries, Packed};

    #[test]
    fn a_multi_row_insert_numbers_its_placeholders_row_by_row() {
        assert_eq!(
            super::multi_row_insert("INSERT INTO t (a, b)", 2, 3),
            "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6)"
        );
    }

    #[test]
    fn packed_entries_read_back_exactly_or_not_at_all() {
        let hash = [7u8; 32];
        let text = format!("5:{}:7:{{\"a\":1}}12:{}:3:x:y", hex::encode(hash), hex::encode(hash));
        let mut entries = Vec::new();
        assert_eq!(unpack_entries(text.as_bytes(), Packed::Hex, &mut entries), Some(()));
        assert_eq!(entries, vec![(5, b"{\"a\":1}".to_vec(), hash.to_vec()), (12, b"x:y".to_vec(), hash.to_vec())]);
        // A hash of odd length, a length past the end, a missing number: the caller reads rows.
        for broken in ["5:abc:1:x", "5:ab:9:x", ":ab:1:x", "5:ab:1", "5:zz:1:x", "99999999999999999999:ab:1:x"] {
            assert_eq!(unpack_entries(broken.as_bytes(), Packed::Hex, &mut Vec::new()), None, "{broken}");
        }
    }

    #[test]
    fn packed_bytes_carry_any_hash_and_leaf_exactly_or_not_at_all() {
        // Hashes and leaves holding colons, digits, NUL and bytes that are not UTF-8; empty ones.
        let stored: Vec<(u64, Vec<u8>, Vec<u8>)> = vec![
            (5, b"\xff\0:12:a:b".to_vec(), b"1:2:".to_vec()),
            (3, b"12".to_vec(), b"\xfe\x00c".to_vec()),
            (7, Vec::new(), Vec::new()),
        ];
        let mut packed = Vec::new();
        for (index, leaf, hash) in &stored {
            packed.extend_from_slice(format!("{index}:{}:", hash.len()).as_bytes());
            packed.extend_from_slice(hash);
            packed.extend_from_slice(format!("{}:", leaf.len()).as_bytes());
            packed.extend_from_slice(leaf);
        }
        let mut entries = Vec::new();
        assert_eq!(unpack_entries(&packed, Packed::Bytes, &mut entries), Some(()));
        assert_eq!(entries, stored);
        // A length past the end, a missing or overlong number, a length that is not digits.
        for broken in
            [&b"5:40:ab"[..], b"5:2:ab", b"5:2:ab9:x", b":2:ab1:x", b"5:-1:ab", b"5:1:a99999999999999999999:x"]
        {
            assert_eq!(unpack_entries(broken, Packed::Bytes, &mut Vec::new()), None, "{broken:?}");
        }
    }
}
