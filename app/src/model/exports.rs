//! Regulator exports as the UI and the API show them.

use serde::{Deserialize, Serialize};

/// What a regulator asks to export. Times are RFC 3339 (or `YYYY-MM-DDTHH:MM`, UTC).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExportRequest {
    #[serde(default)]
    pub pins: Vec<i64>,
    #[serde(default)]
    pub reviewer: Option<String>,
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    /// The last checkpoint the regulator holds (a signed note): the bundle proves the log extends it.
    #[serde(default)]
    pub previous_checkpoint: Option<String>,
}

/// An export and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExportStatus {
    pub id: i64,
    /// queued, running, done, failed, cancelled or expired.
    pub state: String,
    pub created_by: Option<String>,
    /// The scope in words ("pins 1, 2; reviewer alice; from …").
    pub scope: String,
    pub done: u64,
    pub total: u64,
    pub events: Option<u64>,
    pub size: Option<u64>,
    pub sha256: Option<String>,
    pub message: Option<String>,
    pub created_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub expires_at_ms: Option<i64>,
    /// Whether the caller may download it now.
    pub downloadable: bool,
}

/// What an export of a scope would hold, before it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExportEstimate {
    pub events: u64,
    /// A rough size of the bundle, in bytes.
    pub bytes: u64,
}

/// The `/exports` page: the pins and reviewers to choose from, and the caller's exports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ExportsPage {
    pub pins: Vec<(i64, String)>,
    pub reviewers: Vec<String>,
    pub exports: Vec<ExportStatus>,
    pub retention_hours: u64,
}
