//! The lines of a file diff: hunks with context, each line with its highlighted HTML and, for a
//! changed pair of lines, the changed characters marked (`<mark>`), computed with `similar`.

use app::model::{DiffLine, DiffLineKind, Hunk};
use similar::{ChangeTag, DiffOp, TextDiff};
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
/// with `context` lines around each change (`None`: the whole file, one hunk). Gives up on
/// intra-line marks (not on lines) past `budget`.
pub fn hunks(
    old: &str,
    new: &str,
    old_html: &[String],
    new_html: &[String],
    context: Option<u32>,
    budget: Duration,
) -> Vec<Hunk> {
    let started = Instant::now();
    let diff = TextDiff::configure().timeout(budget).diff_lines(old, new);
    let groups: Vec<Vec<DiffOp>> = match context {
        Some(n) => diff.grouped_ops(n as usize),
        None => vec![diff.ops().to_vec()],
    };
    let html_of = |lines: &[String], index: usize| lines.get(index).cloned().unwrap_or_default();
    let mut out = Vec::new();
    for group in groups {
        if group.is_empty() {
            continue;
        }
        let mut lines = Vec::new();
        for op in &group {
            let inline = started.elapsed() < budget && matches!(op, DiffOp::Replace { .. });
            if inline {
                for change in diff.iter_inline_changes(op) {
                    let (old_index, new_index) = (change.old_index(), change.new_index());
                    let mut ranges = Vec::new();
                    let mut at = 0;
                    for (emphasized, text) in change.iter_strings_lossy() {
                        let length = text.trim_end_matches(['\n', '\r']).chars().count();
                        if emphasized && length > 0 {
                            ranges.push((at, at + length));
                        }
                        at += text.chars().count();
                    }
                    let (kind, html) = match change.tag() {
                        ChangeTag::Delete => {
                            (DiffLineKind::Removed, mark_html(&html_of(old_html, old_index.unwrap_or(0)), &ranges))
                        }
                        ChangeTag::Insert => {
                            (DiffLineKind::Added, mark_html(&html_of(new_html, new_index.unwrap_or(0)), &ranges))
                        }
                        ChangeTag::Equal => (DiffLineKind::Context, html_of(new_html, new_index.unwrap_or(0))),
                    };
                    lines.push(DiffLine {
                        kind,
                        old: old_index.map(|i| i as u32 + 1),
                        new: new_index.map(|i| i as u32 + 1),
                        html,
                    });
                }
                continue;
            }
            for change in diff.iter_changes(op) {
                let (old_index, new_index) = (change.old_index(), change.new_index());
                let (kind, html) = match change.tag() {
                    ChangeTag::Delete => (DiffLineKind::Removed, html_of(old_html, old_index.unwrap_or(0))),
                    ChangeTag::Insert => (DiffLineKind::Added, html_of(new_html, new_index.unwrap_or(0))),
                    ChangeTag::Equal => (DiffLineKind::Context, html_of(new_html, new_index.unwrap_or(0))),
                };
                lines.push(DiffLine {
                    kind,
                    old: old_index.map(|i| i as u32 + 1),
                    new: new_index.map(|i| i as u32 + 1),
                    html,
                });
            }
        }
        let first_old = group[0].old_range().start as u32;
        let first_new = group[0].new_range().start as u32;
        let old_lines = lines.iter().filter(|l| l.kind != DiffLineKind::Added).count() as u32;
        let new_lines = lines.iter().filter(|l| l.kind != DiffLineKind::Removed).count() as u32;
        out.push(Hunk { old_start: first_old + 1, old_lines, new_start: first_new + 1, new_lines, lines });
    }
    out
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
}
