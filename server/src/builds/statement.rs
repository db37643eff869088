//! The in-toto statements the server issues: SLSA Provenance v1 for each build record, and a
//! review summary (a predicate this project defines) for a pin's artifacts. Field by field in
//! `docs/attestations.md`.

use super::EnvelopeError;
use serde_json::{json, Value};

pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v1";
pub const PROVENANCE_TYPE: &str = "https://slsa.dev/provenance/v1";
/// The SLSA `buildType` of a build recorded in Clearroom (documented in `docs/attestations.md`).
pub const BUILD_TYPE: &str = "https://clearroom.dev/attestations/build-record/v1";
/// The SLSA `buildType` of a build the room ran itself (documented in `docs/attestations.md`).
pub const ROOM_BUILD_TYPE: &str = "https://clearroom.dev/attestations/room-build/v1";
/// The review summary predicate (documented in `docs/attestations.md`).
pub const REVIEW_TYPE: &str = "https://clearroom.dev/attestations/review-summary/v1";

/// RFC 3339 UTC to the second (`2026-11-29T16:17:46Z`), the one time format of statements.
pub use app::times::rfc3339;

/// The account that recorded a build, as the builder's URI: `urn:clearroom:account:<username>`
/// (percent-encoded), or `urn:clearroom:operator` for the operator at the command line. A builder is
/// the account that recorded, never a name the request gave (security defect 2: one token named
/// three "builders" and a build read "reproduced by 3").
pub fn account_uri(account: Option<&str>) -> String {
    match account {
        None => "urn:clearroom:operator".to_string(),
        Some(username) => {
            let encoded: String = username
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            format!("urn:clearroom:account:{encoded}")
        }
    }
}

/// A commit as an in-toto resource URI: `git+<repository>@<commit>`.
pub fn git_uri(repository: &str, commit: &str) -> String {
    format!("git+{repository}@{commit}")
}

/// What a provenance statement says about one build record.
pub struct Provenance<'a> {
    pub record_id: i64,
    pub name: &'a str,
    pub platform: &'a str,
    pub sha256: &'a str,
    pub repository: &'a str,
    /// Where the repository was imported from (its URL or path).
    pub repository_source: &'a str,
    pub commit: &'a str,
    pub pin_id: i64,
    pub pin_label: &'a str,
    /// The account that recorded the build (`None`: the operator).
    pub account: Option<&'a str>,
    /// The builder as the record describes it (a CI runner, a lab): a note, empty when not given.
    pub builder_label: &'a str,
    pub command: &'a str,
    pub toolchain: &'a str,
    pub notes: &'a str,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub recorded_at: i64,
}

pub fn provenance(p: &Provenance<'_>) -> Value {
    let mut metadata = json!({ "invocationId": format!("urn:clearroom:build:{}", p.record_id) });
    if let Some(started) = p.started_at {
        metadata["startedOn"] = json!(rfc3339(started));
    }
    if let Some(finished) = p.finished_at {
        metadata["finishedOn"] = json!(rfc3339(finished));
    }
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{ "name": p.name, "digest": { "sha256": p.sha256 } }],
        "predicateType": PROVENANCE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": {
                    "repository": p.repository_source,
                    "commit": p.commit,
                    "artifact": p.name,
                    "platform": p.platform,
                    "command": p.command,
                },
                "internalParameters": {
                    "repositoryName": p.repository,
                    "pin": { "id": p.pin_id, "label": p.pin_label },
                    "toolchain": p.toolchain,
                    "notes": p.notes,
                    "builderLabel": p.builder_label,
                    "recordedOn": rfc3339(p.recorded_at),
                },
                "resolvedDependencies": [{
                    "uri": git_uri(p.repository_source, p.commit),
                    "digest": { "gitCommit": p.commit },
                }],
            },
            "runDetails": {
                "builder": { "id": account_uri(p.account) },
                "metadata": metadata,
            },
        },
    })
}

/// What a room build's provenance says about one of its outputs.
pub struct RoomProvenance<'a> {
    pub room_build_id: i64,
    pub name: &'a str,
    pub platform: &'a str,
    pub path: &'a str,
    pub sha256: &'a str,
    pub repository: &'a str,
    pub repository_source: &'a str,
    pub commit: &'a str,
    pub pin_id: i64,
    pub pin_label: &'a str,
    pub recipe_sha256: &'a str,
    /// The recipe's toolchain (`host` or a directory name) and its digest.
    pub toolchain: &'a str,
    pub toolchain_digest: &'a str,
    /// The sandbox's settings, as `sandbox_settings` gives them, and the recipe's limits.
    pub sandbox: Value,
    pub limits: Value,
    pub log_sha256: &'a str,
    /// The server's public URL or origin: the builder.
    pub builder_id: &'a str,
    pub started_at: i64,
    pub finished_at: i64,
}

