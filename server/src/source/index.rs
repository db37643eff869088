//! Indexing a whole pin: every regular file's path, blob id, size, line count and whether it is
//! binary. A background job does this once per pin, through a whole-pin receipt; coverage and the
//! file finder read the index instead of the repository.

use super::{PinLocation, Result, Source, SourceError};
use crate::audit::Receipt;
use crate::store::files::PinFileRow;
use std::sync::Arc;

/// Lines of a text: newlines, plus one for a last line without its newline.
pub fn count_lines(bytes: &[u8]) -> u64 {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(!bytes.is_empty() && bytes.last() != Some(&b'\n'))
}

impl Source {
    /// Every regular file of the pin (symlinks and submodules are not files to review), in path
    /// order. The receipt must cover the whole pin.
    pub async fn index_files(self: &Arc<Self>, receipt: &Receipt, at: &PinLocation) -> Result<Vec<PinFileRow>> {
        if !receipt.covers_whole(at.pin) {
            return Err(SourceError::WrongReceipt);
        }
        let tree_id = at.tree_id.clone();
        self.with_repo(&at.repository, move |_, repo| {
            let root = repo.find_tree(git2::Oid::from_str(&tree_id)?)?;
            let mut files = Vec::new();
            let mut failure = None;
            root.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                let regular = matches!(entry.filemode(), 0o100644 | 0o100755 | 0o100664);
                if entry.kind() != Some(git2::ObjectType::Blob) || !regular {
                    return git2::TreeWalkResult::Ok;
                }
                match repo.find_blob(entry.id()) {
                    Ok(blob) => {
                        let binary = blob.is_binary();
                        files.push(PinFileRow {
                            path: format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes())),
                            blob_id: entry.id().to_string(),
                            bytes: blob.size() as u64,
                            lines: if binary { 0 } else { count_lines(blob.content()) },
                            binary,
                        });
                        git2::TreeWalkResult::Ok
                    }
                    Err(error) => {
                        failure = Some(error);
                        git2::TreeWalkResult::Abort
                    }
                }
            })?;
            if let Some(error) = failure {
                return Err(error.into());
            }
            files.sort_by(|a, b| a.path.cmp(&b.path));
            Ok(files)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::count_lines;

    #[test]
    fn lines_are_counted_as_an_editor_shows_them() {
        assert_eq!(count_lines(b""), 0);
        assert_eq!(count_lines(b"a"), 1);
        assert_eq!(count_lines(b"a\n"), 1);
        assert_eq!(count_lines(b"a\nb"), 2);
        assert_eq!(count_lines(b"\n\n"), 2);
    }
}
