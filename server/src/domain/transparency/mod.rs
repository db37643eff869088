//! The public log, read by anyone (`http::public`): its checkpoint, tiles, the entries naming an
//! artifact, receipts and Transparent Statements, the service's keys, and the authorised releases.
//! No read here is an audit event: it is public data, and a flood of anonymous reads must not
//! be able to fill the audit log (ARCHITECTURE.md). Appending: `append`.

mod append;
mod witnessed;

use super::Transparency;
use crate::audit::checkpoint;
use crate::audit::tiles::{self, TileKind, TileRef};
use crate::transparency::cose;
use crate::transparency::{PublicEntryView, PublicLookup};
use app::error::{AppError, AppResult};
use app::model::{PublicArtifact, PublicRelease, Sha256Hex};
use base64::Engine as _;
use std::sync::Arc;

pub use append::Registration;

impl Transparency<'_> {
    /// Reads the leaves appended since this instance last looked (by another instance too).
    pub(super) async fn sync(&self) -> AppResult<u64> {
        let log = &self.public;
        let _held = log.syncing.lock().await;
        let start = log.size();
        let fresh = self.store.public_leaf_hashes(start).await?;
        let mut tree = log.tree.write().expect("the tree's lock");
        for (index, hash) in fresh {
            if index == tree.size() {
                tree.push(hash);
            }
        }
        Ok(tree.size())
    }

    /// Signs a checkpoint of the whole log when the newest one is older.
    pub async fn publish(&self) -> AppResult<()> {
        let size = self.sync().await?;
        let newest = self.store.public_checkpoint().await?;
        if newest.is_some_and(|(signed, _)| signed >= size) {
            return Ok(());
        }
        let root =
            self.public.tree.read().expect("the tree's lock").root(size).map_err(|e| super::error::internal(&e))?;
        let body = checkpoint::body(self.public.origin(), size, &root);
        let note = self.public.signer.sign(&body).map_err(|e| super::error::internal(&e))?;
        self.store.add_public_checkpoint(size, &root, &note, self.clock.now_ms()).await?;
        Ok(())
    }

    /// The checkpoint served (a C2SP signed note, with the witnesses' cosignatures).
    pub async fn checkpoint(&self) -> AppResult<String> {
        if let Some(note) = self.cosigned_checkpoint().await? {
            return Ok(note);
        }
        self.publish().await?;
        self.cosigned_checkpoint().await?.ok_or_else(|| AppError::NotFound("no checkpoint".into()))
    }

    /// The verifier key of the log (a vkey line): checkpoints and receipts are signed with it.
    pub fn verifier_key(&self) -> String {
        self.public.signer.verifier().to_string()
    }

    /// The service's keys as a COSE Key Set.
    pub fn key_set(&self) -> Vec<u8> {
        cose::key_set(&[self.public.signer.verifier().public_key()])
    }

    /// A tile (`<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`), when the log has it.
    pub async fn tile(&self, path: &str) -> AppResult<Option<Vec<u8>>> {
        let tile = TileRef::parse(path).map_err(|e| AppError::Invalid(e.to_string()))?;
        if !tile.exists_at(self.public.size()) && !tile.exists_at(self.sync().await?) {
            return Ok(None);
        }
        match tile.kind {
            TileKind::Hashes { .. } => Ok(self.public.tree.read().expect("the tree's lock").hash_tile(&tile)),
            TileKind::Entries => Ok(Some(self.entry_bundle(&tile).await?.to_vec())),
        }
    }

    async fn entry_bundle(&self, tile: &TileRef) -> AppResult<Arc<Vec<u8>>> {
        if tile.full() {
            if let Some(kept) = self.public.bundle(tile.index) {
                return Ok(kept);
            }
        }
        let (_, start, end) = tile.span();
        let entries = self.store.public_entries(start, end).await?;
        if entries.len() as u64 != end - start {
            return Err(super::error::internal(&crate::store::StoreError::Corrupt("the public log's entries")));
        }
        let bundle = tiles::entry_bundle(entries.iter().map(|e| e.statement.as_slice()))
            .map_err(|e| super::error::internal(&e))?;
        let bundle = Arc::new(bundle);
        if tile.full() {
            self.public.keep_bundle(tile.index, Arc::clone(&bundle));
        }
        Ok(bundle)
    }

    /// The entries naming an artifact.
    pub async fn lookup(&self, sha256: &Sha256Hex) -> AppResult<PublicLookup> {
        let entries = self.store.public_entries_naming(sha256.as_str()).await?;
        let entries = entries
            .into_iter()
            .map(|e| PublicEntryView {
                index: e.index,
                entry_id: e.entry_id,
                issuer: e.issuer,
                subject: e.subject,
                content_type: e.content_type,
                appended_at_ms: e.appended_at,
                payload: cose::read_statement(&e.statement)
                    .ok()
                    .and_then(|(_, s)| serde_json::from_slice(&s.payload).ok()),
            })
            .collect();
        Ok(PublicLookup { sha256: sha256.as_str().to_string(), entries })
    }

    /// An entry's receipt at the newest checkpoint (none for an unknown id).
    pub async fn receipt(&self, entry_id: &str) -> AppResult<Option<Vec<u8>>> {
        let Some(entry) = self.store.public_entry_by_id(entry_id).await? else { return Ok(None) };
        let mut size = self.store.public_checkpoint().await?.map_or(0, |(size, _)| size);
        if size <= entry.index {
            self.publish().await?;
            size = self.store.public_checkpoint().await?.map_or(0, |(size, _)| size);
        }
        if self.public.size() < size {
            self.sync().await?;
        }
        let (path, root) = {
            let tree = self.public.tree.read().expect("the tree's lock");
            let path = tree.inclusion(entry.index, size).map_err(|e| super::error::internal(&e))?;
            (path, tree.root(size).map_err(|e| super::error::internal(&e))?)
        };
        let key = self.public.signer.verifier().public_key();
        let kid = cose::thumbprint(&key);
        let inclusion = (size, entry.index, path);
        Ok(Some(cose::receipt(self.public.origin(), &kid, &inclusion, &root, |tbs| {
            self.public.signer.sign_bytes(tbs).to_bytes()
        })))
    }

    /// An entry's Transparent Statement: the Signed Statement with its receipt (header 394).
    pub async fn transparent_statement(&self, entry_id: &str) -> AppResult<Option<Vec<u8>>> {
        let Some(entry) = self.store.public_entry_by_id(entry_id).await? else { return Ok(None) };
        let Some(receipt) = self.receipt(entry_id).await? else { return Ok(None) };
        Ok(Some(cose::transparent(&entry.statement, &[receipt]).map_err(|e| super::error::internal(&e))?))
    }

    /// The public releases page: the newest 200 authorised releases, and what names a hash.
    pub async fn public_page(&self, sha256: Option<Sha256Hex>) -> AppResult<app::model::PublicReleases> {
        let releases = self.releases(200).await?;
        let checked = match sha256 {
            None => None,
            Some(sha256) => {
                let entries = self.store.public_entries_naming(sha256.as_str()).await?;
                let found: Vec<_> = entries.iter().filter_map(public_release).collect();
                Some(app::model::PublicCheck {
                    sha256: sha256.as_str().to_string(),
                    other_entries: (entries.len() - found.len()) as u32,
                    releases: found.into_iter().map(|r| (r.index, r.version, r.repository, r.entry_id)).collect(),
                })
            }
        };
        Ok(app::model::PublicReleases { releases, checked, log_key: self.verifier_key() })
    }

    /// A release's proof file (`server release proof`): its statement, its inclusion proof at the
    /// newest checkpoint, and that checkpoint.
    pub async fn release_proof(&self, release_id: i64) -> AppResult<crate::verify_release::ProofFile> {
        let entry = self.store.public_entry_of_release(release_id).await?.ok_or_else(|| {
            AppError::NotFound(format!("release {release_id} is not in the public log: it is not authorised"))
        })?;
        self.publish().await?;
        let (size, note) =
            self.store.public_checkpoint().await?.ok_or_else(|| AppError::NotFound("no checkpoint".into()))?;
        if self.public.size() < size {
            self.sync().await?;
        }
        let path = self.public.tree.read().expect("the tree's lock").inclusion(entry.index, size);
        let path = path.map_err(|e| super::error::internal(&e))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        Ok(crate::verify_release::ProofFile {
            kind: crate::verify_release::PROOF_TYPE.into(),
            index: entry.index,
            statement: b64.encode(&entry.statement),
            inclusion: path.iter().map(|h| b64.encode(h)).collect(),
            checkpoint: note,
        })
    }

    /// The authorised releases, newest first (at most `limit`).
    pub async fn releases(&self, limit: i64) -> AppResult<Vec<PublicRelease>> {
        let entries = self.store.public_release_entries(limit).await?;
        Ok(entries.into_iter().filter_map(|e| public_release(&e)).collect())
    }
}

