//! C2SP tlog-policy: the logs a verifier accepts, the witnesses it knows, and the quorum of
//! cosignatures a checkpoint needs. Groundwork for witnessing (issue 9): parsing with every rule of
//! the format, and deciding whether a set of witnesses that cosigned meets the quorum.

use super::cosignature::CosignatureVerifier;
use super::note::NoteVerifier;
use std::collections::{HashMap, HashSet};

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("{}{reason}", if *line > 0 { format!("policy line {line}: ") } else { "the policy: ".to_string() })]
pub struct PolicyError {
    /// The line (from 1) the reason is about; 0 for the policy as a whole.
    pub line: usize,
    pub reason: String,
}

#[derive(Clone, Debug)]
pub struct Witness {
    pub name: String,
    pub key: CosignatureVerifier,
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Rule {
    Witness(usize),
    /// At least `threshold` of these members.
    Group {
        threshold: usize,
        members: Vec<String>,
    },
}

#[derive(Clone, Debug)]
pub struct Policy {
    pub logs: Vec<(NoteVerifier, Option<String>)>,
    pub witnesses: Vec<Witness>,
    rules: HashMap<String, Rule>,
    /// None: `quorum none`.
    quorum: Option<String>,
    /// The policy as written (exports carry it).
    pub text: String,
}

impl Policy {
    /// A verifier's policy: its logs, witnesses and the quorum a checkpoint needs.
    pub fn parse(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse_with(text, true)
    }

    /// A witness's list of the logs it cosigns: `log` lines are all it needs; witnesses, groups and
    /// a quorum may be there (a verifier's policy serves too), and without a quorum line none is
    /// asked for.
    pub fn parse_log_list(text: &str) -> Result<Policy, PolicyError> {
        Policy::parse_with(text, false)
    }

    fn parse_with(text: &str, quorum_required: bool) -> Result<Policy, PolicyError> {
        let mut logs: Vec<(NoteVerifier, Option<String>)> = Vec::new();
        let mut witnesses: Vec<Witness> = Vec::new();
        let mut rules: HashMap<String, Rule> = HashMap::new();
        let mut quorum: Option<Option<String>> = None;
        let mut keys: HashSet<String> = HashSet::new();
        for (number, raw) in text.split('\n').enumerate() {
            let fail = |reason: &str| PolicyError { line: number + 1, reason: reason.to_string() };
            if raw.bytes().any(|b| b < 0x20 && b != b'\t' || b == 0x7f) {
                return Err(fail("a control character"));
            }
            let words: Vec<&str> = raw.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
            if words.is_empty() || words[0].starts_with('#') {
                continue;
            }
            // Keys are compared by the key material (the third part: base64, which may itself
            // contain '+'), not by name or id.
            let material = |vkey: &str| vkey.splitn(3, '+').nth(2).unwrap_or("").to_string();
            match words.as_slice() {
                ["log", vkey] | ["log", vkey, _] => {
                    let key = NoteVerifier::parse(vkey).map_err(|_| fail("not a log verifier key"))?;
                    if !keys.insert(material(vkey)) {
                        return Err(fail("a duplicate key"));
                    }
                    logs.push((key, words.get(2).map(|u| u.to_string())));
                }
                ["witness", name, vkey] | ["witness", name, vkey, _] => {
                    let key = CosignatureVerifier::parse(vkey).map_err(|_| fail("not a cosignature verifier key"))?;
                    if *name == "none" || rules.contains_key(*name) {
                        return Err(fail("a name defined twice (or none)"));
                    }
                    if !keys.insert(material(vkey)) {
                        return Err(fail("a duplicate key"));
                    }
                    rules.insert(name.to_string(), Rule::Witness(witnesses.len()));
                    witnesses.push(Witness { name: name.to_string(), key, url: words.get(3).map(|u| u.to_string()) });
                }
                ["group", name, threshold, members @ ..] if !members.is_empty() => {
                    if *name == "none" || rules.contains_key(*name) {
                        return Err(fail("a name defined twice (or none)"));
                    }
                    let mut seen = HashSet::new();
                    for member in members {
                        if !rules.contains_key(*member) {
                            return Err(fail("a member not defined on an earlier line"));
                        }
                        if !seen.insert(*member) {
                            return Err(fail("a member listed twice"));
                        }
                    }
                    let threshold = match *threshold {
                        "all" => members.len(),
                        "any" => 1,
                        k if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => k
                            .parse::<usize>()
                            .ok()
                            .filter(|k| (1..=members.len()).contains(k))
                            .ok_or_else(|| fail("a threshold outside 1..=members"))?,
                        _ => return Err(fail("a threshold is all, any or a number")),
                    };
                    let members = members.iter().map(|m| m.to_string()).collect();
                    rules.insert(name.to_string(), Rule::Group { threshold, members });
                }
                ["quorum", name] => {
                    if quorum.is_some() {
                        return Err(fail("a second quorum line"));
                    }
                    if *name != "none" && !rules.contains_key(*name) {
                        return Err(fail("a quorum not defined on an earlier line"));
                    }
                    quorum = Some((*name != "none").then(|| name.to_string()));
                }
                _ => return Err(fail("not a log, witness, group or quorum line")),
            }
        }
        let quorum = match quorum {
            Some(quorum) => quorum,
            None if !quorum_required => None,
            None => {
                let reason = "no quorum line (add `quorum none` if checkpoints need no cosignature)";
                return Err(PolicyError { line: 0, reason: reason.into() });
            }
        };
        Ok(Policy { logs, witnesses, rules, quorum, text: text.to_string() })
    }

