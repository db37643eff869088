//! Builds and attestations over HTTP: recording a build (JSON, or the artifact itself as the
//! body), a pin's builds, its review summary, envelopes by artifact hash, the keys, a pin's
//! `.intoto.jsonl`, and what a hash was built from. Session (with the anti-forgery header) or
//! `Authorization: Bearer`.

use super::extract::{ApiWrite, CsrfForm};
use super::forms::{back_to, optional, Confirm};
use super::{AppState, HttpError};
use crate::domain::builds::BuildInput;
use crate::domain::Actor;
use crate::http::extract::ApiQuery;
use crate::http::extract::PinPath;
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
        .route("/api/v1/pins/{pin}/builds", post(record).get(list))
        .route("/api/v1/pins/{pin}/review-summary", post(review_summary))
        .route("/api/v1/attestations/{sha256}", get(attestations))
        .route("/api/v1/artifacts/{sha256}", get(artifact))
        .route("/api/v1/keys", get(keys))
        .route("/pins/{pin}/attestations.intoto.jsonl", get(jsonl))
        .route("/pins/{pin}/builds", post(form_record))
        .route("/pins/{pin}/review-summary", post(form_review_summary))
}

/// Whether a request is an artifact upload (it may take longer than other requests).
pub fn is_upload(method: &axum::http::Method, path: &str, headers: &HeaderMap) -> bool {
    method == axum::http::Method::POST
        && path.starts_with("/api/v1/pins/")
        && path.ends_with("/builds")
        && !is_json(headers)
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("application/json"))
}

/// A build described in JSON (`sha256` required) or in the query of an upload.
#[derive(Deserialize, Default, utoipa::ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub(crate) struct BuildFields {
    name: Option<String>,
    platform: Option<String>,
    sha256: Option<String>,
    size: Option<u64>,
    builder: Option<String>,
    command: Option<String>,
    toolchain: Option<String>,
    notes: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
    /// `debuginfo`: the body is the debug file of the artifact `of` (an upload only).
    kind: Option<String>,
    /// The SHA-256 of the artifact a debug file belongs to.
    of: Option<String>,
    /// Where the build tree was when it was built (`/home/ci/src`): stripped from the debug
    /// information's paths to name the pin's files (an upload only).
    source_prefix: Option<String>,
}

impl BuildFields {
    fn input(&self) -> Result<BuildInput, HttpError> {
        let time = |text: &Option<String>| -> Result<Option<i64>, HttpError> {
            match text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                None => Ok(None),
                Some(t) => Ok(Some(app::times::parse(t)?)),
            }
        };
        Ok(BuildInput {
            name: self.name.clone().unwrap_or_default(),
            platform: self.platform.clone().unwrap_or_default(),
            builder: self.builder.clone(),
            command: self.command.clone().unwrap_or_default(),
            toolchain: self.toolchain.clone().unwrap_or_default(),
            notes: self.notes.clone().unwrap_or_default(),
            started_at_ms: time(&self.started_at)?,
            finished_at_ms: time(&self.finished_at)?,
            source_prefix: self.source_prefix.clone(),
        })
    }

    fn sha256(&self) -> Result<Option<Sha256Hex>, HttpError> {
        Ok(self.sha256.as_deref().filter(|s| !s.trim().is_empty()).map(Sha256Hex::parse).transpose()?)
    }
}

/// What recording a build answers: the record, or for a debug file what was kept.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // it only describes the answer in the OpenAPI document
pub(crate) enum UploadAnswer {
    Build(crate::domain::builds::Recorded),
    DebugFile(Box<crate::domain::compiled::DebugFileRecorded>),
}

#[utoipa::path(
    post,
    path = "/api/v1/pins/{pin}/builds",
    tag = "builds",
    summary = "Record a build: its description as JSON, or the artifact itself as the body",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"), BuildFields),
    request_body(
        content((BuildFields = "application/json"), (Vec<u8> = "application/octet-stream")),
        description = "The build as JSON (sha256 required); or the artifact itself, described by the query"
    ),
    responses(
        (status = 201, description = "Recorded (a debug file: `DebugFileRecorded`)", body = UploadAnswer),
        crate::http::openapi::Refusals
    ),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn record(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    PinPath(pin): PinPath,
    ApiQuery(query): ApiQuery<BuildFields>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, HttpError> {
    match query.kind.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
        None | Some("artifact") => {}
        Some("debuginfo") if !is_json(&headers) => {
            let of = query.of.as_deref().filter(|s| !s.trim().is_empty()).ok_or_else(|| {
                HttpError(AppError::Invalid("a debug file names its artifact's SHA-256 as `of`".into()))
            })?;
            let of = Sha256Hex::parse(of)?;
            let stream = body.into_data_stream();
            let recorded = state
                .domain
                .compiled()
                .record_debug_file(Actor::Web(&caller), pin, &of, query.sha256()?.as_ref(), stream)
                .await?;
            return Ok((StatusCode::CREATED, Json(recorded)).into_response());
        }
        Some("debuginfo") => {
            return Err(HttpError(AppError::Invalid(
                "a debug file is uploaded as the body, not described in JSON".into(),
            )))
        }
        Some(_) => return Err(HttpError(AppError::Invalid("kind is `artifact` or `debuginfo`".into()))),
    }
    let recorded = if is_json(&headers) {
        let bytes = axum::body::to_bytes(body, 64 * 1024)
            .await
            .map_err(|_| HttpError(AppError::TooLarge("a build record is at most 64 KiB of JSON".into())))?;
        let fields: BuildFields = serde_json::from_slice(&bytes)
            .map_err(|e| HttpError(AppError::Invalid(format!("the build record is not valid: {e}"))))?;
        let sha256 = fields.sha256()?.ok_or_else(|| HttpError(AppError::Invalid("sha256 is required".into())))?;
        state.domain.builds().record_build(Actor::Web(&caller), pin, &fields.input()?, &sha256, fields.size).await?
    } else {
        let input = query.input()?;
        let expected = query.sha256()?;
        state
            .domain
            .builds()
            .record_upload(Actor::Web(&caller), pin, &input, expected.as_ref(), body.into_data_stream())
            .await?
    };
    Ok((StatusCode::CREATED, Json(recorded)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/builds",
    tag = "builds",
    summary = "A pin's artifacts with their reproducibility",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 200, body = Builds), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<impl IntoResponse, HttpError> {
    let page = state.domain.builds().pin_builds(Actor::Web(&caller), pin).await?;
    Ok(Json(Builds { pin: page.pin.id, commit: page.pin.commit_id, artifacts: page.artifacts }))
}

#[utoipa::path(
    post,
    path = "/api/v1/pins/{pin}/review-summary",
    tag = "builds",
    summary = "Issue the pin's review-summary attestation (staff)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 201, body = SummaryIssued), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn review_summary(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    PinPath(pin): PinPath,
) -> Result<impl IntoResponse, HttpError> {
    let sha256 = state.domain.attestations().issue_review_summary(Actor::Web(&caller), pin).await?;
    Ok((StatusCode::CREATED, Json(SummaryIssued { envelope_sha256: sha256 })))
}

/// A pin's artifacts, each with every record of it and whether the builders agree.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Builds {
    pin: PinId,
    commit: String,
    artifacts: Vec<ArtifactBuilds>,
}

