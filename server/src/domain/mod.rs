//! The domain: every operation a person, the operator or the server's own jobs perform. A small
//! core — the guard (`guard`: who acts and what they may do, the only place authorisation is
//! decided) and the audited write and read (`audited`) — and one module per area. The `Backend`
//! the UI declares is implemented here as one-line delegations.
//!
//! The domain orchestrates: SQL is in `store`, git in `source`, the log in `audit`. Its fields are
//! private; HTTP and the command line call its operations.

mod access;
mod admin;
mod attestations;
mod audited;
mod browse;
pub mod builds;
mod caches;
mod compare;
pub mod compiled;
mod core;
mod coverage;
pub mod error;
pub mod exports;
pub mod guard;
mod history;
pub mod integrity;
pub mod jobs;
mod log;
pub mod releases;
mod requirements;
mod review;
pub mod room;
pub mod sarif;
mod sealing;
pub mod search;
mod sessions;
mod threads;
pub mod transparency;

use crate::audit::note::NoteSigner;
use crate::clock::Clock;
use crate::source::Source;
use crate::store::Store;
use app::backend::Backend;
use app::error::AppResult;
use app::model::*;
use std::sync::Arc;

pub use self::core::*;
pub use access::TokenRequest;
pub use admin::parse_repository_name;
pub use guard::{Actor, SessionData};
pub use sessions::{Resumed, SignIn};

/// The domain's façade: the core (`Core`, which it dereferences to) and, through it, each area's
/// service; the UI's `Backend` is implemented here as one-line delegations.
pub struct Domain {
    core: Core,
}

impl std::ops::Deref for Domain {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

/// What the domain is built from besides its store, source, key and clock, all at once.
pub struct DomainSettings {
    pub builds: builds::BuildSettings,
    pub exports: exports::ExportSettings,
    /// As configured; kept canonical (a root that does not exist is dropped).
    pub import_roots: Vec<std::path::PathBuf>,
    pub staff_second_factor: bool,
    /// The public log's signing key (checkpoints and receipts).
    pub public_log: Arc<crate::audit::note::NoteSigner>,
    /// The key second-factor secrets are sealed with at rest.
    pub second_factor: Arc<crate::auth::sealed::SealingKey>,
}

impl Domain {
    /// The domain, built at once from its store, source, key, settings and clock.
    pub fn new(
        store: Store,
        source: Arc<Source>,
        signer: Arc<NoteSigner>,
        settings: DomainSettings,
        clock: Clock,
    ) -> Domain {
        Domain { core: Core::new(store, source, signer, settings, clock) }
    }
}

#[async_trait::async_trait]
impl Backend for Domain {
    async fn me(&self, caller: &Caller) -> AppResult<Me> {
        let identity = guard::signed_in(caller)?;
        let now = self.clock.now_ms();
        // Read once per request: the session check that let this request in read the grants.
        let access_ends_ms = match (identity.role, caller.access_ends_ms) {
            (Role::Reviewer, Some(known)) => known,
            (Role::Reviewer, None) => guard::latest_active_end(&self.store.grants_of(identity.user_id).await?, now),
            _ => None,
        };
        Ok(Me {
            username: identity.username.clone(),
            role: identity.role,
            csrf_token: caller.csrf_token.clone().unwrap_or_default(),
            access_ends_ms,
            now_ms: now,
            integrity_alarm: match identity.role {
                Role::Staff | Role::Regulator | Role::Supervisor => {
                    self.integrity.alarm().map(|alarm| alarm.describe())
                }
                _ => None,
            },
        })
    }

    async fn account_page(&self, caller: &Caller) -> AppResult<AccountPage> {
        self.core.sessions().own_account(Actor::Web(caller)).await
    }

    async fn list_pins(&self, caller: &Caller) -> AppResult<Vec<PinSummary>> {
        self.core.browse().list_pins(Actor::Web(caller)).await
    }

