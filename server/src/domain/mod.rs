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
mod coverage;
pub mod error;
pub mod exports;
pub mod guard;
pub mod integrity;
pub mod jobs;
mod log;
mod review;
mod search;
mod sessions;
mod threads;

use crate::audit::note::NoteSigner;
use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::source::Source;
use crate::store::Store;
use app::backend::Backend;
use app::error::AppResult;
use app::model::*;
use std::sync::Arc;

pub use access::TokenRequest;
pub use admin::parse_repository_name;
pub use guard::{Actor, SessionData};
pub use sessions::{Resumed, SignIn};

pub struct Domain {
    store: Store,
    audit: AuditLog,
    source: Arc<Source>,
    /// The log's checkpoint signing key.
    signer: Arc<NoteSigner>,
    clock: Clock,
    caches: caches::Caches,
    builds: builds::BuildSettings,
    /// The witnesses asked to cosign checkpoints, when a trust policy is configured. The one
    /// setting made after construction: a policy names the log's key, which the domain's signer
    /// holds, so the demo (and a test) start their witnesses against the running log first.
    supervision: std::sync::OnceLock<Arc<crate::audit::witnessing::Supervision>>,
    /// Where export bundles are kept, and for how long.
    exports: exports::ExportSettings,
    /// The self-audit of the log (`integrity`).
    integrity: integrity::Integrity,
    /// The directories staff may import repositories from, canonical (`--import-root`).
    import_roots: Vec<std::path::PathBuf>,
    /// Whether staff must sign in with a second factor (`--require-staff-second-factor`).
    staff_second_factor: bool,
}

/// What the domain is built from besides its store, source, key and clock, all at once.
pub struct DomainSettings {
    pub builds: builds::BuildSettings,
    pub exports: exports::ExportSettings,
    /// As configured; kept canonical (a root that does not exist is dropped).
    pub import_roots: Vec<std::path::PathBuf>,
    pub staff_second_factor: bool,
}

