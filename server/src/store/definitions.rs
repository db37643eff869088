//! The definitions found in pins, shared between pins: a file's definitions depend only on its
//! path (whose name picks the grammar) and its blob, so they are stored once per (path, blob) — a
//! *source* — and each pin lists the sources it has (`migrations/*/…_shared_definitions.sql`).

use super::{Result, Store};
use crate::source::Definition;
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};

/// Sources written or looked up in one statement.
const SOURCES_AT_ONCE: usize = 300;
/// Definitions written in one statement.
const DEFINITIONS_AT_ONCE: usize = 200;

impl Store {
    /// Stores the definitions found in a pin, in one transaction: the pin's list of sources is
    /// replaced (an interrupted run's included); a source not stored before is stored with its
    /// definitions, one already stored (by another pin, or a run before) is only listed.
    pub async fn replace_pin_symbols(&self, pin_id: i64, symbols: &[Definition]) -> Result<()> {
        let mut by_source: BTreeMap<(&str, &str), Vec<&Definition>> = BTreeMap::new();
        for symbol in symbols {
            by_source.entry((symbol.path.as_str(), symbol.blob_id.as_str())).or_default().push(symbol);
        }
        let sources: Vec<((&str, &str), Vec<&Definition>)> = by_source.into_iter().collect();
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM pin_definition_sources WHERE pin_id = $1").bind(pin_id).execute(&mut *tx).await?;
        for chunk in sources.chunks(SOURCES_AT_ONCE) {
            let insert = self.values_insert(
                "definition_sources (path, blob_id)",
                2,
                chunk.len(),
                " ON CONFLICT DO NOTHING RETURNING id, path, blob_id",
            );
            let mut query = sqlx::query(&insert);
            for ((path, blob_id), _) in chunk {
                query = query.bind(*path).bind(*blob_id);
            }
            let ids = |rows: Vec<sqlx::any::AnyRow>| -> Result<HashMap<(String, String), i64>> {
                rows.iter().map(|row| Ok(((row.try_get(1)?, row.try_get(2)?), row.try_get(0)?))).collect()
            };
            let new = ids(query.fetch_all(&mut *tx).await?)?;
            let select = format!(
                "SELECT id, path, blob_id FROM definition_sources WHERE (path, blob_id) IN (VALUES {})",
                self.placeholder_rows(2, chunk.len())
            );
            let mut query = sqlx::query(&select);
            for ((path, blob_id), _) in chunk {
                query = query.bind(*path).bind(*blob_id);
            }
            let all = ids(query.fetch_all(&mut *tx).await?)?;
            let id_of = |path: &str, blob_id: &str| all.get(&(path.to_string(), blob_id.to_string())).copied();
            let mut rows: Vec<(i64, &Definition)> = Vec::new();
            let mut listed = Vec::with_capacity(chunk.len());
            for ((path, blob_id), definitions) in chunk {
                let Some(id) = id_of(path, blob_id) else { continue };
                listed.push(id);
                if new.contains_key(&(path.to_string(), blob_id.to_string())) {
                    rows.extend(definitions.iter().map(|definition| (id, *definition)));
                }
            }
            for part in rows.chunks(DEFINITIONS_AT_ONCE) {
                let sql = self.values_insert(
                    "definitions (name, source, line, kind)",
                    4,
                    part.len(),
                    " ON CONFLICT DO NOTHING",
                );
                let mut query = sqlx::query(&sql);
                for (id, definition) in part {
                    query = query.bind(&definition.name).bind(*id).bind(definition.line as i64).bind(&definition.kind);
                }
                query.execute(&mut *tx).await?;
            }
            if listed.is_empty() {
                continue;
            }
            let sql = self.values_insert(
                "pin_definition_sources (source, pin_id)",
                2,
                listed.len(),
                " ON CONFLICT DO NOTHING",
            );
            let mut query = sqlx::query(&sql);
            for id in listed {
                query = query.bind(id).bind(pin_id);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Where a name is defined at a pin: (kind, path, line), by path and line, at most 200.
    pub async fn symbol_sites(&self, pin_id: i64, name: &str) -> Result<Vec<(String, String, u32)>> {
        let rows = sqlx::query(
            "SELECT d.kind, s.path, d.line FROM definitions d \
             JOIN pin_definition_sources p ON p.source = d.source AND p.pin_id = $1 \
             JOIN definition_sources s ON s.id = d.source \
             WHERE d.name = $2 ORDER BY s.path, d.line LIMIT 200",
        )
        .bind(pin_id)
        .bind(name)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get::<i64, _>(2)?.max(0) as u32))).collect()
    }
}
