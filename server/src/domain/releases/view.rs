//! Reading releases (staff, regulators, supervisors): each with its state, its dossier's rules and
//! the supervisors' decisions; the dossier itself, as the envelope to sign (recorded).

use super::super::guard::{require, Actor, Permission};
use super::Releases;
use crate::audit::Action;
use crate::releases::dossier::{self, SUPERVISORS};
use app::error::{AppError, AppResult};
use app::model::{PinId, ReleaseArtifact, ReleaseDecision, ReleaseState, ReleaseView, RuleOutcome};
use serde_json::{json, Value};

impl Releases<'_> {
    /// One release.
    pub async fn release(&self, actor: Actor<'_>, id: i64) -> AppResult<ReleaseView> {
        require(&actor, Permission::ReadLog)?;
        self.view_of(id).await
    }

    /// A pin's releases, oldest first (recorded).
    pub async fn releases_of_pin(&self, actor: Actor<'_>, pin: PinId) -> AppResult<Vec<ReleaseView>> {
        Ok(self.listed(&actor, pin).await?.1)
    }

    /// A release's dossier: the DSSE envelope to sign, the vendor's signature in it, or once
    /// authorised, the envelope with every signature (recorded).
    pub async fn dossier(&self, actor: Actor<'_>, id: i64) -> AppResult<String> {
        require(&actor, Permission::ReadLog)?;
        let release = self.release_row(id).await?;
        let envelope = match self.store.release_authorisation(id).await? {
            Some((envelope, _)) => envelope,
            None => release.envelope,
        };
        self.record(actor.event(Action::ReleaseDossier).with(json!({
            "release_id": id, "dossier_sha256": release.statement_sha256,
        })))
        .await?;
        Ok(envelope)
    }

    pub(super) async fn view_of(&self, id: i64) -> AppResult<ReleaseView> {
        let release = self.release_row(id).await?;
        let policy = self.policy_of(&release).await?;
        let policy_row = self.store.release_policy_by_id(release.policy_id).await?;
        let pin =
            self.store.pin(release.pin_id).await?.ok_or_else(|| AppError::NotFound("there is no such pin".into()))?;
        let decisions = self.store.release_decisions(id).await?;
        let authorised = self.store.release_authorisation(id).await?;
        let replaced_by = self.store.release_replacing(id).await?;
        let statement: Value =
            serde_json::from_str(&release.statement).map_err(|e| super::super::error::internal(&e))?;
        let mut rules: Vec<RuleOutcome> = statement["predicate"]["rules"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|rule| RuleOutcome {
                rule: rule["rule"].as_str().unwrap_or_default().to_string(),
                met: rule["met"].as_bool().unwrap_or(false),
                reason: rule["reason"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        let names = |signed: bool| -> Vec<String> {
            decisions.iter().filter(|d| d.signed == signed).map(|d| d.username.clone()).collect()
        };
        rules.push(dossier::supervisors_rule(&policy, &names(true), &names(false)));
        debug_assert_eq!(rules.last().map(|r| r.rule.as_str()), Some(SUPERVISORS));
        let artifacts = statement["subject"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| ReleaseArtifact {
                name: s["name"].as_str().unwrap_or_default().to_string(),
                platform: s["annotations"]["platform"].as_str().unwrap_or_default().to_string(),
                sha256: s["digest"]["sha256"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        let state = if authorised.is_some() {
            ReleaseState::Authorised
        } else if replaced_by.is_some() {
            ReleaseState::Replaced
        } else if decisions.iter().any(|d| !d.signed) {
            ReleaseState::Objected
        } else {
            ReleaseState::Proposed
        };
        Ok(ReleaseView {
            id,
            repository: pin.repository,
            pin_id: pin.id,
            pin_label: pin.label,
            commit: pin.commit_id,
            version: release.version,
            artifacts,
            state,
            rules,
            ready_for_supervisors: release.rules_met,
            policy_sha256: policy_row.map(|p| p.digest).unwrap_or_default(),
            dossier_sha256: release.statement_sha256,
            decisions: decisions
                .into_iter()
                .map(|d| ReleaseDecision {
                    supervisor: d.username,
                    keyid: d.keyid,
                    signed: d.signed,
                    reason: (!d.signed).then_some(d.reason),
                    decided_at_ms: d.decided_at,
                })
                .collect(),
            replaces: release.replaces,
            replaced_by,
            proposed_by: release.proposed_by,
            proposed_at_ms: release.proposed_at,
            authorised_at_ms: authorised.map(|(_, at)| at),
        })
    }
}
