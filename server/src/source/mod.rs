//! Source access: the bare repositories under the data directory, read through git2 off the async
//! runtime, and highlighted through a cache keyed by blob id.
//!
//! Every function that returns source content takes an audit `Receipt` for exactly the pin and path
//! it reads: there is no way to get a tree entry or a blob byte out of this module without one.
//! Paths resolve inside git trees only; nothing here joins a user path onto the file system.

pub mod highlight;

use crate::audit::Receipt;
use crate::config::SourceLimits;
use app::model::{BlobContent, EntryKind, PinId, RepoPath, TreeEntry};
use highlight::Highlighter;
use std::collections::HashMap;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("no such path at this pin")]
    NotFound,
    #[error("this path is a directory")]
    IsDirectory,
    #[error("this path is a file")]
    IsFile,
    #[error("the receipt does not cover this read")]
    WrongReceipt,
    #[error("repository error")]
    Git(#[from] git2::Error),
    #[error("background task failed")]
    Task(#[from] tokio::task::JoinError),
}

pub type Result<T, E = SourceError> = std::result::Result<T, E>;

/// Where a pin's objects are: the repository name (its directory) and the pinned root tree.
#[derive(Clone, Debug)]
pub struct PinLocation {
    pub pin: PinId,
    pub repository: String,
    pub tree_id: String,
}

pub struct FileContent {
    pub blob_id: String,
    pub size: u64,
    pub content: BlobContent,
}

/// Open repositories, kept for reuse: `git2::Repository` is `Send` but not `Sync`, so each handle is
/// used by one blocking task at a time and returned afterwards.
#[derive(Default)]
struct RepositoryPool {
    idle: Mutex<HashMap<String, Vec<git2::Repository>>>,
}

impl RepositoryPool {
    const MAX_IDLE_PER_REPOSITORY: usize = 8;

    fn take(&self, dir: &Path, name: &str) -> Result<git2::Repository> {
        if let Some(repo) = self.idle.lock().expect("pool lock").get_mut(name).and_then(Vec::pop) {
            return Ok(repo);
        }
        Ok(git2::Repository::open_bare(dir.join(format!("{name}.git")))?)
    }

    fn give_back(&self, name: &str, repo: git2::Repository) {
        let mut idle = self.idle.lock().expect("pool lock");
        let list = idle.entry(name.to_string()).or_default();
        if list.len() < Self::MAX_IDLE_PER_REPOSITORY {
            list.push(repo);
        }
    }
}

pub struct Source {
    repos_dir: PathBuf,
    pool: RepositoryPool,
    highlighter: Highlighter,
    cache: Mutex<lru::LruCache<String, Arc<highlight::Highlighted>>>,
    limits: SourceLimits,
}

impl Source {
    pub fn new(repos_dir: PathBuf, limits: SourceLimits) -> Arc<Source> {
        // libgit2 caches no tree larger than 4 KiB by default; large directories are read again
        // and again while browsing, so let it keep trees up to 4 MiB decoded.
        // SAFETY: this sets a process-wide libgit2 option; it is called before any repository of
        // this `Source` is opened and the value is valid for every object type.
        unsafe {
            let _ = git2::opts::set_cache_object_limit(git2::ObjectType::Tree, 4 * 1024 * 1024);
        }
        Arc::new(Source {
            repos_dir,
            pool: RepositoryPool::default(),
            highlighter: Highlighter::default(),
            cache: Mutex::new(lru::LruCache::new(NonZeroUsize::new(256).expect("non-zero"))),
            limits,
        })
    }

    pub fn repos_dir(&self) -> &Path {
        &self.repos_dir
    }

    /// Runs `work` with a pooled handle on a blocking thread.
    async fn with_repo<T: Send + 'static>(
        self: &Arc<Self>,
        name: &str,
        work: impl FnOnce(&Source, &git2::Repository) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let this = Arc::clone(self);
        let name = name.to_string();
        tokio::task::spawn_blocking(move || {
            let repo = this.pool.take(&this.repos_dir, &name)?;
            let result = work(&this, &repo);
            this.pool.give_back(&name, repo);
            result
        })
        .await?
    }

    /// Lists a directory at a pin; directories first, then files, each by name.
    pub async fn read_tree(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        path: &RepoPath,
    ) -> Result<Vec<TreeEntry>> {
        if !receipt.covers(at.pin, path) {
            return Err(SourceError::WrongReceipt);
        }
        let (tree_id, path) = (at.tree_id.clone(), path.clone());
        self.with_repo(&at.repository, move |_, repo| {
            let root = repo.find_tree(git2::Oid::from_str(&tree_id)?)?;
            let tree = if path.is_root() {
                root
            } else {
                let entry = root.get_path(Path::new(path.as_str())).map_err(not_found)?;
                match entry.kind() {
                    Some(git2::ObjectType::Tree) => repo.find_tree(entry.id())?,
                    _ => return Err(SourceError::IsFile),
                }
            };
            list_entries(repo, &tree)
        })
        .await
    }

    /// Reads a file at a pin and the directory around it (for the tree beside the code). The
    /// listing is part of the same recorded view: the receipt names the file, whose event records
    /// the pin and path that the listing's directory is the parent of.
    pub async fn read_file(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        path: &RepoPath,
    ) -> Result<(FileContent, Vec<TreeEntry>)> {
        if !receipt.covers(at.pin, path) || path.is_root() {
            return Err(SourceError::WrongReceipt);
        }
        let (tree_id, path) = (at.tree_id.clone(), path.clone());
        self.with_repo(&at.repository, move |this, repo| {
            let root = repo.find_tree(git2::Oid::from_str(&tree_id)?)?;
            let entry = root.get_path(Path::new(path.as_str())).map_err(not_found)?;
            let parent = path.parent();
            let siblings = if parent.is_root() {
                list_entries(repo, &root)?
            } else {
                let dir = root.get_path(Path::new(parent.as_str()))?;
                list_entries(repo, &repo.find_tree(dir.id())?)?
            };
            let content = match entry.kind() {
                Some(git2::ObjectType::Blob) => this.render_blob(repo, entry.id(), path.file_name())?,
                Some(git2::ObjectType::Tree) => return Err(SourceError::IsDirectory),
                _ => return Err(SourceError::NotFound),
            };
            Ok((content, siblings))
        })
        .await
    }

    fn render_blob(&self, repo: &git2::Repository, id: git2::Oid, file_name: &str) -> Result<FileContent> {
        let blob_id = id.to_string();
        let blob = repo.find_blob(id)?;
        let size = blob.size() as u64;
        if blob.is_binary() {
            let bytes = blob.content();
            return Ok(FileContent {
                blob_id,
                size,
                content: BlobContent::Binary {
                    mime: guess_binary_type(bytes).to_string(),
                    hex_preview: hex_preview(&bytes[..bytes.len().min(512)]),
                },
            });
        }
        if size > self.limits.display_max_bytes {
            return Ok(FileContent {
                blob_id,
                size,
                content: BlobContent::Text {
                    lines: Vec::new(),
                    language: None,
                    notice: Some(format!(
                        "This file is larger than {} MiB and is not displayed.",
                        self.limits.display_max_bytes / (1024 * 1024)
                    )),
                },
            });
        }
        // Blobs of a pin never change, so the highlighted form is cached by blob id (and name,
        // since the name picks the grammar).
        let key = format!("{blob_id}:{file_name}");
        let cached = self.cache.lock().expect("cache lock").get(&key).cloned();
        let highlighted = match cached {
            Some(hit) => hit,
            None => {
                let text = String::from_utf8_lossy(blob.content());
                let fresh = Arc::new(self.highlighter.highlight(file_name, &text, &self.limits));
                self.cache.lock().expect("cache lock").put(key, Arc::clone(&fresh));
                fresh
            }
        };
        Ok(FileContent {
            blob_id,
            size,
            content: BlobContent::Text {
                lines: highlighted.lines.clone(),
                language: highlighted.language.clone(),
                notice: highlighted.notice.clone(),
            },
        })
    }
}