/// An authorised release as its entry shows it: from the dossier inside the statement.
fn public_release(entry: &crate::store::public_log::PublicEntry) -> Option<PublicRelease> {
    let (_, statement) = cose::read_statement(&entry.statement).ok()?;
    let envelope: crate::builds::Envelope = serde_json::from_slice(&statement.payload).ok()?;
    let payload = base64::engine::general_purpose::STANDARD.decode(&envelope.payload).ok()?;
    let dossier: serde_json::Value = serde_json::from_slice(&payload).ok()?;
    let predicate = &dossier["predicate"];
    let reproduced = predicate["rules"]
        .as_array()
        .and_then(|rules| rules.iter().find(|r| r["rule"] == "reproduced_by"))
        .map(|r| r["evidence"]["artifacts"].clone());
    let artifacts = dossier["subject"]
        .as_array()?
        .iter()
        .map(|s| {
            let sha256 = s["digest"]["sha256"].as_str().unwrap_or_default().to_string();
            let facts = reproduced
                .as_ref()
                .and_then(|a| a.as_array())
                .and_then(|list| list.iter().find(|a| a["digest"]["sha256"] == sha256.as_str()).cloned());
            PublicArtifact {
                name: s["name"].as_str().unwrap_or_default().to_string(),
                platform: s["annotations"]["platform"].as_str().unwrap_or_default().to_string(),
                builders: facts.as_ref().and_then(|f| f["builders"].as_array()).map_or(0, |b| b.len() as u32),
                room: facts.as_ref().is_some_and(|f| f["room"] == true),
                sha256,
            }
        })
        .collect();
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    Some(PublicRelease {
        index: entry.index,
        entry_id: entry.entry_id.clone(),
        repository: text(&predicate["target"]["repositoryName"]),
        version: text(&predicate["version"]),
        commit: text(&predicate["target"]["commit"]),
        artifacts,
        policy_sha256: text(&predicate["policy"]["sha256"]),
        quorum: predicate["supervisors"]["quorum"].as_u64().unwrap_or(0) as u32,
        supervisors: predicate["supervisors"]["names"]
            .as_array()
            .map(|n| n.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default(),
        signers: envelope.signatures.iter().skip(1).map(|s| s.keyid.clone()).collect(),
        authorised_at_ms: entry.appended_at,
    })
}