    async fn my_progress(&self, caller: &Caller) -> AppResult<Vec<PinProgress>> {
        self.core.coverage().my_progress(Actor::Web(caller)).await
    }

    async fn pin_summary(&self, caller: &Caller, pin: PinId) -> AppResult<PinSummary> {
        self.core.browse().pin_for_source(Actor::Web(caller), pin).await
    }

    async fn open_tree(&self, caller: &Caller, pin: PinId, path: RepoPath) -> AppResult<TreeView> {
        self.core.browse().open_tree(Actor::Web(caller), pin, path).await
    }

    async fn open_blob(
        &self,
        caller: &Caller,
        pin: PinId,
        path: RepoPath,
        from: Option<u32>,
        artifact: Option<Sha256Hex>,
        rows: Option<app::backend::RowsSlot>,
    ) -> AppResult<BlobView> {
        self.core.browse().open_blob(Actor::Web(caller), pin, path, from, artifact.as_ref(), rows).await
    }

    async fn audit_log(&self, caller: &Caller, query: AuditQuery) -> AppResult<AuditPage> {
        self.core.log().audit_log(Actor::Web(caller), &query).await
    }

    async fn log_overview(&self, caller: &Caller) -> AppResult<LogOverview> {
        self.core.log().log_overview(Actor::Web(caller)).await
    }

    async fn admin_overview(&self, caller: &Caller) -> AppResult<AdminOverview> {
        self.core.admin().admin_overview(Actor::Web(caller)).await
    }

    async fn my_threads(&self, caller: &Caller) -> AppResult<Vec<Thread>> {
        self.core.review().my_threads(Actor::Web(caller)).await
    }

    async fn pin_comments(&self, caller: &Caller, pin: PinId, filter: CommentFilter) -> AppResult<CommentList> {
        let mut list = self.core.review().pin_comments(Actor::Web(caller), pin, &filter, true).await?;
        list.csrf_token = caller.csrf_token.clone().unwrap_or_default();
        Ok(list)
    }

    async fn coverage_page(
        &self,
        caller: &Caller,
        pin: PinId,
        selected: Option<String>,
        compiled: Option<Sha256Hex>,
    ) -> AppResult<CoveragePage> {
        self.core.coverage().coverage_page(Actor::Web(caller), pin, selected, compiled.as_ref()).await
    }

    async fn compare(&self, caller: &Caller, a: PinId, b: PinId, filter: CompareFilter) -> AppResult<CompareView> {
        self.core.compare().compare(Actor::Web(caller), a, b, &filter, COMPARE_PAGE).await
    }

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
    ) -> AppResult<DiffView> {
        let mut view = self
            .core
            .compare()
            .file_diff(Actor::Web(caller), a, b, &path, old_path.as_ref(), layout, context, Some(rows))
            .await?;
        // The page shows the highlighted HTML; the plain text is the API's.
        view.hunks.iter_mut().flat_map(|hunk| hunk.lines.iter_mut()).for_each(|line| line.text = String::new());
        Ok(view)
    }

    async fn sarif_logs(&self, caller: &Caller, pin: PinId) -> AppResult<SarifLogsPage> {
        self.core.tool_results().logs_page(Actor::Web(caller), pin).await
    }

    async fn sarif_results(
        &self,
        caller: &Caller,
        pin: PinId,
        log: i64,
        filter: SarifFilter,
    ) -> AppResult<SarifResults> {
        self.core.tool_results().results(Actor::Web(caller), pin, log, &filter).await
    }

    async fn history(&self, caller: &Caller, a: PinId, b: PinId, page: Option<u32>) -> AppResult<HistoryView> {
        self.core.history().history(Actor::Web(caller), a, b, page).await
    }

