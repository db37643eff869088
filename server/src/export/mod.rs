//! Regulator exports: one zip bundle of the review records in a scope, proven against a signed
//! checkpoint, and its offline verifier. The format is `docs/bundle-format.md`.
//!
//! This module holds what the writer (`domain::exports`) and the verifier share: how a leaf is
//! read, which events a scope holds, and the summaries (coverage, sessions) computed from the
//! events, so that a bundle's CSV and JSON members can be checked against its events.

pub mod bundle;
pub mod compiled;
pub mod multiproof;
pub mod report;
pub mod sarif;
pub mod traceability;
pub mod verify;
pub mod writer;

use crate::audit::Action;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// The bundle format version (`manifest.json` `format`).
pub const FORMAT: &str = "clearroom-bundle/1";

/// The first line of the text the manifest's signature signs (never a checkpoint origin).
pub const SIGNATURE_HEADER: &str = "clearroom-bundle/1 manifest";

/// The text `manifest.sig` signs (as a C2SP signed note, with the log's key): the header, the
/// log's origin and the manifest's SHA-256, each on its own line.
pub fn signature_text(origin: &str, manifest_sha256: &str) -> String {
    format!("{SIGNATURE_HEADER}\n{origin}\nsha256:{manifest_sha256}\n")
}

/// A session's longest life (the guard ends every session 12 hours after sign-in).
pub const SESSION_MAX_MS: i64 = 12 * 3_600_000;

/// The members, in the order they are written (`manifest.json` and its signature last).
pub mod members {
    pub const EVENTS: &str = "events.jsonl";
    pub const PROOF: &str = "events.proof";
    pub const CHECKPOINT: &str = "checkpoint";
    pub const PREVIOUS_CHECKPOINT: &str = "previous-checkpoint";
    pub const CONSISTENCY: &str = "consistency.proof";
    pub const POLICY: &str = "policy";
    pub const LOG_KEY: &str = "keys/log.vkey";
    pub const ATTESTATION_KEY: &str = "keys/attestation.pem";
    pub const ATTESTATIONS: &str = "attestations.intoto.jsonl";
    pub const FINDINGS: &str = "findings.sarif";
    pub const COMMENTS: &str = "comments.json";
    pub const VERDICTS: &str = "verdicts.json";
    pub const GRANTS: &str = "grants.json";
    pub const SESSIONS: &str = "sessions.json";
    pub const COVERAGE: &str = "coverage.csv";
    pub const COMPILED: &str = "compiled.json";
    pub const REQUIREMENTS: &str = "requirements.json";
    pub const TRACEABILITY: &str = "traceability.csv";
    pub const REPORT: &str = "report.html";
    pub const MANIFEST: &str = "manifest.json";
    pub const SIGNATURE: &str = "manifest.sig";
}

/// What a regulator asked for. Every criterion given must hold (see `Scope::holds`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    /// Events naming one of these pins; empty: any pin (and events naming none).
    #[serde(default)]
    pub pins: Vec<i64>,
    /// Events by this person, and the grants made to them.
    #[serde(default)]
    pub reviewer: Option<String>,
    /// Events recorded at or after this time (milliseconds since the epoch).
    #[serde(default)]
    pub from_ms: Option<i64>,
    /// Events recorded before this time.
    #[serde(default)]
    pub until_ms: Option<i64>,
}

impl Scope {
    /// Whether an event belongs to the scope on its own. `reviewer_grants` are the ids of the
    /// grants made to the scope's reviewer (their extensions and revocations belong to it too).
    pub fn holds(&self, leaf: &Leaf, reviewer_grants: &HashSet<i64>) -> bool {
        let time = leaf.time_ms();
        if self.from_ms.is_some_and(|from| time < from) || self.until_ms.is_some_and(|until| time >= until) {
            return false;
        }
        if !self.pins.is_empty() && !leaf.pins().iter().any(|pin| self.pins.contains(pin)) {
            return false;
        }
        match &self.reviewer {
            None => true,
            Some(reviewer) => {
                leaf.actor.as_deref() == Some(reviewer.as_str())
                    || (leaf.action == "grant.create" && leaf.details["grantee"].as_str() == Some(reviewer.as_str()))
                    || (matches!(leaf.action.as_str(), "grant.extend" | "grant.revoke")
                        && leaf.details["grant_id"].as_i64().is_some_and(|id| reviewer_grants.contains(&id)))
            }
        }
    }