fn not_found(error: git2::Error) -> SourceError {
    if error.code() == git2::ErrorCode::NotFound {
        SourceError::NotFound
    } else {
        SourceError::Git(error)
    }
}

fn list_entries(repo: &git2::Repository, tree: &git2::Tree<'_>) -> Result<Vec<TreeEntry>> {
    let odb = repo.odb()?;
    let mut entries = Vec::with_capacity(tree.len());
    for entry in tree.iter() {
        let name = String::from_utf8_lossy(entry.name_bytes()).into_owned();
        let (kind, size) = match entry.kind() {
            Some(git2::ObjectType::Tree) => (EntryKind::Directory, None),
            Some(git2::ObjectType::Commit) => (EntryKind::Submodule, None),
            Some(git2::ObjectType::Blob) => {
                let kind = if entry.filemode() == 0o120000 { EntryKind::Symlink } else { EntryKind::File };
                (kind, odb.read_header(entry.id()).ok().map(|(size, _)| size as u64))
            }
            _ => continue,
        };
        entries.push(TreeEntry { name, kind, size });
    }
    entries.sort_by(|a, b| {
        let dir = |e: &TreeEntry| e.kind != EntryKind::Directory;
        dir(a).cmp(&dir(b)).then_with(|| a.name.cmp(&b.name))
    });
    Ok(entries)
}

/// A type name from the first bytes of common binary formats.
fn guess_binary_type(bytes: &[u8]) -> &'static str {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF8", "image/gif"),
        (b"%PDF", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1f\x8b", "application/gzip"),
        (b"\x7fELF", "application/x-elf"),
        (b"!<arch>\n", "application/x-archive (static library)"),
        (b"\0asm", "application/wasm"),
        (b"MZ", "application/x-msdownload"),
    ];
    MAGIC
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, name)| *name)
        .unwrap_or("application/octet-stream")
}

/// `xxd`-style lines: offset, 16 bytes in hex, and their printable characters.
fn hex_preview(bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, chunk)| {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let text: String =
                chunk.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
            format!("{:08x}  {:<47}  {}", i * 16, hex.join(" "), text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hex_preview_shows_offsets_bytes_and_text() {
        let lines = hex_preview(b"\x89PNG\r\n\x1a\nabcdefgh0123");
        assert_eq!(lines[0], "00000000  89 50 4e 47 0d 0a 1a 0a 61 62 63 64 65 66 67 68  .PNG....abcdefgh");
        assert!(lines[1].starts_with("00000010  30 31 32 33"));
        assert_eq!(guess_binary_type(b"!<arch>\nfoo"), "application/x-archive (static library)");
    }
}
