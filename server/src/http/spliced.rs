//! File pages sent with gzip carry their code rows as they were compressed once per file
//! (`source::rows`): the page is rendered with a marker in place of the rows, and this layer sends
//! the page's head and tail deflated around the packed rows, as one gzip member. Rendering and
//! compressing a 5,000-line file's rows was most of a file view's cost; now a view pays for the
//! page around them.
//!
//! Only a `GET` of `/pins/{pin}/blob/…` from a client that accepts gzip is given a slot; the domain
//! fills it only when it records and reads the file as for any view (the audit event is stored
//! before the page is rendered), and only when no thread sits between the rows.

use crate::source::rows::{gzip_around, PackedRows};
use app::backend::RowsSlot;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The most page (without its rows) this layer holds to splice; a larger one is sent as it is.
const PAGE_MAX: usize = 16 * 1024 * 1024;

pub async fn splice_rows(mut request: Request, next: Next) -> Response {
    let wanted =
        request.method() == Method::GET && is_file_page(request.uri().path()) && accepts_gzip(request.headers());
    if !wanted {
        return next.run(request).await;
    }
    let slot = RowsSlot::new(format!("<!--rows-{}-->", hex::encode(rand::random::<[u8; 16]>())));
    request.extensions_mut().insert(slot.clone());
    let response = next.run(request).await;
    let Some(rows) = slot.take().and_then(|rows| rows.downcast::<PackedRows>().ok()) else {
        return response;
    };
    let (mut parts, body) = response.into_parts();
    let page = match axum::body::to_bytes(body, PAGE_MAX).await {
        Ok(page) => page,
        Err(error) => {
            tracing::warn!(%error, "a file page could not be read for splicing");
            return super::error_page(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "The page could not be sent; try again.",
            );
        }
    };
    let Some(at) = memchr::memmem::find(&page, slot.marker.as_bytes()) else {
        // The page did not place the rows (it is not the file): send it as it is.
        return Response::from_parts(parts, Body::from(page)).into_response();
    };
    let body = gzip_around(&page[..at], &rows, &page[at + slot.marker.len()..]);
    parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    parts.headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    Response::from_parts(parts, Body::from(body))
}

/// `/pins/{pin}/blob/…`: a file page.
fn is_file_page(path: &str) -> bool {
    path.strip_prefix("/pins/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(pin, rest)| !pin.is_empty() && rest.starts_with("blob/"))
}

/// Whether `Accept-Encoding` lists gzip (or `*`) with a weight above zero.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|value| value.to_str().ok()).any(|value| {
        value.split(',').any(|item| {
            let mut params = item.split(';');
            let name = params.next().unwrap_or("").trim();
            let weight = params
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .next()
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok());
            (name.eq_ignore_ascii_case("gzip") || name == "*") && weight.is_some_and(|q| q > 0.0)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn only_file_pages_of_clients_taking_gzip_are_spliced() {
        assert!(is_file_page("/pins/1/blob/src/main.rs"));
        assert!(!is_file_page("/pins/1/tree/src"));
        assert!(!is_file_page("/pins//blob/x"));
        assert!(!is_file_page("/pins/1/blobs/x"));
        assert!(!is_file_page("/fn/blob"));
        assert!(accepts_gzip(&with("gzip, deflate, br, zstd")));
        assert!(accepts_gzip(&with("br;q=1.0, gzip;q=0.5")));
        assert!(accepts_gzip(&with("*")));
        assert!(!accepts_gzip(&with("gzip;q=0")));
        assert!(!accepts_gzip(&with("br, zstd")));
        assert!(!accepts_gzip(&with("gzip;q=nonsense")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
