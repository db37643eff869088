//! Proposing a release (staff): the artifacts checked, the evidence for each rule of the
//! repository's policy gathered from the pin's records, and the dossier frozen and signed by the
//! vendor's attestation key, with its `release.propose` event, in one write.

use super::super::guard::{require, Actor, Permission, PinPage};
use super::Releases;
use crate::audit::Action;
use crate::releases::dossier::{self, ArtifactEvidence, Evidence};
use crate::releases::policy::{PolicyDocument, ReleasePolicy};
use crate::store::releases::{self as rows, NewReleaseRow};
use crate::store::room::ROOM_ACCOUNT;
use app::error::{AppError, AppResult};
use app::model::{NewRelease, PinId, ReleaseArtifact, ReleaseState, ReleaseView, Sha256Hex};
use serde_json::json;
use std::collections::HashSet;

/// Most artifacts a release names.
const MAX_ARTIFACTS: usize = 256;

/// A version, name or platform (which may also be empty, as a build's): 1 to 128 bytes,
/// printable, no spaces at either end.
fn label_problem(what: &str, text: &str) -> Option<String> {
    if text.is_empty() || text.len() > 128 || text.trim() != text || text.chars().any(char::is_control) {
        return Some(format!("{what} must be 1 to 128 printable characters, no spaces at either end"));
    }
    None
}

/// The release as asked, checked: a version, one or more distinct artifacts with SHA-256s.
pub(super) fn checked(release: &NewRelease) -> AppResult<Vec<ReleaseArtifact>> {
    let invalid = |problem: String| Err(AppError::Invalid(problem));
    if let Some(problem) = label_problem("the version", &release.version) {
        return invalid(problem);
    }
    if release.artifacts.is_empty() || release.artifacts.len() > MAX_ARTIFACTS {
        return invalid(format!("a release names 1 to {MAX_ARTIFACTS} artifacts"));
    }
    let mut seen = HashSet::new();
    let mut artifacts = Vec::new();
    for artifact in &release.artifacts {
        let platform =
            (!artifact.platform.is_empty()).then(|| label_problem("an artifact's platform", &artifact.platform));
        let problem = label_problem("an artifact's name", &artifact.name).or(platform.flatten());
        if let Some(problem) = problem {
            return invalid(problem);
        }
        let sha256 =
            Sha256Hex::parse(&artifact.sha256).map_err(|e| AppError::Invalid(format!("{}: {e}", artifact.name)))?;
        if !seen.insert((artifact.name.clone(), artifact.platform.clone())) {
            return invalid(format!("{} ({}) is named twice", artifact.name, artifact.platform));
        }
        artifacts.push(ReleaseArtifact {
            name: artifact.name.clone(),
            platform: artifact.platform.clone(),
            sha256: sha256.as_str().to_string(),
        });
    }
    Ok(artifacts)
}

