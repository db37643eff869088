//! Server functions: thin doors from the UI to the `Backend`.
//!
//! Each one finds the `Caller` the server attached to the request and the `Backend` it put in the
//! context, and calls one method. None of them decides anything about authorisation.

use crate::error::AppError;
use crate::model::*;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod ssr {
    use super::*;
    use crate::backend::Backend;
    use std::sync::Arc;

    /// The backend the server provided for this request.
    pub fn backend() -> Result<Arc<dyn Backend>, AppError> {
        use_context::<Arc<dyn Backend>>().ok_or_else(|| AppError::Internal("no-backend".into()))
    }

    /// The diff layout the viewer chose last (`diff_layout` cookie), if any.
    pub fn layout_cookie() -> Option<String> {
        let parts = use_context::<leptos::server_fn::http_export::request::Parts>()?;
        let cookies = parts.headers.get("cookie")?.to_str().ok()?;
        cookies
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(name, _)| *name == "diff_layout")
            .map(|(_, value)| value.to_string())
    }

    /// The caller the server's middleware attached to this request.
    pub fn caller() -> Result<Caller, AppError> {
        let parts = use_context::<leptos::server_fn::http_export::request::Parts>()
            .ok_or_else(|| AppError::Internal("no-request".into()))?;
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| AppError::Internal("no-caller".into()))
    }
}

#[server(prefix = "/fn", endpoint = "me")]
pub async fn whoami() -> Result<Option<Me>, AppError> {
    let caller = ssr::caller()?;
    match ssr::backend()?.me(&caller).await {
        Ok(me) => Ok(Some(me)),
        Err(AppError::Unauthorized) => Ok(None),
        Err(other) => Err(other),
    }
}

#[server(prefix = "/fn", endpoint = "pins")]
pub async fn list_pins() -> Result<Vec<PinSummary>, AppError> {
    ssr::backend()?.list_pins(&ssr::caller()?).await
}

#[server(prefix = "/fn", endpoint = "progress")]
pub async fn my_progress() -> Result<Vec<PinProgress>, AppError> {
    ssr::backend()?.my_progress(&ssr::caller()?).await
}

#[server(prefix = "/fn", endpoint = "pin")]
pub async fn load_pin(pin: String) -> Result<PinSummary, AppError> {
    ssr::backend()?.pin_summary(&ssr::caller()?, PinId::parse(&pin)?).await
}

#[server(prefix = "/fn", endpoint = "tree")]
pub async fn open_tree(pin: String, path: String) -> Result<TreeView, AppError> {
    let pin = PinId::parse(&pin)?;
    let path = RepoPath::parse_url_encoded(&path)?;
    ssr::backend()?.open_tree(&ssr::caller()?, pin, path).await
}

#[server(prefix = "/fn", endpoint = "blob")]
pub async fn open_blob(
    pin: String,
    path: String,
    from: Option<u32>,
    artifact: Option<String>,
) -> Result<BlobView, AppError> {
    let pin = PinId::parse(&pin)?;
    let path = RepoPath::parse_url_encoded(&path)?;
    let artifact = artifact.as_deref().filter(|a| !a.is_empty()).map(Sha256Hex::parse).transpose()?;
    let parts = use_context::<leptos::server_fn::http_export::request::Parts>();
    let slot = parts.and_then(|parts| parts.extensions.get::<crate::backend::RowsSlot>().cloned());
    ssr::backend()?.open_blob(&ssr::caller()?, pin, path, from, artifact, slot).await
}

#[server(prefix = "/fn", endpoint = "audit")]
pub async fn audit_log(query: AuditQuery) -> Result<AuditPage, AppError> {
    ssr::backend()?.audit_log(&ssr::caller()?, query).await
}

#[server(prefix = "/fn", endpoint = "account")]
pub async fn my_account() -> Result<AccountPage, AppError> {
    ssr::backend()?.account_page(&ssr::caller()?).await
}

#[server(prefix = "/fn", endpoint = "admin")]
pub async fn admin_console() -> Result<AdminOverview, AppError> {
    ssr::backend()?.admin_overview(&ssr::caller()?).await
}

#[server(prefix = "/fn", endpoint = "log")]
pub async fn log_integrity() -> Result<LogOverview, AppError> {
    ssr::backend()?.log_overview(&ssr::caller()?).await
}

