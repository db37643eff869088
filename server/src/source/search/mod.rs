//! Searching a pin: every text file in path order, matched with the `regex` crate's engine (a
//! literal query is an escaped pattern), lines found with memchr, within a time budget. Results
//! are collected as they are found — the files, lines and match ranges — so that the domain can
//! record exactly what the page will show before it is sent. Needs a receipt for a search of the pin.

mod text;

use super::{PinLocation, Result, Source, SourceError};
use crate::audit::Receipt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use text::search_text;

/// What to look for and how much of it to return.
#[derive(Clone)]
pub struct SearchRequest {
    pub pattern: regex::bytes::Regex,
    pub paths: Option<globset::GlobMatcher>,
    /// Files with hits to skip (the pages before) and to return (this page).
    pub skip_files: usize,
    pub want_files: usize,
    /// Matching lines returned per file; the rest are counted.
    pub lines_per_file: usize,
    /// Whether a match may run across lines (`multiline=1`); by default a line matches as with
    /// grep, only by what lies within it.
    pub multiline: bool,
    pub budget: Duration,
}

/// One line of a result: its number, its text, and the byte ranges that matched (none for a line
/// of context).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchLine {
    pub number: u32,
    pub text: String,
    pub matches: Vec<(usize, usize)>,
}

/// The hits in one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchHit {
    pub path: String,
    pub blob_id: String,
    pub lines: Vec<SearchLine>,
    /// Matching lines beyond those returned.
    pub more_lines: u64,
}

#[derive(Debug, Default)]
pub struct SearchOutcome {
    pub hits: Vec<SearchHit>,
    /// Whether files with hits follow this page.
    pub more: bool,
    /// Whether the budget ran out (the hits are those found until then).
    pub timed_out: bool,
    pub files_searched: u64,
}

/// A text file in a pin's search pack: where its text is.
#[derive(Clone, Debug)]
pub struct PackedFile {
    pub path: String,
    pub blob_id: String,
    pub offset: u64,
    pub length: u64,
}

/// Scans `files` (in pack order) from the pack for hits, until `enough` hits or `stop` or the
/// budget; returns (hits, files searched, timed out).
fn scan_pack(
    pack: &std::path::Path,
    files: &[&PackedFile],
    request: &SearchRequest,
    enough: usize,
    stop: &std::sync::atomic::AtomicBool,
    started: Instant,
) -> Result<(Vec<SearchHit>, u64, bool)> {
    use std::io::{Read as _, Seek as _, SeekFrom};
    use std::sync::atomic::Ordering;
    let mut reader = std::io::BufReader::with_capacity(8 << 20, std::fs::File::open(pack)?);
    let mut position = files.first().map_or(0, |f| f.offset);
    reader.seek(SeekFrom::Start(position))?;
    let mut buffer = Vec::new();
    let (mut hits, mut searched) = (Vec::new(), 0u64);
    for file in files {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        if started.elapsed() > request.budget {
            return Ok((hits, searched, true));
        }
        if file.offset != position {
            reader.seek_relative(file.offset as i64 - position as i64)?;
        }
        buffer.resize(file.length as usize, 0);
        reader.read_exact(&mut buffer)?;
        position = file.offset + file.length;
        searched += 1;
        let deadline = started + request.budget;
        let found = search_text(&request.pattern, &buffer, request.lines_per_file, request.multiline, deadline);
        let late = found.late;
        if found.found() {
            let (lines, more_lines) = (found.lines, found.more);
            hits.push(SearchHit { path: file.path.clone(), blob_id: file.blob_id.clone(), lines, more_lines });
        }
        if late {
            return Ok((hits, searched, true));
        }
        if hits.len() >= enough {
            break;
        }
    }
    Ok((hits, searched, false))
}

impl Source {
    /// Searches the pin's search pack (built by the index job) in path order, on both cores: the
    /// first half of the files and the second half in parallel, the second stopping as soon as the
    /// first has found a page's worth. `None` when the pin has no pack yet.
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
        let pack = self.pack_path(at.pin);
        if !pack.exists() {
            return Ok(None);
        }
        tokio::task::spawn_blocking(move || {
            let started = Instant::now();
            let chosen: Vec<&PackedFile> =
                files.iter().filter(|f| request.paths.as_ref().is_none_or(|glob| glob.is_match(&f.path))).collect();
            let enough = request.skip_files + request.want_files + 1;
            let (first, second) = chosen.split_at(chosen.len() / 2);
            let stop = std::sync::atomic::AtomicBool::new(false);
            let (a, b) = std::thread::scope(|scope| {
                let later = scope.spawn(|| scan_pack(&pack, second, &request, enough, &stop, started));
                let earlier = scan_pack(&pack, first, &request, enough, &stop, started);
                if earlier.as_ref().is_ok_and(|(hits, _, _)| hits.len() >= enough) {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
                (earlier, later.join().unwrap_or_else(|_| Ok((Vec::new(), 0, true))))
            });
            let ((mut hits, searched_a, late_a), (more_hits, searched_b, late_b)) = (a?, b?);
            let first_complete = hits.len() < enough;
            if first_complete {
                hits.extend(more_hits);
            }
            let mut outcome = SearchOutcome {
                files_searched: searched_a + if first_complete { searched_b } else { 0 },
                timed_out: late_a || (first_complete && late_b),
                ..SearchOutcome::default()
            };
            outcome.more = hits.len() > request.skip_files + request.want_files;
            outcome.hits = hits.into_iter().skip(request.skip_files).take(request.want_files).collect();
            Ok(Some(outcome))
        })
        .await?
    }

    /// Searches every text file of the pin in path order for `request.pattern`.
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
        self.with_repo(&at.repository, move |_, repo| {
            let started = Instant::now();
            let root = repo.find_tree(git2::Oid::from_str(&tree_id)?)?;
            let mut files = Vec::new();
            root.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                if entry.kind() == Some(git2::ObjectType::Blob) && entry.filemode() != 0o120000 {
                    let path = format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes()));
                    if request.paths.as_ref().is_none_or(|glob| glob.is_match(&path)) {
                        files.push((path, entry.id()));
                    }
                }
                git2::TreeWalkResult::Ok
            })?;
            files.sort_by(|a, b| a.0.cmp(&b.0));
            let odb = repo.odb()?;
            let mut outcome = SearchOutcome::default();
            let mut with_hits = 0usize;
            for (path, id) in files {
                if started.elapsed() > request.budget {
                    outcome.timed_out = true;
                    break;
                }
                if odb.read_header(id).map(|(size, _)| size as u64 > max_bytes).unwrap_or(true) {
                    continue;
                }
                let blob = repo.find_blob(id)?;
                outcome.files_searched += 1;
                if blob.is_binary() {
                    continue;
                }
                let found = search_text(
                    &request.pattern,
                    blob.content(),
                    request.lines_per_file,
                    request.multiline,
                    started + request.budget,
                );
                outcome.timed_out |= found.late;
                if !found.found() {
                    if found.late {
                        break;
                    }
                    continue;
                }
                with_hits += 1;
                if with_hits <= request.skip_files {
                    if found.late {
                        break;
                    }
                    continue;
                }
                if outcome.hits.len() == request.want_files {
                    outcome.more = true;
                    break;
                }
                let (lines, more_lines) = (found.lines, found.more);
                outcome.hits.push(SearchHit { path, blob_id: id.to_string(), lines, more_lines });
                if found.late {
                    break;
                }
            }
            Ok(outcome)
        })
        .await
    }
}
