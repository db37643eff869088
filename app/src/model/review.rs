//! The reviewer workflow on the wire: comments, findings and notes with their versions and states,
//! reviewed marks, coverage, and verdicts.

use super::input::{InputError, LineRange, PinId, RepoPath, Role};
use serde::{Deserialize, Serialize};

/// What a comment is: a remark, a finding (it has a severity), or a private note (only its author
/// sees it, and regulators in exports).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CommentKind {
    Comment,
    Finding,
    Note,
}

impl CommentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentKind::Comment => "comment",
            CommentKind::Finding => "finding",
            CommentKind::Note => "note",
        }
    }

    pub fn parse(text: &str) -> Result<CommentKind, InputError> {
        match text {
            "comment" => Ok(CommentKind::Comment),
            "finding" => Ok(CommentKind::Finding),
            "note" => Ok(CommentKind::Note),
            _ => Err(InputError("a kind is comment, finding or note")),
        }
    }
}

/// A weakness of MITRE's CWE list, by id, with its name (empty for an id the server's list lacks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Weakness {
    pub id: u32,
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(text: &str) -> Result<Severity, InputError> {
        match text {
            "info" => Ok(Severity::Info),
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            _ => Err(InputError("a severity is info, low, medium, high or critical")),
        }
    }
}

/// A thread's state. Comments: open, resolved, won't fix, withdrawn. Findings: open, responded
/// (the vendor answered), accepted or disputed (the vendor's position), fixed (verified at a pin),
/// withdrawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ThreadState {
    Open,
    Resolved,
    WontFix,
    Withdrawn,
    Responded,
    Accepted,
    Disputed,
    Fixed,
}

impl ThreadState {
    pub fn as_str(self) -> &'static str {
        match self {
            ThreadState::Open => "open",
            ThreadState::Resolved => "resolved",
            ThreadState::WontFix => "wont_fix",
            ThreadState::Withdrawn => "withdrawn",
            ThreadState::Responded => "responded",
            ThreadState::Accepted => "accepted",
            ThreadState::Disputed => "disputed",
            ThreadState::Fixed => "fixed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ThreadState::Open => "open",
            ThreadState::Resolved => "resolved",
            ThreadState::WontFix => "won't fix",
            ThreadState::Withdrawn => "withdrawn",
            ThreadState::Responded => "vendor responded",
            ThreadState::Accepted => "accepted",
            ThreadState::Disputed => "disputed",
            ThreadState::Fixed => "fixed",
        }
    }

    pub fn parse(text: &str) -> Result<ThreadState, InputError> {
        match text {
            "open" => Ok(ThreadState::Open),
            "resolved" => Ok(ThreadState::Resolved),
            "wont_fix" | "won't fix" => Ok(ThreadState::WontFix),
            "withdrawn" => Ok(ThreadState::Withdrawn),
            "responded" => Ok(ThreadState::Responded),
            "accepted" => Ok(ThreadState::Accepted),
            "disputed" => Ok(ThreadState::Disputed),
            "fixed" => Ok(ThreadState::Fixed),
            _ => Err(InputError("not a known state")),
        }
    }

    /// Whether the thread still asks for attention.
    pub fn is_open(self) -> bool {
        matches!(self, ThreadState::Open | ThreadState::Responded | ThreadState::Accepted | ThreadState::Disputed)
    }
}

/// One version of a comment's text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommentVersion {
    pub version: u32,
    /// The Markdown as typed.
    pub body: String,
    /// The Markdown rendered on the server and sanitised: safe to insert as HTML. Filled for what a
    /// page shows; empty in the JSON API.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub body_html: String,
    pub author: String,
    pub created_at_ms: i64,
}

/// One state change of a thread.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StateChange {
    pub state: ThreadState,
    pub reason: Option<String>,
    pub fixed_pin: Option<PinId>,
    pub by: Option<String>,
    pub at_ms: i64,
}

/// A comment (a thread's first comment, or a reply) with every version, newest last.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommentView {
    pub id: i64,
    pub author: String,
    pub author_role: Role,
    pub created_at_ms: i64,
    pub versions: Vec<CommentVersion>,
    /// Whether the viewer may add a version (its author, while they may take part).
    pub can_edit: bool,
}

impl CommentView {
    pub fn current(&self) -> &CommentVersion {
        self.versions.last().expect("a comment has at least one version")
    }
}

