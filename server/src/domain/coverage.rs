//! Reviewed marks, coverage (from the file index, the log's view events and the marks) with its
//! picture, and verdicts. Staff and regulators see every reviewer's coverage; a reviewer sees their
//! own and everyone's together.

use super::guard::{require_use, Actor, PinPage, PinUse};
use super::threads::{self, Viewer};
use super::CoverageService;
use crate::audit::Action;
use crate::review::coverage::{self as figures, Coverage, IndexedFile, ReviewerInputs, Shown};
use crate::review::treemap;
use crate::store::review::{self as rows, NewVerdict};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// What coverage keeps between requests: the files of indexed pins (immutable), and per pin what
/// the log said was shown up to the last event read.
pub struct CoverageCache {
    pub(super) files: Mutex<lru::LruCache<i64, Arc<Vec<IndexedFile>>>>,
    shown: Mutex<lru::LruCache<i64, Arc<tokio::sync::Mutex<ShownLog>>>>,
}

impl Default for CoverageCache {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(64).expect("non-zero");
        CoverageCache {
            files: Mutex::new(lru::LruCache::new(capacity)),
            shown: Mutex::new(lru::LruCache::new(capacity)),
        }
    }
}

/// A pin's shown objects, per person and path (with the blob shown), up to event `after`.
struct ShownLog {
    after: i64,
    by_actor: HashMap<String, HashMap<String, (String, Shown)>>,
}

impl Default for ShownLog {
    fn default() -> Self {
        ShownLog { after: -1, by_actor: HashMap::new() }
    }
}

/// A pin's coverage as computed: the files, each reviewer's figures the caller may see, and
/// everyone together.
pub struct CoverageFigures {
    pub access: PinPage,
    pub total: Amount,
    pub files: Arc<Vec<IndexedFile>>,
    pub reviewers: Vec<Coverage>,
    pub combined: Coverage,
    pub indexed: bool,
    pub index_progress: Option<(u64, u64)>,
}

impl CoverageFigures {
    /// The report on the wire; with `file_lists`, each reviewer's files that are not in state none.
    pub fn report(&self, file_lists: bool) -> CoverageReport {
        let wire = |coverage: &Coverage| {
            let mut wire = coverage.to_wire(&self.files, false);
            if !file_lists {
                wire.files.clear();
            }
            wire
        };
        CoverageReport {
            total: self.total,
            reviewers: self.reviewers.iter().map(wire).collect(),
            combined: wire(&self.combined),
            indexed: self.indexed,
            index_progress: self.index_progress,
        }
    }
}

