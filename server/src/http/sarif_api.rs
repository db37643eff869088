//! Imported tool results over HTTP: a reviewer posts a SARIF 2.1.0 log for a pin (the API, or the
//! page's form), lists the pin's logs and a log's results, and triages a result. Sessions send
//! `X-CSRF-Token` on writes; a token needs the `review` scope.

use super::{AppState, HttpError};
use crate::domain::Actor;
use crate::http::extract::{ApiJson, ApiQuery, ApiWrite, CsrfForm, PinPath};
use crate::http::forms::{back_page, back_to, file_after_csrf, optional};
use app::error::AppError;
use app::model::*;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use futures_util::StreamExt as _;
use serde::Deserialize;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pins/{pin}/sarif", post(import).get(logs))
        .route("/api/v1/pins/{pin}/sarif/{log}", get(results))
        .route("/api/v1/pins/{pin}/sarif/{log}/results/{index}/triage", post(triage))
        // The page's form takes the log as large as the API does (the domain enforces the cap).
        .route("/pins/{pin}/sarif", post(form_import).layer(DefaultBodyLimit::disable()))
        .route("/pins/{pin}/sarif/{log}/results/{index}/triage", post(form_triage))
}

/// Whether a request is a SARIF upload (it may take longer than other requests).
pub fn is_upload(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST
        && path.ends_with("/sarif")
        && (path.starts_with("/api/v1/pins/") || path.starts_with("/pins/"))
}

/// A log's id in a path (a 400 naming the rule otherwise).
fn log_id(text: &str) -> Result<i64, AppError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| (1..=999_999_999_999_999_999).contains(id))
        .ok_or_else(|| AppError::Invalid("a log id is a positive number".into()))
}

/// A result's number in its log, from 0.
fn result_index(text: &str) -> Result<i64, AppError> {
    text.parse::<i64>()
        .ok()
        .filter(|id| (0..=999_999_999_999_999_999).contains(id))
        .ok_or_else(|| AppError::Invalid("a result's number is 0 or more".into()))
}