/// A thread: where it is anchored, what it is, its state history, its comments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Thread {
    pub id: i64,
    pub pin: PinId,
    pub pin_label: String,
    /// "" for the whole pin.
    pub path: RepoPath,
    pub lines: Option<LineRange>,
    pub kind: CommentKind,
    pub severity: Option<Severity>,
    /// A finding's CWE ids, with their names.
    #[serde(default)]
    pub cwe: Vec<Weakness>,
    /// The requirement ids the thread's region is tagged with (the pin's requirement list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<String>,
    pub state: ThreadState,
    pub states: Vec<StateChange>,
    pub root: CommentView,
    pub replies: Vec<CommentView>,
    /// Set when the thread was made on another pin whose file has the same blob: shown here, carried.
    pub carried_from: Option<PinId>,
    /// What the viewer may do with it.
    pub can_reply: bool,
    pub allowed_states: Vec<ThreadState>,
    /// For its author, a private note's commitment key (hex): the log binds the note's place and
    /// text by HMAC-SHA256 under it, so the author can later prove what they wrote, and where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commitment_key: Option<String>,
}

/// Filters for a pin's comment list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
pub struct CommentFilter {
    pub path: Option<String>,
    pub state: Option<String>,
    pub severity: Option<String>,
    pub author: Option<String>,
    pub kind: Option<String>,
    /// Findings classified with this CWE id (`79` or `CWE-79`).
    pub cwe: Option<String>,
    /// 1-based page of `COMMENT_PAGE` threads.
    #[cfg_attr(feature = "ssr", param(value_type = Option<u64>, minimum = 0, maximum = 4_294_967_295_u64))]
    pub page: Option<u32>,
}

/// Threads a list page shows at once.
pub const COMMENT_PAGE: usize = 100;

/// A new comment, reply or note.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewComment {
    pub path: String,
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    pub body: String,
    pub severity: Option<String>,
    /// A finding's CWE ids (MITRE's CWE list; a 400 for one it lacks).
    #[serde(default)]
    pub cwe: Vec<u32>,
    /// Requirement ids of the pin's list the region traces to (a 400 for one it lacks); a
    /// thread's, not a reply's or a private note's.
    #[serde(default)]
    pub requirements: Vec<String>,
    #[serde(default)]
    pub private: bool,
    pub reply_to: Option<i64>,
}

/// A pin's comments as a page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommentList {
    pub pin: super::PinSummary,
    pub threads: Vec<Thread>,
    /// Before filtering: the authors to filter by.
    pub authors: Vec<String>,
    /// Threads matching the filter (the page shows `COMMENT_PAGE` of them).
    pub matching: usize,
    pub page: u32,
    pub total: usize,
    pub can_comment: bool,
    pub csrf_token: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    NoObjection,
    Concerns,
    Objection,
}

impl VerdictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictKind::NoObjection => "no_objection",
            VerdictKind::Concerns => "concerns",
            VerdictKind::Objection => "objection",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VerdictKind::NoObjection => "no objection",
            VerdictKind::Concerns => "concerns",
            VerdictKind::Objection => "objection",
        }
    }

    pub fn parse(text: &str) -> Result<VerdictKind, InputError> {
        match text {
            "no_objection" | "no objection" => Ok(VerdictKind::NoObjection),
            "concerns" => Ok(VerdictKind::Concerns),
            "objection" => Ok(VerdictKind::Objection),
            _ => Err(InputError("a verdict is no_objection, concerns or objection")),
        }
    }
}

/// A finding as a verdict records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FindingSummary {
    pub id: i64,
    pub severity: Severity,
    pub state: ThreadState,
    pub path: String,
}

/// A binary recorded for the pin when the verdict was given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BinaryRef {
    pub name: String,
    pub sha256: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VerdictView {
    pub id: i64,
    pub reviewer: String,
    pub verdict: VerdictKind,
    pub summary: String,
    pub commit_id: String,
    pub coverage: super::ReviewerCoverageFigures,
    pub open_findings: Vec<FindingSummary>,
    pub binaries: Vec<BinaryRef>,
    pub supersedes: Option<i64>,
    /// Whether a later verdict by the same reviewer replaced this one.
    pub superseded: bool,
    pub created_at_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VerdictPage {
    pub pin: super::PinSummary,
    pub verdicts: Vec<VerdictView>,
    pub can_submit: bool,
    /// What a verdict given now would record (for the form).
    pub open_findings: Vec<FindingSummary>,
    pub binaries: Vec<BinaryRef>,
    pub csrf_token: String,
}

/// The reviewer's home: their pins and their own recent threads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HomePage {
    pub pins: Vec<super::PinSummary>,
    pub my_threads: Vec<Thread>,
}
