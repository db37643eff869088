//! The `Backend` trait: everything the UI's server functions may ask of the domain.
//!
//! `app` declares it and `server` implements it, so that this crate never names a database, git or
//! password crate. Every method takes the `Caller` and the implementation checks role and grant
//! itself: the UI never decides who may see what.

use crate::error::AppResult;
use crate::model::*;
use std::any::Any;
use std::sync::{Arc, Mutex};

/// What the server's page layer attaches to a file page's request: a marker no page text can
/// contain (an HTML comment with a random name; every text a page shows is escaped) and a place for
/// the file's rows. The backend leaves the rows here and the marker in the content; the layer puts
/// the rows where the marker is, already compressed.
#[derive(Clone)]
pub struct RowsSlot {
    pub marker: String,
    rows: Arc<Mutex<Option<Arc<dyn Any + Send + Sync>>>>,
}

impl RowsSlot {
    pub fn new(marker: String) -> RowsSlot {
        RowsSlot { marker, rows: Default::default() }
    }

    pub fn put(&self, rows: Arc<dyn Any + Send + Sync>) {
        if let Ok(mut slot) = self.rows.lock() {
            *slot = Some(rows);
        }
    }

    pub fn take(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        self.rows.lock().ok().and_then(|mut slot| slot.take())
    }
}

