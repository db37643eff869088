//! Reading a file at a pin for a view: whole and highlighted (cached by blob id), a window of lines
//! of a long one, its rows packed once for splicing, each made once however many ask at once.

use super::*;
use crate::audit::Receipt;
use app::model::{BlobContent, EntryKind, FileNotice, LineWindow, RepoPath, TreeEntry};
use cache::HighlightCache;
use std::sync::Arc;

/// What a view asks of a blob.
#[derive(Clone, Copy)]
pub(super) struct BlobAsk<'a> {
    pub id: git2::Oid,
    /// The name it has at the pin (which may decide its grammar).
    pub file_name: &'a str,
    /// A large text is shown as the window from this line (the first when `None`).
    pub from: Option<u32>,
    /// The window from `from` of a highlighted file too (rows loaded into a page), not all of it.
    pub slice: bool,
    /// Rows from an entry packed (`FileContent::packed`) rather than as lines.
    pub pack: bool,
}

enum Cached {
    Hit(FileContent),
    /// Not kept: the blob, of this size, must be read.
    Miss(u64),
}

impl Source {
    /// Whether a file of this size is shown a window of lines at a time (past the highlight cap,
    /// within the display cap).
    pub fn is_windowed(&self, size: u64) -> bool {
        size > self.limits.highlight_max_bytes && size <= self.limits.display_max_bytes
    }

    /// Reads a file at a pin and lists the directory that holds it (for the tree beside the code):
    /// the receipt must cover both. With `from` (a window boundary), a long file's window of lines
    /// from there; a file past the highlight cap is always shown in windows (the first when `None`).
    pub async fn read_file(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        path: &RepoPath,
        from: Option<u32>,
        pack: bool,
    ) -> Result<(FileContent, Vec<TreeEntry>)> {
        if path.is_root() || !receipt.covers(at.pin, path) || !receipt.covers(at.pin, &path.parent()) {
            return Err(SourceError::WrongReceipt);
        }
        if let Some(kept) = self.read_file_kept(&at.tree_id, path, from, pack) {
            return Ok(kept);
        }
        let (tree_id, path) = (at.tree_id.clone(), path.clone());
        self.with_repo(&at.repository, move |this, repo| {
            let id = blob_at(repo, &tree_id, &path)?;
            let ask = BlobAsk { id, file_name: path.file_name(), from, slice: from.is_some(), pack };
            let content = this.render_blob(repo, ask)?;
            let directory = subtree(repo, &tree_id, &path.parent())?.ok_or(SourceError::NotFound)?;
            Ok((content, this.listing(repo, &directory)?.as_ref().clone()))
        })
        .await
    }

    /// One window of a file's lines from `from`: the rows a reader loads while scrolling or
    /// jumping through a large file. The receipt must cover the file.
    pub async fn read_window(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        path: &RepoPath,
        from: u32,
    ) -> Result<FileContent> {
        if path.is_root() || !receipt.covers(at.pin, path) {
            return Err(SourceError::WrongReceipt);
        }
        let (tree_id, path) = (at.tree_id.clone(), path.clone());
        self.with_repo(&at.repository, move |this, repo| {
            let id = blob_at(repo, &tree_id, &path)?;
            this.render_blob(
                repo,
                BlobAsk { id, file_name: path.file_name(), from: Some(from), slice: true, pack: false },
            )
        })
        .await
    }

    /// How many lines of a blob a reader can be sent: its line count, or `None` for a file shown
    /// without lines (binary, or over the display cap). An event names the lines a window sends
    /// from this, before anything is read for the reader. Like a size, it is a fact about the file,
    /// not its text, so no receipt is asked for. Kept per blob.
    pub async fn line_count(self: &Arc<Self>, at: &PinLocation, blob_id: &str) -> Result<Option<u32>> {
        if let Some(known) = self.line_counts.lock().expect("line counts").get(blob_id) {
            return Ok(*known);
        }
        // A kept window of the blob knows its file's length: a first view after a restart then
        // inflates nothing (the window it shows is kept too).
        if let Some(total) = self.cache.get_kept(&window_key(blob_id, 1), true).and_then(|window| window.total) {
            self.line_counts.lock().expect("line counts").put(blob_id.to_string(), Some(total));
            return Ok(Some(total));
        }
        let id = git2::Oid::from_str(blob_id).map_err(|_| SourceError::NotFound)?;
        let key = blob_id.to_string();
        self.with_repo(&at.repository, move |this, repo| {
            let (size, _) = repo.odb()?.read_header(id)?;
            let count = if size as u64 > this.limits.display_max_bytes {
                None
            } else {
                let blob = repo.find_blob(id)?;
                (!blob.is_binary()).then(|| index::count_lines(blob.content()).min(u32::MAX as u64) as u32)
            };
            this.line_counts.lock().expect("line counts").put(key, count);
            Ok(count)
        })
        .await
    }

