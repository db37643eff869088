//! What pages and the JSON API show: plain data that crosses the wire.

use super::*;
use serde::{Deserialize, Serialize};

/// What the signed-in person sees about themselves in the page header.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Me {
    pub username: String,
    pub role: Role,
    pub csrf_token: String,
    /// For a reviewer: when their access ends (the latest end of their active grants).
    pub access_ends_ms: Option<i64>,
    /// The server's time when the page was made (for counting down).
    pub now_ms: i64,
    /// For staff and regulators: the log's self-check failed (what and where).
    #[serde(default)]
    pub integrity_alarm: Option<String>,
}

/// A pin as listed to someone who may see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PinSummary {
    pub id: PinId,
    pub repository: String,
    pub label: String,
    pub commit_id: String,
    pub pinned_at_ms: i64,
    /// When the pinned commit was made, if known.
    pub committed_at_ms: Option<i64>,
    pub pinned_by: Option<String>,
    pub withdrawn: bool,
    /// For a reviewer: when their access ends.
    pub access_ends_ms: Option<i64>,
    /// Artifacts whose builders recorded different hashes (shown loudly on every pin page).
    #[serde(default)]
    pub mismatches: Vec<String>,
    /// Take-away policy set by staff: raw downloads refused, copying discouraged (not for staff).
    #[serde(default)]
    pub no_download: bool,
    #[serde(default)]
    pub no_copy: bool,
    /// How much of the history behind the pin its readers see (staff's setting).
    #[serde(default)]
    pub history: crate::model::HistoryPolicy,
    /// What the person looking may do at this pin, as the server's guard decided it; pages offer
    /// only these controls (the server decides again on every request).
    #[serde(default)]
    pub caps: Capabilities,
    /// The paths the person looking may read here, as their grants' patterns (empty: every path).
    #[serde(default)]
    pub scope: Vec<String>,
}

/// What a person may do at a pin now (`server`'s guard decides; pages only show or hide).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Capabilities {
    /// Read its source: files, search, compare.
    pub read_source: bool,
    /// Read its review records: comments, coverage, verdicts, builds.
    pub read_review: bool,
    /// Start a thread: a comment, a finding or a private note.
    pub start_thread: bool,
    /// Reply to a thread, edit one's own comments, move a thread's state.
    pub take_part: bool,
    /// Mark files reviewed.
    pub mark: bool,
    /// Give a verdict.
    pub verdict: bool,
    /// Download raw files (the pin's take-away policy).
    pub download: bool,
    /// Select and copy source (the pin's take-away policy).
    pub copy: bool,
    /// Export review records.
    pub export: bool,
    /// Read its releases, their rules and decisions (staff, regulators, supervisors).
    #[serde(default)]
    pub releases: bool,
    /// Read the commits behind it and blame its files (the pin's history policy).
    #[serde(default)]
    pub history: bool,
    /// Read each of those commits' diffs (the `full` history policy).
    #[serde(default)]
    pub history_diffs: bool,
    /// Read the tool results reviewers imported (its reviewers and staff).
    #[serde(default)]
    pub tool_results: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum EntryKind {
    Directory,
    File,
    Symlink,
    Submodule,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TreeEntry {
    pub name: String,
    pub kind: EntryKind,
    /// Bytes, for files and symlinks.
    pub size: Option<u64>,
}

/// Who is looking, shown over every page of source so that a photo of the screen names its viewer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Watermark {
    pub username: String,
    pub role: Role,
    /// The session's short fingerprint (never the session id).
    pub session: Option<String>,
    pub at_ms: i64,
}

/// A directory listing at a pin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TreeView {
    pub pin: PinSummary,
    pub path: RepoPath,
    pub entries: Vec<TreeEntry>,
    pub watermark: Watermark,
    /// Which entries are compiled into the pin's first artifact with a map.
    #[serde(default)]
    pub compiled: Option<TreeCompiled>,
}

