//! The markup of the code table's rows: one `<tr id="L12">` per line with its number and its
//! highlighted (or escaped) text. One owner for the row format: the file page renders rows with it
//! (threads between them), and the server packs a window's rows with it once (`source::rows`), so
//! the two can never differ. Pure string building, no Leptos, so the server's git layer may use it
//! without reaching into a page.

/// Rows for a window of lines numbered from `first`, without threads (rows loaded into a page);
/// the lines in `compiled` (sorted inclusive ranges) are marked compiled (`tr.compiled`), as the
/// page's own window is by its style.
pub fn plain_rows_html(lines: &[String], first: u32, compiled: &[[u32; 2]]) -> String {
    let mut out = String::new();
    if !lines.is_empty() {
        let marked = vec![false; lines.len() + 2];
        rows_html(&mut out, lines, (1, lines.len()), &marked, first as usize - 1, compiled);
    }
    out
}

/// Rows for a window of lines as `plain_rows_html` makes them, each of `notes` (the line it goes
/// under, by number, and its markup, in line order) in a row of class `annotation-row` after its
/// line (a note on a line outside the window after the window's last).
pub fn rows_with_notes_html(lines: &[String], first: u32, compiled: &[[u32; 2]], notes: &[(u32, String)]) -> String {
    let mut out = String::new();
    if lines.is_empty() {
        return out;
    }
    let count = lines.len();
    let marked = vec![false; count + 2];
    let offset = first as usize - 1;
    let mut next = 1;
    let mut notes = notes.iter().peekable();
    while let Some(&(line, _)) = notes.peek() {
        let last = (*line as usize).saturating_sub(offset).clamp(1, count);
        if last >= next {
            rows_html(&mut out, lines, (next, last), &marked, offset, compiled);
            next = last + 1;
        }
        out.push_str("<tr class=\"annotation-row\"><td colspan=\"2\">");
        while let Some((_, html)) = notes.next_if(|(l, _)| (*l as usize).saturating_sub(offset).clamp(1, count) == last)
        {
            out.push_str(html);
        }
        out.push_str("</td></tr>");
    }
    if next <= count {
        rows_html(&mut out, lines, (next, count), &marked, offset, compiled);
    }
    out
}

/// Raw rows for lines `from..=to` (1-based in `lines`), numbered `offset` more than their place
/// in `lines` (a window); `marked` lines carry a thread marker, lines (by number) in `compiled`
/// the compiled mark.
pub fn rows_html(
    out: &mut String,
    lines: &[String],
    (from, to): (usize, usize),
    marked: &[bool],
    offset: usize,
    compiled: &[[u32; 2]],
) {
    out.reserve(lines[from - 1..to].iter().map(|l| l.len() + 60).sum());
    let mut ranges = compiled.iter().peekable();
    for n in from..=to {
        let number = (n + offset).to_string();
        out.push_str("<tr id=\"L");
        out.push_str(&number);
        let line = (n + offset) as u32;
        while ranges.peek().is_some_and(|[_, last]| *last < line) {
            ranges.next();
        }
        let is_compiled = ranges.peek().is_some_and(|[first, _]| *first <= line);
        match (marked[n], is_compiled) {
            (true, true) => out.push_str("\" class=\"has-thread compiled"),
            (true, false) => out.push_str("\" class=\"has-thread"),
            (false, true) => out.push_str("\" class=\"compiled"),
            (false, false) => {}
        }
        // The number is a permalink through one delegated handler (`LineSelection`), not a link
        // per line: a row is as small as it can be and still be a `#L12` target without scripts.
        out.push_str("\"><td class=\"ln\">");
        out.push_str(&number);
        out.push_str("</td><td class=\"lc\">");
        out.push_str(&lines[n - 1]);
        out.push_str("</td></tr>");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_go_after_their_lines_and_the_rows_are_the_plain_rows_around_them() {
        let lines: Vec<String> = (1..=5).map(|n| format!("line {n}")).collect();
        let notes = vec![(12, "<b>a</b>".to_string()), (12, "<b>b</b>".to_string()), (99, "<b>c</b>".to_string())];
        let html = rows_with_notes_html(&lines, 11, &[[13, 13]], &notes);
        assert_eq!(
            html.replace(r#"<tr class="annotation-row"><td colspan="2"><b>a</b><b>b</b></td></tr>"#, "")
                .replace(r#"<tr class="annotation-row"><td colspan="2"><b>c</b></td></tr>"#, ""),
            plain_rows_html(&lines, 11, &[[13, 13]])
        );
        let (l12, a, l13) =
            (html.find("id=\"L12\"").unwrap(), html.find("<b>a</b>").unwrap(), html.find("id=\"L13\"").unwrap());
        assert!(l12 < a && a < l13, "{html}");
        assert!(
            html.ends_with(r#"<tr class="annotation-row"><td colspan="2"><b>c</b></td></tr>"#),
            "past the window: after its last line"
        );
        assert_eq!(rows_with_notes_html(&lines, 11, &[], &[]), plain_rows_html(&lines, 11, &[]));
    }
}
