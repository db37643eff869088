//! One text searched: its matching lines (grep's line semantics unless multi-line matching is
//! asked for), one line of context around each, within a deadline; and how a matching line is
//! shown (whole, or the parts around its matches when it is long).

use super::SearchLine;
use std::time::Instant;

/// Lines longer than this are cut in results.
const LINE_MAX: usize = 500;

fn line_text(bytes: &[u8]) -> String {
    let end = bytes.len().min(LINE_MAX);
    String::from_utf8_lossy(&bytes[..end]).trim_end_matches(['\r', '\n']).to_string()
}

/// Bytes shown each side of a match in a long line.
const AROUND: usize = 60;
/// A long matching line's parts are shown up to about this many bytes in all.
const SHOWN_MAX: usize = 2_000;

/// A matching line as a result shows it, with its matches' byte ranges in the text shown. A line
/// up to `LINE_MAX` bytes is shown whole. A longer one shows the parts around its matches
/// (`AROUND` bytes each side, parts that meet merged), joined by ` … `, so that a match is seen
/// and marked however far into the line it lies, up to `SHOWN_MAX` bytes (then ` …`); a match
/// longer than `LINE_MAX` is shown to that length.
fn shown_line(line: &[u8], ranges: &[(usize, usize)]) -> (String, Vec<(usize, usize)>) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let clip = |(s, e): (usize, usize)| (s.min(line.len()), e.min(line.len()));
    if line.len() <= LINE_MAX {
        return (String::from_utf8_lossy(line).into_owned(), ranges.iter().map(|r| clip(*r)).collect());
    }
    // The windows, in bytes of the line, at character boundaries, each with its matches.
    let boundary_before = |mut at: usize| {
        while at > 0 && at < line.len() && line[at] & 0xC0 == 0x80 {
            at -= 1;
        }
        at
    };
    let boundary_after = |mut at: usize| {
        while at < line.len() && line[at] & 0xC0 == 0x80 {
            at += 1;
        }
        at
    };
    // (from, to, the matches in it)
    type Part = (usize, usize, Vec<(usize, usize)>);
    let mut windows: Vec<Part> = Vec::new();
    for &(s, e) in ranges {
        let (s, e) = clip((s, e.min(s.saturating_add(LINE_MAX))));
        let (from, to) = (boundary_before(s.saturating_sub(AROUND)), boundary_after((e + AROUND).min(line.len())));
        match windows.last_mut() {
            Some(last) if from <= last.1 => {
                last.1 = last.1.max(to);
                last.2.push((s, e));
            }
            _ => windows.push((from, to, vec![(s, e)])),
        }
    }
    let (mut text, mut marks, mut shown_to) = (String::new(), Vec::new(), 0);
    for (from, to, matches) in windows {
        if text.len() >= SHOWN_MAX {
            break;
        }
        if from > 0 {
            text.push_str(if text.is_empty() { "… " } else { " … " });
        }
        let mut at = from;
        for (s, e) in matches {
            let (s, e) = (boundary_before(s.max(at)), boundary_after(e.max(at)));
            text.push_str(&String::from_utf8_lossy(&line[at..s]));
            let start = text.len();
            text.push_str(&String::from_utf8_lossy(&line[s..e]));
            marks.push((start, text.len()));
            at = e;
        }
        text.push_str(&String::from_utf8_lossy(&line[at..to]));
        shown_to = to;
    }
    if shown_to < line.len() {
        text.push_str(" …");
    }
    (text, marks)
}

/// Match ranges marked per line; a line's further matches still make it a matching line.
const MATCHES_PER_LINE: usize = 100;

/// How often (in matches) a search looks at the clock inside one text.
const CLOCK_EVERY: usize = 4096;

/// What one text gave: its matching lines with their context, the matching lines beyond `limit`
/// (counted, not returned), and whether the deadline passed before the text was searched through.
#[derive(Debug, Default)]
pub(super) struct TextHits {
    pub(super) lines: Vec<SearchLine>,
    pub(super) more: u64,
    pub(super) late: bool,
}