    /// A sign-in or sign-out by a person with events in the bundle, within the scope's time range
    /// widened by a session's longest life before it, is in the bundle too, so that
    /// `sessions.json` can say when each session began and ended.
    pub fn is_session_context(&self, leaf: &Leaf, actors: &HashSet<String>) -> bool {
        if !matches!(leaf.action.as_str(), "auth.login" | "auth.logout") {
            return false;
        }
        let time = leaf.time_ms();
        if self.from_ms.is_some_and(|from| time < from.saturating_sub(SESSION_MAX_MS))
            || self.until_ms.is_some_and(|until| time >= until)
        {
            return false;
        }
        leaf.actor.as_ref().is_some_and(|actor| actors.contains(actor))
    }

    /// As the manifest states it.
    pub fn statement(&self) -> bundle::ScopeStatement {
        bundle::ScopeStatement::from(self)
    }

    /// The scope in words, for pages and the report.
    pub fn describe(&self, previous: bool) -> String {
        let mut parts = Vec::new();
        if self.pins.is_empty() {
            parts.push("all pins".to_string());
        } else {
            let pins: Vec<String> = self.pins.iter().map(i64::to_string).collect();
            parts.push(format!("pin{} {}", if pins.len() == 1 { "" } else { "s" }, pins.join(", ")));
        }
        if let Some(reviewer) = &self.reviewer {
            parts.push(format!("by {reviewer}"));
        }
        match (self.from_ms, self.until_ms) {
            (Some(from), Some(until)) => {
                parts.push(format!("{} to {}", app::times::utc_text(from), app::times::utc_text(until)))
            }
            (Some(from), None) => parts.push(format!("from {}", app::times::utc_text(from))),
            (None, Some(until)) => parts.push(format!("until {}", app::times::utc_text(until))),
            (None, None) => parts.push("all time".into()),
        }
        if previous {
            parts.push("with a consistency proof".into());
        }
        parts.join("; ")
    }
}

/// An object of a v2 leaf.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
pub struct LeafObject {
    pub pin: i64,
    pub commit: Option<String>,
    pub path: String,
    pub blob: Option<String>,
    pub lines: Option<[u64; 2]>,
}

/// What the export reads of a leaf (v1 or v2; see `docs/audit-events.md`).
#[derive(Clone, Debug, Deserialize)]
pub struct Leaf {
    pub v: u32,
    #[serde(default)]
    pub prev: String,
    pub time: String,
    #[serde(default)]
    time_ms: Option<i64>,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub session: Option<String>,
    pub client: Option<String>,
    pub action: String,
    pub outcome: String,
    #[serde(default)]
    pub objects: Vec<LeafObject>,
    /// v1: the one pin an event names.
    #[serde(default)]
    pin: Option<i64>,
    #[serde(default)]
    pub details: serde_json::Value,
}

impl Leaf {
    pub fn parse(bytes: &[u8]) -> Option<Leaf> {
        serde_json::from_slice(bytes).ok()
    }

    /// When it was recorded, in milliseconds since the epoch (v1 carries it; v2's `time` has it
    /// to the millisecond).
    pub fn time_ms(&self) -> i64 {
        self.time_ms.or_else(|| app::times::parse(&self.time).ok()).unwrap_or(i64::MIN)
    }

    /// Every pin the event names.
    pub fn pins(&self) -> Vec<i64> {
        let mut pins: Vec<i64> = self.objects.iter().map(|o| o.pin).chain(self.pin).collect();
        pins.sort_unstable();
        pins.dedup();
        pins
    }

    /// The objects whose content the event showed a person (what coverage counts), by the one
    /// rule of `audit::Action::shows`; none for an event that failed or was refused, or that no
    /// person made.
    pub fn shown_files(&self) -> Vec<&LeafObject> {
        if self.outcome != "ok" || self.actor.is_none() {
            return Vec::new();
        }
        self.objects
            .iter()
            .enumerate()
            .filter(|(position, o)| Action::object_was_shown(&self.action, *position, &o.path, o.blob.is_some()))
            .map(|(_, o)| o)
            .collect()
    }
}

/// One row of `coverage.csv`: a file of a pin in scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoverageRow {
    pub pin: i64,
    pub path: String,
    /// Lines in the file at the pin (from the pin's index; empty when not indexed).
    pub lines: Option<u64>,
    pub views: u64,
    /// Sorted, without repeats (a vector: most files have one or two viewers).
    pub viewed_by: Vec<String>,
    pub first_viewed: Option<String>,
    pub last_viewed: Option<String>,
    /// Sorted, without repeats.
    pub reviewed_by: Vec<String>,
    /// What of the file was shown to reviewers (not a column: the report's figures, by the rule
    /// of the coverage page, `review::coverage`).
    pub shown_to_reviewers: crate::review::coverage::Shown,
    /// Lines with code in the pin's bundled compiled-code maps (`compiled::compiled_lines`).
    pub compiled_lines: Option<u64>,
}

