//! The records of a bundle against its events: comments.json, findings.sarif, verdicts.json,
//! grants.json, sessions.json and coverage.csv, each read as its `bundle` type and checked against
//! what the events (and the summaries computed from them) say.

use super::{is_grant_change, read_member, Archive, Event, Outcome, Trust};
use crate::builds::sha256_hex;
use crate::export::bundle::{GrantRecord, SarifLog, ThreadRecord, VerdictRecord};
use crate::export::compiled::{member_name, records, BundledMap, CompiledRecord, MapMember};
use crate::export::{members, Summary};
use std::collections::{BTreeMap, HashMap, HashSet};

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
pub(super) fn check_records(archive: &mut Archive, kept: &[Event], summary: &Summary, out: &mut Outcome) {
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
                let recorded_cwe: Vec<u64> = event.leaf.details["cwe"]
                    .as_array()
                    .map(|ids| ids.iter().filter_map(serde_json::Value::as_u64).collect())
                    .unwrap_or_default();
                let thread_cwe: Vec<u64> = thread.cwe.iter().map(|id| u64::from(*id)).collect();
                let recorded_requirements: Vec<&str> = event.leaf.details["requirements"]
                    .as_array()
                    .map(|ids| ids.iter().filter_map(serde_json::Value::as_str).collect())
                    .unwrap_or_default();
                if event.leaf.details["kind"].as_str() != Some(thread.kind.as_str())
                    || event.leaf.details["severity"].as_str() != thread.severity.as_deref()
                    || recorded_cwe != thread_cwe
                    || !recorded_requirements.iter().copied().eq(thread.requirements.iter().map(String::as_str))
                {
                    out.fail(format!(
                        "comments.json: thread {id}'s kind, severity, CWE ids or requirements differ from entry {}",
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
                    state.map(|state| crate::export::sarif::classify(severity, state)).unwrap_or(("fail", "", None));
                let expected_location = crate::export::sarif::location(&thread.path, thread.lines);
                let first_author = thread.comments.first().map(|c| c.author.as_str());
                let status = result.suppressions.as_ref().and_then(|s| s.first()).map(|s| s.status.as_str());
                let taxa: Vec<String> = result.taxa.iter().flatten().map(|t| t.id.clone()).collect();
                let cwe: Vec<String> = thread.cwe.iter().map(u32::to_string).collect();
                if result.level != level
                    || taxa != cwe
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
    match json_member::<Vec<crate::export::SessionSummary>>(archive, members::SESSIONS, out) {
        Some(listed) => {
            let computed: Vec<&crate::export::SessionSummary> = summary.sessions.values().collect();
            if listed.len() != computed.len() || listed.iter().zip(&computed).any(|(a, b)| a != *b) {
                out.fail("sessions.json: differs from the sessions the events show");
            }
        }
        None => out.fail("sessions.json is missing"),
    }

    // Compiled-code maps, then coverage (whose `compiled_lines` the maps give).
    let maps = check_compiled(archive, summary, out);
    let compiled_lines = crate::export::compiled::compiled_lines(&maps);
    match read_member(archive, members::COVERAGE) {
        None => out.fail("coverage.csv is missing"),
        Some(bytes) => {
            let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes.as_slice());
            // Bundles written before `compiled_lines` have the first eight columns.
            let header: Vec<String> =
                reader.headers().map(|h| h.iter().map(str::to_string).collect()).unwrap_or_default();
            let columns = header.len();
            let header_ok = (columns == 8 || columns == 9)
                && header.iter().map(String::as_str).eq(crate::export::COVERAGE_HEADER[..columns].iter().copied());
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
                let path = crate::export::csv_uncell(record.get(1).unwrap_or("")).to_string();
                let expected = summary.files.get(&(pin, path.clone())).cloned().unwrap_or(crate::export::CoverageRow {
                    pin,
                    path: path.clone(),
                    ..Default::default()
                });
                let expected = crate::export::CoverageRow {
                    compiled_lines: compiled_lines.get(&(pin, path.clone())).copied(),
                    ..expected
                };
                let mut expected_record = expected.record();
                expected_record[2] = record.get(2).unwrap_or("").to_string(); // lines: from the pin's index
                if !record.iter().eq(expected_record.iter().take(columns).map(String::as_str)) {
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
    super::traceability::check(archive, &comments, summary, out);
    if out.failures.len() == failures_before {
        out.pass(
            "records: comments, findings, verdicts, grants, sessions, coverage and traceability agree with the events",
        );
    }
}

/// The compiled-code maps: each `compiled/<pin>-<sha256>.json` is the map whose SHA-256 the latest
/// `done` `artifact.compiled_map` event of the bundle for that pin and artifact records, and
/// `compiled.json` is what those maps and the events give. Returns the maps that hold.
fn check_compiled(archive: &mut Archive, summary: &Summary, out: &mut Outcome) -> Vec<BundledMap> {
    let listed: Vec<CompiledRecord> = json_member(archive, members::COMPILED, out).unwrap_or_default();
    let present: Vec<String> = archive
        .file_names()
        .filter_map(|name| name.ok().map(|name| name.into_owned()))
        .filter(|name| name.starts_with("compiled/"))
        .collect();
    let mut maps = Vec::new();
    let mut failed = false;
    for ((pin, sha256), digest) in &summary.maps {
        let name = member_name(*pin, sha256);
        let Some(bytes) = read_member(archive, &name) else {
            out.note(format!("{name}: an event records this map (sha256 {digest}), but the bundle does not hold it (built again since the export's checkpoint)"));
            continue;
        };
        if sha256_hex(&bytes) != *digest {
            failed = true;
            out.fail(format!("{name}: its SHA-256 is not the map_sha256 its artifact.compiled_map event records"));
            continue;
        }
        let Ok(map) = serde_json::from_slice::<MapMember>(&bytes) else {
            failed = true;
            out.fail(format!("{name}: not a compiled-code map"));
            continue;
        };
        // The artifact's name is the builds' word for it: the digests name the bytes.
        let artifact = listed.iter().find(|r| r.pin == *pin && r.sha256 == *sha256).map(|r| r.artifact.clone());
        let (pin, sha256, map_sha256) = (*pin, sha256.clone(), digest.clone());
        maps.push(BundledMap { pin, sha256, artifact: artifact.unwrap_or_default(), map_sha256, map });
    }
    for name in present {
        if !summary.maps.keys().any(|(pin, sha256)| member_name(*pin, sha256) == name) {
            failed = true;
            out.fail(format!("{name}: no artifact.compiled_map event of the bundle records this map"));
        }
    }
    if records(&maps, summary) != listed {
        failed = true;
        out.fail("compiled.json: differs from the compiled coverage the bundled maps and the events give");
    }
    if !failed && !maps.is_empty() {
        out.pass(format!(
            "compiled code: {} maps, each the one its event's SHA-256 names; compiled.json's coverage recomputed from the events",
            maps.len()
        ));
    }
    maps
}

/// attestations.intoto.jsonl: each envelope is one an `attestation.issue` event of the bundle
/// names by its SHA-256, and is signed by the attestation key (the regulator's, else the
/// bundle's own, which is said); each such event's envelope is there.
pub(super) fn check_attestations(archive: &mut Archive, kept: &[Event], trust: &Trust<'_>, out: &mut Outcome) {
    let issued: HashMap<String, u64> = kept
        .iter()
        .filter(|e| e.leaf.action == "attestation.issue")
        .filter_map(|e| Some((e.leaf.details["envelope_sha256"].as_str()?.to_string(), e.index)))
        .collect();
    let bundle_key = read_member(archive, members::ATTESTATION_KEY)
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|text| crate::builds::parse_public_key(&text));
    let key = trust.attestation_key.copied().or(bundle_key);
    if trust.attestation_key.is_none() && key.is_some() {
        out.note("attestations were checked with the bundle's own key (keys/attestation.pem); pass --attestation-key for an independent check");
    }
    let text = read_member(archive, members::ATTESTATIONS).unwrap_or_default();
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
}
