//! The JSON API for searching a pin, finding its files and looking up a symbol. Session or
//! `Authorization: Bearer`; the same authorisation and the same recorded events as the pages.

use super::{AppState, HttpError};
use crate::domain::search::Lines;
use crate::domain::Actor;
use crate::http::extract::ApiQuery;
use crate::http::extract::PinPath;
use app::model::*;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::{Deserialize, Serialize};

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct SearchParams {
    /// What to find: literal text, or a regular expression with `re`.
    #[param(required = true, pattern = "\\S")]
    q: Option<String>,
    /// `1`: `q` is a regular expression (the `regex` crate's syntax).
    re: Option<String>,
    /// `1`: letter case must match (by default it need not).
    case: Option<String>,
    /// `1`: a regular expression's match may run across lines (by default a line matches as with
    /// `git grep`, by what lies within it).
    multiline: Option<String>,
    /// `all`: up to 2,000 matching lines a file (by default 20, the rest counted).
    lines: Option<String>,
    /// A glob the paths must match (`src/**/*.rs`).
    path: Option<String>,
    /// Where the page starts: the `next` of the page before (none: the first page).
    #[param(max_length = 8192, pattern = "^[A-Za-z0-9_-]+$")]
    cursor: Option<String>,
    /// Files with matches a page (25 by default, at most 500).
    #[param(value_type = Option<u32>, minimum = 1, maximum = 500)]
    per_page: Option<String>,
}

/// Most files with matches one page of the API holds.
const SEARCH_PER_PAGE_MAX: u32 = 500;

fn flag(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "true" | "on" | "yes"))
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ApiMatch {
    line: u32,
    /// The line as shown: whole, or for a long line the parts around its matches joined by ` … `.
    text: String,
    /// Byte ranges of the matches in `text`.
    matches: Vec<(usize, usize)>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct ApiResult {
    path: String,
    matches: Vec<ApiMatch>,
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/search",
    tag = "source",
    summary = "Search a pin (literal or regex; recorded)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"), SearchParams),
    responses((status = 200, body = SearchPage), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn search(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    ApiQuery(params): ApiQuery<SearchParams>,
) -> Result<impl IntoResponse, HttpError> {
    let query = SearchQuery {
        q: params.q.unwrap_or_default(),
        regex: flag(params.re.as_deref()),
        case: flag(params.case.as_deref()),
        multiline: flag(params.multiline.as_deref()),
        all_lines: params.lines.as_deref() == Some("all"),
        path: params.path,
        cursor: params.cursor,
    };
    let per_page = match params.per_page.as_deref().map(str::trim) {
        None => SEARCH_PAGE,
        Some(text) => text.parse::<u32>().ok().filter(|n| (1..=SEARCH_PER_PAGE_MAX).contains(n)).ok_or_else(|| {
            HttpError(app::error::AppError::Invalid(format!("per_page is a number from 1 to {SEARCH_PER_PAGE_MAX}")))
        })? as usize,
    };
    let view = state.domain.search().search(Actor::Web(&caller), pin, &query, per_page, Lines::MatchesOnly).await?;
    let results: Vec<ApiResult> = view
        .results
        .into_iter()
        .map(|file| ApiResult {
            path: file.path,
            matches: file
                .lines
                .into_iter()
                .map(|l| ApiMatch { line: l.line, text: l.text, matches: l.matches })
                .collect(),
        })
        .collect();
    let query = SearchAsked {
        q: view.query.q,
        regex: view.query.regex,
        case: view.query.case,
        multiline: view.query.multiline,
        path: view.query.path,
    };
    Ok(Json(SearchPage { query, results, truncated: view.truncated, next: view.next, total: view.totals }))
}

/// What a search was asked, as the server read it (letter case and lines stated, not assumed).
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SearchAsked {
    q: String,
    regex: bool,
    /// Letter case had to match.
    case: bool,
    /// A match could run across lines.
    multiline: bool,
    path: Option<String>,
}

/// One page of a search's results: each file with its matching lines.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct SearchPage {
    query: SearchAsked,
    results: Vec<ApiResult>,
    /// The time budget ran out before the page was full: `next` goes on from where it stopped.
    truncated: bool,
    /// The cursor of the next page (pass it as `cursor`), if there is more.
    next: Option<String>,
    /// Every matching file and line of the search.
    total: SearchTotals,
}

/// The files the finder offers for a query.
#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct Found {
    files: Vec<FoundFile>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FilesParams {
    q: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/files",
    tag = "source",
    summary = "The fuzzy file finder (recorded)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"), FilesParams),
    responses((status = 200, body = Found), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn files(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    ApiQuery(params): ApiQuery<FilesParams>,
) -> Result<impl IntoResponse, HttpError> {
    let found = state.domain.search().find_files(Actor::Web(&caller), pin, params.q.as_deref().unwrap_or("")).await?;
    Ok(Json(Found { files: found }))
}

#[utoipa::path(
    get,
    path = "/api/v1/pins/{pin}/symbols/{name}",
    tag = "source",
    summary = "Where a symbol is defined and used (recorded)",
    params(("pin" = i64, Path, minimum = 1, maximum = 999_999_999_999_999_999_i64, description = "The pin id"), ("name" = String, Path, description = "The symbol")),
    responses((status = 200, body = SymbolView), crate::http::openapi::Refusals),
    security(("session" = []), ("bearer" = []))
)]
pub(crate) async fn symbol(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((pin, name)): Path<(String, String)>,
) -> Result<impl IntoResponse, HttpError> {
    Ok(Json(state.domain.search().symbol(Actor::Web(&caller), PinId::parse(&pin)?, &name).await?))
}