/// The review-summary attestation just issued, by its envelope's SHA-256.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct SummaryIssued {
    envelope_sha256: String,
}

/// The DSSE envelopes that name an artifact, each as it was signed and stored (the description of
/// `envelope_list`'s answer, which writes the stored bytes rather than re-serialising them).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) struct Envelopes {
    /// DSSE envelopes: `payloadType`, `payload` (base64 in-toto statement), `signatures`.
    envelopes: Vec<serde_json::Value>,
}

/// `{"envelopes": [...]}` with each envelope exactly as it was signed and stored, so that its
/// SHA-256 is the one the log recorded.
fn envelope_list(envelopes: &[String]) -> Response {
    let body = format!("{{\"envelopes\":[{}]}}", envelopes.join(","));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[utoipa::path(
    get,
    path = "/api/v1/attestations/{sha256}",
    tag = "builds",
    summary = "The DSSE envelopes for an artifact hash",
    params(("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "Lowercase hex SHA-256")),
    responses((status = 200, body = Envelopes), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn attestations(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sha256): Path<String>,
) -> Result<Response, HttpError> {
    let envelopes =
        state.domain.attestations().attestations_for(Actor::Web(&caller), &Sha256Hex::parse(&sha256)?).await?;
    Ok(envelope_list(&envelopes))
}

#[utoipa::path(
    get,
    path = "/api/v1/artifacts/{sha256}",
    tag = "builds",
    summary = "What an artifact hash was built from",
    params(("sha256" = String, Path, pattern = "^[0-9a-f]{64}$", description = "Lowercase hex SHA-256")),
    responses((status = 200, body = ArtifactLookup), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn artifact(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(sha256): Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.domain.attestations().lookup_artifact(Actor::Web(&caller), &Sha256Hex::parse(&sha256)?).await?))
}

#[utoipa::path(
    get,
    path = "/api/v1/keys",
    tag = "builds",
    summary = "The attestation key and the log key",
    responses((status = 200, body = Keys), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn keys(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<impl IntoResponse, HttpError> {
    crate::domain::guard::signed_in(&caller)?;
    Ok(Json(state.domain.attestations().keys()))
}

async fn jsonl(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<Response, HttpError> {
    let text = state.domain.attestations().pin_attestations(Actor::Web(&caller), pin).await?;
    let disposition = format!("attachment; filename=\"pin-{pin}.intoto.jsonl\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/jsonl; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        text,
    )
        .into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct BuildForm {
    name: String,
    platform: String,
    builder: String,
    command: String,
    toolchain: String,
    notes: String,
    sha256: String,
}

async fn form_record(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    CsrfForm { caller, form }: CsrfForm<BuildForm>,
) -> Response {
    let result = async {
        let sha256 = Sha256Hex::parse(&form.sha256)?;
        let input = BuildInput {
            builder: optional(&form.builder).map(str::to_string),
            name: form.name,
            platform: form.platform,
            command: form.command,
            toolchain: form.toolchain,
            notes: form.notes,
            started_at_ms: None,
            finished_at_ms: None,
            source_prefix: None,
        };
        let recorded = state.domain.builds().record_build(Actor::Web(&caller), pin, &input, &sha256, None).await?;
        Ok(format!("build #{} recorded and attested", recorded.id))
    }
    .await;
    back_to(&format!("/pins/{pin}/builds"), result)
}

async fn form_review_summary(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    CsrfForm { caller, form: Confirm {} }: CsrfForm<Confirm>,
) -> Response {
    let result = async {
        let sha256 = state.domain.attestations().issue_review_summary(Actor::Web(&caller), pin).await?;
        Ok(format!("review summary issued (envelope sha256 {sha256})"))
    }
    .await;
    back_to(&format!("/pins/{pin}/builds"), result)
}
