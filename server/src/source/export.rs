//! A pin's tree written out for a room build: every file with its mode (executable or not), every
//! symbolic link as a link, submodules left out. Needs a receipt for the whole pin.

use super::{PinLocation, Result, Source, SourceError};
use crate::audit::Receipt;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Component, Path};
use std::sync::Arc;

/// What was written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Exported {
    pub files: u64,
    pub bytes: u64,
}

impl Source {
    /// Writes the pin's tree into `into` (a new, empty directory).
    pub async fn export_tree(self: &Arc<Self>, receipt: &Receipt, at: &PinLocation, into: &Path) -> Result<Exported> {
        if !receipt.covers_whole(at.pin) {
            return Err(SourceError::WrongReceipt);
        }
        let (tree_id, into) = (at.tree_id.clone(), into.to_path_buf());
        self.with_repo(&at.repository, move |_, repo| {
            let root = repo.find_tree(git2::Oid::from_str(&tree_id)?)?;
            let mut entries = Vec::new();
            root.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
                entries.push((path, entry.id(), entry.filemode(), entry.kind()));
                git2::TreeWalkResult::Ok
            })?;
            let mut exported = Exported::default();
            for (path, id, mode, kind) in entries {
                let relative = Path::new(&path);
                if !relative.components().all(|c| matches!(c, Component::Normal(_))) {
                    continue; // git refuses such names; a repository that has one gets no file for it
                }
                let target = into.join(relative);
                match (kind, mode) {
                    (Some(git2::ObjectType::Tree), _) => std::fs::create_dir_all(&target)?,
                    (Some(git2::ObjectType::Blob), 0o120000) => {
                        let blob = repo.find_blob(id)?;
                        let link = std::ffi::OsStr::from_bytes(blob.content());
                        std::os::unix::fs::symlink(link, &target)?;
                    }
                    (Some(git2::ObjectType::Blob), _) => {
                        let blob = repo.find_blob(id)?;
                        let permissions = if mode == 0o100755 { 0o755 } else { 0o644 };
                        let mut file =
                            std::fs::OpenOptions::new().write(true).create_new(true).mode(permissions).open(&target)?;
                        file.write_all(blob.content())?;
                        exported.files += 1;
                        exported.bytes += blob.size() as u64;
                    }
                    _ => {} // a submodule: its commit is not in this repository
                }
            }
            Ok(exported)
        })
        .await
    }
}
