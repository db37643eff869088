//! A repository's release policy: the rules a release must meet before supervisors may sign it,
//! and how many of which supervisors must. Written as a small TOML document (or JSON through the
//! API); unknown rules are refused by name. Its canonical JSON (keys sorted, no spaces, every
//! rule written out, `null` for a rule not set) has the SHA-256 a release's dossier names.

use crate::builds::recipe::{field_problem, toml_problem};
use app::model::Severity;
pub use app::model::{ReleasePolicy, Supervisors};
use serde::Deserialize;

/// A policy as written. Unknown keys are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    reproduced_by: Option<i64>,
    reproduced_in_room: Option<bool>,
    verdicts_no_objection: Option<i64>,
    max_open_findings_at: Option<String>,
    compiled_reviewed_percent: Option<i64>,
    reviewer_names_public: Option<bool>,
    supervisors: Option<WrittenSupervisors>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenSupervisors {
    quorum: i64,
    names: Vec<String>,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("release policy: {field}: {problem}")]
pub struct PolicyError {
    pub field: String,
    pub problem: String,
}

fn refuse(field: &str, problem: impl Into<String>) -> PolicyError {
    PolicyError { field: field.into(), problem: problem.into() }
}

fn parse_error(path: String, error: impl std::fmt::Display) -> PolicyError {
    let (field, problem) = field_problem("policy", "is not a release policy rule", path, error);
    PolicyError { field, problem }
}

/// Most supervisors a policy names.
const MAX_SUPERVISORS: usize = 64;

/// Reading, checking and digesting a policy (its type is a wire type of `app`).
pub trait PolicyDocument: Sized {
    fn from_toml(text: &str) -> Result<Self, PolicyError>;
    fn from_json(bytes: &[u8]) -> Result<Self, PolicyError>;
    fn canonical_json(&self) -> String;
    fn digest(&self) -> String;
}

impl PolicyDocument for ReleasePolicy {
    /// A policy from TOML (`policy.toml`).
    fn from_toml(text: &str) -> Result<ReleasePolicy, PolicyError> {
        let deserializer = toml::Deserializer::parse(text).map_err(|e| refuse("policy", toml_problem(&e)))?;
        let written: Written =
            serde_path_to_error::deserialize(deserializer).map_err(|e| parse_error(e.path().to_string(), e.inner()))?;
        check(written)
    }

    /// A policy from JSON (its canonical form, or the API's).
    fn from_json(bytes: &[u8]) -> Result<ReleasePolicy, PolicyError> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let written: Written = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|e| parse_error(e.path().to_string(), e.inner()))?;
        check(written)
    }

    /// The canonical JSON: keys sorted, no spaces, every rule written out.
    fn canonical_json(&self) -> String {
        // serde_json's maps are sorted (no `preserve_order`), so a value's keys come out sorted.
        let value = serde_json::to_value(self).expect("a policy is JSON");
        serde_json::to_string(&value).expect("JSON")
    }

    /// The SHA-256 of the canonical JSON (hex).
    fn digest(&self) -> String {
        crate::builds::sha256_hex(self.canonical_json().as_bytes())
    }
}

