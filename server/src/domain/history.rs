//! The history behind pins, as each pin's history policy allows (`guard::rules`): the first-parent
//! commits between two pins of one repository (`messages`), each commit's diffs (`full`), and
//! blame at a pin. Each page is two events, as a comparison is: one naming what will be read
//! (both pins, or the file), recorded before anything is read, and one naming exactly what the
//! page shows (the commits; the blobs and line ranges of a commit's diffs; the file blamed and the
//! commits it names) before it is sent.

use super::compare::{in_scope, view_of};
use super::guard::{signed_in, Actor, PinPage, PinUse};
use super::History;
use crate::audit::{Action, Event, Outcome, Scope};
use crate::source::{hunks, ChangedFile, CommitChanges, DiffSide, PinRange};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// Commits a history page lists.
pub const HISTORY_PAGE: usize = 50;
/// Files of one commit whose diffs a commit page shows (the rest are listed without).
pub const COMMIT_FILES: usize = 100;

/// The line ranges of one side that hunks show, as `[first, last]` pairs.
fn shown_ranges(hunks: &[Hunk], old_side: bool) -> Vec<[u32; 2]> {
    super::compare::ranges(hunks, old_side).into_iter().map(|r| [r.first, r.last]).collect()
}

fn watermark(actor: &Actor<'_>, now: i64) -> AppResult<Watermark> {
    let Actor::Web(caller) = actor else {
        return Err(AppError::Forbidden("history is read by people".into()));
    };
    let identity = signed_in(caller)?;
    Ok(Watermark {
        username: identity.username.clone(),
        role: identity.role,
        session: caller.session.clone(),
        at_ms: now,
    })
}

