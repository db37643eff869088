//! Grants: who may see which pin, when. The store returns the windows; whether one is active at a
//! moment is the domain guard's decision, made against the one clock.

use super::pins::{pin_from_row, PinRecord, PIN_COLUMNS, PIN_COLUMN_COUNT, PIN_FROM};
use super::users::{user_from_row, UserRecord, USER_COLUMNS, USER_COLUMN_COUNT};
use super::{Connection, Result, Store};
use sqlx::Row;

/// One grant's window, as the guard needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GrantWindow {
    pub id: i64,
    pub pin_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub revoked_at: Option<i64>,
    /// The path patterns the grant is limited to, one a line (`None`: the whole tree).
    pub paths: Option<std::sync::Arc<str>>,
}

pub struct GrantRecord {
    pub id: i64,
    pub reviewer: String,
    pub pin_id: i64,
    pub pin_label: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub granted_by: Option<String>,
    pub revoked_at: Option<i64>,
    /// The path patterns, one a line (`None`: the whole tree).
    pub paths: Option<String>,
}

const WINDOW_COLUMNS: &str = "g.id, g.pin_id, g.starts_at, g.ends_at, g.revoked_at, g.paths";

fn window_from_row(row: &sqlx::any::AnyRow, at: usize) -> Result<GrantWindow> {
    Ok(GrantWindow {
        id: row.try_get(at)?,
        pin_id: row.try_get(at + 1)?,
        starts_at: row.try_get(at + 2)?,
        ends_at: row.try_get(at + 3)?,
        revoked_at: row.try_get(at + 4)?,
        paths: row.try_get::<Option<String>, _>(at + 5)?.map(Into::into),
    })
}

/// The record the rows of an outer join repeat, and the grant windows that follow its `count`
/// columns (none where the join found no grant); `None` without rows.
fn record_and_windows<T>(
    rows: &[sqlx::any::AnyRow],
    record: fn(&sqlx::any::AnyRow) -> Result<T>,
    count: usize,
) -> Result<Option<(T, Vec<GrantWindow>)>> {
    let Some(first) = rows.first() else { return Ok(None) };
    let mut windows = Vec::new();
    for row in rows {
        if row.try_get::<Option<i64>, _>(count)?.is_some() {
            windows.push(window_from_row(row, count)?);
        }
    }
    Ok(Some((record(first)?, windows)))
}

