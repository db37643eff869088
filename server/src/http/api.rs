//! The JSON API under `/api/v1` (session or `Authorization: Bearer` token) and the health check.

use super::{AppState, HttpError};
use crate::domain::Actor;
use crate::http::extract::ApiQuery;
use app::model::Caller;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/log/entries", get(log_entries))
        .route("/api/v1/log/entries/{index}/proof", get(entry_proof))
        .route("/api/v1/log/checkpoint", get(checkpoint))
        .route("/api/v1/log/key", get(verifier_key))
        .route("/api/v1/log/tile/{*path}", get(log_tile))
        .route("/api/v1/log/proof/inclusion", get(inclusion_proof))
        .route("/api/v1/log/proof/consistency", get(consistency_proof))
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Range {
    /// The first entry's index (default 0).
    #[param(value_type = Option<u64>, maximum = 9223372036854775807_u64)]
    start: Option<String>,
    /// One past the last entry's index (default `start` + 100).
    #[param(value_type = Option<u64>, maximum = 9223372036854775807_u64)]
    end: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Entry {
    index: i64,
    /// The exact leaf bytes, base64.
    leaf: String,
    /// Hex SHA-256(0x00 ‖ leaf).
    leaf_hash: String,
    recorded_at_ms: i64,
    actor: Option<String>,
    action: String,
    outcome: String,
    pin: Option<i64>,
    path: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Entries {
    start: u64,
    end: u64,
    entries: Vec<Entry>,
}

/// An entry index from the query: a whole number no larger than the log's largest index (i64).
fn number(text: &Option<String>, default: u64) -> Result<u64, HttpError> {
    let refused = || HttpError(app::error::AppError::Invalid("start and end are whole numbers below 2^63".into()));
    match text.as_deref().map(str::trim) {
        None => Ok(default),
        Some(t) => t.parse::<u64>().ok().filter(|n| *n <= i64::MAX as u64).ok_or_else(refused),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/log/entries",
    tag = "log",
    summary = "Exact log entries (leaf bytes in base64, leaf hashes)",
    params(Range),
    responses((status = 200, body = Entries), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn log_entries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(range): ApiQuery<Range>,
) -> Result<impl IntoResponse, HttpError> {
    let start = number(&range.start, 0)?;
    let end = number(&range.end, start.saturating_add(100).min(i64::MAX as u64))?;
    let entries = state.domain.log().log_entries(Actor::Web(&caller), start, end).await?;
    let end = entries.last().map(|e| e.index as u64 + 1).unwrap_or(start);
    Ok(Json(Entries {
        start,
        end,
        entries: entries
            .into_iter()
            .map(|e| Entry {
                index: e.index,
                leaf: base64::engine::general_purpose::STANDARD.encode(e.leaf.as_bytes()),
                leaf_hash: e.leaf_hash,
                recorded_at_ms: e.recorded_at_ms,
                actor: e.actor,
                action: e.action,
                outcome: e.outcome,
                pin: e.pin,
                path: e.path,
            })
            .collect(),
    }))
}

async fn health(State(state): State<AppState>) -> impl IntoResponse {
    match state.domain.health().await {
        Ok(()) => {
            let witnesses = match state.domain.log().witnesses_keep_up().await {
                Ok(true) => "ok",
                Ok(false) => "a checkpoint has waited over 10 minutes for the witnesses' quorum",
                Err(_) => "unknown",
            };
            let cache = state.domain.highlight_cache_figures();
            let integrity = state.domain.log().integrity_status();
            // A failed self-check does not take the service out of rotation (the records are
            // still served, and the failure is itself evidence); it is named here for monitoring.
            let status = if integrity.alarm.is_some() { "alarm" } else { "ok" };
            let body = serde_json::json!({
                "status": status, "witnesses": witnesses, "highlight_cache": cache, "self_audit": integrity,
            });
            (StatusCode::OK, Json(body))
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "database unavailable" }))),
    }
}

/// Prometheus' text format, for staff (a session or an `ops:read` token).
async fn metrics(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> Result<axum::response::Response, HttpError> {
    let body = state.domain.metrics_text(Some(&caller)).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], body).into_response())
}

/// A tile of the log, C2SP tlog-tiles under the prefix `/api/v1/log` (whose `checkpoint` is the
/// tiles' checkpoint): `tile/<L>/<N>[.p/<W>]` (hashes) or `tile/entries/<N>[.p/<W>]`.
#[utoipa::path(
    get,
    path = "/api/v1/log/tile/{path}",
    tag = "log",
    summary = "A tile of the log (C2SP tlog-tiles): 32-byte hashes, or an entry bundle",
    params(("path" = String, Path, description = "`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, N in 3-digit groups")),
    responses(
        (status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        crate::http::openapi::Refusals
    ),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn log_tile(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    axum::extract::Path(path): axum::extract::Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    let (bytes, immutable) = state.domain.log().tile(Actor::Web(&caller), &path).await?;
    // A full hash tile never changes; it names no event, so a reader's own cache may keep it.
    // Partial tiles grow, and entry bundles are read again only as a recorded read.
    let cache = if immutable { "private, max-age=31536000, immutable" } else { "no-store" };
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/octet-stream"), (axum::http::header::CACHE_CONTROL, cache)],
        bytes,
    ))
}

