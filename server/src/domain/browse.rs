//! Browsing pinned source: the pins one may see, directory listings and files. Each read locates
//! what it will show, records an event naming it (the git object ids), and reads with the receipt.

use super::guard::{capabilities, pin_readable, Actor, PinFacts, PinPage, PinUse};
use super::Browse;
use crate::audit::Action;
use crate::audit::{Outcome, Scope};
use crate::source::Located;
use crate::store::pins::PinRecord;
use app::backend::RowsSlot;
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;

/// A pin as its pages show it, with what the person looking may do there (`caps`, the guard's).
pub fn summary(pin: &PinRecord, access_ends_ms: Option<i64>, caps: Capabilities) -> PinSummary {
    PinSummary {
        id: PinId::from_stored(pin.id),
        repository: pin.repository.clone(),
        label: pin.label.clone(),
        commit_id: pin.commit_id.clone(),
        pinned_at_ms: pin.pinned_at,
        committed_at_ms: pin.committed_at,
        pinned_by: pin.pinned_by.clone(),
        withdrawn: pin.withdrawn_at.is_some(),
        access_ends_ms,
        mismatches: Vec::new(),
        no_download: pin.no_download,
        no_copy: pin.no_copy,
        history: pin.history,
        caps,
        scope: Vec::new(),
    }
}

fn watermark(caller: &Caller, identity: &Identity, now: i64) -> Watermark {
    Watermark { username: identity.username.clone(), role: identity.role, session: caller.session.clone(), at_ms: now }
}

/// The window that holds line `from` (windows start at 1, 4001, …).
fn window_from(from: Option<u32>) -> LineRange {
    let first = LineWindow::around(from.unwrap_or(1));
    LineRange { first, last: first.saturating_add(LineWindow::LINES - 1) }
}

/// A window of a long file's lines, read for a page that loads them: its lines, those compiled
/// into the chosen artifact, and the tool results on them.
pub struct WindowRead {
    pub content: BlobContent,
    pub compiled: Vec<[u32; 2]>,
    pub annotations: Vec<Annotation>,
}

/// The lines a window from `from` sends of a file of `total` lines, cut as the source cuts it (from
/// `from`, or the last line when `from` is past the end, for at most a window), or `None` when it
/// sends none (an empty, binary or undisplayed file). Security defect 7: an event recorded the
/// window asked for, lines 8001–12000 of a 6-line file, where line 6 was sent.
fn lines_sent(from: u32, total: Option<u32>) -> Option<LineRange> {
    let total = total.filter(|total| *total > 0)?;
    let first = from.clamp(1, total);
    Some(LineRange { first, last: first.saturating_add(LineWindow::LINES - 1).min(total) })
}

/// The answer for a path a pin does not have (or the reader's grant does not cover).
fn no_such_path() -> AppError {
    AppError::NotFound("there is no such path at this pin".into())
}

/// Refuses what is not a file (a directory, a submodule) for a read of a file's content.
fn a_file(found: &Located) -> Result<(), AppError> {
    match found.kind {
        EntryKind::File | EntryKind::Symlink => Ok(()),
        EntryKind::Directory => Err(AppError::NotFound("this path is a directory; open it as a tree".into())),
        EntryKind::Submodule => Err(AppError::NotFound("this path is a submodule; it has no content here".into())),
    }
}