/// How a file's content is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum BlobContent {
    /// One HTML fragment per line; highlighted lines hold `<span class=hk>`-style markup, the rest
    /// escaped text. `notice` explains any part shown without highlighting. `window` says which
    /// lines these are when the file is shown a window at a time (a file past the highlight cap).
    ///
    /// `spliced` is set only on a page the server sends with gzip: `lines` is then empty and the page
    /// carries the marker where the server puts the rows, rendered and compressed once per file.
    Text {
        lines: Vec<String>,
        language: Option<String>,
        notice: Option<FileNotice>,
        window: Option<LineWindow>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        spliced: Option<SplicedRows>,
    },
    /// Binary content: a type guess and the first bytes as a hex dump (already formatted lines).
    Binary { mime: String, hex_preview: Vec<String> },
}

/// Rows the server splices into a file page in place of `marker` (an HTML comment): `lines` rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SplicedRows {
    pub marker: String,
    pub lines: u32,
}

/// The lines of a file shown at once: `first..=last` (1-based) of `total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LineWindow {
    pub first: u32,
    pub last: u32,
    pub total: u32,
}

impl LineWindow {
    /// Lines a window holds.
    pub const LINES: u32 = 4_000;

    /// The window that starts at the window boundary before `line` (windows start at 1, 4001, …),
    /// so that every link to a line lands on one of a few cacheable windows.
    pub fn around(line: u32) -> u32 {
        (line.max(1) - 1) / Self::LINES * Self::LINES + 1
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BlobView {
    pub pin: PinSummary,
    pub path: RepoPath,
    pub blob_id: String,
    pub size: u64,
    pub content: BlobContent,
    /// The directory that holds the file, for the tree beside the code.
    pub siblings: Vec<TreeEntry>,
    pub watermark: Watermark,
    /// The threads on this file, and those carried from other pins where it had the same blob.
    pub threads: Vec<Thread>,
    /// For a reviewer: whether they marked this file reviewed.
    pub reviewed: Option<bool>,
    /// Whether the viewer may start a thread here (a reviewer with a grant).
    pub can_comment: bool,
    /// The anti-forgery token the page's forms and islands send back.
    pub csrf_token: String,
    /// The compiled-code map's marks for this file, when the pin has an artifact with one.
    #[serde(default)]
    pub compiled: Option<FileCompiled>,
    /// Imported tool results placed on this file as a whole (on no line).
    #[serde(default)]
    pub annotations: Vec<super::Annotation>,
    /// Those on its lines (the lines shown, of a long file), as their list: made by the server
    /// and kept while the pin's results do not change.
    #[serde(default)]
    pub results_list: Option<ResultsList>,
}

/// The imported tool results on a file's lines as their list's markup
/// (`routes::blob_results::results_list_html`), and how many it lists.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ResultsList {
    pub count: u32,
    pub html: String,
}

/// One audit event as shown in the UI and the JSON API.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub index: i64,
    pub recorded_at_ms: i64,
    pub actor: Option<String>,
    pub action: String,
    pub pin: Option<i64>,
    pub path: Option<String>,
    pub outcome: String,
    /// The exact leaf bytes, as text (they are UTF-8 JSON).
    pub leaf: String,
    /// Hex SHA-256(0x00 ‖ leaf).
    pub leaf_hash: String,
    /// Every path the event names, in its order without repeats (a search's results name many).
    #[serde(default)]
    pub paths: Vec<String>,
    /// The leaf indented for reading (its hash is over `leaf`, the exact bytes).
    #[serde(default)]
    pub leaf_formatted: String,
}

/// Filters for the audit log view; all optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub pin: Option<i64>,
    pub action: Option<String>,
    pub from_ms: Option<i64>,
    pub until_ms: Option<i64>,
    /// Show events with an index below this one (newest first paging).
    pub before: Option<i64>,
    pub limit: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub log_size: i64,
    /// How many events match the filters (all pages; the log's size without filters).
    #[serde(default)]
    pub matching: i64,
    /// The `before` value for the next (older) page, if any.
    pub next_before: Option<i64>,
}

