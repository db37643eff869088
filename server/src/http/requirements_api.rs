//! Requirements over HTTP: staff import a pin's requirement list (the API, or the traceability
//! page's form), and the pin's readers read its traceability. Sessions send `X-CSRF-Token` on
//! writes.

use super::{AppState, HttpError};
use crate::domain::Actor;
use crate::http::extract::{ApiWrite, PinPath};
use crate::http::forms::{back_to, file_after_csrf};
use crate::review::requirements::MAX_LIST_BYTES;
use app::error::AppError;
use app::model::*;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

pub fn router() -> Router<AppState> {
    // A list at the cap, with room for a form's other fields.
    let limit = DefaultBodyLimit::max(MAX_LIST_BYTES + 64 * 1024);
    Router::new()
        .route("/api/v1/pins/{pin}/requirements", post(import).layer(limit))
        .route("/api/v1/pins/{pin}/traceability", get(traceability))
        .route("/pins/{pin}/requirements", post(form_import).layer(limit))
}

#[utoipa::path(
    post,
    path = "/api/v1/pins/{pin}/requirements",
    tag = "review",
    summary = "Import the pin's requirement list: CSV (header id,title,text) or JSON (staff; recorded)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    request_body(content = String, content_type = "text/csv", description = "The list, at most 8 MiB: CSV with the header `id,title,text`, or JSON, an array of {id, title, text}"),
    responses((status = 201, body = RequirementsImported), crate::http::openapi::Refusals),
    security(("session" = []))
)]
pub(crate) async fn import(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    PinPath(pin): PinPath,
    body: Bytes,
) -> Result<impl IntoResponse, HttpError> {
    let imported = state.domain.requirements().import(Actor::Web(&caller), pin, &body).await?;
    Ok((StatusCode::CREATED, Json(imported)))
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/traceability",
    tag = "review",
    summary = "Each requirement of the pin's list with the regions traced to it, their review state, findings and verdict notes (recorded)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 200, body = Traceability), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn traceability(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<Json<Traceability>, HttpError> {
    Ok(Json(state.domain.requirements().traceability(Actor::Web(&caller), pin).await?))
}

/// The page's import: a multipart form with the anti-forgery token first and the list as `file`.
async fn form_import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    mut form: Multipart,
) -> Response {
    let result = async {
        let file = file_after_csrf(&caller, &mut form).await?;
        let too_large = |_| AppError::TooLarge(format!("a requirement list is at most {} MiB", MAX_LIST_BYTES >> 20));
        let bytes = file.bytes().await.map_err(too_large)?;
        let imported = state.domain.requirements().import(Actor::Web(&caller), pin, &bytes).await?;
        Ok(format!("imported {} requirements", imported.requirements))
    }
    .await;
    back_to(&format!("/pins/{pin}/traceability"), result)
}
