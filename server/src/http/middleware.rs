//! Middleware every request passes: who is calling (session or API token, with the session's
//! deadline enforced), forgery checks on state-changing requests, and strict response headers.

use super::session_state::TypedSession;
use super::{error_page, network, AppState, HttpError};
use crate::domain::error::internal;
use crate::domain::Resumed;
use app::error::AppError;
use app::model::Caller;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Extension;
use tower_sessions::Session;

/// The CSP for responses that are not Leptos pages (pages add their script nonce).
pub const DEFAULT_CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
     form-action 'self'; frame-ancestors 'none'";

/// A page's CSP: its nonce lets its own inline scripts run and its own `<style>` (the compiled
/// lines' marks) apply; nothing else inline does.
pub fn page_csp(nonce: &str) -> String {
    DEFAULT_CSP
        .replacen(
            "script-src 'self' 'wasm-unsafe-eval'",
            &format!("script-src 'self' 'wasm-unsafe-eval' 'nonce-{nonce}'"),
            1,
        )
        .replacen("style-src 'self'", &format!("style-src 'self' 'nonce-{nonce}'"), 1)
}

fn is_public_asset(path: &str) -> bool {
    path.starts_with("/pkg/") || path.starts_with("/style/") || path == "/favicon.svg"
}

/// Adds security headers; source-bearing and dynamic responses are never cached.
pub async fn security_headers(State(secure): State<bool>, request: Request, next: Next) -> Response {
    let cacheable = is_public_asset(request.uri().path());
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let mut set = |name: header::HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::CONTENT_SECURITY_POLICY, DEFAULT_CSP);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::X_FRAME_OPTIONS, "DENY");
    set(header::REFERRER_POLICY, "same-origin");
    set(header::HeaderName::from_static("cross-origin-opener-policy"), "same-origin");
    set(header::HeaderName::from_static("cross-origin-resource-policy"), "same-origin");
    set(header::HeaderName::from_static("permissions-policy"), "camera=(), microphone=(), geolocation=(), payment=()");
    if secure {
        set(header::STRICT_TRANSPORT_SECURITY, "max-age=63072000; includeSubDomains");
    }
    // Nothing is stored by a cache unless its handler says so (an immutable log tile).
    set(header::CACHE_CONTROL, if cacheable { "public, max-age=300" } else { "no-store" });
    response
}

/// Response compression, zstd, br or gzip as the client prefers, at the fastest level (a highlighted
/// page still shrinks about sevenfold; higher levels cost more CPU than they save on a LAN). Artifacts, bundles and other binary downloads are
/// sent as they are: they are already compressed or are hashed by the receiver byte for byte.
pub fn compression() -> tower_http::compression::CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::compression::predicate::{NotForContentType, Predicate as _};
    use tower_http::compression::{CompressionLayer, CompressionLevel, DefaultPredicate};
    let predicate = DefaultPredicate::new()
        .and(NotForContentType::const_new("application/octet-stream"))
        .and(NotForContentType::const_new("application/zip"));
    CompressionLayer::new().quality(CompressionLevel::Fastest).compress_when(predicate)
}

/// Answers 503 when a request takes longer than a minute, or an hour for an artifact upload.
pub async fn deadline(request: Request, next: Next) -> Response {
    let upload = super::builds_api::is_upload(request.method(), request.uri().path(), request.headers())
        || super::sarif_api::is_upload(request.method(), request.uri().path());
    let limit = std::time::Duration::from_secs(if upload { 3600 } else { 60 });
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            error_page(StatusCode::SERVICE_UNAVAILABLE, "Timed out", "The request took too long and was stopped.")
        }
    }
}

/// Refuses a state-changing request unless the browser says it came from this site: its
/// `Sec-Fetch-Site` is `same-origin` or its `Origin` is this site's (scheme, host and port). A
/// request that says neither is refused too (login forgery needs no cookie), except one carrying
/// an API token, which no other site can make a browser send.
pub async fn same_origin_writes(request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !safe {
        let expected = request.extensions().get::<network::Origin>().and_then(|o| o.expected_origin.clone());
        if !same_origin(request.headers(), expected.as_deref()) {
            return error_page(StatusCode::FORBIDDEN, "Request refused", "This form was not sent from this site.");
        }
    }
    next.run(request).await
}

fn same_origin(headers: &HeaderMap, expected: Option<&str>) -> bool {
    let site = headers.get("sec-fetch-site").map(|v| v.to_str().unwrap_or(""));
    let origin = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or(""));
    if site.is_some_and(|site| site != "same-origin") {
        return false;
    }
    if let Some(origin) = origin {
        return expected.is_some_and(|expected| origin.eq_ignore_ascii_case(expected));
    }
    site.is_some() || bearer_token(headers).is_some()
}

fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
}