#[server(prefix = "/fn", endpoint = "my-threads")]
pub async fn my_threads() -> Result<Vec<Thread>, AppError> {
    ssr::backend()?.my_threads(&ssr::caller()?).await
}

#[server(prefix = "/fn", endpoint = "comments")]
pub async fn pin_comments(pin: String, filter: CommentFilter) -> Result<CommentList, AppError> {
    let pin = PinId::parse(&pin)?;
    ssr::backend()?.pin_comments(&ssr::caller()?, pin, filter).await
}

#[server(prefix = "/fn", endpoint = "coverage")]
pub async fn load_coverage(
    pin: String,
    reviewer: Option<String>,
    compiled: Option<String>,
) -> Result<CoveragePage, AppError> {
    let pin = PinId::parse(&pin)?;
    let compiled = compiled.as_deref().filter(|c| !c.is_empty()).map(Sha256Hex::parse).transpose()?;
    ssr::backend()?.coverage_page(&ssr::caller()?, pin, reviewer, compiled).await
}

#[server(prefix = "/fn", endpoint = "builds")]
pub async fn load_builds(pin: String) -> Result<BuildsPage, AppError> {
    let pin = PinId::parse(&pin)?;
    ssr::backend()?.builds(&ssr::caller()?, pin).await
}

#[server(prefix = "/fn", endpoint = "room-build")]
pub async fn load_room_build(pin: String, id: String) -> Result<RoomBuildPage, AppError> {
    let pin = PinId::parse(&pin)?;
    let id =
        id.parse::<i64>().ok().filter(|id| *id >= 1).ok_or(AppError::NotFound("there is no such room build".into()))?;
    ssr::backend()?.room_build(&ssr::caller()?, pin, id).await
}

#[server(prefix = "/fn", endpoint = "build-diff")]
pub async fn load_build_diff(pin: String, id: String) -> Result<DiffPage, AppError> {
    let pin = PinId::parse(&pin)?;
    let id =
        id.parse::<i64>().ok().filter(|id| *id >= 1).ok_or(AppError::NotFound("there is no such report".into()))?;
    ssr::backend()?.build_diff(&ssr::caller()?, pin, id).await
}

#[server(prefix = "/fn", endpoint = "exports")]
pub async fn export_overview() -> Result<ExportsPage, AppError> {
    ssr::backend()?.exports_page(&ssr::caller()?).await
}

#[server(prefix = "/fn", endpoint = "export-estimate")]
pub async fn estimate_export(request: ExportRequest) -> Result<Option<ExportEstimate>, AppError> {
    ssr::backend()?.estimate_export(&ssr::caller()?, request).await.map(Some)
}

#[server(prefix = "/fn", endpoint = "artifact")]
pub async fn lookup_artifact(sha256: String) -> Result<Option<ArtifactLookup>, AppError> {
    if sha256.trim().is_empty() {
        return Ok(None);
    }
    let sha256 = Sha256Hex::parse(&sha256)?;
    ssr::backend()?.lookup_artifact(&ssr::caller()?, sha256).await.map(Some)
}

/// The public releases page: anyone's, signed in or not (limited per client, recorded nowhere).
#[server(prefix = "/fn", endpoint = "public_releases")]
pub async fn load_public_releases(sha256: String) -> Result<PublicReleases, AppError> {
    let sha256 = if sha256.trim().is_empty() { None } else { Some(Sha256Hex::parse(&sha256)?) };
    ssr::backend()?.public_releases(sha256).await
}

#[server(prefix = "/fn", endpoint = "open-releases")]
pub async fn open_releases() -> Result<Vec<OpenRelease>, AppError> {
    ssr::backend()?.open_releases(&ssr::caller()?).await
}

#[server(prefix = "/fn", endpoint = "pin-releases")]
pub async fn pin_releases(pin: String) -> Result<PinReleasesPage, AppError> {
    let pin = PinId::parse(&pin)?;
    ssr::backend()?.pin_releases(&ssr::caller()?, pin).await
}

#[server(prefix = "/fn", endpoint = "verdicts")]
pub async fn verdicts(pin: String) -> Result<VerdictPage, AppError> {
    let pin = PinId::parse(&pin)?;
    ssr::backend()?.verdicts(&ssr::caller()?, pin).await
}

#[server(prefix = "/fn", endpoint = "compare")]
pub async fn load_compare(a: String, b: String, filter: CompareFilter) -> Result<CompareView, AppError> {
    let (a, b) = (PinId::parse(&a)?, PinId::parse(&b)?);
    ssr::backend()?.compare(&ssr::caller()?, a, b, filter).await
}

