//! The review's forms, for pages without JavaScript: each posts, and answers with a redirect back
//! to the page it came from (with the outcome as a notice), never with JSON.

use super::{comment_id, fixed_pin};
use crate::domain::Actor;
use crate::http::extract::PinPath;
use crate::http::forms::{back_to, check, Fields};
use crate::http::session::safe_next;
use crate::http::AppState;
use app::error::AppError;
use app::model::*;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Extension;

/// The page a form came from (its `back` field), or `fallback`.
fn back_page(fields: &Fields, fallback: String) -> String {
    match fields.optional("back") {
        Some(back) if safe_next(back) == back => back.to_string(),
        _ => fallback,
    }
}

fn line(fields: &Fields, key: &str) -> Result<Option<u32>, AppError> {
    match fields.optional(key) {
        None => Ok(None),
        Some(text) => text.parse::<u32>().map(Some).map_err(|_| AppError::Invalid(format!("{key} is a line number"))),
    }
}

pub(super) async fn form_comment(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let back = back_page(&fields, format!("/pins/{pin}/comments"));
    let result = async {
        let new = NewComment {
            path: fields.get("path").to_string(),
            start_line: line(&fields, "start_line")?,
            end_line: line(&fields, "end_line")?,
            body: fields.get("body").to_string(),
            severity: fields.optional("severity").map(str::to_string),
            private: fields.get("private") == "on" || fields.get("private") == "1",
            reply_to: fields.optional("reply_to").map(comment_id).transpose()?,
        };
        state.domain.add_comment(Actor::Web(&caller), pin, &new).await.map(|id| format!("saved comment #{id}"))
    }
    .await;
    back_to(&back, result)
}

pub(super) async fn form_state(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let back = back_page(&fields, "/".into());
    let result = async {
        let to = ThreadState::parse(fields.get("state"))?;
        let fixed = fixed_pin(fields.optional("fixed_pin"))?;
        state
            .domain
            .set_comment_state(Actor::Web(&caller), comment_id(&id)?, to, fields.optional("reason"), fixed)
            .await
            .map(|()| format!("the thread is now {}", to.label()))
    }
    .await;
    back_to(&back, result)
}

pub(super) async fn form_version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let back = back_page(&fields, "/".into());
    let result = async {
        let version = state.domain.edit_comment(Actor::Web(&caller), comment_id(&id)?, fields.get("body")).await?;
        Ok(format!("saved version {version}"))
    }
    .await;
    back_to(&back, result)
}

pub(super) async fn form_mark(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let back = back_page(&fields, format!("/pins/{pin}/tree"));
    let result = async {
        let path = RepoPath::parse(fields.get("path"))?;
        let reviewed = fields.get("reviewed") == "1";
        state.domain.mark_reviewed(Actor::Web(&caller), pin, &path, reviewed).await?;
        Ok(if reviewed { format!("marked {path} reviewed") } else { format!("unmarked {path}") })
    }
    .await;
    back_to(&back, result)
}

pub(super) async fn form_verdict(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    PinPath(pin): PinPath,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    if let Some(refused) = check(&caller, &fields) {
        return refused;
    }
    let result = async {
        let verdict = VerdictKind::parse(fields.get("verdict"))?;
        let id = state.domain.submit_verdict(Actor::Web(&caller), pin, verdict, fields.get("summary")).await?;
        Ok(format!("verdict #{id} recorded"))
    }
    .await;
    back_to(&format!("/pins/{pin}/verdicts"), result)
}
