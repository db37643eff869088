//! Comparing pins, searching a pin, finding files and symbols: what pages and the API show.

use super::input::{PinId, RepoPath};
use super::notices::DiffNotice;
use super::views::{LineWindow, PinSummary, Watermark};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    Added,
    Deleted,
    Modified,
    Renamed,
    /// Only the file mode changed (for example, made executable).
    ModeChanged,
    /// A file became a symlink or the other way round.
    TypeChanged,
}

impl ChangeStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeStatus::Added => "added",
            ChangeStatus::Deleted => "deleted",
            ChangeStatus::Modified => "modified",
            ChangeStatus::Renamed => "renamed",
            ChangeStatus::ModeChanged => "mode_changed",
            ChangeStatus::TypeChanged => "type_changed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChangeStatus::Added => "added",
            ChangeStatus::Deleted => "deleted",
            ChangeStatus::Modified => "modified",
            ChangeStatus::Renamed => "renamed",
            ChangeStatus::ModeChanged => "mode changed",
            ChangeStatus::TypeChanged => "type changed",
        }
    }
}

/// A changed file as the list shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChangedFileView {
    pub path: String,
    pub old_path: Option<String>,
    pub status: ChangeStatus,
    pub similarity: Option<u32>,
    pub additions: u64,
    pub deletions: u64,
    pub binary: bool,
    /// Octal modes, when they differ.
    pub mode_change: Option<(String, String)>,
}

/// Which files of a comparison to list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompareFilter {
    /// Paths containing this text (case-insensitive).
    pub filter: Option<String>,
    /// 1-based page.
    pub page: Option<u32>,
}

/// Changed files a list page shows at once (the API shows `COMPARE_API_PAGE`).
pub const COMPARE_PAGE: usize = 300;
pub const COMPARE_API_PAGE: usize = 1000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompareView {
    /// The older pin and the newer one.
    pub a: PinSummary,
    pub b: PinSummary,
    pub files: Vec<ChangedFileView>,
    /// Every changed file (before the filter), and their line totals.
    pub total_files: usize,
    pub total_additions: u64,
    pub total_deletions: u64,
    /// Files matching the filter; this page shows some of them.
    pub matching: usize,
    pub page: u32,
    pub pages: u32,
    pub watermark: Watermark,
}

/// How a file diff is laid out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DiffLayout {
    #[default]
    Unified,
    Split,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum DiffLineKind {
    Context,
    Added,
    Removed,
}

/// One line of a diff: its numbers on each side and its highlighted HTML (intra-line changes in
/// `<mark>`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiffLine {
    pub kind: DiffLineKind,
    pub old: Option<u32>,
    pub new: Option<u32>,
    pub html: String,
    /// The line's plain text (the API's diff; the page has the HTML and leaves it empty).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
}

/// A run of changed lines with their context.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Hunk {
    pub old_start: u32,
    pub old_lines: u32,
    pub new_start: u32,
    pub new_lines: u32,
    pub lines: Vec<DiffLine>,
}

/// One side of a file diff.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiffSideView {
    pub path: String,
    pub blob_id: String,
    pub size: u64,
    pub binary: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiffView {
    pub a: PinSummary,
    pub b: PinSummary,
    pub path: RepoPath,
    pub old: Option<DiffSideView>,
    pub new: Option<DiffSideView>,
    pub hunks: Vec<Hunk>,
    /// For a long diff, the rows (lines of every hunk, counted from 1) this page shows.
    pub rows: Option<LineWindow>,
    /// Why the lines are not shown (binary, over the size cap), if they are not.
    pub notice: Option<DiffNotice>,
    pub layout: DiffLayout,
    /// Lines of context around each change; `None` for the whole file.
    pub context: Option<u32>,
    pub watermark: Watermark,
    pub csrf_token: String,
    /// Whether the viewer may comment on the newer pin.
    pub can_comment: bool,
    /// For a reviewer: whether they marked the newer pin's file reviewed (`None`: no mark to make).
    #[serde(default)]
    pub reviewed: Option<bool>,
    /// The changed files before and after this one in the comparison's list, and this one's place
    /// in it (1-based) of how many: for "previous file" and "next file".
    #[serde(default)]
    pub previous: Option<ChangedFileView>,
    #[serde(default)]
    pub next: Option<ChangedFileView>,
    #[serde(default)]
    pub position: Option<(u32, u32)>,
}

