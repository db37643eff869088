//! Compiled-code maps over HTTP: an artifact's map at a pin, and asking for it to be built again.
//! A companion debug file is uploaded through the builds API (`kind=debuginfo&of=`).

use super::extract::{ApiWrite, PinPath};
use super::{AppState, HttpError};
use crate::domain::Actor;
use app::model::*;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use std::collections::HashMap;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/pins/{pin}/artifacts/{sha256}/compiled", get(map).post(request))
}

fn sha256_of(segments: &HashMap<String, String>) -> Result<Sha256Hex, HttpError> {
    Ok(Sha256Hex::parse(segments.get("sha256").map(String::as_str).unwrap_or_default())?)
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/artifacts/{sha256}/compiled",
    tag = "builds",
    summary = "Which lines of the pin an artifact was compiled from (its compiled-code map)",
    params(
        ("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"),
        ("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "The artifact's lowercase hex SHA-256")
    ),
    responses((status = 200, body = CompiledMap), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn map(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    Path(segments): Path<HashMap<String, String>>,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.domain.compiled().map(Actor::Web(&caller), pin, &sha256_of(&segments)?).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/pins/{pin}/artifacts/{sha256}/compiled",
    tag = "builds",
    summary = "Build an artifact's compiled-code map again (staff)",
    params(
        ("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"),
        ("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "The artifact's lowercase hex SHA-256")
    ),
    responses((status = 202, body = CompiledMap), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn request(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    PinPath(pin): PinPath,
    Path(segments): Path<HashMap<String, String>>,
) -> Result<impl IntoResponse, HttpError> {
    let queued = state.domain.compiled().request(Actor::Web(&caller), pin, &sha256_of(&segments)?).await?;
    Ok((StatusCode::ACCEPTED, Json(queued)))
}
