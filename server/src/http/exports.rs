//! Regulator exports over HTTP: `POST /api/v1/exports` (202 and the id), its state, the bundle
//! itself (streamed, to its creator), and the `/exports` page's form. Session (with the
//! anti-forgery token) or `Authorization: Bearer`.

use super::extract::ApiJson;
use super::extract::{ApiWrite, CsrfForm};
use super::forms::{back_to, optional};
use super::{AppState, HttpError};
use crate::domain::Actor;
use app::error::AppError;
use app::model::*;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/exports", post(create).get(list))
        .route("/api/v1/exports/estimate", post(estimate))
        .route("/api/v1/exports/{id}", get(status))
        .route("/api/v1/exports/{id}/bundle", get(bundle))
        .route("/exports", post(form_create))
        .route("/exports/estimate", post(form_estimate))
}

fn export_id(text: &str) -> Result<i64, HttpError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| HttpError(AppError::Invalid(format!("{text:?} is not an export id"))))
}

#[utoipa::path(
    post,
    path = "/api/v1/exports",
    tag = "exports",
    summary = "Start an export (staff, regulators)",
    request_body = ExportRequest,
    responses((status = 202, description = "Started; Location names it", body = crate::http::review::Created), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    ApiJson(request): ApiJson<ExportRequest>,
) -> Result<Response, HttpError> {
    let id = state.domain.exports().request_export(Actor::Web(&caller), &request, true).await?;
    let location = format!("/api/v1/exports/{id}");
    Ok((StatusCode::ACCEPTED, [(header::LOCATION, location)], Json(crate::http::review::Created { id }))
        .into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/exports/estimate",
    tag = "exports",
    summary = "What an export of a scope would hold",
    request_body = ExportRequest,
    responses((status = 200, body = ExportEstimate), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn estimate(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    ApiJson(request): ApiJson<ExportRequest>,
) -> Result<Json<ExportEstimate>, HttpError> {
    Ok(Json(state.domain.exports().estimate_export(Actor::Web(&caller), &request).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/exports",
    tag = "exports",
    summary = "Your exports (staff: everyone's)",
    responses((status = 200, body = Exports), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Exports>, HttpError> {
    let exports = state.domain.exports().exports(Actor::Web(&caller)).await?;
    Ok(Json(Exports { exports }))
}

/// The exports the caller may see, newest first.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Exports {
    exports: Vec<ExportStatus>,
}

#[utoipa::path(
    get,
    path = "/api/v1/exports/{id}",
    tag = "exports",
    summary = "An export's state and progress",
    params(("id" = i64, Path, minimum = 1, description = "The export id")),
    responses((status = 200, body = ExportStatus), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn status(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let status = state.domain.exports().export(Actor::Web(&caller), export_id(&id)?).await?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(status)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/exports/{id}/bundle",
    tag = "exports",
    summary = "The bundle (its creator only; recorded)",
    params(("id" = i64, Path, minimum = 1, description = "The export id")),
    responses((status = 200, content_type = "application/zip", body = Vec<u8>), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn bundle(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Response, HttpError> {
    let (path, name) = state.domain.exports().export_file(Actor::Web(&caller), export_id(&id)?).await?;
    let file = tokio::fs::File::open(&path).await.map_err(|e| HttpError(crate::domain::error::internal(&e)))?;
    let size = file.metadata().await.map(|m| m.len()).ok();
    let mut response = Response::new(Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024)));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, "application/zip".parse().expect("a header value"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{name}\"").parse().expect("a header value"),
    );
    headers.insert(header::CACHE_CONTROL, "no-store".parse().expect("a header value"));
    if let Some(size) = size {
        headers.insert(header::CONTENT_LENGTH, size.into());
    }
    Ok(response)
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ExportForm {
    /// The pins chosen in a multiple select: one `pins` field each (blank ones ignored).
    pins: Vec<String>,
    reviewer: String,
    from: String,
    until: String,
    previous_checkpoint: String,
}

/// The `/exports` page's "Estimate": back to the page with the scope in its address and the
/// estimate asked for. A post, so that the form's anti-forgery token is never in a URL (security
/// defect 12: it was a GET of the whole form); the address carries the scope alone.
async fn form_estimate(CsrfForm { caller: _, form }: CsrfForm<ExportForm>) -> Response {
    let mut query = form_urlencoded::Serializer::new(String::new());
    query.append_pair("estimate", "1");
    for pin in form.pins.iter().filter(|p| !p.trim().is_empty()) {
        query.append_pair("pins", pin.trim());
    }
    for (key, value) in [("reviewer", &form.reviewer), ("from", &form.from), ("until", &form.until)] {
        if let Some(value) = optional(value) {
            query.append_pair(key, value);
        }
    }
    axum::response::Redirect::to(&format!("/exports?{}#export-estimate", query.finish())).into_response()
}

/// The `/exports` page's form: starts an export and returns to the page.
async fn form_create(State(state): State<AppState>, CsrfForm { caller, form }: CsrfForm<ExportForm>) -> Response {
    let result = async {
        let pins = form
            .pins
            .iter()
            .filter(|p| !p.trim().is_empty())
            .map(|p| PinId::parse(p).map(|p| p.get()))
            .collect::<Result<Vec<_>, _>>()?;
        let given = |text: &str| optional(text).map(str::to_string);
        let request = ExportRequest {
            pins,
            reviewer: given(&form.reviewer),
            from: given(&form.from),
            until: given(&form.until),
            previous_checkpoint: given(&form.previous_checkpoint),
        };
        let id = state.domain.exports().request_export(Actor::Web(&caller), &request, true).await?;
        Ok::<_, AppError>(format!("export {id} started; it is listed below"))
    }
    .await;
    back_to("/exports", result)
}
