//! Release records: each repository's release policies, newest last (append-only).

use super::{Connection, Result, Store};
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRow {
    pub id: i64,
    pub repository_id: i64,
    pub policy: String,
    pub digest: String,
    pub written: String,
    pub set_by: Option<String>,
    pub set_at: i64,
}

/// A new policy for a repository, in the caller's transaction.
pub async fn add_release_policy(
    conn: &mut Connection,
    repository_id: i64,
    (policy, digest, written): (&str, &str, &str),
    set_by: Option<i64>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO release_policies (repository_id, policy, digest, written, set_by, set_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(repository_id)
    .bind(policy)
    .bind(digest)
    .bind(written)
    .bind(set_by)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// A repository's policy: its newest.
    pub async fn release_policy(&self, repository_id: i64) -> Result<Option<PolicyRow>> {
        let row = sqlx::query(
            "SELECT p.id, p.repository_id, p.policy, p.digest, p.written, u.username, p.set_at \
             FROM release_policies p LEFT JOIN users u ON u.id = p.set_by \
             WHERE p.repository_id = $1 ORDER BY p.id DESC LIMIT 1",
        )
        .bind(repository_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| policy_from_row(&row)).transpose()
    }
}

fn policy_from_row(row: &sqlx::any::AnyRow) -> Result<PolicyRow> {
    Ok(PolicyRow {
        id: row.try_get(0)?,
        repository_id: row.try_get(1)?,
        policy: row.try_get(2)?,
        digest: row.try_get(3)?,
        written: row.try_get(4)?,
        set_by: row.try_get(5)?,
        set_at: row.try_get(6)?,
    })
}

/// A registered public key of an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountKeyRow {
    pub id: i64,
    pub user_id: i64,
    pub username: String,
    pub keyid: String,
    pub vkey: String,
    pub registered_at: i64,
}

/// A proposed release, with its frozen dossier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseRow {
    pub id: i64,
    pub pin_id: i64,
    pub version: String,
    pub policy_id: i64,
    pub statement: String,
    pub statement_sha256: String,
    pub envelope: String,
    pub rules_met: bool,
    pub replaces: Option<i64>,
    pub proposed_by: Option<String>,
    pub proposed_at: i64,
}

/// A new release to store (everything but the id).
pub struct NewReleaseRow<'a> {
    pub pin_id: i64,
    pub version: &'a str,
    pub policy_id: i64,
    pub statement: &'a str,
    pub statement_sha256: &'a str,
    pub envelope: &'a str,
    pub rules_met: bool,
    pub replaces: Option<i64>,
    pub proposed_by: Option<i64>,
    pub proposed_at: i64,
}

/// A supervisor's signature or objection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecisionRow {
    pub release_id: i64,
    pub user_id: i64,
    pub username: String,
    pub keyid: String,
    pub signed: bool,
    pub signature: String,
    pub reason: String,
    pub decided_at: i64,
}

pub async fn add_account_key(
    conn: &mut Connection,
    user_id: i64,
    (keyid, vkey): (&str, &str),
    registered_by: Option<i64>,
    now: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO account_keys (user_id, keyid, vkey, registered_by, registered_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(user_id)
    .bind(keyid)
    .bind(vkey)
    .bind(registered_by)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?)
}

pub async fn insert_release(conn: &mut Connection, new: &NewReleaseRow<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO releases (pin_id, version, policy_id, statement, statement_sha256, envelope, rules_met, \
         replaces, proposed_by, proposed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
    )
    .bind(new.pin_id)
    .bind(new.version)
    .bind(new.policy_id)
    .bind(new.statement)
    .bind(new.statement_sha256)
    .bind(new.envelope)
    .bind(i64::from(new.rules_met))
    .bind(new.replaces)
    .bind(new.proposed_by)
    .bind(new.proposed_at)
    .fetch_one(&mut *conn)
    .await?)
}