fn check(written: Written) -> Result<ReleasePolicy, PolicyError> {
    let count = |field: &str, value: Option<i64>, max: i64| -> Result<Option<u32>, PolicyError> {
        match value {
            Some(n) if !(0..=max).contains(&n) => Err(refuse(field, format!("must be between 0 and {max}"))),
            other => Ok(other.map(|n| n as u32)),
        }
    };
    let reproduced_by = count("reproduced_by", written.reproduced_by, 64)?.unwrap_or(0);
    let reproduced_in_room = written.reproduced_in_room.unwrap_or(false);
    if reproduced_in_room && reproduced_by == 0 {
        return Err(refuse("reproduced_in_room", "needs reproduced_by of at least 1 (the room is one builder)"));
    }
    let verdicts_no_objection = count("verdicts_no_objection", written.verdicts_no_objection, 1000)?;
    let max_open_findings_at = match written.max_open_findings_at {
        Some(text) => Some(Severity::parse(text.trim()).map_err(|e| refuse("max_open_findings_at", e.0))?),
        None => None,
    };
    let compiled_reviewed_percent = count("compiled_reviewed_percent", written.compiled_reviewed_percent, 100)?;
    let Some(supervisors) = written.supervisors else {
        return Err(refuse("supervisors", "is required: a release is authorised by named supervisors"));
    };
    let mut names: Vec<String> = supervisors.names.iter().map(|n| n.trim().to_string()).collect();
    if let Some(bad) = names.iter().find(|n| crate::auth::parse_username(n).is_err()) {
        return Err(refuse("supervisors.names", format!("{bad:?} is not a username")));
    }
    names.sort();
    if names.windows(2).any(|pair| pair[0] == pair[1]) {
        return Err(refuse("supervisors.names", "names a supervisor twice"));
    }
    if names.len() > MAX_SUPERVISORS {
        return Err(refuse("supervisors.names", format!("names more than {MAX_SUPERVISORS} supervisors")));
    }
    let quorum = supervisors.quorum;
    if quorum < 1 || quorum as usize > names.len() {
        return Err(refuse("supervisors.quorum", format!("must be between 1 and the {} names", names.len())));
    }
    Ok(ReleasePolicy {
        reproduced_by,
        reproduced_in_room,
        verdicts_no_objection,
        max_open_findings_at,
        compiled_reviewed_percent,
        reviewer_names_public: written.reviewer_names_public.unwrap_or(false),
        supervisors: Supervisors { quorum: quorum as u32, names },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALLEST: &str = r#"
reproduced_by = 1
verdicts_no_objection = 0
max_open_findings_at = "critical"   # no open finding at or above this severity
[supervisors]
quorum = 1
names = ["sup1"]
"#;

    #[test]
    fn the_smallest_policy_reads_and_has_one_canonical_form() {
        let policy = ReleasePolicy::from_toml(SMALLEST).unwrap();
        assert_eq!(policy.reproduced_by, 1);
        assert_eq!(policy.verdicts_no_objection, Some(0));
        assert_eq!(policy.max_open_findings_at, Some(Severity::Critical));
        assert_eq!(policy.compiled_reviewed_percent, None);
        assert_eq!(policy.supervisors, Supervisors { quorum: 1, names: vec!["sup1".into()] });
        assert_eq!(
            policy.canonical_json(),
            r#"{"compiled_reviewed_percent":null,"max_open_findings_at":"critical","reproduced_by":1,"reproduced_in_room":false,"reviewer_names_public":false,"supervisors":{"names":["sup1"],"quorum":1},"verdicts_no_objection":0}"#
        );
        // The canonical JSON reads back to the same policy and digest.
        let again = ReleasePolicy::from_json(policy.canonical_json().as_bytes()).unwrap();
        assert_eq!((again.digest(), again), (policy.digest(), policy.clone()));
        // Key order, comments, spacing and the order of names do not change the digest.
        let reordered = "[supervisors]\nnames = [\"sup1\"]\nquorum = 1\n";
        let reordered =
            format!("max_open_findings_at = \"critical\"\nverdicts_no_objection = 0\nreproduced_by = 1\n{reordered}");
        assert_eq!(ReleasePolicy::from_toml(&reordered).unwrap().digest(), policy.digest());
    }

    #[test]
    fn every_rule_reads_and_two_of_three_supervisors_sort() {
        let text = r#"
reproduced_by = 2
reproduced_in_room = true
verdicts_no_objection = 1
max_open_findings_at = "high"
compiled_reviewed_percent = 80
reviewer_names_public = true
[supervisors]
quorum = 2
names = ["sup3", "sup1", "sup2"]
"#;
        let policy = ReleasePolicy::from_toml(text).unwrap();
        assert!(policy.reproduced_in_room && policy.reviewer_names_public);
        assert_eq!(policy.compiled_reviewed_percent, Some(80));
        assert_eq!(policy.supervisors.names, ["sup1", "sup2", "sup3"]);
    }

    #[test]
    fn unknown_and_wrong_rules_are_refused_by_name() {
        let cases: &[(&str, &str, &str)] = &[
            ("signed_by_ceo = true\n", "signed_by_ceo", "is not a release policy rule"),
            (
                "[supervisors]\nquorum = 1\nnames = [\"a1\"]\nvotes = 2\n",
                "supervisors.votes",
                "is not a release policy rule",
            ),
            ("reproduced_by = 1\n", "supervisors", "is required: a release is authorised by named supervisors"),
            ("[supervisors]\nnames = [\"a1\"]\n", "supervisors.quorum", "is required"),
            (
                "[supervisors]\nquorum = 2\nnames = [\"a1\"]\n",
                "supervisors.quorum",
                "must be between 1 and the 1 names",
            ),
            (
                "[supervisors]\nquorum = 0\nnames = [\"a1\"]\n",
                "supervisors.quorum",
                "must be between 1 and the 1 names",
            ),
            ("[supervisors]\nquorum = 1\nnames = [\"a1\", \"a1\"]\n", "supervisors.names", "names a supervisor twice"),
            (
                "[supervisors]\nquorum = 1\nnames = [\"Bad Name\"]\n",
                "supervisors.names",
                "\"Bad Name\" is not a username",
            ),
            (
                "reproduced_by = -1\n[supervisors]\nquorum = 1\nnames = [\"a1\"]\n",
                "reproduced_by",
                "must be between 0 and 64",
            ),
            (
                "reproduced_in_room = true\n[supervisors]\nquorum = 1\nnames = [\"a1\"]\n",
                "reproduced_in_room",
                "needs reproduced_by of at least 1 (the room is one builder)",
            ),
            (
                "compiled_reviewed_percent = 101\n[supervisors]\nquorum = 1\nnames = [\"a1\"]\n",
                "compiled_reviewed_percent",
                "must be between 0 and 100",
            ),
            (
                "max_open_findings_at = \"urgent\"\n[supervisors]\nquorum = 1\nnames = [\"a1\"]\n",
                "max_open_findings_at",
                "a severity is info, low, medium, high or critical",
            ),
        ];
        for (text, field, problem) in cases {
            let error = ReleasePolicy::from_toml(text).unwrap_err();
            assert_eq!((error.field.as_str(), error.problem.as_str()), (*field, *problem), "{text}");
        }
        let error = ReleasePolicy::from_toml("compiled_reviewed_percent = 80.5\n").unwrap_err();
        assert_eq!(error.field, "compiled_reviewed_percent", "{error}");
        assert!(ReleasePolicy::from_toml("not toml [").unwrap_err().field == "policy");
    }
}