    /// A blob for display (see `BlobAsk`).
    fn render_blob(&self, repo: &git2::Repository, ask: BlobAsk<'_>) -> Result<FileContent> {
        let size = match self.render_cached(repo, ask)? {
            Cached::Hit(content) => return Ok(content),
            Cached::Miss(size) => size,
        };
        // A miss: one thread reads and renders an entry; others that ask for it meanwhile wait and
        // then take it from the cache (sixteen readers opening one large file at once would
        // otherwise each inflate it, and hold sixteen copies).
        let blob_id = ask.id.to_string();
        let gate = if self.is_windowed(size) { window_key(&blob_id, ask.from.unwrap_or(1)) } else { blob_id };
        self.in_flight.run(&gate, || match self.render_cached(repo, ask)? {
            Cached::Hit(content) => Ok(content),
            Cached::Miss(size) => self.render_uncached(repo, ask, size),
        })
    }

    /// A file view from memory alone: the file and its directory located before (under this
    /// tree), the file's rendering and the directory's listing kept in memory. `None` when any of
    /// it is not, and the repository must be read.
    fn read_file_kept(
        &self,
        tree_id: &str,
        path: &RepoPath,
        from: Option<u32>,
        pack: bool,
    ) -> Option<(FileContent, Vec<TreeEntry>)> {
        let located = self.kept_locations(tree_id, &[path.clone(), path.parent()])?;
        let (Some(file), Some(directory)) = (&located[0], &located[1]) else { return None };
        let (EntryKind::File | EntryKind::Symlink, Some(size), EntryKind::Directory) =
            (file.kind, file.size, directory.kind)
        else {
            return None;
        };
        let listing = self.kept_listing(git2::Oid::from_str(&directory.object_id).ok()?)?;
        let id = git2::Oid::from_str(&file.object_id).ok()?;
        let ask = BlobAsk { id, file_name: path.file_name(), from, slice: from.is_some(), pack };
        let content = self.render_kept(size, ask, false)?;
        Some((content, listing.as_ref().clone()))
    }

    /// A blob for display from what is kept (or needs no reading), or its size when it must be read.
    fn render_cached(&self, repo: &git2::Repository, ask: BlobAsk<'_>) -> Result<Cached> {
        let (size, _) = repo.odb()?.read_header(ask.id)?;
        let size = size as u64;
        Ok(match self.render_kept(size, ask, true) {
            Some(content) => Cached::Hit(content),
            None => Cached::Miss(size),
        })
    }

    /// A blob of `size` bytes for display from what is kept (from memory only unless `from_disk`),
    /// or rendered without reading it (too large to show).
    fn render_kept(&self, size: u64, ask: BlobAsk<'_>, from_disk: bool) -> Option<FileContent> {
        let blob_id = ask.id.to_string();
        if size > self.limits.display_max_bytes {
            return Some(FileContent {
                blob_id,
                size,
                content: BlobContent::Text {
                    lines: Vec::new(),
                    language: None,
                    notice: Some(FileNotice::NotDisplayed { max_bytes: self.limits.display_max_bytes }),
                    window: None,
                    spliced: None,
                },
                packed: None,
            });
        }
        // A window already cut from this blob: no need to inflate megabytes again.
        if self.is_windowed(size) {
            let key = window_key(&blob_id, ask.from.unwrap_or(1));
            return self.cache.get_kept(&key, from_disk).map(|window| window_content(size, &window, ask));
        }
        // A file whose name decides its grammar and that is already highlighted: the cache has
        // it, so the blob need not be read (inflated and hashed) at all.
        let syntax = self.highlighter.syntax_by_name(ask.file_name)?;
        let highlighted = self.cache.get_any_kept(&HighlightCache::key(&blob_id, Some(&syntax.name)), from_disk)?;
        Some(shown(size, &highlighted, ask))
    }

    /// A blob for display, read and rendered (and kept for the next view).
    fn render_uncached(&self, repo: &git2::Repository, ask: BlobAsk<'_>, size: u64) -> Result<FileContent> {
        let blob_id = ask.id.to_string();
        let blob = repo.find_blob(ask.id)?;
        if blob.is_binary() {
            let bytes = blob.content();
            return Ok(FileContent {
                blob_id,
                size,
                content: BlobContent::Binary {
                    mime: binary::guess_binary_type(bytes).to_string(),
                    hex_preview: binary::hex_preview(&bytes[..bytes.len().min(512)]),
                },
                packed: None,
            });
        }
        if self.is_windowed(size) {
            let window = self.plain_window(&blob_id, blob.content(), ask.from.unwrap_or(1));
            return Ok(window_content(size, &window, ask));
        }
        let highlighted = self.highlighted(&blob_id, ask.file_name, blob.content());
        Ok(shown(size, &highlighted, ask))
    }