/// A file diff; without an explicit layout, the one the viewer chose last (a cookie).
#[server(prefix = "/fn", endpoint = "diff")]
pub async fn load_diff(
    a: String,
    b: String,
    path: String,
    from: Option<String>,
    layout: Option<String>,
    context: Option<String>,
    rows: Option<String>,
) -> Result<DiffView, AppError> {
    let (a, b) = (PinId::parse(&a)?, PinId::parse(&b)?);
    let path = RepoPath::parse_url_encoded(&path)?;
    let old_path = from.filter(|f| !f.is_empty()).map(|f| RepoPath::parse(&f)).transpose()?;
    let layout = match layout.or_else(ssr::layout_cookie).as_deref() {
        Some("split") => DiffLayout::Split,
        _ => DiffLayout::Unified,
    };
    let context = match context.as_deref() {
        Some("all") => None,
        Some(n) => Some(
            n.parse::<u32>().map_err(|_| AppError::Invalid("context is a number of lines, or all".into()))?.min(10_000),
        ),
        None => Some(3),
    };
    let rows = match rows.as_deref().filter(|r| !r.is_empty()) {
        Some(r) => r.parse::<u32>().map_err(|_| AppError::Invalid("rows is a row number".into()))?.max(1),
        None => 1,
    };
    ssr::backend()?.file_diff(&ssr::caller()?, a, b, path, old_path, layout, context, rows).await
}

#[server(prefix = "/fn", endpoint = "sarif")]
pub async fn load_sarif(pin: String) -> Result<SarifLogsPage, AppError> {
    ssr::backend()?.sarif_logs(&ssr::caller()?, PinId::parse(&pin)?).await
}

#[server(prefix = "/fn", endpoint = "traceability")]
pub async fn load_traceability(pin: String) -> Result<Traceability, AppError> {
    ssr::backend()?.traceability(&ssr::caller()?, PinId::parse(&pin)?).await
}

#[server(prefix = "/fn", endpoint = "sarif-results")]
pub async fn load_sarif_results(pin: String, log: String, filter: SarifFilter) -> Result<SarifResults, AppError> {
    let log = log
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::NotFound("there is no such tool log at this pin".into()))?;
    ssr::backend()?.sarif_results(&ssr::caller()?, PinId::parse(&pin)?, log, filter).await
}

#[server(prefix = "/fn", endpoint = "history")]
pub async fn load_history(a: String, b: String, page: Option<String>) -> Result<HistoryView, AppError> {
    let (a, b) = (PinId::parse(&a)?, PinId::parse(&b)?);
    let page = match page.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(p.parse::<u32>().map_err(|_| AppError::Invalid("page is a page number".into()))?),
        None => None,
    };
    ssr::backend()?.history(&ssr::caller()?, a, b, page).await
}

#[server(prefix = "/fn", endpoint = "history-commit")]
pub async fn load_history_commit(a: String, b: String, commit: String) -> Result<CommitDiffView, AppError> {
    let (a, b) = (PinId::parse(&a)?, PinId::parse(&b)?);
    ssr::backend()?.history_commit(&ssr::caller()?, a, b, commit).await
}

#[server(prefix = "/fn", endpoint = "blame")]
pub async fn load_blame(pin: String, path: String) -> Result<BlameView, AppError> {
    let pin = PinId::parse(&pin)?;
    let path = RepoPath::parse_url_encoded(&path)?;
    ssr::backend()?.blame(&ssr::caller()?, pin, path).await
}

#[server(prefix = "/fn", endpoint = "search")]
pub async fn run_search(pin: String, query: SearchQuery) -> Result<SearchView, AppError> {
    let pin = PinId::parse(&pin)?;
    ssr::backend()?.search(&ssr::caller()?, pin, query).await
}

#[server(prefix = "/fn", endpoint = "find-files")]
pub async fn find_files(pin: String, query: String) -> Result<Vec<FoundFile>, AppError> {
    let pin = PinId::parse(&pin)?;
    ssr::backend()?.find_files(&ssr::caller()?, pin, query).await
}

#[server(prefix = "/fn", endpoint = "symbol")]
pub async fn find_symbol(pin: String, name: String) -> Result<SymbolView, AppError> {
    let pin = PinId::parse(&pin)?;
    ssr::backend()?.symbol(&ssr::caller()?, pin, name).await
}