    /// Whether the witnesses named in `cosigned` (those with a valid cosignature) meet the quorum.
    pub fn satisfied(&self, cosigned: &HashSet<String>) -> bool {
        match &self.quorum {
            None => true,
            Some(name) => self.witnessed(name, cosigned),
        }
    }

    fn witnessed(&self, name: &str, cosigned: &HashSet<String>) -> bool {
        match self.rules.get(name) {
            Some(Rule::Witness(_)) => cosigned.contains(name),
            Some(Rule::Group { threshold, members }) => {
                members.iter().filter(|m| self.witnessed(m, cosigned)).count() >= *threshold
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::cosignature::Cosigner;
    use crate::audit::note::NoteSigner;

    fn vkey(name: &str, seed: u8) -> String {
        Cosigner::from_seed(name, [seed; 32]).unwrap().verifier().to_string()
    }

    fn names(list: &[&str]) -> HashSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_two_level_quorum_is_decided_as_the_specification_describes() {
        let log = NoteSigner::generate("example.com/log").unwrap().verifier().to_string();
        let text = format!(
            "# the vendor's log\nlog {log} https://log.example\n\n\
             witness X1 {} https://x1.example\nwitness X2 {}\nwitness X3 {}\ngroup X-witnesses 2 X1 X2 X3\n\
             witness Y1 {}\n\twitness Y2 {}  \ngroup Y-witnesses any Y1 Y2\n\
             group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n",
            vkey("x1", 1),
            vkey("x2", 2),
            vkey("x3", 3),
            vkey("y1", 4),
            vkey("y2", 5)
        );
        let policy = Policy::parse(&text).unwrap();
        assert_eq!(policy.logs.len(), 1);
        assert_eq!(policy.witnesses.len(), 5);
        assert_eq!(policy.witnesses[0].url.as_deref(), Some("https://x1.example"));
        assert!(policy.satisfied(&names(&["X1", "X3", "Y2"])));
        assert!(!policy.satisfied(&names(&["X1", "Y1", "Y2"])), "one X is not two");
        assert!(!policy.satisfied(&names(&["X1", "X2", "X3"])), "no Y");
        assert!(Policy::parse("quorum none\n").unwrap().satisfied(&HashSet::new()));
    }

    #[test]
    fn keys_whose_base64_ends_alike_are_not_duplicates() {
        // Find two witness keys whose base64 share the text after their last '+'.
        let keys: Vec<String> = (0..=255u8).map(|seed| vkey(&format!("w{seed}"), seed)).collect();
        let tail = |k: &String| k.rsplit('+').next().unwrap().to_string();
        let pair = keys.iter().enumerate().find_map(|(i, a)| {
            keys[i + 1..].iter().find(|b| a.matches('+').count() > 2 && tail(a) == tail(b)).map(|b| (a, b))
        });
        if let Some((a, b)) = pair {
            Policy::parse(&format!("witness A {a}\nwitness B {b}\nquorum A\n")).unwrap();
        }
        // And keys with '+' in their base64 parse at all.
        let with_plus = keys.iter().find(|k| k.matches('+').count() > 2).expect("a key with '+' in its base64");
        Policy::parse(&format!("witness A {with_plus}\nquorum A\n")).unwrap();
    }

    /// By reading (security issue): a witness given only its logs failed with "policy line 0: no
    /// quorum line". A witness's list needs no quorum; a verifier's policy still does, and says how
    /// to write one, naming no line 0.
    #[test]
    fn a_witness_needs_only_its_logs_and_no_error_names_line_0() {
        let log = NoteSigner::generate("example.com/log").unwrap().verifier().to_string();
        let list = format!(
            "# logs this witness cosigns
log {log}
"
        );
        let policy = Policy::parse_log_list(&list).unwrap();
        assert_eq!(policy.logs.len(), 1);
        assert!(policy.satisfied(&HashSet::new()));
        let error = Policy::parse(&list).unwrap_err().to_string();
        assert_eq!(error, "the policy: no quorum line (add `quorum none` if checkpoints need no cosignature)");
        assert_eq!(
            Policy::parse_log_list("frobnicate\n").unwrap_err().to_string(),
            "policy line 1: not a log, witness, group or quorum line"
        );
    }

    #[test]
    fn every_rule_of_the_format_is_enforced() {
        let w = vkey("w", 1);
        for (bad, why) in [
            (String::new(), "no quorum"),
            (format!("witness A {w}\nquorum A\nquorum A\n"), "two quorums"),
            ("quorum B\n".to_string(), "undefined quorum"),
            (format!("group G any A\nwitness A {w}\nquorum G\n"), "forward reference"),
            (format!("witness A {w}\ngroup G any A A\nquorum G\n"), "member twice"),
            (format!("witness A {w}\ngroup G 2 A\nquorum G\n"), "threshold over n"),
            (format!("witness A {w}\ngroup G 0 A\nquorum G\n"), "threshold zero"),
            (format!("witness A {w}\nwitness B {w}\nquorum A\n"), "duplicate key"),
            (format!("witness A {w}\nwitness A {}\nquorum A\n", vkey("v", 2)), "duplicate name"),
            (format!("witness none {w}\nquorum none\n"), "none as a name"),
            (
                format!("witness A {}\nquorum A\n", NoteSigner::generate("l").unwrap().verifier()),
                "a log key as a witness",
            ),
            ("frobnicate\nquorum none\n".to_string(), "unknown line"),
            ("quorum none\r\n".to_string(), "carriage return"),
        ] {
            assert!(Policy::parse(&bad).is_err(), "{why} must be refused");
        }
    }
}
