//! The bundle's records, typed once: one `Serialize + Deserialize` struct per JSON member (and per
//! line of `events.jsonl`), written by `domain::exports` and read back by `verify`, so that the
//! writer and the verifier cannot disagree about a field. `docs/bundle-format.md` describes the
//! same shapes for independent verifiers.
//!
//! Fields are declared in the order they are written (by name, as the format has always been
//! written), so a bundle's bytes do not depend on this code's layout; a reader accepts fields it
//! does not know.

use super::Scope;
use serde::{Deserialize, Serialize};

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The checkpoint every event is proven against.
    pub checkpoint: CheckpointRef,
    pub created: String,
    /// How many events `events.jsonl` holds.
    pub events: u64,
    pub export_id: i64,
    /// `clearroom-bundle/1`.
    pub format: String,
    pub keys: Keys,
    /// Every member but the manifest and its signature, in the order written.
    pub members: Vec<MemberRecord>,
    pub pins: Vec<ManifestPin>,
    /// The checkpoint the regulator supplied, when the bundle proves the log extends it.
    pub previous_checkpoint: Option<PreviousCheckpoint>,
    /// `multi-leaf/1`.
    pub proof: String,
    pub requested_by: Option<String>,
    pub scope: ScopeStatement,
    pub server_version: String,
}

/// A checkpoint as the manifest names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckpointRef {
    pub origin: String,
    /// Lowercase hex of the root hash.
    pub root: String,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousCheckpoint {
    pub root: String,
    pub size: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Keys {
    pub attestation: AttestationKeyRef,
    pub log: LogKeyRef,
    pub witnesses: Vec<WitnessKeyRef>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationKeyRef {
    pub keyid: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogKeyRef {
    pub fingerprint: String,
    pub vkey: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WitnessKeyRef {
    pub name: String,
    pub vkey: String,
}

/// A member as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// A pin in scope, as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestPin {
    pub commit: String,
    pub id: i64,
    pub label: String,
    pub repository: String,
}

/// The scope as the manifest states it (times as RFC 3339 text).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeStatement {
    pub from: Option<String>,
    pub pins: Vec<i64>,
    pub reviewer: Option<String>,
    pub until: Option<String>,
}

impl From<&Scope> for ScopeStatement {
    fn from(scope: &Scope) -> ScopeStatement {
        ScopeStatement {
            from: scope.from_ms.map(app::times::rfc3339_millis),
            pins: scope.pins.clone(),
            reviewer: scope.reviewer.clone(),
            until: scope.until_ms.map(app::times::rfc3339_millis),
        }
    }
}

impl ScopeStatement {
    /// The scope it states; `None` when a time does not read as one.
    pub fn scope(&self) -> Option<Scope> {
        let time = |text: &Option<String>| match text {
            None => Some(None),
            Some(text) => app::times::parse(text).ok().map(Some),
        };
        Some(Scope {
            pins: self.pins.clone(),
            reviewer: self.reviewer.clone(),
            from_ms: time(&self.from)?,
            until_ms: time(&self.until)?,
        })
    }
}

/// One line of `events.jsonl`: a log entry's exact leaf bytes (base64) and its stored hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLine {
    pub index: u64,
    /// Standard base64 of the leaf's bytes.
    pub leaf: String,
    /// Lowercase hex of the leaf hash as stored.
    pub leaf_hash: String,
}

/// One thread of `comments.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThreadRecord {
    /// The first comment, then the replies.
    pub comments: Vec<CommentRecord>,
    /// A finding's CWE ids (absent for none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwe: Vec<u32>,
    pub id: i64,
    /// `comment` or `finding` (private notes are never exported).
    pub kind: String,
    /// `[first, last]`, or null for a whole file or the whole pin.
    pub lines: Option<[u32; 2]>,
    /// "" for a comment on the whole pin.
    pub path: String,
    pub pin: i64,
    /// The requirement ids the thread's region is traced to (absent for none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<String>,
    pub severity: Option<String>,
    pub state: String,
    pub states: Vec<StateRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentRecord {
    pub author: String,
    pub created: String,
    /// The index of the `comment.create` event (null for a comment shown only as the context of a
    /// reply in scope).
    pub event: Option<u64>,
    pub id: i64,
    pub role: String,
    pub versions: Vec<VersionRecord>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionRecord {
    pub author: String,
    pub body: String,
    pub created: String,
    pub version: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateRecord {
    pub at: String,
    pub by: Option<String>,
    pub fixed_pin: Option<i64>,
    pub reason: Option<String>,
    pub state: String,
}

/// One verdict of `verdicts.json`. `coverage`, `open_findings` and `binaries` are the figures the
/// verdict bound when it was given, as its `verdict.submit` event recorded them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerdictRecord {
    pub binaries: serde_json::Value,
    pub commit: String,
    pub coverage: serde_json::Value,
    pub created: String,
    pub id: i64,
    pub open_findings: serde_json::Value,
    pub pin: i64,
    pub reviewer: String,
    pub summary: String,
    pub summary_sha256: String,
    pub supersedes: Option<i64>,
    pub verdict: String,
}

/// One grant of `grants.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRecord {
    pub ends_at: String,
    pub granted_by: Option<String>,
    pub id: i64,
    pub pin: i64,
    pub pin_label: String,
    pub reviewer: String,
    pub revoked_at: Option<String>,
    pub starts_at: String,
}

/// `findings.sarif`, as far as the bundle format fixes it: SARIF 2.1.0 with one run per pin and one
/// result per finding (`sarif.rs` writes it, with what SARIF viewers need besides).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SarifLog {
    #[serde(rename = "$schema")]
    pub schema: String,
    pub runs: Vec<SarifRun>,
    pub version: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifRun {
    pub automation_details: serde_json::Value,
    pub column_kind: String,
    pub properties: serde_json::Value,
    pub results: Vec<SarifResult>,
    /// The CWE taxonomy, holding the weaknesses the run's results name (absent when none does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomies: Option<serde_json::Value>,
    pub tool: serde_json::Value,
    pub version_control_provenance: serde_json::Value,
}

/// One finding as a SARIF result: what the verifier checks against `comments.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifResult {
    /// `fail`, or `pass` for a fixed or resolved finding.
    pub kind: String,
    /// `error`, `warning`, `note`, or `none` with `pass`.
    pub level: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locations: Option<Vec<SarifLocation>>,
    pub message: SarifMessage,
    pub partial_fingerprints: std::collections::BTreeMap<String, String>,
    pub properties: SarifResultProperties,
    pub rule_id: String,
    pub rule_index: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suppressions: Option<Vec<SarifSuppression>>,
    /// The finding's CWE ids, as references into the run's CWE taxonomy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxa: Option<Vec<SarifTaxonReference>>,
}