#[utoipa::path(
    post,
    path = "/api/v1/pins/{pin}/sarif",
    tag = "review",
    summary = "Import a SARIF 2.1.0 log of a tool's results for the pin (a reviewer; recorded)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    request_body(content = String, content_type = "application/sarif+json", description = "The SARIF 2.1.0 log, at most 128 MiB"),
    responses((status = 201, body = SarifImported), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn import(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    PinPath(pin): PinPath,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, HttpError> {
    let media = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    if !(essence.is_empty() || essence.ends_with("json") || essence == "application/octet-stream") {
        return Err(HttpError(AppError::UnsupportedMedia(
            "send the log as its JSON, with Content-Type: application/sarif+json".into(),
        )));
    }
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    let imported =
        state.domain.tool_results().import(Actor::Web(&caller), pin, declared, body.into_data_stream()).await?;
    Ok((StatusCode::CREATED, Json(imported)))
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/sarif",
    tag = "review",
    summary = "The pin's imported tool logs, with counts by triage state per log and per rule (recorded)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id")),
    responses((status = 200, body = SarifLogs), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn logs(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
) -> Result<Json<SarifLogs>, HttpError> {
    Ok(Json(state.domain.tool_results().logs(Actor::Web(&caller), pin).await?))
}

/// A filter of a log's results, as the query gives it.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ResultsParams {
    /// `untriaged`, `confirmed`, `false_positive` or `not_useful`.
    state: Option<String>,
    /// A rule's id.
    rule: Option<String>,
    /// `error`, `warning`, `note` or `none`.
    level: Option<String>,
    /// The page, from 1 (100 results a page).
    #[param(value_type = Option<u32>, minimum = 1)]
    page: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/sarif/{log}",
    tag = "review",
    summary = "One imported log's results with their triage, filtered and paged (recorded)",
    params(
        ("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"),
        ("log" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The log's id"),
        ResultsParams
    ),
    responses((status = 200, body = SarifResults), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn results(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((pin, log)): Path<(String, String)>,
    ApiQuery(params): ApiQuery<ResultsParams>,
) -> Result<Json<SarifResults>, HttpError> {
    let (pin, log) = (PinId::parse(&pin)?, log_id(&log)?);
    let filter = SarifFilter {
        state: params.state,
        rule: params.rule,
        level: params.level,
        page: super::source_api::page(params.page.as_deref())?,
    };
    let mut view = state.domain.tool_results().results(Actor::Web(&caller), pin, log, &filter).await?;
    view.csrf_token = String::new();
    Ok(Json(view))
}

#[utoipa::path(
    post,
    path = "/api/v1/pins/{pin}/sarif/{log}/results/{index}/triage",
    tag = "review",
    summary = "Triage a result: confirmed (it becomes a finding), false_positive or not_useful (a reviewer; recorded)",
    params(
        ("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"),
        ("log" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The log's id"),
        ("index" = i64, Path, minimum = 0, maximum = 999_999_999_999_999_999_i64, description = "The result's number in the log, from 0")
    ),
    request_body = TriageInput,
    responses((status = 201, body = Triaged), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn triage(
    State(state): State<AppState>,
    ApiWrite(caller): ApiWrite,
    Path((pin, log, index)): Path<(String, String, String)>,
    ApiJson(input): ApiJson<TriageInput>,
) -> Result<impl IntoResponse, HttpError> {
    let (pin, log, index) = (PinId::parse(&pin)?, log_id(&log)?, result_index(&index)?);
    let triaged = state.domain.tool_results().triage(Actor::Web(&caller), pin, log, index, &input).await?;
    Ok((StatusCode::CREATED, Json(triaged)))
}

/// The page's upload: a multipart form with the anti-forgery token first and the log as `file`.
async fn form_import(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    mut form: Multipart,
) -> Response {
    let page = format!("/pins/{pin}/sarif");
    let result = async {
        let file = file_after_csrf(&caller, &mut form).await?;
        let stream = file.map(|chunk| chunk.map_err(|_| std::io::Error::other("the upload was cut off")));
        let imported = state.domain.tool_results().import(Actor::Web(&caller), pin, None, Box::pin(stream)).await?;
        Ok((
            imported.id,
            format!(
                "imported {} results: {} placed in the pin, {} outside it",
                imported.results, imported.placed, imported.outside
            ),
        ))
    }
    .await;
    match result {
        Ok((id, done)) => back_to(&format!("/pins/{pin}/sarif/{id}"), Ok(done)),
        Err(error) => back_to(&page, Err(error)),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(crate) struct TriageForm {
    back: String,
    state: String,
    reason: String,
    severity: String,
}

async fn form_triage(
    State(state): State<AppState>,
    Path((pin, log, index)): Path<(String, String, String)>,
    CsrfForm { caller, form }: CsrfForm<TriageForm>,
) -> Response {
    let back = back_page(&form.back, format!("/pins/{pin}/sarif/{log}"));
    let result = async {
        let (pin, log, index) = (PinId::parse(&pin)?, log_id(&log)?, result_index(&index)?);
        let state_of = Triage::parse(form.state.trim())
            .ok_or_else(|| AppError::Invalid("choose confirmed, false positive or not useful".into()))?;
        let input = TriageInput {
            state: state_of,
            reason: form.reason.clone(),
            severity: optional(&form.severity).map(str::to_string),
        };
        let triaged = state.domain.tool_results().triage(Actor::Web(&caller), pin, log, index, &input).await?;
        Ok(match triaged.finding {
            Some(finding) => format!("result {index} confirmed: finding #{finding}"),
            None => format!("result {index} triaged as {}", state_of.label().to_lowercase()),
        })
    }
    .await;
    back_to(&back, result)
}
