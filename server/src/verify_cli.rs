//! `server verify log`: feeds a `LogVerifier` from a server's API or straight from a database, and
//! prints a report. Exits non-zero, naming the first bad index, when anything does not verify.

use crate::audit::note::NoteVerifier;
use crate::audit::verify::{Failure, LogVerifier, Prepared};
use crate::audit::AuditLog;
use crate::store::Store;
use anyhow::{bail, Context as _};
use base64::Engine as _;
use std::path::Path;

const PAGE: u64 = 1000;

/// How many pages of a local database are read at once, ahead of the checking.
const READ_AHEAD: usize = 4;

pub async fn verify_log(
    key_file: &Path,
    old_checkpoint: Option<&Path>,
    url: Option<&str>,
    token: Option<&str>,
    database_url: &str,
    policy_file: Option<&Path>,
) -> anyhow::Result<()> {
    let policy = match policy_file {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Some(crate::audit::policy::Policy::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?)
        }
        None => None,
    };
    let key_text = std::fs::read_to_string(key_file).with_context(|| format!("reading {}", key_file.display()))?;
    let key = NoteVerifier::parse(&key_text).map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?;
    let old = match old_checkpoint {
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?),
        None => None,
    };
    println!("verifier key: {key}");
    println!("fingerprint:  {}", key.fingerprint());
    let started = std::time::Instant::now();
    let (outcome, note) = match url {
        Some(url) => from_server(&key, old.as_deref(), url.trim_end_matches('/'), token, policy.as_ref()).await?,
        None => from_database(&key, old.as_deref(), database_url, policy.as_ref()).await?,
    };
    if let (Some(policy), Ok(_)) = (&policy, &outcome) {
        let cosigners = check_quorum(policy, &note)?;
        println!("witnesses:    {} cosigned; the policy's quorum is met", cosigners.join(", "));
    }
    match outcome {
        Ok(report) => {
            println!("checkpoint:   {} entries, root {}", report.size, hex::encode(report.root));
            println!("entries:      all {} verified (leaf hashes, chain, root)", report.size);
            if let Some(old_size) = report.consistent_with {
                println!("consistency:  the log extends the old checkpoint of {old_size} entries");
            }
            println!("OK in {:.2} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Err(failure) => {
            println!("FAILED: {failure}");
            bail!("verification failed: {failure}")
        }
    }
}

type Outcome = (Result<crate::audit::verify::Report, Failure>, String);

/// The witnesses of `policy` with a valid cosignature on `note`; fails unless they meet its quorum.
pub fn check_quorum(policy: &crate::audit::policy::Policy, note: &str) -> anyhow::Result<Vec<String>> {
    let mut names = Vec::new();
    for witness in &policy.witnesses {
        if let Ok(Some(_)) = witness.key.cosigned_at(note) {
            names.push(witness.name.clone());
        }
    }
    let set: std::collections::HashSet<String> = names.iter().cloned().collect();
    if !policy.satisfied(&set) {
        println!("FAILED: the checkpoint's cosignatures ({}) do not meet the policy's quorum", names.join(", "));
        bail!("the witnesses' quorum is not met");
    }
    Ok(names)
}