#[async_trait::async_trait]
pub trait Backend: Send + Sync + 'static {
    /// The signed-in person, or `Unauthorized`.
    async fn me(&self, caller: &Caller) -> AppResult<Me>;
    /// The pins the caller may browse now (a reviewer: those with an active grant).
    async fn list_pins(&self, caller: &Caller) -> AppResult<Vec<PinSummary>>;
    /// A reviewer's progress at each pin they may mark (empty for other roles); viewing a pin's
    /// coverage is recorded, as on its coverage page.
    async fn my_progress(&self, caller: &Caller) -> AppResult<Vec<PinProgress>>;
    /// A pin as its source pages show it in the pin bar (no source, so no event): for a page that
    /// has nothing else to show yet, such as a search not yet made or refused.
    async fn pin_summary(&self, caller: &Caller, pin: PinId) -> AppResult<PinSummary>;
    /// A directory listing; records a `tree.view` event before any entry is read.
    async fn open_tree(&self, caller: &Caller, pin: PinId, path: RepoPath) -> AppResult<TreeView>;
    /// A file, highlighted; records a `blob.view` event before any byte is read. A file shown in
    /// windows is shown from the window holding line `from` (the first when `None`). Given `rows`
    /// (a file page sent with gzip), the backend may leave the rows there, rendered and compressed
    /// once, and name the slot's marker in the content instead of the lines. `artifact` chooses
    /// whose compiled-code map marks the lines (the pin's first artifact with one otherwise).
    async fn open_blob(
        &self,
        caller: &Caller,
        pin: PinId,
        path: RepoPath,
        from: Option<u32>,
        artifact: Option<Sha256Hex>,
        rows: Option<RowsSlot>,
    ) -> AppResult<BlobView>;
    /// The audit log, newest first (staff and regulators).
    async fn audit_log(&self, caller: &Caller, query: AuditQuery) -> AppResult<AuditPage>;
    /// The latest signed checkpoint and the verifier key (staff and regulators).
    async fn log_overview(&self, caller: &Caller) -> AppResult<LogOverview>;
    /// The caller's own account: their live sessions.
    async fn account_page(&self, caller: &Caller) -> AppResult<AccountPage>;
    /// Users, repositories, pins and grants (staff).
    async fn admin_overview(&self, caller: &Caller) -> AppResult<AdminOverview>;
    /// The threads the caller started, newest first (a reviewer's home page).
    async fn my_threads(&self, caller: &Caller) -> AppResult<Vec<Thread>>;
    /// A pin's threads, filtered, one page of them.
    async fn pin_comments(&self, caller: &Caller, pin: PinId, filter: CommentFilter) -> AppResult<CommentList>;
    /// A pin's coverage with its picture for one reviewer (or everyone).
    /// `compiled`: the picture of the lines compiled into that artifact rather than every file.
    async fn coverage_page(
        &self,
        caller: &Caller,
        pin: PinId,
        selected: Option<String>,
        compiled: Option<Sha256Hex>,
    ) -> AppResult<CoveragePage>;
    /// A pin's builds by artifact, and whether independent builders agree.
    async fn builds(&self, caller: &Caller, pin: PinId) -> AppResult<BuildsPage>;
    /// A room build of a pin, with the start of its log.
    async fn room_build(&self, caller: &Caller, pin: PinId, id: i64) -> AppResult<RoomBuildPage>;
    /// diffoscope's report on two builds of a pin's artifact that differ.
    async fn build_diff(&self, caller: &Caller, pin: PinId, id: i64) -> AppResult<DiffPage>;
    /// What a file with this SHA-256 was built from, and how that pin was reviewed.
    async fn lookup_artifact(&self, caller: &Caller, sha256: Sha256Hex) -> AppResult<ArtifactLookup>;
    /// The authorised releases in the public log, and the entries naming a file's hash (anyone).
    async fn public_releases(&self, sha256: Option<Sha256Hex>) -> AppResult<PublicReleases>;
    /// The releases still open, for the home page of who may read them.
    async fn open_releases(&self, caller: &Caller) -> AppResult<Vec<OpenRelease>>;
    /// A pin's releases, their rules and decisions, and the forms the viewer may use.
    async fn pin_releases(&self, caller: &Caller, pin: PinId) -> AppResult<PinReleasesPage>;
    /// A pin's verdicts and the verdict form's facts.
    async fn verdicts(&self, caller: &Caller, pin: PinId) -> AppResult<VerdictPage>;
    /// The files changed from pin `a` to pin `b` (one page of them).
    async fn compare(&self, caller: &Caller, a: PinId, b: PinId, filter: CompareFilter) -> AppResult<CompareView>;
    /// One file's diff from `a` (at `old_path` for a rename) to `b`.
    #[allow(clippy::too_many_arguments)]
    async fn file_diff(
        &self,
        caller: &Caller,
        a: PinId,
        b: PinId,
        path: RepoPath,
        old_path: Option<RepoPath>,
        layout: DiffLayout,
        context: Option<u32>,
        rows: u32,
    ) -> AppResult<DiffView>;
    /// The first-parent commits from pin `a` to pin `b` (a page of them), as the pins' history
    /// policy shows them.
    async fn history(&self, caller: &Caller, a: PinId, b: PinId, page: Option<u32>) -> AppResult<HistoryView>;
    /// One commit between pins `a` and `b` with its diffs (the `full` history policy).
    async fn history_commit(&self, caller: &Caller, a: PinId, b: PinId, commit: String) -> AppResult<CommitDiffView>;
    /// A pin's imported tool logs, with counts by triage state.
    async fn sarif_logs(&self, caller: &Caller, pin: PinId) -> AppResult<SarifLogsPage>;
    /// One imported log's results, filtered and paged.
    async fn sarif_results(
        &self,
        caller: &Caller,
        pin: PinId,
        log: i64,
        filter: SarifFilter,
    ) -> AppResult<SarifResults>;
    /// Each requirement of a pin's list with the code traced to it.
    async fn traceability(&self, caller: &Caller, pin: PinId) -> AppResult<Traceability>;
    /// Who last changed each line of a file at a pin.
    async fn blame(&self, caller: &Caller, pin: PinId, path: RepoPath) -> AppResult<BlameView>;
    /// Searches a pin (one page of files with hits).
    async fn search(&self, caller: &Caller, pin: PinId, query: SearchQuery) -> AppResult<SearchView>;
    /// The pin's files whose paths match fuzzily.
    async fn find_files(&self, caller: &Caller, pin: PinId, query: String) -> AppResult<Vec<FoundFile>>;
    /// Where a symbol is defined and used at a pin.
    async fn symbol(&self, caller: &Caller, pin: PinId, name: String) -> AppResult<SymbolView>;
    /// The `/exports` page: what may be chosen, and the caller's exports (staff: everyone's).
    async fn exports_page(&self, caller: &Caller) -> AppResult<ExportsPage>;
    /// What an export of a scope would hold.
    async fn estimate_export(&self, caller: &Caller, request: ExportRequest) -> AppResult<ExportEstimate>;
}
