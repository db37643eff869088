//! Searching a pin: every text file in path order, matched with the `regex` crate's engine (a
//! literal query is an escaped pattern), lines found with memchr, within a time budget. Results
//! are collected as they are found — the files, lines and match ranges — so that the domain can
//! record exactly what the page will show before it is sent. A page starts where the one before
//! ended (a `Cursor`: a file and a line), never by searching the pages before it again; when asked,
//! the same pass counts every matching file and line of the search. Needs a receipt for a search
//! of the pin.

mod marks;
mod scan;
mod text;

use super::{PinLocation, Result, Source, SourceError};
use crate::audit::Receipt;
use scan::{assemble, halfway, scan_part, BlobTexts, PackTexts, Plan};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a page of results starts: the first file whose path is at or after `path` (paths in
/// byte order), from its line `line` (1 for its first).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub path: String,
    pub line: u32,
}

/// Longest cursor accepted.
const MAX_CURSOR: usize = 8192;

impl Cursor {
    /// The cursor as pages and the API carry it: `line:path`, base64url without padding.
    pub fn encode(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{}", self.line, self.path))
    }

    /// A cursor from a page link or an API client (`None` when it is not one this server made).
    pub fn decode(text: &str) -> Option<Cursor> {
        use base64::Engine as _;
        if text.len() > MAX_CURSOR {
            return None;
        }
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).ok()?;
        let text = String::from_utf8(bytes).ok()?;
        let (line, path) = text.split_once(':')?;
        let line: u32 = line.parse().ok().filter(|&l| l >= 1)?;
        app::model::RepoPath::parse(path).ok().filter(|p| !p.as_str().is_empty())?;
        Some(Cursor { path: path.to_string(), line })
    }
}

impl SearchRequest {
    /// Whether the search reads the file at `path`: in the searcher's scope, and matching the
    /// path filter asked for.
    pub fn reads(&self, path: &str) -> bool {
        self.scope.as_ref().is_none_or(|keep| keep(path)) && self.paths.as_ref().is_none_or(|glob| glob.is_match(path))
    }
}

/// Which paths a search may read (a grant's scope): `true` to read.
pub type PathFilter = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// What to look for and how much of it to return.
#[derive(Clone)]
pub struct SearchRequest {
    pub pattern: regex::bytes::Regex,
    pub paths: Option<globset::GlobMatcher>,
    /// The paths the searcher's grant covers (`None`: every path); no other file is read.
    pub scope: Option<PathFilter>,
    /// Where this page starts (`None`: at the first file).
    pub from: Option<Cursor>,
    /// Files with hits to return.
    pub want_files: usize,
    /// Matching lines returned per file; the rest are counted.
    pub lines_per_file: usize,
    /// Whether a file with more matching lines than `lines_per_file` ends the page, the next page
    /// continuing it from its next matching line (a file's "all lines"), instead of counting them.
    pub continue_in_file: bool,
    /// Whether a match may run across lines (`multiline=1`); by default a line matches as with
    /// grep, only by what lies within it.
    pub multiline: bool,
    /// Whether to count every matching file and line of the search (its totals are not known yet).
    pub count: bool,
    /// The files known to hold a match, from the page that counted them: a page reads only these
    /// (and only as many as it can show). Used with a pin's search pack alone, whose files they
    /// number; ignored when counting.
    pub within: Option<Arc<FileSet>>,
    /// Whether result lines are given as the file view highlights them (a page; not the API).
    pub highlight: bool,
    pub budget: Duration,
}

/// One line of a result: its number, its text, and the byte ranges that matched (none for a line
/// of context).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchLine {
    pub number: u32,
    pub text: String,
    pub matches: Vec<(usize, usize)>,
    /// The line as the file view highlights it, its matches marked (when the file's highlighting
    /// is in the cache and shows exactly this text).
    pub html: Option<String>,
}

