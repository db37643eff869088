//! History between pins and blame: what staff let reviewers see of the commits behind a pin
//! (`HistoryPolicy`), and what the history and blame pages and the API show.

use super::compare::{ChangedFileView, Hunk};
use super::input::{InputError, RepoPath};
use super::notices::DiffNotice;
use super::views::{PinSummary, Watermark};
use serde::{Deserialize, Serialize};

/// How much of the history behind a pin its readers see, set by staff per pin. Ordered: each level
/// shows what the one before does, and more.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HistoryPolicy {
    /// No history: the pinned tree alone (the default).
    #[default]
    Off,
    /// Commits between pins with their messages, authors and dates, and blame.
    Messages,
    /// As `messages`, and each commit's changed files and diffs.
    Full,
}

impl HistoryPolicy {
    pub const ALL: [HistoryPolicy; 3] = [HistoryPolicy::Off, HistoryPolicy::Messages, HistoryPolicy::Full];

    pub fn as_str(self) -> &'static str {
        match self {
            HistoryPolicy::Off => "off",
            HistoryPolicy::Messages => "messages",
            HistoryPolicy::Full => "full",
        }
    }

    pub fn parse(text: &str) -> Result<HistoryPolicy, InputError> {
        HistoryPolicy::ALL
            .into_iter()
            .find(|policy| policy.as_str() == text.trim())
            .ok_or(InputError("the history policy is one of off, messages, full"))
    }
}

/// A person or a signature's name, address and time, as git records it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommitPerson {
    pub name: String,
    pub email: String,
    /// Seconds since the epoch times 1,000.
    pub at_ms: i64,
    /// The time zone offset it was recorded with, in minutes east of UTC.
    pub offset_minutes: i32,
}

/// One commit of a pin's history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommitView {
    pub id: String,
    pub parents: Vec<String>,
    /// The message's first line.
    pub summary: String,
    /// The whole message.
    pub message: String,
    pub author: CommitPerson,
    pub committer: CommitPerson,
    /// With the `full` policy: the files changed from its first parent (as a comparison lists them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub files: Option<Vec<ChangedFileView>>,
}

/// The first-parent commits between two pins of one repository, newest first, a page at a time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HistoryView {
    pub a: PinSummary,
    pub b: PinSummary,
    /// The level both pins allow (the lower of the two; staff see `full`).
    pub policy: HistoryPolicy,
    pub commits: Vec<CommitView>,
    /// Every first-parent commit in `a..b`.
    pub total: usize,
    pub page: u32,
    pub pages: u32,
}

/// One changed file of a commit, with its diff against the commit's first parent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommitFileDiff {
    pub file: ChangedFileView,
    pub hunks: Vec<Hunk>,
    /// Why no hunks are shown (a binary file, one over the diff cap).
    pub notice: Option<DiffNotice>,
    /// The file's diff was not read: the commit changes more files than a page shows.
    #[serde(default)]
    pub omitted: bool,
}

/// One commit between two pins with each changed file's diff (the `full` policy).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommitDiffView {
    pub a: PinSummary,
    pub b: PinSummary,
    pub commit: CommitView,
    pub files: Vec<CommitFileDiff>,
    pub watermark: Watermark,
}

/// A run of lines last changed by one commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BlameHunk {
    pub commit: String,
    /// The first line of the run in the pinned file, 1-based.
    pub first: u32,
    pub lines: u32,
    /// Where the run came from in that commit (a file renamed since has another path).
    pub original_path: String,
    pub original_first: u32,
}

/// Who last changed each line of a file at a pin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BlameView {
    pub pin: PinSummary,
    pub path: RepoPath,
    pub blob_id: String,
    pub hunks: Vec<BlameHunk>,
    /// The commits the hunks name, each once (no `files`).
    pub commits: Vec<CommitView>,
    /// The file's lines as HTML, highlighted as the file view shows them.
    pub lines: Vec<String>,
    pub watermark: Watermark,
}