pub fn room_provenance(p: &RoomProvenance<'_>) -> Value {
    json!({
        "_type": STATEMENT_TYPE,
        "subject": [{ "name": p.name, "digest": { "sha256": p.sha256 } }],
        "predicateType": PROVENANCE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": ROOM_BUILD_TYPE,
                "externalParameters": {
                    "recipe": { "digest": { "sha256": p.recipe_sha256 } },
                    "pin": { "id": p.pin_id, "label": p.pin_label },
                },
                "internalParameters": {
                    "sandbox": p.sandbox,
                    "limits": p.limits,
                    "output": { "path": p.path, "artifact": p.name, "platform": p.platform },
                    "repositoryName": p.repository,
                },
                "resolvedDependencies": [
                    { "uri": git_uri(p.repository_source, p.commit), "digest": { "gitCommit": p.commit } },
                    { "uri": format!("urn:clearroom:toolchain:{}", p.toolchain), "digest": toolchain_digest(p.toolchain_digest) },
                ],
            },
            "runDetails": {
                "builder": { "id": p.builder_id },
                "metadata": {
                    "invocationId": format!("urn:clearroom:room-build:{}", p.room_build_id),
                    "startedOn": rfc3339(p.started_at),
                    "finishedOn": rfc3339(p.finished_at),
                },
                "byproducts": [{ "name": "build.log", "digest": { "sha256": p.log_sha256 } }],
            },
        },
    })
}

/// A toolchain digest as an in-toto digest set: `sha256:<hex>` → `{"sha256": hex}`, a host's
/// `dpkg-status-sha256:<hex>` → `{"dpkgStatusSha256": hex}`, anything else → `{}`.
fn toolchain_digest(digest: &str) -> Value {
    match digest.split_once(':') {
        Some(("sha256", hex)) => json!({ "sha256": hex }),
        Some(("dpkg-status-sha256", hex)) => json!({ "dpkgStatusSha256": hex }),
        _ => json!({}),
    }
}

/// What a review-summary statement says about a pin's artifacts.
pub struct ReviewSummary<'a> {
    pub subjects: &'a [app::model::BinaryRef],
    pub repository_source: &'a str,
    pub commit: &'a str,
    pub pin_id: i64,
    pub pin_label: &'a str,
    /// Each reviewer's current verdict.
    pub verdicts: &'a [app::model::VerdictBrief],
    pub total: app::model::Amount,
    pub shown: app::model::Amount,
    pub reviewed: app::model::Amount,
    /// Open findings by severity.
    pub open_findings: &'a [(app::model::Severity, u32)],
    /// Everyone's coverage of each artifact's compiled lines, with its map's figures.
    pub compiled: &'a [crate::domain::compiled::marks::CompiledFigures],
    /// The log checkpoint signed when it was issued.
    pub checkpoint: &'a crate::audit::checkpoint::Checkpoint,
    pub issued_at: i64,
    /// The diffoscope reports on the pin's mismatched artifacts.
    pub build_diffs: &'a [crate::store::room::DiffRow],
}

