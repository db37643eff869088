//! HTML escaping, the one place it is done by hand: highlighted source lines, the server's plain
//! error pages, and the review threads rendered as strings (Leptos escapes what its views render).

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    escape_into(&mut out, text);
    out
}

/// Appends `text` escaped to `out`.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
}

/// A count with thousands separated by commas (`250,000`).
pub fn thousands(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A share as every page and the printable report show it: one decimal, rounded half up on
/// the exact fraction (so the same figures always print the same), `–` of nothing.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "–".into();
    }
    // Tenths of a percent, rounded half up in integers: no float rounding to disagree about.
    let tenths = (part as u128 * 1000 * 2 + whole as u128) / (whole as u128 * 2);
    format!("{}.{} %", tenths / 10, tenths % 10)
}

/// A count and its noun, singular for one (`1 file`, `2,410 files`): `plural` is the noun's
/// plural form, since English has more than one way to make it (`binaries`).
pub fn counted(n: impl Into<u64>, singular: &str, plural: &str) -> String {
    let n = n.into();
    format!("{} {}", thousands(n), if n == 1 { singular } else { plural })
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_share_has_one_decimal_rounded_half_up() {
        assert_eq!(super::percent(1, 3), "33.3 %");
        assert_eq!(super::percent(2, 3), "66.7 %");
        assert_eq!(super::percent(1, 8), "12.5 %");
        assert_eq!(super::percent(1, 1600), "0.1 %", "0.0625 % rounds up");
        assert_eq!(super::percent(7, 7), "100.0 %");
        assert_eq!(super::percent(0, 0), "–");
    }

    #[test]
    fn a_count_names_its_noun_in_the_right_number() {
        assert_eq!(super::counted(1u32, "file", "files"), "1 file");
        assert_eq!(super::counted(0u32, "file", "files"), "0 files");
        assert_eq!(super::counted(2_410u32, "binary", "binaries"), "2,410 binaries");
    }

    #[test]
    fn markup_characters_are_escaped() {
        assert_eq!(super::escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(super::thousands(0u32), "0");
        assert_eq!(super::thousands(999u32), "999");
        assert_eq!(super::thousands(4000u32), "4,000");
        assert_eq!(super::thousands(250_000u32), "250,000");
        assert_eq!(super::thousands(1_234_567u32), "1,234,567");
    }
}
