//! Requirements traced to code: a pin's requirement list (a security target's functional
//! requirements), the regions reviewers tagged with each, their review state, the findings
//! against each and the verdicts' notes on it.

use super::{CommentKind, LineRange, PinSummary, RepoPath, Severity, ThreadState};
use serde::{Deserialize, Serialize};

/// What an import stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequirementsImported {
    /// The list's id: the pin's list from now on.
    pub list: i64,
    pub requirements: u64,
    /// The SHA-256 of the list's canonical form, which its `requirements.import` event records.
    pub sha256: String,
}

/// The list a pin's traceability is of.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequirementList {
    pub id: i64,
    pub requirements: u64,
    pub sha256: String,
    /// Who imported it (none from the command line).
    pub imported_by: Option<String>,
    pub imported_at_ms: i64,
}

/// A region of code traced to a requirement: a thread tagged with its id.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TracedRegion {
    pub thread: i64,
    /// "" for the whole pin.
    pub path: RepoPath,
    pub lines: Option<LineRange>,
    pub kind: CommentKind,
    pub severity: Option<Severity>,
    pub state: ThreadState,
    pub author: String,
    /// The thread's first line of text.
    pub summary: String,
    /// Reviewers shown all of the region (the whole file, or windows of lines covering it).
    pub shown_by: Vec<String>,
    /// Reviewers whose last mark of the file is "reviewed".
    pub reviewed_by: Vec<String>,
}

/// A line of a verdict's summary that names the requirement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VerdictNote {
    pub verdict: i64,
    pub reviewer: String,
    /// `pass`, `fail`, ….
    pub outcome: String,
    pub note: String,
    pub at_ms: i64,
}

/// One requirement with what traces to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequirementTrace {
    pub id: String,
    pub title: String,
    pub text: String,
    pub regions: Vec<TracedRegion>,
    /// Findings among the regions, and those of them still open.
    pub findings: u64,
    pub open_findings: u64,
    pub verdict_notes: Vec<VerdictNote>,
}

impl RequirementTrace {
    pub fn traced(&self) -> bool {
        !self.regions.is_empty()
    }
}

/// `/pins/{pin}/traceability`: untraced requirements first, then the rest, each in the list's order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Traceability {
    pub pin: PinSummary,
    /// None until staff import a list for the pin.
    pub list: Option<RequirementList>,
    pub requirements: Vec<RequirementTrace>,
    pub traced: u64,
    pub untraced: u64,
    /// Whether the reader may import a new list (staff).
    pub can_import: bool,
    /// The anti-forgery token the page's import form carries.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub csrf_token: String,
}