impl Store {
    /// An account and every grant it holds or held, in one query (the session check of every
    /// request needs both).
    pub async fn user_and_grants(&self, user_id: i64) -> Result<Option<(UserRecord, Vec<GrantWindow>)>> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, {WINDOW_COLUMNS} FROM users u LEFT JOIN grants g ON g.reviewer_id = u.id \
             WHERE u.id = $1"
        );
        let rows = super::hot_read!(self, sqlx::query(&sql).bind(user_id), fetch_all);
        record_and_windows(&rows, user_from_row, USER_COLUMN_COUNT)
    }

    /// A pin and the user's grants for it, in one query (every read of a pin decides access so).
    pub async fn pin_and_grants(&self, pin_id: i64, user_id: i64) -> Result<Option<(PinRecord, Vec<GrantWindow>)>> {
        let sql = format!(
            "SELECT {PIN_COLUMNS}, {WINDOW_COLUMNS} {PIN_FROM} \
             LEFT JOIN grants g ON g.pin_id = p.id AND g.reviewer_id = $2 WHERE p.id = $1"
        );
        let rows = super::hot_read!(self, sqlx::query(&sql).bind(pin_id).bind(user_id), fetch_all);
        record_and_windows(&rows, pin_from_row, PIN_COLUMN_COUNT)
    }

    /// Every grant the user holds or held, revoked ones included.
    pub async fn grants_of(&self, user_id: i64) -> Result<Vec<GrantWindow>> {
        let sql = format!("SELECT {WINDOW_COLUMNS} FROM grants g WHERE g.reviewer_id = $1");
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(&self.pool).await?;
        rows.iter().map(|row| window_from_row(row, 0)).collect()
    }

    /// The user's grants for one pin.
    pub async fn grants_of_for_pin(&self, user_id: i64, pin_id: i64) -> Result<Vec<GrantWindow>> {
        let sql = format!("SELECT {WINDOW_COLUMNS} FROM grants g WHERE g.reviewer_id = $1 AND g.pin_id = $2");
        let rows = sqlx::query(&sql).bind(user_id).bind(pin_id).fetch_all(&self.pool).await?;
        rows.iter().map(|row| window_from_row(row, 0)).collect()
    }

    /// The pins the user holds an unrevoked grant for, each with that grant (a pin appears once per
    /// grant), newest pin first.
    pub async fn pins_with_grants_of(&self, user_id: i64) -> Result<Vec<(PinRecord, GrantWindow)>> {
        let sql = format!(
            "SELECT {PIN_COLUMNS}, {WINDOW_COLUMNS} {PIN_FROM} JOIN grants g ON g.pin_id = p.id \
             WHERE g.reviewer_id = $1 AND g.revoked_at IS NULL ORDER BY p.id DESC"
        );
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(&self.pool).await?;
        rows.iter().map(|row| Ok((pin_from_row(row)?, window_from_row(row, PIN_COLUMN_COUNT)?))).collect()
    }

    pub async fn list_grants(&self) -> Result<Vec<GrantRecord>> {
        let rows = sqlx::query(
            "SELECT g.id, r.username, g.pin_id, p.label, g.starts_at, g.ends_at, s.username, g.revoked_at, g.paths \
             FROM grants g JOIN users r ON r.id = g.reviewer_id JOIN pins p ON p.id = g.pin_id \
             LEFT JOIN users s ON s.id = g.granted_by ORDER BY g.id DESC",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(GrantRecord {
                    id: row.try_get(0)?,
                    reviewer: row.try_get(1)?,
                    pin_id: row.try_get(2)?,
                    pin_label: row.try_get(3)?,
                    starts_at: row.try_get(4)?,
                    ends_at: row.try_get(5)?,
                    granted_by: row.try_get(6)?,
                    revoked_at: row.try_get(7)?,
                    paths: row.try_get(8)?,
                })
            })
            .collect()
    }
}

pub struct NewGrant {
    pub reviewer_id: i64,
    pub pin_id: i64,
    pub starts_at: i64,
    pub ends_at: i64,
    pub granted_by: Option<i64>,
    pub granted_at: i64,
    /// The path patterns, one a line (`None`: the whole tree).
    pub paths: Option<String>,
}

pub async fn insert_grant(conn: &mut Connection, grant: &NewGrant) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO grants (reviewer_id, pin_id, starts_at, ends_at, granted_by, granted_at, paths) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(grant.reviewer_id)
    .bind(grant.pin_id)
    .bind(grant.starts_at)
    .bind(grant.ends_at)
    .bind(grant.granted_by)
    .bind(grant.granted_at)
    .bind(&grant.paths)
    .fetch_one(conn)
    .await?)
}

/// Moves an unrevoked grant's end; returns (pin, old end), or `None` when there is no such grant.
pub async fn extend_grant(conn: &mut Connection, grant_id: i64, ends_at: i64) -> Result<Option<(i64, i64)>> {
    let row = sqlx::query("SELECT pin_id, ends_at FROM grants WHERE id = $1 AND revoked_at IS NULL")
        .bind(grant_id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else { return Ok(None) };
    let (pin_id, old_end): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
    sqlx::query("UPDATE grants SET ends_at = $1 WHERE id = $2").bind(ends_at).bind(grant_id).execute(conn).await?;
    Ok(Some((pin_id, old_end)))
}

/// The start of a grant (to check a new end against it).
pub async fn grant_start(conn: &mut Connection, grant_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT starts_at FROM grants WHERE id = $1").bind(grant_id).fetch_optional(conn).await?)
}

/// Marks an unrevoked grant revoked; returns its pin, or `None` when there is no such grant.
pub async fn revoke_grant(conn: &mut Connection, grant_id: i64, at: i64, by: Option<i64>) -> Result<Option<i64>> {
    let pin: Option<i64> = sqlx::query_scalar(
        "UPDATE grants SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL RETURNING pin_id",
    )
    .bind(at)
    .bind(by)
    .bind(grant_id)
    .fetch_optional(conn)
    .await?;
    Ok(pin)
}
