//! Requirement lists of pins: each import a new list, the latest the pin's. Append-only.

use super::{Connection, Result, Store};
use crate::review::requirements::Requirement;
use sqlx::Row;

/// Rows a multi-row insert writes at once (5 parameters each).
const BATCH: usize = 500;

/// A list as stored, without its requirements.
#[derive(Clone, Debug)]
pub struct ListRow {
    pub id: i64,
    pub pin_id: i64,
    pub sha256: String,
    pub count: i64,
    pub imported_by: Option<String>,
    pub created_at: i64,
}

const LIST_COLUMNS: &str = "id, pin_id, sha256, count, imported_by, created_at FROM requirement_lists";

fn list_from_row(row: &sqlx::any::AnyRow) -> Result<ListRow> {
    Ok(ListRow {
        id: row.try_get(0)?,
        pin_id: row.try_get(1)?,
        sha256: row.try_get(2)?,
        count: row.try_get(3)?,
        imported_by: row.try_get(4)?,
        created_at: row.try_get(5)?,
    })
}

/// Writes a list and its requirements (in the caller's transaction, with its event).
pub async fn insert_list(
    conn: &mut Connection,
    pin_id: i64,
    sha256: &str,
    imported_by: Option<&str>,
    created_at: i64,
    list: &[Requirement],
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO requirement_lists (pin_id, sha256, count, imported_by, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(pin_id)
    .bind(sha256)
    .bind(list.len() as i64)
    .bind(imported_by)
    .bind(created_at)
    .fetch_one(&mut *conn)
    .await?;
    for (batch_at, batch) in list.chunks(BATCH).enumerate() {
        let values: Vec<String> = (0..batch.len())
            .map(|at| format!("(${}, ${}, ${}, ${}, ${})", at * 5 + 1, at * 5 + 2, at * 5 + 3, at * 5 + 4, at * 5 + 5))
            .collect();
        let sql =
            format!("INSERT INTO requirements (list_id, position, req_id, title, text) VALUES {}", values.join(", "));
        let mut query = sqlx::query(&sql);
        for (at, requirement) in batch.iter().enumerate() {
            query = query
                .bind(id)
                .bind((batch_at * BATCH + at) as i64)
                .bind(requirement.id.as_str())
                .bind(requirement.title.as_str())
                .bind(requirement.text.as_str());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(id)
}

impl Store {
    /// The pin's latest list, if it has one.
    pub async fn latest_requirement_list(&self, pin_id: i64) -> Result<Option<ListRow>> {
        let sql = format!("SELECT {LIST_COLUMNS} WHERE pin_id = $1 ORDER BY id DESC LIMIT 1");
        sqlx::query(&sql).bind(pin_id).fetch_optional(&self.pool).await?.as_ref().map(list_from_row).transpose()
    }

    /// One list.
    pub async fn requirement_list(&self, id: i64) -> Result<Option<ListRow>> {
        let sql = format!("SELECT {LIST_COLUMNS} WHERE id = $1");
        sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?.as_ref().map(list_from_row).transpose()
    }

    /// A list's requirements, in its order.
    pub async fn requirements_of(&self, list_id: i64) -> Result<Vec<Requirement>> {
        let rows = sqlx::query("SELECT req_id, title, text FROM requirements WHERE list_id = $1 ORDER BY position")
            .bind(list_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| Ok(Requirement { id: row.try_get(0)?, title: row.try_get(1)?, text: row.try_get(2)? }))
            .collect()
    }
}