pub const COVERAGE_HEADER: [&str; 9] =
    ["pin", "path", "lines", "views", "viewed_by", "first_viewed", "last_viewed", "reviewed_by", "compiled_lines"];

/// What the events say of files and sessions, accumulated event by event.
#[derive(Default)]
pub struct Summary {
    /// (pin, path) → the file's row.
    pub files: BTreeMap<(i64, String), CoverageRow>,
    /// (pin, path, reviewer) → marked reviewed (the last mark or unmark wins).
    marks: BTreeMap<(i64, String, String), bool>,
    /// Session fingerprint → what was done in it.
    pub sessions: BTreeMap<String, SessionSummary>,
    /// (pin, path, reviewer) → what of the file was shown to that reviewer.
    pub shown_by: BTreeMap<(i64, String, String), crate::review::coverage::Shown>,
    /// (pin, artifact SHA-256) → the digest of its compiled-code map, as the latest
    /// `artifact.compiled_map` event with `state: "done"` records it.
    pub maps: BTreeMap<(i64, String), String>,
    /// Pin → the list id and canonical SHA-256 of its requirement list, as the latest
    /// `requirements.import` event records them.
    pub requirement_lists: BTreeMap<i64, (i64, String)>,
    /// (actor, client) → the time of their latest sign-in so far.
    last_login: BTreeMap<(String, String), String>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct SessionSummary {
    pub session: String,
    pub actor: Option<String>,
    pub role: Option<String>,
    pub clients: BTreeSet<String>,
    pub signed_in: Option<String>,
    pub signed_out: Option<String>,
    pub first_event: String,
    pub last_event: String,
    pub events: u64,
    /// Distinct `pin:path` of the files shown in the session.
    pub files_opened: BTreeSet<String>,
}

impl Summary {
    pub fn add(&mut self, leaf: &Leaf) {
        for object in leaf.shown_files() {
            let row = self.files.entry((object.pin, object.path.clone())).or_insert_with(|| CoverageRow {
                pin: object.pin,
                path: object.path.clone(),
                ..CoverageRow::default()
            });
            row.views += 1;
            if let Some(actor) = &leaf.actor {
                insert_sorted(&mut row.viewed_by, actor);
            }
            if leaf.role.as_deref() == Some("reviewer") {
                let lines = object.lines.map(|[first, last]| (first, last));
                row.shown_to_reviewers.add(lines);
                if let Some(actor) = &leaf.actor {
                    self.shown_by.entry((object.pin, object.path.clone(), actor.clone())).or_default().add(lines);
                }
            }
            if row.first_viewed.is_none() {
                row.first_viewed = Some(leaf.time.clone());
            }
            row.last_viewed = Some(leaf.time.clone());
        }
        if leaf.outcome == "ok" && leaf.action == "artifact.compiled_map" && leaf.details["state"] == "done" {
            let sha = leaf.details["sha256"].as_str();
            let digest = leaf.details["map_sha256"].as_str();
            if let (Some(object), Some(sha), Some(digest)) = (leaf.objects.first(), sha, digest) {
                self.maps.insert((object.pin, sha.to_string()), digest.to_string());
            }
        }
        if leaf.outcome == "ok" && leaf.action == "requirements.import" {
            let list = leaf.details["list_id"].as_i64();
            let digest = leaf.details["sha256"].as_str();
            if let (Some(object), Some(list), Some(digest)) = (leaf.objects.first(), list, digest) {
                self.requirement_lists.insert(object.pin, (list, digest.to_string()));
            }
        }
        if leaf.outcome == "ok" && matches!(leaf.action.as_str(), "review.mark" | "review.unmark") {
            if let (Some(object), Some(actor)) = (leaf.objects.first(), &leaf.actor) {
                self.marks.insert((object.pin, object.path.clone(), actor.clone()), leaf.action == "review.mark");
            }
        }
        // A sign-in is recorded before its session has an id: it is tied to the first session
        // of the same person from the same address that follows it.
        if leaf.action == "auth.login" && leaf.outcome == "ok" {
            if let (Some(actor), Some(client)) = (&leaf.actor, &leaf.client) {
                self.last_login.insert((actor.clone(), client.clone()), leaf.time.clone());
            }
        }
        if let Some(session) = leaf.session.as_deref().filter(|s| *s != "api-token") {
            let last_login = &mut self.last_login;
            let entry = self.sessions.entry(session.to_string()).or_insert_with(|| {
                let key = (leaf.actor.clone().unwrap_or_default(), leaf.client.clone().unwrap_or_default());
                SessionSummary {
                    session: session.to_string(),
                    actor: leaf.actor.clone(),
                    role: leaf.role.clone(),
                    signed_in: last_login.remove(&key),
                    first_event: leaf.time.clone(),
                    ..SessionSummary::default()
                }
            });
            entry.events += 1;
            entry.last_event = leaf.time.clone();
            if let Some(client) = &leaf.client {
                entry.clients.insert(client.clone());
            }
            if leaf.action == "auth.logout" {
                entry.signed_out = Some(leaf.time.clone());
            }
            for object in leaf.shown_files() {
                entry.files_opened.insert(format!("{}:{}", object.pin, object.path));
            }
        }
    }