async fn from_database(
    key: &NoteVerifier,
    old: Option<&str>,
    database_url: &str,
    policy: Option<&crate::audit::policy::Policy>,
) -> anyhow::Result<Outcome> {
    let store = Store::connect(database_url).await.context("opening the database")?;
    let log = AuditLog::new(store.clone(), crate::clock::Clock::system());
    let note = match policy {
        Some(policy) => {
            let supervision = crate::audit::witnessing::Supervision::new(policy.clone());
            match supervision.cosigned(&store, true).await? {
                Some(cosigned) => cosigned.note,
                None => bail!("no checkpoint of this log meets the policy's quorum"),
            }
        }
        None => match log.latest_checkpoint().await? {
            Some(latest) => latest.note,
            None => bail!("this log has no signed checkpoint yet"),
        },
    };
    let mut verifier = match LogVerifier::new(key, &note, old) {
        Ok(v) => v,
        Err(failure) => return Ok((Err(failure), note)),
    };
    // Reading, hashing and checking overlap: a task reads and hashes pages ahead (`READ_AHEAD` at a
    // time, each hashed on a blocking thread as soon as it is read, so pages are hashed side by side)
    // and hands them on in order to one thread that checks the chain and the root.
    let size = verifier.size();
    let (pages, mut received) = tokio::sync::mpsc::channel::<anyhow::Result<Vec<Prepared>>>(READ_AHEAD);
    let reader = tokio::spawn(async move {
        let read = |start: u64| {
            let end = (start + 10 * PAGE).min(size);
            let log = log.clone();
            let task = tokio::spawn(async move {
                let entries = log.raw_entries(start, end).await?;
                tokio::task::spawn_blocking(move || LogVerifier::prepare(&entries))
                    .await
                    .map_err(|_| anyhow::anyhow!("hashing entries {start}..{end} stopped unexpectedly"))
            });
            (start, end, task)
        };
        let mut ahead = std::collections::VecDeque::new();
        let mut next_start = 0u64;
        loop {
            while ahead.len() < READ_AHEAD && next_start < size {
                let (start, end, task) = read(next_start);
                ahead.push_back((start, end, task));
                next_start = end;
            }
            let Some((start, end, task)) = ahead.pop_front() else { break };
            let page = match task.await {
                Ok(page) => page,
                Err(_) => Err(anyhow::anyhow!("reading entries {start}..{end} stopped unexpectedly")),
            };
            let stop = page.as_ref().map_or(true, |p| p.len() as u64 != end - start);
            if pages.send(page).await.is_err() || stop {
                break; // The checker stopped, rows are missing (finish() names the first), or an error.
            }
        }
        for (_, _, task) in ahead {
            task.abort();
        }
    });
    let checked = tokio::task::spawn_blocking(move || {
        while let Some(page) = received.blocking_recv() {
            if let Err(failure) = verifier.push_prepared(&page?) {
                return Ok(Err(failure));
            }
        }
        Ok::<_, anyhow::Error>(verifier.finish())
    })
    .await
    .map_err(|_| anyhow::anyhow!("the checking thread stopped unexpectedly"))?;
    reader.abort();
    Ok((checked?, note))
}

