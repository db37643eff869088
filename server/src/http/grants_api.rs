//! Grants over HTTP (staff, signed in: no API token administers): listing them, and granting a
//! reviewer, regulator or supervisor pins for a time window, limited to paths if asked.

use super::{AppState, HttpError};
use crate::domain::Actor;
use crate::http::extract::{ApiJson, ApiWrite};
use app::model::{Caller, GrantSummary, PinId};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/grants", get(list).post(create))
}

/// A grant to make.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GrantRequest {
    /// The grantee's account.
    username: String,
    /// The pins granted (one grant each).
    pins: Vec<i64>,
    /// When it starts (RFC 3339, or `2026-11-28T10:00` as UTC); absent: now.
    #[serde(default)]
    from: Option<String>,
    /// When it ends.
    until: String,
    /// Gitignore-style patterns the grant is limited to (`crypto/**`, `!crypto/test/**`); absent
    /// or empty: the whole tree.
    #[serde(default)]
    paths: Vec<String>,
}

/// The grants made, one a pin.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Granted {
    ids: Vec<i64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/grants",
    tag = "access",
    summary = "Every grant, newest first, with its window, state and paths (staff, signed in)",
    responses((status = 200, body = Vec<GrantSummary>), crate::http::openapi::Refusals),
    security(("session" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<Json<Vec<GrantSummary>>, HttpError> {
    Ok(Json(state.domain.access().grants(Actor::Web(&caller)).await?))
}

#[utoipa::path(
    post,
    path = "/api/v1/grants",
    tag = "access",
    summary = "Grant an account pins for a time window, limited to paths if asked (staff, signed in; recorded)",
    request_body = GrantRequest,
    responses((status = 201, body = Granted), crate::http::openapi::Refusals),
    security(("session" = []))
)]
pub(crate) async fn create(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    ApiJson(request): ApiJson<GrantRequest>,
) -> Result<impl IntoResponse, HttpError> {
    let pins = request.pins.iter().map(|pin| PinId::parse(&pin.to_string())).collect::<Result<Vec<_>, _>>()?;
    let from = match request.from.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(text) => app::times::parse(text)?,
        None => state.domain.now_ms(),
    };
    let until = app::times::parse(request.until.trim())?;
    let ids = state
        .domain
        .access()
        .grant_paths(Actor::Web(&caller), &request.username, &pins, (from, until), &request.paths)
        .await?;
    Ok((StatusCode::CREATED, Json(Granted { ids })))
}
