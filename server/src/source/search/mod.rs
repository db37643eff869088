//! Searching a pin: every text file in path order, matched with the `regex` crate's engine (a
//! literal query is an escaped pattern), lines found with memchr, within a time budget. Results
//! are collected as they are found — the files, lines and match ranges — so that the domain can
//! record exactly what the page will show before it is sent. A page starts where the one before
//! ended (a `Cursor`: a file and a line), never by searching the pages before it again; when asked,
//! the same pass counts every matching file and line of the search. Needs a receipt for a search
//! of the pin.

mod marks;
mod text;

use super::{PinLocation, Result, Source, SourceError};
use crate::audit::Receipt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use text::{count_text, search_text};

/// Where a page of results starts: the first file whose path is at or after `path` (paths in
/// byte order), from its line `line` (1 for its first).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cursor {
    pub path: String,
    pub line: u32,
}

/// What to look for and how much of it to return.
#[derive(Clone)]
pub struct SearchRequest {
    pub pattern: regex::bytes::Regex,
    pub paths: Option<globset::GlobMatcher>,
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
}

/// A text file to search, in path order: where its text is (in the pin's pack, or a blob).
#[derive(Clone, Debug)]
pub struct PackedFile {
    pub path: String,
    pub blob_id: String,
    pub offset: u64,
    pub length: u64,
}

/// Reads a file's text for the search: `false` when it has none to search (binary, too large).
trait Texts {
    fn read(&mut self, file: &PackedFile, into: &mut Vec<u8>) -> Result<bool>;
}

/// Texts from a pin's search pack, read forward.
struct PackTexts(super::pack::PackReader);

impl Texts for PackTexts {
    fn read(&mut self, file: &PackedFile, into: &mut Vec<u8>) -> Result<bool> {
        self.0.read(file.offset, file.length, into)?;
        Ok(true)
    }
}

/// Texts from a repository's blobs (a pin not yet indexed).
struct BlobTexts<'r> {
    repo: &'r git2::Repository,
}

impl Texts for BlobTexts<'_> {
    fn read(&mut self, file: &PackedFile, into: &mut Vec<u8>) -> Result<bool> {
        let blob = self.repo.find_blob(git2::Oid::from_str(&file.blob_id)?)?;
        if blob.is_binary() {
            return Ok(false);
        }
        into.clear();
        into.extend_from_slice(blob.content());
        Ok(true)
    }
}

/// How a part's collecting of hits ended.
#[derive(Debug, Default, PartialEq, Eq)]
enum Ended {
    /// Its files ran out before a page's worth.
    #[default]
    Open,
    /// It has a page's worth (or a file the next page continues).
    Full,
    /// The budget ran out inside a file with hits; the next page continues that file.
    Cut,
    /// The budget ran out at this file, to be searched from this line.
    Late(usize, u32),
}

/// What one part of the files gave.
#[derive(Debug, Default)]
struct Part {
    hits: Vec<SearchHit>,
    ended: Ended,
    files: u64,
    lines: u64,
    searched: u64,
    /// The budget ran out before the part was through (its counts are a lower bound).
    late: bool,
}

/// The files of a search and where its page starts in them.
struct Plan<'a> {
    files: &'a [&'a PackedFile],
    /// The first file of the page, and the line it starts from.
    start: usize,
    start_line: u32,
    /// Hits that make a page's worth: one more than a page, to know where the next starts.
    enough: usize,
    deadline: Instant,
    /// The grammar of a file, by its path and text.
    grammar: &'a (dyn Fn(&str, &[u8]) -> Option<String> + Sync),
}

/// Searches `files[range]`: collects hits from the page's first file until a page's worth (while
/// `collect` allows), and, when the request counts, counts every file of the range.
fn scan_part(
    texts: &mut impl Texts,
    plan: &Plan,
    range: std::ops::Range<usize>,
    request: &SearchRequest,
    collect: &dyn Fn() -> bool,
    collected: &dyn Fn(),
) -> Result<Part> {
    let mut part = Part::default();
    let mut buffer = Vec::new();
    for index in range {
        let collecting = index >= plan.start && part.ended == Ended::Open && collect();
        if !collecting && !request.count {
            if index < plan.start {
                continue;
            }
            break;
        }
        if Instant::now() > plan.deadline {
            part.late = true;
            if collecting {
                part.ended = Ended::Late(index, if index == plan.start { plan.start_line } else { 1 });
                collected();
            }
            break;
        }
        let file = plan.files[index];
        if !texts.read(file, &mut buffer)? {
            continue;
        }
        part.searched += 1;
        let matching = if collecting {
            let from = if index == plan.start { plan.start_line } else { 1 };
            let found =
                search_text(&request.pattern, &buffer, request.lines_per_file, request.multiline, plan.deadline, from);
            let mut matching = found.matching_lines();
            if from > 1 && request.count {
                // The totals count the whole file, the lines before this page's too.
                let (all, late) = count_text(&request.pattern, &buffer, request.multiline, plan.deadline);
                matching = all;
                part.late |= late;
            }
            let resume = match (found.late, request.continue_in_file && found.more > 0) {
                (true, _) => Some(found.last_matching_line().map_or(from, |line| line + 1)),
                (false, true) => found.last_matching_line().map(|line| line + 1),
                (false, false) => None,
            };
            let any = found.found();
            if any {
                part.hits.push(SearchHit {
                    path: file.path.clone(),
                    blob_id: file.blob_id.clone(),
                    more_lines: if resume.is_some() { 0 } else { found.more },
                    lines: found.lines,
                    resume,
                    grammar: (plan.grammar)(&file.path, &buffer),
                });
            }
            if found.late {
                part.late = true;
                part.ended = match any {
                    true => Ended::Cut,
                    false => Ended::Late(index, from),
                };
                collected();
                part.files += u64::from(matching > 0);
                part.lines += matching;
                break;
            }
            if resume.is_some() || part.hits.len() >= plan.enough {
                part.ended = Ended::Full;
                collected();
            }
            matching
        } else {
            let (matching, late) = count_text(&request.pattern, &buffer, request.multiline, plan.deadline);
            if late {
                part.late = true;
                part.files += u64::from(matching > 0);
                part.lines += matching;
                break;
            }
            matching
        };
        part.files += u64::from(matching > 0);
        part.lines += matching;
    }
    Ok(part)
}