/// A decision: (release, user, key row, signed?, signature, reason).
pub async fn insert_decision(
    conn: &mut Connection,
    (release_id, user_id, key_id): (i64, i64, i64),
    (signed, signature, reason): (bool, &str, &str),
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO release_decisions (release_id, user_id, key_id, kind, signature, reason, decided_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(release_id)
    .bind(user_id)
    .bind(key_id)
    .bind(if signed { "sign" } else { "object" })
    .bind(signature)
    .bind(reason)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub async fn insert_authorisation(conn: &mut Connection, release_id: i64, envelope: &str, now: i64) -> Result<()> {
    sqlx::query("INSERT INTO release_authorisations (release_id, envelope, authorised_at) VALUES ($1, $2, $3)")
        .bind(release_id)
        .bind(envelope)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The decisions on a release, in the caller's transaction (so a quorum is counted with the
/// decision that completes it).
pub async fn decisions_in(conn: &mut Connection, release_id: i64) -> Result<Vec<DecisionRow>> {
    let rows = sqlx::query(DECISIONS).bind(release_id).fetch_all(&mut *conn).await?;
    rows.iter().map(decision_from_row).collect()
}

const DECISIONS: &str = "SELECT d.release_id, d.user_id, u.username, k.keyid, d.kind, d.signature, d.reason, \
     d.decided_at FROM release_decisions d JOIN users u ON u.id = d.user_id JOIN account_keys k ON k.id = d.key_id \
     WHERE d.release_id = $1 ORDER BY d.id";

fn decision_from_row(row: &sqlx::any::AnyRow) -> Result<DecisionRow> {
    Ok(DecisionRow {
        release_id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        username: row.try_get(2)?,
        keyid: row.try_get(3)?,
        signed: row.try_get::<String, _>(4)? == "sign",
        signature: row.try_get(5)?,
        reason: row.try_get(6)?,
        decided_at: row.try_get(7)?,
    })
}

const RELEASE_COLUMNS: &str = "r.id, r.pin_id, r.version, r.policy_id, r.statement, r.statement_sha256, r.envelope, \
     r.rules_met, r.replaces, u.username, r.proposed_at FROM releases r LEFT JOIN users u ON u.id = r.proposed_by";

fn release_from_row(row: &sqlx::any::AnyRow) -> Result<ReleaseRow> {
    Ok(ReleaseRow {
        id: row.try_get(0)?,
        pin_id: row.try_get(1)?,
        version: row.try_get(2)?,
        policy_id: row.try_get(3)?,
        statement: row.try_get(4)?,
        statement_sha256: row.try_get(5)?,
        envelope: row.try_get(6)?,
        rules_met: row.try_get::<i64, _>(7)? != 0,
        replaces: row.try_get(8)?,
        proposed_by: row.try_get(9)?,
        proposed_at: row.try_get(10)?,
    })
}

fn key_from_row(row: &sqlx::any::AnyRow) -> Result<AccountKeyRow> {
    Ok(AccountKeyRow {
        id: row.try_get(0)?,
        user_id: row.try_get(1)?,
        username: row.try_get(2)?,
        keyid: row.try_get(3)?,
        vkey: row.try_get(4)?,
        registered_at: row.try_get(5)?,
    })
}

const KEY_COLUMNS: &str = "k.id, k.user_id, u.username, k.keyid, k.vkey, k.registered_at \
     FROM account_keys k JOIN users u ON u.id = k.user_id";

impl Store {
    /// An account's registered keys, oldest first.
    pub async fn account_keys(&self, user_id: i64) -> Result<Vec<AccountKeyRow>> {
        let sql = format!("SELECT {KEY_COLUMNS} WHERE k.user_id = $1 ORDER BY k.id");
        let rows = sqlx::query(&sql).bind(user_id).fetch_all(&self.pool).await?;
        rows.iter().map(key_from_row).collect()
    }

    /// Every registered key, oldest first.
    pub async fn all_account_keys(&self) -> Result<Vec<AccountKeyRow>> {
        let sql = format!("SELECT {KEY_COLUMNS} ORDER BY k.id");
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(key_from_row).collect()
    }

    pub async fn release_policy_by_id(&self, id: i64) -> Result<Option<PolicyRow>> {
        let row = sqlx::query(
            "SELECT p.id, p.repository_id, p.policy, p.digest, p.written, u.username, p.set_at \
             FROM release_policies p LEFT JOIN users u ON u.id = p.set_by WHERE p.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| policy_from_row(&row)).transpose()
    }

    pub async fn release(&self, id: i64) -> Result<Option<ReleaseRow>> {
        let sql = format!("SELECT {RELEASE_COLUMNS} WHERE r.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(release_from_row).transpose()
    }

    /// A pin's releases, oldest first.
    pub async fn releases_of_pin(&self, pin_id: i64) -> Result<Vec<ReleaseRow>> {
        let sql = format!("SELECT {RELEASE_COLUMNS} WHERE r.pin_id = $1 ORDER BY r.id");
        let rows = sqlx::query(&sql).bind(pin_id).fetch_all(&self.pool).await?;
        rows.iter().map(release_from_row).collect()
    }

    /// The releases neither authorised nor replaced, oldest first.
    pub async fn open_releases(&self) -> Result<Vec<ReleaseRow>> {
        let sql = format!(
            "SELECT {RELEASE_COLUMNS} WHERE NOT EXISTS (SELECT 1 FROM release_authorisations a WHERE a.release_id = r.id) \
             AND NOT EXISTS (SELECT 1 FROM releases n WHERE n.replaces = r.id) ORDER BY r.id"
        );
        let rows = sqlx::query(&sql).fetch_all(&self.pool).await?;
        rows.iter().map(release_from_row).collect()
    }

    /// The releases of a version of a repository, oldest first.
    pub async fn releases_of_version(&self, repository_id: i64, version: &str) -> Result<Vec<ReleaseRow>> {
        let sql = format!(
            "SELECT {RELEASE_COLUMNS} JOIN pins p ON p.id = r.pin_id WHERE p.repository_id = $1 AND r.version = $2 \
             ORDER BY r.id"
        );
        let rows = sqlx::query(&sql).bind(repository_id).bind(version).fetch_all(&self.pool).await?;
        rows.iter().map(release_from_row).collect()
    }

    /// The release that replaced this one, if any.
    pub async fn release_replacing(&self, id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar("SELECT id FROM releases WHERE replaces = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn release_decisions(&self, release_id: i64) -> Result<Vec<DecisionRow>> {
        let rows = sqlx::query(DECISIONS).bind(release_id).fetch_all(&self.pool).await?;
        rows.iter().map(decision_from_row).collect()
    }

    /// A release's authorisation: its envelope with every signature, and when.
    pub async fn release_authorisation(&self, release_id: i64) -> Result<Option<(String, i64)>> {
        let row = sqlx::query("SELECT envelope, authorised_at FROM release_authorisations WHERE release_id = $1")
            .bind(release_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).transpose()
    }
}
