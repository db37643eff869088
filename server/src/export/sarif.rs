//! Findings as SARIF 2.1.0, and the comment threads as `comments.json`, written as the typed
//! records of `bundle`.
//!
//! One run per pin (its repository and commit in `versionControlProvenance`), one result per
//! finding. Severity maps to `level` (critical and high: error; medium: warning; low and info:
//! note); the thread's state maps to `kind` or `suppressions` (see `docs/bundle-format.md`).

use super::bundle::*;
use crate::store::pins::PinRecord;
use app::model::{CommentKind, Severity, Thread, ThreadState};
use serde_json::json;
use std::collections::HashMap;

pub const SCHEMA: &str = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The rule every finding reports under.
pub const RULE_ID: &str = "clearroom/finding";

/// The `partialFingerprints` key; the value is `<repository>/<thread id>`, stable across exports.
pub const FINGERPRINT: &str = "clearroomFinding/v1";

pub fn level(severity: Option<Severity>) -> &'static str {
    match severity {
        Some(Severity::Critical | Severity::High) => "error",
        Some(Severity::Medium) | None => "warning",
        Some(Severity::Low | Severity::Info) => "note",
    }
}

/// A finding's state as SARIF says it: (kind, suppression status).
pub fn disposition(state: ThreadState) -> (&'static str, Option<&'static str>) {
    match state {
        ThreadState::Open | ThreadState::Responded | ThreadState::Accepted => ("fail", None),
        ThreadState::Disputed => ("fail", Some("underReview")),
        ThreadState::WontFix => ("fail", Some("accepted")),
        ThreadState::Withdrawn => ("fail", Some("accepted")),
        ThreadState::Fixed | ThreadState::Resolved => ("pass", None),
    }
}

/// A repository's source as a URI (a path becomes a `file:` URI).
pub fn repository_uri(source: &str, name: &str) -> String {
    if source.contains("://") {
        return source.replace(' ', "%20");
    }
    if source.starts_with('/') {
        return format!("file://{}", source.replace('%', "%25").replace(' ', "%20"));
    }
    format!("urn:clearroom:repository:{name}")
}

/// A relative path as a URI reference (percent-encoding what a URI may not hold).
pub fn path_uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b'!'
            | b'$'
            | b'&'
            | b'\''
            | b'('
            | b')'
            | b'*'
            | b'+'
            | b','
            | b';'
            | b'='
            | b':'
            | b'@' => out.push(byte as char),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

pub fn findings(
    threads: &[Thread],
    pins: &[PinRecord],
    repositories: &HashMap<i64, String>,
    version: &str,
) -> SarifLog {
    let runs = pins
        .iter()
        .map(|pin| {
            let source = repositories.get(&pin.repository_id).map(String::as_str).unwrap_or("");
            let findings = || threads.iter().filter(|t| t.kind == CommentKind::Finding && t.pin.get() == pin.id);
            let weaknesses = run_taxa(findings());
            let ids: Vec<u32> = weaknesses.iter().map(|w| w.id).collect();
            let results = findings().map(|thread| result(thread, &pin.repository, &ids)).collect();
            let mut driver = json!({
                "name": "Clearroom",
                "version": version,
                "rules": [{
                    "id": RULE_ID,
                    "name": "ReviewerFinding",
                    "shortDescription": {"text": "A finding recorded by a reviewer in a transparency centre"},
                }],
            });
            let taxonomies = (!weaknesses.is_empty()).then(|| {
                driver["supportedTaxonomies"] = json!([{"name": TAXONOMY, "index": 0}]);
                json!([{
                    "name": TAXONOMY,
                    "version": crate::review::cwe::VERSION,
                    "organization": "MITRE",
                    "shortDescription": {"text": "The MITRE Common Weakness Enumeration"},
                    "taxa": weaknesses.iter().map(|w| json!({"id": w.id.to_string(), "name": w.name})).collect::<Vec<_>>(),
                }])
            });
            SarifRun {
                taxonomies,
                tool: json!({ "driver": driver }),
                automation_details: json!({"id": format!("clearroom/pin-{}/", pin.id)}),
                version_control_provenance: json!([{
                    "repositoryUri": repository_uri(source, &pin.repository),
                    "revisionId": pin.commit_id,
                    "revisionTag": pin.label,
                }]),
                column_kind: "utf16CodeUnits".into(),
                results,
                properties: json!({"pin": pin.id, "repository": pin.repository, "label": pin.label}),
            }
        })
        .collect();
    SarifLog { schema: SCHEMA.into(), runs, version: "2.1.0".into() }
}

