//! The room over HTTP: a pin's recipe (set as JSON or TOML), its room builds (started, listed,
//! followed by their log), the mismatches of its artifacts with diffoscope's reports, and a report's
//! HTML as a download. Session (with the anti-forgery header) or `Authorization: Bearer`; the
//! pages' forms post to the same operations.

use super::extract::{ApiQuery, ApiWrite, CsrfForm, PinPath, QueryNumbers};
use super::forms::{back_to, Confirm};
use super::{AppState, HttpError};
use crate::builds::recipe::Recipe;
use crate::domain::Actor;
use app::error::AppError;
use app::model::*;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pins/{pin}/recipe", get(recipe).put(set_recipe))
        .route("/api/v1/pins/{pin}/room-builds", post(start).get(list))
        .route("/api/v1/pins/{pin}/mismatches", get(mismatches))
        .route("/api/v1/room-builds/{id}", get(one))
        .route("/api/v1/room-builds/{id}/log", get(log))
        .route("/api/v1/build-diffs/{id}/html", get(html))
        .route("/pins/{pin}/recipe", post(form_recipe))
        .route("/pins/{pin}/room-builds", post(form_start))
}

/// A room build's or report's id in a path (a 400 naming the rule otherwise).
fn id_of(text: &str, what: &str) -> Result<i64, HttpError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id >= 1)
        .ok_or_else(|| HttpError(AppError::Invalid(format!("{what} ids are whole numbers from 1"))))
}

