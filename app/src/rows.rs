//! The markup of the code table's rows: one `<tr id="L12">` per line with its number and its
//! highlighted (or escaped) text. One owner for the row format: the file page renders rows with it
//! (threads between them), and the server packs a window's rows with it once (`source::rows`), so
//! the two can never differ. Pure string building, no Leptos, so the server's git layer may use it
//! without reaching into a page.

/// Rows for a window of lines numbered from `first`, without threads (rows loaded into a page).
pub fn plain_rows_html(lines: &[String], first: u32) -> String {
    let mut out = String::new();
    if !lines.is_empty() {
        rows_html(&mut out, lines, 1, lines.len(), &vec![false; lines.len() + 2], first as usize - 1);
    }
    out
}

/// Raw rows for lines `from..=to` (1-based in `lines`), numbered `offset` more than their place
/// in `lines` (a window); `marked` lines carry a thread marker.
pub fn rows_html(out: &mut String, lines: &[String], from: usize, to: usize, marked: &[bool], offset: usize) {
    out.reserve(lines[from - 1..to].iter().map(|l| l.len() + 60).sum());
    for n in from..=to {
        let number = (n + offset).to_string();
        out.push_str("<tr id=\"L");
        out.push_str(&number);
        if marked[n] {
            out.push_str("\" class=\"has-thread");
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