/// The hits in one text: matching lines with one line of context around each, up to `limit`
/// matching lines (the rest counted), at most `MATCHES_PER_LINE` ranges marked on a line. Linear in
/// the text: each line's bounds are found once, at its first match (security defect 3: they were
/// found again for every match, and a search for `.` in an 800 KB line took seven seconds). The
/// deadline is checked inside the text too; past it, what was found so far is kept and `late` set.
///
/// Lines are grep's: unless `multiline`, a match that runs past the end of its line (`\s` or
/// `[^x]` across a newline) is no match; that line is searched again on its own, and the scan goes
/// on from the next line, so a line matches exactly when the pattern matches within it.
///
/// With `from_line` above 1 the text is searched from that line on (a page that continues a file).
pub(super) fn search_text(
    pattern: &regex::bytes::Regex,
    content: &[u8],
    limit: usize,
    multiline: bool,
    deadline: Instant,
    from_line: u32,
) -> TextHits {
    // (line start, line end, match ranges within the line), one entry per matching line.
    type Matched = (usize, usize, Vec<(usize, usize)>);
    let mut matched: Vec<Matched> = Vec::new();
    let (mut more, mut late) = (0u64, false);
    // The bounds of the line the last match was on, and whether it was counted beyond `limit`.
    let mut line: Option<(usize, usize, bool)> = None;
    let mut at = match from_line {
        0 | 1 => 0,
        line => memchr::memchr_iter(b'\n', content).nth(line as usize - 2).map_or(content.len() + 1, |i| i + 1),
    };
    let mut seen = 0usize;
    while at <= content.len() {
        let Some(mut found) = pattern.find_at(content, at) else { break };
        if found.start() == content.len() && content.last() == Some(&b'\n') {
            break; // After the last newline there is no line (an empty match of `^$` or `\s*`).
        }
        seen += 1;
        if seen.is_multiple_of(CLOCK_EVERY) && Instant::now() > deadline {
            late = true;
            break;
        }
        if !multiline && memchr::memchr(b'\n', &content[found.start()..found.end()]).is_some() {
            let line_end =
                memchr::memchr(b'\n', &content[found.start()..]).map_or(content.len(), |i| found.start() + i);
            match pattern.find_at(&content[..line_end], found.start()) {
                Some(within) => found = within,
                None => {
                    at = line_end + 1;
                    continue;
                }
            }
        }
        at = if found.is_empty() { found.end() + 1 } else { found.end() };
        if let Some((start, end, counted)) = line.filter(|(start, end, _)| (*start..=*end).contains(&found.start())) {
            match matched.last_mut().filter(|last| !counted && last.0 == start && last.2.len() < MATCHES_PER_LINE) {
                Some(last) => last.2.push((found.start() - start, found.end().min(end) - start)),
                // Nothing more to mark on this line: go on from the next.
                None => at = at.max(end + 1),
            }
            continue;
        }
        let start = memchr::memrchr(b'\n', &content[..found.start()]).map_or(0, |i| i + 1);
        let end = memchr::memchr(b'\n', &content[found.start()..]).map_or(content.len(), |i| found.start() + i);
        let beyond = matched.len() >= limit;
        if beyond {
            more += 1;
            at = at.max(end + 1); // The line is counted; its other matches change nothing.
        } else {
            matched.push((start, end, vec![(found.start() - start, found.end().min(end) - start)]));
        }
        line = Some((start, end, beyond));
    }
    if matched.is_empty() {
        return TextHits { lines: Vec::new(), more, late };
    }
    let mut lines: std::collections::BTreeMap<u32, SearchLine> = std::collections::BTreeMap::new();
    let (mut number, mut counted_to) = (1u32, 0usize);
    for (start, end, ranges) in matched {
        number += memchr::memchr_iter(b'\n', &content[counted_to..start]).count() as u32;
        counted_to = start;
        if start > 0 {
            let before_start = memchr::memrchr(b'\n', &content[..start - 1]).map_or(0, |i| i + 1);
            lines.entry(number - 1).or_insert_with(|| SearchLine {
                number: number - 1,
                text: line_text(&content[before_start..start - 1]),
                matches: Vec::new(),
                html: None,
            });
        }
        let (text, matches) = shown_line(&content[start..end], &ranges);
        lines.insert(number, SearchLine { number, text, matches, html: None });
        if end + 1 < content.len() {
            let after_end = memchr::memchr(b'\n', &content[end + 1..]).map_or(content.len(), |i| end + 1 + i);
            lines.entry(number + 1).or_insert_with(|| SearchLine {
                number: number + 1,
                text: line_text(&content[end + 1..after_end]),
                matches: Vec::new(),
                html: None,
            });
        }
    }
    TextHits { lines: lines.into_values().collect(), more, late }
}