impl Releases<'_> {
    /// Proposes a release of a pin (staff): freezes its dossier under the repository's policy.
    /// An earlier dossier of the same version that is not authorised is replaced, by reference.
    pub async fn propose(&self, actor: Actor<'_>, pin: PinId, release: &NewRelease) -> AppResult<ReleaseView> {
        require(&actor, Permission::ManageReleases)?;
        let artifacts = checked(release)?;
        let record =
            self.store.pin(pin.get()).await?.ok_or_else(|| AppError::NotFound("there is no such pin".into()))?;
        if record.withdrawn_at.is_some() {
            return Err(AppError::Conflict("the pin is withdrawn: it cannot be released".into()));
        }
        let policy_row = self.store.release_policy(record.repository_id).await?.ok_or_else(|| {
            AppError::Conflict(format!("the repository {} has no release policy: set one first", record.repository))
        })?;
        let policy =
            ReleasePolicy::from_json(policy_row.policy.as_bytes()).map_err(|e| super::super::error::internal(&e))?;
        let mut replaces = None;
        for earlier in self.store.releases_of_version(record.repository_id, &release.version).await? {
            if self.store.release_authorisation(earlier.id).await?.is_some() {
                let message = format!("version {} is already authorised (release {})", release.version, earlier.id);
                return Err(AppError::Conflict(message));
            }
            replaces = Some(earlier);
        }
        let access = PinPage::named(record);
        let evidence = self.evidence(&access, artifacts.clone()).await?;
        let rules = dossier::evaluate(&policy, &evidence);
        let rules_met = rules.iter().all(|(outcome, _)| outcome.met);
        let checkpoint = self.log().publish_checkpoint().await?;
        let now = self.clock.now_ms();
        let record = &access.record;
        let source = self.repository_source(record).await?;
        let proposer = match actor {
            Actor::Web(caller) => caller.identity.as_ref().map(|i| i.username.clone()),
            _ => None,
        };
        let statement = dossier::statement(
            &dossier::Release {
                version: &release.version,
                repository: &record.repository,
                repository_source: &source,
                commit: &record.commit_id,
                pin_id: record.id,
                pin_label: &record.label,
                policy_sha256: &policy_row.digest,
                policy: &policy,
                proposed_by: proposer.as_deref(),
                proposed_at: now,
                replaces: replaces.as_ref().map(|r| (r.id, r.statement_sha256.as_str())),
                checkpoint: &checkpoint,
            },
            &artifacts,
            &rules,
        );
        let bytes = serde_json::to_vec(&statement).map_err(|e| super::super::error::internal(&e))?;
        let statement_text = String::from_utf8(bytes).map_err(|e| super::super::error::internal(&e))?;
        let statement_sha256 = crate::builds::sha256_hex(statement_text.as_bytes());
        let envelope = self.builds.key.sign(statement_text.as_bytes());
        let envelope = serde_json::to_string(&envelope).map_err(|e| super::super::error::internal(&e))?;
        // Once authorised, the envelope (with each supervisor's signature, about 140 bytes) goes
        // into the public log inside a COSE statement: refuse now what would not fit then.
        let authorised = envelope.len() + policy.supervisors.names.len() * 160 + 1024;
        if authorised > crate::transparency::MAX_STATEMENT {
            let message = format!(
                "the dossier would be {authorised} bytes once signed, past the public log's {}: propose fewer artifacts per release",
                crate::transparency::MAX_STATEMENT
            );
            return Err(AppError::Invalid(message));
        }
        let new = NewReleaseRow {
            pin_id: record.id,
            version: &release.version,
            policy_id: policy_row.id,
            statement: &statement_text,
            statement_sha256: &statement_sha256,
            envelope: &envelope,
            rules_met,
            replaces: replaces.as_ref().map(|r| r.id),
            proposed_by: actor.user_id(),
            proposed_at: now,
        };
        let unmet: Vec<&str> = rules.iter().filter(|(o, _)| !o.met).map(|(o, _)| o.rule.as_str()).collect();
        let object = access.object(&app::model::RepoPath::root());
        let id = self
            .write(async |tx| {
                let id = rows::insert_release(tx.conn(), &new).await?;
                tx.append(&actor.event(Action::ReleasePropose).on(object.clone()).with(json!({
                    "release_id": id, "version": release.version, "artifacts": artifacts,
                    "dossier_sha256": statement_sha256, "policy_sha256": policy_row.digest,
                    "unmet_rules": unmet, "replaces": new.replaces,
                })))
                .await?;
                Ok(id)
            })
            .await?;
        let view = self.view_of(id).await?;
        debug_assert!(view.state == ReleaseState::Proposed);
        Ok(view)
    }

    /// The evidence for each rule, from the pin's records as they stand.
    async fn evidence(&self, access: &PinPage, artifacts: Vec<ReleaseArtifact>) -> AppResult<Evidence> {
        let pin_id = access.record.id;
        let builds = self.store.builds_of_pin(pin_id).await?;
        let attestations = self.store.attestations_of_pin(pin_id).await?;
        let figures = self.attestations().review_figures(access).await?;
        let mut gathered = Vec::new();
        for artifact in artifacts {
            let matching: Vec<_> = builds.iter().filter(|b| b.sha256 == artifact.sha256).collect();
            let mut builders: Vec<Option<String>> = Vec::new();
            for build in &matching {
                if !builders.contains(&build.recorded_by) {
                    builders.push(build.recorded_by.clone());
                }
            }
            let ids: HashSet<i64> = matching.iter().map(|b| b.id).collect();
            let provenance = attestations
                .iter()
                .filter(|a| a.kind == "provenance" && a.build_id.is_some_and(|id| ids.contains(&id)))
                .map(|a| a.envelope_sha256.clone())
                .collect();
            let compiled = figures
                .compiled
                .iter()
                .find(|c| c.coverage.sha256 == artifact.sha256)
                .map(|c| (c.coverage.lines, c.coverage.reviewed, c.map_sha256.clone()));
            let room = builders.iter().any(|b| b.as_deref() == Some(ROOM_ACCOUNT));
            gathered.push(ArtifactEvidence { artifact, builders, room, provenance, compiled });
        }
        Ok(Evidence {
            artifacts: gathered,
            verdicts: figures.verdicts.iter().map(|v| (v.reviewer.clone(), v.verdict, v.given_at_ms)).collect(),
            open_findings: figures.open_findings.clone(),
            review_summaries: attestations
                .iter()
                .filter(|a| a.kind == "review")
                .map(|a| a.envelope_sha256.clone())
                .collect(),
        })
    }
}