/// The hits in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub path: String,
    pub blob_id: String,
    pub lines: Vec<SearchLine>,
    /// Matching lines beyond those returned.
    pub more_lines: u64,
    /// The line the next page continues this file from, when it does.
    pub resume: Option<u32>,
    /// The grammar the file is highlighted with (its highlighting's cache key).
    pub grammar: Option<String>,
}

/// Every matching file and line of a search.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub files: u64,
    pub lines: u64,
    /// Every file was searched; else the budget ran out and these are a lower bound.
    pub exact: bool,
}

#[derive(Debug, Default)]
pub struct SearchOutcome {
    pub hits: Vec<SearchHit>,
    /// Where the next page starts, if there is more to see (also after a page the budget cut short).
    pub next: Option<Cursor>,
    /// Whether the budget ran out before the page was full (the hits are those found until then).
    pub timed_out: bool,
    pub files_searched: u64,
    /// When asked for: every matching file and line.
    pub totals: Option<Totals>,
    /// When counted exactly from a search pack: the files that hold a match (for `within`).
    pub matching: Option<FileSet>,
}

/// Some of a pin's searchable files, numbered in path order among those the path pattern keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileSet(Vec<u64>);

impl FileSet {
    fn insert(&mut self, index: usize) {
        let (word, bit) = (index / 64, index % 64);
        if self.0.len() <= word {
            self.0.resize(word + 1, 0);
        }
        self.0[word] |= 1 << bit;
    }

    fn contains(&self, index: usize) -> bool {
        self.0.get(index / 64).is_some_and(|word| word & (1 << (index % 64)) != 0)
    }

    /// Bytes held, for a cache's accounting.
    pub fn bytes(&self) -> usize {
        self.0.len() * 8
    }
}

/// A text file to search, in path order: where its text is (in the pin's pack, or a blob).
#[derive(Clone, Debug)]
pub struct PackedFile {
    pub path: String,
    pub blob_id: String,
    pub offset: u64,
    pub length: u64,
}

impl Source {
    /// The grammar a file is highlighted with, from its name (or its first line).
    fn grammar_of(&self, path: &str, text: &[u8]) -> Option<String> {
        let first = String::from_utf8_lossy(&text[..text.len().min(256)]);
        let name = path.rsplit('/').next().unwrap_or(path);
        self.highlighter.syntax_for(name, &first).map(|syntax| syntax.name.clone())
    }

    /// Each result line as the file view shows it, from the highlight cache (nothing is
    /// highlighted here: a file not yet highlighted shows plain lines).
    fn mark_up(&self, hits: &mut [SearchHit]) {
        for hit in hits {
            let key = super::cache::HighlightCache::key(&hit.blob_id, hit.grammar.as_deref());
            let Some(entry) = self.cache.get_any_kept(&key, true) else { continue };
            if entry.total.is_some() {
                continue; // a window of a long file's lines
            }
            for line in &mut hit.lines {
                let html = entry.lines.get((line.number as usize).wrapping_sub(1));
                line.html = html.and_then(|html| marks::mark_highlighted(html, &line.text, &line.matches));
            }
        }
    }