/// What a search asks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchQuery {
    pub q: String,
    /// A regular expression (the `regex` crate's syntax) rather than literal text.
    #[serde(default)]
    pub regex: bool,
    /// Letter case must match.
    #[serde(default)]
    pub case: bool,
    /// A regular expression's match may run across lines (by default a line matches as with
    /// grep: by what lies within it).
    #[serde(default)]
    pub multiline: bool,
    /// A glob the paths must match (`src/**/*.rs`).
    pub path: Option<String>,
    /// Where the page starts: the opaque `next` of the page before (`None`: the first page).
    pub cursor: Option<String>,
    /// Up to `SEARCH_ALL_LINES` matching lines a file instead of `SEARCH_LINES` (`lines=all`: a
    /// file's "and N more" link, with the file's path as the glob).
    #[serde(default)]
    pub all_lines: bool,
}

/// Matching lines shown per file.
pub const SEARCH_LINES: usize = 20;
/// Matching lines shown per file when all are asked for.
pub const SEARCH_ALL_LINES: usize = 2_000;

/// A path as a glob that matches it alone (its glob characters escaped).
pub fn exact_glob(path: &str) -> String {
    let mut glob = String::with_capacity(path.len() + 8);
    for c in path.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}' | '\\' | '!') {
            glob.push('\\');
        }
        glob.push(c);
    }
    glob
}

/// Files with hits per search page.
pub const SEARCH_PAGE: usize = 25;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MatchLine {
    pub line: u32,
    /// The line's text (escaped by whoever renders it).
    pub text: String,
    /// Byte ranges of the matches in `text`; empty for a line of context.
    pub matches: Vec<(usize, usize)>,
    /// The line as the file view highlights it, with its matches marked (the server's own markup:
    /// escaped text in spans of its classes), when the file's highlighting is at hand.
    #[serde(default)]
    pub html: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FileMatches {
    pub path: String,
    pub lines: Vec<MatchLine>,
    /// Matching lines beyond those shown (a link shows them).
    pub more_lines: u64,
    /// The next page goes on with this file, from the line after its last shown.
    pub continues: bool,
}

/// Every matching file and line of a search.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchTotals {
    pub files: u64,
    pub lines: u64,
    /// Every file was searched; `false`: the time budget ran out, and these are "at least".
    pub exact: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SearchView {
    pub pin: PinSummary,
    pub query: SearchQuery,
    pub results: Vec<FileMatches>,
    /// The search stopped at its time budget: these are the hits found until then (the next
    /// page goes on from where it stopped).
    pub truncated: bool,
    /// Where the next page starts, if there is more.
    pub next: Option<String>,
    /// Every matching file and line of the search (the same on each of its pages).
    pub totals: SearchTotals,
    pub files_searched: u64,
    pub elapsed_ms: u64,
    pub watermark: Watermark,
}

/// A file the finder offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FoundFile {
    pub path: String,
    /// Character positions in `path` that matched the query (for highlighting).
    pub positions: Vec<u32>,
}

/// Where a symbol is defined.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SymbolSite {
    pub path: String,
    pub line: u32,
    /// What defines it: `function`, `type`, …
    pub kind: String,
    /// The line's text.
    pub text: String,
}

/// A symbol's likely definitions and its references in the pin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SymbolView {
    pub pin: PinId,
    pub name: String,
    pub definitions: Vec<SymbolSite>,
    pub references: Vec<SymbolSite>,
    /// Whether the pin's symbols are still being extracted.
    pub indexing: bool,
}