/// Works out the caller from an API token or the session, ends sessions past their deadline or
/// whose reviewer lost every grant, and sends anonymous page requests to the sign-in page.
pub async fn identify(
    State(state): State<AppState>,
    Extension(origin): Extension<network::Origin>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Response {
    // The API and the metrics answer in their own formats and accept API tokens; all else is pages.
    let api = request.uri().path().starts_with("/api/")
        || request.uri().path() == "/metrics"
        || (request.uri().path() == "/entries" && request.method() == Method::POST);
    match identify_caller(&state, origin.client, session.clone(), request.headers(), api).await {
        Ok((caller, ended)) => {
            let path = request.uri().path().to_string();
            let page = request.method() == Method::GET
                && !is_public_asset(&path)
                && !api
                && !path.starts_with("/fn/")
                && path != "/login"
                && path != "/releases"
                && path != "/healthz";
            if caller.identity.is_none() && page {
                let query = if ended { "expired=1".to_string() } else { format!("next={}", encode(&path)) };
                return Redirect::to(&format!("/login?{query}")).into_response();
            }
            if caller.identity.is_none() && api {
                return HttpError(AppError::Unauthorized).into_response();
            }
            if page && caller.identity.is_some() {
                // A form refused on its way here: the page shows it next to the form.
                match TypedSession(session).take_form(&path).await {
                    Ok(Some(kept)) => {
                        request.extensions_mut().insert(kept);
                    }
                    Ok(None) => {}
                    Err(error) => return super::html_error(internal(&error)),
                }
            }
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) if api => HttpError(error).into_response(),
        Err(error) => super::html_error(error),
    }
}

fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn identify_caller(
    state: &AppState,
    client: std::net::IpAddr,
    session: Session,
    headers: &HeaderMap,
    api: bool,
) -> Result<(Caller, bool), AppError> {
    let mut caller = Caller::anonymous(client.to_string());
    if let Some(token) = bearer_token(headers) {
        // Tokens are for the API; pages and the pages' server functions (which return source)
        // are for people signed in.
        if !api {
            return Err(AppError::Forbidden("API tokens work only on /api/v1; sign in to use the pages".into()));
        }
        let Some((identity, access)) = state.domain.sessions().identity_for_token(token.trim()).await? else {
            return Err(AppError::Unauthorized);
        };
        caller.session = Some("api-token".into());
        caller.identity = Some(identity);
        caller.token = Some(access);
        return Ok((caller, false));
    }
    let session = TypedSession(session);
    let Some(data) = session.get().await.map_err(|e| internal(&e))? else {
        return Ok((caller, false));
    };
    match state.domain.sessions().resume_session(&data).await? {
        Resumed::Ended => {
            session.end().await.map_err(|e| internal(&e))?;
            Ok((caller, true))
        }
        Resumed::Active { identity, touched, access_ends_ms } => {
            if let Some(touched) = touched {
                session.set(&touched).await.map_err(|e| internal(&e))?;
            }
            caller.identity = Some(identity);
            caller.session = session.fingerprint();
            caller.csrf_token = Some(data.csrf);
            caller.access_ends_ms = Some(access_ends_ms);
            Ok((caller, false))
        }
    }
}

/// A server function's error is answered 500 whatever it is (Leptos' server functions know no other
/// status); its body is the `AppError`, so this layer gives the answer that error's status: a
/// refusal is a 403, a malformed call a 400, and only a fault stays a 500 (and counts as one).
pub async fn server_fn_status(request: Request, next: Next) -> Response {
    let is_server_fn = request.uri().path().starts_with("/fn/");
    let response = next.run(request).await;
    if !is_server_fn || response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "the answer could not be read").into_response();
    };
    if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    }
    Response::from_parts(parts, axum::body::Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    #[test]
    fn a_cross_site_write_is_refused() {
        let site = Some("http://a.test");
        assert!(same_origin(&headers(&[("origin", "http://a.test")]), site));
        assert!(same_origin(&headers(&[("sec-fetch-site", "same-origin")]), site));
        assert!(same_origin(&headers(&[("origin", "http://a.test"), ("sec-fetch-site", "same-origin")]), site));
        assert!(!same_origin(&headers(&[("origin", "http://evil.test")]), site));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "cross-site")]), site));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "same-site")]), site));
        assert!(!same_origin(&headers(&[("sec-fetch-site", "none")]), site));
        assert!(!same_origin(&headers(&[("origin", "null")]), site));
        // The scheme counts: an http page of the same host cannot write to the https site.
        assert!(!same_origin(&headers(&[("origin", "http://a.test")]), Some("https://a.test")));
        // Saying nothing is refused, unless an API token is sent.
        assert!(!same_origin(&headers(&[]), site));
        assert!(same_origin(&headers(&[("authorization", "Bearer x")]), site));
        // A token does not excuse a cross-site browser request.
        assert!(!same_origin(&headers(&[("authorization", "Bearer x"), ("origin", "http://evil.test")]), site));
    }

    #[test]
    fn a_page_csp_carries_the_nonce() {
        assert!(page_csp("abc").contains("'nonce-abc'"));
    }
}