    /// Searches the pin's search pack (built by the index job) in path order, on both cores: the
    /// files split in two parts of about equal bytes, searched side by side; the second part's
    /// hits are used only when the first runs out of files before a page's worth, and without
    /// counting it stops as soon as the first has one. `None` when the pin has no pack yet.
    pub async fn search_pack(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        files: Arc<Vec<PackedFile>>,
        request: SearchRequest,
    ) -> Result<Option<SearchOutcome>> {
        if !receipt.covers_whole(at.pin) {
            return Err(SourceError::WrongReceipt);
        }
        let (dir, pin) = (self.index_dir.clone(), at.pin);
        if !super::pack::exists(&dir, pin) {
            return Ok(None);
        }
        let open = move || -> Result<PackTexts> {
            Ok(PackTexts(super::pack::PackReader::open(&dir, pin)?.ok_or(SourceError::NotFound)?))
        };
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let deadline = Instant::now() + request.budget;
            let chosen: Vec<&PackedFile> = files.iter().filter(|f| request.reads(&f.path)).collect();
            let within = request.within.as_deref().filter(|_| !request.count);
            let chosen: Vec<&PackedFile> = match within {
                Some(set) => {
                    chosen.into_iter().enumerate().filter(|(at, _)| set.contains(*at)).map(|(_, f)| f).collect()
                }
                None => chosen,
            };
            let grammar = |path: &str, text: &[u8]| this.grammar_of(path, text);
            let plan = Plan::new(&chosen, &request, deadline, &grammar);
            // Every file of a known set holds a match: a page's worth of them is all it reads.
            let (from, to) = match (request.count, within) {
                (true, _) => (0, chosen.len()),
                (false, Some(_)) => (plan.start, chosen.len().min(plan.start + plan.enough)),
                (false, None) => (plan.start, chosen.len()),
            };
            let middle = halfway(&chosen, from..to);
            let first_done = AtomicBool::new(false);
            let (first, second) = std::thread::scope(|scope| {
                let later = scope.spawn(|| {
                    let collect = || !first_done.load(Ordering::Relaxed);
                    scan_part(&mut open()?, &plan, middle..to, &request, &collect, &|| {})
                });
                let done = || first_done.store(true, Ordering::Relaxed);
                let earlier =
                    open().and_then(|mut texts| scan_part(&mut texts, &plan, from..middle, &request, &|| true, &done));
                let later =
                    later.join().unwrap_or_else(|_| Err(std::io::Error::other("a search thread failed").into()));
                (earlier, later)
            });
            let mut outcome = assemble(vec![first?, second?], &plan, &request);
            if request.highlight {
                this.mark_up(&mut outcome.hits);
            }
            Ok(Some(outcome))
        })
        .await?
    }

    /// Searches every text file of the pin in path order, from its blobs (a pin not yet indexed).
    pub async fn search(
        self: &Arc<Self>,
        receipt: &Receipt,
        at: &PinLocation,
        request: SearchRequest,
    ) -> Result<SearchOutcome> {
        if !receipt.covers_whole(at.pin) {
            return Err(SourceError::WrongReceipt);
        }
        let tree_id = at.tree_id.clone();
        let max_bytes = self.limits.display_max_bytes;
        self.with_repo(&at.repository, move |this, repo| {
            let deadline = Instant::now() + request.budget;
            let root = repo.find_tree(git2::Oid::from_str(&tree_id)?)?;
            let odb = repo.odb()?;
            let mut files = Vec::new();
            root.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                if entry.kind() == Some(git2::ObjectType::Blob) && entry.filemode() != 0o120000 {
                    let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
                    if request.reads(&path) {
                        files.push(PackedFile { path, blob_id: entry.id().to_string(), offset: 0, length: 0 });
                    }
                }
                git2::TreeWalkResult::Ok
            })?;
            files.sort_by(|a, b| a.path.cmp(&b.path));
            // Too large to show is too large to search, as in the pack.
            files.retain(|f| {
                git2::Oid::from_str(&f.blob_id)
                    .ok()
                    .and_then(|id| odb.read_header(id).ok())
                    .is_some_and(|(size, _)| size as u64 <= max_bytes)
            });
            let chosen: Vec<&PackedFile> = files.iter().collect();
            let grammar = |path: &str, text: &[u8]| this.grammar_of(path, text);
            let plan = Plan::new(&chosen, &request, deadline, &grammar);
            let from = if request.count { 0 } else { plan.start };
            let part = scan_part(&mut BlobTexts { repo }, &plan, from..chosen.len(), &request, &|| true, &|| {})?;
            let mut outcome = assemble(vec![part], &plan, &request);
            // Numbered among the blobs, not the pack's files that a later page would read.
            outcome.matching = None;
            if request.highlight {
                this.mark_up(&mut outcome.hits);
            }
            Ok(outcome)
        })
        .await
    }
}

#[cfg(test)]
mod tests;