impl History<'_> {
    /// Both pins, each allowing the actor `usage` (a refusal recorded), of one repository; and the
    /// range between them.
    async fn pins(
        &self,
        actor: &Actor<'_>,
        a: PinId,
        b: PinId,
        usage: PinUse,
    ) -> AppResult<(PinPage, PinPage, PinRange)> {
        let older = self.pin_use(actor, a, usage).await?;
        let newer = self.pin_use(actor, b, usage).await?;
        if older.record.repository_id != newer.record.repository_id {
            return Err(AppError::Invalid("history is read between two pins of one repository".into()));
        }
        let range = PinRange {
            older: older.location(),
            older_commit: older.record.commit_id.clone(),
            newer: newer.location(),
            newer_commit: newer.record.commit_id.clone(),
        };
        Ok((older, newer, range))
    }

    /// The range's first-parent commits (newest first, at most `MAX_COMMITS`, and whether there
    /// were more) that the reader may see: for a grant limited to paths, those changing a path in
    /// it (as `git log --first-parent -- PATHS` lists them), worked out once per range and scope.
    async fn listed_commits(
        &self,
        receipt: &crate::audit::Receipt,
        range: &PinRange,
        older: &PinPage,
        newer: &PinPage,
    ) -> AppResult<(Arc<Vec<String>>, bool)> {
        let (ids, cut) = self.source.first_parent_commits(receipt, range).await?;
        if older.scope.is_whole() && newer.scope.is_whole() {
            return Ok((Arc::new(ids), cut));
        }
        let key = (range.older_commit.clone(), range.newer_commit.clone(), older.scope.key(), newer.scope.key());
        if let Some(kept) = self.caches.scoped_commits.lock().ok().and_then(|mut kept| kept.get(&key).cloned()) {
            return Ok((kept, cut));
        }
        let (old_scope, new_scope) = (older.scope.clone(), newer.scope.clone());
        let keep: crate::source::PathFilter =
            Arc::new(move |path: &str| old_scope.covers_file(path) && new_scope.covers_file(path));
        let touching = Arc::new(self.source.commits_touching(receipt, range, ids, keep).await?);
        if let Ok(mut kept) = self.caches.scoped_commits.lock() {
            kept.put(key, Arc::clone(&touching));
        }
        Ok((touching, cut))
    }

    /// The event that opens the history between two pins (what the receipt covers).
    fn opening(actor: &Actor<'_>, older: &PinPage, newer: &PinPage, level: HistoryPolicy) -> Event {
        actor
            .event(Action::HistoryOpen)
            .on(older.object(&RepoPath::root()))
            .on(newer.object(&RepoPath::root()))
            .with(json!({ "policy": level.as_str() }))
    }

    /// The first-parent commits from pin `a` to pin `b`, newest first, a page of them; with the
    /// `full` policy at both pins, each with its changed files. The commits listed are recorded
    /// before they are returned.
    pub async fn history(&self, actor: Actor<'_>, a: PinId, b: PinId, page: Option<u32>) -> AppResult<HistoryView> {
        watermark(&actor, self.clock.now_ms())?;
        let (older, newer, range) = self.pins(&actor, a, b, PinUse::ReadHistory).await?;
        let level = if older.caps.history_diffs && newer.caps.history_diffs {
            HistoryPolicy::Full
        } else {
            HistoryPolicy::Messages
        };
        let receipt = self.read(Self::opening(&actor, &older, &newer, level), Scope::History(a, b)).await?;
        let (ids, cut) = self.listed_commits(&receipt, &range, &older, &newer).await?;
        let pages = ids.len().div_ceil(HISTORY_PAGE).max(1) as u32;
        let page = page.unwrap_or(1).clamp(1, pages);
        let shown: Vec<String> =
            ids.iter().skip((page as usize - 1) * HISTORY_PAGE).take(HISTORY_PAGE).cloned().collect();
        let mut changes = self.source.commits(&receipt, &range, shown, level == HistoryPolicy::Full).await?;
        for change in &mut changes {
            change.files = in_scope(&change.files, &older, &newer).into_iter().cloned().collect();
        }
        let listed: usize = changes.iter().map(|c| c.files.len()).sum();
        let event = actor
            .event(Action::HistoryList)
            .on(older.object(&RepoPath::root()))
            .on(newer.object(&RepoPath::root()))
            .with(json!({
                "policy": level.as_str(),
                "commits": changes.iter().map(|c| &c.commit.id).collect::<Vec<_>>(),
                "files_listed": listed,
                "page": page,
                "total": ids.len(),
                "cut": cut,
            }));
        self.record(event).await?;
        let commits = changes
            .into_iter()
            .map(|CommitChanges { mut commit, files }| {
                if level == HistoryPolicy::Full {
                    commit.files = Some(files.iter().map(view_of).collect());
                }
                commit
            })
            .collect();
        Ok(HistoryView {
            a: self.pin_summary(&older).await?,
            b: self.pin_summary(&newer).await?,
            policy: level,
            commits,
            total: ids.len(),
            page,
            pages,
        })
    }

    /// One commit between pins `a` and `b` with the diff of each file it changed (of the first
    /// `COMMIT_FILES`), against its first parent; the `full` policy at both pins. Both blobs and
    /// the line ranges shown of each file are recorded before they are sent.
    pub async fn commit(
        &self,
        actor: Actor<'_>,
        a: PinId,
        b: PinId,
        commit: &str,
        context: Option<u32>,
    ) -> AppResult<CommitDiffView> {
        let watermark = watermark(&actor, self.clock.now_ms())?;
        let (older, newer, range) = self.pins(&actor, a, b, PinUse::ReadHistoryDiffs).await?;
        if commit.len() != 40 || !commit.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) {
            return Err(AppError::Invalid("a commit is named by its 40 lower-case hexadecimal digits".into()));
        }
        let receipt =
            self.read(Self::opening(&actor, &older, &newer, HistoryPolicy::Full), Scope::History(a, b)).await?;
        let (ids, _) = self.listed_commits(&receipt, &range, &older, &newer).await?;
        if !ids.iter().any(|id| id == commit) {
            return Err(AppError::NotFound("there is no such commit between these pins".into()));
        }
        let CommitChanges { commit: mut view, files: all } = self
            .source
            .commits(&receipt, &range, vec![commit.to_string()], true)
            .await?
            .pop()
            .ok_or_else(|| AppError::NotFound("there is no such commit between these pins".into()))?;
        // Only the files in the reader's paths (at both pins) are listed and read.
        let files: Vec<ChangedFile> = in_scope(&all, &older, &newer).into_iter().cloned().collect();
        let read: Vec<ChangedFile> = files.iter().take(COMMIT_FILES).cloned().collect();
        let sides = self.source.commit_file_sides(&receipt, &range, commit.to_string(), read).await?;
        let budget = Duration::from_millis(self.source.limits().highlight_budget_ms);
        let diff_cap = self.source.limits().diff_max_bytes;
        let diffs: Vec<(Vec<Hunk>, Option<DiffNotice>)> = tokio::task::spawn_blocking(move || {
            sides
                .into_iter()
                .map(|sides| file_hunks(sides.old.as_ref(), sides.new.as_ref(), context, budget, diff_cap))
                .collect()
        })
        .await
        .map_err(|e| super::error::internal(&e))?;
        let mut shown = Vec::with_capacity(files.len());
        let mut out = Vec::with_capacity(files.len());
        for (index, file) in files.iter().enumerate() {
            let (hunks, notice, omitted) = match diffs.get(index) {
                Some((hunks, notice)) => (hunks.clone(), *notice, false),
                None => (Vec::new(), None, true),
            };
            shown.push(json!({
                "path": file.path,
                "old_path": file.old_path,
                "old_blob": file.old_blob,
                "new_blob": file.new_blob,
                "old_lines": shown_ranges(&hunks, true),
                "new_lines": shown_ranges(&hunks, false),
            }));
            out.push(CommitFileDiff { file: view_of(file), hunks, notice, omitted });
        }
        let event = actor
            .event(Action::HistoryCommit)
            .on(older.object(&RepoPath::root()))
            .on(newer.object(&RepoPath::root()))
            .with(json!({ "commit": commit, "files": shown }));
        self.record(event).await?;
        view.files = Some(files.iter().map(view_of).collect());
        Ok(CommitDiffView {
            a: self.pin_summary(&older).await?,
            b: self.pin_summary(&newer).await?,
            commit: view,
            files: out,
            watermark,
        })
    }

    /// Who last changed each line of the file at `path` at the pin (`git blame` at the pinned
    /// commit); the `messages` policy or more. The file, its lines and the commits named are
    /// recorded before they are sent; a path that is no file is refused and recorded.
    pub async fn blame(&self, actor: Actor<'_>, pin: PinId, path: &RepoPath) -> AppResult<BlameView> {
        let watermark = watermark(&actor, self.clock.now_ms())?;
        let page = self.pin_use_at(&actor, pin, PinUse::ReadHistory, path).await?;
        let absent = || AppError::NotFound("there is no such file at this pin".into());
        self.require_file_in_scope(&actor, &page, path, absent).await?;
        let found = self.source.locate(&page.location(), std::slice::from_ref(path)).await?.pop().flatten();
        let Some(found) = found.filter(|f| f.kind == EntryKind::File && !path.is_root()) else {
            let failed = actor
                .event(Action::BlameOpen)
                .outcome(Outcome::Failed)
                .on(page.object(path))
                .with(json!({ "reason": "no such file at this pin" }));
            self.record(failed).await?;
            return Err(absent());
        };
        let receipt = self.read(actor.event(Action::BlameOpen).on(page.object(path)), Scope::path(pin, path)).await?;
        let (hunks, commits, lines) =
            self.source.blame(&receipt, &page.location(), &page.record.commit_id, path).await?;
        let mut shown = page.object(path).shown(&found.object_id);
        if !lines.is_empty() {
            shown = shown.lines(LineRange { first: 1, last: lines.len() as u32 });
        }
        let event = actor
            .event(Action::BlameView)
            .on(shown)
            .with(json!({ "commits": commits.iter().map(|c| &c.id).collect::<Vec<_>>(), "hunks": hunks.len() }));
        self.record(event).await?;
        Ok(BlameView {
            pin: self.pin_summary(&page).await?,
            path: path.clone(),
            blob_id: found.object_id,
            hunks,
            commits,
            lines,
            watermark,
        })
    }
}

/// The hunks of one changed file (none for a binary side or one over the diff cap, with why).
fn file_hunks(
    old: Option<&DiffSide>,
    new: Option<&DiffSide>,
    context: Option<u32>,
    budget: Duration,
    diff_cap: u64,
) -> (Vec<Hunk>, Option<DiffNotice>) {
    let sides = [old, new];
    if sides.iter().flatten().any(|s| s.binary) {
        return (Vec::new(), Some(DiffNotice::Binary));
    }
    if sides.iter().flatten().any(|s| s.text.is_none()) {
        return (Vec::new(), Some(DiffNotice::TooLarge { max_bytes: diff_cap }));
    }
    let text = |side: Option<&DiffSide>| side.and_then(|s| s.text.clone()).unwrap_or_else(|| Arc::from(""));
    let empty = Vec::new();
    let html = |side: Option<&DiffSide>| side.and_then(|s| s.highlighted.clone());
    let (old_html, new_html) = (html(old), html(new));
    let hunks = hunks::hunks(
        &text(old),
        &text(new),
        old_html.as_ref().map_or(&empty, |h| &h.lines),
        new_html.as_ref().map_or(&empty, |h| &h.lines),
        context,
        budget,
    );
    (hunks, None)
}
