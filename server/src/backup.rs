//! `server backup` and `server restore`: a consistent snapshot of a data directory while the server
//! runs, in one zip file with a manifest, and its restore into a new directory, checked file by file.
//!
//! The snapshot is taken in an order that keeps it consistent without stopping anything: first the
//! database (SQLite's `VACUUM INTO`, one read transaction: every event, comment and grant committed
//! before it, and nothing half-written), then the files. Every file the database names is written
//! before the row that names it and never changes after (repositories' objects, artifacts kept by
//! their SHA-256, finished export bundles), so a file copied after the snapshot is there for each of
//! its rows; a file newer than the snapshot is harmless. The highlight cache is left out (it is
//! rebuilt on demand), and so are staged files a writer has not yet renamed into place.
//!
//! With PostgreSQL the database is not in the backup: the operator dumps it with `pg_dump` (or takes
//! a `pg_basebackup`) *before* running `server backup`, for the same reason. The manifest records
//! the log's size and newest checkpoint either way.

use anyhow::{bail, Context as _};
use sha2::{Digest as _, Sha256};
use std::io::{IsTerminal as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

/// The manifest's name inside the archive, and its format.
pub const MANIFEST: &str = "clearroom-backup.json";
const FORMAT: &str = "clearroom-backup/1";
/// Where the database snapshot is inside the archive.
const DATABASE: &str = "database/clearroom.db";
/// Files are under this prefix inside the archive, by their path in the data directory.
const FILES: &str = "data/";

/// One file of the backup, as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ManifestFile {
    /// The path inside the archive.
    pub path: String,
    pub size: u64,
    pub sha256: String,
}

/// What a backup holds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Manifest {
    pub format: String,
    pub created_at: String,
    /// `sqlite` (the snapshot is in the archive) or `postgres` (not: dumped by the operator).
    pub database: String,
    /// The log's size in the snapshot, and its newest signed checkpoint (size, root in hex, note).
    pub log_size: u64,
    pub checkpoint: Option<(u64, String, String)>,
    /// Whether the keys were left out (`--without-keys`).
    pub without_keys: bool,
    pub files: Vec<ManifestFile>,
}

/// What `backup` and `restore` did.
#[derive(Debug)]
pub struct Summary {
    pub files: usize,
    pub bytes: u64,
    pub log_size: u64,
}

/// Whether a file of the data directory belongs in a backup: not the live database (the snapshot
/// stands for it), not the highlight cache, not a staged file, not a key when keys are left out.
fn wanted(relative: &Path, without_keys: bool) -> bool {
    let text = relative.to_string_lossy();
    let name = relative.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    if relative.starts_with("highlight") || text.starts_with("clearroom.db") {
        return false;
    }
    if name.contains(".staged") || name.starts_with(".tmp") || name.ends_with(".tmp") {
        return false;
    }
    !(without_keys && name.ends_with(".key"))
}

/// Every regular file under `root` (symbolic links are not followed), relative to it, in order.
fn files_under(root: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut pending = vec![PathBuf::new()];
    while let Some(relative) = pending.pop() {
        let entries = std::fs::read_dir(root.join(&relative))
            .with_context(|| format!("listing {}", root.join(&relative).display()))?;
        for entry in entries {
            let entry = entry?;
            let path = relative.join(entry.file_name());
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(path);
            } else if kind.is_file() {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// A staging directory, removed when dropped.
struct Staging(PathBuf);

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Progress on a terminal (a line rewritten in place); nothing otherwise.
struct Progress {
    shown: bool,
}

impl Progress {
    fn new() -> Progress {
        Progress { shown: std::io::stderr().is_terminal() }
    }

    fn say(&self, done: usize, total: usize, bytes: u64) {
        if self.shown {
            eprint!("\r{done}/{total} files, {} MB", bytes / 1_000_000);
        }
    }

    fn end(&self) {
        if self.shown {
            eprintln!();
        }
    }
}

/// Copies `reader` into the archive's current entry, hashing it; its size and SHA-256.
fn copy_hashed(reader: &mut impl std::io::Read, writer: &mut impl std::io::Write) -> anyhow::Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = reader.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        writer.write_all(&buffer[..read])?;
        size += read as u64;
    }
    Ok((size, hex::encode(hasher.finalize())))
}

/// Takes the database's snapshot: SQLite's `VACUUM INTO` a new file beside the archive.
async fn sqlite_snapshot(database_url: &str, into: &Path) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(database_url).await.context("opening the database")?;
    sqlx::query("VACUUM INTO $1")
        .bind(into.to_string_lossy().into_owned())
        .execute(&mut connection)
        .await
        .context("taking the database's snapshot (VACUUM INTO)")?;
    Ok(())
}

