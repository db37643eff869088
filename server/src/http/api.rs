//! The JSON API under `/api/v1` (session or `Authorization: Bearer` token) and the health check.

use super::{AppState, HttpError};
use app::model::Caller;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Extension, Json, Router};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/log/entries", get(log_entries))
        .route("/healthz", get(health))
}

#[derive(Deserialize)]
struct Range {
    start: Option<String>,
    end: Option<String>,
}

#[derive(Serialize)]
struct Entry {
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

#[derive(Serialize)]
struct Entries {
    start: i64,
    end: i64,
    entries: Vec<Entry>,
}

fn number(text: &Option<String>, default: i64) -> Result<i64, HttpError> {
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(default),
        Some(t) => t.parse().map_err(|_| {
            HttpError(app::error::AppError::Invalid(
                "start and end are whole numbers".into(),
            ))
        }),
    }
}

async fn log_entries(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(range): Query<Range>,
) -> Result<impl IntoResponse, HttpError> {
    let start = number(&range.start, 0)?;
    let end = number(&range.end, start + 100)?;
    let entries = state.domain.log_entries(&caller, start, end).await?;
    let end = entries.last().map(|e| e.index + 1).unwrap_or(start);
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
    match state.domain.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "database unavailable" })),
        ),
    }
}
