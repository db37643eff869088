//! Mismatches explained: when two accounts' kept artifacts of one name and platform differ, the
//! `build.diff` job runs diffoscope on the pair in the sandbox (no network, a time limit, a report
//! size limit) and keeps its JSON and its HTML directory (as a zip) by their hashes. The report is
//! read as a tree (file → section → unified diff); viewing or downloading one is an event.

use super::Room;
use crate::audit::Action;
use crate::builds::recipe::Limits;
use crate::builds::sandbox::{missing_tool, Ended, Jail, Toolchain};
use crate::builds::upload;
use crate::domain::guard::{Actor, PinUse};
use crate::store::files::JobRow;
use crate::store::room::{self as rows, DiffRow};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Explains a mismatch with diffoscope (`Room::queue_diffs` queues it).
pub const DIFF_BUILDS: &str = "build.diff";
/// diffoscope's `--max-report-size` (and the most of its JSON a page reads).
const REPORT_BYTES: u64 = 16 << 20;
/// What diffoscope may use.
const DIFF_LIMITS: Limits = Limits { wall_seconds: 900, memory_mb: 8192, processes: 256, output_mb: 512 };
/// The most nodes, and diff bytes a node, a page shows of a report.
const PAGE_NODES: usize = 2_000;
const PAGE_DIFF_BYTES: usize = 256 * 1024;

fn internal(error: &dyn std::error::Error) -> AppError {
    super::super::error::internal(error)
}

/// The file name an artifact gets in the report (`a/<name>` and `b/<name>`).
fn file_name(artifact: &str) -> String {
    let name: String = artifact.chars().map(|c| if c == '/' || c.is_control() { '_' } else { c }).collect();
    match name.as_str() {
        "" | "." | ".." => "artifact".into(),
        _ => name,
    }
}

/// A report as a tree, at most `PAGE_NODES` nodes; whether something was left out.
pub fn report_tree(value: &serde_json::Value) -> (DiffNode, bool) {
    fn node(value: &serde_json::Value, budget: &mut usize, cut: &mut bool) -> DiffNode {
        let text = |key: &str| value.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let mut diff = value.get("unified_diff").and_then(|v| v.as_str()).map(str::to_string);
        if let Some(text) = diff.as_mut().filter(|text| text.len() > PAGE_DIFF_BYTES) {
            let mut end = PAGE_DIFF_BYTES;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            *cut = true;
        }
        let mut details = Vec::new();
        for child in value.get("details").and_then(|d| d.as_array()).into_iter().flatten() {
            if *budget == 0 {
                *cut = true;
                break;
            }
            *budget -= 1;
            details.push(node(child, budget, cut));
        }
        DiffNode {
            source1: text("source1"),
            source2: text("source2"),
            comments: value
                .get("comments")
                .and_then(|c| c.as_array())
                .map(|c| c.iter().filter_map(|c| c.as_str().map(str::to_string)).collect())
                .unwrap_or_default(),
            unified_diff: diff,
            details,
        }
    }
    let (mut budget, mut cut) = (PAGE_NODES, false);
    let tree = node(value, &mut budget, &mut cut);
    (tree, cut)
}

