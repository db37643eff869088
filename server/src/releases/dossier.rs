//! A release's dossier: the evidence for each rule of the policy, each rule met or unmet with its
//! reason, frozen as an in-toto Statement v1 (predicate `RELEASE_TYPE`, the artifacts as
//! subjects). Field by field in `docs/releases.md`.

use crate::builds::statement::{account_uri, git_uri, rfc3339, STATEMENT_TYPE};
use app::model::{ReleaseArtifact, ReleasePolicy, RuleOutcome, Severity, VerdictKind};
use serde_json::{json, Value};

/// The predicate type of a release dossier.
pub const RELEASE_TYPE: &str = "https://clearroom.dev/attestations/release/v1";

/// The name of the supervisors' rule (not frozen: it is met by signatures).
pub const SUPERVISORS: &str = "supervisors";

/// What was recorded about one artifact of the release.
pub struct ArtifactEvidence {
    pub artifact: ReleaseArtifact,
    /// Accounts whose recorded build of the pin has this hash (usernames; `None`: the operator),
    /// distinct, in order.
    pub builders: Vec<Option<String>>,
    /// One of them is the room's own build.
    pub room: bool,
    /// SHA-256 of each provenance envelope behind those builds.
    pub provenance: Vec<String>,
    /// Everyone's reviewed lines of its compiled code, when its map is done: (lines, reviewed,
    /// map SHA-256).
    pub compiled: Option<(u64, u64, String)>,
}

/// Everything a dossier freezes besides the policy.
pub struct Evidence {
    pub artifacts: Vec<ArtifactEvidence>,
    /// Each reviewer's current verdict: (reviewer, verdict, given at).
    pub verdicts: Vec<(String, VerdictKind, i64)>,
    /// Open findings by severity (every severity).
    pub open_findings: Vec<(Severity, u32)>,
    /// SHA-256 of each review-summary envelope of the pin.
    pub review_summaries: Vec<String>,
}

