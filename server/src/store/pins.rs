//! Repositories and the pins of their commits.

use super::{Connection, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

pub struct RepositoryRecord {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub imported_at: i64,
    /// Still being copied by its import job (no pin may be made on it yet).
    pub importing: bool,
    /// The person who imported it from the console (none: the operator, at the command line),
    /// so its source was checked against the import roots and is again whenever it is read.
    pub imported_by: Option<i64>,
}

pub struct PinRecord {
    pub id: i64,
    pub repository_id: i64,
    pub repository: String,
    pub commit_id: String,
    pub tree_id: String,
    pub label: String,
    pub pinned_by: Option<String>,
    pub pinned_at: i64,
    pub withdrawn_at: Option<i64>,
    /// The commit's committer time (unknown for pins made before it was recorded).
    pub committed_at: Option<i64>,
    /// Take-away policy: raw downloads refused, copying discouraged (for everyone but staff).
    pub no_download: bool,
    pub no_copy: bool,
    /// How much of the history behind the pin its readers see.
    pub history: app::model::HistoryPolicy,
    /// The repository's comment revision when the record was read: it moves with every comment,
    /// version and state written (0 before the first).
    pub comment_revision: i64,
    /// Whether builders disagree on some artifact of the pin (`Store::mismatched_artifacts` names them).
    pub has_mismatches: bool,
    /// Moves whenever a compiled-code map of the pin is done (again): 0 while it has none, so a
    /// file view of a pin without maps reads none.
    pub maps_revision: i64,
}

// Every pin page needs the last two (whether its file threads are still current, and whether a
// mismatch banner shows), so they are read with the pin rather than by queries of their own.
pub(super) const PIN_COLUMNS: &str =
    "p.id, p.repository_id, r.name, p.commit_id, p.tree_id, p.label, u.username, p.pinned_at, p.withdrawn_at, p.committed_at, p.no_download, p.no_copy, \
     COALESCE((SELECT cr.revision FROM comment_revisions cr WHERE cr.repository_id = p.repository_id), 0), \
     CASE WHEN EXISTS (SELECT 1 FROM builds b WHERE b.pin_id = p.id GROUP BY b.name, b.platform \
         HAVING COUNT(DISTINCT b.sha256) > 1) THEN 1 ELSE 0 END, \
     CAST(COALESCE((SELECT SUM(m.updated_at) FROM compiled_maps m WHERE m.pin_id = p.id AND m.state = 'done'), 0) AS BIGINT), \
     p.history";
/// How many columns `PIN_COLUMNS` names (a joined table's columns follow).
pub(super) const PIN_COLUMN_COUNT: usize = 16;
pub(super) const PIN_FROM: &str =
    "FROM pins p JOIN repositories r ON r.id = p.repository_id LEFT JOIN users u ON u.id = p.pinned_by";

pub(super) fn pin_from_row(row: &AnyRow) -> Result<PinRecord> {
    Ok(PinRecord {
        id: row.try_get(0)?,
        repository_id: row.try_get(1)?,
        repository: row.try_get(2)?,
        commit_id: row.try_get(3)?,
        tree_id: row.try_get(4)?,
        label: row.try_get(5)?,
        pinned_by: row.try_get(6)?,
        pinned_at: row.try_get(7)?,
        withdrawn_at: row.try_get(8)?,
        committed_at: row.try_get(9)?,
        no_download: row.try_get::<i64, _>(10)? != 0,
        no_copy: row.try_get::<i64, _>(11)? != 0,
        comment_revision: row.try_get(12)?,
        has_mismatches: row.try_get::<i64, _>(13)? != 0,
        maps_revision: row.try_get(14)?,
        // A value this server never writes reads as the strictest.
        history: app::model::HistoryPolicy::parse(&row.try_get::<String, _>(15)?).unwrap_or_default(),
    })
}

fn repository_from_row(row: &AnyRow) -> Result<RepositoryRecord> {
    Ok(RepositoryRecord {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        source: row.try_get(2)?,
        imported_at: row.try_get(3)?,
        importing: row.try_get::<i64, _>(4)? != 0,
        imported_by: row.try_get(5)?,
    })
}

impl Store {
    pub async fn repository_by_name(&self, name: &str) -> Result<Option<RepositoryRecord>> {
        let row = sqlx::query(
            "SELECT id, name, source, imported_at, importing, imported_by FROM repositories WHERE name = $1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(repository_from_row).transpose()
    }

    pub async fn repository_by_id(&self, id: i64) -> Result<Option<RepositoryRecord>> {
        let row =
            sqlx::query("SELECT id, name, source, imported_at, importing, imported_by FROM repositories WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(repository_from_row).transpose()
    }

    pub async fn list_repositories(&self) -> Result<Vec<RepositoryRecord>> {
        let rows =
            sqlx::query("SELECT id, name, source, imported_at, importing, imported_by FROM repositories ORDER BY name")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(repository_from_row).collect()
    }

    pub async fn pin(&self, id: i64) -> Result<Option<PinRecord>> {
        let sql = format!("SELECT {PIN_COLUMNS} {PIN_FROM} WHERE p.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(pin_from_row).transpose()
    }

    pub async fn list_pins(&self) -> Result<Vec<PinRecord>> {
        let sql = format!("SELECT {PIN_COLUMNS} {PIN_FROM} ORDER BY p.id DESC");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(pin_from_row).collect()
    }
}

/// Marks a repository as being copied by its import job (`importing`), or as in place.
pub async fn set_importing(conn: &mut Connection, id: i64, importing: bool) -> Result<()> {
    sqlx::query("UPDATE repositories SET importing = $1 WHERE id = $2")
        .bind(i64::from(importing))
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Removes the row of an import that failed (no pin can reference it: none is made while importing).
pub async fn delete_importing_repository(conn: &mut Connection, id: i64) -> Result<bool> {
    let deleted =
        sqlx::query("DELETE FROM repositories WHERE id = $1 AND importing = 1").bind(id).execute(conn).await?;
    Ok(deleted.rows_affected() == 1)
}

pub async fn insert_repository(
    conn: &mut Connection,
    name: &str,
    source: &str,
    imported_by: Option<i64>,
    imported_at: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO repositories (name, source, imported_by, imported_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(source)
    .bind(imported_by)
    .bind(imported_at)
    .fetch_one(conn)
    .await?)
}

pub struct NewPin<'a> {
    pub repository_id: i64,
    pub commit_id: &'a str,
    pub tree_id: &'a str,
    pub label: &'a str,
    pub pinned_by: Option<i64>,
    pub pinned_at: i64,
    pub committed_at: i64,
}

pub async fn insert_pin(conn: &mut Connection, pin: &NewPin<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO pins (repository_id, commit_id, tree_id, label, pinned_by, pinned_at, committed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(pin.repository_id)
    .bind(pin.commit_id)
    .bind(pin.tree_id)
    .bind(pin.label)
    .bind(pin.pinned_by)
    .bind(pin.pinned_at)
    .bind(pin.committed_at)
    .fetch_one(conn)
    .await?)
}

/// A change to a pin's policies: each field set replaces the stored one, each `None` keeps it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PolicyChange {
    pub no_download: Option<bool>,
    pub no_copy: Option<bool>,
    pub history: Option<app::model::HistoryPolicy>,
}

/// Changes a pin's take-away and history policies; the policies it then has (no download, no
/// copy, history), or `None` when there is no such pin.
pub async fn set_pin_policy(
    conn: &mut Connection,
    pin_id: i64,
    change: PolicyChange,
) -> Result<Option<(bool, bool, app::model::HistoryPolicy)>> {
    let row = sqlx::query(
        "UPDATE pins SET no_download = COALESCE($1, no_download), no_copy = COALESCE($2, no_copy), \
         history = COALESCE($3, history) WHERE id = $4 RETURNING no_download, no_copy, history",
    )
    .bind(change.no_download.map(i64::from))
    .bind(change.no_copy.map(i64::from))
    .bind(change.history.map(|h| h.as_str()))
    .bind(pin_id)
    .fetch_optional(conn)
    .await?;
    row.map(|row| {
        let history = app::model::HistoryPolicy::parse(&row.try_get::<String, _>(2)?).unwrap_or_default();
        Ok((row.try_get::<i64, _>(0)? != 0, row.try_get::<i64, _>(1)? != 0, history))
    })
    .transpose()
}

/// Withdraws a pin (in the caller's transaction); false when it was already withdrawn or is none.
pub async fn withdraw_pin(conn: &mut Connection, pin_id: i64, at: i64) -> Result<bool> {
    let updated = sqlx::query("UPDATE pins SET withdrawn_at = $1 WHERE id = $2 AND withdrawn_at IS NULL")
        .bind(at)
        .bind(pin_id)
        .execute(conn)
        .await?;
    Ok(updated.rows_affected() == 1)
}
