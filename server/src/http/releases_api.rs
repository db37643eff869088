//! Releases over HTTP: a repository's release policy (set as TOML or JSON).

use super::{AppState, HttpError};
use crate::domain::releases::PolicyFormat;
use crate::domain::Actor;
use crate::http::extract::ApiWrite;
use app::error::AppError;
use app::model::{Caller, ReleasePolicyView};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/v1/repositories/{name}/release-policy", get(policy).put(set_policy))
}

/// The largest policy document accepted.
const MAX_POLICY: usize = 64 * 1024;

#[utoipa::path(
    get,
    path = "/api/v1/repositories/{name}/release-policy",
    tag = "releases",
    summary = "A repository's release policy (or null): staff, regulators, supervisors",
    params(("name" = String, Path, description = "The repository's name")),
    responses((status = 200, body = Option<ReleasePolicyView>), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn policy(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.domain.releases().policy(Actor::Web(&caller), &name).await?))
}

#[utoipa::path(
    put,
    path = "/api/v1/repositories/{name}/release-policy",
    tag = "releases",
    summary = "Set a repository's release policy (staff): TOML, or JSON with Content-Type: application/json",
    params(("name" = String, Path, description = "The repository's name")),
    request_body(content((String = "application/toml"), (Object = "application/json")), description = "The policy (docs/releases.md)"),
    responses((status = 200, body = ReleasePolicyView), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn set_policy(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, HttpError> {
    // Who may not set one is refused before the body is read.
    crate::domain::guard::require(&Actor::Web(&caller), crate::domain::guard::Permission::ManageReleases)?;
    let bytes = axum::body::to_bytes(body, MAX_POLICY)
        .await
        .map_err(|_| HttpError(AppError::TooLarge("a release policy is at most 64 KiB".into())))?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| HttpError(AppError::Invalid("release policy: policy: is not UTF-8".into())))?;
    let format = if crate::http::extract::sent_as_json(&headers) { PolicyFormat::Json } else { PolicyFormat::Toml };
    Ok(Json(state.domain.releases().set_policy(Actor::Web(&caller), &name, text, format).await?))
}
