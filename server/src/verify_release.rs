//! `server verify release`: checks a file against the public log without trusting the server.
//! The statement and its inclusion come from the tiles of a server (`--url`), from a proof file
//! saved earlier (`--proof`, `server release proof`), or from a Transparent Statement with its
//! receipt (`--statement`); then the checkpoint's signature (and witnesses' quorum), the inclusion,
//! the statement's COSE signature, the DSSE signatures of the vendor and the supervisors' quorum,
//! and that the file's hash is one of the release's subjects. Every failure is named.

use crate::audit::merkle::{leaf_hash, Hash};
use crate::audit::note::NoteVerifier;
use crate::audit::proof::{self, Nodes};
use crate::audit::tiles::{self, TileKind, TileRef};
use crate::builds::{key_id, pae, Envelope};
use crate::transparency::{cose, RELEASE_CONTENT_TYPE};
use anyhow::{bail, Context as _};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The proof file's `type`.
pub const PROOF_TYPE: &str = "https://clearroom.dev/release-proof/v1";

/// A saved proof: the statement, where it is, and the checkpoint it is included in.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProofFile {
    #[serde(rename = "type")]
    pub kind: String,
    pub index: u64,
    /// The Signed Statement, base64.
    pub statement: String,
    /// The inclusion proof's hashes at the checkpoint's size, base64, bottom up.
    pub inclusion: Vec<String>,
    /// The checkpoint (a signed note, with the witnesses' cosignatures).
    pub checkpoint: String,
}

/// What the command was given.
pub struct Inputs<'a> {
    pub file: &'a Path,
    pub bt_key: Option<&'a str>,
    pub supervisor_keys: &'a [String],
    pub vendor_key: Option<&'a str>,
    pub policy: Option<&'a Path>,
    pub url: Option<&'a str>,
    pub proof: Option<&'a Path>,
    pub statement: Option<&'a Path>,
    pub service_key: Option<&'a str>,
}

/// A key given as a file or as the text itself.
fn key_text(given: &str) -> String {
    std::fs::read_to_string(given).unwrap_or_else(|_| given.to_string()).trim().to_string()
}

fn fail(what: String) -> anyhow::Error {
    println!("FAILED: {what}");
    anyhow::anyhow!("verification failed: {what}")
}

pub async fn verify_release(inputs: Inputs<'_>) -> anyhow::Result<()> {
    let (sha256, _) = crate::verify_cli::sha256_file(inputs.file)?;
    println!("file:        {} sha256 {sha256}", inputs.file.display());
    let statement = match (inputs.statement, inputs.proof, inputs.url) {
        (Some(path), _, _) => from_transparent(path, inputs.service_key)?,
        (None, Some(path), _) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let proof: ProofFile =
                serde_json::from_str(&text).map_err(|_| fail(format!("{} is not a release proof", path.display())))?;
            from_proof(&proof, &inputs)?
        }
        (None, None, Some(url)) => {
            let proof = fetch_proof(url.trim_end_matches('/'), &sha256).await?;
            from_proof(&proof, &inputs)?
        }
        _ => bail!("give --url, --proof or --statement"),
    };
    check_statement(&statement, &sha256, &inputs)?;
    println!("verified:    the file is part of an authorised release");
    Ok(())
}

/// A Transparent Statement: its receipt checked with the service's key.
fn from_transparent(path: &Path, service_key: Option<&str>) -> anyhow::Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let key =
        service_key.ok_or_else(|| anyhow::anyhow!("--statement needs --service-key (the vkey line of /bt/key)"))?;
    let key =
        NoteVerifier::parse(&key_text(key)).map_err(|_| fail("--service-key is not a verifier key line".into()))?;
    let (statement, receipts) =
        cose::split_transparent(&bytes).map_err(|e| fail(format!("the transparent statement: {e}")))?;
    let leaf = leaf_hash(&statement);
    let verified = receipts.iter().find_map(|r| cose::verify_receipt(r, &leaf, &key.public_key()).ok());
    let (size, index, _) = verified.ok_or_else(|| fail("no receipt verifies with the service's key".into()))?;
    println!("receipt:     entry {index} of a tree of {size}, signed by {}", key.name());
    Ok(statement)
}

