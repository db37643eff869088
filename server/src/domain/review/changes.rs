//! Changing a thread after it is made: a new version of a comment's text, and a thread's move to
//! another state, each by a person who takes part in the pin's review and may see the thread.

use super::super::guard::threads as thread_rules;
use super::super::guard::{require, Actor, Permission, PinPage, PinUse};
use super::super::Review;
use super::{parse_body, sha256_hex};
use crate::audit::{Action, Outcome};
use crate::review::commitment::commitment;
use crate::store::review::{self as rows, NewState};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;

impl Review<'_> {
    /// Adds a new version of a comment's text; every earlier version stays.
    pub async fn edit_comment(&self, actor: Actor<'_>, comment_id: i64, body: &str) -> AppResult<u32> {
        let identity = require_person(&actor)?;
        let body = parse_body(body)?;
        let comment = self.visible_comment(&actor, comment_id).await?;
        // Access to the pin first, answered as a missing comment, so that ids tell a stranger nothing.
        let access = self.comment_pin(&actor, &comment).await?;
        if !thread_rules::may_edit_comment(identity.user_id, comment.author_id) {
            return Err(AppError::Forbidden("only its author edits a comment".into()));
        }
        let now = self.clock.now_ms();
        let action = if comment.kind == "note" { Action::NoteEdit } else { Action::CommentEdit };
        // A note's new text is committed to under its own key (a note made before keys existed
        // keeps its plain hash).
        let (field, bound) = match comment.commitment_key.as_deref().filter(|_| comment.kind == "note") {
            Some(key) => ("content_hmac", commitment(key, body)?),
            None => ("content_sha256", sha256_hex(body)),
        };
        self.write(async |tx| {
            let version = rows::insert_version(tx.conn(), comment_id, body, identity.user_id, now).await?;
            rows::bump_revision(tx.conn(), access.record.repository_id).await?;
            let event = actor
                .event(action)
                .on(access.object(&RepoPath::root()))
                .with(json!({ "comment_id": comment_id, "version": version, field: bound }));
            tx.append(&event).await?;
            Ok(version as u32)
        })
        .await
    }

    /// Moves a thread to a new state, if the actor may (see `guard::threads`).
    pub async fn set_comment_state(
        &self,
        actor: Actor<'_>,
        comment_id: i64,
        state: ThreadState,
        reason: Option<&str>,
        fixed_pin: Option<PinId>,
    ) -> AppResult<()> {
        let identity = require_person(&actor)?;
        let comment = self.visible_comment(&actor, comment_id).await?;
        let access = self.comment_pin(&actor, &comment).await?;
        if comment.reply_to.is_some() {
            return Err(AppError::Invalid(
                "a state belongs to a thread; change it on the thread's first comment".into(),
            ));
        }
        let current = self
            .store
            .current_state(comment_id)
            .await?
            .and_then(|s| ThreadState::parse(&s).ok())
            .unwrap_or(ThreadState::Open);
        let kind = CommentKind::parse(&comment.kind)?;
        let allowed = thread_rules::allowed_states(kind, current, identity.role, identity.user_id == comment.author_id);
        if !allowed.contains(&state) {
            return Err(AppError::Forbidden(format!(
                "you may not move this thread from {} to {}",
                current.label(),
                state.label()
            )));
        }
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > 2000) {
            return Err(AppError::Invalid("a reason is at most 2000 characters".into()));
        }
        let fixed_pin = match (state, fixed_pin) {
            (ThreadState::Fixed, Some(fixed)) => {
                let fixed_access = self.pin_use(&actor, fixed, PinUse::ReadSource).await?;
                if fixed_access.record.repository_id != access.record.repository_id {
                    return Err(AppError::Invalid("a fix is verified at a pin of the same repository".into()));
                }
                Some(fixed)
            }
            (ThreadState::Fixed, None) => {
                return Err(AppError::Invalid("name the pin at which you verified the fix".into()))
            }
            _ => None,
        };
        let now = self.clock.now_ms();
        let note = comment.kind == "note";
        self.write(async |tx| {
            let row = NewState { comment_id, state: state.as_str(), reason, fixed_pin: fixed_pin.map(PinId::get), by_id: Some(identity.user_id), at: now };
            rows::insert_state(tx.conn(), &row).await?;
            rows::bump_revision(tx.conn(), access.record.repository_id).await?;
            let details = if note {
                json!({ "comment_id": comment_id, "state": state.as_str() })
            } else {
                json!({ "comment_id": comment_id, "from": current.as_str(), "state": state.as_str(), "reason": reason, "fixed_pin": fixed_pin.map(PinId::get) })
            };
            let action = if note { Action::NoteState } else { Action::CommentState };
            tx.append(&actor.event(action).on(access.object(&RepoPath::root())).with(details)).await?;
            Ok(())
        })
        .await
    }

    /// The pin of a comment, if the actor takes part in its review; a refusal (recorded by the
    /// guard) reads as the comment missing, as one the actor may not see does.
    /// A comment on a path outside the actor's grant reads as missing too.
    async fn comment_pin(&self, actor: &Actor<'_>, comment: &rows::CommentRow) -> AppResult<PinPage> {
        let missing = || AppError::NotFound("there is no such comment".into());
        let page =
            self.pin_use(actor, PinId::from_stored(comment.pin_id), PinUse::Review).await.map_err(
                |error| match error {
                    AppError::NotFound(_) => missing(),
                    other => other,
                },
            )?;
        self.require_file_in_scope(actor, &page, &RepoPath::parse(&comment.path)?, missing).await?;
        Ok(page)
    }

    /// A comment the actor may see (another's private note is "not found", and its probing recorded).
    async fn visible_comment(&self, actor: &Actor<'_>, comment_id: i64) -> AppResult<rows::CommentRow> {
        let comment = self.store.comment(comment_id).await?;
        let root_kind = match &comment {
            Some(c) if c.reply_to.is_some() => {
                self.store.comment(c.reply_to.unwrap_or_default()).await?.map(|r| r.kind)
            }
            Some(c) => Some(c.kind.clone()),
            None => None,
        };
        let kind = root_kind.as_deref().map(CommentKind::parse).transpose()?.unwrap_or(CommentKind::Comment);
        match comment {
            Some(comment) if thread_rules::may_see_thread(kind, actor.user_id(), comment.author_id) => Ok(comment),
            _ => {
                let event = actor
                    .event(Action::CommentDenied)
                    .outcome(Outcome::Denied)
                    .with(json!({ "comment_id": comment_id }));
                self.record(event).await?;
                Err(AppError::NotFound("there is no such comment".into()))
            }
        }
    }
}

fn require_person<'a>(actor: &'a Actor<'a>) -> AppResult<&'a Identity> {
    require(actor, Permission::TakePart)?;
    actor.identity().ok_or_else(|| AppError::Forbidden("comments are changed by people".into()))
}