/// The SARIF location of a thread's place (none for a comment on the whole pin).
pub fn location(path: &str, lines: Option<[u32; 2]>) -> Option<Vec<SarifLocation>> {
    (!path.is_empty()).then(|| {
        vec![SarifLocation {
            physical_location: SarifPhysicalLocation {
                artifact_location: SarifArtifactLocation { uri: path_uri(path) },
                region: lines.map(|[first, last]| SarifRegion { start_line: first, end_line: last }),
            },
        }]
    })
}

/// A finding's `(kind, level, suppression status)` by its severity and state.
pub fn classify(severity: Option<Severity>, state: ThreadState) -> (&'static str, &'static str, Option<&'static str>) {
    let (kind, suppression) = disposition(state);
    (kind, if kind == "pass" { "none" } else { level(severity) }, suppression)
}

/// The name of the CWE taxonomy in a run.
pub const TAXONOMY: &str = "CWE";

/// The CWE ids the findings of a run name, in order: the taxa of its taxonomy.
fn run_taxa<'a>(findings: impl Iterator<Item = &'a Thread>) -> Vec<app::model::Weakness> {
    let mut taxa: Vec<app::model::Weakness> = findings.flat_map(|t| t.cwe.iter().cloned()).collect();
    taxa.sort_by_key(|w| w.id);
    taxa.dedup_by_key(|w| w.id);
    taxa
}

/// A finding's references into its run's taxonomy (none when it names no weakness).
pub fn taxa_of(cwe: &[u32], taxa: &[u32]) -> Option<Vec<SarifTaxonReference>> {
    (!cwe.is_empty()).then(|| {
        cwe.iter()
            .map(|id| SarifTaxonReference {
                id: id.to_string(),
                index: taxa.iter().position(|t| t == id).unwrap_or_default(),
                tool_component: SarifComponentReference { index: 0, name: TAXONOMY.into() },
            })
            .collect()
    })
}

fn result(thread: &Thread, repository: &str, taxa: &[u32]) -> SarifResult {
    let body = &thread.root.current().body;
    let title = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("(no text)").trim();
    let (kind, level, suppression) = classify(thread.severity, thread.state);
    let suppressions = suppression.map(|status| {
        let reason = thread.states.last().and_then(|s| s.reason.clone()).filter(|r| !r.is_empty());
        vec![SarifSuppression { justification: reason, kind: "external".into(), status: status.into() }]
    });
    SarifResult {
        kind: kind.into(),
        level: level.into(),
        locations: location(thread.path.as_str(), thread.lines.map(|l| [l.first, l.last])),
        message: SarifMessage { markdown: body.clone(), text: title.into() },
        partial_fingerprints: [(FINGERPRINT.to_string(), format!("{repository}/{}", thread.id))].into(),
        properties: SarifResultProperties {
            created: app::times::rfc3339_millis(thread.root.created_at_ms),
            replies: thread.replies.len(),
            reviewer: thread.root.author.clone(),
            severity: thread.severity.map(|s| s.as_str().to_string()),
            state: thread.state.as_str().into(),
            thread: thread.id,
        },
        rule_id: RULE_ID.into(),
        rule_index: 0,
        suppressions,
        taxa: taxa_of(&thread.cwe.iter().map(|w| w.id).collect::<Vec<_>>(), taxa),
    }
}

/// Every thread in scope with each comment's versions, state history and the index of the event
/// that created it (null for a comment shown only as the context of a reply in scope).
pub fn comments_json(threads: &[Thread], events: &HashMap<i64, u64>) -> Vec<ThreadRecord> {
    let comment = |c: &app::model::CommentView| CommentRecord {
        author: c.author.clone(),
        created: app::times::rfc3339_millis(c.created_at_ms),
        event: events.get(&c.id).copied(),
        id: c.id,
        role: c.author_role.as_str().into(),
        versions: c
            .versions
            .iter()
            .map(|v| VersionRecord {
                author: v.author.clone(),
                body: v.body.clone(),
                created: app::times::rfc3339_millis(v.created_at_ms),
                version: v.version,
            })
            .collect(),
    };
    threads
        .iter()
        .map(|t| ThreadRecord {
            comments: std::iter::once(&t.root).chain(&t.replies).map(comment).collect(),
            cwe: t.cwe.iter().map(|w| w.id).collect(),
            id: t.id,
            kind: t.kind.as_str().into(),
            lines: t.lines.map(|l| [l.first, l.last]),
            path: t.path.as_str().into(),
            pin: t.pin.get(),
            requirements: t.requirements.clone(),
            severity: t.severity.map(|s| s.as_str().to_string()),
            state: t.state.as_str().into(),
            states: t
                .states
                .iter()
                .map(|s| StateRecord {
                    at: app::times::rfc3339_millis(s.at_ms),
                    by: s.by.clone(),
                    fixed_pin: s.fixed_pin.map(|p| p.get()),
                    reason: s.reason.clone(),
                    state: s.state.as_str().into(),
                })
                .collect(),
        })
        .collect()
}