/// Where `files` splits into two parts of about equal bytes.
fn halfway(files: &[&PackedFile], range: std::ops::Range<usize>) -> usize {
    let total: u64 = files[range.clone()].iter().map(|f| f.length).sum();
    let mut sum = 0;
    for index in range.clone() {
        sum += files[index].length;
        if sum * 2 >= total {
            return index + 1;
        }
    }
    range.end
}

/// The page from the parts, in file order: the hits of the first, then (when the first ran out
/// of files) of the second; where the next page starts; the totals when counted.
fn assemble(parts: Vec<Part>, plan: &Plan, request: &SearchRequest) -> SearchOutcome {
    let want = request.want_files;
    let mut outcome = SearchOutcome {
        files_searched: parts.iter().map(|p| p.searched).sum(),
        totals: request.count.then(|| Totals {
            files: parts.iter().map(|p| p.files).sum(),
            lines: parts.iter().map(|p| p.lines).sum(),
            exact: parts.iter().all(|p| !p.late),
        }),
        ..SearchOutcome::default()
    };
    let start_of = |hit: &SearchHit| match &request.from {
        Some(from) if from.path == hit.path => from.line.max(1),
        _ => 1,
    };
    'parts: for part in parts {
        for hit in part.hits {
            if outcome.hits.len() == want {
                outcome.next = Some(Cursor { line: start_of(&hit), path: hit.path });
                break 'parts;
            }
            let resume = hit.resume.map(|line| Cursor { path: hit.path.clone(), line });
            outcome.hits.push(hit);
            if resume.is_some() {
                outcome.timed_out = part.ended == Ended::Cut;
                outcome.next = resume;
                break 'parts;
            }
        }
        match part.ended {
            Ended::Open => continue,
            Ended::Full | Ended::Cut => break,
            Ended::Late(index, line) => {
                outcome.timed_out = true;
                outcome.next = Some(Cursor { path: plan.files[index].path.clone(), line });
                break;
            }
        }
    }
    outcome
}

impl<'a> Plan<'a> {
    /// The page starts at the cursor's file (the first at or after its path) and line.
    fn new(
        files: &'a [&'a PackedFile],
        request: &SearchRequest,
        deadline: Instant,
        grammar: &'a (dyn Fn(&str, &[u8]) -> Option<String> + Sync),
    ) -> Self {
        let (start, start_line) = match &request.from {
            None => (0, 1),
            Some(from) => {
                let start = files.partition_point(|f| f.path.as_str() < from.path.as_str());
                let line = if files.get(start).is_some_and(|f| f.path == from.path) { from.line.max(1) } else { 1 };
                (start, line)
            }
        };
        Plan { files, start, start_line, enough: request.want_files + 1, deadline, grammar }
    }
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
            let chosen: Vec<&PackedFile> =
                files.iter().filter(|f| request.paths.as_ref().is_none_or(|glob| glob.is_match(&f.path))).collect();
            let grammar = |path: &str, text: &[u8]| this.grammar_of(path, text);
            let plan = Plan::new(&chosen, &request, deadline, &grammar);
            let from = if request.count { 0 } else { plan.start };
            let middle = halfway(&chosen, from..chosen.len());
            let first_done = AtomicBool::new(false);
            let (first, second) = std::thread::scope(|scope| {
                let later = scope.spawn(|| {
                    let collect = || !first_done.load(Ordering::Relaxed);
                    scan_part(&mut open()?, &plan, middle..chosen.len(), &request, &collect, &|| {})
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
                    if request.paths.as_ref().is_none_or(|glob| glob.is_match(&path)) {
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
