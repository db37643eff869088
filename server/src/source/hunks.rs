//! The lines of a file diff: hunks with context, each line with its highlighted HTML and, for a
//! changed pair of lines, the changed words marked (`<mark>`): the hunks are git's (libgit2's
//! xdiff), the marks `similar`'s.

use app::model::{DiffLine, DiffLineKind, Hunk};
use similar::{ChangeTag, TextDiff};
use std::time::{Duration, Instant};

/// Wraps the characters `ranges` (char offsets into the line's text) of a highlighted line in
/// `<mark>`, closing and reopening the token span around each boundary so that the HTML stays
/// well nested. The line's markup is the highlighter's: flat spans and escaped text.
pub fn mark_html(html: &str, ranges: &[(usize, usize)]) -> String {
    if ranges.is_empty() {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len() + ranges.len() * 40);
    // The open token span, and where in `out` its opening tag starts (to drop it if it stays empty).
    let mut open_span: Option<(&str, usize)> = None;
    let mut span_has_text = false;
    let mut in_mark = false;
    let mut position = 0usize; // characters of text seen
    let mut rest = html;
    let boundary = |position: usize, in_mark: bool| {
        if in_mark {
            ranges.iter().any(|(_, end)| *end == position)
        } else {
            ranges.iter().any(|(start, end)| *start == position && end > start)
        }
    };
    while !rest.is_empty() {
        if rest.starts_with("<span") {
            let end = rest.find('>').map_or(rest.len(), |i| i + 1);
            open_span = Some((&rest[..end], out.len()));
            span_has_text = false;
            out.push_str(&rest[..end]);
            rest = &rest[end..];
            continue;
        }
        if let Some(after) = rest.strip_prefix("</span>") {
            match open_span {
                Some((_, at)) if !span_has_text => out.truncate(at),
                _ => out.push_str("</span>"),
            }
            open_span = None;
            rest = after;
            continue;
        }
        // One character of text: an entity or a char.
        let length = if rest.starts_with('&') {
            rest.find(';').map_or(1, |i| i + 1)
        } else {
            rest.chars().next().map_or(1, char::len_utf8)
        };
        while boundary(position, in_mark) {
            if let Some((span, at)) = open_span {
                if span_has_text {
                    out.push_str("</span>");
                } else {
                    out.truncate(at);
                }
                out.push_str(if in_mark { "</mark>" } else { "<mark>" });
                open_span = Some((span, out.len()));
                out.push_str(span);
                span_has_text = false;
            } else {
                out.push_str(if in_mark { "</mark>" } else { "<mark>" });
            }
            in_mark = !in_mark;
        }
        out.push_str(&rest[..length]);
        span_has_text = true;
        rest = &rest[length..];
        position += 1;
    }
    if in_mark {
        // Lines close their own spans, so none is open here.
        out.push_str("</mark>");
    }
    out
}