impl Domain {
    /// The domain's clock, read (for messages such as how long a lock lasts).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn staff_second_factor(&self) -> bool {
        self.staff_second_factor
    }

    /// Forgets sign-in failure counts whose hour and lock are over (run on a timer).
    pub async fn prune_login_failures(&self) -> AppResult<u64> {
        Ok(self.store.prune_login_failures(self.clock.now_ms()).await?)
    }

    /// The highlight cache's answers so far and its sizes, for `/healthz` (no source content).
    pub fn highlight_cache_figures(&self) -> serde_json::Value {
        let counts = self.source.cache().counts();
        let (memory, disk) = self.source.cache().sizes();
        serde_json::json!({
            "memory_hits": counts.memory,
            "disk_hits": counts.disk,
            "misses": counts.misses,
            "memory_bytes": memory,
            "disk_bytes": disk,
        })
    }

    /// The metrics in Prometheus' text format, gauges refreshed now (staff, or an `ops:read`
    /// token; `None` caller: the unauthenticated `--metrics-listen` listener).
    pub async fn metrics_text(&self, caller: Option<&Caller>) -> AppResult<String> {
        if let Some(caller) = caller {
            guard::require(&Actor::Web(caller), guard::Permission::Monitor)?;
        }
        let metrics = crate::metrics::metrics();
        let counts = self.source.cache().counts();
        let (memory, _) = self.source.cache().sizes();
        metrics.cache_hits.set(counts.memory + counts.disk);
        metrics.cache_misses.set(counts.misses);
        metrics.cache_bytes.set(memory);
        for (state, count) in self.store.count_jobs_by_state().await? {
            metrics.jobs.get_or_create(&crate::metrics::JobLabels { state }).set(count);
        }
        let integrity = self.integrity.status();
        metrics.self_audit_alarm.set(i64::from(integrity.alarm.is_some()));
        metrics.self_audit_verified.set(integrity.verified_size);
        Ok(metrics.encode())
    }

    /// One window of a large file's lines (`browse::read_lines`).
    pub async fn read_lines(&self, caller: &Caller, pin: PinId, path: RepoPath, from: u32) -> AppResult<BlobContent> {
        browse::read_lines(self, caller, pin, path, from).await
    }

    /// A file's bytes for a download (`browse::download`).
    pub async fn download(&self, caller: &Caller, pin: PinId, path: RepoPath) -> AppResult<Vec<u8>> {
        browse::download(self, caller, pin, path).await
    }

    pub fn new(
        store: Store,
        source: Arc<Source>,
        signer: Arc<NoteSigner>,
        settings: DomainSettings,
        clock: Clock,
    ) -> Domain {
        let audit = AuditLog::new(store.clone(), clock.clone());
        let supervision = std::sync::OnceLock::new();
        Domain {
            store,
            audit,
            source,
            signer,
            clock,
            caches: caches::Caches::default(),
            builds: settings.builds,
            supervision,
            exports: settings.exports,
            integrity: integrity::Integrity::default(),
            import_roots: settings.import_roots.iter().filter_map(|root| std::fs::canonicalize(root).ok()).collect(),
            staff_second_factor: settings.staff_second_factor,
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The session store over the domain's database; sessions end by the clock the guard reads.
    pub fn session_store(&self) -> crate::store::sessions::DatabaseSessionStore {
        crate::store::sessions::DatabaseSessionStore::new(self.store.clone(), self.clock.clone())
    }

    /// Whether the database answers.
    pub async fn health(&self) -> AppResult<()> {
        Ok(self.store.ping().await?)
    }

    /// Whether no account exists yet (a new data directory).
    pub async fn is_new(&self) -> AppResult<bool> {
        Ok(self.store.count_users().await? == 0)
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
                Role::Staff | Role::Regulator => self.integrity.alarm().map(|alarm| alarm.describe()),
                _ => None,
            },
        })
    }

    async fn account_page(&self, caller: &Caller) -> AppResult<AccountPage> {
        self.own_account(caller).await
    }

    async fn list_pins(&self, caller: &Caller) -> AppResult<Vec<PinSummary>> {
        browse::list_pins(self, caller).await
    }

    async fn open_tree(&self, caller: &Caller, pin: PinId, path: RepoPath) -> AppResult<TreeView> {
        browse::open_tree(self, caller, pin, path).await
    }

    async fn open_blob(
        &self,
        caller: &Caller,
        pin: PinId,
        path: RepoPath,
        from: Option<u32>,
        rows: Option<app::backend::RowsSlot>,
    ) -> AppResult<BlobView> {
        browse::open_blob(self, caller, pin, path, from, rows).await
    }

    async fn audit_log(&self, caller: &Caller, query: AuditQuery) -> AppResult<AuditPage> {
        Domain::audit_log(self, Actor::Web(caller), &query).await
    }

    async fn log_overview(&self, caller: &Caller) -> AppResult<LogOverview> {
        Domain::log_overview(self, caller).await
    }

    async fn admin_overview(&self, caller: &Caller) -> AppResult<AdminOverview> {
        Domain::admin_overview(self, Actor::Web(caller)).await
    }

    async fn my_threads(&self, caller: &Caller) -> AppResult<Vec<Thread>> {
        Domain::my_threads(self, caller).await
    }

    async fn pin_comments(&self, caller: &Caller, pin: PinId, filter: CommentFilter) -> AppResult<CommentList> {
        let mut list = Domain::pin_comments(self, Actor::Web(caller), pin, &filter, true).await?;
        list.csrf_token = caller.csrf_token.clone().unwrap_or_default();
        Ok(list)
    }

    async fn coverage_page(&self, caller: &Caller, pin: PinId, selected: Option<String>) -> AppResult<CoveragePage> {
        Domain::coverage_page(self, Actor::Web(caller), pin, selected).await
    }

    async fn compare(&self, caller: &Caller, a: PinId, b: PinId, filter: CompareFilter) -> AppResult<CompareView> {
        Domain::compare(self, Actor::Web(caller), a, b, &filter, COMPARE_PAGE).await
    }

    async fn file_diff(
        &self,
        caller: &Caller,
        a: PinId,
        b: PinId,
        path: RepoPath,
        old_path: Option<RepoPath>,
        layout: DiffLayout,
        context: Option<u32>,
    ) -> AppResult<DiffView> {
        Domain::file_diff(self, Actor::Web(caller), a, b, &path, old_path.as_ref(), layout, context).await
    }

    async fn search(&self, caller: &Caller, pin: PinId, query: SearchQuery) -> AppResult<SearchView> {
        Domain::search(self, Actor::Web(caller), pin, &query, SEARCH_PAGE).await
    }

    async fn find_files(&self, caller: &Caller, pin: PinId, query: String) -> AppResult<Vec<FoundFile>> {
        Domain::find_files(self, Actor::Web(caller), pin, &query).await
    }

    async fn symbol(&self, caller: &Caller, pin: PinId, name: String) -> AppResult<SymbolView> {
        Domain::symbol(self, Actor::Web(caller), pin, &name).await
    }

    async fn builds(&self, caller: &Caller, pin: PinId) -> AppResult<BuildsPage> {
        let mut page = self.pin_builds(Actor::Web(caller), pin).await?;
        page.csrf_token = caller.csrf_token.clone().unwrap_or_default();
        Ok(page)
    }

    async fn exports_page(&self, caller: &Caller) -> AppResult<ExportsPage> {
        Domain::exports_page(self, caller).await
    }

    async fn estimate_export(&self, caller: &Caller, request: ExportRequest) -> AppResult<ExportEstimate> {
        Domain::estimate_export(self, caller, &request).await
    }

    async fn lookup_artifact(&self, caller: &Caller, sha256: Sha256Hex) -> AppResult<ArtifactLookup> {
        Domain::lookup_artifact(self, Actor::Web(caller), &sha256).await
    }

    async fn verdicts(&self, caller: &Caller, pin: PinId) -> AppResult<VerdictPage> {
        let mut page = Domain::verdicts(self, Actor::Web(caller), pin).await?;
        page.csrf_token = caller.csrf_token.clone().unwrap_or_default();
        Ok(page)
    }
}
