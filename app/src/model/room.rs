//! Room builds: the recipe a pin is built with in the centre, each build the room ran, and the
//! diffoscope reports on artifacts whose builders disagree.

use super::PinSummary;
use serde::{Deserialize, Serialize};

/// A pin's recipe as staff set it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RecipeView {
    pub pin: i64,
    /// The recipe's canonical JSON (keys sorted, every default written out).
    pub recipe: String,
    /// SHA-256 of the canonical JSON, hex.
    pub digest: String,
    /// The toolchain's digest (`sha256:…` for a root directory, `dpkg-status-sha256:…` for the host).
    pub toolchain_digest: String,
    /// The account that set it ("operator" for the command line).
    pub set_by: String,
    pub set_at_ms: i64,
}

/// One output of a finished room build.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RoomOutput {
    pub artifact: String,
    pub platform: String,
    pub path: String,
    pub sha256: String,
    pub size: u64,
    /// The build record the room wrote for it.
    pub build_id: i64,
}

/// One build the room ran (or will run) for a pin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RoomBuildView {
    pub id: i64,
    pub pin: i64,
    /// `queued`, `running`, `done` or `failed`.
    pub state: String,
    /// Why it failed: an exit status, `timeout`, a limit, a missing output.
    pub reason: Option<String>,
    pub recipe_digest: String,
    pub recipe_name: String,
    pub toolchain_digest: Option<String>,
    pub requested_by: String,
    pub created_at_ms: i64,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    /// The wall-time limit, in seconds (for a running build's progress).
    pub wall_seconds: u64,
    pub attempts: i64,
    pub log_sha256: Option<String>,
    pub log_bytes: Option<u64>,
    pub outputs: Vec<RoomOutput>,
}

/// A part of a room build's log, from a byte offset.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BuildLogPart {
    pub state: String,
    pub reason: Option<String>,
    /// Where this part starts, and where the next starts.
    pub from: u64,
    pub next: u64,
    /// The log's text from `from` (invalid UTF-8 replaced).
    pub text: String,
    /// Seconds since the build started (while it runs), or that it took.
    pub elapsed_seconds: Option<u64>,
}

/// The room's part of a pin's builds page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RoomSection {
    pub recipe: Option<RecipeView>,
    /// The recipe as TOML, for the form (staff).
    pub recipe_toml: String,
    /// The room's builds of the pin, newest first.
    pub builds: Vec<RoomBuildView>,
    /// Whether the viewer may set the recipe and start builds (staff).
    pub can_run: bool,
    /// Why the room cannot build on this server (a tool missing), said before anyone tries.
    pub unavailable: Option<String>,
    /// The artifacts whose builders disagree, with their reports.
    pub mismatches: Vec<Mismatch>,
}

/// A room build's own page: the build, its pin, and whether it may still change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RoomBuildPage {
    pub pin: PinSummary,
    pub build: RoomBuildView,
    /// The log so far (up to a part; the page's script follows it from `log.next`).
    pub log: BuildLogPart,
}

/// One record of a mismatched artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MismatchRecord {
    pub id: i64,
    pub account: String,
    pub sha256: String,
    /// Whether the artifact is kept (uploaded, or built in the room).
    pub stored: bool,
}

/// The report on a mismatch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MismatchDiff {
    /// `queued`, `running`, `done`, `failed`, or `unavailable` (an artifact is not kept).
    pub state: String,
    pub id: Option<i64>,
    pub reason: Option<String>,
    /// The SHA-256 of diffoscope's JSON report, when done (the API sends the report itself).
    pub report_sha256: Option<String>,
}

/// An artifact whose builders disagree, and the report that explains it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Mismatch {
    pub name: String,
    pub platform: String,
    pub records: Vec<MismatchRecord>,
    pub diff: MismatchDiff,
}

/// One node of a diffoscope report: two sources, their comments, a unified diff, and the
/// differences found inside them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiffNode {
    pub source1: String,
    pub source2: String,
    pub comments: Vec<String>,
    pub unified_diff: Option<String>,
    #[cfg_attr(feature = "ssr", schema(no_recursion))]
    pub details: Vec<DiffNode>,
}

/// The page of one report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiffPage {
    pub pin: PinSummary,
    pub id: i64,
    pub name: String,
    pub platform: String,
    pub sha256_a: String,
    pub sha256_b: String,
    /// The accounts that recorded each side.
    pub accounts_a: Vec<String>,
    pub accounts_b: Vec<String>,
    pub state: String,
    pub reason: Option<String>,
    /// Whether a limit cut the report (diffoscope's, or the size the server keeps).
    pub cut: bool,
    pub report_sha256: Option<String>,
    pub has_html: bool,
    pub tree: Option<DiffNode>,
}
