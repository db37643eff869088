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
