//! A result line shown as the file view shows it: the line's highlighted markup from the highlight
//! cache, with the matches marked in it. A `<mark>` never crosses a highlighting span: it is closed
//! before each tag inside it and opened again after, so each row stays well-formed HTML.

/// The entity `escape_into` writes for one character, decoded.
fn entity(name: &str) -> Option<char> {
    Some(match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "#39" => '\'',
        _ => return None,
    })
}

/// `html` (one highlighted line) with the byte ranges `marks` of its text marked; `None` when the
/// markup's text is not exactly `text` (a line cut short, a window of a long line), so that the
/// caller shows the plain text instead.
pub(super) fn mark_highlighted(html: &str, text: &str, marks: &[(usize, usize)]) -> Option<String> {
    let mut out = String::with_capacity(html.len() + marks.len() * 13);
    // `at`: bytes of `text` passed; `next`: the mark looked at; `inside`: within it; `written`: its
    // `<mark>` is open in the output (opened only before text, so no empty mark is written).
    let (mut at, mut next, mut inside, mut written) = (0usize, 0usize, false, false);
    let mut i = 0;
    while i < html.len() {
        if inside && marks[next].1 <= at {
            if written {
                out.push_str("</mark>");
            }
            (inside, written, next) = (false, false, next + 1);
        }
        while !inside && next < marks.len() && (marks[next].0 < at || marks[next].1 <= marks[next].0) {
            next += 1; // overlapping or empty
        }
        if !inside && next < marks.len() && marks[next].0 == at {
            inside = true;
        }
        if html.as_bytes()[i] == b'<' {
            let end = i + html[i..].find('>')? + 1;
            if written {
                out.push_str("</mark>");
                written = false;
            }
            out.push_str(&html[i..end]);
            i = end;
            continue;
        }
        let (c, length) = match html.as_bytes()[i] {
            b'&' => {
                let end = i + html[i..].find(';')?;
                (entity(&html[i + 1..end])?, end + 1 - i)
            }
            _ => {
                let c = html[i..].chars().next()?;
                (c, c.len_utf8())
            }
        };
        if !text[at..].starts_with(c) {
            return None;
        }
        if inside && !written {
            out.push_str("<mark>");
            written = true;
        }
        out.push_str(&html[i..i + length]);
        at += c.len_utf8();
        i += length;
    }
    if written {
        out.push_str("</mark>");
    }
    (at == text.len()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_close_before_each_tag_and_open_again_after() {
        let html = "<span class=hk>return</span> a &amp;&amp; b;";
        let text = "return a && b;";
        assert_eq!(
            mark_highlighted(html, text, &[(3, 8)]).unwrap(),
            "<span class=hk>ret<mark>urn</mark></span><mark> a</mark> &amp;&amp; b;"
        );
        assert_eq!(
            mark_highlighted(html, text, &[(9, 11)]).unwrap(),
            "<span class=hk>return</span> a <mark>&amp;&amp;</mark> b;"
        );
        assert_eq!(mark_highlighted(html, text, &[]).unwrap(), html);
        // A marked empty line end, several marks, a mark at the very end.
        assert_eq!(mark_highlighted("ab", "ab", &[(0, 1), (1, 2)]).unwrap(), "<mark>a</mark><mark>b</mark>");
        // No empty mark beside a tag: a mark opens just before its text.
        assert_eq!(
            mark_highlighted("<span class=hk>pub </span><span class=ht>fn</span>", "pub fn", &[(4, 6)]).unwrap(),
            "<span class=hk>pub </span><span class=ht><mark>fn</mark></span>"
        );
        assert_eq!(mark_highlighted("a b", "a b", &[(0, 0), (1, 2)]).unwrap(), "a<mark> </mark>b");
    }

    #[test]
    fn markup_whose_text_differs_is_refused() {
        assert!(mark_highlighted("abc<span class=cut> … (line cut)</span>", "abcdef", &[]).is_none());
        assert!(mark_highlighted("a&lt;b", "a<c", &[]).is_none());
        assert!(mark_highlighted("a &bogus; b", "a x b", &[]).is_none());
        assert!(mark_highlighted("é", "é", &[(0, 2)]).is_some());
    }
}
