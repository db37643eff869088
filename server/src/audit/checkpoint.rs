//! Signed checkpoints: the C2SP `tlog-checkpoint` body (origin, size, base64 root) signed as a
//! C2SP signed note with the log's Ed25519 key, and `tlog-proof` documents.
//!
//! The signing key lives in a file (mode 0600), never in the database. Before signing, the log is
//! checked to be consistent with the latest checkpoint signed before: the server never signs two
//! views of history.

use super::merkle::Hash;
use super::note::{NoteError, NoteSigner, NoteVerifier};
use super::proof;
use super::{AuditError, AuditLog, Result};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use std::path::Path;

/// A checkpoint the server signed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub size: u64,
    pub root: Hash,
    /// The signed note, exactly as served.
    pub note: String,
}

/// The checkpoint body: origin, decimal size, base64 root, each on its own line.
pub fn body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", BASE64.encode(root))
}

/// Reads a checkpoint body (after the note's signature was checked).
pub fn parse_body(body: &str) -> std::result::Result<(String, u64, Hash), NoteError> {
    let mut lines = body.split('\n');
    let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next()) else {
        return Err(NoteError::MalformedNote);
    };
    if origin.is_empty() || (size.len() > 1 && size.starts_with('0')) || !size.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NoteError::MalformedNote);
    }
    let size = size.parse().map_err(|_| NoteError::MalformedNote)?;
    let root: Hash = BASE64.decode(root).ok().and_then(|b| b.try_into().ok()).ok_or(NoteError::MalformedNote)?;
    Ok((origin.to_string(), size, root))
}

/// Opens a signed checkpoint with the log's verifier key and checks its origin is the key's name.
pub fn open(verifier: &NoteVerifier, note: &str) -> std::result::Result<(u64, Hash), NoteError> {
    let body = verifier.open(note)?;
    let (origin, size, root) = parse_body(body)?;
    if origin != verifier.name() {
        return Err(NoteError::MalformedNote);
    }
    Ok((size, root))
}

/// The signing key at `path`, created (mode 0600) with `origin` as its name when missing.
pub fn load_or_create_key(path: &Path, origin: &str) -> anyhow::Result<NoteSigner> {
    use anyhow::Context as _;
    if path.exists() {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        return NoteSigner::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let signer = NoteSigner::generate(origin).map_err(|e| anyhow::anyhow!("log origin {origin:?}: {e}"))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    write_private(path, &format!("{}\n", signer.to_key_string()))
        .with_context(|| format!("writing the log signing key {}", path.display()))?;
    Ok(signer)
}

#[cfg(unix)]
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

/// A `c2sp.org/tlog-proof@v1` document for one entry against a checkpoint.
pub fn tlog_proof(index: u64, proof: &[Hash], checkpoint: &Checkpoint) -> String {
    let mut out = format!("c2sp.org/tlog-proof@v1\nindex {index}\n");
    for hash in proof {
        out.push_str(&BASE64.encode(hash));
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&checkpoint.note);
    out
}

impl AuditLog {
    /// The most recent checkpoint signed, if any.
    pub async fn latest_checkpoint(&self) -> Result<Option<Checkpoint>> {
        Ok(self.store.latest_checkpoint().await?.map(|row| Checkpoint {
            size: row.size,
            root: row.root,
            note: row.note,
        }))
    }

    /// Signs a checkpoint of the current log if it grew since the last one; returns the latest.
    pub async fn publish_checkpoint(&self, signer: &NoteSigner) -> Result<Checkpoint> {
        let (size, stored_root) = self.head().await?;
        let previous = self.latest_checkpoint().await?;
        if let Some(previous) = &previous {
            if previous.size >= size {
                return Ok(previous.clone());
            }
        }
        // Recompute the root from the stored nodes rather than trusting the head row alone.
        let root = self.root_at(size).await?;
        if root != stored_root {
            tracing::error!(size, "the stored log head does not match its tree nodes; not signing");
            return Err(AuditError::Inconsistent(size));
        }
        if let Some(previous) = &previous {
            // From an empty log the proof is empty: every tree extends the empty tree.
            let proof = self.consistency_proof(previous.size, size).await?;
            if proof::verify_extension(previous.size, size, &previous.root, &root, &proof).is_err() {
                tracing::error!(
                    from = previous.size,
                    to = size,
                    "the log is inconsistent with a signed checkpoint; not signing"
                );
                return Err(AuditError::Inconsistent(previous.size));
            }
        }
        let note = signer.sign(&body(signer.name(), size, &root))?;
        self.store.insert_checkpoint(size, &root, &note, self.clock.now_ms()).await?;
        // Another instance may have signed the same size first; serve what is stored.
        Ok(self.latest_checkpoint().await?.unwrap_or(Checkpoint { size, root, note }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_body_round_trips_and_opens() {
        let signer = NoteSigner::generate("example.test/clearroom/log").unwrap();
        let root = [7u8; 32];
        let note = signer.sign(&body(signer.name(), 42, &root)).unwrap();
        assert!(note.starts_with("example.test/clearroom/log\n42\nBwcH"));
        assert_eq!(open(&signer.verifier(), &note).unwrap(), (42, root));
        let other = NoteSigner::generate("other.test/log").unwrap();
        assert!(open(&other.verifier(), &note).is_err());
    }

    #[test]
    fn a_key_file_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log.key");
        let first = load_or_create_key(&path, "host.test/clearroom/log").unwrap();
        let again = load_or_create_key(&path, "ignored").unwrap();
        assert_eq!(first.verifier(), again.verifier());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
