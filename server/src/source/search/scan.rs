//! One page of a search over a pin's files in path order: the files read (from the pack or the
//! blobs), a part of them searched for a page's hits (and counted), the parts joined into the page
//! and where the next one starts.

use super::text::{count_text, search_text};
use super::{Cursor, FileSet, PackedFile, SearchHit, SearchOutcome, SearchRequest, Totals};
use crate::source::Result;
use std::time::Instant;

/// Reads a file's text for the search: `false` when it has none to search (binary, too large).
pub(super) trait Texts {
    fn read(&mut self, file: &PackedFile, into: &mut Vec<u8>) -> Result<bool>;
}

/// Texts from a pin's search pack, read forward.
pub(super) struct PackTexts(pub(super) crate::source::pack::PackReader);

impl Texts for PackTexts {
    fn read(&mut self, file: &PackedFile, into: &mut Vec<u8>) -> Result<bool> {
        self.0.read(file.offset, file.length, into)?;
        Ok(true)
    }
}

/// Texts from a repository's blobs (a pin not yet indexed).
pub(super) struct BlobTexts<'r> {
    pub(super) repo: &'r git2::Repository,
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
pub(super) enum Ended {
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
pub(super) struct Part {
    hits: Vec<SearchHit>,
    ended: Ended,
    files: u64,
    lines: u64,
    searched: u64,
    /// The files counted with a match (when counting).
    matching: Vec<usize>,
    /// The budget ran out before the part was through (its counts are a lower bound).
    late: bool,
}

/// The files of a search and where its page starts in them.
pub(super) struct Plan<'a> {
    files: &'a [&'a PackedFile],
    /// The first file of the page, and the line it starts from.
    pub(super) start: usize,
    start_line: u32,
    /// Hits that make a page's worth: one more than a page, to know where the next starts.
    pub(super) enough: usize,
    deadline: Instant,
    /// The grammar of a file, by its path and text.
    grammar: &'a (dyn Fn(&str, &[u8]) -> Option<String> + Sync),
}

/// Searches `files[range]`: collects hits from the page's first file until a page's worth (while
/// `collect` allows), and, when the request counts, counts every file of the range.
pub(super) fn scan_part(
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
        if matching > 0 && request.count {
            part.matching.push(index);
        }
    }
    Ok(part)
}

/// Where `files` splits into two parts of about equal bytes.
pub(super) fn halfway(files: &[&PackedFile], range: std::ops::Range<usize>) -> usize {
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
/// of files) of the second; where the next page starts; the totals when counted, and the files
/// that match when they were counted exactly.
pub(super) fn assemble(parts: Vec<Part>, plan: &Plan, request: &SearchRequest) -> SearchOutcome {
    let want = request.want_files;
    let exact = parts.iter().all(|p| !p.late);
    let mut outcome = SearchOutcome {
        files_searched: parts.iter().map(|p| p.searched).sum(),
        totals: request.count.then(|| Totals {
            files: parts.iter().map(|p| p.files).sum(),
            lines: parts.iter().map(|p| p.lines).sum(),
            exact,
        }),
        matching: (request.count && exact).then(|| {
            let mut set = FileSet::default();
            parts.iter().flat_map(|p| &p.matching).for_each(|&index| set.insert(index));
            set
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
    pub(super) fn new(
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
