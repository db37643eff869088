//! The public routes, served to anyone without signing in: the public log as C2SP tlog-tiles
//! (`/bt/checkpoint`, `/bt/tile/…`, `/bt/key`), the entries naming an artifact (`/bt/lookup/…`),
//! Transparent Statements (`/bt/statement/…`), and the SCITT interface (`/entries/{id}`,
//! `/.well-known/scitt-keys`). They read only the public log, write no audit event, and are
//! limited per client (`limit`). Registering a statement (`POST /entries`) needs an issuer's
//! token: it is in `releases_api`.

use super::{AppState, HttpError};
use crate::domain::transparency::Registration;
use app::error::AppError;
use app::model::Sha256Hex;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::IpAddr;
use std::num::NonZeroU32;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/bt/checkpoint", get(checkpoint))
        .route("/bt/key", get(key))
        .route("/bt/tile/{*path}", get(tile))
        .route("/bt/lookup/{sha256}", get(lookup))
        .route("/bt/statement/{entry_id}", get(statement))
        .route("/entries/{entry_id}", get(receipt))
        .route("/.well-known/scitt-keys", get(scitt_keys))
}

/// Whether a path is one of the public routes (limited per client; `/releases` is the page).
pub fn is_public(path: &str) -> bool {
    path.starts_with("/bt/")
        || path.starts_with("/entries/")
        || path == "/.well-known/scitt-keys"
        || path == "/releases"
        || path == "/fn/public_releases"
}

/// Requests per client to the public routes.
pub struct PublicLimiter(Option<DefaultKeyedRateLimiter<IpAddr>>);

impl PublicLimiter {
    /// `per_minute` requests a minute, in bursts of a fifth of that; 0: no limit.
    pub fn new(per_minute: u32) -> PublicLimiter {
        PublicLimiter(NonZeroU32::new(per_minute).map(|rate| {
            let burst = NonZeroU32::new((per_minute / 5).max(1)).expect("at least 1");
            governor::RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        }))
    }

    fn allow(&self, client: IpAddr) -> bool {
        self.0.as_ref().is_none_or(|limiter| limiter.check_key(&client).is_ok())
    }

    /// Forgets buckets that are full again.
    pub fn prune(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Answers 429 to a client past its share of the public routes.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if is_public(request.uri().path()) {
        let client = request.extensions().get::<super::network::Origin>().map(|o| o.client);
        if client.is_some_and(|client| !state.public_limiter.allow(client)) {
            let mut response = HttpError(AppError::TooMany("too many requests: wait a minute".into())).into_response();
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            return response;
        }
    }
    next.run(request).await
}

fn text(body: String, cache: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/plain; charset=utf-8"), (header::CACHE_CONTROL, cache)], body).into_response()
}

async fn checkpoint(State(state): State<AppState>) -> Result<Response, HttpError> {
    Ok(text(state.domain.transparency().checkpoint().await?, "no-cache"))
}

async fn key(State(state): State<AppState>) -> Response {
    text(state.domain.transparency().verifier_key() + "\n", "public, max-age=3600")
}

async fn tile(State(state): State<AppState>, Path(path): Path<String>) -> Result<Response, HttpError> {
    match state.domain.transparency().tile(&path).await? {
        // A tile at a width never changes (a partial one is a prefix of the full one).
        Some(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "application/octet-stream"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            bytes,
        )
            .into_response()),
        None => Err(HttpError(AppError::NotFound("the public log has no such tile yet".into()))),
    }
}

async fn lookup(State(state): State<AppState>, Path(sha256): Path<String>) -> Result<Response, HttpError> {
    let sha256 = Sha256Hex::parse(&sha256)?;
    let found = state.domain.transparency().lookup(&sha256).await?;
    Ok(([(header::CACHE_CONTROL, "no-cache")], Json(found)).into_response())
}

fn entry_id(text: &str) -> Result<String, HttpError> {
    Sha256Hex::parse(text)
        .map(|s| s.as_str().to_string())
        .map_err(|_| HttpError(AppError::Invalid("an entry id is the statement's SHA-256, 64 hex digits".into())))
}

fn cose(bytes: Vec<u8>, disposition: Option<String>) -> Response {
    let mut response =
        ([(header::CONTENT_TYPE, "application/cose"), (header::CACHE_CONTROL, "no-cache")], bytes).into_response();
    if let Some(value) = disposition.and_then(|d| HeaderValue::from_str(&d).ok()) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

async fn statement(State(state): State<AppState>, Path(id): Path<String>) -> Result<Response, HttpError> {
    let id = entry_id(&id)?;
    match state.domain.transparency().transparent_statement(&id).await? {
        Some(bytes) => Ok(cose(bytes, Some(format!("attachment; filename=\"{}.cose\"", &id[..16])))),
        None => Err(HttpError(AppError::NotFound("the public log has no such entry".into()))),
    }
}

async fn receipt(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    let Ok(id) = entry_id(&id) else {
        return problem(&Registration { status: 400, rule: "entry_id", detail: "not a SHA-256".into() });
    };
    match state.domain.transparency().receipt(&id).await {
        Ok(Some(bytes)) => cose(bytes, None),
        Ok(None) => problem(&Registration { status: 404, rule: "entry_id", detail: "no such entry".into() }),
        Err(error) => HttpError(error).into_response(),
    }
}

async fn scitt_keys(State(state): State<AppState>) -> Response {
    let keys = state.domain.transparency().key_set();
    ([(header::CONTENT_TYPE, "application/cbor"), (header::CACHE_CONTROL, "public, max-age=3600")], keys)
        .into_response()
}

/// RFC 9290 concise problem details: `{-1: title, -2: detail, -4: response code}`, the title
/// naming the registration policy's rule.
pub fn problem(refusal: &Registration) -> Response {
    use coset::cbor::value::Value;
    let map = Value::Map(vec![
        (Value::from(-1), Value::Text(format!("refused by the {} rule", refusal.rule))),
        (Value::from(-2), Value::Text(refusal.detail.clone())),
        (Value::from(-4), Value::from(refusal.status)),
    ]);
    let mut body = Vec::new();
    coset::cbor::ser::into_writer(&map, &mut body).expect("CBOR to memory");
    let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
    (status, [(header::CONTENT_TYPE, "application/concise-problem-details+cbor")], body).into_response()
}
