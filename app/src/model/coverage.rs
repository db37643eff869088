//! Coverage on the wire: what of a pin each reviewer was shown and marked reviewed, in files and
//! lines, of every file and of each artifact's compiled lines; the coverage page; the figures a
//! verdict keeps.

use super::input::PinId;
use serde::{Deserialize, Serialize};

/// Files and lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Amount {
    pub files: u64,
    pub lines: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum FileCoverage {
    /// Neither shown nor reviewed.
    None,
    /// Shown to the reviewer (by the audit log), not marked reviewed.
    Shown,
    /// Marked reviewed at this pin.
    Reviewed,
    /// Identical (same blob) to a file the reviewer marked reviewed at an earlier pin.
    Carried,
}

impl FileCoverage {
    pub fn as_str(self) -> &'static str {
        match self {
            FileCoverage::None => "none",
            FileCoverage::Shown => "shown",
            FileCoverage::Reviewed => "reviewed",
            FileCoverage::Carried => "carried",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FileState {
    pub path: String,
    pub state: FileCoverage,
    /// For a carried file: the pin where it was marked reviewed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carried_from: Option<PinId>,
}

/// One reviewer's coverage of a pin (or all reviewers together).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReviewerCoverage {
    pub username: String,
    pub shown: Amount,
    pub reviewed: Amount,
    pub carried: Amount,
    pub files: Vec<FileState>,
    /// Of each artifact's compiled lines (its compiled-code map), how many were shown and how
    /// many are in files reviewed (or carried).
    #[serde(default)]
    pub compiled: Vec<CompiledCoverage>,
}

/// Coverage of the lines compiled into one artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompiledCoverage {
    /// The artifact's name.
    pub artifact: String,
    pub sha256: String,
    /// Lines of the pin's files with code in the artifact.
    pub lines: u64,
    /// Of those, lines shown to the reviewer.
    pub shown: u64,
    /// Of those, lines in files the reviewer marked reviewed (or carried).
    pub reviewed: u64,
}

/// Coverage of a pin: its size and each reviewer's figures the caller may see.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CoverageReport {
    pub total: Amount,
    pub reviewers: Vec<ReviewerCoverage>,
    /// Every reviewer together (a file counts at its best state among them).
    pub combined: ReviewerCoverage,
    /// Whether the pin's file index is complete; until then figures are partial.
    pub indexed: bool,
    pub index_progress: Option<(u64, u64)>,
}

/// The coverage page: the report, the directory table, and the treemap picture for one view.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CoveragePage {
    pub pin: super::PinSummary,
    pub report: CoverageReport,
    /// Whose picture is shown: a username, or None for everyone together.
    pub selected: Option<String>,
    /// The treemap, SVG rendered on the server (already safe markup).
    pub svg: String,
    pub directories: Vec<DirectoryCoverage>,
    /// The artifact whose compiled lines the picture shows (none: every file).
    #[serde(default)]
    pub compiled: Option<super::CompiledArtifact>,
    /// The pin's artifacts with a compiled-code map, to choose from.
    #[serde(default)]
    pub artifacts: Vec<super::CompiledArtifact>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DirectoryCoverage {
    pub path: String,
    pub total: Amount,
    /// Files shown, and the lines of them shown (the rule of `ReviewerCoverage::shown`).
    pub shown: Amount,
    /// Files reviewed or carried.
    pub reviewed: Amount,
}

/// The figures a verdict keeps (not the file list).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReviewerCoverageFigures {
    pub total: Amount,
    pub shown: Amount,
    pub reviewed: Amount,
    pub carried: Amount,
}