/// The log's size and newest checkpoint in a database, read on a connection of its own (closed
/// before the snapshot's file is copied).
async fn log_state(database_url: &str) -> anyhow::Result<(u64, Option<(u64, String, String)>)> {
    use sqlx::{Connection as _, Row as _};
    sqlx::any::install_default_drivers();
    let mut connection = sqlx::AnyConnection::connect(database_url).await.context("opening the database")?;
    let size: i64 = sqlx::query("SELECT COUNT(*) FROM audit_events").fetch_one(&mut connection).await?.try_get(0)?;
    let newest = sqlx::query("SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1")
        .fetch_optional(&mut connection)
        .await?;
    let checkpoint = match newest {
        Some(row) => {
            let (size, root, note): (i64, Vec<u8>, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            Some((size as u64, hex::encode(root), note))
        }
        None => None,
    };
    connection.close().await?;
    Ok((size as u64, checkpoint))
}

/// Writes a backup of `data_dir` (and its SQLite database) to `out`. The server may be running.
pub async fn backup(data_dir: &Path, database_url: &str, out: &Path, without_keys: bool) -> anyhow::Result<Summary> {
    if out.exists() {
        bail!("{} exists already; name a new file", out.display());
    }
    if !data_dir.is_dir() {
        bail!("{} is no data directory", data_dir.display());
    }
    let sqlite = database_url.starts_with("sqlite:");
    // Staged beside the backup (so the last step is a rename), removed whatever happens.
    let beside = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let staging = Staging(beside.join(format!(".clearroom-backup-{:016x}", rand::random::<u64>())));
    std::fs::create_dir(&staging.0).with_context(|| format!("making {}", staging.0.display()))?;
    let snapshot = staging.0.join("clearroom.db");
    let (log_size, checkpoint) = if sqlite {
        sqlite_snapshot(database_url, &snapshot).await?;
        log_state(&format!("sqlite://{}", snapshot.display())).await?
    } else {
        log_state(database_url).await?
    };
    let files: Vec<PathBuf> = files_under(data_dir)?.into_iter().filter(|f| wanted(f, without_keys)).collect();
    let partial = staging.0.join("backup.zip");
    let written = {
        let file = std::fs::File::create(&partial).with_context(|| format!("creating {}", partial.display()))?;
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
        // Stored, not compressed: packs and objects are compressed already; zip64 for large files.
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .large_file(true)
            .unix_permissions(0o600);
        let mut listed = Vec::new();
        let progress = Progress::new();
        let mut bytes = 0u64;
        if sqlite {
            zip.start_file(DATABASE, options)?;
            let (size, sha256) = copy_hashed(&mut std::fs::File::open(&snapshot)?, &mut zip)?;
            bytes += size;
            listed.push(ManifestFile { path: DATABASE.into(), size, sha256 });
        }
        for (done, relative) in files.iter().enumerate() {
            let source = data_dir.join(relative);
            let mut reader = match std::fs::File::open(&source) {
                Ok(reader) => reader,
                // Removed since it was listed (an expired export, a finished staging file).
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                Err(error) => return Err(error).with_context(|| format!("reading {}", source.display())),
            };
            let name = format!("{FILES}{}", relative.to_string_lossy());
            zip.start_file(name.as_str(), options)?;
            let (size, sha256) = copy_hashed(&mut reader, &mut zip)?;
            bytes += size;
            listed.push(ManifestFile { path: name, size, sha256 });
            progress.say(done + 1, files.len(), bytes);
        }
        progress.end();
        let manifest = Manifest {
            format: FORMAT.into(),
            created_at: app::times::rfc3339(crate::clock::Clock::system().now_ms()),
            database: if sqlite { "sqlite" } else { "postgres" }.into(),
            log_size,
            checkpoint,
            without_keys,
            files: listed,
        };
        zip.start_file(MANIFEST, options.compression_method(zip::CompressionMethod::Deflated))?;
        zip.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
        let mut inner = zip.finish()?;
        inner.flush()?;
        inner.get_ref().sync_all()?;
        Summary { files: manifest.files.len(), bytes, log_size }
    };
    std::fs::rename(&partial, out).with_context(|| format!("moving the backup to {}", out.display()))?;
    Ok(written)
}

/// Restores a backup into `data_dir`, which must not exist or be empty: each file is checked
/// against the manifest as it is written; on any mismatch nothing is left behind.
pub fn restore(file: &Path, data_dir: &Path) -> anyhow::Result<(Summary, Manifest)> {
    if data_dir.exists() && std::fs::read_dir(data_dir)?.next().is_some() {
        bail!("{} is not empty: restore into a new directory", data_dir.display());
    }
    let archive = std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?;
    let mut zip = zip::ZipArchive::new(std::io::BufReader::new(archive)).context("reading the backup (a zip file)")?;
    let manifest: Manifest = {
        let mut entry = zip.by_name(MANIFEST).context("the backup has no manifest")?;
        let mut text = Vec::new();
        entry.by_ref().take(64 << 20).read_to_end(&mut text)?;
        serde_json::from_slice(&text).context("reading the backup's manifest")?
    };
    if manifest.format != FORMAT {
        bail!("{}: not a backup this server reads ({})", file.display(), manifest.format);
    }
    let created = !data_dir.exists();
    std::fs::create_dir_all(data_dir)?;
    let result = write_files(&mut zip, &manifest, data_dir);
    if let Err(error) = result {
        let _ = if created { std::fs::remove_dir_all(data_dir) } else { clear(data_dir) };
        return Err(error);
    }
    crate::private_files::make_private(data_dir)?;
    let bytes = manifest.files.iter().map(|f| f.size).sum();
    Ok((Summary { files: manifest.files.len(), bytes, log_size: manifest.log_size }, manifest))
}

fn clear(dir: &Path) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            std::fs::remove_dir_all(path)?;
        } else {
            std::fs::remove_file(path)?;
        }
    }
    Ok(())
}

