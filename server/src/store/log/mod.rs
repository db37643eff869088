//! The audit log's tables: events (exact leaf bytes and their hashes), the objects each names, the
//! stored Merkle subtrees, the head, and the signed checkpoints. What the rows mean is `audit`'s
//! business; this module only moves them.

pub(crate) mod append;
mod checkpoints;

use super::{Result, Store, StoreError};
use app::model::{AuditEntry, AuditPage, AuditQuery};
pub use append::*;
pub use checkpoints::CheckpointRow;
use sqlx::any::AnyRow;
use sqlx::Row;

pub type Hash = [u8; 32];

fn to_hash(bytes: Vec<u8>) -> Result<Hash> {
    bytes.try_into().map_err(|_| StoreError::Corrupt("a stored hash"))
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
        paths: Vec::new(),
        leaf_formatted: String::new(),
    })
}

/// A value a filter binds.
enum Param {
    Text(String),
    Number(i64),
}

/// Binds each filter's value in order (a `query` or a `query_scalar`).
macro_rules! bind_params {
    ($query:expr, $params:expr) => {{
        let mut query = $query;
        for param in $params {
            query = match param {
                Param::Text(text) => query.bind(text),
                Param::Number(number) => query.bind(number),
            };
        }
        query
    }};
}

/// The audit query's filters as conditions on `$1`, `$2`, … and their values in that order; the
/// page's start (`before`) only when asked for (a count covers every page).
fn event_filters(query: &AuditQuery, with_before: bool) -> (Vec<String>, Vec<Param>) {
    let mut conditions = Vec::new();
    let mut params = Vec::new();
    let mut add = |condition: &str, param: Param| {
        params.push(param);
        conditions.push(format!("{condition} ${}", params.len()));
    };
    if let Some(actor) = &query.actor {
        add("actor =", Param::Text(actor.clone()));
    }
    if let Some(pin) = query.pin {
        add("pin_id =", Param::Number(pin));
    }
    if let Some(action) = &query.action {
        add("action =", Param::Text(action.clone()));
    }
    for (condition, number) in [("recorded_at >=", query.from_ms), ("recorded_at <=", query.until_ms)] {
        if let Some(number) = number {
            add(condition, Param::Number(number));
        }
    }
    if let Some(before) = query.before.filter(|_| with_before) {
        add("idx <", Param::Number(before));
    }
    (conditions, params)
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        "1 = 1".into()
    } else {
        conditions.join(" AND ")
    }
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
        let (conditions, params) = event_filters(query, true);
        let sql = format!(
            "SELECT {ENTRY_COLUMNS} FROM audit_events WHERE {} ORDER BY idx DESC LIMIT ${}",
            where_clause(&conditions),
            params.len() + 1
        );
        let rows = bind_params!(sqlx::query(&sql), params).bind(limit + 1).fetch_all(&self.pool).await?;
        let mut entries = rows.iter().map(entry_from_row).collect::<Result<Vec<_>>>()?;
        let next_before = if entries.len() as i64 > limit {
            entries.truncate(limit as usize);
            entries.last().map(|e| e.index)
        } else {
            None
        };
        let (size, _) = self.log_head().await?;
        let matching = self.count_events(query).await?.unwrap_or(size as i64);
        Ok(AuditPage { entries, log_size: size as i64, matching, next_before })
    }

    /// How many events match the query's filters (its page aside); `None` without filters.
    async fn count_events(&self, query: &AuditQuery) -> Result<Option<i64>> {
        let (conditions, params) = event_filters(query, false);
        if conditions.is_empty() {
            return Ok(None);
        }
        let sql = format!("SELECT COUNT(*) FROM audit_events WHERE {}", where_clause(&conditions));
        Ok(Some(bind_params!(sqlx::query_scalar::<_, i64>(&sql), params).fetch_one(&self.pool).await?))
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

    /// The hashes at Merkle `level` with indices `start..end`, in order: leaf hashes at level 0,
    /// stored perfect subtrees above (a tile's contents).
    pub async fn node_range(&self, level: u32, start: u64, end: u64) -> Result<Vec<Hash>> {
        let (start, end) = (start as i64, end as i64);
        let rows = if level == 0 {
            sqlx::query("SELECT leaf_hash FROM audit_events WHERE idx >= $1 AND idx < $2 ORDER BY idx")
                .bind(start)
                .bind(end)
                .fetch_all(&self.pool)
                .await?
        } else {
            sqlx::query("SELECT hash FROM merkle_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx")
                .bind(level as i32)
                .bind(start)
                .bind(end)
                .fetch_all(&self.pool)
                .await?
        };
        rows.iter().map(|row| to_hash(row.try_get(0)?)).collect()
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

/// How a packed value of log entries (see `raw_log_entries_packed`) carries each stored hash.
#[derive(Clone, Copy)]
enum Packed {
    /// `idx:n:` and the hash's n bytes.
    Bytes,
    /// `idx:` and the hash in hex up to the next `:`.
    Hex,
}

#[cfg(test)]
mod tests {
    use super::{unpack_entries, Packed};

    #[test]
    fn a_multi_row_insert_has_a_placeholder_for_each_value() {
        assert_eq!(
            super::append::multi_row_insert("INSERT INTO t (a, b)", 2, 3),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?)"
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