impl Room<'_> {
    /// Queues a report for each pair of differing kept artifacts of one name and platform that
    /// distinct accounts recorded (once a pair).
    pub(in crate::domain) async fn queue_diffs(&self, pin: PinId) -> AppResult<()> {
        let builds = self.store.builds_of_pin(pin.get()).await?;
        let mut by_artifact: BTreeMap<(String, String), Vec<_>> = BTreeMap::new();
        for build in builds.iter().filter(|b| b.uploaded) {
            by_artifact.entry((build.name.clone(), build.platform.clone())).or_default().push(build);
        }
        let mut pairs = BTreeSet::new();
        for ((name, platform), records) in &by_artifact {
            for a in records {
                for b in records {
                    if a.sha256 < b.sha256 && a.recorded_by != b.recorded_by {
                        pairs.insert((name.clone(), platform.clone(), a.sha256.clone(), b.sha256.clone()));
                    }
                }
            }
        }
        let Some(record) = self.store.pin(pin.get()).await? else { return Ok(()) };
        let object = crate::audit::Object::at(pin, Some(&record.commit_id), &RepoPath::root());
        let actor = Actor::System("room");
        for (name, platform, a, b) in pairs {
            let now = self.clock.now_ms();
            let known = self.store.diffs_of_pin(pin.get()).await?;
            if known.iter().any(|d| d.name == name && d.platform == platform && d.sha256_a == a && d.sha256_b == b) {
                continue;
            }
            self.write(async |tx| {
                let Some(id) = rows::insert_diff(tx.conn(), pin.get(), (&name, &platform), (&a, &b), now).await? else {
                    return Err(AppError::Conflict("this report was asked for already".into()));
                };
                crate::store::files::queue_job(tx.conn(), DIFF_BUILDS, id, now).await?;
                let details = json!({ "diff": id, "state": "queued", "name": name, "platform": platform, "sha256_a": a, "sha256_b": b });
                tx.append(&actor.event(Action::BuildDiff).on(object.clone()).with(details)).await?;
                Ok(())
            })
            .await
            .or_else(|error| match error {
                // Another instance queued the same pair first.
                AppError::Conflict(_) => Ok(()),
                other => Err(other),
            })?;
        }
        Ok(())
    }

    /// The `build.diff` job: diffoscope on the two artifacts, its reports kept.
    pub(in crate::domain) async fn run_diff(&self, job: &JobRow) -> AppResult<()> {
        let id = job.subject;
        let diff = self.store.diff(id).await?.ok_or_else(|| AppError::NotFound("no such report".into()))?;
        if matches!(diff.state.as_str(), "done" | "failed") {
            return Ok(());
        }
        self.store.diff_running(id).await?;
        let work = self.builds.room_dir.join(format!("diff-{id}"));
        let outcome = self.diffoscope(job, &diff, &work).await;
        let _ = std::fs::remove_dir_all(&work);
        let pin = PinId::from_stored(diff.pin_id);
        let record = self.store.pin(diff.pin_id).await?.ok_or_else(|| AppError::NotFound("no such pin".into()))?;
        let object = crate::audit::Object::at(pin, Some(&record.commit_id), &RepoPath::root());
        let actor = Actor::System("room");
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let details = match &outcome {
                Ok((report, html, cut)) => {
                    rows::finish_diff(tx.conn(), id, "done", None, Some((report, html.as_deref(), *cut)), now).await?;
                    json!({ "diff": id, "state": "done", "report_sha256": report, "html_sha256": html, "cut": cut })
                }
                Err(reason) => {
                    rows::finish_diff(tx.conn(), id, "failed", Some(reason), None, now).await?;
                    json!({ "diff": id, "state": "failed", "reason": reason })
                }
            };
            tx.append(&actor.event(Action::BuildDiff).on(object.clone()).with(details)).await?;
            Ok(())
        })
        .await
    }

    /// Runs diffoscope: the report's hash, the HTML zip's hash, and whether a limit cut it; or why
    /// it failed (a message fit to show).
    async fn diffoscope(
        &self,
        job: &JobRow,
        diff: &DiffRow,
        work: &Path,
    ) -> Result<(String, Option<String>, bool), String> {
        let failed = |error: &dyn std::error::Error| {
            internal(error);
            "the room could not run diffoscope (the server's log says why)".to_string()
        };
        if let Some(message) = ["diffoscope", "bwrap", "prlimit"].iter().find_map(|tool| missing_tool(tool)) {
            return Err(message);
        }
        let name = file_name(&diff.name);
        let _ = std::fs::remove_dir_all(work);
        for side in ["a", "b", "out"] {
            std::fs::create_dir_all(work.join(side)).map_err(|e| failed(&e))?;
        }
        for (side, sha256) in [("a", &diff.sha256_a), ("b", &diff.sha256_b)] {
            let kept = self.builds.artifacts.join("sha256").join(sha256);
            if std::fs::copy(&kept, work.join(side).join(&name)).is_err() {
                return Err("an artifact is no longer kept".into());
            }
        }
        std::fs::set_permissions(work, std::os::unix::fs::PermissionsExt::from_mode(0o711)).map_err(|e| failed(&e))?;
        let log = work.with_extension("log");
        let env = BTreeMap::new();
        let jail = Jail {
            toolchain: &Toolchain::Host,
            work,
            inputs: Vec::new(),
            env: &env,
            source_date_epoch: 0,
            limits: DIFF_LIMITS,
            log: &log,
        };
        let argv: Vec<String> = [
            "diffoscope",
            "--no-progress",
            "--json",
            "out/report.json",
            "--html-dir",
            "out/html",
            "--max-report-size",
            &REPORT_BYTES.to_string(),
            "--max-diff-block-lines",
            "4096",
            "--exclude-directory-metadata",
            "yes",
            &format!("a/{name}"),
            &format!("b/{name}"),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut running = jail.start(&argv).map_err(|e| failed(&e))?;
        let started = std::time::Instant::now();
        let ended = loop {
            if let Some(ended) = running.wait_for(Duration::from_secs(2)).await.map_err(|e| failed(&e))? {
                break ended;
            }
            let alive = self
                .store
                .job_progress(job.id, started.elapsed().as_secs(), DIFF_LIMITS.wall_seconds, self.clock.now_ms())
                .await
                .map_err(|e| failed(&e))?;
            if !alive {
                running.kill().await.map_err(|e| failed(&e))?;
                return Err("cancelled".into());
            }
        };
        let _ = std::fs::remove_file(&log);
        match ended {
            Ended::Exited(0 | 1) => {}
            Ended::Timeout => return Err(format!("timeout: diffoscope's limit of {} s", DIFF_LIMITS.wall_seconds)),
            Ended::Exited(code) => return Err(format!("diffoscope failed (exit status {code})")),
            Ended::Signalled(signal) => return Err(format!("diffoscope was killed by signal {signal} (a limit)")),
        }
        let report = work.join("out/report.json");
        let text = std::fs::read(&report).map_err(|_| "diffoscope wrote no report".to_string())?;
        let html_dir = work.join("out/html");
        let index = std::fs::read_to_string(html_dir.join("index.html")).unwrap_or_default();
        let cut = text.len() as u64 > REPORT_BYTES
            || memchr::memmem::find(&text, b"lines removed ]").is_some()
            || index.contains("Max HTML report size reached")
            || index.contains(" (truncated)");
        let (report_sha256, _, _) = upload::keep_file(&self.builds.artifacts, &report).await.map_err(|e| failed(&e))?;
        let zip = work.join("out/report-html.zip");
        let html = match html_dir.is_dir() {
            true => {
                zip_dir(&html_dir, &zip).map_err(|e| failed(&e))?;
                Some(upload::keep_file(&self.builds.artifacts, &zip).await.map_err(|e| failed(&e))?.0)
            }
            false => None,
        };
        Ok((report_sha256, html, cut))
    }

    /// The artifacts of a pin whose builders disagree, each with its records and report (staff,
    /// regulators and granted reviewers); with each report's JSON when `with_reports` (the API),
    /// whose viewing is recorded.
    pub async fn mismatches(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        with_reports: bool,
    ) -> AppResult<Vec<(Mismatch, Option<serde_json::Value>)>> {
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let builds = self.store.builds_of_pin(pin.get()).await?;
        let views = builds.into_iter().map(|b| crate::domain::builds::view(b, &BTreeMap::new())).collect();
        let diffs = self.store.diffs_of_pin(pin.get()).await?;
        let mut found = Vec::new();
        let mut read = Vec::new();
        for artifact in crate::domain::builds::group(views) {
            if artifact.status != Reproducibility::Mismatch {
                continue;
            }
            let records = artifact
                .builds
                .iter()
                .map(|b| MismatchRecord {
                    id: b.id,
                    account: b.recorded_by.clone(),
                    sha256: b.sha256.clone(),
                    stored: b.uploaded,
                })
                .collect();
            let latest = diffs.iter().rev().find(|d| d.name == artifact.name && d.platform == artifact.platform);
            // A reader limited to paths is told of the report, not given it (it may quote any file).
            let whole = access.scope.is_whole();
            let report = match latest.and_then(|d| d.report_sha256.as_ref()).filter(|_| with_reports && whole) {
                Some(sha256) => {
                    read.push(latest.map(|d| d.id).unwrap_or_default());
                    self.read_report(sha256)?
                }
                None => None,
            };
            let diff = MismatchDiff {
                state: latest.map_or("unavailable".to_string(), |d| d.state.clone()),
                id: latest.map(|d| d.id),
                reason: match latest {
                    Some(d) => d.reason.clone(),
                    None => Some("the report needs both artifacts kept: upload the other side".into()),
                },
                report_sha256: latest.and_then(|d| d.report_sha256.clone()),
            };
            found.push((Mismatch { name: artifact.name, platform: artifact.platform, records, diff }, report));
        }
        if !read.is_empty() {
            let event =
                actor.event(Action::BuildDiffView).on(access.object(&RepoPath::root())).with(json!({ "diffs": read }));
            self.record(event).await?;
        }
        Ok(found)
    }

    /// A kept report's JSON.
    fn read_report(&self, sha256: &str) -> AppResult<Option<serde_json::Value>> {
        let path = self.builds.artifacts.join("sha256").join(sha256);
        let Ok(bytes) = std::fs::read(path) else { return Ok(None) };
        Ok(serde_json::from_slice(&bytes).ok())
    }

    /// The page of one report, its viewing recorded.
    pub async fn diff_page(&self, actor: Actor<'_>, id: i64) -> AppResult<DiffPage> {
        let diff = self.store.diff(id).await?.ok_or_else(|| AppError::NotFound("there is no such report".into()))?;
        let pin = PinId::from_stored(diff.pin_id);
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        self.require_whole_tree(&actor, &access, "A diffoscope report").await?;
        let accounts = |sha256: &str, builds: &[crate::store::builds::BuildRow]| -> Vec<String> {
            let names: BTreeSet<String> = builds
                .iter()
                .filter(|b| b.sha256 == sha256 && b.name == diff.name && b.platform == diff.platform)
                .map(|b| b.recorded_by.clone().unwrap_or_else(|| "operator".into()))
                .collect();
            names.into_iter().collect()
        };
        let builds = self.store.builds_of_pin(diff.pin_id).await?;
        let report = match &diff.report_sha256 {
            Some(sha256) => self.read_report(sha256)?,
            None => None,
        };
        let (tree, cut) = match report.as_ref().map(report_tree) {
            Some((tree, cut)) => (Some(tree), cut),
            None => (None, false),
        };
        let event =
            actor.event(Action::BuildDiffView).on(access.object(&RepoPath::root())).with(json!({ "diffs": [id] }));
        self.record(event).await?;
        Ok(DiffPage {
            pin: self.pin_summary(&access).await?,
            id,
            accounts_a: accounts(&diff.sha256_a, &builds),
            accounts_b: accounts(&diff.sha256_b, &builds),
            name: diff.name,
            platform: diff.platform,
            sha256_a: diff.sha256_a,
            sha256_b: diff.sha256_b,
            state: diff.state,
            reason: diff.reason,
            cut: diff.cut || cut,
            report_sha256: diff.report_sha256,
            has_html: diff.html_sha256.is_some(),
            tree,
        })
    }

    /// diffoscope's own HTML report, as a zip to download (never shown inline); recorded.
    pub async fn diff_html(&self, actor: Actor<'_>, id: i64) -> AppResult<PathBuf> {
        let diff = self.store.diff(id).await?.ok_or_else(|| AppError::NotFound("there is no such report".into()))?;
        let access = self.pin_use(&actor, PinId::from_stored(diff.pin_id), PinUse::ReadReview).await?;
        self.require_whole_tree(&actor, &access, "A diffoscope report").await?;
        let Some(sha256) = diff.html_sha256 else {
            return Err(AppError::NotFound("this report has no HTML version".into()));
        };
        let path = self.builds.artifacts.join("sha256").join(&sha256);
        let event = actor
            .event(Action::BuildDiffDownload)
            .on(access.object(&RepoPath::root()))
            .with(json!({ "diff": id, "html_sha256": sha256 }));
        self.record(event).await?;
        Ok(path)
    }
}

/// Zips diffoscope's HTML directory (its files, and links that lead to files under it or to the
/// shared JavaScript libraries it uses).
fn zip_dir(dir: &Path, to: &Path) -> std::io::Result<()> {
    use std::io::Write as _;
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(std::fs::File::create(to)?));
    let root = dir.canonicalize()?;
    let mut names: Vec<_> = std::fs::read_dir(dir)?.filter_map(|e| e.ok()).map(|e| e.file_name()).collect();
    names.sort();
    for name in names {
        let Ok(path) = dir.join(&name).canonicalize() else { continue };
        let allowed = path.starts_with(&root) || path.starts_with("/usr/share/javascript");
        if !allowed || !path.is_file() {
            continue;
        }
        zip.start_file(name.to_string_lossy(), options).map_err(std::io::Error::other)?;
        zip.write_all(&std::fs::read(&path)?)?;
    }
    zip.finish().map_err(std::io::Error::other)?.flush()
}
