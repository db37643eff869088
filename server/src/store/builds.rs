//! Build records and the attestation envelopes issued for them. Both are append-only.

use super::{Connection, Result, Store};
use sqlx::any::AnyRow;
use sqlx::Row;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildRow {
    pub id: i64,
    pub pin_id: i64,
    pub name: String,
    pub platform: String,
    pub sha256: String,
    pub size: Option<i64>,
    pub builder: String,
    /// The recording account's username; none for the operator.
    pub recorded_by: Option<String>,
    pub command: String,
    pub toolchain: String,
    pub notes: String,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub recorded_at: i64,
    pub uploaded: bool,
}

/// A build to store (everything but the id).
pub struct NewBuild<'a> {
    pub pin_id: i64,
    pub name: &'a str,
    pub platform: &'a str,
    pub sha256: &'a str,
    pub size: Option<i64>,
    pub builder: &'a str,
    pub recorded_by: Option<i64>,
    pub command: &'a str,
    pub toolchain: &'a str,
    pub notes: &'a str,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub recorded_at: i64,
    pub uploaded: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttestationRow {
    pub id: i64,
    pub pin_id: i64,
    pub build_id: Option<i64>,
    pub kind: String,
    pub envelope: String,
    pub envelope_sha256: String,
    pub issued_at: i64,
}

const BUILD_COLUMNS: &str = "b.id, b.pin_id, b.name, b.platform, b.sha256, b.size, b.builder, u.username, b.command, \
     b.toolchain, b.notes, b.started_at, b.finished_at, b.recorded_at, b.uploaded";
const BUILD_FROM: &str = "FROM builds b LEFT JOIN users u ON u.id = b.recorded_by";
const ATTESTATION_COLUMNS: &str = "a.id, a.pin_id, a.build_id, a.kind, a.envelope, a.envelope_sha256, a.issued_at";

fn build_from_row(row: &AnyRow) -> Result<BuildRow> {
    Ok(BuildRow {
        id: row.try_get(0)?,
        pin_id: row.try_get(1)?,
        name: row.try_get(2)?,
        platform: row.try_get(3)?,
        sha256: row.try_get(4)?,
        size: row.try_get(5)?,
        builder: row.try_get(6)?,
        recorded_by: row.try_get(7)?,
        command: row.try_get(8)?,
        toolchain: row.try_get(9)?,
        notes: row.try_get(10)?,
        started_at: row.try_get(11)?,
        finished_at: row.try_get(12)?,
        recorded_at: row.try_get(13)?,
        uploaded: row.try_get::<i64, _>(14)? != 0,
    })
}

fn attestation_from_row(row: &AnyRow) -> Result<AttestationRow> {
    Ok(AttestationRow {
        id: row.try_get(0)?,
        pin_id: row.try_get(1)?,
        build_id: row.try_get(2)?,
        kind: row.try_get(3)?,
        envelope: row.try_get(4)?,
        envelope_sha256: row.try_get(5)?,
        issued_at: row.try_get(6)?,
    })
}

impl Store {
    /// A pin's builds, by artifact name, platform, then record.
    pub async fn builds_of_pin(&self, pin_id: i64) -> Result<Vec<BuildRow>> {
        let sql = format!("SELECT {BUILD_COLUMNS} {BUILD_FROM} WHERE b.pin_id = $1 ORDER BY b.name, b.platform, b.id");
        let rows = sqlx::query(&sql).bind(pin_id).fetch_all(&self.pool).await?;
        rows.iter().map(build_from_row).collect()
    }

    /// Every build of an artifact with this hash, on any pin.
    pub async fn builds_by_sha256(&self, sha256: &str) -> Result<Vec<BuildRow>> {
        let sql = format!("SELECT {BUILD_COLUMNS} {BUILD_FROM} WHERE b.sha256 = $1 ORDER BY b.id");
        let rows = sqlx::query(&sql).bind(sha256).fetch_all(&self.pool).await?;
        rows.iter().map(build_from_row).collect()
    }

    pub async fn build(&self, id: i64) -> Result<Option<BuildRow>> {
        let sql = format!("SELECT {BUILD_COLUMNS} {BUILD_FROM} WHERE b.id = $1");
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(build_from_row).transpose()
    }

    /// The artifact names (with platform) of a pin whose builders disagree.
    pub async fn mismatched_artifacts(&self, pin_id: i64) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT name, platform FROM builds WHERE pin_id = $1 GROUP BY name, platform \
             HAVING COUNT(DISTINCT sha256) > 1 ORDER BY name, platform",
        )
        .bind(pin_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }

    /// Every envelope naming an artifact with this hash, oldest first.
    pub async fn attestations_by_sha256(&self, sha256: &str) -> Result<Vec<AttestationRow>> {
        let sql = format!(
            "SELECT {ATTESTATION_COLUMNS} FROM attestations a WHERE a.id IN \
             (SELECT attestation_id FROM attestation_subjects WHERE sha256 = $1) ORDER BY a.id"
        );
        let rows = sqlx::query(&sql).bind(sha256).fetch_all(&self.pool).await?;
        rows.iter().map(attestation_from_row).collect()
    }

    /// A pin's envelopes, oldest first.
    pub async fn attestations_of_pin(&self, pin_id: i64) -> Result<Vec<AttestationRow>> {
        let sql = format!("SELECT {ATTESTATION_COLUMNS} FROM attestations a WHERE a.pin_id = $1 ORDER BY a.id");
        let rows = sqlx::query(&sql).bind(pin_id).fetch_all(&self.pool).await?;
        rows.iter().map(attestation_from_row).collect()
    }
}

pub async fn insert_build(conn: &mut Connection, new: &NewBuild<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO builds (pin_id, name, platform, sha256, size, builder, recorded_by, command, toolchain, notes, \
         started_at, finished_at, recorded_at, uploaded) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
    )
    .bind(new.pin_id)
    .bind(new.name)
    .bind(new.platform)
    .bind(new.sha256)
    .bind(new.size)
    .bind(new.builder)
    .bind(new.recorded_by)
    .bind(new.command)
    .bind(new.toolchain)
    .bind(new.notes)
    .bind(new.started_at)
    .bind(new.finished_at)
    .bind(new.recorded_at)
    .bind(i64::from(new.uploaded))
    .fetch_one(conn)
    .await?)
}

/// An issued envelope to store, with the artifact digests it names.
pub struct NewAttestation<'a> {
    pub pin_id: i64,
    pub build_id: Option<i64>,
    pub kind: &'a str,
    pub envelope: &'a str,
    pub envelope_sha256: &'a str,
    pub subjects: &'a [String],
    pub issued_at: i64,
}

/// Stores an issued envelope and the artifact digests it names.
pub async fn insert_attestation(conn: &mut Connection, new: &NewAttestation<'_>) -> Result<i64> {
    let NewAttestation { pin_id, build_id, kind, envelope, envelope_sha256, subjects, issued_at } = *new;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO attestations (pin_id, build_id, kind, envelope, envelope_sha256, issued_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(pin_id)
    .bind(build_id)
    .bind(kind)
    .bind(envelope)
    .bind(envelope_sha256)
    .bind(issued_at)
    .fetch_one(&mut *conn)
    .await?;
    for subject in subjects {
        sqlx::query("INSERT INTO attestation_subjects (attestation_id, sha256) VALUES ($1, $2)")
            .bind(id)
            .bind(subject)
            .execute(&mut *conn)
            .await?;
    }
    Ok(id)
}