    /// Lines `from..` of a large text, escaped, at most a window of them, each cut at
    /// `highlight::SHOWN_LINE_MAX` bytes; cached like a highlighted file.
    fn plain_window(&self, blob_id: &str, bytes: &[u8], from: u32) -> Arc<highlight::Highlighted> {
        let key = window_key(blob_id, from);
        let total = index::count_lines(bytes).min(u32::MAX as u64) as u32;
        let first = from.clamp(1, total.max(1));
        let mut lines = Vec::with_capacity(LineWindow::LINES as usize);
        let mut cut = 0usize;
        for line in bytes.split(|&b| b == b'\n').skip(first as usize - 1).take(LineWindow::LINES as usize) {
            if lines.len() as u32 + first > total {
                break; // The empty piece after a final newline is not a line.
            }
            let text = String::from_utf8_lossy(line);
            let (shown, was_cut) = highlight::cut_line(text.strip_suffix('\r').unwrap_or(&text));
            cut += usize::from(was_cut);
            lines.push(shown);
        }
        let notice = FileNotice::PlainWindows {
            highlight_max_bytes: self.limits.highlight_max_bytes,
            window_lines: LineWindow::LINES,
            cut_lines: u32::try_from(cut).unwrap_or(u32::MAX),
            cut_max_bytes: highlight::SHOWN_LINE_MAX as u64,
        };
        let window = Arc::new(highlight::Highlighted {
            lines,
            language: None,
            notice: Some(notice),
            timed_out: false,
            total: Some(total),
            packed: Default::default(),
            definitions: None,
        });
        self.cache.put(&key, Arc::clone(&window));
        window
    }
}

impl Source {
    /// A text blob highlighted. Blobs of a pin never change, so the highlighted form is cached by
    /// blob id and grammar (the name picks the grammar), in memory and on disk.
    pub(super) fn highlighted(&self, blob_id: &str, file_name: &str, content: &[u8]) -> Arc<highlight::Highlighted> {
        let text = String::from_utf8_lossy(content);
        let syntax = self.highlighter.syntax_within_cap(file_name, &text, content.len() as u64, &self.limits);
        let key = HighlightCache::key(blob_id, syntax.map(|s| s.name.as_str()));
        if let Some(hit) = self.cache.get_any(&key) {
            return hit;
        }
        let fresh = Arc::new(self.highlighter.highlight_as_soon(syntax, &text, &self.limits));
        self.cache.put(&key, Arc::clone(&fresh));
        fresh
    }
}

/// A highlighted file as shown: whole, or (`slice`: rows loaded into a page) the window from `from`.
fn shown(size: u64, highlighted: &highlight::Highlighted, ask: BlobAsk<'_>) -> FileContent {
    let total = highlighted.lines.len() as u32;
    let (lines, window, packed) = match ask.from {
        Some(from) if ask.slice => {
            let first = from.clamp(1, total.max(1));
            let last = first.saturating_add(LineWindow::LINES - 1).min(total);
            let lines = highlighted.lines.get(first as usize - 1..last as usize).unwrap_or_default().to_vec();
            (lines, Some(LineWindow { first, last, total }), None)
        }
        _ => match packed_rows(highlighted, 1, ask.pack) {
            Some(packed) => (Vec::new(), None, Some(packed)),
            None => (highlighted.lines.clone(), None, None),
        },
    };
    let content = BlobContent::Text {
        lines,
        language: highlighted.language.clone(),
        notice: highlighted.notice.clone(),
        window,
        spliced: None,
    };
    FileContent { blob_id: ask.id.to_string(), size, content, packed }
}

/// A window of a large file as shown: its lines, numbered from `from` (clamped to the file, as
/// `Source::plain_window` cut it).
fn window_content(size: u64, window: &highlight::Highlighted, ask: BlobAsk<'_>) -> FileContent {
    let total = window.total.unwrap_or(window.lines.len() as u32);
    let first = ask.from.unwrap_or(1).clamp(1, total.max(1));
    let last = first + (window.lines.len() as u32).saturating_sub(1);
    let packed = packed_rows(window, first, ask.pack);
    let content = BlobContent::Text {
        lines: if packed.is_some() { Vec::new() } else { window.lines.clone() },
        language: None,
        notice: window.notice.clone(),
        window: Some(LineWindow { first, last, total }),
        spliced: None,
    };
    FileContent { blob_id: ask.id.to_string(), size, content, packed }
}

/// With `pack`, an entry's rows numbered from `first`, packed on first use and kept with the
/// entry. `None` without `pack`, for no lines, or when the entry's rows were packed from another
/// line (cannot happen: an entry is one window), so the caller shows the lines instead.
fn packed_rows(entry: &highlight::Highlighted, first: u32, pack: bool) -> Option<Arc<rows::PackedRows>> {
    if !pack || entry.lines.is_empty() {
        return None;
    }
    let packed = entry.packed.get_or_init(|| {
        let html = app::rows::plain_rows_html(&entry.lines, first, &[]);
        Arc::new(rows::PackedRows::pack(&html, first, entry.lines.len() as u32))
    });
    (packed.first == first).then(|| Arc::clone(packed))
}

/// The cache key of a large file's window that starts at line `from`.
fn window_key(blob_id: &str, from: u32) -> String {
    HighlightCache::key(blob_id, Some(&format!("plain window {from}")))
}
