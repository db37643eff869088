//! Comparing two pins of one repository: the list of changed files and the diff of one file. Each
//! is two events: one naming what will be read (both pins, or both paths) before anything is read,
//! and one naming exactly what the page shows (the paths listed; the blobs and line ranges of the
//! hunks) before it is sent.

use super::guard::{Actor, PinPage};
use super::Compare;
use crate::audit::Action;
use crate::audit::{Outcome, Scope};
use crate::source::hunks;
use crate::source::ChangedFile;
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// A changed file as lists show it (a comparison's, a commit's).
pub(super) fn view_of(file: &ChangedFile) -> ChangedFileView {
    ChangedFileView {
        path: file.path.clone(),
        old_path: file.old_path.clone(),
        status: file.status,
        similarity: file.similarity,
        additions: file.additions,
        deletions: file.deletions,
        binary: file.binary,
        mode_change: (file.old_mode != file.new_mode && file.old_mode != 0 && file.new_mode != 0)
            .then(|| (format!("{:o}", file.old_mode), format!("{:o}", file.new_mode))),
    }
}

/// The line ranges of one side that hunks show, merged where they touch.
pub(super) fn ranges(hunks: &[Hunk], old_side: bool) -> Vec<LineRange> {
    let mut ranges: Vec<LineRange> = Vec::new();
    for hunk in hunks {
        let (start, count) = if old_side { (hunk.old_start, hunk.old_lines) } else { (hunk.new_start, hunk.new_lines) };
        if count == 0 {
            continue;
        }
        let range = LineRange { first: start, last: start + count - 1 };
        match ranges.last_mut() {
            Some(last) if last.last + 1 >= range.first => last.last = last.last.max(range.last),
            _ => ranges.push(range),
        }
    }
    ranges
}

/// The changed files whose every path is in the reader's scope at its pin (the old path at the
/// older pin, the new at the newer): a rename out of scope is not listed, so its name is not told.
pub(super) fn in_scope<'f>(files: &'f [ChangedFile], older: &PinPage, newer: &PinPage) -> Vec<&'f ChangedFile> {
    files
        .iter()
        .filter(|f| {
            newer.scope.covers_file(&f.path) && older.scope.covers_file(f.old_path.as_deref().unwrap_or(&f.path))
        })
        .collect()
}