/// Writes every file the manifest lists, checking each one's size and SHA-256.
fn write_files<R: std::io::Read + std::io::Seek>(
    zip: &mut zip::ZipArchive<R>,
    manifest: &Manifest,
    data_dir: &Path,
) -> anyhow::Result<()> {
    let progress = Progress::new();
    let mut bytes = 0;
    for (done, listed) in manifest.files.iter().enumerate() {
        let target = if listed.path == DATABASE {
            data_dir.join("clearroom.db")
        } else {
            let relative = listed.path.strip_prefix(FILES).context("a file outside the backup's folders")?;
            let relative = Path::new(relative);
            if relative.components().any(|c| !matches!(c, std::path::Component::Normal(_))) {
                bail!("{}: a path that leaves the data directory", listed.path);
            }
            data_dir.join(relative)
        };
        let mut entry =
            zip.by_name(&listed.path).with_context(|| format!("{} is listed but not in the backup", listed.path))?;
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let mut out = std::fs::File::create(&target).with_context(|| format!("writing {}", target.display()))?;
        let (size, sha256) = copy_hashed(&mut entry, &mut out)?;
        if size != listed.size || sha256 != listed.sha256 {
            bail!("{}: its bytes differ from the manifest's SHA-256; the backup is damaged", listed.path);
        }
        out.sync_all()?;
        bytes += size;
        progress.say(done + 1, manifest.files.len(), bytes);
    }
    progress.end();
    Ok(())
}