/// A proof: the checkpoint's signature and witnesses, then the statement's inclusion in it.
fn from_proof(proof: &ProofFile, inputs: &Inputs<'_>) -> anyhow::Result<Vec<u8>> {
    if proof.kind != PROOF_TYPE {
        return Err(fail("the proof's type is not a release proof".into()));
    }
    let key = inputs.bt_key.ok_or_else(|| anyhow::anyhow!("give --bt-key (the vkey line of /bt/key)"))?;
    let key = NoteVerifier::parse(&key_text(key)).map_err(|_| fail("--bt-key is not a verifier key line".into()))?;
    let body = key
        .open(&proof.checkpoint)
        .map_err(|_| fail("the checkpoint's signature does not verify with --bt-key".into()))?;
    let lines: Vec<&str> = body.lines().collect();
    let (Some(size), Some(root)) =
        (lines.get(1).and_then(|s| s.parse::<u64>().ok()), lines.get(2).and_then(|r| BASE64.decode(r).ok()))
    else {
        return Err(fail("the checkpoint is malformed".into()));
    };
    println!("checkpoint:  {} size {size}, signed by {}", lines[0], key.name());
    if let Some(path) = inputs.policy {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let policy =
            crate::audit::policy::Policy::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let names = crate::verify_cli::check_quorum(&policy, &proof.checkpoint)?;
        println!("witnesses:   {} cosigned; the policy's quorum is met", names.join(", "));
    }
    let statement = BASE64.decode(&proof.statement).map_err(|_| fail("the statement is not base64".into()))?;
    let path: Vec<Hash> = proof
        .inclusion
        .iter()
        .map(|h| BASE64.decode(h).ok().and_then(|b| b.try_into().ok()))
        .collect::<Option<_>>()
        .ok_or_else(|| fail("the inclusion proof is malformed".into()))?;
    proof::verify_inclusion(proof.index, size, &leaf_hash(&statement), &path, &root)
        .map_err(|e| fail(format!("the statement is not included in the checkpoint: {e}")))?;
    println!("inclusion:   entry {} is in the checkpoint's tree", proof.index);
    Ok(statement)
}

/// The statement of the release naming `sha256`, and its inclusion proof, from a server's tiles.
async fn fetch_proof(base: &str, sha256: &str) -> anyhow::Result<ProofFile> {
    let client = reqwest::Client::new();
    let get = async |path: String| -> anyhow::Result<Vec<u8>> {
        let response =
            client.get(format!("{base}{path}")).send().await.with_context(|| format!("asking {base}{path}"))?;
        if !response.status().is_success() {
            bail!("{base}{path} answered {}", response.status());
        }
        Ok(response.bytes().await?.to_vec())
    };
    let checkpoint = String::from_utf8(get("/bt/checkpoint".into()).await?).context("the checkpoint is not text")?;
    let size = checkpoint
        .lines()
        .nth(1)
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| fail("the checkpoint is malformed".into()))?;
    let lookup: serde_json::Value = serde_json::from_slice(&get(format!("/bt/lookup/{sha256}")).await?)?;
    let index = lookup["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["content_type"] == RELEASE_CONTENT_TYPE)
        .filter_map(|e| e["index"].as_u64())
        .rfind(|index| *index < size)
        .ok_or_else(|| fail(format!("the public log has no release naming {sha256}")))?;
    // The statement, from its entry bundle.
    let tile_index = index / 256;
    let width =
        tiles::available_width(size, 0, tile_index).ok_or_else(|| fail("the entry is past the checkpoint".into()))?;
    let bundle_path = TileRef { kind: TileKind::Entries, index: tile_index, width }.path();
    let bundle = get(format!("/bt/{bundle_path}")).await?;
    let entries = tiles::parse_entry_bundle(&bundle).map_err(|_| fail("an entry bundle is malformed".into()))?;
    let statement =
        entries.get((index % 256) as usize).ok_or_else(|| fail("the entry bundle is short".into()))?.to_vec();
    // The inclusion proof, from the hash tiles it needs.
    let mut recorder = Nodes::Recording(Default::default());
    proof::inclusion_proof(&mut recorder, index, size).map_err(|e| fail(format!("no inclusion proof: {e}")))?;
    let Nodes::Recording(keys) = recorder else { unreachable!("a recorder stays one") };
    let mut fetched: HashMap<String, Vec<u8>> = HashMap::new();
    let mut known = HashMap::new();
    for (level, node) in keys {
        known.insert((level, node), node_from_tiles(&get, &mut fetched, size, level, node).await?);
    }
    let path = proof::inclusion_proof(&mut Nodes::Known(known), index, size)
        .map_err(|e| fail(format!("no inclusion proof: {e}")))?;
    Ok(ProofFile {
        kind: PROOF_TYPE.into(),
        index,
        statement: BASE64.encode(&statement),
        inclusion: path.iter().map(|h| BASE64.encode(h)).collect(),
        checkpoint,
    })
}

