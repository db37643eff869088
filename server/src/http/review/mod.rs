//! The reviewer workflow over HTTP: the JSON API (`/api/v1/pins/{pin}/comments`, states, versions,
//! reviewed marks, coverage, verdicts) and the plain form posts the pages use without JavaScript.
//! Writes by a session carry its anti-forgery token (a form field, or the `X-CSRF-Token` header);
//! the domain decides everything else.

mod forms;

use super::{AppState, HttpError};
use crate::domain::Actor;
use crate::http::extract::ApiWrite;
use crate::http::extract::PinPath;
use crate::http::extract::{ApiJson, ApiQuery};
use app::error::AppError;
use app::model::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Extension, Json, Router};
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pins/{pin}/comments", get(list_comments).post(create_comment))
        .route("/api/v1/comments/{id}/state", post(set_state))
        .route("/api/v1/comments/{id}/versions", post(add_version))
        .route("/api/v1/pins/{pin}/reviewed/{*path}", put(mark).delete(unmark))
        .route("/api/v1/pins/{pin}/coverage", get(coverage))
        .route("/api/v1/pins/{pin}/verdicts", get(list_verdicts).post(create_verdict))
        .route("/pins/{pin}/comments", post(forms::form_comment))
        .route("/comments/{id}/state", post(forms::form_state))
        .route("/comments/{id}/versions", post(forms::form_version))
        .route("/pins/{pin}/reviewed", post(forms::form_mark))
        .route("/pins/{pin}/verdicts", post(forms::form_verdict))
}

fn pin_id(text: &str) -> Result<PinId, HttpError> {
    Ok(PinId::parse(text)?)
}

fn comment_id(text: &str) -> Result<i64, AppError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| AppError::Invalid("a comment id is a positive number".into()))
}

// The JSON API ---------------------------------------------------------------------------------

/// A pin's threads.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Comments {
    comments: Vec<ApiThread>,
}

/// The id of what was created (a comment, a verdict).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Created {
    pub id: i64,
}

/// A thread's state after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct StateChanged {
    state: String,
}

/// The version a comment's edit made.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct VersionAdded {
    version: u32,
}

/// A file's reviewed mark after a change.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Marked {
    path: String,
    reviewed: bool,
}

/// Every reviewer together: a file counts at its best state among them.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Combined {
    shown: Amount,
    reviewed: Amount,
    carried: Amount,
    /// Everyone's coverage of each artifact's compiled lines.
    compiled: Vec<app::model::CompiledCoverage>,
}

/// Coverage per reviewer the caller may see, and together.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct CoverageBody {
    total: Amount,
    indexed: bool,
    reviewers: Vec<ReviewerCoverage>,
    combined: Combined,
}

