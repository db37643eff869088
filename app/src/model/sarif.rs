//! Tool results a reviewer imported as SARIF 2.1.0 logs, where each was placed in the pin, and
//! their triage.

use super::{PinSummary, Weakness};
use serde::{Deserialize, Serialize};

/// How a result was triaged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Triage {
    /// A real problem: it became a finding.
    Confirmed,
    FalsePositive,
    /// True, but not worth acting on.
    NotUseful,
}

impl Triage {
    pub const ALL: [Triage; 3] = [Triage::Confirmed, Triage::FalsePositive, Triage::NotUseful];

    pub fn as_str(self) -> &'static str {
        match self {
            Triage::Confirmed => "confirmed",
            Triage::FalsePositive => "false_positive",
            Triage::NotUseful => "not_useful",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Triage::Confirmed => "Confirmed",
            Triage::FalsePositive => "False positive",
            Triage::NotUseful => "Not useful",
        }
    }

    pub fn parse(text: &str) -> Option<Triage> {
        Triage::ALL.into_iter().find(|t| t.as_str() == text)
    }
}

/// What an import answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SarifImported {
    /// The imported log's id.
    pub id: i64,
    /// Results in the log.
    pub results: u64,
    /// Results placed at a file of the pin (in the importer's paths).
    pub placed: u64,
    /// Results that were not: listed with why.
    pub outside: u64,
}

/// How many results are in each triage state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TriageCounts {
    pub untriaged: u64,
    pub confirmed: u64,
    pub false_positive: u64,
    pub not_useful: u64,
}

impl TriageCounts {
    /// Counts `n` more results in `state` (`None`: not triaged).
    pub fn add(&mut self, state: Option<Triage>, n: u64) {
        match state {
            None => self.untriaged += n,
            Some(Triage::Confirmed) => self.confirmed += n,
            Some(Triage::FalsePositive) => self.false_positive += n,
            Some(Triage::NotUseful) => self.not_useful += n,
        }
    }

    pub fn total(&self) -> u64 {
        self.untriaged + self.confirmed + self.false_positive + self.not_useful
    }
}

/// One imported log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SarifLog {
    pub id: i64,
    /// Each run's tool, with its version.
    pub tools: Vec<String>,
    pub uploaded_by: String,
    pub uploaded_at_ms: i64,
    /// SHA-256 of the log as uploaded (kept under it).
    pub sha256: String,
    pub bytes: u64,
    pub results: u64,
    pub placed: u64,
    pub outside: u64,
    /// The placed results the reader may see, by triage state.
    pub counts: TriageCounts,
}

/// Counts of one tool's rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RuleCounts {
    pub tool: String,
    pub rule_id: String,
    pub counts: TriageCounts,
}

/// A pin's imported logs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SarifLogs {
    pub pin: i64,
    pub logs: Vec<SarifLog>,
    /// Per tool and rule over every log, most results first.
    pub rules: Vec<RuleCounts>,
}

/// A result's latest triage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TriageView {
    pub state: Triage,
    pub reason: String,
    /// The finding a confirmed result became.
    pub finding: Option<i64>,
    pub by: String,
    pub at_ms: i64,
}

/// One result of a log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ToolResultView {
    pub log: i64,
    /// Its number in the log, from 0 (run by run).
    pub index: u64,
    pub tool: String,
    pub rule_id: String,
    pub rule_name: Option<String>,
    /// `error`, `warning`, `note` or `none`.
    pub level: String,
    pub message: String,
    /// The pin's file it is at, when it was placed.
    pub path: Option<String>,
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    /// Where the log said it was, for a result not placed (only to its importer and to readers
    /// of the whole pin).
    pub uri: Option<String>,
    /// Why it was not placed.
    pub outside: Option<String>,
    pub cwe: Vec<Weakness>,
    pub triage: Option<TriageView>,
}

/// A log's results, filtered and paged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SarifResults {
    pub pin: PinSummary,
    pub log: SarifLog,
    pub results: Vec<ToolResultView>,
    /// Results matching the filter, and the page shown (of `SARIF_PAGE`).
    pub matching: u64,
    pub page: u32,
    /// Results not placed (listed to the importer and readers of the whole pin).
    pub outside: Vec<ToolResultView>,
    pub can_triage: bool,
    pub csrf_token: String,
}

/// Results a page shows.
pub const SARIF_PAGE: usize = 100;

/// The page of a pin's tool results.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SarifLogsPage {
    pub pin: PinSummary,
    pub logs: SarifLogs,
    /// Whether the reader may import a log (a reviewer with an active grant).
    pub can_import: bool,
    pub csrf_token: String,
}

/// A filter of a log's results; all optional.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema, utoipa::IntoParams))]
pub struct SarifFilter {
    /// `untriaged`, `confirmed`, `false_positive` or `not_useful`.
    pub state: Option<String>,
    pub rule: Option<String>,
    /// `error`, `warning`, `note` or `none`.
    pub level: Option<String>,
    pub page: Option<u32>,
}

/// A triage as sent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TriageInput {
    pub state: Triage,
    /// Why (required for a false positive or not useful; a confirmed result's finding says it).
    #[serde(default)]
    pub reason: String,
    /// A confirmed result's finding's severity (by the result's level when not given).
    #[serde(default)]
    pub severity: Option<String>,
}

/// What a triage answers: the finding a confirmed result became.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Triaged {
    pub state: Triage,
    pub finding: Option<i64>,
}

/// A result shown on a file's lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Annotation {
    pub log: i64,
    pub index: u64,
    pub tool: String,
    pub rule_id: String,
    pub level: String,
    pub message: String,
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    pub triage: Option<Triage>,
    pub finding: Option<i64>,
}