/// Each rule the policy sets, met or not, with its reason and evidence (the supervisors' rule is
/// not here: it is met by signatures, after).
pub fn evaluate(policy: &ReleasePolicy, evidence: &Evidence) -> Vec<(RuleOutcome, Value)> {
    let mut rules = Vec::new();
    let outcome = |rule: &str, met: bool, reason: String| RuleOutcome { rule: rule.into(), met, reason };
    if policy.reproduced_by > 0 || policy.reproduced_in_room {
        let wanted = policy.reproduced_by.max(1) as usize;
        let short: Vec<String> = evidence
            .artifacts
            .iter()
            .filter(|a| a.builders.len() < wanted || (policy.reproduced_in_room && !a.room))
            .map(|a| {
                let room = if policy.reproduced_in_room && !a.room { ", none in the room" } else { "" };
                format!(
                    "{} ({}): {} of {wanted} builders{room}",
                    a.artifact.name,
                    a.artifact.platform,
                    a.builders.len()
                )
            })
            .collect();
        let room = if policy.reproduced_in_room { ", one of them the room" } else { "" };
        let reason = if short.is_empty() {
            format!("every artifact was built with its hash by {wanted} or more accounts{room}")
        } else {
            format!("not reproduced: {}", short.join("; "))
        };
        let facts = evidence
            .artifacts
            .iter()
            .map(|a| {
                json!({
                    "name": a.artifact.name, "platform": a.artifact.platform, "digest": { "sha256": a.artifact.sha256 },
                    "builders": a.builders.iter().map(|b| account_uri(b.as_deref())).collect::<Vec<_>>(),
                    "room": a.room,
                    "provenance": a.provenance.iter().map(|d| json!({ "sha256": d })).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>();
        rules.push((outcome("reproduced_by", short.is_empty(), reason), json!({ "artifacts": facts })));
    }
    if let Some(wanted) = policy.verdicts_no_objection {
        let count = |kind: VerdictKind| evidence.verdicts.iter().filter(|(_, v, _)| *v == kind).count();
        let (yes, concerns, no) =
            (count(VerdictKind::NoObjection), count(VerdictKind::Concerns), count(VerdictKind::Objection));
        let met = yes >= wanted as usize && no == 0;
        let reason = if no > 0 {
            format!("{no} reviewer verdict(s) of objection")
        } else if met {
            format!("{yes} verdict(s) of no objection (at least {wanted}), none of objection")
        } else {
            format!("{yes} verdict(s) of no objection, {wanted} needed")
        };
        let mut facts = json!({
            "noObjection": yes, "concerns": concerns, "objection": no,
            "reviewSummaries": evidence.review_summaries.iter().map(|d| json!({ "sha256": d })).collect::<Vec<_>>(),
        });
        if policy.reviewer_names_public {
            facts["reviewers"] = evidence
                .verdicts
                .iter()
                .map(|(name, verdict, at)| json!({ "name": name, "verdict": verdict.as_str(), "timeReviewed": rfc3339(*at) }))
                .collect();
        }
        rules.push((outcome("verdicts_no_objection", met, reason), facts));
    }
    if let Some(threshold) = policy.max_open_findings_at {
        let open: u32 = evidence.open_findings.iter().filter(|(s, _)| *s >= threshold).map(|(_, n)| n).sum();
        let reason = match open {
            0 => format!("no open finding at or above {}", threshold.as_str()),
            n => format!("{n} open finding(s) at or above {}", threshold.as_str()),
        };
        let counts: serde_json::Map<String, Value> =
            evidence.open_findings.iter().map(|(s, n)| (s.as_str().to_string(), json!(n))).collect();
        rules.push((outcome("max_open_findings_at", open == 0, reason), json!({ "openFindings": counts })));
    }
    if let Some(percent) = policy.compiled_reviewed_percent {
        let mut short = Vec::new();
        let mut facts = Vec::new();
        for a in &evidence.artifacts {
            let name = format!("{} ({})", a.artifact.name, a.artifact.platform);
            match &a.compiled {
                None => short.push(format!("{name}: no compiled-code map")),
                Some((lines, reviewed, map)) => {
                    if reviewed * 100 < u64::from(percent) * lines || *lines == 0 {
                        short.push(format!("{name}: {reviewed} of {lines} compiled lines reviewed"));
                    }
                    facts.push(json!({
                        "name": a.artifact.name, "digest": { "sha256": a.artifact.sha256 },
                        "compiledLines": lines, "linesReviewed": reviewed, "mapSha256": map,
                    }));
                }
            }
        }
        let reason = if short.is_empty() {
            format!("at least {percent}% of every artifact's compiled lines reviewed")
        } else {
            format!("under {percent}%: {}", short.join("; "))
        };
        rules.push((outcome("compiled_reviewed_percent", short.is_empty(), reason), json!({ "artifacts": facts })));
    }
    rules
}

/// The supervisors' rule, given who has signed (registered, named in the policy, distinct).
pub fn supervisors_rule(policy: &ReleasePolicy, signed: &[String], objected: &[String]) -> RuleOutcome {
    let quorum = policy.supervisors.quorum as usize;
    let met = signed.len() >= quorum && objected.is_empty();
    let reason = if !objected.is_empty() {
        format!("objected to by {}", objected.join(", "))
    } else if met {
        format!("signed by {} ({} of {} needed)", signed.join(", "), signed.len(), quorum)
    } else {
        format!("{} of {} supervisor signature(s) of {}", signed.len(), quorum, policy.supervisors.names.join(", "))
    };
    RuleOutcome { rule: SUPERVISORS.into(), met, reason }
}

/// What a dossier is about besides its rules.
pub struct Release<'a> {
    pub version: &'a str,
    pub repository: &'a str,
    pub repository_source: &'a str,
    pub commit: &'a str,
    pub pin_id: i64,
    pub pin_label: &'a str,
    pub policy_sha256: &'a str,
    pub policy: &'a ReleasePolicy,
    /// The account that proposed (`None`: the operator).
    pub proposed_by: Option<&'a str>,
    pub proposed_at: i64,
    /// The release this one replaces: (id, its dossier's SHA-256).
    pub replaces: Option<(i64, &'a str)>,
    pub checkpoint: &'a crate::audit::checkpoint::Checkpoint,
}

/// The dossier's statement.
pub fn statement(r: &Release<'_>, artifacts: &[ReleaseArtifact], rules: &[(RuleOutcome, Value)]) -> Value {
    use base64::Engine as _;
    json!({
        "_type": STATEMENT_TYPE,
        "subject": artifacts.iter().map(|a| json!({
            "name": a.name, "digest": { "sha256": a.sha256 }, "annotations": { "platform": a.platform },
        })).collect::<Vec<_>>(),
        "predicateType": RELEASE_TYPE,
        "predicate": {
            "version": r.version,
            "target": {
                "repository": r.repository_source,
                "repositoryName": r.repository,
                "commit": r.commit,
                "uri": git_uri(r.repository_source, r.commit),
                "digest": { "gitCommit": r.commit },
                "pin": { "id": r.pin_id, "label": r.pin_label },
            },
            "policy": { "sha256": r.policy_sha256, "rules": r.policy },
            "rules": rules.iter().map(|(o, evidence)| json!({
                "rule": o.rule, "met": o.met, "reason": o.reason, "evidence": evidence,
            })).collect::<Vec<_>>(),
            "supervisors": { "quorum": r.policy.supervisors.quorum, "names": r.policy.supervisors.names },
            "proposedBy": account_uri(r.proposed_by),
            "timeProposed": rfc3339(r.proposed_at),
            "replaces": r.replaces.map(|(id, sha)| json!({ "release": id, "dossierSha256": sha })),
            "checkpoint": {
                "size": r.checkpoint.size,
                "rootHash": base64::engine::general_purpose::STANDARD.encode(r.checkpoint.root),
                "note": r.checkpoint.note,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::model::Supervisors;

    fn policy() -> ReleasePolicy {
        ReleasePolicy {
            reproduced_by: 2,
            reproduced_in_room: false,
            verdicts_no_objection: Some(1),
            max_open_findings_at: Some(Severity::High),
            compiled_reviewed_percent: Some(50),
            reviewer_names_public: false,
            supervisors: Supervisors { quorum: 2, names: vec!["a".into(), "b".into(), "c".into()] },
        }
    }

    fn evidence(builders: usize, high: u32, reviewed: u64) -> Evidence {
        let artifact = ReleaseArtifact { name: "app".into(), platform: "linux".into(), sha256: "ab".repeat(32) };
        Evidence {
            artifacts: vec![ArtifactEvidence {
                artifact,
                builders: (0..builders).map(|i| Some(format!("builder{i}"))).collect(),
                room: false,
                provenance: vec![],
                compiled: Some((100, reviewed, "cd".repeat(32))),
            }],
            verdicts: vec![("rev".into(), VerdictKind::NoObjection, 0)],
            open_findings: vec![(Severity::Critical, 0), (Severity::High, high), (Severity::Low, 3)],
            review_summaries: vec![],
        }
    }

    fn unmet(rules: &[(RuleOutcome, Value)]) -> Vec<&str> {
        rules.iter().filter(|(o, _)| !o.met).map(|(o, _)| o.rule.as_str()).collect()
    }

    #[test]
    fn each_rule_is_met_or_names_what_is_missing() {
        assert!(unmet(&evaluate(&policy(), &evidence(2, 0, 50))).is_empty());
        let rules = evaluate(&policy(), &evidence(1, 1, 49));
        assert_eq!(unmet(&rules), ["reproduced_by", "max_open_findings_at", "compiled_reviewed_percent"]);
        assert_eq!(rules[0].0.reason, "not reproduced: app (linux): 1 of 2 builders");
        assert_eq!(rules[2].0.reason, "1 open finding(s) at or above high");
    }

    #[test]
    fn reviewers_are_named_only_when_the_policy_says_so() {
        let rules = evaluate(&policy(), &evidence(2, 0, 50));
        assert!(rules[1].1.get("reviewers").is_none());
        let mut public = policy();
        public.reviewer_names_public = true;
        assert_eq!(evaluate(&public, &evidence(2, 0, 50))[1].1["reviewers"][0]["name"], "rev");
    }

    #[test]
    fn supervisors_meet_their_rule_by_quorum_unless_one_objects() {
        let p = policy();
        assert!(!supervisors_rule(&p, &["a".into()], &[]).met);
        assert!(supervisors_rule(&p, &["a".into(), "b".into()], &[]).met);
        let objected = supervisors_rule(&p, &["a".into(), "b".into()], &["c".into()]);
        assert!(!objected.met);
        assert_eq!(objected.reason, "objected to by c");
    }
}
