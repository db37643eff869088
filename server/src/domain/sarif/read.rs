//! Reading imported tool results: a pin's logs with counts by triage state, per log and per tool
//! and rule; one log's results, filtered and paged; the results on a file, for its view. A reader
//! limited to paths sees and counts only the results on files they may read; the locations of
//! results that were not placed (as the tool wrote them) only their importer and readers of the
//! whole pin see.

use super::super::guard::{Actor, PinPage};
use super::ToolResults;
use crate::audit::Action;
use crate::store::sarif::{LogRow, ResultRow};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// Results not placed that a log's page lists (the rest are counted).
const OUTSIDE_LISTED: usize = 200;

fn triage_of(row: &ResultRow) -> Option<Triage> {
    row.triage.as_ref().and_then(|t| Triage::parse(&t.state))
}

fn line(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

fn result_view(row: ResultRow, show_uri: bool) -> ToolResultView {
    let triage = row.triage.as_ref().and_then(|t| {
        Some(TriageView {
            state: Triage::parse(&t.state)?,
            reason: t.reason.clone(),
            finding: t.finding_id,
            by: t.by.clone(),
            at_ms: t.at,
        })
    });
    ToolResultView {
        log: row.log_id,
        index: row.seq as u64,
        tool: row.tool,
        rule_id: row.rule_id,
        rule_name: row.rule_name,
        level: row.level,
        message: row.message,
        start_line: line(row.start_line),
        end_line: line(row.end_line),
        uri: (row.path.is_none() && show_uri).then_some(row.uri),
        path: row.path,
        outside: row.outside,
        cwe: crate::review::cwe::from_stored(row.cwe.as_deref()),
        triage,
    }
}

fn log_view(row: &LogRow, counts: TriageCounts) -> SarifLog {
    SarifLog {
        id: row.id,
        tools: row.tools.lines().map(str::to_string).collect(),
        uploaded_by: row.uploader.clone(),
        uploaded_at_ms: row.created_at,
        sha256: row.sha256.clone(),
        bytes: row.bytes.max(0) as u64,
        results: row.results.max(0) as u64,
        placed: row.placed.max(0) as u64,
        outside: (row.results - row.placed).max(0) as u64,
        counts,
    }
}

impl ToolResults<'_> {
    /// Whether the reader sees where a log's unplaced results were: its importer and readers of
    /// the whole pin (to another reader limited to paths, a location might name a file they may
    /// not read).
    fn sees_outside(actor: &Actor<'_>, access: &PinPage, log: &LogRow) -> bool {
        access.scope.is_whole() || actor.identity().is_some_and(|i| i.user_id == log.uploader_id)
    }

    /// A pin's imported logs, with the placed results the reader may see counted by triage state,
    /// per log and per tool and rule. Recorded (`sarif.list`).
    pub async fn logs(&self, actor: Actor<'_>, pin: PinId) -> AppResult<SarifLogs> {
        let access = self.readable(&actor, pin).await?;
        self.logs_at(&actor, &access).await
    }

    /// The page of a pin's tool results: its logs, and whether the reader may import one.
    pub async fn logs_page(&self, actor: Actor<'_>, pin: PinId) -> AppResult<SarifLogsPage> {
        let (caller, _) = actor.person()?;
        let access = self.readable(&actor, pin).await?;
        let logs = self.logs_at(&actor, &access).await?;
        Ok(SarifLogsPage {
            pin: self.pin_summary(&access).await?,
            logs,
            can_import: access.caps.start_thread,
            csrf_token: caller.csrf_token.clone().unwrap_or_default(),
        })
    }

    async fn logs_at(&self, actor: &Actor<'_>, access: &PinPage) -> AppResult<SarifLogs> {
        let pin = access.pin();
        let scope = self.scope_filter(access).await?;
        let logs = self.store.sarif_logs(pin.get()).await?;
        let mut per_log: BTreeMap<i64, TriageCounts> = BTreeMap::new();
        let mut per_rule: BTreeMap<(String, String), TriageCounts> = BTreeMap::new();
        for row in self.store.sarif_counts(pin.get()).await? {
            if !scope.keep(&row.path) {
                continue;
            }
            let state = row.state.as_deref().and_then(Triage::parse);
            let n = row.count.max(0) as u64;
            per_log.entry(row.log_id).or_default().add(state, n);
            per_rule.entry((row.tool.clone(), row.rule_id.clone())).or_default().add(state, n);
        }
        let mut rules: Vec<RuleCounts> =
            per_rule.into_iter().map(|((tool, rule_id), counts)| RuleCounts { tool, rule_id, counts }).collect();
        rules.sort_by_key(|r| std::cmp::Reverse(r.counts.total()));
        let logs: Vec<SarifLog> =
            logs.iter().map(|log| log_view(log, per_log.remove(&log.id).unwrap_or_default())).collect();
        let event = actor.event(Action::SarifList).on(access.object(&RepoPath::root()));
        self.record(event.with(json!({ "logs": logs.iter().map(|l| l.id).collect::<Vec<_>>() }))).await?;
        Ok(SarifLogs { pin: pin.get(), logs, rules })
    }

    /// One log's results the reader may see, filtered and a page of `SARIF_PAGE`, with those not
    /// placed listed to who may see them. Recorded (`sarif.view`) with the results shown.
    pub async fn results(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        log_id: i64,
        filter: &SarifFilter,
    ) -> AppResult<SarifResults> {
        let access = self.readable(&actor, pin).await?;
        let log = self.log_at(pin, log_id).await?;
        fn wanted(value: &Option<String>) -> Option<&str> {
            value.as_deref().map(str::trim).filter(|v| !v.is_empty())
        }
        let state = match wanted(&filter.state) {
            None => None,
            Some("untriaged") => Some(None),
            Some(text) => Some(Some(Triage::parse(text).ok_or_else(|| {
                AppError::Invalid("state is untriaged, confirmed, false_positive or not_useful".into())
            })?)),
        };
        let level = wanted(&filter.level);
        if level.is_some_and(|l| !crate::review::sarif::LEVELS.contains(&l)) {
            return Err(AppError::Invalid("level is error, warning, note or none".into()));
        }
        let rule = wanted(&filter.rule);
        let scope = self.scope_filter(&access).await?;
        let show_outside = Self::sees_outside(&actor, &access, &log);
        let mut counts = TriageCounts::default();
        let (mut matching, mut outside) = (Vec::new(), Vec::new());
        for row in self.store.sarif_results(log_id).await? {
            match row.path.as_deref() {
                Some(path) if scope.keep(path) => {
                    counts.add(triage_of(&row), 1);
                    let keep = state.is_none_or(|s| triage_of(&row) == s)
                        && level.is_none_or(|l| row.level == l)
                        && rule.is_none_or(|r| row.rule_id == r);
                    if keep {
                        matching.push(row);
                    }
                }
                None if show_outside && outside.len() < OUTSIDE_LISTED => outside.push(result_view(row, true)),
                _ => {}
            }
        }
        let page = filter.page.unwrap_or(1).max(1);
        let total = matching.len() as u64;
        let results: Vec<ToolResultView> = matching
            .into_iter()
            .skip((page as usize - 1).saturating_mul(SARIF_PAGE))
            .take(SARIF_PAGE)
            .map(|row| result_view(row, false))
            .collect();
        let shown: Vec<u64> = results.iter().map(|r| r.index).collect();
        let listed: Vec<u64> = outside.iter().map(|r| r.index).collect();
        let event = actor.event(Action::SarifView).on(access.object(&RepoPath::root()));
        let details = json!({ "log_id": log_id, "page": page, "results": shown, "outside": listed });
        self.record(event.with(details)).await?;
        Ok(SarifResults {
            pin: self.pin_summary(&access).await?,
            log: log_view(&log, counts),
            results,
            matching: total,
            page,
            outside,
            can_triage: access.caps.start_thread,
            csrf_token: match &actor {
                Actor::Web(caller) => caller.csrf_token.clone().unwrap_or_default(),
                _ => String::new(),
            },
        })
    }

    /// A log of the pin, or "no such log" (also for another pin's).
    pub(super) async fn log_at(&self, pin: PinId, log_id: i64) -> AppResult<LogRow> {
        self.store
            .sarif_log(log_id)
            .await?
            .filter(|log| log.pin_id == pin.get())
            .ok_or_else(|| AppError::NotFound("there is no such tool log at this pin".into()))
    }

    /// The results placed on a file, for its view, when the reader reads tool results: those on
    /// the file as a whole, and the list of those on its lines (on the lines `shown` of a long
    /// file; the list of a whole file's is made once and kept with the results).
    pub(crate) async fn file_results(
        &self,
        actor: &Actor<'_>,
        access: &PinPage,
        path: &RepoPath,
        shown: Option<(u32, u32)>,
    ) -> AppResult<FileResults> {
        if !Self::reads(actor, access) {
            return Ok(FileResults::default());
        }
        let file = self.file_annotations(access.record.id, path).await?;
        let on_file: Vec<Annotation> = file.all.iter().filter(|a| a.start_line.is_none()).cloned().collect();
        let pin = access.record.id.to_string();
        let list = match shown {
            None => file.whole_list.get_or_init(|| list_of(&pin, file.all.iter())).clone(),
            Some(shown) => list_of(&pin, file.all.iter().filter(|a| on_lines(a, shown))),
        };
        Ok(FileResults { on_file, list })
    }

    /// The results placed on a file on the lines `shown` (and those on the whole file), when the
    /// reader reads tool results: what a window of a long file carries.
    pub(crate) async fn annotations(
        &self,
        actor: &Actor<'_>,
        access: &PinPage,
        path: &RepoPath,
        shown: (u32, u32),
    ) -> AppResult<Vec<Annotation>> {
        if !Self::reads(actor, access) {
            return Ok(Vec::new());
        }
        let file = self.file_annotations(access.record.id, path).await?;
        Ok(file.all.iter().filter(|a| a.start_line.is_none() || on_lines(a, shown)).cloned().collect())
    }

    fn reads(actor: &Actor<'_>, access: &PinPage) -> bool {
        let reads = actor.identity().is_some_and(|i| super::super::guard::rules::reads_tool_results(i.role));
        reads && access.caps.read_review
    }

    /// Every result placed on a pin's file, by line: from memory while the pin's tool-results
    /// revision (read from the database, so every instance sees an import or a triage) has not
    /// moved.
    async fn file_annotations(&self, pin: i64, path: &RepoPath) -> AppResult<Arc<FileAnnotations>> {
        let revision = self.store.sarif_revision(pin).await?;
        let key = (pin, path.to_string());
        if let Some(cached) = self.caches.annotations.lock().expect("cache lock").get(&key) {
            if cached.revision == revision {
                return Ok(Arc::clone(cached));
            }
        }
        let mut rows = self.store.sarif_annotations(pin, path.as_str()).await?;
        rows.sort_by_key(|row| (row.start_line.unwrap_or(0), row.log_id, row.seq));
        let all = rows
            .into_iter()
            .map(|row| Annotation {
                triage: triage_of(&row),
                finding: row.triage.as_ref().and_then(|t| t.finding_id),
                log: row.log_id,
                index: row.seq as u64,
                start_line: line(row.start_line),
                end_line: line(row.end_line),
                tool: row.tool,
                rule_id: row.rule_id,
                level: row.level,
                message: row.message,
            })
            .collect();
        let file = Arc::new(FileAnnotations { revision, all, whole_list: OnceLock::new() });
        self.caches.annotations.lock().expect("cache lock").put(key, Arc::clone(&file));
        Ok(file)
    }
}

