//! The JSON API over a pin's source: comparing two pins, a file's lines and raw bytes, a pin's jobs
//! (searching, finding files and symbols: `search_api.rs`).
//! Session or `Authorization: Bearer`; the same authorisation and the same recorded events as the
//! pages.

use super::{AppState, HttpError};
use crate::domain::Actor;
use crate::http::extract::ApiQuery;
use crate::http::extract::PinPath;
use app::model::*;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pins/{a}/compare/{b}", get(compare))
        .route("/api/v1/pins/{a}/compare/{b}/diff", get(file_diff))
        .route("/api/v1/pins/{pin}/search", get(super::search_api::search))
        .route("/api/v1/pins/{pin}/files", get(super::search_api::files))
        .route("/api/v1/pins/{pin}/symbols/{name}", get(super::search_api::symbol))
        .route("/api/v1/pins/{pin}/jobs", get(jobs))
        .route("/pins/{pin}/lines/{*path}", get(lines))
        .route("/pins/{pin}/raw/{*path}", get(raw))
        .route("/pins/{a}/diff-fragment/{b}/{*path}", get(diff_fragment))
}

/// A background job and how far it got.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Job {
    id: i64,
    kind: String,
    /// queued, running, done, failed or cancelled.
    state: String,
    done: u64,
    total: u64,
}

/// A pin's background jobs and their progress (staff): `[{id, kind, state, done, total}]`.
#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/jobs",
    tag = "source",
    summary = "A pin's background jobs and their progress (staff)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 200, body = Vec<Job>), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn jobs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<impl IntoResponse, HttpError> {
    let jobs = state.domain.jobs().pin_jobs(Actor::Web(&caller), pin).await?;
    let jobs: Vec<Job> = jobs
        .into_iter()
        .map(|j| Job { id: j.id, kind: j.kind, state: j.state, done: j.done, total: j.total })
        .collect();
    Ok(Json(jobs))
}

#[derive(Deserialize)]
pub(crate) struct LinesParams {
    from: Option<String>,
    /// The artifact whose compiled lines are marked (the page's choice; default the pin's first).
    artifact: Option<String>,
}

/// The rows of one window of a large file (HTML `<tr>` rows for the file view's table), from the
/// window that holds line `from`; `X-Lines: FIRST-LAST/TOTAL` says which lines they are. Lines
/// compiled into the chosen artifact are rows of class `compiled`; the tool results on the lines
/// are notes in rows of their own (`annotation-row`).
async fn lines(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((pin, path)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<LinesParams>,
) -> Result<axum::response::Response, HttpError> {
    let from = params
        .from
        .as_deref()
        .and_then(|f| f.trim().parse::<u32>().ok())
        .filter(|f| *f > 0)
        .ok_or_else(|| HttpError(app::error::AppError::Invalid("from is a line number, 1 or more".into())))?;
    let artifact = params.artifact.as_deref().map(Sha256Hex::parse).transpose()?;
    let pin = PinId::parse(&pin)?;
    let read = state
        .domain
        .browse()
        .read_lines(Actor::Web(&caller), pin, RepoPath::parse(&path)?, from, artifact.as_ref())
        .await?;
    let BlobContent::Text { lines, window: Some(window), .. } = read.content else {
        return Err(HttpError(app::error::AppError::NotFound("this file has no lines to load".into())));
    };
    // Each tool result on the window's lines in a row after the line it ends on, as the page's
    // own results are placed.
    let pin_text = pin.to_string();
    let mut notes: Vec<(u32, String)> = read
        .annotations
        .iter()
        .filter_map(|annotation| {
            let last = annotation.end_line.or(annotation.start_line)?;
            let mut html = String::new();
            app::routes::blob_results::annotation_html(&mut html, &pin_text, annotation);
            Some((last, html))
        })
        .collect();
    notes.sort_by_key(|(line, _)| *line);
    let rows = app::rows::rows_with_notes_html(&lines, window.first, &read.compiled, &notes);
    let range = format!("{}-{}/{}", window.first, window.last, window.total);
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (axum::http::header::HeaderName::from_static("x-lines"), range),
        ],
        rows,
    )
        .into_response())
}

#[derive(Deserialize)]
struct FragmentParams {
    from: Option<String>,
}

/// One file's diff as HTML for a comparison's page of every diff (`LazyDiffs`): recorded as its
/// own page is (`diff.open`, `diff.view`); a refusal is its short reason as text.
async fn diff_fragment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((a, b, path)): Path<(String, String, String)>,
    Query(params): Query<FragmentParams>,
) -> axum::response::Response {
    let answer = async {
        let path = RepoPath::parse(&path)?;
        let old = params.from.as_deref().filter(|f| !f.is_empty()).map(RepoPath::parse).transpose()?;
        let view = state
            .domain
            .compare()
            .file_diff(
                Actor::Web(&caller),
                PinId::parse(&a)?,
                PinId::parse(&b)?,
                &path,
                old.as_ref(),
                app::model::DiffLayout::Unified,
                Some(3),
                Some(1),
            )
            .await?;
        Ok::<_, app::error::AppError>(app::routes::diff::fragment_html(&view))
    }
    .await;
    let no_store = (axum::http::header::CACHE_CONTROL, "no-store");
    match answer {
        Ok(html) => ([no_store], axum::response::Html(html)).into_response(),
        Err(error) => {
            let status = axum::http::StatusCode::from_u16(error.status())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR);
            (status, [no_store], error.to_string()).into_response()
        }
    }
}

/// A file's bytes as a download (recorded as `blob.download`). A link a browser follows: a refusal
/// is a page, not JSON.
async fn raw(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((pin, path)): Path<(String, String)>,
) -> axum::response::Response {
    download(state, caller, pin, path).await.unwrap_or_else(super::html_error)
}

