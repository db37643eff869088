//! Every request gets an id: 16 random hex digits, sent back as `X-Request-Id`, carried by every
//! log line made while answering it (a tracing span), shown on error pages and in JSON errors, and
//! used as the reference of an internal error. The same middleware counts the request and its
//! latency for the metrics.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

pub use crate::request_scope::current;
use crate::request_scope::REQUEST_ID;

fn new_id() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

pub async fn assign(request: Request, next: Next) -> Response {
    let id = new_id();
    let method = match request.method().as_str() {
        known @ ("GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE" | "OPTIONS") => known.to_string(),
        _ => "other".to_string(),
    };
    let route = crate::metrics::route_family(request.uri().path());
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);
    let started = std::time::Instant::now();
    let mut response = REQUEST_ID.scope(id.clone(), next.run(request).instrument(span)).await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    let metrics = crate::metrics::metrics();
    let labels = crate::metrics::RequestLabels { method, route: route.clone(), status: response.status().as_u16() };
    metrics.requests.get_or_create(&labels).inc();
    metrics
        .request_seconds
        .get_or_create(&crate::metrics::RouteLabels { route })
        .observe(started.elapsed().as_secs_f64());
    response
}
