//! Findings as SARIF 2.1.0, and the comment threads as `comments.json`.
//!
//! One run per pin (its repository and commit in `versionControlProvenance`), one result per
//! finding. Severity maps to `level` (critical and high: error; medium: warning; low and info:
//! note); the thread's state maps to `kind` or `suppressions` (see `docs/bundle-format.md`).

use crate::store::pins::PinRecord;
use app::model::{CommentKind, Severity, Thread, ThreadState};
use serde_json::{json, Value};
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

pub fn findings(threads: &[Thread], pins: &[PinRecord], repositories: &HashMap<i64, String>, version: &str) -> Value {
    let runs: Vec<Value> = pins
        .iter()
        .map(|pin| {
            let source = repositories.get(&pin.repository_id).map(String::as_str).unwrap_or("");
            let results: Vec<Value> = threads
                .iter()
                .filter(|t| t.kind == CommentKind::Finding && t.pin.get() == pin.id)
                .map(|thread| result(thread, &pin.repository))
                .collect();
            json!({
                "tool": {"driver": {
                    "name": "Clearroom",
                    "version": version,
                    "rules": [{
                        "id": RULE_ID,
                        "name": "ReviewerFinding",
                        "shortDescription": {"text": "A finding recorded by a reviewer in a transparency centre"},
                    }],
                }},
                "automationDetails": {"id": format!("clearroom/pin-{}/", pin.id)},
                "versionControlProvenance": [{
                    "repositoryUri": repository_uri(source, &pin.repository),
                    "revisionId": pin.commit_id,
                    "revisionTag": pin.label,
                }],
                "columnKind": "utf16CodeUnits",
                "results": results,
                "properties": {"pin": pin.id, "repository": pin.repository, "label": pin.label},
            })
        })
        .collect();
    json!({"$schema": SCHEMA, "version": "2.1.0", "runs": runs})
}

fn result(thread: &Thread, repository: &str) -> Value {
    let body = &thread.root.current().body;
    let title = body.lines().find(|l| !l.trim().is_empty()).unwrap_or("(no text)").trim();
    let (kind, suppression) = disposition(thread.state);
    let mut result = json!({
        "ruleId": RULE_ID,
        "ruleIndex": 0,
        "kind": kind,
        "level": if kind == "pass" { "none" } else { level(thread.severity) },
        "message": {"text": title, "markdown": body},
        "partialFingerprints": {FINGERPRINT: format!("{repository}/{}", thread.id)},
        "properties": {
            "thread": thread.id,
            "reviewer": thread.root.author,
            "severity": thread.severity.map(|s| s.as_str()),
            "state": thread.state.as_str(),
            "created": app::times::rfc3339_millis(thread.root.created_at_ms),
            "replies": thread.replies.len(),
        },
    });
    if !thread.path.as_str().is_empty() {
        let mut physical = json!({"artifactLocation": {"uri": path_uri(thread.path.as_str())}});
        if let Some(lines) = thread.lines {
            physical["region"] = json!({"startLine": lines.first, "endLine": lines.last});
        }
        result["locations"] = json!([{"physicalLocation": physical}]);
    }
    if let Some(status) = suppression {
        let last = thread.states.last();
        let mut entry = json!({"kind": "external", "status": status});
        if let Some(reason) = last.and_then(|s| s.reason.as_deref()).filter(|r| !r.is_empty()) {
            entry["justification"] = json!(reason);
        }
        result["suppressions"] = json!([entry]);
    }
    result
}

/// Every thread in scope with each comment's versions, state history and the index of the event
/// that created it (null for a comment shown only as the context of a reply in scope).
pub fn comments_json(threads: &[Thread], events: &HashMap<i64, u64>) -> Value {
    let comment = |c: &app::model::CommentView| {
        json!({
            "id": c.id,
            "author": c.author,
            "role": c.author_role.as_str(),
            "created": app::times::rfc3339_millis(c.created_at_ms),
            "event": events.get(&c.id),
            "versions": c.versions.iter().map(|v| json!({
                "version": v.version,
                "author": v.author,
                "created": app::times::rfc3339_millis(v.created_at_ms),
                "body": v.body,
            })).collect::<Vec<_>>(),
        })
    };
    Value::Array(
        threads
            .iter()
            .map(|t| {
                json!({
                    "id": t.id,
                    "pin": t.pin.get(),
                    "path": t.path.as_str(),
                    "lines": t.lines.map(|l| [l.first, l.last]),
                    "kind": t.kind.as_str(),
                    "severity": t.severity.map(|s| s.as_str()),
                    "state": t.state.as_str(),
                    "states": t.states.iter().map(|s| json!({
                        "state": s.state.as_str(),
                        "reason": s.reason,
                        "fixed_pin": s.fixed_pin.map(|p| p.get()),
                        "by": s.by,
                        "at": app::times::rfc3339_millis(s.at_ms),
                    })).collect::<Vec<_>>(),
                    "comments": std::iter::once(&t.root).chain(&t.replies).map(comment).collect::<Vec<_>>(),
                })
            })
            .collect(),
    )
}
