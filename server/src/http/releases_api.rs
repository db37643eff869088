//! Releases over HTTP: a repository's release policy (set as TOML or JSON), proposing a release,
//! reading it and its dossier, supervisors' keys and decisions.

use super::{AppState, HttpError};
use crate::domain::releases::PolicyFormat;
use crate::domain::Actor;
use crate::http::extract::{ApiJson, ApiWrite, PinPath};
use app::error::AppError;
use app::model::{Caller, NewRelease, ReleasePolicyView, ReleaseView, SupervisorKey};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/repositories/{name}/release-policy", get(policy).put(set_policy))
        .route("/api/v1/pins/{pin}/releases", post(propose).get(list))
        .route("/api/v1/releases/{id}", get(release))
        .route("/api/v1/releases/{id}/dossier", get(dossier))
        .route("/api/v1/releases/{id}/decisions", post(decide))
        .route("/api/v1/users/{username}/keys", post(register_key).get(keys))
        .route("/entries", post(register_statement))
}

pub(super) fn release_id(text: &str) -> Result<i64, HttpError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| HttpError(AppError::Invalid(format!("{text:?} is not a release id"))))
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

#[utoipa::path(
    post,
    path = "/api/v1/pins/{pin}/releases",
    tag = "releases",
    summary = "Propose a release of a pin (staff): freezes its dossier under the repository's policy",
    params(("pin" = i64, Path, description = "The pin's id")),
    request_body = NewRelease,
    responses((status = 201, body = ReleaseView), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn propose(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    PinPath(pin): PinPath,
    ApiJson(release): ApiJson<NewRelease>,
) -> Result<impl IntoResponse, HttpError> {
    let view = state.domain.releases().propose(Actor::Web(&caller), pin, &release).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/releases",
    tag = "releases",
    summary = "A pin's releases, oldest first: staff, regulators, supervisors",
    params(("pin" = i64, Path, description = "The pin's id")),
    responses((status = 200, body = Vec<ReleaseView>), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.domain.releases().releases_of_pin(Actor::Web(&caller), pin).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/releases/{id}",
    tag = "releases",
    summary = "A release: its state, each rule met or not, the supervisors' decisions",
    params(("id" = i64, Path, description = "The release's id")),
    responses((status = 200, body = ReleaseView), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.domain.releases().release(Actor::Web(&caller), release_id(&id)?).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/releases/{id}/dossier",
    tag = "releases",
    summary = "A release's dossier: the DSSE envelope supervisors sign (recorded)",
    params(("id" = i64, Path, description = "The release's id")),
    responses((status = 200, body = Object, content_type = "application/json"), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn dossier(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    let envelope = state.domain.releases().dossier(Actor::Web(&caller), release_id(&id)?).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], envelope))
}

#[utoipa::path(
    post,
    path = "/api/v1/releases/{id}/decisions",
    tag = "releases",
    summary = "A supervisor's signature or objection, as `server supervisor sign` or `object` wrote it",
    params(("id" = i64, Path, description = "The release's id")),
    request_body(content = Object, description = "The decision file (docs/releases.md)"),
    responses((status = 200, body = ReleaseView), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn decide(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    Path(id): Path<String>,
    ApiJson(file): ApiJson<serde_json::Value>,
) -> Result<impl IntoResponse, HttpError> {
    let id = release_id(&id)?;
    let text = file.to_string();
    Ok(Json(state.domain.releases().decide(Actor::Web(&caller), id, None, &text).await?))
}

/// A key to register: the verifier key line `server supervisor key` printed.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct KeyToRegister {
    vkey: String,
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{username}/keys",
    tag = "releases",
    summary = "Register a supervisor's (or builder's) Ed25519 public key (staff)",
    params(("username" = String, Path, description = "The account")),
    request_body = KeyToRegister,
    responses((status = 201, body = SupervisorKey), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn register_key(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    Path(username): Path<String>,
    ApiJson(key): ApiJson<KeyToRegister>,
) -> Result<impl IntoResponse, HttpError> {
    let key = state.domain.releases().register_key(Actor::Web(&caller), &username, &key.vkey).await?;
    Ok((StatusCode::CREATED, Json(key)))
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{username}/keys",
    tag = "releases",
    summary = "An account's registered public keys (staff, regulators, supervisors, the account)",
    params(("username" = String, Path, description = "The account")),
    responses((status = 200, body = Vec<SupervisorKey>), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(username): Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.domain.releases().keys_of(Actor::Web(&caller), &username).await?))
}

/// Registers a Signed Statement in the public log (SCRAPI `POST /entries`, `application/cose`):
/// 201 with its receipt and `Location: /entries/{id}` (200 for one registered before); a refusal
/// is RFC 9290 problem details naming the registration policy's rule.
pub(crate) async fn register_statement(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: HeaderMap,
    body: Body,
) -> axum::response::Response {
    use crate::domain::transparency::Registration;
    use crate::http::public::problem;
    let refuse =
        |status: u16, rule: &'static str, detail: &str| problem(&Registration { status, rule, detail: detail.into() });
    if caller.identity.is_none() {
        return refuse(401, "issuer", "send an issuer's API token");
    }
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    if media.split(';').next().unwrap_or("").trim() != "application/cose" {
        return refuse(415, "media_type", "send the Signed Statement as application/cose");
    }
    let limit = crate::transparency::MAX_STATEMENT;
    let Ok(bytes) = axum::body::to_bytes(body, limit + 1).await else {
        return refuse(413, "size", &format!("a statement is at most {limit} bytes"));
    };
    match state.domain.transparency().register(Actor::Web(&caller), &bytes).await {
        Ok((id, receipt, created)) => {
            let status = if created { StatusCode::CREATED } else { StatusCode::OK };
            let location = format!("/entries/{id}");
            (status, [(header::CONTENT_TYPE, "application/cose".to_string()), (header::LOCATION, location)], receipt)
                .into_response()
        }
        Err(refusal) => problem(&refusal),
    }
}