impl Browse<'_> {
    /// The pins the caller may browse now; for a reviewer or regulator, with when access ends.
    pub async fn list_pins(&self, actor: Actor<'_>) -> AppResult<Vec<PinSummary>> {
        let (caller, identity) = actor.person()?;
        let now = self.clock.now_ms();
        let token = caller.token.as_ref();
        if identity.role == Role::Staff {
            let pins = self.store.list_pins().await?;
            return Ok(pins
                .iter()
                .map(|p| summary(p, None, capabilities(Role::Staff, PinFacts::of(p), &[], now, token)))
                .collect());
        }
        // One row per grant, newest pin first: the rows of one pin are adjacent.
        let granted = self.store.pins_with_grants_of(identity.user_id).await?;
        let mut pins = Vec::new();
        for rows in granted.chunk_by(|a, b| a.0.id == b.0.id) {
            let pin = &rows[0].0;
            let grants: Vec<_> = rows.iter().map(|(_, grant)| grant.clone()).collect();
            if let Some(ends) = pin_readable(identity.role, pin.withdrawn_at.is_some(), &grants, now) {
                let mut shown = summary(pin, ends, capabilities(identity.role, PinFacts::of(pin), &grants, now, token));
                shown.scope = super::guard::PathScope::of_grants(&grants, now).patterns();
                pins.push(shown);
            }
        }
        // A regulator or supervisor also reads the review records of pins they hold no grant for.
        if identity.role.oversees() {
            let listed: std::collections::HashSet<i64> = pins.iter().map(|p| p.id.get()).collect();
            for pin in self.store.list_pins().await?.iter().filter(|p| !listed.contains(&p.id)) {
                let caps = capabilities(identity.role, PinFacts::of(pin), &[], now, token);
                if caps.read_review {
                    pins.push(summary(pin, None, caps));
                }
            }
            pins.sort_by_key(|p| std::cmp::Reverse(p.id.get()));
        }
        Ok(pins)
    }

    /// A pin as its source pages show it, to who may read its source now.
    pub async fn pin_for_source(&self, actor: Actor<'_>, pin: PinId) -> AppResult<PinSummary> {
        let access = self.pin_access(&actor, pin).await?;
        self.pin_summary(&access).await
    }

    /// Where a path is at a pin, recording a failed read when it is not what the caller asked for.
    async fn locate_or_refuse(
        &self,
        actor: &Actor<'_>,
        access: &PinPage,
        action: Action,
        paths: &[RepoPath],
        want: impl Fn(usize, &Located) -> Result<(), AppError>,
    ) -> AppResult<Vec<Located>> {
        let found = self.source.locate(&access.location(), paths).await?;
        let mut located = Vec::new();
        for (at, (path, found)) in paths.iter().zip(found).enumerate() {
            // A path outside the grant's paths is answered as one that does not exist.
            if found.is_some() && !self.in_scope(access, path).await? {
                return Err(self.refuse_outside(actor, access, path, no_such_path).await?);
            }
            let problem = match &found {
                None => Some(no_such_path()),
                Some(found) => want(at, found).err(),
            };
            if let Some(problem) = problem {
                let event = actor
                    .event(action)
                    .outcome(Outcome::Failed)
                    .on(access.object(path))
                    .with(json!({ "reason": problem.to_string() }));
                self.record(event).await?;
                return Err(problem);
            }
            located.extend(found);
        }
        Ok(located)
    }

    pub async fn open_tree(&self, actor: Actor<'_>, pin: PinId, path: RepoPath) -> AppResult<TreeView> {
        let (caller, identity) = actor.person()?;
        let access = self.pin_access(&actor, pin).await?;
        let located = self
            .locate_or_refuse(&actor, &access, Action::TreeView, std::slice::from_ref(&path), |_, found| {
                match found.kind {
                    EntryKind::Directory => Ok(()),
                    _ => Err(AppError::NotFound("this path is a file; open it as a blob".into())),
                }
            })
            .await?;
        let event = actor.event(Action::TreeView).on(access.object(&path).shown(&located[0].object_id));
        let receipt = self.read(event, Scope::path(pin, &path)).await?;
        let mut entries = self.source.read_tree(&receipt, &access.location(), &path).await?;
        let scope = self.scope_filter(&access).await?;
        entries.retain(|entry| scope.keep(path.join(&entry.name).as_str()));
        let maps = self.compiled().pin_maps(&access).await?;
        let compiled = maps
            .as_deref()
            .and_then(|maps| maps.chosen(None))
            .map(|chosen| super::compiled::marks::tree_marks(chosen, path.as_str(), &scope));
        Ok(TreeView {
            pin: self.pin_summary(&access).await?,
            path,
            entries,
            watermark: watermark(caller, identity, self.clock.now_ms()),
            compiled,
        })
    }

    /// One window of a large file's lines, from the window that holds line `from`: what a reader's
    /// page loads as they scroll or jump, with the window's lines compiled into the artifact the
    /// page chose (or the pin's first). Recorded (`blob.lines`, naming the lines and the map whose
    /// marks it shows) before the read.
    pub async fn read_lines(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        path: RepoPath,
        from: u32,
        artifact: Option<&Sha256Hex>,
    ) -> AppResult<WindowRead> {
        actor.person()?;
        let access = self.pin_access(&actor, pin).await?;
        let located = self
            .locate_or_refuse(&actor, &access, Action::BlobLines, std::slice::from_ref(&path), |_, found| a_file(found))
            .await?;
        let from = window_from(Some(from)).first;
        let total = self.source.line_count(&access.location(), &located[0].object_id).await?;
        let mut object = access.object(&path).shown(&located[0].object_id);
        let sent = lines_sent(from, total);
        if let Some(sent) = sent {
            object = object.lines(sent);
        }
        let mut event = actor.event(Action::BlobLines).on(object);
        // The tool results on the lines sent, as on the file's page.
        let annotations = match sent {
            Some(sent) => self.tool_results().annotations(&actor, &access, &path, (sent.first, sent.last)).await?,
            None => Vec::new(),
        };
        let mut details = serde_json::Map::new();
        if !annotations.is_empty() {
            details.insert("tool_results".into(), json!(annotations.len()));
        }
        let maps = self.compiled().pin_maps(&access).await?;
        let chosen = maps.as_deref().and_then(|maps| maps.chosen(artifact.map(Sha256Hex::as_str)));
        if let Some(chosen) = chosen {
            details.insert(
                "compiled".into(),
                json!({ "sha256": chosen.artifact.sha256, "map_sha256": chosen.map_sha256 }),
            );
        }
        if !details.is_empty() {
            event = event.with(serde_json::Value::Object(details));
        }
        let receipt = self.read(event, Scope::Paths(vec![(pin, path.clone())])).await?;
        let content = self.source.read_window(&receipt, &access.location(), &path, from).await?.content;
        let marks = match (&content, chosen) {
            (BlobContent::Text { window: Some(window), .. }, Some(chosen)) => {
                super::compiled::marks::window_marks(chosen, path.as_str(), (window.first, window.last))
            }
            _ => Vec::new(),
        };
        Ok(WindowRead { content, compiled: marks, annotations })
    }

    /// A file's bytes, whole, for a download. Recorded (`blob.download`) before the read.
    pub async fn download(&self, actor: Actor<'_>, pin: PinId, path: RepoPath) -> AppResult<Vec<u8>> {
        actor.person()?;
        // The take-away policy is the guard's; a refusal is recorded naming the file asked for.
        let access = self.pin_use_at(&actor, pin, PinUse::Download, &path).await?;
        let located = self
            .locate_or_refuse(&actor, &access, Action::BlobDownload, std::slice::from_ref(&path), |_, found| {
                a_file(found)?;
                match found.size {
                    Some(size) if size > self.source.limits().display_max_bytes => Err(AppError::TooLarge(format!(
                        "this file is larger than {} MiB and cannot be downloaded here",
                        self.source.limits().display_max_bytes / (1024 * 1024)
                    ))),
                    _ => Ok(()),
                }
            })
            .await?;
        let event = actor.event(Action::BlobDownload).on(access.object(&path).shown(&located[0].object_id));
        let receipt = self.read(event, Scope::Paths(vec![(pin, path.clone())])).await?;
        Ok(self.source.read_raw(&receipt, &access.location(), &path).await?)
    }

    /// Whether a file is shown a window of lines at a time, and then its line count (`None`
    /// inside: a file shown with no lines). A file past the highlight cap always is; a highlighted
    /// one when it has more lines than a window (a file of fewer bytes than that cannot).
    async fn windowed_lines(&self, access: &PinPage, found: &Located) -> AppResult<Option<Option<u32>>> {
        let Some(size) = found.size else { return Ok(None) };
        let plain = self.source.is_windowed(size);
        if !plain && (size <= u64::from(LineWindow::LINES) || size > self.source.limits().display_max_bytes) {
            return Ok(None);
        }
        let total = self.source.line_count(&access.location(), &found.object_id).await?;
        Ok((plain || total.is_some_and(|total| total > LineWindow::LINES)).then_some(total))
    }

    pub async fn open_blob(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        path: RepoPath,
        from: Option<u32>,
        artifact: Option<&Sha256Hex>,
        rows: Option<RowsSlot>,
    ) -> AppResult<BlobView> {
        if path.is_root() {
            return Err(AppError::Invalid("name a file to open".into()));
        }
        let (caller, identity) = actor.person()?;
        let access = self.pin_access(&actor, pin).await?;
        // The file and the directory that holds it (the tree beside the code) are one recorded view.
        let directory = path.parent();
        let paths = [path.clone(), directory.clone()];
        let located = self
            .locate_or_refuse(&actor, &access, Action::BlobView, &paths, |at, found| match (at, found.kind) {
                (0, EntryKind::File | EntryKind::Symlink) | (1, _) => Ok(()),
                (_, EntryKind::Directory) => {
                    Err(AppError::NotFound("this path is a directory; open it as a tree".into()))
                }
                _ => Err(AppError::NotFound("this path is a submodule; it has no content here".into())),
            })
            .await?;
        // A long file (over a window's lines, or over the highlight cap) is shown a window of lines
        // at a time: the event names the lines it sends.
        let window = self.windowed_lines(&access, &located[0]).await?.map(|total| (window_from(from), total));
        let mut file_object = access.object(&path).shown(&located[0].object_id);
        let sent = window.and_then(|(window, total)| lines_sent(window.first, total));
        if let Some(sent) = sent {
            file_object = file_object.lines(sent);
        }
        // Imported tool results on the lines sent (on every line, of a file sent whole).
        let shown = sent.map(|lines| (lines.first, lines.last));
        let results = self.tool_results().file_results(&actor, &access, &path, shown).await?;
        let mut event =
            actor.event(Action::BlobView).on(file_object).on(access.object(&directory).shown(&located[1].object_id));
        let mut details = serde_json::Map::new();
        if results.count() > 0 {
            details.insert("tool_results".into(), json!(results.count()));
        }
        // The compiled-code marks shown are part of the view.
        let maps = self.compiled().pin_maps(&access).await?;
        let chosen = maps.as_deref().and_then(|maps| maps.chosen(artifact.map(Sha256Hex::as_str)));
        if let Some(chosen) = chosen {
            let marks = json!({ "sha256": chosen.artifact.sha256, "map_sha256": chosen.map_sha256 });
            details.insert("compiled".into(), marks);
        }
        if !details.is_empty() {
            event = event.with(serde_json::Value::Object(details));
        }
        let receipt = self.read(event, Scope::Paths(vec![(pin, path.clone()), (pin, directory.clone())])).await?;
        let from = window.map(|(lines, _)| lines.first);
        let threads = self.review().threads_of_file(&actor, &access, &path, &located[0].object_id).await?;
        // A page sent with gzip takes the file's rows packed once (`source::rows`), unless a thread
        // sits between them (tool results are listed after the rows, and placed by the page).
        let rows = rows.filter(|_| threads.iter().all(|thread| thread.lines.is_none()));
        let (mut file, mut siblings) =
            self.source.read_file(&receipt, &access.location(), &path, from, rows.is_some()).await?;
        let scope = self.scope_filter(&access).await?;
        siblings.retain(|entry| scope.keep(directory.join(&entry.name).as_str()));
        if let (Some(slot), Some(packed), BlobContent::Text { spliced, .. }) =
            (rows, file.packed.take(), &mut file.content)
        {
            *spliced = Some(SplicedRows { marker: slot.marker.clone(), lines: packed.lines });
            slot.put(packed);
        }
        let reviewed = self.coverage().is_marked(&actor, &access, &path).await?;
        let can_comment = access.caps.start_thread;
        let shown = match &file.content {
            BlobContent::Text { window: Some(window), .. } => (window.first, window.last),
            _ => (1, u32::MAX),
        };
        let compiled = maps
            .as_deref()
            .zip(chosen)
            .map(|(maps, chosen)| super::compiled::marks::file_marks(maps, chosen, path.as_str(), shown));
        Ok(BlobView {
            pin: self.pin_summary(&access).await?,
            path,
            blob_id: file.blob_id,
            size: file.size,
            content: file.content,
            siblings,
            watermark: watermark(caller, identity, self.clock.now_ms()),
            threads,
            reviewed,
            can_comment,
            csrf_token: caller.csrf_token.clone().unwrap_or_default(),
            compiled,
            annotations: results.on_file,
            results_list: results.list,
        })
    }
}
