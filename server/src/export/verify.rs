//! `server verify bundle`: checks an export bundle offline, trusting nothing in it but what the
//! keys the regulator supplies sign. Every check runs even after one fails, so that the report
//! names each failure; the result is the list of them.

use super::bundle::{EventLine, GrantRecord, Manifest, SarifLog, ThreadRecord, VerdictRecord};
use super::multiproof::{root_from, MultiproofError};
use super::{members, Leaf, Summary};
use crate::audit::checkpoint;
use crate::audit::merkle::{leaf_hash, Hash};
use crate::audit::note::NoteVerifier;
use crate::audit::policy::Policy;
use crate::audit::proof;
use crate::builds::sha256_hex;
use base64::Engine as _;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{BufRead, Read};
use std::path::Path;

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
    fn pass(&mut self, text: impl Into<String>) {
        self.passed.push(text.into());
    }
    fn fail(&mut self, text: impl Into<String>) {
        self.failures.push(text.into());
    }
    fn note(&mut self, text: impl Into<String>) {
        self.notes.push(text.into());
    }
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

type Archive = zip::ZipArchive<std::io::BufReader<std::fs::File>>;

fn read_member(archive: &mut Archive, name: &str) -> Option<Vec<u8>> {
    let mut file = archive.by_name(name).ok()?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// An event as the verifier keeps it.
struct Event {
    index: u64,
    leaf: Leaf,
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
    let Some(manifest_bytes) = read_member(&mut archive, members::MANIFEST) else {
        out.fail("manifest.json is missing");
        return out;
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
            let reader = std::io::BufReader::new(file);
            let mut previous: Option<(u64, Hash)> = None;
            for (number, line) in reader.split(b'\n').enumerate() {
                let line_no = number + 1;
                let Ok(line) = line else {
                    out.fail(format!("events.jsonl: unreadable at line {line_no}"));
                    break;
                };
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
            "attestation.issue" => event.leaf.pins().iter().any(|p| record_pins.contains(p)),
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
        out.pass("scope: every event is in the manifest's scope, or a sign-in, sign-out or attestation of it");
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
    let issued: HashMap<String, u64> = kept
        .iter()
        .filter(|e| e.leaf.action == "attestation.issue")
        .filter_map(|e| Some((e.leaf.details["envelope_sha256"].as_str()?.to_string(), e.index)))
        .collect();
    let bundle_key = read_member(&mut archive, members::ATTESTATION_KEY)
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|text| crate::builds::parse_public_key(&text));
    let key = trust.attestation_key.copied().or(bundle_key);
    if trust.attestation_key.is_none() && key.is_some() {
        out.note("attestations were checked with the bundle's own key (keys/attestation.pem); pass --attestation-key for an independent check");
    }
    let text = read_member(&mut archive, members::ATTESTATIONS).unwrap_or_default();
    let mut seen = HashSet::new();
    let mut attestation_failures = 0;
    for (number, line) in text.split(|b| *b == b'\n').enumerate().filter(|(_, l)| !l.is_empty()) {
        let hash = sha256_hex(line);
        if !issued.contains_key(&hash) {
            attestation_failures += 1;
            out.fail(format!(
                "attestations.intoto.jsonl line {}: its SHA-256 is in no attestation.issue event of the bundle",
                number + 1
            ));
        }
        seen.insert(hash);
        if let Some(key) = &key {
            let verdict = std::str::from_utf8(line)
                .map_err(|_| "not UTF-8".to_string())
                .and_then(|json| crate::builds::verify_envelope(json, key).map_err(|e| e.to_string()));
            if let Err(error) = verdict {
                attestation_failures += 1;
                out.fail(format!(
                    "attestations.intoto.jsonl line {}: the signature does not verify: {error}",
                    number + 1
                ));
            }
        }
    }
    for (hash, index) in &issued {
        if !seen.contains(hash) {
            attestation_failures += 1;
            out.fail(format!(
                "entry {index}: its attestation (sha256 {hash}) is missing from attestations.intoto.jsonl"
            ));
        }
    }
    if attestation_failures == 0 {
        out.pass(format!("attestations: {} envelopes, each signed and each in the log", seen.len()));
    }

    // 8. The summaries against the events.
    check_records(&mut archive, &kept, &summary, &mut out);
    out
}

/// Grant changes are in a reviewer's scope through grants.json; the verifier accepts them when the
/// grant is one of the reviewer's (checked in `check_records`).
fn is_grant_change(leaf: &Leaf) -> bool {
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

fn hash_member(archive: &mut Archive, name: &str) -> Option<(String, u64)> {
    use sha2::Digest as _;
    let mut file = archive.by_name(name).ok()?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).ok()?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Some((hex::encode(hasher.finalize()), size))
}

/// A JSON member read as its record type; a member that is not JSON, or not of the documented
/// shape, is a failure naming it.
fn json_member<T: serde::de::DeserializeOwned>(archive: &mut Archive, name: &str, out: &mut Outcome) -> Option<T> {
    let bytes = read_member(archive, name)?;
    match serde_json::from_slice(&bytes) {
        Ok(value) => Some(value),
        Err(error) if error.is_data() => {
            out.fail(format!("{name}: not of the bundle format's shape: {error}"));
            None
        }
        Err(_) => {
            out.fail(format!("{name}: not JSON"));
            None
        }
    }
}

/// comments.json, findings.sarif, verdicts.json, grants.json, sessions.json and coverage.csv
/// against the events they summarise.
fn check_records(archive: &mut Archive, kept: &[Event], summary: &Summary, out: &mut Outcome) {
    let failures_before = out.failures.len();
    let by_action =
        |action: &'static str| kept.iter().filter(move |e| e.leaf.action == action && e.leaf.outcome == "ok");

    // Comments: each created in the bundle matches its event (text hash, place); each comment
    // event has its comment.
    let created: HashMap<i64, &Event> =
        by_action("comment.create").filter_map(|e| Some((e.leaf.details["comment_id"].as_i64()?, e))).collect();
    let mut comment_seen = HashSet::new();
    let comments: Vec<ThreadRecord> = json_member(archive, members::COMMENTS, out).unwrap_or_default();
    let finding_threads: BTreeMap<i64, &ThreadRecord> =
        comments.iter().filter(|t| t.kind == "finding").map(|t| (t.id, t)).collect();
    for thread in &comments {
        for comment in &thread.comments {
            let id = comment.id;
            let Some(event) = created.get(&id) else {
                if comment.event.is_some() {
                    out.fail(format!("comments.json: comment {id} names an event that is not its comment.create"));
                }
                continue;
            };
            comment_seen.insert(id);
            let first = comment.versions.first().map(|v| v.body.as_str()).unwrap_or("");
            if event.leaf.details["content_sha256"].as_str() != Some(sha256_hex(first.as_bytes()).as_str()) {
                out.fail(format!(
                    "comments.json: comment {id}'s text differs from what entry {} recorded",
                    event.index
                ));
            }
            if Some(comment.author.as_str()) != event.leaf.actor.as_deref() {
                out.fail(format!("comments.json: comment {id}'s author differs from entry {}", event.index));
            }
            if comment.id == thread.id {
                let object = event.leaf.objects.first();
                let lines = object.and_then(|o| o.lines).map(|[a, b]| [a, b].map(u64::from));
                let thread_lines = thread.lines.map(|l| l.map(u64::from));
                if object.map(|o| o.path.as_str()) != Some(thread.path.as_str()) || lines != thread_lines {
                    out.fail(format!("comments.json: thread {id}'s place differs from entry {}", event.index));
                }
                if event.leaf.details["kind"].as_str() != Some(thread.kind.as_str())
                    || event.leaf.details["severity"].as_str() != thread.severity.as_deref()
                {
                    out.fail(format!(
                        "comments.json: thread {id}'s kind or severity differs from entry {}",
                        event.index
                    ));
                }
            }
        }
    }
    for edit in by_action("comment.edit") {
        let id = edit.leaf.details["comment_id"].as_i64().unwrap_or(-1);
        let version = edit.leaf.details["version"].as_u64().unwrap_or(0);
        let body = comments
            .iter()
            .flat_map(|t| &t.comments)
            .find(|c| c.id == id)
            .and_then(|c| c.versions.iter().find(|v| u64::from(v.version) == version));
        match body {
            Some(version_record)
                if edit.leaf.details["content_sha256"].as_str()
                    == Some(sha256_hex(version_record.body.as_bytes()).as_str()) => {}
            Some(_) => {
                out.fail(format!("comments.json: comment {id} version {version} differs from entry {}", edit.index))
            }
            None => {
                out.fail(format!("comments.json: comment {id} version {version} (entry {}) is missing", edit.index))
            }
        }
    }
    for (id, event) in &created {
        if !comment_seen.contains(id) {
            out.fail(format!("comments.json: comment {id} of entry {} is missing", event.index));
        }
    }

    // Findings: one SARIF result per finding thread, agreeing with it.
    match json_member::<SarifLog>(archive, members::FINDINGS, out) {
        None => out.fail("findings.sarif is missing or unreadable"),
        Some(sarif) => {
            if sarif.version != "2.1.0" {
                out.fail("findings.sarif: not SARIF 2.1.0");
            }
            let mut results_seen = HashSet::new();
            for result in sarif.runs.iter().flat_map(|run| &run.results) {
                let id = result.properties.thread;
                results_seen.insert(id);
                let Some(thread) = finding_threads.get(&id) else {
                    out.fail(format!("findings.sarif: a result for thread {id}, which is no finding in comments.json"));
                    continue;
                };
                let severity = thread.severity.as_deref().and_then(|s| app::model::Severity::parse(s).ok());
                let state = app::model::ThreadState::parse(&thread.state).ok();
                let (kind, level, suppression) =
                    state.map(|state| super::sarif::classify(severity, state)).unwrap_or(("fail", "", None));
                let expected_location = super::sarif::location(&thread.path, thread.lines);
                let first_author = thread.comments.first().map(|c| c.author.as_str());
                let status = result.suppressions.as_ref().and_then(|s| s.first()).map(|s| s.status.as_str());
                if result.level != level
                    || result.kind != kind
                    || status != suppression
                    || result.properties.state != thread.state
                    || Some(result.properties.reviewer.as_str()) != first_author
                    || result.locations != expected_location
                {
                    out.fail(format!("findings.sarif: the result for thread {id} disagrees with comments.json"));
                }
            }
            for id in finding_threads.keys() {
                if !results_seen.contains(id) {
                    out.fail(format!("findings.sarif: finding {id} has no result"));
                }
            }
        }
    }

    // Verdicts.
    let submitted: HashMap<i64, &Event> =
        by_action("verdict.submit").filter_map(|e| Some((e.leaf.details["verdict_id"].as_i64()?, e))).collect();
    let verdicts: Vec<VerdictRecord> = json_member(archive, members::VERDICTS, out).unwrap_or_default();
    let mut verdicts_seen = HashSet::new();
    for verdict in &verdicts {
        let id = verdict.id;
        verdicts_seen.insert(id);
        match submitted.get(&id) {
            None => out.fail(format!("verdicts.json: verdict {id} has no verdict.submit event in the bundle")),
            Some(event) => {
                let summary_hash = sha256_hex(verdict.summary.as_bytes());
                if event.leaf.details["verdict"].as_str() != Some(verdict.verdict.as_str())
                    || event.leaf.details["summary_sha256"].as_str() != Some(summary_hash.as_str())
                    || event.leaf.actor.as_deref() != Some(verdict.reviewer.as_str())
                {
                    out.fail(format!("verdicts.json: verdict {id} differs from entry {}", event.index));
                }
            }
        }
    }
    for (id, event) in &submitted {
        if !verdicts_seen.contains(id) {
            out.fail(format!("verdicts.json: verdict {id} of entry {} is missing", event.index));
        }
    }

    // Grants.
    let granted: HashMap<i64, &Event> =
        by_action("grant.create").filter_map(|e| Some((e.leaf.details["grant_id"].as_i64()?, e))).collect();
    let grants: Vec<GrantRecord> = json_member(archive, members::GRANTS, out).unwrap_or_default();
    let mut grant_ids = HashSet::new();
    for grant in &grants {
        let id = grant.id;
        grant_ids.insert(id);
        match granted.get(&id) {
            None => out.fail(format!("grants.json: grant {id} has no grant.create event in the bundle")),
            Some(event) => {
                let starts = app::times::parse(&grant.starts_at).ok();
                if event.leaf.details["grantee"].as_str() != Some(grant.reviewer.as_str())
                    || event.leaf.details["starts_at_ms"].as_i64() != starts
                    || event.leaf.objects.first().map(|o| o.pin) != Some(grant.pin)
                {
                    out.fail(format!("grants.json: grant {id} differs from entry {}", event.index));
                }
            }
        }
    }
    for (id, event) in &granted {
        if !grant_ids.contains(id) {
            out.fail(format!("grants.json: grant {id} of entry {} is missing", event.index));
        }
    }
    for change in kept.iter().filter(|e| is_grant_change(&e.leaf)) {
        let id = change.leaf.details["grant_id"].as_i64().unwrap_or(-1);
        if !grant_ids.contains(&id) {
            out.fail(format!("entry {}: a change of grant {id}, which is not in grants.json", change.index));
        }
    }

    // Sessions.
    match json_member::<Vec<super::SessionSummary>>(archive, members::SESSIONS, out) {
        Some(listed) => {
            let computed: Vec<&super::SessionSummary> = summary.sessions.values().collect();
            if listed.len() != computed.len() || listed.iter().zip(&computed).any(|(a, b)| a != *b) {
                out.fail("sessions.json: differs from the sessions the events show");
            }
        }
        None => out.fail("sessions.json is missing"),
    }

    // Coverage.
    match read_member(archive, members::COVERAGE) {
        None => out.fail("coverage.csv is missing"),
        Some(bytes) => {
            let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes.as_slice());
            let header_ok = reader.headers().map(|h| h.iter().eq(super::COVERAGE_HEADER)).unwrap_or(false);
            if !header_ok {
                out.fail("coverage.csv: its header is not the documented one");
            }
            let mut rows_seen = HashSet::new();
            let mut mismatches = 0;
            for record in reader.records() {
                let Ok(record) = record else {
                    out.fail("coverage.csv: not valid CSV");
                    break;
                };
                let pin = record.get(0).and_then(|p| p.parse::<i64>().ok()).unwrap_or(-1);
                let path = super::csv_uncell(record.get(1).unwrap_or("")).to_string();
                let expected = summary.files.get(&(pin, path.clone())).cloned().unwrap_or(super::CoverageRow {
                    pin,
                    path: path.clone(),
                    ..Default::default()
                });
                let mut expected_record = expected.record();
                expected_record[2] = record.get(2).unwrap_or("").to_string(); // lines: from the pin's index
                if !record.iter().eq(expected_record.iter().map(String::as_str)) {
                    mismatches += 1;
                    if mismatches <= 5 {
                        out.fail(format!("coverage.csv: the row of pin {pin} {path} differs from the events"));
                    }
                }
                rows_seen.insert((pin, path));
            }
            for key in summary.files.keys() {
                if !rows_seen.contains(key) {
                    out.fail(format!("coverage.csv: no row for pin {} {}, which the events show", key.0, key.1));
                }
            }
        }
    }
    if out.failures.len() == failures_before {
        out.pass("records: comments, findings, verdicts, grants, sessions and coverage agree with the events");
    }
}