impl CoverageService<'_> {
    /// Marks a file reviewed (or unmarks it) for the acting reviewer.
    pub async fn mark_reviewed(&self, actor: Actor<'_>, pin: PinId, path: &RepoPath, reviewed: bool) -> AppResult<()> {
        let identity = actor.identity().cloned().ok_or(AppError::Unauthorized)?;
        let access = self.pin_use(&actor, pin, PinUse::MarkReviewed).await?;
        let missing = || AppError::NotFound("there is no such file at this pin".into());
        self.require_file_in_scope(&actor, &access, path, missing).await?;
        let located = self.source.locate(&access.location(), std::slice::from_ref(path)).await?.pop().flatten();
        let Some(blob) = located.filter(|l| matches!(l.kind, EntryKind::File | EntryKind::Symlink)) else {
            return Err(self.refuse_object(&actor, access.object(path), missing()).await?);
        };
        let now = self.clock.now_ms();
        self.write(async |tx| {
            rows::insert_mark(tx.conn(), pin.get(), path.as_str(), &blob.object_id, identity.user_id, reviewed, now)
                .await?;
            let action = if reviewed { Action::ReviewMark } else { Action::ReviewUnmark };
            tx.append(&actor.event(action).on(access.object(path).shown(&blob.object_id))).await?;
            Ok(())
        })
        .await
    }

    /// Whether the acting reviewer has marked the file reviewed at the pin.
    /// `None` where the actor marks nothing here (the guard's `mark` capability).
    pub(super) async fn is_marked(
        &self,
        actor: &Actor<'_>,
        access: &PinPage,
        path: &RepoPath,
    ) -> AppResult<Option<bool>> {
        let Some(identity) = actor.identity().filter(|_| access.caps.mark) else { return Ok(None) };
        Ok(Some(self.store.is_marked(access.record.id, identity.user_id, path.as_str()).await?))
    }

    /// What the log says was shown at a pin, per person and path: read once, then only the events
    /// appended since (the log is append-only and its indices commit in order).
    async fn shown_at(&self, pin: PinId) -> AppResult<tokio::sync::OwnedMutexGuard<ShownLog>> {
        let entry = {
            let mut pins = self.caches.coverage.shown.lock().expect("cache lock");
            Arc::clone(pins.get_or_insert_mut(pin.get(), || Arc::new(tokio::sync::Mutex::new(ShownLog::default()))))
        };
        let mut log = entry.lock_owned().await;
        let rows = self.store.shown_objects(pin.get(), log.after, &crate::audit::action::shown_rule()).await?;
        for row in rows {
            log.after = log.after.max(row.event_idx as i64);
            let (blob, shown) = log
                .by_actor
                .entry(row.actor)
                .or_default()
                .entry(row.path)
                .or_insert_with(|| (row.blob_id.clone(), Shown::default()));
            if *blob != row.blob_id {
                *blob = row.blob_id;
                *shown = Shown::default();
            }
            shown.add(row.lines);
        }
        Ok(log)
    }

    /// Everyone's coverage inputs at a pin, and the pin's indexed files.
    pub(super) async fn coverage_inputs(
        &self,
        access: &PinPage,
    ) -> AppResult<(Arc<Vec<IndexedFile>>, Vec<ReviewerInputs>, bool, Option<(u64, u64)>)> {
        let pin = access.pin();
        let (files, indexed, partial) = self.indexed_files(pin).await?;
        let blob_at: HashMap<&str, &str> = files.iter().map(|f| (f.path.as_str(), f.blob_id.as_str())).collect();
        let users = self.store.list_users().await?;
        let reviewers: HashSet<&str> =
            users.iter().filter(|u| u.role == Role::Reviewer).map(|u| u.username.as_str()).collect();
        let mut inputs: HashMap<String, ReviewerInputs> = HashMap::new();
        fn entry<'i>(
            inputs: &'i mut HashMap<String, ReviewerInputs>,
            reviewers: &HashSet<&str>,
            name: &str,
        ) -> Option<&'i mut ReviewerInputs> {
            reviewers.contains(name).then(|| {
                inputs
                    .entry(name.to_string())
                    .or_insert_with(|| ReviewerInputs { username: name.into(), ..Default::default() })
            })
        }
        for grant in self.store.list_grants().await?.iter().filter(|g| g.pin_id == pin.get()) {
            entry(&mut inputs, &reviewers, &grant.reviewer);
        }
        let shown = self.shown_at(pin).await?;
        for (actor, paths) in &shown.by_actor {
            if let Some(reviewer) = entry(&mut inputs, &reviewers, actor) {
                for (path, (blob, seen)) in paths {
                    if blob_at.get(path.as_str()) == Some(&blob.as_str()) {
                        reviewer.shown.insert(path.clone(), seen.clone());
                    }
                }
            }
        }
        drop(shown);
        for mark in self.store.latest_marks(pin.get(), None).await?.into_iter().filter(|m| m.reviewed) {
            if let Some(reviewer) = entry(&mut inputs, &reviewers, &mark.reviewer) {
                reviewer.reviewed.insert(mark.path);
            }
        }
        for mark in self.store.latest_marks_before(pin.get()).await?.into_iter().filter(|m| m.reviewed) {
            if let Some(reviewer) = entry(&mut inputs, &reviewers, &mark.reviewer) {
                let latest = reviewer.carried.entry(mark.blob_id).or_insert(PinId::from_stored(mark.pin_id));
                *latest = (*latest).max(PinId::from_stored(mark.pin_id));
            }
        }
        let mut inputs: Vec<ReviewerInputs> = inputs.into_values().collect();
        inputs.sort_by(|a, b| a.username.cmp(&b.username));
        Ok((files, inputs, indexed, partial))
    }

    /// Coverage of a pin: everyone's for staff and regulators, one's own for a reviewer, and
    /// everyone together. Viewing it is recorded.
    pub async fn coverage(&self, actor: Actor<'_>, pin: PinId) -> AppResult<CoverageFigures> {
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let (files, inputs, indexed, index_progress) = self.coverage_inputs(&access).await?;
        // A person whose grant is limited to paths counts only the files in them.
        let files = match access.scope.is_whole() {
            true => files,
            false => Arc::new(files.iter().filter(|f| access.scope.covers_file(&f.path)).cloned().collect()),
        };
        let all_files = Arc::clone(&files);
        // The pin's size counts every file; the lists name only what the guard lets this person
        // see by path (files not shown to anyone add nothing to any figure but the total).
        let total = figures::total(&files);
        let files = if super::guard::rules::coverage_lists_every_path(&access.caps) {
            files
        } else {
            let named = |path: &String| inputs.iter().any(|i| i.shown.contains_key(path) || i.reviewed.contains(path));
            Arc::new(files.iter().filter(|f| named(&f.path)).cloned().collect())
        };
        let mut combined = figures::combined_coverage(&files, &inputs);
        let own = super::guard::rules::coverage_limited_to(actor.identity()).map(str::to_string);
        let mut reviewers: Vec<Coverage> = inputs
            .iter()
            .filter(|i| own.as_ref().is_none_or(|me| *me == i.username))
            .map(|i| figures::reviewer_coverage(&files, i))
            .collect();
        if let Some(me) = &own {
            if reviewers.is_empty() {
                reviewers.push(figures::reviewer_coverage(
                    &files,
                    &ReviewerInputs { username: me.clone(), ..Default::default() },
                ));
            }
        }
        // Of each artifact's compiled lines: counted over every indexed file (figures name no path).
        if let Some(maps) = self.compiled().pin_maps(&access).await? {
            let everyone = figures::combined_inputs(&inputs);
            let nobody = ReviewerInputs::default();
            for map in &maps.maps {
                let figure = |of: &ReviewerInputs| super::compiled::marks::figures_of(map, &all_files, of).coverage;
                combined.compiled.push(figure(&everyone));
                for reviewer in reviewers.iter_mut() {
                    let of = inputs.iter().find(|i| i.username == reviewer.username).unwrap_or(&nobody);
                    reviewer.compiled.push(figure(of));
                }
            }
        }
        self.record(actor.event(Action::CoverageView).on(access.object(&RepoPath::root()))).await?;
        Ok(CoverageFigures { access, total, files, reviewers, combined, indexed, index_progress })
    }

    /// A reviewer's progress at each pin they may mark now (other roles have none to show).
    pub async fn my_progress(&self, actor: Actor<'_>) -> AppResult<Vec<PinProgress>> {
        let (_, identity) = actor.person()?;
        if identity.role != Role::Reviewer {
            return Ok(Vec::new());
        }
        let mut progress = Vec::new();
        for pin in self.browse().list_pins(actor).await?.into_iter().filter(|p| p.caps.mark) {
            let figures = self.coverage(actor, pin.id).await?;
            let Some(mine) = figures.reviewers.iter().find(|r| r.username == identity.username) else { continue };
            let done = |state: &FileCoverage| matches!(state, FileCoverage::Reviewed | FileCoverage::Carried);
            let next_unreviewed = figures
                .files
                .iter()
                .zip(&mine.states)
                .find(|(_, (state, _))| !done(state))
                .map(|(f, _)| f.path.clone());
            progress.push(PinProgress {
                pin: pin.id,
                reviewed: Amount {
                    files: mine.reviewed.files + mine.carried.files,
                    lines: mine.reviewed.lines + mine.carried.lines,
                },
                total: figures.total,
                next_unreviewed,
            });
        }
        Ok(progress)
    }

    /// The coverage page: the report, the directory table and the picture for one reviewer (or all).
    pub async fn coverage_page(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        selected: Option<String>,
        compiled: Option<&Sha256Hex>,
    ) -> AppResult<CoveragePage> {
        let figures = self.coverage(actor, pin).await?;
        let maps = self.compiled().pin_maps(&figures.access).await?;
        let artifacts: Vec<CompiledArtifact> =
            maps.iter().flat_map(|maps| maps.maps.iter().map(|m| m.artifact.clone())).collect();
        let chosen = compiled.and_then(|sha| maps.as_deref()?.maps.iter().find(|m| m.artifact.sha256 == sha.as_str()));
        let selected = selected.filter(|name| figures.reviewers.iter().any(|r| &r.username == name));
        let shown = match &selected {
            Some(name) => figures.reviewers.iter().find(|r| &r.username == name).unwrap_or(&figures.combined),
            None => &figures.combined,
        };
        // Compiled into an artifact: only its compiled files, each as large as its compiled lines.
        let tiles: Vec<treemap::Tile<'_>> = figures
            .files
            .iter()
            .zip(&shown.states)
            .filter_map(|(f, (state, _))| match chosen {
                None => Some(treemap::Tile { path: &f.path, lines: f.lines, state: *state }),
                Some(map) => map.lines.get(&f.path).map(|lines| treemap::Tile {
                    path: &f.path,
                    lines: app::model::range_lines(lines),
                    state: *state,
                }),
            })
            .collect();
        let link = |path: &str| {
            let encoded = RepoPath::parse(path).map(|p| p.url_encoded()).unwrap_or_default();
            format!("/pins/{pin}/blob/{encoded}")
        };
        let of = match chosen {
            Some(map) => format!("the code compiled into {}", map.artifact.name),
            None => figures.access.record.label.clone(),
        };
        let label = format!("Coverage of {of} by {}", selected.as_deref().unwrap_or("all reviewers"));
        let svg = treemap::render(&tiles, &link, &label);
        let directories: Vec<DirectoryCoverage> = figures::by_directory(&figures.files, shown)
            .into_iter()
            .filter(|(path, _)| path.matches('/').count() < 2)
            .map(|(path, [total, shown, reviewed])| DirectoryCoverage { path, total, shown, reviewed })
            .collect();
        let report = figures.report(false);
        let compiled = chosen.map(|map| map.artifact.clone());
        let pin = self.pin_summary(&figures.access).await?;
        Ok(CoveragePage { pin, report, selected, svg, directories, compiled, artifacts })
    }

    /// A pin's verdicts, and what a verdict given now would record.
    pub async fn verdicts(&self, actor: Actor<'_>, pin: PinId) -> AppResult<VerdictPage> {
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let viewer = self.viewer(&actor, &access);
        let stored = self.store.verdicts_of_pin(pin.get()).await?;
        let superseded: HashSet<i64> = stored.iter().filter_map(|v| v.supersedes).collect();
        let verdicts = stored
            .into_iter()
            .map(|v| VerdictView {
                id: v.id,
                reviewer: v.reviewer,
                verdict: VerdictKind::parse(&v.verdict).unwrap_or(VerdictKind::Concerns),
                summary: v.summary,
                commit_id: v.commit_id,
                coverage: serde_json::from_str(&v.coverage).unwrap_or_default(),
                open_findings: serde_json::from_str(&v.open_findings).unwrap_or_default(),
                binaries: serde_json::from_str(&v.binaries).unwrap_or_default(),
                supersedes: v.supersedes,
                superseded: superseded.contains(&v.id),
                created_at_ms: v.created_at,
            })
            .collect();
        Ok(VerdictPage {
            pin: self.pin_summary(&access).await?,
            verdicts,
            can_submit: access.caps.verdict,
            open_findings: self.open_findings(&access, &viewer).await?,
            binaries: self.binaries_of(pin).await?,
            csrf_token: String::new(),
        })
    }

    pub(super) async fn open_findings(&self, access: &PinPage, viewer: &Viewer) -> AppResult<Vec<FindingSummary>> {
        let threads =
            threads::assemble(&self.store.comments_of_pin(access.record.id).await?, viewer, None, &HashMap::new());
        Ok(threads
            .into_iter()
            .filter(|t| t.kind == CommentKind::Finding && t.state.is_open())
            .filter(|t| access.scope.covers_file(t.path.as_str()))
            .filter_map(|t| {
                t.severity.map(|severity| FindingSummary {
                    id: t.id,
                    severity,
                    state: t.state,
                    path: t.path.to_string(),
                })
            })
            .collect())
    }

    /// Records a reviewer's verdict with the commit, their coverage, the open findings and the
    /// binaries recorded at this moment; a later verdict supersedes it.
    pub async fn submit_verdict(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        verdict: VerdictKind,
        summary: &str,
    ) -> AppResult<i64> {
        let identity = actor.identity().cloned().ok_or(AppError::Unauthorized)?;
        require_use(&actor, PinUse::GiveVerdict)?;
        let summary = summary.trim();
        if summary.is_empty() || summary.chars().count() > 20_000 {
            return Err(AppError::Invalid("a verdict needs a summary of at most 20000 characters".into()));
        }
        let access = self.pin_use(&actor, pin, PinUse::GiveVerdict).await?;
        let viewer = self.viewer(&actor, &access);
        let (files, inputs, indexed, progress) = self.coverage_inputs(&access).await?;
        let files = files.as_slice();
        if !indexed {
            let (done, total) = progress.unwrap_or_default();
            return Err(AppError::Unavailable(format!(
                "the pin's files are still being indexed ({done} of {total}); a verdict records your coverage, so give it in a moment"
            )));
        }
        let mine_inputs = inputs.iter().find(|i| i.username == identity.username).cloned().unwrap_or_default();
        let mine = figures::reviewer_coverage(files, &mine_inputs);
        let coverage = ReviewerCoverageFigures {
            total: figures::total(files),
            shown: mine.shown,
            reviewed: mine.reviewed,
            carried: mine.carried,
        };
        // The figures as kept and recorded, with the compiled coverage of each artifact beside them.
        let compiled = self.compiled().figures(&access, files, &mine_inputs).await?;
        let mut coverage = serde_json::to_value(coverage).map_err(|e| super::error::internal(&e))?;
        coverage["compiled"] = serde_json::to_value(&compiled).map_err(|e| super::error::internal(&e))?;
        let open_findings = self.open_findings(&access, &viewer).await?;
        let binaries = self.binaries_of(pin).await?;
        let (coverage_json, findings_json, binaries_json) = (
            serde_json::to_string(&coverage).unwrap_or_default(),
            serde_json::to_string(&open_findings).unwrap_or_default(),
            serde_json::to_string(&binaries).unwrap_or_default(),
        );
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let new = NewVerdict {
                pin_id: pin.get(),
                reviewer_id: identity.user_id,
                verdict: verdict.as_str(),
                summary,
                commit_id: &access.record.commit_id,
                coverage: &coverage_json,
                open_findings: &findings_json,
                binaries: &binaries_json,
                created_at: now,
            };
            let (id, supersedes) = rows::insert_verdict(tx.conn(), &new).await?;
            let event = actor.event(Action::VerdictSubmit).on(access.object(&RepoPath::root())).with(json!({
                "verdict_id": id, "verdict": verdict.as_str(), "supersedes": supersedes,
                "summary_sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(summary.as_bytes())),
                "coverage": coverage, "open_findings": open_findings.len(),
                "binaries": binaries.iter().map(|b| &b.sha256).collect::<Vec<_>>()
            }));
            tx.append(&event).await?;
            Ok(id)
        })
        .await
    }
}
