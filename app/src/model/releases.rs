//! Releases and what they are held to: a repository's release policy.

use super::Severity;
use serde::{Deserialize, Serialize};

/// The rules a release must meet before supervisors may sign it, and how many of which
/// supervisors must (parsed and checked by the server; `docs/releases.md`). A rule not set is
/// `None` (or 0, `false`) and asks nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleasePolicy {
    /// Distinct builder accounts whose recorded build of each artifact has its hash.
    pub reproduced_by: u32,
    /// One of those builds must be the room's own.
    pub reproduced_in_room: bool,
    /// At least this many "no objection" verdicts, and no "objection".
    pub verdicts_no_objection: Option<u32>,
    /// No open finding at or above this severity.
    pub max_open_findings_at: Option<Severity>,
    /// Reviewed lines of each artifact's compiled code, in whole percent of its compiled lines.
    pub compiled_reviewed_percent: Option<u32>,
    /// Whether the public log's entries name the reviewers whose verdicts count.
    pub reviewer_names_public: bool,
    pub supervisors: Supervisors,
}

/// `quorum` of `names` (sorted, distinct) must sign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Supervisors {
    pub quorum: u32,
    pub names: Vec<String>,
}

/// A repository's release policy as set: its canonical JSON (`docs/releases.md`) and digest, the
/// document as written, who set it and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleasePolicyView {
    pub repository: String,
    pub policy: ReleasePolicy,
    /// SHA-256 of the canonical JSON, hex.
    pub sha256: String,
    /// The document as staff wrote it (TOML or JSON).
    pub written: String,
    pub set_by: Option<String>,
    pub set_at_ms: i64,
}