impl Compare<'_> {
    /// Both pins, each readable by the actor (a refusal recorded as for a file), of one repository.
    async fn pin_pair(&self, actor: &Actor<'_>, a: PinId, b: PinId) -> AppResult<(PinPage, PinPage)> {
        let older = self.pin_access(actor, a).await?;
        let newer = self.pin_access(actor, b).await?;
        if older.record.repository_id != newer.record.repository_id {
            return Err(AppError::Invalid("only two pins of one repository can be compared".into()));
        }
        Ok((older, newer))
    }

    /// The files changed from pin `a` to pin `b`: computed once per pair of trees (they never
    /// change), read through a receipt naming both pins.
    async fn changed_files(
        &self,
        actor: &Actor<'_>,
        older: &PinPage,
        newer: &PinPage,
    ) -> AppResult<Arc<Vec<ChangedFile>>> {
        let (a, b) = (older.pin(), newer.pin());
        let event = actor
            .event(Action::CompareOpen)
            .on(older.object(&RepoPath::root()).shown(&older.record.tree_id))
            .on(newer.object(&RepoPath::root()).shown(&newer.record.tree_id));
        let receipt = self.read(event, Scope::Compare(a, b)).await?;
        let key = (older.record.tree_id.clone(), newer.record.tree_id.clone());
        if let Some(files) = self.caches.compare.lock().expect("cache lock").get(&key) {
            return Ok(Arc::clone(files));
        }
        let files = Arc::new(self.source.diff_list(&receipt, &older.location(), &newer.location()).await?);
        self.caches.compare.lock().expect("cache lock").put(key, Arc::clone(&files));
        Ok(files)
    }

    /// The changed files from `a` to `b`, filtered, a page of `page_size` of them; the paths
    /// listed are recorded before they are returned.
    pub async fn compare(
        &self,
        actor: Actor<'_>,
        a: PinId,
        b: PinId,
        filter: &CompareFilter,
        page_size: usize,
    ) -> AppResult<CompareView> {
        let identity = super::guard::signed_in(match &actor {
            Actor::Web(caller) => caller,
            _ => return Err(AppError::Forbidden("comparisons are made by people".into())),
        })?
        .clone();
        let (older, newer) = self.pin_pair(&actor, a, b).await?;
        let files = self.changed_files(&actor, &older, &newer).await?;
        let files = in_scope(&files, &older, &newer);
        let needle = filter.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()).map(str::to_lowercase);
        let matching: Vec<&ChangedFile> = files
            .iter()
            .copied()
            .filter(|f| {
                needle.as_ref().is_none_or(|needle| {
                    f.path.to_lowercase().contains(needle)
                        || f.old_path.as_ref().is_some_and(|o| o.to_lowercase().contains(needle))
                })
            })
            .collect();
        let pages = matching.len().div_ceil(page_size).max(1) as u32;
        let page = filter.page.unwrap_or(1).clamp(1, pages);
        let shown: Vec<&ChangedFile> =
            matching.iter().skip((page as usize - 1) * page_size).take(page_size).copied().collect();
        let mut event = actor.event(Action::CompareList);
        for file in &shown {
            let old_path = RepoPath::parse(file.old_path.as_deref().unwrap_or(&file.path))?;
            let new_path = RepoPath::parse(&file.path)?;
            if let Some(blob) = &file.old_blob {
                event = event.on(older.object(&old_path).shown(blob));
            }
            if let Some(blob) = &file.new_blob {
                event = event.on(newer.object(&new_path).shown(blob));
            }
        }
        let event = event
            .on(older.object(&RepoPath::root()))
            .on(newer.object(&RepoPath::root()))
            .with(json!({ "listed": shown.len(), "page": page, "changed": files.len() }));
        self.record(event).await?;
        Ok(CompareView {
            a: self.pin_summary(&older).await?,
            b: self.pin_summary(&newer).await?,
            files: shown.into_iter().map(view_of).collect(),
            total_files: files.len(),
            total_additions: files.iter().map(|f| f.additions).sum(),
            total_deletions: files.iter().map(|f| f.deletions).sum(),
            matching: matching.len(),
            page,
            pages,
            watermark: Watermark {
                username: identity.username,
                role: identity.role,
                session: None,
                at_ms: self.clock.now_ms(),
            },
        })
    }

    /// The diff of one file from `a` (at `old_path`, for a rename; else at `path`) to `b` (at
    /// `path`): both blobs and the line ranges of the hunks shown are recorded before it is sent.
    /// With `rows`, a diff of more rows than a window shows the window that holds row `rows` (a
    /// page's; the API's diff is whole).
    #[allow(clippy::too_many_arguments)]
    pub async fn file_diff(
        &self,
        actor: Actor<'_>,
        a: PinId,
        b: PinId,
        path: &RepoPath,
        old_path: Option<&RepoPath>,
        layout: DiffLayout,
        context: Option<u32>,
        rows: Option<u32>,
    ) -> AppResult<DiffView> {
        let caller = match &actor {
            Actor::Web(caller) => *caller,
            _ => return Err(AppError::Forbidden("diffs are read by people".into())),
        };
        let identity = super::guard::signed_in(caller)?.clone();
        let (older, newer) = self.pin_pair(&actor, a, b).await?;
        if path.is_root() {
            return Err(AppError::Invalid("name a file to compare".into()));
        }
        let old_path = old_path.unwrap_or(path);
        // A side outside the reader's paths is answered as a file at neither pin.
        let absent = || AppError::NotFound("there is no such file at either pin".into());
        self.require_file_in_scope(&actor, &newer, path, absent).await?;
        self.require_file_in_scope(&actor, &older, old_path, absent).await?;
        // Its neighbours in the comparison's list (named in the event, as a listing's paths are).
        let all = self.changed_files(&actor, &older, &newer).await?;
        let files = in_scope(&all, &older, &newer);
        let at = files.iter().position(|f| f.path == path.as_str());
        let previous = at.and_then(|at| at.checked_sub(1)).map(|at| files[at]);
        let next = at.and_then(|at| files.get(at + 1).copied());
        let old_found = self.source.locate(&older.location(), std::slice::from_ref(old_path)).await?.pop().flatten();
        let new_found = self.source.locate(&newer.location(), std::slice::from_ref(path)).await?.pop().flatten();
        let is_file = |l: &crate::source::Located| matches!(l.kind, EntryKind::File | EntryKind::Symlink);
        let (old_found, new_found) = (old_found.filter(is_file), new_found.filter(is_file));
        let mut open = actor.event(Action::DiffOpen);
        let mut scope = Vec::new();
        for (access, at, found) in [(&older, old_path, &old_found), (&newer, path, &new_found)] {
            let mut object = access.object(at);
            if let Some(found) = found {
                object = object.shown(&found.object_id);
                scope.push((access.pin(), at.clone()));
            }
            open = open.on(object);
        }
        for neighbour in previous.iter().chain(next.iter()) {
            open = open.on(newer.object(&RepoPath::parse(&neighbour.path)?));
        }
        if scope.is_empty() {
            self.record(open.outcome(Outcome::Failed).with(json!({ "reason": "no such file at either pin" }))).await?;
            return Err(absent());
        }
        let receipt = self.read(open, Scope::Paths(scope)).await?;
        let (old_side, new_side) = self
            .source
            .diff_pair(
                &receipt,
                &older.location(),
                old_found.as_ref().map(|_| old_path),
                &newer.location(),
                new_found.as_ref().map(|_| path),
            )
            .await?;
        let side_view = |side: &crate::source::DiffSide, at: &RepoPath| DiffSideView {
            path: at.to_string(),
            blob_id: side.blob_id.clone(),
            size: side.size,
            binary: side.binary,
        };
        let (old_view, new_view) =
            (old_side.as_ref().map(|s| side_view(s, old_path)), new_side.as_ref().map(|s| side_view(s, path)));
        let readable = |side: &Option<crate::source::DiffSide>| side.as_ref().is_none_or(|s| s.text.is_some());
        let notice = if old_side.iter().chain(new_side.iter()).any(|s| s.binary) {
            Some(DiffNotice::Binary)
        } else if !readable(&old_side) || !readable(&new_side) {
            Some(DiffNotice::TooLarge { max_bytes: self.source.limits().diff_max_bytes })
        } else {
            None
        };
        let hunks = if notice.is_none() {
            let text = |side: &Option<crate::source::DiffSide>| {
                side.as_ref().and_then(|s| s.text.clone()).unwrap_or_else(|| Arc::from(""))
            };
            let lines = |side: &Option<crate::source::DiffSide>| side.as_ref().and_then(|s| s.highlighted.clone());
            let (old_text, new_text, old_lines, new_lines) =
                (text(&old_side), text(&new_side), lines(&old_side), lines(&new_side));
            let budget = Duration::from_millis(self.source.limits().highlight_budget_ms);
            tokio::task::spawn_blocking(move || {
                let empty = Vec::new();
                let old_html = old_lines.as_ref().map_or(&empty, |h| &h.lines);
                let new_html = new_lines.as_ref().map_or(&empty, |h| &h.lines);
                hunks::hunks(&old_text, &new_text, old_html, new_html, context, budget)
            })
            .await
            .map_err(|e| super::error::internal(&e))?
        } else {
            Vec::new()
        };
        let total: u32 = hunks.iter().map(|hunk| hunk.lines.len() as u32).sum();
        let window = rows.filter(|_| total > LineWindow::LINES).map(|from| {
            let first = LineWindow::around(from.min(total));
            LineWindow { first, last: first.saturating_add(LineWindow::LINES - 1).min(total), total }
        });
        let hunks = match window {
            Some(window) => hunks::window(hunks, window.first, window.last),
            None => hunks,
        };
        // What the page shows: each side's blob with the line ranges of the hunks (a side of which
        // no line is shown is named without a blob; the details name both blobs).
        let blobs = json!({
            "hunks": hunks.len(),
            "old_blob": old_side.as_ref().map(|s| &s.blob_id),
            "new_blob": new_side.as_ref().map(|s| &s.blob_id),
        });
        let mut shown = actor.event(Action::DiffView).with(blobs);
        for (access, at, side, old) in [(&older, old_path, &old_side, true), (&newer, path, &new_side, false)] {
            let Some(side) = side else { continue };
            let ranges = ranges(&hunks, old);
            if ranges.is_empty() {
                shown = shown.on(access.object(at));
            }
            for range in ranges {
                shown = shown.on(access.object(at).shown(&side.blob_id).lines(range));
            }
        }
        self.record(shown).await?;
        let can_comment = newer.caps.start_thread;
        let reviewed = match new_found {
            Some(_) => self.coverage().is_marked(&actor, &newer, path).await?,
            None => None,
        };
        Ok(DiffView {
            a: self.pin_summary(&older).await?,
            b: self.pin_summary(&newer).await?,
            path: path.clone(),
            old: old_view,
            new: new_view,
            hunks,
            rows: window,
            notice,
            layout,
            context,
            watermark: Watermark {
                username: identity.username,
                role: identity.role,
                session: caller.session.clone(),
                at_ms: self.clock.now_ms(),
            },
            csrf_token: caller.csrf_token.clone().unwrap_or_default(),
            can_comment,
            reviewed,
            previous: previous.map(view_of),
            next: next.map(view_of),
            position: at.map(|at| (at as u32 + 1, files.len() as u32)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hunk(old_start: u32, old_lines: u32, new_start: u32, new_lines: u32) -> Hunk {
        Hunk { old_start, old_lines, new_start, new_lines, lines: Vec::new() }
    }

    #[test]
    fn the_ranges_shown_are_those_of_the_hunks_merged() {
        let hunks = [hunk(1, 7, 1, 8), hunk(8, 3, 9, 0), hunk(40, 7, 41, 7)];
        assert_eq!(ranges(&hunks, true), [LineRange { first: 1, last: 10 }, LineRange { first: 40, last: 46 }]);
        assert_eq!(ranges(&hunks, false), [LineRange { first: 1, last: 8 }, LineRange { first: 41, last: 47 }]);
    }
}
