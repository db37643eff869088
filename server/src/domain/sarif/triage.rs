//! Triaging an imported result: *confirmed* (it becomes a finding at its lines, linked to its
//! tool and rule, carrying the rule's CWE ids), *false positive* or *not useful*, with a reason.
//! The triage and the finding it makes commit with their events in one transaction; a later triage
//! of the same result is a new row (the latest counts), except that a confirmed result stays so:
//! its finding's thread carries it on.

use super::super::guard::{require_use, signed_in, Actor, PinUse};
use super::ToolResults;
use crate::audit::Action;
use crate::store::review::{self as review_rows, NewCommentRow};
use crate::store::sarif::{self as rows, NewTriage};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use sha2::{Digest, Sha256};

/// Longest reason for a triage (characters).
const MAX_REASON: usize = 2_000;

/// A confirmed result's severity when the reviewer gives none: by the tool's level.
fn severity_of_level(level: &str) -> Severity {
    match level {
        "error" => Severity::High,
        "warning" => Severity::Medium,
        _ => Severity::Low,
    }
}

impl ToolResults<'_> {
    /// Triages result `index` of log `log_id` at the pin.
    pub async fn triage(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        log_id: i64,
        index: i64,
        input: &TriageInput,
    ) -> AppResult<Triaged> {
        let identity = match &actor {
            Actor::Web(caller) => signed_in(caller)?.clone(),
            _ => return Err(AppError::Forbidden("tool results are triaged by reviewers".into())),
        };
        require_use(&actor, PinUse::StartThread)?;
        let access = self.pin_use(&actor, pin, PinUse::StartThread).await?;
        let reason = input.reason.trim();
        if input.state != Triage::Confirmed && reason.is_empty() {
            return Err(AppError::Invalid("say why the result is a false positive or not useful".into()));
        }
        if reason.chars().count() > MAX_REASON {
            return Err(AppError::Invalid(format!("a reason is at most {MAX_REASON} characters")));
        }
        let severity = match input.severity.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(text) => Some(Severity::parse(text)?),
            None => None,
        };
        self.log_at(pin, log_id).await?;
        let absent = || AppError::NotFound("there is no such result in this log".into());
        let row = self.store.sarif_result(log_id, index).await?.ok_or_else(absent)?;
        let Some(path) = row.path.as_deref() else {
            return Err(AppError::Invalid("a result not placed at a file of the pin is not triaged".into()));
        };
        let path = RepoPath::parse(path)?;
        self.require_file_in_scope(&actor, &access, &path, absent).await?;
        let lines = match (row.start_line, row.end_line) {
            (Some(first), last) => Some(LineRange { first: first as u32, last: last.unwrap_or(first) as u32 }),
            _ => None,
        };
        let now = self.clock.now_ms();
        // A confirmed result's finding: where the result is, what the tool said, and why.
        let finding = match input.state {
            Triage::Confirmed => {
                let blob_id = self.review().file_blob(&access, &path, lines).await?;
                let severity = severity.unwrap_or_else(|| severity_of_level(&row.level));
                let mut body = format!("**{}** `{}`: {}", row.tool, row.rule_id.replace('`', "'"), row.message);
                if !reason.is_empty() {
                    body.push_str("\n\n");
                    body.push_str(reason);
                }
                body.push_str(&format!("\n\n_Confirmed from imported tool result {log_id}#{index}._"));
                Some((blob_id, severity, body))
            }
            _ => None,
        };
        let reason_sha256 = hex::encode(Sha256::digest(reason.as_bytes()));
        self.write(async |tx| {
            if let Some((_, Some(finding))) = rows::latest_triage(tx.conn(), log_id, index).await? {
                return Err(AppError::Conflict(format!(
                    "this result was confirmed as finding #{finding}; that finding's thread carries it on"
                )));
            }
            let finding_id = match &finding {
                Some((blob_id, severity, body)) => {
                    let new = NewCommentRow {
                        pin_id: pin.get(),
                        path: path.as_str(),
                        blob_id: blob_id.as_deref(),
                        lines: lines.map(|l| (l.first, l.last)),
                        author_id: identity.user_id,
                        kind: CommentKind::Finding.as_str(),
                        severity: Some(severity.as_str()),
                        requirements: None,
                        cwe: row.cwe.as_deref(),
                        reply_to: None,
                        created_at: now,
                        commitment_key: None,
                    };
                    let id = review_rows::insert_thread(tx.conn(), &new, access.record.repository_id, body).await?;
                    let mut object = access.object(&path);
                    object.blob = blob_id.clone();
                    object.lines = lines;
                    let mut details = json!({
                        "comment_id": id, "kind": "finding", "severity": severity.as_str(), "reply_to": null,
                        "content_sha256": hex::encode(Sha256::digest(body.as_bytes())),
                        "tool_result": { "log_id": log_id, "result": index }
                    });
                    let cwe: Vec<u32> =
                        crate::review::cwe::from_stored(row.cwe.as_deref()).into_iter().map(|w| w.id).collect();
                    if !cwe.is_empty() {
                        details["cwe"] = json!(cwe);
                    }
                    tx.append(&actor.event(Action::CommentCreate).on(object).with(details)).await?;
                    Some(id)
                }
                None => None,
            };
            let new = NewTriage {
                log_id,
                seq: index,
                state: input.state.as_str(),
                reason,
                finding_id,
                by_id: identity.user_id,
                at: now,
            };
            rows::insert_triage(tx.conn(), &new).await?;
            let mut object = access.object(&path);
            object.lines = lines;
            let details = json!({
                "log_id": log_id, "result": index, "state": input.state.as_str(),
                "reason_sha256": reason_sha256, "finding_id": finding_id
            });
            tx.append(&actor.event(Action::SarifTriage).on(object).with(details)).await?;
            Ok(Triaged { state: input.state, finding: finding_id })
        })
        .await
    }
}