/// A pin's verdicts.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Verdicts {
    verdicts: Vec<VerdictView>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ApiVersion {
    version: u32,
    body: String,
    author: String,
    created_at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ApiComment {
    id: i64,
    author: String,
    body: String,
    versions: Vec<ApiVersion>,
    created_at: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ApiThread {
    id: i64,
    path: String,
    start_line: Option<u32>,
    end_line: Option<u32>,
    author: String,
    kind: CommentKind,
    severity: Option<Severity>,
    /// A finding's CWE ids with their names (CWE 4.14).
    cwe: Vec<Weakness>,
    /// The requirement ids the thread's region is traced to (the pin's list).
    requirements: Vec<String>,
    state: String,
    body: String,
    versions: Vec<ApiVersion>,
    replies: Vec<ApiComment>,
    created_at: String,
    /// For its author, a private note's commitment key (hex; see `docs/audit-events.md`).
    #[serde(skip_serializing_if = "Option::is_none")]
    commitment_key: Option<String>,
}

fn api_versions(comment: &CommentView) -> Vec<ApiVersion> {
    comment
        .versions
        .iter()
        .map(|v| ApiVersion {
            version: v.version,
            body: v.body.clone(),
            author: v.author.clone(),
            created_at: app::times::rfc3339(v.created_at_ms),
        })
        .collect()
}

fn api_thread(thread: &Thread) -> ApiThread {
    ApiThread {
        id: thread.id,
        path: thread.path.to_string(),
        start_line: thread.lines.map(|l| l.first),
        end_line: thread.lines.map(|l| l.last),
        author: thread.root.author.clone(),
        kind: thread.kind,
        severity: thread.severity,
        cwe: thread.cwe.clone(),
        requirements: thread.requirements.clone(),
        state: thread.state.as_str().to_string(),
        body: thread.root.current().body.clone(),
        versions: api_versions(&thread.root),
        replies: thread
            .replies
            .iter()
            .map(|r| ApiComment {
                id: r.id,
                author: r.author.clone(),
                body: r.current().body.clone(),
                versions: api_versions(r),
                created_at: app::times::rfc3339(r.created_at_ms),
            })
            .collect(),
        created_at: app::times::rfc3339(thread.root.created_at_ms),
        commitment_key: thread.commitment_key.clone(),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/comments",
    tag = "review",
    summary = "A pin's comment threads, filtered",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"), CommentFilter),
    responses((status = 200, body = Comments), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn list_comments(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    ApiQuery(filter): ApiQuery<CommentFilter>,
) -> Result<impl IntoResponse, HttpError> {
    let list = state.domain.review().pin_comments(Actor::Web(&caller), pin, &filter, false).await?;
    let comments: Vec<ApiThread> = list.threads.iter().map(api_thread).collect();
    Ok(Json(Comments { comments }))
}

#[utoipa::path(
    post,
    path = "/api/v1/pins/{pin}/comments",
    tag = "review",
    summary = "Comment, reply, report a finding (with severity) or keep a private note",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    request_body = NewComment,
    responses((status = 201, body = Created), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn create_comment(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    PinPath(pin): PinPath,
    ApiJson(new): ApiJson<NewComment>,
) -> Result<impl IntoResponse, HttpError> {
    let id = state.domain.review().add_comment(Actor::Web(&caller), pin, &new).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct StateChangeRequest {
    state: String,
    reason: Option<String>,
    fixed_pin: Option<String>,
}

fn fixed_pin(text: Option<&str>) -> Result<Option<PinId>, AppError> {
    Ok(match text.map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => Some(PinId::parse(text)?),
        None => None,
    })
}

#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/state",
    tag = "review",
    summary = "Change a thread's state",
    params(("id" = i64, Path, minimum = 1, description = "The comment id")),
    request_body = StateChangeRequest,
    responses((status = 200, body = StateChanged), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn set_state(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    Path(id): Path<String>,
    ApiJson(change): ApiJson<StateChangeRequest>,
) -> Result<impl IntoResponse, HttpError> {
    let to = ThreadState::parse(&change.state)?;
    let fixed = fixed_pin(change.fixed_pin.as_deref())?;
    state
        .domain
        .review()
        .set_comment_state(Actor::Web(&caller), comment_id(&id)?, to, change.reason.as_deref(), fixed)
        .await?;
    Ok(Json(StateChanged { state: to.as_str().to_string() }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct VersionRequest {
    body: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/comments/{id}/versions",
    tag = "review",
    summary = "Edit a comment (adds a version)",
    params(("id" = i64, Path, minimum = 1, description = "The comment id")),
    request_body = VersionRequest,
    responses((status = 201, body = VersionAdded), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn add_version(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<VersionRequest>,
) -> Result<impl IntoResponse, HttpError> {
    let version = state.domain.review().edit_comment(Actor::Web(&caller), comment_id(&id)?, &request.body).await?;
    Ok((StatusCode::CREATED, Json(VersionAdded { version })))
}

async fn set_mark(
    state: AppState,
    caller: Caller,
    pin: String,
    path: String,
    reviewed: bool,
) -> Result<Response, HttpError> {
    let path = RepoPath::parse_url_encoded(&path)?;
    state.domain.coverage().mark_reviewed(Actor::Web(&caller), pin_id(&pin)?, &path, reviewed).await?;
    Ok(Json(Marked { path: path.as_str().to_string(), reviewed }).into_response())
}

#[utoipa::path(
    put,
    path = "/api/v1/pins/{pin}/reviewed/{path}",
    tag = "review",
    summary = "Mark a file reviewed",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"), ("path" = String, Path, description = "The file's path in the pin (slashes allowed)")),
    responses((status = 200, description = "Marked", body = Marked), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn mark(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    Path((pin, path)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    set_mark(state, caller, pin, path, true).await
}

#[utoipa::path(
    delete,
    path = "/api/v1/pins/{pin}/reviewed/{path}",
    tag = "review",
    summary = "Unmark a file",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"), ("path" = String, Path, description = "The file's path in the pin (slashes allowed)")),
    responses((status = 200, description = "Unmarked", body = Marked), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn unmark(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    Path((pin, path)): Path<(String, String)>,
) -> Result<Response, HttpError> {
    set_mark(state, caller, pin, path, false).await
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/coverage",
    tag = "review",
    summary = "Coverage per reviewer and together",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 200, body = CoverageBody), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn coverage(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<impl IntoResponse, HttpError> {
    // Files neither shown nor reviewed are left out of the lists: `total` says how many there are.
    let report = state.domain.coverage().coverage(Actor::Web(&caller), pin).await?.report(true);
    let combined = Combined {
        shown: report.combined.shown,
        reviewed: report.combined.reviewed,
        carried: report.combined.carried,
        compiled: report.combined.compiled,
    };
    Ok(Json(CoverageBody { total: report.total, indexed: report.indexed, reviewers: report.reviewers, combined }))
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/verdicts",
    tag = "review",
    summary = "A pin's verdicts",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 200, body = Verdicts), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn list_verdicts(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<impl IntoResponse, HttpError> {
    let page = state.domain.coverage().verdicts(Actor::Web(&caller), pin).await?;
    Ok(Json(Verdicts { verdicts: page.verdicts }))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub(crate) struct VerdictRequest {
    verdict: String,
    summary: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/pins/{pin}/verdicts",
    tag = "review",
    summary = "Submit a verdict",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    request_body = VerdictRequest,
    responses((status = 201, body = Created), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn create_verdict(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    PinPath(pin): PinPath,
    ApiJson(request): ApiJson<VerdictRequest>,
) -> Result<impl IntoResponse, HttpError> {
    let verdict = VerdictKind::parse(&request.verdict)?;
    let id = state.domain.coverage().submit_verdict(Actor::Web(&caller), pin, verdict, &request.summary).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}