async fn from_server(
    key: &NoteVerifier,
    old: Option<&str>,
    url: &str,
    token: Option<&str>,
    policy: Option<&crate::audit::policy::Policy>,
) -> anyhow::Result<Outcome> {
    let client = reqwest::Client::new();
    let get = |path: String| {
        let request = client.get(format!("{url}{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };
    // With a policy, the cosigned checkpoint the server serves; without, the newest.
    let path = if policy.is_some() { "/api/v1/log/checkpoint" } else { "/api/v1/log/checkpoint?latest=1" };
    let response = get(path.into()).send().await.context("fetching the checkpoint")?;
    if !response.status().is_success() {
        bail!("the server answered {} for the checkpoint", response.status());
    }
    let note = response.text().await?;
    let mut verifier = match LogVerifier::new(key, &note, old) {
        Ok(v) => v,
        Err(failure) => return Ok((Err(failure), note)),
    };
    let size = verifier.size();
    let mut start = 0u64;
    while start < size {
        let end = (start + PAGE).min(size);
        let response = get(format!("/api/v1/log/entries?start={start}&end={end}")).send().await?;
        if !response.status().is_success() {
            bail!("the server answered {} for entries {start}..{end}", response.status());
        }
        let body: serde_json::Value = response.json().await?;
        let entries = body["entries"].as_array().cloned().unwrap_or_default();
        for entry in &entries {
            let index = entry["index"].as_u64().context("an entry without an index")?;
            let leaf = base64::engine::general_purpose::STANDARD
                .decode(entry["leaf"].as_str().unwrap_or(""))
                .context("an entry's leaf is not base64")?;
            let hash = hex::decode(entry["leaf_hash"].as_str().unwrap_or("")).context("a leaf hash is not hex")?;
            if let Err(failure) = verifier.push(index, &leaf, &hash) {
                return Ok((Err(failure), note));
            }
        }
        if (entries.len() as u64) < end - start {
            break;
        }
        start = end;
    }
    Ok((verifier.finish(), note))
}

/// `server verify attestation`: checks each envelope in a file (one JSON document, or one per
/// line) against a public key, offline. Prints what each attests; fails naming the first bad one.
pub fn verify_attestation(envelope_file: &Path, key_file: &Path) -> anyhow::Result<()> {
    let key_text = std::fs::read_to_string(key_file).with_context(|| format!("reading {}", key_file.display()))?;
    let key = crate::builds::parse_public_key(&key_text).ok_or_else(|| {
        anyhow::anyhow!("{} is not an Ed25519 public key (PEM, or 32 bytes in base64)", key_file.display())
    })?;
    let text =
        std::fs::read_to_string(envelope_file).with_context(|| format!("reading {}", envelope_file.display()))?;
    let documents: Vec<&str> =
        if text.trim_start().starts_with('{') && serde_json::from_str::<serde_json::Value>(&text).is_ok() {
            vec![text.as_str()]
        } else {
            text.lines().filter(|l| !l.trim().is_empty()).collect()
        };
    if documents.is_empty() {
        bail!("{} holds no envelope", envelope_file.display());
    }
    println!("key id:       {}", crate::builds::key_id(&key));
    for (number, document) in documents.iter().enumerate() {
        match crate::builds::verify_envelope(document, &key) {
            Ok(statement) => {
                let subjects: Vec<String> = statement["subject"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| {
                        format!(
                            "{} sha256:{}",
                            s["name"].as_str().unwrap_or(""),
                            s["digest"]["sha256"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                println!(
                    "envelope {}: OK {} for {}",
                    number + 1,
                    statement["predicateType"].as_str().unwrap_or(""),
                    subjects.join(", ")
                );
            }
            Err(error) => {
                println!("envelope {}: FAILED: {error}", number + 1);
                bail!("envelope {} does not verify: {error}", number + 1);
            }
        }
    }
    println!("OK: {} verified", app::html::counted(documents.len() as u64, "envelope", "envelopes"));
    Ok(())
}

/// `server verify binary`: hashes a file locally and asks the server what it was built from; each
/// envelope returned is checked against the attestation key the server publishes.
/// A file's SHA-256 (lowercase hex) and size, read a MiB at a time.
pub fn sha256_file(file: &Path) -> anyhow::Result<(String, u64)> {
    use sha2::Digest as _;
    use std::io::Read as _;
    let mut input = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = input.read(&mut buffer).with_context(|| format!("reading {}", file.display()))?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

pub async fn verify_binary(file: &Path, url: &str, token: Option<&str>) -> anyhow::Result<()> {
    let (sha256, size) = sha256_file(file)?;
    println!("file:         {} ({size} bytes)", file.display());
    println!("sha256:       {sha256}");
    let base = url.trim_end_matches('/');
    let client = reqwest::Client::new();
    let get = |path: String| {
        let request = client.get(format!("{base}{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };
    let fetch = async |path: String| -> anyhow::Result<serde_json::Value> {
        let response = get(path.clone()).send().await.with_context(|| format!("asking {base}{path}"))?;
        let status = response.status();
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        if !status.is_success() {
            bail!("{path}: {status}: {}", body["error"].as_str().unwrap_or(""));
        }
        Ok(body)
    };
    let lookup = fetch(format!("/api/v1/artifacts/{sha256}")).await?;
    let keys = fetch("/api/v1/keys".into()).await?;
    let envelopes = fetch(format!("/api/v1/attestations/{sha256}")).await?;
    let origins = lookup["origins"].as_array().cloned().unwrap_or_default();
    if origins.is_empty() {
        println!("NOT A RECORDED BUILD: no pin records this hash");
        bail!("{} is not a recorded build", file.display());
    }
    for origin in &origins {
        let pin = &origin["pin"];
        println!(
            "built from:   pin {} \"{}\" of {} at commit {}",
            pin["id"],
            pin["label"].as_str().unwrap_or(""),
            pin["repository"].as_str().unwrap_or(""),
            pin["commit_id"].as_str().unwrap_or("")
        );
        println!(
            "artifact:     {} {}",
            origin["name"].as_str().unwrap_or(""),
            origin["platform"].as_str().unwrap_or("")
        );
        println!("builders:     {}", origin["builders"]);
        let room = if origin["room_reproduced"] == true { "yes (the centre's own build gave this file)" } else { "no" };
        println!("built in the room: {room}");
        println!("reproducible: {}", origin["status"]);
        println!("verdicts:     {}", origin["verdicts"]);
    }
    let key = keys["attestation"]["public_key_pem"]
        .as_str()
        .and_then(crate::builds::parse_public_key)
        .ok_or_else(|| anyhow::anyhow!("the server published no attestation key"))?;
    let list = envelopes["envelopes"].as_array().cloned().unwrap_or_default();
    for envelope in &list {
        crate::builds::verify_envelope(&envelope.to_string(), &key)
            .map_err(|e| anyhow::anyhow!("an attestation for this file does not verify: {e}"))?;
    }
    println!(
        "attestations: {}, each verified with key {}",
        app::html::counted(list.len() as u64, "envelope", "envelopes"),
        crate::builds::key_id(&key)
    );
    let mismatch = origins.iter().any(|o| o["status"]["status"] == "mismatch");
    if mismatch {
        println!("WARNING: builders of this artifact recorded different hashes (mismatch)");
        bail!("reproducibility mismatch");
    }
    println!("OK");
    Ok(())
}

/// `server verify bundle`: checks an export bundle offline and prints what held and what failed.
pub fn verify_bundle(
    bundle: &Path,
    key_file: &Path,
    attestation_key: Option<&Path>,
    policy_file: Option<&Path>,
    previous: Option<&Path>,
) -> anyhow::Result<()> {
    let read = |path: &Path| std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()));
    let key = NoteVerifier::parse(&read(key_file)?).map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?;
    let attestation = match attestation_key {
        Some(path) => Some(crate::builds::parse_public_key(&read(path)?).ok_or_else(|| {
            anyhow::anyhow!("{} is not an Ed25519 public key (PEM, or 32 bytes in base64)", path.display())
        })?),
        None => None,
    };
    let policy = match policy_file {
        Some(path) => Some(
            crate::audit::policy::Policy::parse(&read(path)?)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        ),
        None => None,
    };
    let previous = match previous {
        Some(path) => {
            let text = read(path)?.replace("\r\n", "\n");
            Some(if text.ends_with('\n') { text } else { format!("{text}\n") })
        }
        None => None,
    };
    println!("bundle:       {}", bundle.display());
    println!("log key:      {key} ({})", key.fingerprint());
    let trust = crate::export::verify::Trust {
        log_key: &key,
        attestation_key: attestation.as_ref(),
        policy: policy.as_ref(),
        previous_checkpoint: previous.as_deref(),
    };
    let started = std::time::Instant::now();
    let outcome = crate::export::verify::verify_bundle(bundle, &trust);
    for line in &outcome.passed {
        println!("OK      {line}");
    }
    for line in &outcome.notes {
        println!("NOTE    {line}");
    }
    for line in &outcome.failures {
        println!("FAILED  {line}");
    }
    if outcome.ok() {
        println!("VERIFIED in {:.2} s", started.elapsed().as_secs_f64());
        Ok(())
    } else {
        let failures = app::html::counted(outcome.failures.len() as u64, "failure", "failures");
        println!("NOT VERIFIED: {failures}");
        bail!("the bundle does not verify: {failures}")
    }
}
