//! An uploaded artifact, hashed while it streams to a file and then kept under its SHA-256
//! (`<data-dir>/artifacts/sha256/<hex>`). Memory stays flat: one chunk at a time.

use futures_util::{Stream, StreamExt as _};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt as _;

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("the artifact is larger than the limit of {0} bytes")]
    TooLarge(u64),
    #[error("the upload was cut off")]
    Interrupted,
    #[error("the artifact is empty")]
    Empty,
    #[error("storing the artifact failed")]
    Io(#[from] std::io::Error),
}

/// An uploaded artifact, hashed, still in the staging directory: `keep` moves it under its hash;
/// dropped without that, it is removed (a refused upload leaves nothing on disk).
#[derive(Debug)]
pub struct Staged {
    pub sha256: String,
    pub size: u64,
    staging: PathBuf,
    kept: bool,
}

/// Where a kept artifact is, and whether this upload put it there (no earlier upload had the same
/// bytes), so that a record that then fails to be written can take it away again.
#[derive(Debug)]
pub struct Kept {
    pub path: PathBuf,
    pub new: bool,
}

impl Staged {
    /// Where the staged file is, to read it before it is kept.
    pub fn path(&self) -> &Path {
        &self.staging
    }

    /// Moves the artifact to `<root>/sha256/<hex>`. Same bytes, same name: a second upload of one
    /// artifact replaces it with itself.
    pub async fn keep(mut self, root: &Path) -> Result<Kept, UploadError> {
        let directory = root.join("sha256");
        tokio::fs::create_dir_all(&directory).await?;
        let path = directory.join(&self.sha256);
        let new = !tokio::fs::try_exists(&path).await.unwrap_or(false);
        tokio::fs::rename(&self.staging, &path).await?;
        self.kept = true;
        Ok(Kept { path, new })
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.staging);
        }
    }
}

/// Streams `body` into the staging directory under `root`, refusing more than `limit` bytes. A
/// partial upload leaves nothing behind; a complete one waits as `Staged` until it is kept.
pub async fn stage<S, B, E>(root: &Path, body: S, limit: u64) -> Result<Staged, UploadError>
where
    S: Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
{
    let staging = root.join("staging");
    tokio::fs::create_dir_all(&staging).await?;
    let temporary = staging.join(format!("{:016x}", rand::random::<u64>()));
    match write(&temporary, body, limit).await {
        Ok((sha256, size)) => Ok(Staged { sha256, size, staging: temporary, kept: false }),
        Err(error) => {
            let _ = tokio::fs::remove_file(&temporary).await;
            Err(error)
        }
    }
}

/// Keeps a file the server made (a room build's output, its log, a report) under its hash, as an
/// upload is kept: copied through the staging directory, the original left as it was.
pub async fn keep_file(root: &Path, file: &Path) -> Result<(String, u64, Kept), UploadError> {
    let reader = tokio::fs::File::open(file).await?;
    let staged = stage(root, tokio_util::io::ReaderStream::with_capacity(reader, 1 << 20), u64::MAX).await?;
    let (sha256, size) = (staged.sha256.clone(), staged.size);
    Ok((sha256, size, staged.keep(root).await?))
}

/// The SHA-256 and size of a file, read on a blocking thread.
pub async fn hash_file(file: &Path) -> std::io::Result<(String, u64)> {
    let file = file.to_path_buf();
    tokio::task::spawn_blocking(move || {
        use std::io::Read as _;
        let mut reader = std::fs::File::open(file)?;
        let mut hasher = Sha256::new();
        let mut buffer = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let read = reader.read(&mut buffer)?;
            if read == 0 {
                return Ok((hex::encode(hasher.finalize()), size));
            }
            size += read as u64;
            hasher.update(&buffer[..read]);
        }
    })
    .await
    .map_err(std::io::Error::other)?
}

/// Keeps a file of this machine (the demo's own server binary): hard-linked under its hash when
/// the file system allows (no second copy of a large binary), else copied as an upload is when it
/// is at most `copy_max` bytes. A linked file is never written through: a build writes a new file
/// in its place, and whoever reads a kept artifact's bytes hashes them first (`hash_file`).
pub async fn link_or_keep(root: &Path, file: &Path, copy_max: u64) -> Result<(String, u64, Kept), UploadError> {
    let (sha256, size) = hash_file(file).await?;
    let directory = root.join("sha256");
    tokio::fs::create_dir_all(&directory).await?;
    let path = directory.join(&sha256);
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok((sha256, size, Kept { path, new: false }));
    }
    if tokio::fs::hard_link(file, &path).await.is_ok() {
        return Ok((sha256, size, Kept { path, new: true }));
    }
    if size > copy_max {
        return Err(UploadError::TooLarge(copy_max));
    }
    keep_file(root, file).await
}

async fn write<S, B, E>(path: &Path, mut body: S, limit: u64) -> Result<(String, u64), UploadError>
where
    S: Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
{
    let file = tokio::fs::File::create(path).await?;
    let mut out = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| UploadError::Interrupted)?;
        let bytes = chunk.as_ref();
        size += bytes.len() as u64;
        if size > limit {
            return Err(UploadError::TooLarge(limit));
        }
        hasher.update(bytes);
        out.write_all(bytes).await?;
    }
    if size == 0 {
        return Err(UploadError::Empty);
    }
    out.flush().await?;
    out.into_inner().sync_all().await?;
    Ok((hex::encode(hasher.finalize()), size))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<&'static [u8], std::io::Error>> + Unpin {
        futures_util::stream::iter(parts.iter().map(|p| Ok(*p)).collect::<Vec<_>>())
    }

    #[tokio::test]
    async fn an_upload_is_kept_under_its_hash() {
        let dir = tempfile::tempdir().unwrap();
        let staged = stage(dir.path(), chunks(&[b"hello ", b"world"]), 100).await.unwrap();
        assert_eq!(staged.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
        assert_eq!(staged.size, 11);
        let kept = staged.keep(dir.path()).await.unwrap();
        assert!(kept.new);
        assert_eq!(std::fs::read(&kept.path).unwrap(), b"hello world");
        let again = stage(dir.path(), chunks(&[b"hello world"]), 100).await.unwrap().keep(dir.path()).await.unwrap();
        assert!(!again.new, "the same bytes were kept before");
        assert_eq!(std::fs::read_dir(dir.path().join("staging")).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn an_oversized_empty_or_unkept_upload_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let error = stage(dir.path(), chunks(&[b"hello ", b"world"]), 8).await.unwrap_err();
        assert!(matches!(error, UploadError::TooLarge(8)));
        assert!(matches!(stage(dir.path(), chunks(&[]), 8).await.unwrap_err(), UploadError::Empty));
        drop(stage(dir.path(), chunks(&[b"refused"]), 100).await.unwrap());
        assert_eq!(std::fs::read_dir(dir.path().join("staging")).unwrap().count(), 0);
        assert!(!dir.path().join("sha256").exists());
    }
}