pub fn review_summary(r: &ReviewSummary<'_>) -> Value {
    use base64::Engine as _;
    let amount = |a: app::model::Amount| json!({ "files": a.files, "lines": a.lines });
    json!({
        "_type": STATEMENT_TYPE,
        "subject": r.subjects.iter().map(|b| json!({ "name": b.name, "digest": { "sha256": b.sha256 } })).collect::<Vec<_>>(),
        "predicateType": REVIEW_TYPE,
        "predicate": {
            "target": {
                "repository": r.repository_source,
                "commit": r.commit,
                "uri": git_uri(r.repository_source, r.commit),
                "digest": { "gitCommit": r.commit },
                "pin": { "id": r.pin_id, "label": r.pin_label },
            },
            "reviewers": r.verdicts.iter().map(|v| json!({
                "name": v.reviewer, "verdict": v.verdict.as_str(), "timeReviewed": rfc3339(v.given_at_ms),
            })).collect::<Vec<_>>(),
            "coverage": { "total": amount(r.total), "shown": amount(r.shown), "reviewed": amount(r.reviewed) },
            "compiledCoverage": r.compiled.iter().map(|c| json!({
                "artifact": c.coverage.artifact, "digest": { "sha256": c.coverage.sha256 },
                "compiledFiles": c.files, "compiledLines": c.coverage.lines,
                "linesShown": c.coverage.shown, "linesReviewed": c.coverage.reviewed,
                "filesElsewhere": c.elsewhere_files, "checksumMismatches": c.checksum_mismatches,
                "mapSha256": c.map_sha256,
            })).collect::<Vec<_>>(),
            "openFindings": r.open_findings.iter().map(|(s, n)| (s.as_str().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "checkpoint": {
                "size": r.checkpoint.size,
                "rootHash": base64::engine::general_purpose::STANDARD.encode(r.checkpoint.root),
                "note": r.checkpoint.note,
            },
            "timeIssued": rfc3339(r.issued_at),
            "buildDiffs": r.build_diffs.iter().map(|d| json!({
                "name": d.name, "platform": d.platform, "sha256A": d.sha256_a, "sha256B": d.sha256_b,
                "state": d.state, "reportSha256": d.report_sha256,
            })).collect::<Vec<_>>(),
        },
    })
}

/// Checks the in-toto Statement v1 layer: the type, a non-empty subject list whose digests are
/// non-empty and lowercase hex (for sha256 and gitCommit), and a predicate type.
pub fn check_statement(statement: &Value) -> Result<(), EnvelopeError> {
    if statement["_type"] != STATEMENT_TYPE {
        return Err(EnvelopeError::Statement("_type is not https://in-toto.io/Statement/v1"));
    }
    let subjects = statement["subject"].as_array().filter(|s| !s.is_empty());
    let subjects = subjects.ok_or(EnvelopeError::Statement("subject is not a non-empty list"))?;
    for subject in subjects {
        let digest = subject["digest"].as_object().filter(|d| !d.is_empty());
        let digest = digest.ok_or(EnvelopeError::Statement("a subject has no digest"))?;
        for (algorithm, value) in digest {
            let value = value.as_str().ok_or(EnvelopeError::Statement("a digest is not a string"))?;
            let hex_lower =
                !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if algorithm == "sha256" && (value.len() != 64 || !hex_lower) {
                return Err(EnvelopeError::Statement("a sha256 digest is not 64 lowercase hex digits"));
            }
            if algorithm == "gitCommit" && !hex_lower {
                return Err(EnvelopeError::Statement("a gitCommit digest is not lowercase hex"));
            }
        }
    }
    if statement["predicateType"].as_str().is_none_or(str::is_empty) {
        return Err(EnvelopeError::Statement("predicateType is missing"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_builder_is_the_account_that_recorded() {
        assert_eq!(account_uri(Some("ci")), "urn:clearroom:account:ci");
        assert_eq!(account_uri(Some("lab one:")), "urn:clearroom:account:lab%20one%3A");
        assert_eq!(account_uri(None), "urn:clearroom:operator");
    }

    #[test]
    fn provenance_has_every_field_slsa_requires() {
        let statement = provenance(&Provenance {
            record_id: 4,
            name: "app.tar.gz",
            platform: "linux/amd64",
            sha256: &"0a".repeat(32),
            repository: "demo",
            repository_source: "https://git.example/demo.git",
            commit: &"1f".repeat(20),
            pin_id: 1,
            pin_label: "v1",
            account: Some("ci"),
            builder_label: "https://ci.example/runner/7",
            command: "make",
            toolchain: "rustc 1.90",
            notes: "",
            started_at: Some(1_700_000_000_000),
            finished_at: Some(1_700_000_060_000),
            recorded_at: 1_700_000_100_000,
        });
        check_statement(&statement).unwrap();
        let predicate = &statement["predicate"];
        assert_eq!(predicate["buildDefinition"]["buildType"], BUILD_TYPE);
        assert!(predicate["buildDefinition"]["externalParameters"].is_object());
        assert_eq!(
            predicate["buildDefinition"]["resolvedDependencies"][0]["uri"],
            format!("git+https://git.example/demo.git@{}", "1f".repeat(20))
        );
        assert_eq!(predicate["runDetails"]["builder"]["id"], "urn:clearroom:account:ci");
        assert_eq!(predicate["buildDefinition"]["internalParameters"]["builderLabel"], "https://ci.example/runner/7");
        assert_eq!(predicate["runDetails"]["metadata"]["startedOn"], "2023-11-14T22:13:20Z");
        assert_eq!(predicate["runDetails"]["metadata"]["finishedOn"], "2023-11-14T22:14:20Z");
    }

    #[test]
    fn statements_without_subjects_or_with_upper_case_digests_are_refused() {
        let mut statement = json!({
            "_type": STATEMENT_TYPE,
            "subject": [{ "name": "a", "digest": { "sha256": "AB".repeat(32) } }],
            "predicateType": "x",
        });
        assert!(check_statement(&statement).is_err());
        statement["subject"] = json!([]);
        assert!(check_statement(&statement).is_err());
        statement["subject"] = json!([{ "name": "a", "digest": { "sha256": "ab".repeat(32) } }]);
        check_statement(&statement).unwrap();
        statement["_type"] = json!("https://in-toto.io/Statement/v0.1");
        assert!(check_statement(&statement).is_err());
    }
}
