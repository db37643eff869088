//! Requirements traced to code. Staff (or the operator) import a pin's requirement list; reviewers
//! tag a thread's region with requirement ids (`review::add_comment`); the traceability page lists
//! each requirement with the regions traced to it, their review state (shown to, marked reviewed
//! by), the findings among them and the lines of verdicts naming it, untraced requirements first.
//! Importing and reading are recorded.

use super::guard::{require, rules, Actor, Permission, PinPage, PinUse};
use super::threads::assemble;
use super::Requirements;
use crate::audit::{Action, Outcome};
use crate::review::coverage::ReviewerInputs;
use crate::review::requirements::{self as lists, Requirement};
use crate::store::requirements::{insert_list, ListRow};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::collections::HashMap;

fn list_view(row: &ListRow) -> RequirementList {
    RequirementList {
        id: row.id,
        requirements: row.count.max(0) as u64,
        sha256: row.sha256.clone(),
        imported_by: row.imported_by.clone(),
        imported_at_ms: row.created_at,
    }
}

/// The thread's first non-blank line, at most 160 characters.
fn summary_of(body: &str) -> String {
    let line = body.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    // Shown as text: Markdown's emphasis and code marks would show as themselves.
    let line = line.replace("**", "").replace('`', "");
    let line = line.trim_start_matches(['#', '>', ' ']);
    match line.char_indices().nth(160) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

impl Requirements<'_> {
    /// Imports a list for a pin (CSV or JSON, `review::requirements::parse`): it becomes the pin's
    /// list, stored with its `requirements.import` event. A list that does not parse is refused
    /// with the reason, and the refusal recorded.
    pub async fn import(&self, actor: Actor<'_>, pin: PinId, bytes: &[u8]) -> AppResult<RequirementsImported> {
        require(&actor, Permission::Administer)?;
        let Some(record) = self.store.pin(pin.get()).await? else {
            return Err(AppError::NotFound(format!("there is no pin {pin}")));
        };
        let object = crate::audit::Object::at(pin, Some(&record.commit_id), &RepoPath::root());
        let list = match lists::parse(bytes) {
            Ok(list) => list,
            Err(reason) => {
                self.record(
                    actor
                        .event(Action::RequirementsImport)
                        .outcome(Outcome::Failed)
                        .on(object)
                        .with(json!({ "reason": reason, "bytes": bytes.len() })),
                )
                .await?;
                return Err(AppError::Invalid(reason));
            }
        };
        let sha256 = lists::digest(&list);
        let by = actor.identity().map(|i| i.username.clone());
        let now = self.clock.now_ms();
        let id = self
            .write(async |tx| {
                let id = insert_list(tx.conn(), pin.get(), &sha256, by.as_deref(), now, &list).await?;
                let details = json!({ "list_id": id, "requirements": list.len(), "sha256": sha256 });
                tx.append(&actor.event(Action::RequirementsImport).on(object.clone()).with(details)).await?;
                Ok(id)
            })
            .await?;
        Ok(RequirementsImported { list: id, requirements: list.len() as u64, sha256 })
    }

    /// A pin's current list and its requirements (none before the first import).
    pub(super) async fn current_list(&self, pin: PinId) -> AppResult<Option<(ListRow, Vec<Requirement>)>> {
        match self.store.latest_requirement_list(pin.get()).await? {
            Some(row) => {
                let requirements = self.store.requirements_of(row.id).await?;
                Ok(Some((row, requirements)))
            }
            None => Ok(None),
        }
    }

    /// The traceability of a pin to its requirement list, as its reader may see it: regions on the
    /// paths they may read; a reviewer sees their own review state of each region (as on the
    /// coverage page), staff and regulators everyone's. Recorded (`traceability.view`).
    pub async fn traceability(&self, actor: Actor<'_>, pin: PinId) -> AppResult<Traceability> {
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let current = self.current_list(pin).await?;
        let mut requirements = Vec::new();
        if let Some((_, list)) = &current {
            requirements = self.traces(&actor, &access, list).await?;
        }
        let traced = requirements.iter().filter(|r| r.traced()).count() as u64;
        let untraced = requirements.len() as u64 - traced;
        // Untraced first, each part in the list's order (the sort is stable).
        requirements.sort_by_key(RequirementTrace::traced);
        self.record(actor.event(Action::TraceabilityView).on(access.object(&RepoPath::root())).with(json!({
            "list_id": current.as_ref().map(|(row, _)| row.id), "traced": traced, "untraced": untraced
        })))
        .await?;
        let can_import = actor.identity().is_some_and(|i| i.role == Role::Staff);
        Ok(Traceability {
            pin: self.pin_summary(&access).await?,
            list: current.as_ref().map(|(row, _)| list_view(row)),
            requirements,
            traced,
            untraced,
            can_import,
            csrf_token: String::new(),
        })
    }

    async fn traces(
        &self,
        actor: &Actor<'_>,
        access: &PinPage,
        list: &[Requirement],
    ) -> AppResult<Vec<RequirementTrace>> {
        let pin = access.pin();
        let viewer = self.viewer(actor, access);
        let labels = self.pin_labels().await?;
        let threads = assemble(&self.store.comments_of_pin(pin.get()).await?, &viewer, Some(pin.get()), &labels);
        let threads: Vec<&Thread> = threads
            .iter()
            .filter(|t| t.pin == pin && !t.requirements.is_empty() && access.scope.covers_file(t.path.as_str()))
            .collect();
        let (_, inputs, _, _) = self.coverage().coverage_inputs(access).await?;
        let own = rules::coverage_limited_to(actor.identity());
        let inputs: Vec<&ReviewerInputs> = inputs.iter().filter(|i| own.is_none_or(|me| me == i.username)).collect();
        // A verdict given again supersedes the earlier one: its notes are the ones that stand.
        let mut verdicts = self.store.verdicts_of_pin(pin.get()).await?;
        let superseded: std::collections::HashSet<i64> = verdicts.iter().filter_map(|v| v.supersedes).collect();
        verdicts.retain(|v| !superseded.contains(&v.id));
        let mut regions: HashMap<&str, Vec<TracedRegion>> = HashMap::new();
        for thread in &threads {
            let path = thread.path.as_str();
            let lines = thread.lines.map(|l| (u64::from(l.first), u64::from(l.last)));
            let shown_by = inputs
                .iter()
                .filter(|i| !path.is_empty() && i.shown.get(path).is_some_and(|s| s.covers(lines)))
                .map(|i| i.username.clone())
                .collect();
            let reviewed_by = inputs.iter().filter(|i| i.reviewed.contains(path)).map(|i| i.username.clone()).collect();
            let region = TracedRegion {
                thread: thread.id,
                path: thread.path.clone(),
                lines: thread.lines,
                kind: thread.kind,
                severity: thread.severity,
                state: thread.state,
                author: thread.root.author.clone(),
                summary: summary_of(&thread.root.current().body),
                shown_by,
                reviewed_by,
            };
            for id in &thread.requirements {
                regions.entry(id.as_str()).or_default().push(region.clone());
            }
        }
        Ok(list
            .iter()
            .map(|requirement| {
                let regions = regions.remove(requirement.id.as_str()).unwrap_or_default();
                let findings = regions.iter().filter(|r| r.kind == CommentKind::Finding);
                let verdict_notes = verdicts
                    .iter()
                    .flat_map(|v| {
                        lists::notes_naming(&v.summary, &requirement.id).into_iter().map(|note| VerdictNote {
                            verdict: v.id,
                            reviewer: v.reviewer.clone(),
                            outcome: v.verdict.clone(),
                            note: note.to_string(),
                            at_ms: v.created_at,
                        })
                    })
                    .collect();
                RequirementTrace {
                    id: requirement.id.clone(),
                    title: requirement.title.clone(),
                    text: requirement.text.clone(),
                    findings: findings.clone().count() as u64,
                    open_findings: findings.filter(|r| r.state.is_open()).count() as u64,
                    regions,
                    verdict_notes,
                }
            })
            .collect())
    }
}
