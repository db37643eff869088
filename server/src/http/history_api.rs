//! The JSON API over the history behind pins: the first-parent commits between two pins, one
//! commit's diffs, and blame at a pin. Session only (no token reads source); the same policy, the
//! same recorded events as the pages.

use super::{AppState, HttpError};
use crate::domain::Actor;
use crate::http::extract::ApiQuery;
use app::model::*;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pins/{a}/history/{b}", get(history))
        .route("/api/v1/pins/{a}/history/{b}/commits/{commit}", get(commit))
        .route("/api/v1/pins/{pin}/blame", get(blame))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct HistoryParams {
    /// The page, from 1 (50 commits a page).
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
}

/// The first-parent commits from pin `a` to pin `b` (`git log --first-parent A..B`), newest first;
/// with the `full` policy at both pins each lists its changed files.
#[utoipa::path(
    get,
    path = "/api/v1/pins/{a}/history/{b}",
    tag = "source",
    summary = "The commits between two pins, as their history policy shows them (recorded)",
    params(("a" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The older pin"), ("b" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The newer pin"), HistoryParams),
    responses((status = 200, body = HistoryView), crate::http::openapi::Refusals),
    security(("session" = []))
)]
pub(crate) async fn history(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((a, b)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<HistoryParams>,
) -> Result<impl IntoResponse, HttpError> {
    let page = super::source_api::page(params.page.as_deref())?;
    let (a, b) = (PinId::parse(&a)?, PinId::parse(&b)?);
    Ok(Json(state.domain.history().history(Actor::Web(&caller), a, b, page).await?))
}

/// One commit between two pins with each changed file's diff against its first parent (the
/// `full` history policy at both pins): git's hunks, three lines of context.
#[utoipa::path(
    get,
    path = "/api/v1/pins/{a}/history/{b}/commits/{commit}",
    tag = "source",
    summary = "One commit between two pins with its diffs (recorded)",
    params(("a" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The older pin"), ("b" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The newer pin"), ("commit" = String, Path, pattern = "^[0-9a-f]{40}$", description = "The commit's id")),
    responses((status = 200, body = CommitDiffView), crate::http::openapi::Refusals),
    security(("session" = []))
)]
pub(crate) async fn commit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((a, b, commit)): Path<(String, String, String)>,
) -> Result<impl IntoResponse, HttpError> {
    let (a, b) = (PinId::parse(&a)?, PinId::parse(&b)?);
    Ok(Json(state.domain.history().commit(Actor::Web(&caller), a, b, &commit, Some(3)).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct BlameParams {
    /// The file's path at the pin.
    path: Option<String>,
}

/// Who last changed each line of a file at a pin (`git blame` at the pinned commit): runs of lines
/// by commit, the commits, and the lines highlighted as HTML.
#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/blame",
    tag = "source",
    summary = "Blame of a file at a pin (recorded as a view of the file)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"), BlameParams),
    responses((status = 200, body = BlameView), crate::http::openapi::Refusals),
    security(("session" = []))
)]
pub(crate) async fn blame(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    super::extract::PinPath(pin): super::extract::PinPath,
    ApiQuery(params): ApiQuery<BlameParams>,
) -> Result<impl IntoResponse, HttpError> {
    let path = params.path.as_deref().map(RepoPath::parse).transpose()?.unwrap_or_else(RepoPath::root);
    Ok(Json(state.domain.history().blame(Actor::Web(&caller), pin, &path).await?))
}