fn text(body: String) -> axum::response::Response {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

fn parse_u64(name: &str, value: Option<&str>) -> Result<u64, HttpError> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| HttpError(app::error::AppError::Invalid(format!("{name} is required"))))?
        .parse()
        .map_err(|_| HttpError(app::error::AppError::Invalid(format!("{name} must be a whole number"))))
}

/// An inclusion proof: the sibling hashes from the leaf up, each standard base64.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ProofBody {
    index: u64,
    size: u64,
    proof: Vec<String>,
}

/// A consistency proof from `from` to `to` entries, each hash standard base64.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ConsistencyBody {
    from: u64,
    to: u64,
    proof: Vec<String>,
}

fn encode_hashes(hashes: &[[u8; 32]]) -> Vec<String> {
    hashes.iter().map(|h| base64::engine::general_purpose::STANDARD.encode(h)).collect()
}

/// The latest signed checkpoint (signed now if the log grew since), as a signed note.
#[utoipa::path(
    get,
    path = "/api/v1/log/checkpoint",
    tag = "log",
    summary = "The latest checkpoint (C2SP signed note; cosigned under a witness policy)",
    params(LatestQuery),
    responses((status = 200, content_type = "text/plain", body = String), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn checkpoint(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<LatestQuery>,
) -> Result<impl IntoResponse, HttpError> {
    let latest = matches!(query.latest.as_deref(), Some("1" | "true"));
    Ok(text(state.domain.log().served_checkpoint(Actor::Web(&caller), latest).await?.note))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct LatestQuery {
    /// `1` or `true`: sign a checkpoint of the log as it is now, not the latest one published.
    latest: Option<String>,
}

/// The log's verifier key in signed-note verifier-key format.
#[utoipa::path(
    get,
    path = "/api/v1/log/key",
    tag = "log",
    summary = "The log's verifier key (signed-note vkey)",
    responses((status = 200, content_type = "text/plain", body = String), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn verifier_key(State(state): State<AppState>) -> impl IntoResponse {
    text(format!("{}\n", state.domain.log().log_verifier_key()))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct InclusionQuery {
    /// The entry's index.
    #[param(value_type = u64, required = true)]
    index: Option<String>,
    /// The tree size the proof is for (a checkpoint's size).
    #[param(value_type = u64, required = true)]
    size: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/log/proof/inclusion",
    tag = "log",
    summary = "An RFC 9162 inclusion proof (hashes in base64)",
    params(InclusionQuery),
    responses((status = 200, body = ProofBody), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn inclusion_proof(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<InclusionQuery>,
) -> Result<impl IntoResponse, HttpError> {
    let index = parse_u64("index", query.index.as_deref())?;
    let size = parse_u64("size", query.size.as_deref())?;
    let proof = state.domain.log().inclusion_proof(Actor::Web(&caller), index, size).await?;
    Ok(Json(ProofBody { index, size, proof: encode_hashes(&proof) }))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct ConsistencyQuery {
    /// The older tree size.
    #[param(value_type = u64, required = true)]
    from: Option<String>,
    /// The newer tree size.
    #[param(value_type = u64, required = true)]
    to: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/log/proof/consistency",
    tag = "log",
    summary = "An RFC 9162 consistency proof (hashes in base64)",
    params(ConsistencyQuery),
    responses((status = 200, body = ConsistencyBody), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn consistency_proof(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    ApiQuery(query): ApiQuery<ConsistencyQuery>,
) -> Result<impl IntoResponse, HttpError> {
    let from = parse_u64("from", query.from.as_deref())?;
    let to = parse_u64("to", query.to.as_deref())?;
    let proof = state.domain.log().consistency_proof(Actor::Web(&caller), from, to).await?;
    Ok(Json(ConsistencyBody { from, to, proof: encode_hashes(&proof) }))
}

/// One entry's `c2sp.org/tlog-proof@v1` against the latest checkpoint, as a download.
#[utoipa::path(
    get,
    path = "/api/v1/log/entries/{index}/proof",
    tag = "log",
    summary = "One entry's c2sp.org/tlog-proof@v1 against the latest checkpoint",
    params(("index" = u64, Path, description = "The entry index")),
    responses((status = 200, content_type = "text/plain", body = String), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn entry_proof(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    axum::extract::Path(index): axum::extract::Path<String>,
) -> Result<impl IntoResponse, HttpError> {
    let index = parse_u64("the entry index", Some(&index))?;
    let proof = state.domain.log().entry_proof(Actor::Web(&caller), index).await?;
    let mut response = text(proof);
    let disposition = format!("attachment; filename=\"entry-{index}.tlog-proof\"");
    if let Ok(value) = axum::http::HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(axum::http::header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}
