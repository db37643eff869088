//! `server verify bundle`: checks an export bundle offline, trusting nothing in it but what the
//! keys the regulator supplies sign. Every check runs even after one fails, so that the report
//! names each failure; the result is the list of them.

use super::bundle::{EventLine, Manifest};
use super::multiproof::{root_from, MultiproofError};
use super::{members, Leaf, Summary};
use crate::audit::checkpoint;
use crate::audit::merkle::{leaf_hash, Hash};
use crate::audit::note::NoteVerifier;
use crate::audit::policy::Policy;
use crate::audit::proof;
use crate::builds::sha256_hex;
use base64::Engine as _;
use std::collections::{BTreeSet, HashSet};
use std::io::Read;
use std::path::Path;

mod bounds;
mod records;
mod traceability;

use bounds::{hash_member, next_line, oversized_members, read_bounded};
use bounds::{read_member, Archive};

use records::{check_attestations, check_records};

/// What the regulator brings: the keys and checkpoints they trust.
pub struct Trust<'a> {
    pub log_key: &'a NoteVerifier,
    pub attestation_key: Option<&'a ed25519_dalek::VerifyingKey>,
    pub policy: Option<&'a Policy>,
    pub previous_checkpoint: Option<&'a str>,
}

/// The verifier's findings: what held (for the report) and what failed.
#[derive(Default, Debug)]
pub struct Outcome {
    pub passed: Vec<String>,
    pub failures: Vec<String>,
    pub notes: Vec<String>,
}

