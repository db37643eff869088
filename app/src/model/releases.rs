//! Releases and what they are held to: a repository's release policy.

use super::Severity;
use serde::{Deserialize, Serialize};

/// The rules a release must meet before supervisors may sign it, and how many of which
/// supervisors must (parsed and checked by the server; `docs/releases.md`). A rule not set is
/// `None` (or 0, `false`) and asks nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleasePolicy {
    /// Distinct builder accounts whose recorded build of each artifact has its hash.
    pub reproduced_by: u32,
    /// One of those builds must be the room's own.
    pub reproduced_in_room: bool,
    /// At least this many "no objection" verdicts, and no "objection".
    pub verdicts_no_objection: Option<u32>,
    /// No open finding at or above this severity.
    pub max_open_findings_at: Option<Severity>,
    /// Reviewed lines of each artifact's compiled code, in whole percent of its compiled lines.
    pub compiled_reviewed_percent: Option<u32>,
    /// Whether the public log's entries name the reviewers whose verdicts count.
    pub reviewer_names_public: bool,
    pub supervisors: Supervisors,
}

/// `quorum` of `names` (sorted, distinct) must sign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Supervisors {
    pub quorum: u32,
    pub names: Vec<String>,
}

/// A repository's release policy as set: its canonical JSON (`docs/releases.md`) and digest, the
/// document as written, who set it and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleasePolicyView {
    pub repository: String,
    pub policy: ReleasePolicy,
    /// SHA-256 of the canonical JSON, hex.
    pub sha256: String,
    /// The document as staff wrote it (TOML or JSON).
    pub written: String,
    pub set_by: Option<String>,
    pub set_at_ms: i64,
}

/// One artifact of a release: what ships, by name, platform and hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReleaseArtifact {
    pub name: String,
    pub platform: String,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
}

/// A release staff propose for a pin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewRelease {
    pub version: String,
    pub artifacts: Vec<ReleaseArtifact>,
}

/// Where a release stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ReleaseState {
    /// Waiting for the rules or the supervisors.
    Proposed,
    /// The policy's quorum of supervisors signed.
    Authorised,
    /// A supervisor objected; it is not authorised.
    Objected,
    /// A newer dossier of the same version replaced this one.
    Replaced,
}

impl ReleaseState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseState::Proposed => "proposed",
            ReleaseState::Authorised => "authorised",
            ReleaseState::Objected => "objected",
            ReleaseState::Replaced => "replaced",
        }
    }
}

/// One rule of the policy, as the dossier froze it: met or not, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleOutcome {
    pub rule: String,
    pub met: bool,
    pub reason: String,
}

/// A supervisor's signature or objection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseDecision {
    pub supervisor: String,
    pub keyid: String,
    /// `true`: signed; `false`: objected.
    pub signed: bool,
    pub reason: Option<String>,
    pub decided_at_ms: i64,
}

/// A release: what it ships, its dossier's rules, and the supervisors' decisions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ReleaseView {
    pub id: i64,
    pub repository: String,
    pub pin_id: i64,
    pub pin_label: String,
    pub commit: String,
    pub version: String,
    pub artifacts: Vec<ReleaseArtifact>,
    pub state: ReleaseState,
    /// Every rule, the supervisors' last (met once their quorum has signed).
    pub rules: Vec<RuleOutcome>,
    /// Every rule but the supervisors' was met when the dossier was frozen: supervisors may sign.
    pub ready_for_supervisors: bool,
    pub policy_sha256: String,
    /// SHA-256 of the dossier (the statement's exact bytes).
    pub dossier_sha256: String,
    pub decisions: Vec<ReleaseDecision>,
    pub replaces: Option<i64>,
    pub replaced_by: Option<i64>,
    pub proposed_by: Option<String>,
    pub proposed_at_ms: i64,
    pub authorised_at_ms: Option<i64>,
}

/// A supervisor's registered public key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SupervisorKey {
    pub username: String,
    /// The DSSE key id: SHA-256 of the key's SubjectPublicKeyInfo DER, hex.
    pub keyid: String,
    /// The key as registered: a C2SP note verifier key line.
    pub vkey: String,
    pub registered_at_ms: i64,
}

/// An artifact of an authorised release, as the public page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicArtifact {
    pub name: String,
    pub platform: String,
    pub sha256: String,
    /// Distinct builder accounts that recorded its hash; whether the room was one.
    pub builders: u32,
    pub room: bool,
}

/// An authorised release, as the public page shows it (from its entry in the public log).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicRelease {
    pub index: u64,
    pub entry_id: String,
    pub repository: String,
    pub version: String,
    pub commit: String,
    pub artifacts: Vec<PublicArtifact>,
    pub policy_sha256: String,
    pub quorum: u32,
    /// The supervisors the policy names.
    pub supervisors: Vec<String>,
    /// Key ids of the supervisors who signed.
    pub signers: Vec<String>,
    pub authorised_at_ms: i64,
}

/// The public releases page: the authorised releases, and a file checked against the public log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicReleases {
    pub releases: Vec<PublicRelease>,
    /// The SHA-256 asked about, with the public log's entries naming it.
    pub checked: Option<PublicCheck>,
    /// The public log's verifier key (a vkey line), to check its checkpoints and receipts.
    pub log_key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicCheck {
    pub sha256: String,
    /// The releases naming it (index, version, repository, entry id).
    pub releases: Vec<(u64, String, String, String)>,
    /// Entries naming it that are not releases (statements registered by issuers).
    pub other_entries: u32,
}

/// An artifact recorded for a pin, as the form to propose a release offers it: one hash of it and
/// the builder accounts that recorded that hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedArtifact {
    pub artifact: ReleaseArtifact,
    pub builders: Vec<String>,
    /// Every builder of this name and platform recorded this hash (not a mismatch).
    pub agreed: bool,
}

/// A pin's releases page (staff, regulators, supervisors): the repository's policy, each release
/// newest first with its rules and decisions, and the controls the viewer may use.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PinReleasesPage {
    pub pin: super::PinSummary,
    pub policy: Option<ReleasePolicyView>,
    pub releases: Vec<ReleaseView>,
    /// Staff may propose a release; the artifacts recorded for the pin are offered.
    pub can_propose: bool,
    pub recorded: Vec<RecordedArtifact>,
    /// The signed-in supervisor, who may sign or object to a release ready for them.
    pub supervisor: Option<String>,
    pub csrf_token: String,
}

/// A release still open, as the home page lists it: for a supervisor, whether it waits for them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRelease {
    pub release: ReleaseView,
    pub yours: bool,
}

impl ReleaseArtifact {
    /// An artifact written as `NAME:PLATFORM:SHA256`, split at the last two colons (a name may
    /// hold one; the platform may be empty). The parts are checked when the release is proposed.
    pub fn parse_spec(text: &str) -> Result<ReleaseArtifact, String> {
        let mut parts = text.trim().rsplitn(3, ':');
        let (Some(sha256), Some(platform), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("{text:?}: give NAME:PLATFORM:SHA256"));
        };
        Ok(ReleaseArtifact { name: name.into(), platform: platform.into(), sha256: sha256.into() })
    }

    /// The artifact as `parse_spec` reads it.
    pub fn spec(&self) -> String {
        format!("{}:{}:{}", self.name, self.platform, self.sha256)
    }
}