/// The log's signed head and key, for staff and regulators.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogOverview {
    pub size: u64,
    pub root_hex: String,
    /// The latest checkpoint, a signed note, exactly as served.
    pub checkpoint: String,
    pub verifier_key: String,
    pub fingerprint: String,
    /// The witnesses of the trust policy (empty when none is configured).
    #[serde(default)]
    pub witnesses: Vec<WitnessStatus>,
    /// With a policy: whether the checkpoint shown meets its quorum.
    #[serde(default)]
    pub quorum_met: Option<bool>,
    /// With a policy: the newest checkpoint has gone this long without reaching the quorum.
    #[serde(default)]
    pub quorum_lagging_ms: Option<i64>,
}

/// One witness as the log sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WitnessStatus {
    pub name: String,
    pub url: Option<String>,
    /// The largest checkpoint it cosigned, and its cosignature's time (ms).
    pub cosigned_size: Option<u64>,
    pub cosigned_at_ms: Option<i64>,
    pub last_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserSummary {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub created_at_ms: i64,
    /// Set when the account was disabled.
    #[serde(default)]
    pub disabled_at_ms: Option<i64>,
    /// Whether sign-in asks it for a code (a second factor to reset).
    #[serde(default)]
    pub second_factor: bool,
    /// Its sessions live now, and its API tokens neither revoked nor expired: what disabling ends.
    #[serde(default)]
    pub live_sessions: u64,
    #[serde(default)]
    pub live_tokens: u64,
}

/// An API token as staff see it (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenSummary {
    pub id: i64,
    pub username: String,
    pub scopes: Vec<Scope>,
    pub label: String,
    pub created_at_ms: i64,
    pub expires_at_ms: i64,
    pub revoked_at_ms: Option<i64>,
    /// Neither revoked nor expired.
    pub live: bool,
}

/// A person's own account page: their sessions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AccountPage {
    pub username: String,
    pub role: Role,
    pub sessions: Vec<SessionSummary>,
    /// Whether sign-in asks for a code from an authenticator app.
    pub second_factor: bool,
    /// A second factor being set up: its secret (base32) and `otpauth://` URI, until confirmed.
    pub second_factor_setup: Option<(String, String)>,
    /// The setup link as a QR code (SVG, drawn by the server), while it is set up.
    #[serde(default)]
    pub second_factor_qr_svg: Option<String>,
}

/// One of a person's own sessions, for "your sessions".
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SessionSummary {
    /// A short, non-secret fingerprint (the first 16 hex digits of the id's SHA-256).
    pub fingerprint: String,
    pub started_at_ms: i64,
    pub last_seen_at_ms: i64,
    pub client: String,
    /// The browser and system it signed in from (`Firefox on Linux`), when known.
    #[serde(default)]
    pub agent: String,
    /// The session this request came with.
    pub current: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RepositorySummary {
    pub id: i64,
    pub name: String,
    pub source: String,
    pub imported_at_ms: i64,
    /// While its import job copies it: (objects received, objects in all; 0 until known).
    #[serde(default)]
    pub importing: Option<(u64, u64)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GrantSummary {
    pub id: i64,
    pub reviewer: String,
    pub pin: PinId,
    pub pin_label: String,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    pub granted_by: Option<String>,
    pub revoked_at_ms: Option<i64>,
    /// The path patterns the grant is limited to (empty: the whole tree).
    #[serde(default)]
    pub paths: Vec<String>,
}

/// Everything the staff console shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AdminOverview {
    pub users: Vec<UserSummary>,
    pub repositories: Vec<RepositorySummary>,
    pub pins: Vec<PinSummary>,
    pub grants: Vec<GrantSummary>,
    /// Each pin's pre-highlighting job, if it has one.
    #[serde(default)]
    pub highlighting: Vec<JobStatus>,
    /// Every API token, newest first (never the token itself).
    #[serde(default)]
    pub tokens: Vec<TokenSummary>,
}

/// A background job of a pin (indexing, pre-highlighting, …) and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobStatus {
    pub id: i64,
    pub pin: PinId,
    pub kind: String,
    /// queued, running, done, failed or cancelled.
    pub state: String,
    pub done: u64,
    pub total: u64,
}

/// A reviewer's progress at a pin, for the home page: what they reviewed (or carried from an
/// earlier pin) of the pin's size, and the first file in path order they have not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PinProgress {
    pub pin: PinId,
    pub reviewed: Amount,
    pub total: Amount,
    pub next_unreviewed: Option<String>,
}