/// The hash of a perfect subtree (Merkle `level`, `index`) from the hash tiles: read at tile
/// levels, hashed up in between.
async fn node_from_tiles(
    get: &impl AsyncFn(String) -> anyhow::Result<Vec<u8>>,
    fetched: &mut HashMap<String, Vec<u8>>,
    size: u64,
    level: u32,
    index: u64,
) -> anyhow::Result<Hash> {
    let base = level - level % 8;
    let span = level - base;
    // The nodes at the tile level under this one, hashed up.
    let mut nodes = Vec::new();
    for i in (index << span)..((index + 1) << span) {
        let tile_level = (base / 8) as u8;
        let tile_index = i / 256;
        let width =
            tiles::available_width(size, tile_level, tile_index).ok_or_else(|| fail("a tile is missing".into()))?;
        let path = TileRef { kind: TileKind::Hashes { level: tile_level }, index: tile_index, width }.path();
        if !fetched.contains_key(&path) {
            let bytes = get(format!("/bt/{path}")).await?;
            fetched.insert(path.clone(), bytes);
        }
        let tile = &fetched[&path];
        let at = (i % 256) as usize * 32;
        let hash: Hash =
            tile.get(at..at + 32).and_then(|b| b.try_into().ok()).ok_or_else(|| fail("a tile is short".into()))?;
        nodes.push(hash);
    }
    while nodes.len() > 1 {
        nodes = nodes.chunks(2).map(|pair| crate::audit::merkle::node_hash(&pair[0], &pair[1])).collect();
    }
    nodes.pop().ok_or_else(|| fail("no node".into()))
}