/// A file's placed results as read at a revision of the pin's results, with the list of those on
/// its lines once a whole-file view made it.
pub struct FileAnnotations {
    revision: (i64, i64),
    all: Vec<Annotation>,
    whole_list: OnceLock<Option<ResultsList>>,
}

/// What a file view shows of the results on it: those on the file as a whole, and the list of
/// those on its lines (none when there are none).
#[derive(Default)]
pub(crate) struct FileResults {
    pub on_file: Vec<Annotation>,
    pub list: Option<ResultsList>,
}

impl FileResults {
    /// How many results the view shows.
    pub fn count(&self) -> usize {
        self.on_file.len() + self.list.as_ref().map_or(0, |list| list.count as usize)
    }
}

/// Whether a result starts on one of the lines `shown`.
fn on_lines(a: &Annotation, (first, last): (u32, u32)) -> bool {
    a.start_line.is_some_and(|line| line >= first && line <= last)
}

/// The list of the results on lines among `results` (none when there are none).
fn list_of<'a>(pin: &str, results: impl Iterator<Item = &'a Annotation>) -> Option<ResultsList> {
    let on_lines: Vec<Annotation> = results.filter(|a| a.start_line.is_some()).cloned().collect();
    (!on_lines.is_empty()).then(|| ResultsList {
        count: on_lines.len() as u32,
        html: app::routes::blob_results::results_list_html(pin, &on_lines),
    })
}