async fn download(
    state: AppState,
    caller: Caller,
    pin: String,
    path: String,
) -> Result<axum::response::Response, app::error::AppError> {
    let path = RepoPath::parse(&path)?;
    let bytes = state.domain.browse().download(Actor::Web(&caller), PinId::parse(&pin)?, path.clone()).await?;
    // The name as a quoted string with anything unusual replaced: it is only a suggestion.
    let name: String = path
        .file_name()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "._-+".contains(c) { c } else { '_' })
        .collect();
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (axum::http::header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ApiChangedFile {
    path: String,
    old_path: Option<String>,
    /// added, deleted, modified or renamed.
    status: &'static str,
    additions: u64,
    deletions: u64,
    binary: bool,
    similarity: Option<u32>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct CompareParams {
    /// Only files whose path contains this text.
    filter: Option<String>,
    /// The page, from 1.
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
}

pub(super) fn page(text: Option<&str>) -> Result<Option<u32>, HttpError> {
    match text.map(str::trim) {
        None => Ok(None),
        Some(t) => t
            .parse::<u32>()
            .ok()
            .filter(|p| *p > 0)
            .map(Some)
            .ok_or_else(|| HttpError(app::error::AppError::Invalid("page is a positive number".into()))),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{a}/compare/{b}",
    tag = "source",
    summary = "The files changed from pin a to pin b (recorded)",
    params(("a" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The older pin"), ("b" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The newer pin"), CompareParams),
    responses((status = 200, body = ComparePage), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn compare(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((a, b)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<CompareParams>,
) -> Result<impl IntoResponse, HttpError> {
    let filter = CompareFilter { filter: params.filter, page: page(params.page.as_deref())? };
    let view = state
        .domain
        .compare()
        .compare(Actor::Web(&caller), PinId::parse(&a)?, PinId::parse(&b)?, &filter, COMPARE_API_PAGE)
        .await?;
    let files: Vec<ApiChangedFile> = view
        .files
        .into_iter()
        .map(|f| ApiChangedFile {
            status: match f.status {
                // The API names four kinds: a mode or type change is a modification.
                ChangeStatus::ModeChanged | ChangeStatus::TypeChanged => "modified",
                other => other.as_str(),
            },
            path: f.path,
            old_path: f.old_path,
            additions: f.additions,
            deletions: f.deletions,
            binary: f.binary,
            similarity: f.similarity,
        })
        .collect();
    let next_page = (view.page < view.pages).then_some(view.page + 1);
    Ok(Json(ComparePage { files, total: view.matching, page: view.page, next_page }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DiffParams {
    /// The file's path in pin b.
    #[param(required = true)]
    path: Option<String>,
    /// Its path in pin a, when it was renamed (default: `path`).
    old_path: Option<String>,
    /// Lines of context around each change (default 3, as `git diff`), or `all`.
    context: Option<String>,
}

/// One line of a file diff: its kind, its numbers on each side, its text.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ApiDiffLine {
    kind: DiffLineKind,
    old: Option<u32>,
    new: Option<u32>,
    text: String,
}

/// A hunk, as `git diff` writes its header, with its lines.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ApiHunk {
    old_start: u32,
    old_lines: u32,
    new_start: u32,
    new_lines: u32,
    lines: Vec<ApiDiffLine>,
}

/// A file's diff from pin a to pin b: the hunks of `git diff -U<context>`, or none with the notice
/// that says why (`truncated`: lines exist that are not shown).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ApiDiff {
    hunks: Vec<ApiHunk>,
    truncated: bool,
    notice: Option<DiffNotice>,
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{a}/compare/{b}/diff",
    tag = "source",
    summary = "One file's diff from pin a to pin b, git's hunks (recorded as the page's)",
    params(("a" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The older pin"), ("b" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The newer pin"), DiffParams),
    responses((status = 200, body = ApiDiff), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn file_diff(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((a, b)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<DiffParams>,
) -> Result<impl IntoResponse, HttpError> {
    // No path is the root, which the domain refuses once it has checked who asks.
    let path = params.path.as_deref().map(RepoPath::parse).transpose()?.unwrap_or_else(RepoPath::root);
    let old_path = params.old_path.as_deref().map(RepoPath::parse).transpose()?;
    let context = match params.context.as_deref().map(str::trim) {
        None => Some(3),
        Some("all") => None,
        Some(n) => Some(n.parse::<u32>().ok().filter(|n| *n <= 10_000).ok_or_else(|| {
            HttpError(app::error::AppError::Invalid("context is a number of lines up to 10000, or all".into()))
        })?),
    };
    let view = state
        .domain
        .compare()
        .file_diff(
            Actor::Web(&caller),
            PinId::parse(&a)?,
            PinId::parse(&b)?,
            &path,
            old_path.as_ref(),
            DiffLayout::Unified,
            context,
            None,
        )
        .await?;
    let hunks = view
        .hunks
        .into_iter()
        .map(|h| ApiHunk {
            old_start: h.old_start,
            old_lines: h.old_lines,
            new_start: h.new_start,
            new_lines: h.new_lines,
            lines: h
                .lines
                .into_iter()
                .map(|l| ApiDiffLine { kind: l.kind, old: l.old, new: l.new, text: l.text })
                .collect(),
        })
        .collect();
    Ok(Json(ApiDiff { hunks, truncated: view.notice.is_some(), notice: view.notice }))
}

/// One page of the files changed between two pins.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ComparePage {
    files: Vec<ApiChangedFile>,
    /// How many files match the filter in all.
    total: usize,
    page: u32,
    next_page: Option<u32>,
}