    /// Folds the marks into the rows (after the last event).
    pub fn finish(&mut self) {
        for ((pin, path, reviewer), reviewed) in std::mem::take(&mut self.marks) {
            if reviewed {
                let row = self.files.entry((pin, path.clone())).or_insert_with(|| CoverageRow {
                    pin,
                    path,
                    ..CoverageRow::default()
                });
                insert_sorted(&mut row.reviewed_by, &reviewer);
            }
        }
    }
}

/// Adds `name` to a sorted list of names unless it is there.
fn insert_sorted(names: &mut Vec<String>, name: &str) {
    if let Err(at) = names.binary_search_by(|n| n.as_str().cmp(name)) {
        names.insert(at, name.to_string());
    }
}

/// Guards a CSV cell against formula injection (a leading `=`, `+`, `-`, `@`, tab or CR gets `'`).
pub fn csv_cell(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// Undoes `csv_cell` (for the verifier's comparison).
pub fn csv_uncell(text: &str) -> &str {
    match text.strip_prefix('\'') {
        Some(rest) if matches!(rest.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r')) => rest,
        _ => text,
    }
}

impl CoverageRow {
    pub fn record(&self) -> [String; 9] {
        let join = |names: &[String]| names.join(" ");
        [
            self.pin.to_string(),
            csv_cell(&self.path),
            self.lines.map(|l| l.to_string()).unwrap_or_default(),
            self.views.to_string(),
            csv_cell(&join(&self.viewed_by)),
            self.first_viewed.clone().unwrap_or_default(),
            self.last_viewed.clone().unwrap_or_default(),
            csv_cell(&join(&self.reviewed_by)),
            self.compiled_lines.map(|l| l.to_string()).unwrap_or_default(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_quoted_and_read_back() {
        for text in ["=1+1", "+x", "-2", "@SUM(A1)", "\tx", "\rx"] {
            let cell = csv_cell(text);
            assert!(cell.starts_with('\''), "{cell:?}");
            assert_eq!(csv_uncell(&cell), text);
        }
        assert_eq!(csv_cell("src/main.rs"), "src/main.rs");
        assert_eq!(csv_uncell("'plain"), "'plain");
    }

    #[test]
    fn scope_criteria_all_hold() {
        let leaf = |json: &str| Leaf::parse(json.as_bytes()).unwrap();
        let view = leaf(
            r#"{"v":2,"prev":"","time":"2026-11-28T10:00:00.000Z","actor":"alice","role":"reviewer","session":"00","client":"::1","action":"blob.view","outcome":"ok","objects":[{"pin":3,"commit":null,"path":"a","blob":"b","lines":null}],"query":null,"details":{}}"#,
        );
        let none = HashSet::new();
        let at = app::times::parse("2026-11-28T10:00:00Z").unwrap();
        assert!(Scope::default().holds(&view, &none));
        assert!(Scope { pins: vec![3], ..Scope::default() }.holds(&view, &none));
        assert!(!Scope { pins: vec![4], ..Scope::default() }.holds(&view, &none));
        assert!(!Scope { reviewer: Some("bob".into()), ..Scope::default() }.holds(&view, &none));
        assert!(Scope { from_ms: Some(at), until_ms: Some(at + 1), ..Scope::default() }.holds(&view, &none));
        assert!(!Scope { until_ms: Some(at), ..Scope::default() }.holds(&view, &none));
        let grant = leaf(
            r#"{"v":2,"prev":"","time":"2026-11-28T10:00:00.000Z","actor":"staff","role":"staff","session":"01","client":"::1","action":"grant.create","outcome":"ok","objects":[],"query":null,"details":{"grant_id":7,"grantee":"bob"}}"#,
        );
        assert!(Scope { reviewer: Some("bob".into()), ..Scope::default() }.holds(&grant, &none));
        let scope = Scope { pins: vec![1, 2], reviewer: Some("bob".into()), from_ms: Some(at), until_ms: None };
        assert_eq!(scope.statement().scope(), Some(scope.clone()));
        assert_eq!(scope.describe(false), "pins 1, 2; by bob; from 2026-11-28 10:00 UTC");
    }
}
