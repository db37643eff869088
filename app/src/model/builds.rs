//! Builds of a pin and what they attest: the records, whether independent builders agree, and what
//! a verified artifact is bound to.

use super::{Amount, PinSummary, Severity, VerdictKind};
use serde::{Deserialize, Serialize};

/// One build record: who built which artifact of a pin, and its SHA-256. Never edited.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BuildView {
    pub id: i64,
    pub pin: i64,
    pub name: String,
    pub platform: String,
    pub sha256: String,
    pub size: Option<u64>,
    /// How the record labels its builder (a CI runner, a lab): a note, empty when none was given.
    pub builder: String,
    /// The account that recorded it: the builder that counts ("operator" for the command line).
    pub recorded_by: String,
    pub command: String,
    pub toolchain: String,
    pub notes: String,
    pub started_at_ms: Option<i64>,
    pub finished_at_ms: Option<i64>,
    pub recorded_at_ms: i64,
    /// Whether the artifact itself was uploaded (and is kept by its hash).
    pub uploaded: bool,
    /// The SHA-256 of the provenance envelope issued for this record.
    pub attestation_sha256: Option<String>,
}

/// Whether the builders of one artifact agree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase", tag = "status", content = "builders")]
pub enum Reproducibility {
    /// One builder so far.
    Single,
    /// This many distinct accounts recorded the same hash.
    Reproduced(u32),
    /// Builders recorded different hashes for the same artifact name and platform.
    Mismatch,
}

impl Reproducibility {
    pub fn label(self) -> String {
        match self {
            Reproducibility::Single => "one builder".into(),
            Reproducibility::Reproduced(n) => format!("reproduced by {n}"),
            Reproducibility::Mismatch => "MISMATCH".into(),
        }
    }
}

/// Every record of one artifact (name and platform) of a pin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ArtifactBuilds {
    pub name: String,
    pub platform: String,
    pub status: Reproducibility,
    /// The accounts that recorded it, by hash (one entry when they agree): who built it.
    pub accounts: Vec<(String, Vec<String>)>,
    pub builds: Vec<BuildView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct BuildsPage {
    pub pin: PinSummary,
    pub artifacts: Vec<ArtifactBuilds>,
    /// Whether the viewer may record builds (staff).
    pub can_record: bool,
    /// The review-summary statements issued for the pin, newest first: (issued at, envelope sha256).
    pub review_statements: Vec<(i64, String)>,
    /// The room: the pin's recipe, its builds, and the reports on mismatches.
    pub room: super::RoomSection,
    pub csrf_token: String,
    /// The compiled-code map of each artifact that has one, by SHA-256.
    #[serde(default)]
    pub compiled: Vec<super::ArtifactCompiled>,
}

/// A verdict as the review summary and the verify page show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VerdictBrief {
    pub reviewer: String,
    pub verdict: VerdictKind,
    pub given_at_ms: i64,
}

/// Where a verified artifact comes from and how its pin was reviewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ArtifactOrigin {
    pub pin: PinSummary,
    pub name: String,
    pub platform: String,
    pub status: Reproducibility,
    /// The accounts that recorded exactly this hash.
    pub builders: Vec<String>,
    /// Whether the centre's own room build gave exactly this hash.
    pub room_reproduced: bool,
    pub verdicts: Vec<VerdictBrief>,
    pub total: Amount,
    /// Shown to at least one reviewer.
    pub shown: Amount,
    pub reviewed: Amount,
    pub open_findings: Vec<(Severity, u32)>,
    /// SHA-256 of every envelope that names this artifact.
    pub envelopes: Vec<String>,
}

/// The answer to "what is this file?": every pin that recorded its hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ArtifactLookup {
    pub sha256: String,
    pub origins: Vec<ArtifactOrigin>,
}

/// The keys anyone needs to check what the server signs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Keys {
    pub attestation: AttestationKey,
    pub log: LogKey,
}

/// The key that signs attestations (DSSE, ed25519).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttestationKey {
    pub keyid: String,
    pub algorithm: String,
    pub public_key_pem: String,
    /// The raw 32-byte public key, base64.
    pub public_key: String,
}

/// The key that signs the log's checkpoints (a signed-note verifier key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LogKey {
    pub name: String,
    pub algorithm: String,
    pub verifier_key: String,
    pub key_hash: String,
}
