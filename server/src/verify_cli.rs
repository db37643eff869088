//! `server verify log`: feeds a `LogVerifier` from a server's API or straight from a database, and
//! prints a report. Exits non-zero, naming the first bad index, when anything does not verify.

use crate::audit::note::NoteVerifier;
use crate::audit::verify::{Failure, LogVerifier};
use crate::audit::AuditLog;
use crate::store::Store;
use anyhow::{bail, Context as _};
use base64::Engine as _;
use std::path::Path;

const PAGE: u64 = 1000;

pub async fn verify_log(
    key_file: &Path,
    old_checkpoint: Option<&Path>,
    url: Option<&str>,
    token: Option<&str>,
    database_url: &str,
) -> anyhow::Result<()> {
    let key_text = std::fs::read_to_string(key_file).with_context(|| format!("reading {}", key_file.display()))?;
    let key = NoteVerifier::parse(&key_text).map_err(|e| anyhow::anyhow!("{}: {e}", key_file.display()))?;
    let old = match old_checkpoint {
        Some(path) => Some(std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?),
        None => None,
    };
    println!("verifier key: {key}");
    println!("fingerprint:  {}", key.fingerprint());
    let started = std::time::Instant::now();
    let outcome = match url {
        Some(url) => from_server(&key, old.as_deref(), url.trim_end_matches('/'), token).await?,
        None => from_database(&key, old.as_deref(), database_url).await?,
    };
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

async fn from_database(
    key: &NoteVerifier,
    old: Option<&str>,
    database_url: &str,
) -> anyhow::Result<Result<crate::audit::verify::Report, Failure>> {
    let store = Store::connect(database_url).await.context("opening the database")?;
    let log = AuditLog::new(store, crate::clock::Clock::system());
    let Some(latest) = log.latest_checkpoint().await? else { bail!("this log has no signed checkpoint yet") };
    let mut verifier = match LogVerifier::new(key, &latest.note, old) {
        Ok(v) => v,
        Err(failure) => return Ok(Err(failure)),
    };
    let size = verifier.size();
    let mut start = 0u64;
    while start < size {
        let end = (start + 10 * PAGE).min(size);
        let page = log.raw_entries(start, end).await?;
        for (index, leaf, hash) in &page {
            if let Err(failure) = verifier.push(*index, leaf, hash) {
                return Ok(Err(failure));
            }
        }
        if page.len() as u64 != end - start {
            break; // Missing rows: finish() names the first.
        }
        start = end;
    }
    Ok(verifier.finish())
}

async fn from_server(
    key: &NoteVerifier,
    old: Option<&str>,
    url: &str,
    token: Option<&str>,
) -> anyhow::Result<Result<crate::audit::verify::Report, Failure>> {
    let client = reqwest::Client::new();
    let get = |path: String| {
        let request = client.get(format!("{url}{path}"));
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    };
    let response = get("/api/v1/log/checkpoint".into()).send().await.context("fetching the checkpoint")?;
    if !response.status().is_success() {
        bail!("the server answered {} for the checkpoint", response.status());
    }
    let note = response.text().await?;
    let mut verifier = match LogVerifier::new(key, &note, old) {
        Ok(v) => v,
        Err(failure) => return Ok(Err(failure)),
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
                return Ok(Err(failure));
            }
        }
        if (entries.len() as u64) < end - start {
            break;
        }
        start = end;
    }
    Ok(verifier.finish())
}