/// The hunks of the change from `old` to `new` (texts and their highlighted lines, one per line),
/// with `context` lines around each change (`None`: the whole file, one hunk), as `git diff -U3`
/// makes them: libgit2's xdiff is git's own (Myers, with git's indent heuristic, nearby hunks
/// merged by the same rule), so the hunks, their headers and where a change lands among repeated
/// lines are git's. In each run of removed lines followed by added lines, the lines are paired in
/// order and the changed words of a pair marked; past `budget` no more marks are made.
pub fn hunks(
    old: &str,
    new: &str,
    old_html: &[String],
    new_html: &[String],
    context: Option<u32>,
    budget: Duration,
) -> Vec<Hunk> {
    let started = Instant::now();
    let html_of = |lines: &[String], number: u32| lines.get(number as usize - 1).cloned().unwrap_or_default();
    let whole = old_html.len().max(new_html.len()).max(old.lines().count()).max(new.lines().count());
    let mut options = git2::DiffOptions::new();
    options
        .context_lines(context.unwrap_or(u32::try_from(whole).unwrap_or(u32::MAX)))
        .interhunk_lines(0)
        .indent_heuristic(true)
        .force_text(true);
    let Ok(patch) = git2::Patch::from_buffers(old.as_bytes(), None, new.as_bytes(), None, Some(&mut options)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for index in 0..patch.num_hunks() {
        let Ok((hunk, count)) = patch.hunk(index) else { continue };
        // (kind, old number, new number, text) in git's order; "no newline at end" notes skipped.
        let mut lines: Vec<(DiffLineKind, Option<u32>, Option<u32>, String)> = Vec::new();
        for at in 0..count {
            let Ok(line) = patch.line_in_hunk(index, at) else { continue };
            let kind = match line.origin() {
                ' ' => DiffLineKind::Context,
                '-' => DiffLineKind::Removed,
                '+' => DiffLineKind::Added,
                _ => continue,
            };
            let text = String::from_utf8_lossy(line.content()).trim_end_matches(['\n', '\r']).to_string();
            lines.push((kind, line.old_lineno(), line.new_lineno(), text));
        }
        let mut shown: Vec<DiffLine> = lines
            .iter()
            .map(|(kind, old_number, new_number, text)| DiffLine {
                kind: *kind,
                old: *old_number,
                new: *new_number,
                html: match kind {
                    DiffLineKind::Removed => html_of(old_html, old_number.unwrap_or(1)),
                    _ => html_of(new_html, new_number.unwrap_or(1)),
                },
                text: text.clone(),
            })
            .collect();
        // Mark the changed words of each removed/added pair in a run.
        let mut at = 0;
        while at < lines.len() {
            let removed_from = at;
            while at < lines.len() && lines[at].0 == DiffLineKind::Removed {
                at += 1;
            }
            let added_from = at;
            while at < lines.len() && lines[at].0 == DiffLineKind::Added {
                at += 1;
            }
            if removed_from == added_from && added_from == at {
                at += 1;
                continue;
            }
            let pairs = (added_from - removed_from).min(at - added_from);
            for pair in 0..pairs {
                if started.elapsed() >= budget {
                    break;
                }
                let (old_at, new_at) = (removed_from + pair, added_from + pair);
                let deadline = started + budget;
                let (old_marks, new_marks) = changed_words(&lines[old_at].3, &lines[new_at].3, deadline);
                shown[old_at].html = mark_html(&shown[old_at].html, &old_marks);
                shown[new_at].html = mark_html(&shown[new_at].html, &new_marks);
            }
        }
        out.push(Hunk {
            old_start: hunk.old_start(),
            old_lines: hunk.old_lines(),
            new_start: hunk.new_start(),
            new_lines: hunk.new_lines(),
            lines: shown,
        });
    }
    if out.is_empty() && context.is_none() && !new_html.is_empty() {
        // The whole file asked for, and nothing changed in it: all of it, as context.
        let texts: Vec<&str> = new.lines().collect();
        let lines: Vec<DiffLine> = (1..=new_html.len() as u32)
            .map(|n| DiffLine {
                kind: DiffLineKind::Context,
                old: Some(n),
                new: Some(n),
                html: html_of(new_html, n),
                text: texts.get(n as usize - 1).map_or(String::new(), |t| t.trim_end_matches('\r').to_string()),
            })
            .collect();
        let n = lines.len() as u32;
        out.push(Hunk { old_start: 1, old_lines: n, new_start: 1, new_lines: n, lines });
    }
    out
}

/// Character ranges of a line's text.
type Marks = Vec<(usize, usize)>;

/// The changed words of a pair of lines, as character ranges of each (`similar`'s word diff; past
/// `deadline` it settles for a coarser answer).
fn changed_words(old: &str, new: &str, deadline: Instant) -> (Marks, Marks) {
    let diff = TextDiff::configure().deadline(deadline).diff_words(old, new);
    let (mut old_marks, mut new_marks) = (Vec::new(), Vec::new());
    let (mut old_at, mut new_at) = (0usize, 0usize);
    for change in diff.iter_all_changes() {
        let length = change.value().chars().count();
        match change.tag() {
            ChangeTag::Equal => {
                old_at += length;
                new_at += length;
            }
            ChangeTag::Delete => {
                old_marks.push((old_at, old_at + length));
                old_at += length;
            }
            ChangeTag::Insert => {
                new_marks.push((new_at, new_at + length));
                new_at += length;
            }
        }
    }
    (merge(old_marks), merge(new_marks))
}

/// Ranges that touch, joined.
fn merge(ranges: Marks) -> Marks {
    let mut merged: Marks = Vec::new();
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if last.1 == start => last.1 = end,
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// The rows `first..=last` of a diff (1-based, counted over every hunk's lines, as a page shows a
/// long diff a window at a time): hunks outside are left out, and a hunk cut at either end gets the
/// header of the lines it keeps (a side with none keeps where its next line would be).
pub fn window(hunks: Vec<Hunk>, first: u32, last: u32) -> Vec<Hunk> {
    let mut kept = Vec::new();
    let mut before = 0u32;
    for hunk in hunks {
        let (start, end) = (before + 1, before + hunk.lines.len() as u32);
        before = end;
        if end < first || start > last {
            continue;
        }
        if start >= first && end <= last {
            kept.push(hunk);
            continue;
        }
        let skip = first.saturating_sub(start) as usize;
        let take = (last.min(end) + 1 - start.max(first)) as usize;
        let skipped = &hunk.lines[..skip];
        let old_next = hunk.old_start + skipped.iter().filter(|l| l.old.is_some()).count() as u32;
        let new_next = hunk.new_start + skipped.iter().filter(|l| l.new.is_some()).count() as u32;
        let lines: Vec<DiffLine> = hunk.lines.into_iter().skip(skip).take(take).collect();
        kept.push(Hunk {
            old_start: lines.iter().find_map(|l| l.old).unwrap_or(old_next),
            old_lines: lines.iter().filter(|l| l.old.is_some()).count() as u32,
            new_start: lines.iter().find_map(|l| l.new).unwrap_or(new_next),
            new_lines: lines.iter().filter(|l| l.new.is_some()).count() as u32,
            lines,
        });
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_split_the_token_spans_they_cross() {
        let html = r#"<span class="k">let</span> x = <span class="s">&quot;ab&quot;</span>;"#;
        // "let x = "ab";" — mark `x = "a` (chars 4..10).
        let marked = mark_html(html, &[(4, 10)]);
        assert_eq!(
            marked,
            r#"<span class="k">let</span> <mark>x = <span class="s">&quot;a</span></mark><span class="s">b&quot;</span>;"#
        );
        let inside = mark_html(r#"<span class="k">abcd</span>"#, &[(1, 3)]);
        assert_eq!(inside, r#"<span class="k">a</span><mark><span class="k">bc</span></mark><span class="k">d</span>"#);
        let whole = mark_html(r#"x <span class="n">42</span>;"#, &[(2, 4)]);
        assert_eq!(whole, r#"x <mark><span class="n">42</span></mark>;"#, "no empty span is left behind");
    }

    #[test]
    fn a_changed_line_pair_has_its_changed_characters_marked() {
        let old = "fn main() {\n    let total = 1;\n}\n";
        let new = "fn main() {\n    let total = 2;\n}\n";
        let html = |t: &str| t.lines().map(app::html::escape).collect::<Vec<_>>();
        let hunks = hunks(old, new, &html(old), &html(new), Some(1), Duration::from_secs(1));
        assert_eq!(hunks.len(), 1);
        let kinds: Vec<_> = hunks[0].lines.iter().map(|l| l.kind).collect();
        assert_eq!(kinds, [DiffLineKind::Context, DiffLineKind::Removed, DiffLineKind::Added, DiffLineKind::Context]);
        // Marks are by word (as `similar` splits a line), so the changed word with its punctuation.
        assert_eq!(hunks[0].lines[1].html, "    let total = <mark>1;</mark>");
        assert_eq!(hunks[0].lines[2].html, "    let total = <mark>2;</mark>");
        assert_eq!((hunks[0].lines[1].old, hunks[0].lines[1].new), (Some(2), None));
        assert_eq!((hunks[0].lines[2].old, hunks[0].lines[2].new), (None, Some(2)));
        assert_eq!((hunks[0].old_start, hunks[0].new_start), (1, 1));
    }

    #[test]
    fn context_limits_the_hunk_and_none_shows_the_whole_file() {
        let old: String = (1..=30).map(|i| format!("line {i}\n")).collect();
        let new = old.replace("line 15\n", "line fifteen\n");
        let html = |t: &str| t.lines().map(str::to_string).collect::<Vec<_>>();
        let three = hunks(&old, &new, &html(&old), &html(&new), Some(3), Duration::from_secs(1));
        assert_eq!(three[0].lines.len(), 3 + 2 + 3);
        assert_eq!(three[0].old_start, 12);
        let all = hunks(&old, &new, &html(&old), &html(&new), None, Duration::from_secs(1));
        assert_eq!(all[0].lines.len(), 31);
    }

    /// `git diff -U3`'s hunk headers for the change from `old` to `new` (the git on the PATH).
    fn git_headers(old: &str, new: &str) -> Vec<(u32, u32, u32, u32)> {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, old).unwrap();
        std::fs::write(&b, new).unwrap();
        let output = std::process::Command::new("git")
            .args(["diff", "--no-index", "--no-color", "-U3"])
            .arg(&a)
            .arg(&b)
            .output()
            .expect("git runs");
        let side = |text: &str| -> (u32, u32) {
            match text[1..].split_once(',') {
                Some((start, count)) => (start.parse().unwrap(), count.parse().unwrap()),
                None => (text[1..].parse().unwrap(), 1),
            }
        };
        String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter_map(|line| line.strip_prefix("@@ "))
            .map(|header| {
                let mut parts = header.split(' ');
                let (old_start, old_lines) = side(parts.next().unwrap());
                let (new_start, new_lines) = side(parts.next().unwrap());
                (old_start, old_lines, new_start, new_lines)
            })
            .collect()
    }

    fn our_headers(old: &str, new: &str) -> Vec<(u32, u32, u32, u32)> {
        let html = |t: &str| t.lines().map(app::html::escape).collect::<Vec<_>>();
        hunks(old, new, &html(old), &html(new), Some(3), Duration::from_secs(1))
            .iter()
            .map(|h| {
                let shown = |kind| h.lines.iter().filter(|l| l.kind != kind).count() as u32;
                assert_eq!((shown(DiffLineKind::Added), shown(DiffLineKind::Removed)), (h.old_lines, h.new_lines));
                (h.old_start, h.old_lines, h.new_start, h.new_lines)
            })
            .collect()
    }

    #[test]
    fn hunks_are_those_of_git_diff_u3() {
        let base: Vec<String> = (1..=60).map(|i| format!("line {i}")).collect();
        let changed = |at: &[usize]| {
            let mut lines = base.clone();
            for &n in at {
                lines[n - 1] = format!("changed {n}");
            }
            lines.join("\n") + "\n"
        };
        let old = base.join("\n") + "\n";
        // Changes 2, 6, 7 and 20 lines apart: git merges hunks whose context would meet or touch.
        for apart in [2, 6, 7, 20] {
            let new = changed(&[10, 10 + apart]);
            assert_eq!(our_headers(&old, &new), git_headers(&old, &new), "{apart} lines apart");
        }
        // A block inserted among repeated blocks (a lockfile), and a function deleted among
        // functions that all end alike: the change lands where git puts it.
        let block =
            |name: &str| format!("[[package]]\nname = \"{name}\"\nversion = \"1.0.0\"\nsource = \"registry\"\n\n");
        let lock: String = ["a", "b", "c", "d", "e", "f"].iter().map(|n| block(n)).collect();
        let grown: String = ["a", "b", "c", "cc", "d", "e", "f"].iter().map(|n| block(n)).collect();
        assert_eq!(our_headers(&lock, &grown), git_headers(&lock, &grown), "a lockfile");
        let function = |n: u32| {
            format!("fn f{n}(v: u32) -> u32 {{\n    if v > {n} {{\n        return v;\n    }}\n    return v;\n}}\n\n")
        };
        let all: String = (1..=8).map(function).collect();
        let fewer: String = (1..=8).filter(|n| *n != 4).map(function).collect();
        assert_eq!(our_headers(&all, &fewer), git_headers(&all, &fewer), "repeated closing braces");
        let edited = all.replace("fn f5(v: u32) -> u32 {\n", "fn f5(v: u64) -> u64 {\n    let v = v + 1;\n");
        assert_eq!(our_headers(&all, &edited), git_headers(&all, &edited));
    }

    #[test]
    fn a_window_of_rows_keeps_whole_hunks_and_cuts_the_ones_at_its_ends() {
        let line = |kind, old, new| DiffLine { kind, old, new, html: String::new(), text: String::new() };
        // An added file of 10 lines, then a hunk of context, a removed and an added line.
        let added = Hunk {
            old_start: 0,
            old_lines: 0,
            new_start: 1,
            new_lines: 10,
            lines: (1..=10).map(|n| line(DiffLineKind::Added, None, Some(n))).collect(),
        };
        let changed = Hunk {
            old_start: 40,
            old_lines: 2,
            new_start: 50,
            new_lines: 2,
            lines: vec![
                line(DiffLineKind::Context, Some(40), Some(50)),
                line(DiffLineKind::Removed, Some(41), None),
                line(DiffLineKind::Added, None, Some(51)),
            ],
        };
        let hunks = vec![added, changed];
        assert_eq!(window(hunks.clone(), 1, 13), hunks);
        let middle = window(hunks.clone(), 4, 12);
        let headers: Vec<(u32, u32, u32, u32)> =
            middle.iter().map(|h| (h.old_start, h.old_lines, h.new_start, h.new_lines)).collect();
        assert_eq!(headers, [(0, 0, 4, 7), (40, 2, 50, 1)]);
        assert_eq!(middle[0].lines[0].new, Some(4));
        assert_eq!(middle[1].lines.len(), 2);
        let last = window(hunks.clone(), 13, 20);
        assert_eq!((last.len(), last[0].old_start, last[0].old_lines, last[0].new_start), (1, 42, 0, 51));
        assert!(window(hunks, 14, 20).is_empty());
    }
}
