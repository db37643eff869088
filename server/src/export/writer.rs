//! Writes a bundle: a zip file built member by member on a thread of its own, fed through a
//! bounded channel, so that the async side never blocks on compression or the disk and memory
//! stays flat however many events a bundle holds. Each member's SHA-256 and size are computed as
//! it is written (for the manifest); the file is written under `.part` and renamed when whole.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::{Path, PathBuf};
use tokio::sync::{mpsc, oneshot};

/// A member as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRecord {
    pub name: String,
    pub sha256: String,
    pub size: u64,
}

/// The finished file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub sha256: String,
    pub size: u64,
}

enum Op {
    Begin(String),
    Data(Vec<u8>),
    /// Ends the member being written.
    End,
    /// The records of every member so far.
    Records(oneshot::Sender<Vec<MemberRecord>>),
    /// Finishes the zip, syncs and renames it.
    Finish(oneshot::Sender<std::io::Result<Written>>),
}

/// The async side of the writer.
pub struct BundleWriter {
    ops: mpsc::Sender<Op>,
    /// Bytes gathered for the member being written, sent in chunks.
    buffer: Vec<u8>,
    thread: Option<std::thread::JoinHandle<std::io::Result<()>>>,
}

const CHUNK: usize = 256 * 1024;

fn broken() -> std::io::Error {
    std::io::Error::other("the bundle writer stopped")
}

impl BundleWriter {
    /// Starts writing `path` (as `path.part` until finished); `time_ms` dates every member.
    pub fn create(path: &Path, time_ms: i64) -> std::io::Result<BundleWriter> {
        let part = part_path(path);
        let file = std::fs::File::create(&part)?;
        let (ops, receiver) = mpsc::channel(8);
        let final_path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("bundle-writer".into())
            .spawn(move || write_zip(file, part, final_path, receiver, time_ms))?;
        Ok(BundleWriter { ops, buffer: Vec::with_capacity(CHUNK), thread: Some(thread) })
    }

    async fn send(&self, op: Op) -> std::io::Result<()> {
        self.ops.send(op).await.map_err(|_| broken())
    }

    pub async fn begin(&mut self, name: &str) -> std::io::Result<()> {
        self.send(Op::Begin(name.to_string())).await
    }

    pub async fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= CHUNK {
            let chunk = std::mem::replace(&mut self.buffer, Vec::with_capacity(CHUNK));
            self.send(Op::Data(chunk)).await?;
        }
        Ok(())
    }

    pub async fn end(&mut self) -> std::io::Result<()> {
        if !self.buffer.is_empty() {
            let chunk = std::mem::take(&mut self.buffer);
            self.send(Op::Data(chunk)).await?;
        }
        self.send(Op::End).await
    }

    /// Writes a whole member.
    pub async fn member(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.begin(name).await?;
        self.write(bytes).await?;
        self.end().await
    }

    pub async fn records(&self) -> std::io::Result<Vec<MemberRecord>> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Records(tx)).await?;
        rx.await.map_err(|_| broken())
    }

    pub async fn finish(mut self) -> std::io::Result<Written> {
        let (tx, rx) = oneshot::channel();
        self.send(Op::Finish(tx)).await?;
        let written = rx.await.map_err(|_| broken())?;
        if let Some(thread) = self.thread.take() {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        written
    }
}

impl Drop for BundleWriter {
    /// An unfinished bundle is removed (its thread sees the channel close).
    fn drop(&mut self) {
        self.thread.take();
    }
}

pub fn part_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

/// The zip's date for every member (zip times have no zone; this is UTC).
fn zip_time(time_ms: i64) -> zip::DateTime {
    let at =
        time::OffsetDateTime::from_unix_timestamp(time_ms.div_euclid(1000)).unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    zip::DateTime::from_date_and_time(
        at.year().clamp(1980, 2107) as u16,
        at.month() as u8,
        at.day(),
        at.hour(),
        at.minute(),
        at.second(),
    )
    .unwrap_or_default()
}

fn write_zip(
    file: std::fs::File,
    part: PathBuf,
    final_path: PathBuf,
    mut ops: mpsc::Receiver<Op>,
    time_ms: i64,
) -> std::io::Result<()> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .compression_level(Some(6))
        .last_modified_time(zip_time(time_ms))
        .large_file(true)
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let mut records = Vec::new();
    let mut current: Option<(String, Sha256, u64)> = None;
    let outcome = (|| -> std::io::Result<Option<oneshot::Sender<std::io::Result<Written>>>> {
        while let Some(op) = ops.blocking_recv() {
            match op {
                Op::Begin(name) => {
                    zip.start_file(name.as_str(), options).map_err(std::io::Error::other)?;
                    current = Some((name, Sha256::new(), 0));
                }
                Op::Data(bytes) => {
                    let (_, hasher, size) =
                        current.as_mut().ok_or_else(|| std::io::Error::other("data outside a member"))?;
                    hasher.update(&bytes);
                    *size += bytes.len() as u64;
                    zip.write_all(&bytes)?;
                }
                Op::End => {
                    if let Some((name, hasher, size)) = current.take() {
                        records.push(MemberRecord { name, sha256: hex::encode(hasher.finalize()), size });
                    }
                }
                Op::Records(reply) => {
                    let _ = reply.send(records.clone());
                }
                Op::Finish(reply) => return Ok(Some(reply)),
            }
        }
        Ok(None)
    })();
    let finish = |zip: zip::ZipWriter<std::io::BufWriter<std::fs::File>>| -> std::io::Result<Written> {
        let writer = zip.finish().map_err(std::io::Error::other)?;
        let file = writer.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        drop(file);
        let (sha256, size) = hash_file(&part)?;
        std::fs::rename(&part, &final_path)?;
        Ok(Written { path: final_path.clone(), sha256, size })
    };
    match outcome {
        Ok(Some(reply)) => {
            let result = finish(zip);
            if result.is_err() {
                let _ = std::fs::remove_file(&part);
            }
            let _ = reply.send(result);
            Ok(())
        }
        Ok(None) => {
            // Abandoned: the export failed or was cancelled.
            drop(zip);
            let _ = std::fs::remove_file(&part);
            Ok(())
        }
        Err(error) => {
            drop(zip);
            let _ = std::fs::remove_file(&part);
            // Answer a waiting Finish, if any, with the error.
            while let Some(op) = ops.blocking_recv() {
                if let Op::Finish(reply) = op {
                    let _ = reply.send(Err(std::io::Error::new(error.kind(), error.to_string())));
                }
            }
            Err(error)
        }
    }
}

/// SHA-256 and size of a file, streamed.
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    use std::io::Read as _;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}