/// The statement: a release's DSSE envelope, signed by the vendor and a quorum of the supervisors,
/// naming the file.
fn check_statement(bytes: &[u8], sha256: &str, inputs: &Inputs<'_>) -> anyhow::Result<()> {
    let (sign1, statement) = cose::read_statement(bytes).map_err(|e| fail(format!("the statement: {e}")))?;
    if statement.content_type != RELEASE_CONTENT_TYPE {
        return Err(fail(format!("the statement is a {}, not a release's envelope", statement.content_type)));
    }
    let envelope_text =
        String::from_utf8(statement.payload.clone()).map_err(|_| fail("the envelope is not UTF-8".into()))?;
    let envelope: Envelope =
        serde_json::from_str(&envelope_text).map_err(|_| fail("the payload is not a DSSE envelope".into()))?;
    let payload = BASE64.decode(&envelope.payload).map_err(|_| fail("the envelope's payload is not base64".into()))?;
    let dossier: serde_json::Value =
        serde_json::from_slice(&payload).map_err(|_| fail("the dossier is not JSON".into()))?;
    if dossier["predicateType"] != crate::releases::dossier::RELEASE_TYPE {
        return Err(fail("the envelope is not a release dossier".into()));
    }
    println!("release:     {} (issuer {})", statement.subject, statement.issuer);
    match inputs.vendor_key {
        Some(given) => {
            let key = crate::builds::parse_public_key(&key_text(given))
                .ok_or_else(|| fail("--vendor-key is not a public key".into()))?;
            cose::verify_statement(&sign1, &key)
                .map_err(|_| fail("the statement's COSE signature is not the vendor's".into()))?;
            crate::builds::verify_envelope(&envelope_text, &key)
                .map_err(|e| fail(format!("the vendor's DSSE signature: {e}")))?;
            println!("vendor:      the statement and the dossier are signed by {}", key_id(&key));
        }
        None => println!("vendor:      not checked (no --vendor-key)"),
    }
    let signed_pae = pae(&envelope.payload_type, &payload);
    let mut signed = Vec::new();
    for given in inputs.supervisor_keys {
        let verifier = NoteVerifier::parse(&key_text(given))
            .map_err(|_| fail(format!("--supervisor-key {given} is not a verifier key line")))?;
        let key: VerifyingKey = verifier.public_key();
        let id = key_id(&key);
        let valid = envelope.signatures.iter().filter(|s| s.keyid == id).any(|s| {
            BASE64
                .decode(&s.sig)
                .ok()
                .and_then(|b| ed25519_dalek::Signature::from_slice(&b).ok())
                .is_some_and(|sig| key.verify_strict(&signed_pae, &sig).is_ok())
        });
        if valid && !signed.contains(&verifier.name().to_string()) {
            signed.push(verifier.name().to_string());
        }
    }
    let quorum = dossier["predicate"]["supervisors"]["quorum"].as_u64().unwrap_or(u64::MAX);
    if (signed.len() as u64) < quorum {
        return Err(fail(format!(
            "{} of the given supervisors' keys signed the dossier; its policy needs {quorum}",
            signed.len()
        )));
    }
    println!("supervisors: {} signed ({quorum} needed)", signed.join(", "));
    let named = dossier["subject"].as_array().into_iter().flatten().any(|s| s["digest"]["sha256"] == sha256);
    if !named {
        return Err(fail(format!("the release does not name a file with SHA-256 {sha256}")));
    }
    println!("subject:     the file is one of the release's artifacts");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transparency::tree::MemoryTree;

    #[tokio::test]
    async fn inclusion_proofs_built_from_tiles_are_the_trees_own() {
        let mut tree = MemoryTree::default();
        for i in 0..70_000u32 {
            tree.push(leaf_hash(&i.to_be_bytes()));
        }
        for size in [1u64, 255, 256, 257, 65_537, 70_000] {
            let get = async |path: String| -> anyhow::Result<Vec<u8>> {
                let tile = TileRef::parse(path.trim_start_matches("/bt/tile/")).map_err(|e| anyhow::anyhow!("{e}"))?;
                // Served at this size: a tile wider than the tree has at `size` does not exist.
                anyhow::ensure!(tile.exists_at(size), "no tile {path} at {size}");
                tree.hash_tile(&tile).ok_or_else(|| anyhow::anyhow!("no tile {path}"))
            };
            for index in [0, size / 3, size - 1] {
                let mut recorder = Nodes::Recording(Default::default());
                proof::inclusion_proof(&mut recorder, index, size).unwrap();
                let Nodes::Recording(keys) = recorder else { unreachable!() };
                let mut fetched = HashMap::new();
                let mut known = HashMap::new();
                for (level, node) in keys {
                    known.insert((level, node), node_from_tiles(&get, &mut fetched, size, level, node).await.unwrap());
                }
                let path = proof::inclusion_proof(&mut Nodes::Known(known), index, size).unwrap();
                assert_eq!(path, tree.inclusion(index, size).unwrap(), "index {index} of {size}");
            }
        }
    }
}