    async fn history_commit(&self, caller: &Caller, a: PinId, b: PinId, commit: String) -> AppResult<CommitDiffView> {
        let mut view = self.core.history().commit(Actor::Web(caller), a, b, &commit, Some(3)).await?;
        // The page shows the highlighted HTML; the plain text is the API's.
        view.files
            .iter_mut()
            .flat_map(|file| file.hunks.iter_mut())
            .flat_map(|hunk| hunk.lines.iter_mut())
            .for_each(|line| line.text = String::new());
        Ok(view)
    }

    async fn blame(&self, caller: &Caller, pin: PinId, path: RepoPath) -> AppResult<BlameView> {
        self.core.history().blame(Actor::Web(caller), pin, &path).await
    }

    async fn search(&self, caller: &Caller, pin: PinId, query: SearchQuery) -> AppResult<SearchView> {
        self.core.search().search(Actor::Web(caller), pin, &query, SEARCH_PAGE, search::Lines::WithContext).await
    }

    async fn find_files(&self, caller: &Caller, pin: PinId, query: String) -> AppResult<Vec<FoundFile>> {
        self.core.search().find_files(Actor::Web(caller), pin, &query).await
    }

    async fn symbol(&self, caller: &Caller, pin: PinId, name: String) -> AppResult<SymbolView> {
        self.core.search().symbol(Actor::Web(caller), pin, &name).await
    }

    async fn traceability(&self, caller: &Caller, pin: PinId) -> AppResult<Traceability> {
        let mut page = self.core.requirements().traceability(Actor::Web(caller), pin).await?;
        page.csrf_token = caller.csrf_token.clone().unwrap_or_default();
        Ok(page)
    }

    async fn builds(&self, caller: &Caller, pin: PinId) -> AppResult<BuildsPage> {
        let mut page = self.core.builds().pin_builds(Actor::Web(caller), pin).await?;
        page.csrf_token = caller.csrf_token.clone().unwrap_or_default();
        Ok(page)
    }

    async fn room_build(&self, caller: &Caller, pin: PinId, id: i64) -> AppResult<RoomBuildPage> {
        self.core.room().build_page(Actor::Web(caller), pin, id).await
    }

    async fn build_diff(&self, caller: &Caller, pin: PinId, id: i64) -> AppResult<DiffPage> {
        let page = self.core.room().diff_page(Actor::Web(caller), id).await?;
        match page.pin.id == pin {
            true => Ok(page),
            false => Err(app::error::AppError::NotFound("there is no such report of this pin".into())),
        }
    }

    async fn exports_page(&self, caller: &Caller) -> AppResult<ExportsPage> {
        self.core.exports().exports_page(Actor::Web(caller)).await
    }

    async fn estimate_export(&self, caller: &Caller, request: ExportRequest) -> AppResult<ExportEstimate> {
        self.core.exports().estimate_export(Actor::Web(caller), &request).await
    }

    async fn lookup_artifact(&self, caller: &Caller, sha256: Sha256Hex) -> AppResult<ArtifactLookup> {
        self.core.attestations().lookup_artifact(Actor::Web(caller), &sha256).await
    }

    async fn public_releases(&self, sha256: Option<Sha256Hex>) -> AppResult<PublicReleases> {
        self.core.transparency().public_page(sha256).await
    }

    async fn open_releases(&self, caller: &Caller) -> AppResult<Vec<OpenRelease>> {
        self.core.releases().open_releases(Actor::Web(caller)).await
    }

    async fn pin_releases(&self, caller: &Caller, pin: PinId) -> AppResult<PinReleasesPage> {
        let mut page = self.core.releases().pin_page(Actor::Web(caller), pin).await?;
        page.csrf_token = caller.csrf_token.clone().unwrap_or_default();
        Ok(page)
    }

    async fn verdicts(&self, caller: &Caller, pin: PinId) -> AppResult<VerdictPage> {
        let mut page = self.core.coverage().verdicts(Actor::Web(caller), pin).await?;
        page.csrf_token = caller.csrf_token.clone().unwrap_or_default();
        Ok(page)
    }
}
