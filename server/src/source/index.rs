//! Indexing a whole pin: every regular file's path, blob id, size, line count and whether it is
//! binary, and the pin's search pack (its text files concatenated, in path order, compressed in
//! frames: `pack.rs`). A background job does this once
//! per pin, through a whole-pin receipt; coverage, the file finder and search read the index.

use super::{PinLocation, Result, Source, SourceError};
use crate::audit::Receipt;
use crate::store::files::PinFileRow;
use std::sync::Arc;

/// Lines of a text: newlines, plus one for a last line without its newline.
pub(super) fn count_lines(bytes: &[u8]) -> u64 {
    let newlines = bytes.iter().filter(|&&b| b == b'\n').count() as u64;
    newlines + u64::from(!bytes.is_empty() && bytes.last() != Some(&b'\n'))
}

impl Source {
    /// Every regular file of the pin (symlinks and submodules are not files to review), in path
    /// order, and the pin's search pack: the text of every text file no larger than the display
    /// cap, in that order (each row says where its text is). A file whose blob `lender` (an
    /// earlier pin of the repository, indexed, with its files' rows) has packed is not packed
    /// again: the new pack points into the lender's. The receipt must cover the whole pin.
    pub async fn index_files(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        lender: Option<(app::model::PinId, Vec<PinFileRow>)>,
    ) -> Result<Vec<PinFileRow>> {
        if !receipt.covers_whole(at.pin) {
            return Err(SourceError::WrongReceipt);
        }
        let tree_id = at.tree_id.clone();
        let (pin, pack) = (at.pin, super::pack::framed_path(&self.index_dir, at.pin));
        self.with_repo(&at.repository, move |this, repo| {
            let lender = match lender {
                Some((lender, rows)) => {
                    let places = rows.into_iter().filter_map(|row| Some((row.blob_id, row.text?)));
                    super::pack::Lender::open(&this.index_dir, lender, places)?
                }
                None => None,
            };
            let root = repo.find_tree(git2::Oid::from_str(&tree_id)?)?;
            let mut entries = Vec::new();
            root.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                let regular = matches!(entry.filemode(), 0o100644 | 0o100755 | 0o100664);
                if entry.kind() == Some(git2::ObjectType::Blob) && regular {
                    entries.push((format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes())), entry.id()));
                }
                git2::TreeWalkResult::Ok
            })?;
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            std::fs::create_dir_all(&this.index_dir)?;
            let partial = pack.with_extension("zpack.partial");
            let mut writer = super::pack::PackWriter::create(&partial, pin, lender)?;
            let mut files = Vec::with_capacity(entries.len());
            for (path, id) in entries {
                let blob = repo.find_blob(id)?;
                let blob_id = id.to_string();
                let binary = blob.is_binary();
                let bytes = blob.size() as u64;
                let text = match !binary && bytes <= this.limits.display_max_bytes {
                    true => Some(writer.add(&blob_id, blob.content())?),
                    false => None,
                };
                files.push(PinFileRow {
                    path,
                    blob_id,
                    bytes,
                    lines: if binary { 0 } else { count_lines(blob.content()) },
                    binary,
                    text,
                });
            }
            writer.finish()?;
            std::fs::rename(&partial, &pack)?;
            Ok(files)
        })
        .await
    }

    /// The path of every entry at the pin that is not a directory (files, symlinks, submodules),
    /// unordered: what a grant limited to paths is matched against (names only; nothing is read).
    pub async fn entry_paths(self: &Arc<Self>, at: &PinLocation) -> Result<Vec<String>> {
        let tree_id = at.tree_id.clone();
        self.with_repo(&at.repository, move |_, repo| {
            let root = repo.find_tree(git2::Oid::from_str(&tree_id)?)?;
            let mut paths = Vec::new();
            root.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                if entry.kind() != Some(git2::ObjectType::Tree) {
                    paths.push(format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes())));
                }
                git2::TreeWalkResult::Ok
            })?;
            Ok(paths)
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
