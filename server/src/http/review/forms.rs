//! The review's forms, for pages without JavaScript: each posts, and answers with a redirect back
//! to the page it came from (with the outcome as a notice), never with JSON.

use super::{comment_id, fixed_pin};
use crate::domain::Actor;
use crate::http::extract::{CsrfForm, PinPath};
use crate::http::forms::{back_page, back_to, back_to_form, optional, ticked};
use crate::http::session_state::TypedSession;
use crate::http::AppState;
use app::error::AppError;
use app::model::*;
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;

fn line(text: &str, key: &str) -> Result<Option<u32>, AppError> {
    match optional(text) {
        None => Ok(None),
        Some(text) => text.parse::<u32>().map(Some).map_err(|_| AppError::Invalid(format!("{key} is a line number"))),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CommentForm {
    back: String,
    path: String,
    start_line: String,
    end_line: String,
    body: String,
    severity: String,
    /// A finding's CWE ids: `79, CWE-787`.
    cwe: String,
    /// Requirement ids of the pin's list: `FCS_COP.1/AES, FIA_UAU.2`.
    requirements: String,
    private: String,
    reply_to: String,
}

pub(super) async fn form_comment(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    session: tower_sessions::Session,
    CsrfForm { caller, form }: CsrfForm<CommentForm>,
) -> Response {
    let back = back_page(&form.back, format!("/pins/{pin}/comments"));
    let result = async {
        let new = NewComment {
            start_line: line(&form.start_line, "start_line")?,
            end_line: line(&form.end_line, "end_line")?,
            severity: optional(&form.severity).map(str::to_string),
            cwe: form
                .cwe
                .split([',', ' '])
                .filter(|id| !id.trim().is_empty())
                .map(crate::review::cwe::parse_id)
                .collect::<Result<_, _>>()?,
            requirements: crate::review::requirements::parse_tags(&form.requirements),
            private: ticked(&form.private),
            reply_to: optional(&form.reply_to).map(comment_id).transpose()?,
            path: form.path.clone(),
            body: form.body.clone(),
        };
        state.domain.review().add_comment(Actor::Web(&caller), pin, &new).await.map(|id| format!("saved comment #{id}"))
    }
    .await;
    // A refused comment keeps its text, next to the form it was typed in.
    let place = match optional(&form.reply_to).and_then(|thread| thread.parse::<i64>().ok()) {
        Some(thread) => format!("thread-{thread}"),
        None => "composer".to_string(),
    };
    let fields = vec![
        ("start_line", form.start_line.as_str()),
        ("end_line", form.end_line.as_str()),
        ("body", form.body.as_str()),
        ("severity", form.severity.as_str()),
        ("cwe", form.cwe.as_str()),
        ("requirements", form.requirements.as_str()),
        ("private", form.private.as_str()),
    ];
    back_to_form(TypedSession(session), &back, &place, result, fields).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct StateForm {
    back: String,
    state: String,
    fixed_pin: String,
    reason: String,
}

pub(super) async fn form_state(
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm { caller, form }: CsrfForm<StateForm>,
) -> Response {
    let back = back_page(&form.back, "/".into());
    let result = async {
        let to = ThreadState::parse(&form.state)?;
        let fixed = fixed_pin(optional(&form.fixed_pin))?;
        state
            .domain
            .review()
            .set_comment_state(Actor::Web(&caller), comment_id(&id)?, to, optional(&form.reason), fixed)
            .await
            .map(|()| format!("the thread is now {}", to.label()))
    }
    .await;
    back_to(&back, result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct VersionForm {
    back: String,
    body: String,
}

pub(super) async fn form_version(
    State(state): State<AppState>,
    Path(id): Path<String>,
    session: tower_sessions::Session,
    CsrfForm { caller, form }: CsrfForm<VersionForm>,
) -> Response {
    let back = back_page(&form.back, "/".into());
    let result = async {
        let version = state.domain.review().edit_comment(Actor::Web(&caller), comment_id(&id)?, &form.body).await?;
        Ok(format!("saved version {version}"))
    }
    .await;
    let place = format!("edit-{}", id.parse::<i64>().unwrap_or_default());
    back_to_form(TypedSession(session), &back, &place, result, vec![("body", form.body.as_str())]).await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct MarkForm {
    back: String,
    path: String,
    reviewed: String,
}

pub(super) async fn form_mark(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    CsrfForm { caller, form }: CsrfForm<MarkForm>,
) -> Response {
    let back = back_page(&form.back, format!("/pins/{pin}/tree"));
    let result = async {
        let path = RepoPath::parse(&form.path)?;
        let reviewed = form.reviewed == "1";
        state.domain.coverage().mark_reviewed(Actor::Web(&caller), pin, &path, reviewed).await?;
        Ok(if reviewed { format!("marked {path} reviewed") } else { format!("unmarked {path}") })
    }
    .await;
    back_to(&back, result)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct VerdictForm {
    verdict: String,
    summary: String,
}

pub(super) async fn form_verdict(
    State(state): State<AppState>,
    PinPath(pin): PinPath,
    CsrfForm { caller, form }: CsrfForm<VerdictForm>,
) -> Response {
    let result = async {
        let verdict = VerdictKind::parse(&form.verdict)?;
        let id = state.domain.coverage().submit_verdict(Actor::Web(&caller), pin, verdict, &form.summary).await?;
        Ok(format!("verdict #{id} recorded"))
    }
    .await;
    back_to(&format!("/pins/{pin}/verdicts"), result)
}
