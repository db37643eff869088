//! Comments, findings and private notes: listing a pin's threads, starting and answering them,
//! editing (a new version) and moving their state. Each change commits with its event; the text of
//! a comment is in the log only as its SHA-256, and a private note's place only so, so that staff
//! reading the log learn nothing a note says.

use super::guard::{require_use, signed_in, Actor, PathScope, PinPage, PinUse};
use super::threads::{self, Viewer};
use super::Review;
use crate::audit::Action;
use crate::review::commitment::{commitment, note_anchor};
use crate::store::review::{self as rows, CommentRows, NewCommentRow};
use app::error::{AppError, AppResult};
use app::model::*;
mod changes;

use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

const MAX_BODY: usize = 20_000;

/// The states that still ask for attention, and those that do not.
const OPEN_STATES: [ThreadState; 4] =
    [ThreadState::Open, ThreadState::Responded, ThreadState::Accepted, ThreadState::Disputed];
const CLOSED_STATES: [ThreadState; 4] =
    [ThreadState::Resolved, ThreadState::WontFix, ThreadState::Withdrawn, ThreadState::Fixed];

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn parse_body(body: &str) -> AppResult<&str> {
    let body = body.trim_end();
    if body.trim().is_empty() {
        return Err(AppError::Invalid("write something first".into()));
    }
    if body.chars().count() > MAX_BODY {
        return Err(AppError::Invalid(format!("a comment is at most {MAX_BODY} characters")));
    }
    Ok(body)
}

/// Where a new thread is anchored: the whole pin, a file, or lines of a file.
fn parse_anchor(new: &NewComment) -> AppResult<(RepoPath, Option<LineRange>)> {
    let path = RepoPath::parse(&new.path)?;
    let lines = match (new.start_line, new.end_line) {
        (None, None) => None,
        (Some(first), last) => {
            let last = last.unwrap_or(first);
            if first == 0 || last < first {
                return Err(AppError::Invalid(
                    "lines are numbered from 1 and a range must not end before it starts".into(),
                ));
            }
            Some(LineRange { first, last })
        }
        (None, Some(_)) => return Err(AppError::Invalid("a range needs its first line".into())),
    };
    if path.is_root() && lines.is_some() {
        return Err(AppError::Invalid("a comment on lines names the file they are in".into()));
    }
    Ok((path, lines))
}

