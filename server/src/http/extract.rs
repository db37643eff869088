//! Extractors that do a handler's checks before it runs, the same way for every route: the caller
//! of an API write (a token, or a session that sent its page's anti-forgery token) and a pin id in
//! the path. Each refuses with the one error response (`HttpError`, with the request's id).

use super::session::csrf_matches;
use super::HttpError;
use app::error::AppError;
use app::model::{Caller, PinId};
use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use std::collections::HashMap;

/// The caller of a write through the JSON API: an API token needs nothing more; a session must
/// send its page's anti-forgery token as `X-CSRF-Token`. Checked before the body is read.
pub struct ApiWrite(pub Caller);

impl<S: Send + Sync> FromRequestParts<S> for ApiWrite {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let caller = parts.extensions.get::<Caller>().cloned().ok_or(HttpError(AppError::Unauthorized))?;
        if caller.token.is_some() {
            return Ok(ApiWrite(caller));
        }
        let sent = parts.headers.get("x-csrf-token").and_then(|v| v.to_str().ok()).unwrap_or("");
        if csrf_matches(&caller, sent) {
            Ok(ApiWrite(caller))
        } else {
            Err(HttpError(AppError::Forbidden("send the page's X-CSRF-Token header with this request".into())))
        }
    }
}

/// The `{pin}` segment of a route's path, parsed (a 400 naming the rule otherwise).
pub struct PinPath(pub PinId);

impl<S: Send + Sync> FromRequestParts<S> for PinPath {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(segments) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|_| HttpError(AppError::Invalid("the path could not be read".into())))?;
        let text = segments.get("pin").ok_or_else(|| HttpError(AppError::Invalid("the route names no pin".into())))?;
        Ok(PinPath(PinId::parse(text)?))
    }
}