/// A weakness a result names: its CWE id, its index among the taxonomy's taxa, and the taxonomy.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifTaxonReference {
    pub id: String,
    pub index: usize,
    pub tool_component: SarifComponentReference,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SarifComponentReference {
    pub index: usize,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SarifMessage {
    pub markdown: String,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SarifResultProperties {
    pub created: String,
    pub replies: usize,
    pub reviewer: String,
    pub severity: Option<String>,
    pub state: String,
    /// The finding's thread id in `comments.json`.
    pub thread: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifLocation {
    pub physical_location: SarifPhysicalLocation,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifPhysicalLocation {
    pub artifact_location: SarifArtifactLocation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<SarifRegion>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SarifArtifactLocation {
    pub uri: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SarifRegion {
    pub end_line: u32,
    pub start_line: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SarifSuppression {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    pub kind: String,
    pub status: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_reads_back_as_the_manifest_states_it() {
        let scope =
            Scope { pins: vec![3, 5], reviewer: Some("ann".into()), from_ms: Some(1_700_000_000_000), until_ms: None };
        let statement = ScopeStatement::from(&scope);
        assert_eq!(statement.from.as_deref(), Some("2023-11-14T22:13:20.000Z"));
        assert_eq!(statement.scope(), Some(scope));
        let bad = ScopeStatement { from: Some("yesterday".into()), ..ScopeStatement::default() };
        assert_eq!(bad.scope(), None);
    }

    #[test]
    fn records_are_written_with_their_fields_in_name_order() {
        let line = EventLine { index: 4, leaf: "e30=".into(), leaf_hash: "ab".into() };
        assert_eq!(serde_json::to_string(&line).unwrap(), r#"{"index":4,"leaf":"e30=","leaf_hash":"ab"}"#);
        let region = SarifRegion { end_line: 5, start_line: 2 };
        assert_eq!(serde_json::to_string(&region).unwrap(), r#"{"endLine":5,"startLine":2}"#);
    }
}