impl Review<'_> {
    /// The stored comments at a pin's file and on its blob elsewhere in the repository: from memory
    /// while the repository's comment revision (bumped by every comment write, in the database, so
    /// every instance sees it; read with the pin) has not moved.
    async fn file_comment_rows(&self, access: &PinPage, path: &RepoPath, blob_id: &str) -> AppResult<Arc<CommentRows>> {
        let revision = access.record.comment_revision;
        let key = (access.record.id, path.to_string(), blob_id.to_string());
        if let Some((cached, rows)) = self.caches.file_threads.lock().expect("cache lock").get(&key) {
            if *cached == revision {
                return Ok(Arc::clone(rows));
            }
        }
        let rows = Arc::new(self.store.comments_of_file(access.record.id, path.as_str(), blob_id).await?);
        self.caches.file_threads.lock().expect("cache lock").put(key, (revision, Arc::clone(&rows)));
        Ok(rows)
    }

    /// The threads at a pin's file, and those carried from other pins where the file had the same
    /// blob, for the file view (recorded with the view itself).
    pub(super) async fn threads_of_file(
        &self,
        actor: &Actor<'_>,
        access: &PinPage,
        path: &RepoPath,
        blob_id: &str,
    ) -> AppResult<Vec<Thread>> {
        let rows = self.file_comment_rows(access, path, blob_id).await?;
        if rows.comments.is_empty() {
            return Ok(Vec::new());
        }
        let viewer = self.viewer(actor, access);
        let labels = self.pin_labels().await?;
        let mut threads = threads::assemble(&rows, &viewer, Some(access.record.id), &labels);
        threads.sort_by_key(|t| (t.lines.map(|l| l.last).unwrap_or(0), t.id));
        threads::render_bodies(&mut threads, &self.caches.markdown);
        Ok(threads)
    }

    /// The threads a person started, newest first, at the pins they may still see.
    pub async fn my_threads(&self, actor: Actor<'_>) -> AppResult<Vec<Thread>> {
        let (_, identity) = actor.person()?;
        // The pins they may see, each with the paths they may (a thread elsewhere is not listed).
        let visible: std::collections::HashMap<i64, PathScope> = self
            .browse()
            .list_pins(actor)
            .await?
            .iter()
            .map(|p| (p.id.get(), PathScope::of_patterns(&p.scope).unwrap_or_else(|_| PathScope::nothing())))
            .collect();
        let viewer = Viewer { user_id: Some(identity.user_id), role: identity.role, may_review: false };
        let labels = self.pin_labels().await?;
        let rows = self.store.comments_by_author(identity.user_id).await?;
        let mut mine: Vec<Thread> = threads::assemble(&rows, &viewer, None, &labels)
            .into_iter()
            .filter(|t| {
                visible
                    .get(&t.pin.get())
                    .map_or(identity.role != Role::Reviewer, |scope| scope.covers_file(t.path.as_str()))
            })
            .collect();
        mine.sort_by_key(|t| std::cmp::Reverse(t.id));
        mine.truncate(50);
        threads::render_bodies(&mut mine, &self.caches.markdown);
        Ok(mine)
    }

    /// A pin's threads the actor may see, filtered in the database, a page of `COMMENT_PAGE` of them
    /// (every match when `page` is `None`), with their Markdown rendered when `render`. Reading them
    /// is recorded.
    pub async fn pin_comments(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        filter: &CommentFilter,
        render: bool,
    ) -> AppResult<CommentList> {
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let viewer = self.viewer(&actor, &access);
        let wanted =
            |value: &Option<String>| value.as_deref().map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
        let path = match wanted(&filter.path) {
            Some(path) => Some(RepoPath::parse(&path)?.to_string()),
            None => None,
        };
        let states = match wanted(&filter.state).as_deref() {
            None => None,
            Some("open") => Some(OPEN_STATES.iter().map(|s| s.as_str()).collect()),
            Some("closed") => Some(CLOSED_STATES.iter().map(|s| s.as_str()).collect()),
            Some(state) => Some(vec![ThreadState::parse(state)?.as_str()]),
        };
        let severity = wanted(&filter.severity).map(|s| Severity::parse(&s)).transpose()?;
        let kind = wanted(&filter.kind).map(|k| CommentKind::parse(&k)).transpose()?;
        let author = wanted(&filter.author);
        let cwe = wanted(&filter.cwe).map(|id| crate::review::cwe::parse_id(&id)).transpose()?;
        let query = rows::ThreadFilter {
            pin_id: pin.get(),
            viewer_id: viewer.user_id.unwrap_or(-1),
            path: path.as_deref(),
            states,
            severity: severity.map(Severity::as_str),
            cwe,
            kind: kind.map(CommentKind::as_str),
            author: author.as_deref(),
        };
        let page = filter.page.unwrap_or(1).max(1);
        let (offset, limit) =
            if render { ((page as u64 - 1) * COMMENT_PAGE as u64, COMMENT_PAGE as u64) } else { (0, i64::MAX as u64) };
        let labels = self.pin_labels().await?;
        let (authors, mut total) = self.store.thread_authors(pin.get(), viewer.user_id.unwrap_or(-1)).await?;
        let (mut threads, matching) = if access.scope.is_whole() {
            let (ids, matching) = self.store.find_threads(&query, offset, limit).await?;
            (
                threads::assemble(&self.store.comments_of_threads(&ids).await?, &viewer, Some(pin.get()), &labels),
                matching,
            )
        } else {
            // A person limited to paths sees the threads on them (and the pin's own), paged here.
            let (ids, _) = self.store.find_threads(&query, 0, i64::MAX as u64).await?;
            let mut all =
                threads::assemble(&self.store.comments_of_threads(&ids).await?, &viewer, Some(pin.get()), &labels);
            all.retain(|thread| access.scope.covers_file(thread.path.as_str()));
            let matching = all.len() as u64;
            let everything = rows::ThreadFilter {
                pin_id: pin.get(),
                viewer_id: viewer.user_id.unwrap_or(-1),
                path: None,
                states: None,
                severity: None,
                cwe: None,
                kind: None,
                author: None,
            };
            let (every_id, _) = self.store.find_threads(&everything, 0, i64::MAX as u64).await?;
            let every = self.store.comments_of_threads(&every_id).await?;
            total = threads::assemble(&every, &viewer, Some(pin.get()), &labels)
                .iter()
                .filter(|thread| access.scope.covers_file(thread.path.as_str()))
                .count() as u64;
            (all.into_iter().skip(offset as usize).take(limit as usize).collect::<Vec<_>>(), matching)
        };
        if render {
            threads::render_bodies(&mut threads, &self.caches.markdown);
        }
        self.record(
            actor.event(Action::CommentsList).on(access.object(&RepoPath::root())).with(json!({ "threads": matching })),
        )
        .await?;
        Ok(CommentList {
            pin: self.pin_summary(&access).await?,
            threads,
            authors,
            matching: matching as usize,
            page,
            total: total as usize,
            can_comment: access.caps.start_thread,
            csrf_token: String::new(),
        })
    }

    /// Starts a thread (a comment, a finding with a severity, or a private note) or replies to one.
    pub async fn add_comment(&self, actor: Actor<'_>, pin: PinId, new: &NewComment) -> AppResult<i64> {
        let identity = match &actor {
            Actor::Web(caller) => signed_in(caller)?.clone(),
            _ => return Err(AppError::Forbidden("comments are made by people".into())),
        };
        let usage = if new.reply_to.is_some() { PinUse::Reply } else { PinUse::StartThread };
        require_use(&actor, usage)?;
        let body = parse_body(&new.body)?;
        let severity = match new.severity.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => Some(Severity::parse(text)?),
            None => None,
        };
        let cwe = crate::review::cwe::checked(&new.cwe)?;
        if !cwe.is_empty() && (severity.is_none() || new.private) {
            return Err(AppError::Invalid("only a finding (a comment with a severity) carries CWE ids".into()));
        }
        if !new.requirements.is_empty() && (new.reply_to.is_some() || new.private) {
            return Err(AppError::Invalid("a thread's region is traced to requirements, not a reply or a note".into()));
        }
        let access = self.pin_use(&actor, pin, usage).await?;
        let requirements = match new.requirements.is_empty() {
            true => Vec::new(),
            false => {
                let list = self.requirements().current_list(pin).await?.map(|(_, list)| list).unwrap_or_default();
                crate::review::requirements::checked_tags(&new.requirements, &list).map_err(AppError::Invalid)?
            }
        };
        let now = self.clock.now_ms();
        // A reply joins its thread: same anchor, a plain comment, never a note.
        let (root, path, lines, kind) = match new.reply_to {
            Some(reply_to) => {
                let mut root = self.store.comment(reply_to).await?.filter(|c| c.pin_id == pin.get());
                if let Some(parent) = root.as_ref().and_then(|c| c.reply_to) {
                    root = self.store.comment(parent).await?;
                }
                let root = root.ok_or_else(|| AppError::NotFound("there is no such thread at this pin".into()))?;
                if root.kind == "note" {
                    return Err(AppError::NotFound("there is no such thread at this pin".into()));
                }
                if severity.is_some() || new.private {
                    return Err(AppError::Invalid("a reply is a plain comment".into()));
                }
                let lines = match (root.start_line, root.end_line) {
                    (Some(a), Some(b)) => Some(LineRange { first: a as u32, last: b as u32 }),
                    _ => None,
                };
                (Some(root.id), RepoPath::parse(&root.path)?, lines, CommentKind::Comment)
            }
            None => {
                let (path, lines) = parse_anchor(new)?;
                let kind = match (severity, new.private) {
                    (Some(_), true) => return Err(AppError::Invalid("a private note has no severity".into())),
                    (Some(_), false) => CommentKind::Finding,
                    (None, true) => CommentKind::Note,
                    (None, false) => CommentKind::Comment,
                };
                (None, path, lines, kind)
            }
        };
        // A file (or thread) outside the reader's paths is answered as one that does not exist.
        let absent = || match root {
            Some(_) => AppError::NotFound("there is no such thread at this pin".into()),
            None => AppError::NotFound("there is no such file at this pin".into()),
        };
        self.require_file_in_scope(&actor, &access, &path, absent).await?;
        let blob_id = match self.file_blob(&access, &path, lines).await {
            Ok(blob_id) => blob_id,
            Err(error @ (AppError::NotFound(_) | AppError::Invalid(_))) => {
                return Err(self.refuse_object(&actor, access.object(&path), error).await?)
            }
            Err(error) => return Err(error),
        };
        let content_sha256 = sha256_hex(body);
        let commitment_key = (kind == CommentKind::Note).then(|| hex::encode(rand::random::<[u8; 32]>()));
        let note_commitments = match &commitment_key {
            Some(key) => Some((commitment(key, body)?, commitment(key, &note_anchor(&path, lines))?)),
            None => None,
        };
        let cwe_stored = crate::review::cwe::stored(&cwe);
        let requirements_stored = (!requirements.is_empty()).then(|| json!(requirements).to_string());
        self.write(async |tx| {
            let row = NewCommentRow {
                pin_id: pin.get(),
                path: path.as_str(),
                blob_id: blob_id.as_deref(),
                lines: lines.map(|l| (l.first, l.last)),
                author_id: identity.user_id,
                kind: kind.as_str(),
                severity: severity.map(Severity::as_str),
                cwe: cwe_stored.as_deref(),
                requirements: requirements_stored.as_deref(),
                reply_to: root,
                created_at: now,
                commitment_key: commitment_key.as_deref(),
            };
            let id = rows::insert_thread(tx.conn(), &row, access.record.repository_id, body).await?;
            let event = if let Some((content_hmac, anchor_hmac)) = &note_commitments {
                // The note's place and text stay its author's: the log binds them by keyed hash only.
                actor.event(Action::NoteCreate).on(access.object(&RepoPath::root())).with(json!({
                    "comment_id": id, "content_hmac": content_hmac, "anchor_hmac": anchor_hmac
                }))
            } else {
                let mut object = access.object(&path);
                object.blob = blob_id.clone();
                object.lines = lines;
                let mut details = json!({
                    "comment_id": id, "kind": kind.as_str(), "severity": severity.map(Severity::as_str),
                    "reply_to": root, "content_sha256": content_sha256
                });
                if !cwe.is_empty() {
                    details["cwe"] = json!(cwe);
                }
                if !requirements.is_empty() {
                    details["requirements"] = json!(requirements);
                }
                actor.event(Action::CommentCreate).on(object).with(details)
            };
            tx.append(&event).await?;
            Ok(id)
        })
        .await
    }

    /// The blob of the file a thread is anchored at (none for the whole pin); lines must lie in it.
    pub(super) async fn file_blob(
        &self,
        access: &PinPage,
        path: &RepoPath,
        lines: Option<LineRange>,
    ) -> AppResult<Option<String>> {
        if path.is_root() {
            return Ok(None);
        }
        let located = self.source.locate(&access.location(), std::slice::from_ref(path)).await?.pop().flatten();
        let Some(located) = located.filter(|l| matches!(l.kind, EntryKind::File | EntryKind::Symlink)) else {
            return Err(AppError::NotFound("there is no such file at this pin".into()));
        };
        if let Some(range) = lines {
            let total = self.source.line_count(&access.location(), &located.object_id).await?.unwrap_or(0);
            if range.last > total.max(1) {
                // Not how long the file is: a token that cannot read it learns nothing more.
                return Err(AppError::Invalid("those lines are past the end of the file".into()));
            }
        }
        Ok(Some(located.object_id))
    }
}
