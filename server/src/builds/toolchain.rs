//! The digest that names a room build's toolchain in its provenance.
//!
//! A root file system directory: an RFC 6962 Merkle tree hash over one leaf per entry below the
//! root, in byte order of their paths, each leaf
//! `kind (1 byte: d, f, l) || mode (u32 big-endian, permission bits) || path || 0x00 || what`,
//! where `what` is the SHA-256 of a file's contents, a link's target bytes, or nothing for a
//! directory; written `sha256:<hex>`. The host's toolchain is too large to hash file by file:
//! it is named by the SHA-256 of its package database (`/var/lib/dpkg/status`), written
//! `dpkg-status-sha256:<hex>`, or `unknown` where there is none.

use crate::audit::merkle::{leaf_hash, Frontier};
use sha2::{Digest, Sha256};
use std::io::Read as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

/// The digest of a toolchain root directory (see the module's text).
pub fn digest_dir(root: &Path) -> std::io::Result<String> {
    let mut paths = Vec::new();
    collect(root, Path::new(""), &mut paths)?;
    paths.sort_by(|a, b| a.as_os_str().as_bytes().cmp(b.as_os_str().as_bytes()));
    let mut tree = Frontier::empty();
    for relative in paths {
        let full = root.join(&relative);
        let meta = std::fs::symlink_metadata(&full)?;
        let (kind, what): (u8, Vec<u8>) = if meta.file_type().is_symlink() {
            (b'l', std::fs::read_link(&full)?.as_os_str().as_bytes().to_vec())
        } else if meta.is_dir() {
            (b'd', Vec::new())
        } else if meta.is_file() {
            (b'f', file_sha256(&full)?.to_vec())
        } else {
            continue; // sockets, devices and pipes are no part of a toolchain
        };
        let mut leaf = vec![kind];
        leaf.extend_from_slice(&(meta.permissions().mode() & 0o7777).to_be_bytes());
        leaf.extend_from_slice(relative.as_os_str().as_bytes());
        leaf.push(0);
        leaf.extend_from_slice(&what);
        tree.push(leaf_hash(&leaf));
    }
    Ok(format!("sha256:{}", hex::encode(tree.root())))
}

/// The host's toolchain, by its package database.
pub fn digest_host() -> String {
    match file_sha256(Path::new("/var/lib/dpkg/status")) {
        Ok(hash) => format!("dpkg-status-sha256:{}", hex::encode(hash)),
        Err(_) => "unknown".to_string(),
    }
}

fn collect(root: &Path, relative: &Path, into: &mut Vec<std::path::PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(root.join(relative))? {
        let entry = entry?;
        let path = relative.join(entry.file_name());
        let is_dir = entry.file_type()?.is_dir();
        into.push(path.clone());
        if is_dir {
            collect(root, &path, into)?;
        }
    }
    Ok(())
}

fn file_sha256(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(hasher.finalize().into());
        }
        hasher.update(&buffer[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_root_directory_digest_changes_with_a_content_a_mode_or_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("usr/bin")).unwrap();
        std::fs::write(root.join("usr/bin/cc"), b"compiler").unwrap();
        std::os::unix::fs::symlink("usr/bin", root.join("bin")).unwrap();
        let first = digest_dir(root).unwrap();
        assert!(first.starts_with("sha256:") && first.len() == 7 + 64);
        assert_eq!(digest_dir(root).unwrap(), first, "the same tree, the same digest");
        std::fs::write(root.join("usr/bin/cc"), b"compilex").unwrap();
        let content = digest_dir(root).unwrap();
        assert_ne!(content, first);
        std::fs::set_permissions(root.join("usr/bin/cc"), std::fs::Permissions::from_mode(0o755)).unwrap();
        let mode = digest_dir(root).unwrap();
        assert_ne!(mode, content);
        std::fs::remove_file(root.join("bin")).unwrap();
        std::os::unix::fs::symlink("usr/sbin", root.join("bin")).unwrap();
        assert_ne!(digest_dir(root).unwrap(), mode);
    }
}