/// A recipe from a request body: TOML unless it is sent as JSON.
fn parse_recipe(headers: &HeaderMap, bytes: &[u8]) -> Result<Recipe, HttpError> {
    let parsed = if crate::http::extract::sent_as_json(headers) {
        Recipe::from_json(bytes)
    } else {
        let text =
            std::str::from_utf8(bytes).map_err(|_| HttpError(AppError::Invalid("recipe: is not UTF-8".into())))?;
        Recipe::from_toml(text)
    };
    parsed.map_err(|error| HttpError(AppError::Invalid(error.to_string())))
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/recipe",
    tag = "room",
    summary = "A pin's build recipe (or null)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 200, body = Option<RecipeView>), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn recipe(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.domain.room().recipe(Actor::Web(&caller), pin).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/pins/{pin}/recipe",
    tag = "room",
    summary = "Set a pin's build recipe (staff): TOML, or JSON with Content-Type: application/json",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    request_body(content((String = "application/toml"), (Object = "application/json")), description = "The recipe (docs/attestations.md)"),
    responses((status = 200, body = RecipeView), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn set_recipe(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    PinPath(pin): PinPath,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, HttpError> {
    // Who may not set one is refused before the body is read.
    state.domain.room().may_set_recipe(Actor::Web(&caller), pin).await?;
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .map_err(|_| HttpError(AppError::TooLarge("a recipe is at most 64 KiB".into())))?;
    let recipe = parse_recipe(&headers, &bytes)?;
    Ok(Json(state.domain.room().set_recipe(Actor::Web(&caller), pin, &recipe).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/pins/{pin}/room-builds",
    tag = "room",
    summary = "Build the pin in the room with its recipe (staff); runs as a background job",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 202, body = RoomBuildView), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn start(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    PinPath(pin): PinPath,
) -> Result<impl IntoResponse, HttpError> {
    let build = state.domain.room().start(Actor::Web(&caller), pin).await?;
    Ok((StatusCode::ACCEPTED, Json(build)))
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/room-builds",
    tag = "room",
    summary = "The pin's room builds, newest first",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 200, body = Vec<RoomBuildView>), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.domain.room().builds_of(Actor::Web(&caller), pin).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/room-builds/{id}",
    tag = "room",
    summary = "One room build",
    params(("id" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The room build's id")),
    responses((status = 200, body = RoomBuildView), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn one(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.domain.room().build(Actor::Web(&caller), id_of(&id, "room build")?).await?))
}

/// Where a log part starts.
#[derive(Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogQuery {
    /// The byte offset to start from (the last answer's `next`); default 0.
    #[param(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    from: Option<i64>,
}

impl QueryNumbers for LogQuery {
    const NUMBERS: &'static [&'static str] = &["from"];
}

#[utoipa::path(
    get,
    path = "/api/v1/room-builds/{id}/log",
    tag = "room",
    summary = "A room build's log from a byte offset, and its state (each part sent is recorded)",
    params(("id" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The room build's id"), LogQuery),
    responses((status = 200, body = BuildLogPart), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn log(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    ApiQuery(query): ApiQuery<LogQuery>,
) -> Result<impl IntoResponse, HttpError> {
    let id = id_of(&id, "room build")?;
    let from = match query.from.unwrap_or(0) {
        from if from < 0 => return Err(HttpError(AppError::Invalid("from is a byte offset, 0 or more".into()))),
        from => from as u64,
    };
    Ok(Json(state.domain.room().log(Actor::Web(&caller), id, from).await?))
}

/// A mismatch as the API gives it: its records, and its report with diffoscope's JSON when done.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct MismatchOut {
    name: String,
    platform: String,
    records: Vec<MismatchRecord>,
    diff: DiffOut,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct DiffOut {
    /// `queued`, `running`, `done`, `failed`, or `unavailable` (an artifact is not kept).
    state: String,
    id: Option<i64>,
    reason: Option<String>,
    report_sha256: Option<String>,
    /// diffoscope's JSON report, when `done`.
    #[schema(value_type = Option<Object>)]
    report: Option<serde_json::Value>,
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/mismatches",
    tag = "room",
    summary = "The pin's artifacts whose builders disagree, with diffoscope's report on each (viewing one is recorded)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 200, body = Vec<MismatchOut>), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn mismatches(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<impl IntoResponse, HttpError> {
    let found = state.domain.room().mismatches(Actor::Web(&caller), pin, true).await?;
    let out: Vec<MismatchOut> = found
        .into_iter()
        .map(|(mismatch, report)| MismatchOut {
            name: mismatch.name,
            platform: mismatch.platform,
            records: mismatch.records,
            diff: DiffOut {
                state: mismatch.diff.state,
                id: mismatch.diff.id,
                reason: mismatch.diff.reason,
                report_sha256: mismatch.diff.report_sha256,
                report,
            },
        })
        .collect();
    Ok(Json(out))
}

#[utoipa::path(
    get,
    path = "/api/v1/build-diffs/{id}/html",
    tag = "room",
    summary = "diffoscope's own HTML report, as a zip to download (recorded)",
    params(("id" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The report's id")),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn html(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let id = id_of(&id, "report")?;
    let path = state.domain.room().diff_html(Actor::Web(&caller), id).await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|_| HttpError(AppError::NotFound("the report's HTML is no longer kept".into())))?;
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file));
    let disposition = format!("attachment; filename=\"diffoscope-report-{id}.zip\"");
    Ok(([(header::CONTENT_TYPE, "application/zip".to_string()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct RecipeForm {
    recipe: String,
}

async fn form_recipe(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    CsrfForm { caller, form }: CsrfForm<RecipeForm>,
) -> Response {
    let result = async {
        state.domain.room().may_set_recipe(Actor::Web(&caller), pin).await?;
        let recipe = Recipe::from_toml(&form.recipe).map_err(|e| AppError::Invalid(e.to_string()))?;
        let set = state.domain.room().set_recipe(Actor::Web(&caller), pin, &recipe).await?;
        Ok(format!("recipe set (sha256 {})", set.digest))
    }
    .await;
    back_to(&format!("/pins/{pin}/builds#room"), result)
}

async fn form_start(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    match state.domain.room().start(Actor::Web(&caller), pin).await {
        Ok(build) => axum::response::Redirect::to(&format!("/pins/{pin}/room/{}", build.id)).into_response(),
        Err(error) => back_to(&format!("/pins/{pin}/builds#room"), Err::<String, _>(error)),
    }
}
