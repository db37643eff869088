//! What is issued for builds and handed out: the envelopes of a hash or a pin, what a hash was built
//! from (artifact lookup, showing each pin's records as the guard allows), and the signed review summary of a pin's binaries with the figures it
//! binds.

use super::builds::{base64_of, group, view, Issue};
use super::guard::{require, Actor, ArtifactRecords, Permission, PinPage, PinUse};
use super::threads::Viewer;
use super::Attestations;
use crate::audit::Action;
use crate::audit::Object;
use crate::builds::statement::{self};
use crate::review::coverage as figures;
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::collections::{BTreeMap, HashSet};

impl Attestations<'_> {
    /// Every envelope naming an artifact with this hash that the actor may see (recorded): all of a
    /// pin's to whoever reads its review records, its provenance alone to builders
    /// (`guard::rules::artifact_records`).
    pub async fn attestations_for(&self, actor: Actor<'_>, sha256: &Sha256Hex) -> AppResult<Vec<String>> {
        if let Actor::Web(caller) = actor {
            super::guard::signed_in(caller)?;
        }
        let mut shown: BTreeMap<i64, ArtifactRecords> = BTreeMap::new();
        let mut envelopes = Vec::new();
        for attestation in self.store.attestations_by_sha256(sha256.as_str()).await? {
            let records = match shown.get(&attestation.pin_id) {
                Some(records) => *records,
                None => {
                    let records = match self.store.pin(attestation.pin_id).await? {
                        Some(record) => self.artifact_records_of(&actor, &record).await?,
                        None => ArtifactRecords::Hidden,
                    };
                    shown.insert(attestation.pin_id, records);
                    records
                }
            };
            let wanted = match records {
                ArtifactRecords::Review => true,
                ArtifactRecords::BuildFacts => attestation.kind != "review",
                ArtifactRecords::Hidden => false,
            };
            if wanted {
                envelopes.push(attestation.envelope);
            }
        }
        self.record(
            actor
                .event(Action::AttestationLookup)
                .with(json!({ "sha256": sha256.as_str(), "envelopes": envelopes.len() })),
        )
        .await?;
        Ok(envelopes)
    }

    /// A pin's envelopes, one JSON document per line (`.intoto.jsonl`).
    pub async fn pin_attestations(&self, actor: Actor<'_>, pin: PinId) -> AppResult<String> {
        let access = self.pin_use(&actor, pin, PinUse::ReadReview).await?;
        let envelopes = self.store.attestations_of_pin(pin.get()).await?;
        self.record(
            actor
                .event(Action::AttestationDownload)
                .on(access.object(&RepoPath::root()))
                .with(json!({ "envelopes": envelopes.len() })),
        )
        .await?;
        Ok(envelopes.into_iter().map(|a| a.envelope + "\n").collect())
    }

    /// The keys anyone needs to check what the server signs.
    pub fn keys(&self) -> app::model::Keys {
        let key = &self.builds.key;
        let log = self.signer.verifier();
        app::model::Keys {
            attestation: app::model::AttestationKey {
                keyid: key.keyid().to_string(),
                algorithm: "ed25519".into(),
                public_key_pem: key.public_pem(),
                public_key: base64_of(key.verifying_key().as_bytes()),
            },
            log: app::model::LogKey {
                name: log.name().to_string(),
                algorithm: "ed25519".into(),
                verifier_key: log.to_string(),
                key_hash: log.fingerprint(),
            },
        }
    }

    /// What a file with this hash was built from, and how that pin was reviewed. The lookup is
    /// recorded, found or not.
    pub async fn lookup_artifact(&self, actor: Actor<'_>, sha256: &Sha256Hex) -> AppResult<ArtifactLookup> {
        if let Actor::Web(caller) = actor {
            super::guard::signed_in(caller)?;
        }
        let builds = self.store.builds_by_sha256(sha256.as_str()).await?;
        let mut pins: Vec<i64> = builds.iter().map(|b| b.pin_id).collect();
        pins.sort_unstable();
        pins.dedup();
        let envelopes = self.store.attestations_by_sha256(sha256.as_str()).await?;
        let mut origins = Vec::new();
        for pin_id in pins {
            let Some(record) = self.store.pin(pin_id).await? else { continue };
            let records = self.artifact_records_of(&actor, &record).await?;
            if records == ArtifactRecords::Hidden {
                continue;
            }
            let access = PinPage::named(record);
            let all: Vec<BuildView> =
                self.store.builds_of_pin(pin_id).await?.into_iter().map(|b| view(b, &BTreeMap::new())).collect();
            // Builders get the build facts: no verdict, coverage, finding or review statement.
            let review = match records {
                ArtifactRecords::Review => self.review_figures(&access).await?,
                _ => ReviewFigures::default(),
            };
            let summary = self.pin_summary(&access).await?;
            for artifact in group(all) {
                // The accounts that recorded exactly this hash, each once.
                let builders: Vec<String> = artifact
                    .builds
                    .iter()
                    .filter(|b| b.sha256 == sha256.as_str())
                    .map(|b| b.recorded_by.clone())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if builders.is_empty() {
                    continue;
                }
                origins.push(ArtifactOrigin {
                    pin: summary.clone(),
                    name: artifact.name,
                    platform: artifact.platform,
                    status: artifact.status,
                    room_reproduced: builders.iter().any(|b| b == crate::store::room::ROOM_ACCOUNT),
                    builders,
                    verdicts: review.verdicts.clone(),
                    total: review.total,
                    shown: review.shown,
                    reviewed: review.reviewed,
                    open_findings: review.open_findings.clone(),
                    envelopes: envelopes
                        .iter()
                        .filter(|a| a.pin_id == pin_id)
                        .filter(|a| records == ArtifactRecords::Review || a.kind != "review")
                        .map(|a| a.envelope_sha256.clone())
                        .collect(),
                });
            }
        }
        let objects = origins.iter().map(|o| Object::at(o.pin.id, Some(&o.pin.commit_id), &RepoPath::root()));
        let mut event =
            actor.event(Action::ArtifactLookup).with(json!({ "sha256": sha256.as_str(), "found": origins.len() }));
        for object in objects {
            event = event.on(object);
        }
        self.record(event).await?;
        Ok(ArtifactLookup { sha256: sha256.to_string(), origins })
    }

    /// The current verdicts, everyone's coverage together and the open findings of a pin.
    pub(super) async fn review_figures(&self, access: &PinPage) -> AppResult<ReviewFigures> {
        let (files, inputs, _, _) = self.coverage().coverage_inputs(access).await?;
        let everyone = figures::combined_inputs(&inputs);
        let combined = figures::reviewer_coverage(&files, &everyone);
        let compiled = self.compiled().figures(access, &files, &everyone).await?;
        let stored = self.store.verdicts_of_pin(access.record.id).await?;
        let superseded: HashSet<i64> = stored.iter().filter_map(|v| v.supersedes).collect();
        let verdicts = stored
            .into_iter()
            .filter(|v| !superseded.contains(&v.id))
            .map(|v| VerdictBrief {
                reviewer: v.reviewer,
                verdict: VerdictKind::parse(&v.verdict).unwrap_or(VerdictKind::Concerns),
                given_at_ms: v.created_at,
            })
            .collect();
        // Findings as staff see them: every finding; private notes are never findings.
        let viewer = Viewer { user_id: None, role: Role::Staff, may_review: false };
        let mut counts: BTreeMap<Severity, u32> = BTreeMap::new();
        for finding in self.coverage().open_findings(access, &viewer).await? {
            *counts.entry(finding.severity).or_default() += 1;
        }
        let open_findings = Severity::ALL.iter().map(|s| (*s, counts.get(s).copied().unwrap_or(0))).collect();
        Ok(ReviewFigures {
            verdicts,
            total: figures::total(&files),
            shown: combined.shown,
            reviewed: combined.reviewed,
            open_findings,
            compiled,
        })
    }

    /// Issues the review-summary statement for a pin's artifacts (staff): verdicts, coverage, open
    /// findings and the log checkpoint now. Returns the envelope's SHA-256.
    pub async fn issue_review_summary(&self, actor: Actor<'_>, pin: PinId) -> AppResult<String> {
        require(&actor, Permission::Attest)?;
        let record =
            self.store.pin(pin.get()).await?.ok_or_else(|| AppError::NotFound("there is no such pin".into()))?;
        let access = PinPage::named(record);
        let binaries = self.binaries_of(pin).await?;
        if binaries.is_empty() {
            return Err(AppError::Invalid(
                "record a build of this pin first: the summary is about its artifacts".into(),
            ));
        }
        let review = self.review_figures(&access).await?;
        let checkpoint = self.log().publish_checkpoint().await?;
        let now = self.clock.now_ms();
        let record = &access.record;
        let source = self.repository_source(record).await?;
        let subjects: Vec<String> = binaries.iter().map(|b| b.sha256.clone()).collect();
        let build_diffs = self.store.diffs_of_pin(record.id).await?;
        let payload = statement::review_summary(&statement::ReviewSummary {
            subjects: &binaries,
            repository_source: &source,
            commit: &record.commit_id,
            pin_id: record.id,
            pin_label: &record.label,
            verdicts: &review.verdicts,
            total: review.total,
            shown: review.shown,
            reviewed: review.reviewed,
            open_findings: &review.open_findings,
            compiled: &review.compiled,
            checkpoint: &checkpoint,
            issued_at: now,
            build_diffs: &build_diffs,
        });
        let object = access.object(&RepoPath::root());
        let issue = Issue {
            object: &object,
            pin_id: record.id,
            build_id: None,
            kind: "review",
            payload: &payload,
            subjects: &subjects,
            now,
        };
        self.write(async |tx| self.builds().issue(tx, &actor, issue).await).await
    }
}

#[derive(Default)]
pub(super) struct ReviewFigures {
    pub(super) verdicts: Vec<VerdictBrief>,
    pub(super) total: Amount,
    pub(super) shown: Amount,
    pub(super) reviewed: Amount,
    pub(super) open_findings: Vec<(Severity, u32)>,
    pub(super) compiled: Vec<super::compiled::marks::CompiledFigures>,
}
