//! Extractors that do a handler's checks before it runs, the same way for every route: the caller
//! of an API write (a token, or a session that sent its page's anti-forgery token), a form post
//! (its anti-forgery token, then its typed fields) and a pin id in the path. Each refuses with the
//! one error response of its kind, with the request's id: `HttpError` (JSON) for the API,
//! `html_error` (a page) for a form.

use super::session::csrf_matches;
use super::{error_page, html_error, HttpError};
use app::error::AppError;
use app::model::{Caller, PinId};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
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

/// A JSON request body: a JSON object, sent as `Content-Type: application/json`. Anything else
/// is refused like every other API refusal (JSON, with the request id): 415 for another media
/// type, 413 past the body limit, 400 for a body that is not an object of what the route takes
/// (an array is not read as the object's fields in order).
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = HttpError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let media = request.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let essence = media.unwrap_or("").split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        if essence != "application/json" && !essence.ends_with("+json") {
            return Err(HttpError(AppError::UnsupportedMedia(
                "send the body as a JSON object, with Content-Type: application/json".into(),
            )));
        }
        let body = Bytes::from_request(request, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                HttpError(AppError::TooLarge("the body is larger than this route takes".into()))
            } else {
                HttpError(AppError::Invalid("the body could not be read".into()))
            }
        })?;
        if body.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
            return Err(HttpError(AppError::Invalid("the body must be a JSON object".into())));
        }
        serde_json::from_slice(&body)
            .map(ApiJson)
            .map_err(|error| HttpError(AppError::Invalid(format!("the body is not what this route takes: {error}"))))
    }
}

/// A route's query, read into `T`; a malformed one is the API's JSON 400 naming the parameter.
pub struct ApiQuery<T>(pub T);

/// The parameters of a route's query that are numbers. Sent empty (`?end=`), one is refused: an
/// empty value is no number, whereas the reader of a form would take it as left out.
pub trait QueryNumbers {
    const NUMBERS: &'static [&'static str];
}

impl<T: serde::de::DeserializeOwned + QueryNumbers, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = HttpError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        if let Some((name, _)) = form_urlencoded::parse(query.as_bytes())
            .find(|(name, value)| value.trim().is_empty() && T::NUMBERS.contains(&name.as_ref()))
        {
            return Err(HttpError(AppError::Invalid(format!("{name} is empty: give a number or leave it out"))));
        }
        serde_html_form::from_str(query)
            .map(ApiQuery)
            .map_err(|error| HttpError(AppError::Invalid(format!("the query is not what this route takes: {error}"))))
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

/// A form post from a page: the caller, whose anti-forgery token (the `csrf` field) matched, and
/// the form's other fields parsed into `T` (a field the form did not send takes `T`'s default, as
/// a browser leaves out an unticked box). Refused with an error page, as a browser expects.
pub struct CsrfForm<T> {
    pub caller: Caller,
    pub form: T,
}

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<S: Send + Sync, T: serde::de::DeserializeOwned> FromRequest<S> for CsrfForm<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let caller = request.extensions().get::<Caller>().cloned().ok_or_else(|| html_error(AppError::Unauthorized))?;
        let body = Bytes::from_request(request, state).await.map_err(IntoResponse::into_response)?;
        let sent: CsrfField = serde_html_form::from_bytes(&body).unwrap_or(CsrfField { csrf: String::new() });
        if !csrf_matches(&caller, &sent.csrf) {
            return Err(error_page(StatusCode::FORBIDDEN, "Form expired", "Reload the page and try again."));
        }
        let form = serde_html_form::from_bytes(&body)
            .map_err(|error| html_error(AppError::Invalid(format!("the form could not be read: {error}"))))?;
        Ok(CsrfForm { caller, form })
    }
}

macro_rules! query_numbers {
    ($($type:ty => [$($name:literal),*];)*) => {
        $(impl QueryNumbers for $type {
            const NUMBERS: &'static [&'static str] = &[$($name),*];
        })*
    };
}

query_numbers! {
    super::api::Range => ["start", "end"];
    super::api::LatestQuery => [];
    super::api::InclusionQuery => ["index", "size"];
    super::api::ConsistencyQuery => ["from", "to"];
    super::builds_api::BuildFields => ["size"];
    super::source_api::LinesParams => ["from"];
    super::source_api::CompareParams => ["page"];
    super::source_api::DiffParams => [];
    super::history_api::HistoryParams => ["page"];
    super::history_api::BlameParams => [];
    super::sarif_api::ResultsParams => ["page"];
    super::search_api::SearchParams => ["per_page"];
    super::search_api::FilesParams => [];
    app::model::CommentFilter => ["page"];
}

/// Whether a request's body is sent as JSON (`application/json` or `…+json`); documents the API
/// takes as TOML or JSON are TOML otherwise.
pub fn sent_as_json(headers: &axum::http::HeaderMap) -> bool {
    let media = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = media.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}
