//! HTTP: the Leptos pages, sign-in and sign-out, the staff forms, the JSON API, health, and the
//! middleware every request passes (security headers, forgery checks, identifying the caller).
//! Each area owns a `router()`; `startup` merges them.

pub mod account;
pub mod api;
pub mod builds_api;
pub mod compiled_api;
pub mod exports;
pub mod extract;
pub mod forms;
pub mod grants_api;
pub mod history_api;
pub mod middleware;
pub mod network;
pub mod notice;
pub mod openapi;
pub mod public;
pub mod release_forms;
pub mod releases_api;
pub mod request_id;
pub mod requirements_api;
pub mod review;
pub mod room_api;
pub mod sarif_api;
pub mod search_api;
pub mod session;
pub mod session_state;
pub mod source_api;
pub mod spliced;
pub mod staff;

use crate::domain::Domain;
use app::error::AppError;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use std::sync::Arc;

/// State shared by the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    pub domain: Arc<Domain>,
    pub leptos_options: leptos::config::LeptosOptions,
    pub login_limiter: Arc<session::LoginLimiter>,
    /// Requests per client to the public routes (`public`).
    pub public_limiter: Arc<public::PublicLimiter>,
    /// Seals the messages forms send back to their pages (`notice`).
    pub notices: notice::NoticeKey,
}

impl axum::extract::FromRef<AppState> for leptos::config::LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// An `AppError` as a plain HTTP response (for API and form routes).
pub struct HttpError(pub AppError);

impl From<AppError> for HttpError {
    fn from(error: AppError) -> Self {
        HttpError(error)
    }
}

impl From<app::model::InputError> for HttpError {
    fn from(error: app::model::InputError) -> Self {
        HttpError(error.into())
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        error_answer(&self.0, Shape::Json)
    }
}

/// How an error is answered: as JSON (the API and the pages' scripts) or as a page (a browser's
/// form post or navigation). Both carry the request's id.
#[derive(Clone, Copy)]
pub enum Shape {
    Json,
    Page,
}

/// The one way an `AppError` becomes a response: its status, its public message (never an
/// internal error's text, which `AppError` keeps out of its message) and the request's id.
pub fn error_answer(error: &AppError, shape: Shape) -> Response {
    let status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    match shape {
        Shape::Json => {
            let body = serde_json::json!({ "error": error.to_string(), "request_id": request_id::current() });
            (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
        }
        Shape::Page => error_page(status, error.title(), &error.to_string()),
    }
}

/// An `AppError` as an HTML page, for routes a browser posts forms to.
pub fn html_error(error: AppError) -> Response {
    error_answer(&error, Shape::Page)
}

/// The frame of the few pages written outside Leptos (errors, a secret shown once): the same
/// header as every page (without the person's menu), and the content.
fn plain_page(title: &str, main: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{t} · Clearroom</title>\
         <link rel=\"stylesheet\" href=\"/style/main.css\"></head><body>\
         <header class=\"topbar\"><a href=\"/\" class=\"brand\"><span class=\"brand-mark\" aria-hidden=\"true\"></span>Clearroom</a></header>\
         <div class=\"page\"><main class=\"content narrow\">{main}</main></div></body></html>",
        t = app::html::escape(title),
    )
}

/// A minimal HTML page for errors outside the Leptos pages, with the request's id.
pub fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let escape = app::html::escape;
    let main = format!(
        "<section class=\"error-panel\" role=\"alert\"><h1>{t}</h1><p>{m}</p><p><a href=\"/\">Back to Clearroom</a></p>\
         <p class=\"muted\">Request id {r}</p></section>",
        t = escape(title),
        m = escape(message),
        r = escape(&request_id::current().unwrap_or_else(|| "none".into()))
    );
    (status, [(header::CACHE_CONTROL, "no-store")], Html(plain_page(title, &main))).into_response()
}

/// A page that shows a secret once (a generated password, an API token): never cached, never in
/// a URL.
pub fn secret_page(title: &str, message: &str, secret: &str, back: &str) -> Response {
    let escape = app::html::escape;
    let main = format!(
        "<section class=\"notice notice-ok\" role=\"status\"><h1>{t}</h1><p>{m}</p>\
         <p><code id=\"secret\" class=\"secret\">{s}</code></p><p>Pass it on through a channel you trust; it is not shown again.</p>\
         <p><a href=\"{b}\">Back</a></p></section>",
        t = escape(title),
        m = escape(message),
        s = escape(secret),
        b = escape(back)
    );
    (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")], Html(plain_page(title, &main))).into_response()
}