impl Outcome {
    pub(super) fn pass(&mut self, text: impl Into<String>) {
        self.passed.push(text.into());
    }
    pub(super) fn fail(&mut self, text: impl Into<String>) {
        self.failures.push(text.into());
    }
    pub(super) fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// An event as the verifier keeps it.
pub(super) struct Event {
    pub index: u64,
    pub leaf: Leaf,
}

/// Verifies the bundle at `path`.
pub fn verify_bundle(path: &Path, trust: &Trust<'_>) -> Outcome {
    let mut out = Outcome::default();
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) => {
            out.fail(format!("{}: cannot be opened: {error}", path.display()));
            return out;
        }
    };
    let mut archive = match zip::ZipArchive::new(std::io::BufReader::new(file)) {
        Ok(archive) => archive,
        Err(error) => {
            out.fail(format!("{}: not a zip file: {error}", path.display()));
            return out;
        }
    };

    // 1. The manifest and its signature.
    oversized_members(&mut archive, &mut out);
    if !out.ok() {
        return out;
    }
    let manifest_bytes = match read_bounded(&mut archive, members::MANIFEST) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => {
            out.fail("manifest.json is missing");
            return out;
        }
        Err(cap) => {
            out.fail(format!("manifest.json is larger than the bundle format allows ({cap} bytes); not read"));
            return out;
        }
    };
    let manifest: Manifest = match serde_json::from_slice(&manifest_bytes) {
        Ok(manifest) => manifest,
        Err(error) if error.is_data() => {
            out.fail(format!("manifest.json is not a bundle manifest: {error}"));
            return out;
        }
        Err(_) => {
            out.fail("manifest.json is not JSON");
            return out;
        }
    };
    if manifest.format != super::FORMAT {
        out.fail(format!("manifest.json: unknown format {:?}", manifest.format));
    }
    match read_member(&mut archive, members::SIGNATURE).map(String::from_utf8) {
        Some(Ok(note)) => match trust.log_key.open(&note) {
            Ok(body) if body == super::signature_text(trust.log_key.name(), &sha256_hex(&manifest_bytes)) => {
                out.pass(format!("manifest.sig: the manifest is signed by the log key {}", trust.log_key.name()))
            }
            Ok(_) => {
                out.fail("manifest.sig: signed by the log key, but for another manifest (manifest.json was altered)")
            }
            Err(_) => out.fail(format!(
                "manifest.sig: not signed by the log key {} ({}): the bundle was re-signed with another key or altered",
                trust.log_key.name(),
                trust.log_key.fingerprint()
            )),
        },
        _ => out.fail("manifest.sig is missing or not text"),
    }

    // 2. Every member against the manifest.
    let listed: Vec<(String, String, u64)> =
        manifest.members.iter().map(|m| (m.name.clone(), m.sha256.clone(), m.size)).collect();
    let names: HashSet<String> = listed.iter().map(|(n, _, _)| n.clone()).collect();
    let mut intact: HashSet<String> = HashSet::new();
    for (name, expected, size) in &listed {
        match hash_member(&mut archive, name) {
            None => out.fail(format!("{name}: listed in the manifest but missing")),
            Some((actual, actual_size)) if actual == *expected && actual_size == *size => {
                intact.insert(name.clone());
            }
            Some(_) => out.fail(format!("{name}: its SHA-256 differs from the manifest's (the member was altered)")),
        }
    }
    let present: Vec<String> = archive
        .file_names()
        .map(|n| n.map(|c| c.into_owned()).unwrap_or_else(|_| "(an unreadable name)".into()))
        .collect();
    for name in present {
        if name != members::MANIFEST && name != members::SIGNATURE && !names.contains(&name) {
            out.fail(format!("{name}: not listed in the manifest (added)"));
        }
    }
    for required in [members::EVENTS, members::PROOF, members::CHECKPOINT, members::COVERAGE, members::FINDINGS] {
        if !names.contains(required) {
            out.fail(format!("{required}: missing from the manifest"));
        }
    }
    if intact.len() == listed.len() && !listed.is_empty() {
        out.pass(format!("members: all {} match the manifest's SHA-256", listed.len()));
    }

    // 3. The checkpoint.
    let checkpoint_note = read_member(&mut archive, members::CHECKPOINT).and_then(|b| String::from_utf8(b).ok());
    let signed = checkpoint_note.as_deref().and_then(|note| checkpoint::open(trust.log_key, note).ok());
    let (size, root) = match signed {
        Some(opened) => {
            out.pass(format!(
                "checkpoint: signed by the log key; {} entries, root {}",
                opened.0,
                hex::encode(opened.1)
            ));
            opened
        }
        None => {
            out.fail(format!(
                "checkpoint: does not verify with the log key {} (not this log's checkpoint, or altered)",
                trust.log_key.name()
            ));
            (0, [0u8; 32])
        }
    };
    if manifest.checkpoint.size != size && signed.is_some() {
        out.fail("manifest.json: its checkpoint size differs from the signed checkpoint's");
    }
    if let (Some(policy), Some(note)) = (trust.policy, checkpoint_note.as_deref()) {
        let cosigners: BTreeSet<String> = policy
            .witnesses
            .iter()
            .filter(|w| matches!(w.key.cosigned_at(note), Ok(Some(_))))
            .map(|w| w.name.clone())
            .collect();
        let set: HashSet<String> = cosigners.iter().cloned().collect();
        if policy.satisfied(&set) {
            out.pass(format!(
                "witnesses: {} cosigned; the policy's quorum is met",
                cosigners.into_iter().collect::<Vec<_>>().join(", ")
            ));
        } else {
            out.fail(format!(
                "checkpoint: its cosignatures ({}) do not meet the policy's quorum",
                cosigners.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    }

    // 4. The events.
    let mut leaves: Vec<(u64, Hash)> = Vec::new();
    let mut kept: Vec<Event> = Vec::new();
    let mut summary = Summary::default();
    let mut actors_named: HashSet<String> = HashSet::new();
    let mut pins_named: BTreeSet<i64> = BTreeSet::new();
    let scope = manifest.scope.scope();
    if scope.is_none() {
        out.fail("manifest.json: its scope cannot be read");
    }
    let scope = scope.unwrap_or_default();
    let mut held_by_scope: Vec<bool> = Vec::new();
    let mut event_failures = 0usize;
    match archive.by_name(members::EVENTS) {
        Err(_) => out.fail("events.jsonl is missing"),
        Ok(file) => {
            // No further than the manifest says the member is, a bounded line at a time.
            let declared = listed.iter().find(|(n, _, _)| n == members::EVENTS).map_or(0, |(_, _, size)| *size);
            let mut reader = std::io::BufReader::new(file.take(declared));
            let mut previous: Option<(u64, Hash)> = None;
            let mut line = Vec::new();
            for number in 0.. {
                let line_no = number + 1;
                match next_line(&mut reader, &mut line) {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(problem) => {
                        out.fail(format!("events.jsonl line {line_no}: {problem}"));
                        break;
                    }
                }
                if line.is_empty() {
                    continue;
                }
                let mut fail = |out: &mut Outcome, text: String| {
                    event_failures += 1;
                    if event_failures <= 20 {
                        out.fail(text);
                    }
                };
                let entry = match serde_json::from_slice::<EventLine>(&line) {
                    Ok(entry) => Some(entry),
                    Err(error) if !error.is_data() => {
                        fail(&mut out, format!("events.jsonl line {line_no}: not JSON"));
                        continue;
                    }
                    Err(_) => None,
                };
                let (Some(index), Some(stored), Some(bytes)) = (
                    entry.as_ref().map(|e| e.index),
                    entry.as_ref().and_then(|e| hex::decode(&e.leaf_hash).ok()),
                    entry.as_ref().and_then(|e| base64::engine::general_purpose::STANDARD.decode(&e.leaf).ok()),
                ) else {
                    fail(
                        &mut out,
                        format!("events.jsonl line {line_no}: lacks an index, a hex leaf_hash or a base64 leaf"),
                    );
                    continue;
                };
                let hash = leaf_hash(&bytes);
                if stored != hash {
                    fail(&mut out, format!("events.jsonl line {line_no} (entry {index}): the leaf's bytes do not match its leaf hash (altered)"));
                }
                if let Some((before, before_hash)) = previous {
                    if index <= before {
                        fail(&mut out, format!(
                            "events.jsonl line {line_no}: entry {index} comes after entry {before} (events reordered or repeated)"
                        ));
                    }
                    if index == before + 1 {
                        let leaf_prev = Leaf::parse(&bytes).map(|l| l.prev).unwrap_or_default();
                        if leaf_prev != hex::encode(before_hash) {
                            fail(&mut out, format!(
                                "events.jsonl line {line_no}: entry {index} does not follow entry {before} in the log's hash chain (altered or reordered)"
                            ));
                        }
                    }
                }
                previous = Some((index, hash));
                leaves.push((index, hash));
                let Some(leaf) = Leaf::parse(&bytes) else {
                    fail(&mut out, format!("events.jsonl line {line_no} (entry {index}): not a Clearroom event"));
                    continue;
                };
                summary.add(&leaf);
                let held = scope.holds(&leaf, &HashSet::new()) || is_grant_change(&leaf);
                if held {
                    actors_named.extend(leaf.actor.clone());
                    pins_named.extend(leaf.pins());
                }
                held_by_scope.push(held);
                if keeps(&leaf) || !held {
                    kept.push(Event { index, leaf });
                }
            }
        }
    }
    if event_failures > 20 {
        out.fail(format!("events.jsonl: {} more failures", event_failures - 20));
    }
    summary.finish();
    if manifest.events != leaves.len() as u64 {
        out.fail(format!(
            "events.jsonl: holds {} events but the manifest says {} (an event was removed or added)",
            leaves.len(),
            manifest.events
        ));
    }
    if event_failures == 0 {
        out.pass(format!("events: {} events, each matching its leaf hash, in log order", leaves.len()));
    }

    // The scope: each event is in it, or the context of one that is.
    let record_pins: BTreeSet<i64> =
        if scope.pins.is_empty() { pins_named.clone() } else { scope.pins.iter().copied().collect() };
    let mut outside = 0;
    for event in kept.iter().filter(|e| !scope.holds(&e.leaf, &HashSet::new()) && !is_grant_change(&e.leaf)) {
        let context = match event.leaf.action.as_str() {
            "auth.login" | "auth.logout" => scope.is_session_context(&event.leaf, &actors_named),
            "attestation.issue" | "requirements.import" => event.leaf.pins().iter().any(|p| record_pins.contains(p)),
            "artifact.compiled_map" => {
                event.leaf.details["state"] == "done" && event.leaf.pins().iter().any(|p| record_pins.contains(p))
            }
            _ => false,
        };
        if !context {
            outside += 1;
            if outside <= 5 {
                out.fail(format!("entry {}: a {} event outside the bundle's scope", event.index, event.leaf.action));
            }
        }
    }
    if outside == 0 {
        out.pass("scope: every event is in the manifest's scope, or a sign-in, sign-out, attestation, compiled-code map or requirement list of it");
    }

    // 5. Inclusion of every event in the checkpoint.
    if signed.is_some() {
        let proof_bytes = read_member(&mut archive, members::PROOF).unwrap_or_default();
        let mut bad_line = false;
        let hashes: Vec<Hash> = proof_bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.is_empty())
            .filter_map(|l| {
                let hash =
                    std::str::from_utf8(l).ok().and_then(|t| hex::decode(t).ok()).and_then(|b| b.try_into().ok());
                if hash.is_none() {
                    bad_line = true;
                }
                hash
            })
            .collect();
        if bad_line {
            out.fail("events.proof: a line is not a 64-digit hex hash");
        }
        match root_from(size, &leaves, &mut hashes.into_iter()) {
            Ok(computed) if computed == root => {
                out.pass(format!("inclusion: all {} events are in the log at the checkpoint", leaves.len()))
            }
            Ok(_) => out.fail(
                "inclusion: the events and events.proof do not lead to the checkpoint's root (an event was altered, removed or added, or the proof was)",
            ),
            Err(MultiproofError::BeyondSize(index)) => {
                out.fail(format!("inclusion: entry {index} is beyond the checkpoint's {size} entries"))
            }
            Err(error) => out.fail(format!("inclusion: events.proof does not fit the events: {error}")),
        }
    }

    // 6. Consistency with an earlier checkpoint.
    let bundled_previous =
        read_member(&mut archive, members::PREVIOUS_CHECKPOINT).and_then(|b| String::from_utf8(b).ok());
    let consistency: Vec<Hash> = read_member(&mut archive, members::CONSISTENCY)
        .unwrap_or_default()
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| std::str::from_utf8(l).ok().and_then(|t| hex::decode(t).ok()).and_then(|b| b.try_into().ok()))
        .collect();
    let check_extension = |out: &mut Outcome, label: &str, note: &str| {
        let Ok((old_size, old_root)) = checkpoint::open(trust.log_key, note) else {
            out.fail(format!("{label}: does not verify with the log key"));
            return;
        };
        if old_size > size {
            out.fail(format!(
                "{label}: has {old_size} entries, more than the bundle's checkpoint ({size}): the log was truncated"
            ));
            return;
        }
        let bundled = bundled_previous.as_deref().and_then(|n| checkpoint::open(trust.log_key, n).ok());
        let proof: &[Hash] = match bundled {
            Some((bundled_size, _)) if bundled_size == old_size => &consistency,
            _ if old_size == size => &[],
            _ => {
                out.fail(format!(
                    "{label}: the bundle carries no consistency proof from {old_size} entries; export again with this checkpoint"
                ));
                return;
            }
        };
        match proof::verify_extension(old_size, size, &old_root, &root, proof) {
            Ok(()) => out.pass(format!("consistency: the log at {size} entries extends {label} of {old_size} entries")),
            Err(_) => out.fail(format!(
                "consistency: the bundle's checkpoint does not extend {label} of {old_size} entries: the log's history was rewritten"
            )),
        }
    };
    if signed.is_some() {
        if let Some(note) = trust.previous_checkpoint {
            check_extension(&mut out, "your previous checkpoint", note);
        } else if let Some(note) = &bundled_previous {
            check_extension(&mut out, "the previous checkpoint in the bundle", note);
        }
    }

    // 7. Attestations.
    check_attestations(&mut archive, &kept, trust, &mut out);

    // 8. The summaries against the events.
    check_records(&mut archive, &kept, &summary, &mut out);
    out
}

/// Grant changes are in a reviewer's scope through grants.json; the verifier accepts them when the
/// grant is one of the reviewer's (checked in `check_records`).
pub(super) fn is_grant_change(leaf: &Leaf) -> bool {
    matches!(leaf.action.as_str(), "grant.extend" | "grant.revoke")
}

/// Events the record checks need.
fn keeps(leaf: &Leaf) -> bool {
    matches!(
        leaf.action.as_str(),
        "comment.create"
            | "comment.edit"
            | "comment.state"
            | "verdict.submit"
            | "grant.create"
            | "grant.extend"
            | "grant.revoke"
            | "attestation.issue"
            | "auth.login"
            | "auth.logout"
    )
}