impl TextHits {
    /// Whether the text had any match (returned or counted).
    pub(super) fn found(&self) -> bool {
        !self.lines.is_empty() || self.more > 0
    }

    /// Matching lines, returned and counted.
    pub(super) fn matching_lines(&self) -> u64 {
        self.lines.iter().filter(|l| !l.matches.is_empty()).count() as u64 + self.more
    }

    /// The number of the last matching line returned.
    pub(super) fn last_matching_line(&self) -> Option<u32> {
        self.lines.iter().rev().find(|l| !l.matches.is_empty()).map(|l| l.number)
    }
}

/// The matching lines of a text, counted (none returned), and whether the deadline cut it short.
pub(super) fn count_text(
    pattern: &regex::bytes::Regex,
    content: &[u8],
    multiline: bool,
    deadline: Instant,
) -> (u64, bool) {
    let found = search_text(pattern, content, 0, multiline, deadline, 1);
    (found.more, found.late)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn later() -> Instant {
        Instant::now() + Duration::from_secs(3600)
    }

    fn find(pattern: &str, text: &str) -> Vec<(u32, String, bool)> {
        let pattern = regex::bytes::Regex::new(pattern).unwrap();
        let found = search_text(&pattern, text.as_bytes(), 10, false, later(), 1);
        found.lines.into_iter().map(|l| (l.number, l.text, !l.matches.is_empty())).collect()
    }

    #[test]
    fn a_match_comes_with_a_line_of_context_each_side() {
        let text = "one\ntwo\nthree needle\nfour\nfive\n";
        assert_eq!(
            find("needle", text),
            [(2, "two".into(), false), (3, "three needle".into(), true), (4, "four".into(), false)]
        );
    }

    #[test]
    fn neighbouring_matches_share_their_context() {
        let text = "a x\nb\nc x\nd\n";
        let lines = find("x", text);
        let numbers: Vec<u32> = lines.iter().map(|l| l.0).collect();
        assert_eq!(numbers, [1, 2, 3, 4]);
        assert!(lines[0].2 && !lines[1].2 && lines[2].2 && !lines[3].2);
    }

    #[test]
    fn the_first_and_last_lines_match_without_context_beyond_the_text() {
        assert_eq!(find("^x", "x\ny"), [(1, "x".into(), true), (2, "y".into(), false)]);
        assert_eq!(find("y$", "x\ny"), [(1, "x".into(), false), (2, "y".into(), true)]);
        assert!(find("z", "x\ny").is_empty());
    }

    #[test]
    fn match_ranges_are_byte_offsets_in_the_line() {
        let pattern = regex::bytes::Regex::new("ab").unwrap();
        let found = search_text(&pattern, b"xxab ab\n", 10, false, later(), 1);
        assert_eq!(found.lines[0].matches, [(2, 4), (5, 7)]);
    }

    /// Security defect 3: a 4 MB one-line file searched for `.` (a match per byte). Every match is
    /// on one line, found once; a line marks at most `MATCHES_PER_LINE` ranges; past the deadline
    /// the search stops inside the text and says so.
    #[test]
    fn a_long_line_is_searched_once_and_the_deadline_holds_inside_a_text() {
        let text = vec![b'a'; 4 << 20];
        let pattern = regex::bytes::Regex::new(".").unwrap();
        let found = search_text(&pattern, &text, 20, false, later(), 1);
        assert_eq!(found.lines.len(), 1);
        assert_eq!(
            found.lines[0].matches.len(),
            500.min(MATCHES_PER_LINE),
            "ranges are capped (and cut at the shown text)"
        );
        assert!(!found.late && found.more == 0);
        // A line's matches past those marked are not visited; a text of many short matching
        // lines is where the deadline is met.
        let lines = "a\n".repeat(1 << 20);
        let gone = search_text(&pattern, lines.as_bytes(), 20, false, Instant::now(), 1);
        assert!(gone.late, "the deadline is checked inside the text");
        assert_eq!(gone.matching_lines(), CLOCK_EVERY as u64 - 1, "what was found before it is kept");
        // Beyond the returned lines, further matching lines are counted once each.
        let many = "x\n".repeat(50);
        let found = search_text(&regex::bytes::Regex::new("x").unwrap(), many.as_bytes(), 20, false, later(), 1);
        assert_eq!((found.lines.iter().filter(|l| !l.matches.is_empty()).count(), found.more), (20, 30));
    }

    fn matching_lines(pattern: &str, text: &str, multiline: bool) -> Vec<u32> {
        let pattern = regex::bytes::RegexBuilder::new(pattern).multi_line(true).build().unwrap();
        let found = search_text(&pattern, text.as_bytes(), 100, multiline, later(), 1);
        found.lines.iter().filter(|l| !l.matches.is_empty()).map(|l| l.number).collect()
    }

    #[test]
    fn a_pattern_matches_within_a_line_as_with_grep_unless_multiline_is_asked_for() {
        let text = "fn a() {\n}\nfn b() { }\nfn c() {\n\n}\nlet x = 1;  \nlet y;\n";
        // `\{\s+\}` across a newline is no match of a line; `{ }` on one line is.
        assert_eq!(matching_lines(r"\{\s+\}", text, false), [3]);
        assert_eq!(matching_lines(r"\{\s+\}", text, true), [1, 3, 4]);
        // A match cut at its line's end is searched again within the line: `\s+` still finds the
        // trailing blanks of line 7, and the lines after a spanning match are searched too.
        assert_eq!(matching_lines(r";\s+", text, false), [7]);
        assert_eq!(matching_lines(r"[^a]+b", text, false), [3]);
        // Negated classes and `\s*` never take the newline; anchors stay per line.
        assert_eq!(matching_lines(r"\(\)[^x]*\}", text, false), [3]);
        assert_eq!(matching_lines(r"^\}$", text, false), [2, 6]);
        assert_eq!(matching_lines(r"^$", text, false), [5]);
    }

    #[test]
    fn a_match_far_into_a_long_line_is_shown_and_marked() {
        let needle = regex::bytes::Regex::new("NEEDLE").unwrap();
        for at in [500usize, 2_000, 100_000] {
            let mut line = "é".repeat(at / 2).into_bytes(); // two bytes a character
            line.extend_from_slice(b"NEEDLE");
            line.extend_from_slice(&b"x".repeat(3_000));
            let text = format!("first\n{}\nlast NEEDLE\n", String::from_utf8(line).unwrap());
            let found = search_text(&needle, text.as_bytes(), 10, false, later(), 1);
            let long = found.lines.iter().find(|l| l.number == 2).expect("the long line matches");
            assert_eq!(long.matches.len(), 1, "at {at}");
            let (s, e) = long.matches[0];
            assert_eq!(&long.text[s..e], "NEEDLE", "at {at}: the mark is on the match");
            assert!(long.text.starts_with("… ") && long.text.ends_with(" …") && long.text.len() < 400, "at {at}");
        }
    }

    #[test]
    fn a_long_line_shows_each_of_its_matches_and_short_lines_stay_whole() {
        let mut line = String::new();
        for n in 0..5 {
            line.push_str(&"-".repeat(1_000));
            line.push_str(&format!("hit{n}"));
        }
        let (text, marks) = shown_line(line.as_bytes(), &regex_ranges("hit[0-9]", &line));
        let shown: Vec<&str> = marks.iter().map(|&(s, e)| &text[s..e]).collect();
        assert_eq!(shown, ["hit0", "hit1", "hit2", "hit3", "hit4"]);
        assert_eq!(text.matches(" … ").count(), 4, "five parts: {text}");
        let (text, marks) = shown_line(b"short hit here\r", &[(6, 9)]);
        assert_eq!((text.as_str(), marks), ("short hit here", vec![(6, 9)]));
        // Near matches share a part; a part never splits a character.
        let near = format!("{}ab{}ab{}", "ü".repeat(400), "ü".repeat(10), "ü".repeat(400));
        let (text, marks) = shown_line(near.as_bytes(), &regex_ranges("ab", &near));
        assert_eq!(marks.len(), 2);
        assert_eq!(text.matches('…').count(), 2, "one part, cut at both ends: {text}");
    }

    fn regex_ranges(pattern: &str, text: &str) -> Vec<(usize, usize)> {
        regex::Regex::new(pattern).unwrap().find_iter(text).map(|m| (m.start(), m.end())).collect()
    }
}
