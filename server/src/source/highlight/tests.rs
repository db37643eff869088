//! The highlighter: classes, parts, caps.

use super::classes::class_of;
use super::parts::speculate;
use super::*;

#[test]
fn rust_is_highlighted_with_classes_line_by_line() {
    let out = Highlighter::default().highlight(
        "main.rs",
        "fn main() {\n    let s = \"a\nb\";\n}\n",
        &SourceLimits::default(),
    );
    assert_eq!(out.lines.len(), 4);
    assert_eq!(out.language.as_deref(), Some("Rust"));
    assert!(out.lines[0].starts_with("<span class=ht>fn </span><span class=hf>main</span>()"), "{}", out.lines[0]);
    assert!(!out.lines[0].contains("source"), "grouping scopes carry no span");
    assert!(
        out.lines[2].starts_with("<span class=hs>b&quot;</span>"),
        "a string continues on the next line: {}",
        out.lines[2]
    );
    // The string spans two lines: each line opens and closes its own spans.
    for line in &out.lines {
        assert_eq!(line.matches("<span").count(), line.matches("</span>").count(), "{line}");
    }
}

/// A Rust file of `items` methods in one `impl` block (its lines all indented), each a few
/// lines after a blank one, with a raw string in the middle whose lines look like such items.
fn long_rust(items: usize, trap_at: usize) -> String {
    let mut text = String::from("//! A file.\n\nuse std::fmt;\n\npub struct Thing;\n\nimpl Thing {\n");
    for n in 0..items {
        if n == trap_at {
            // Blank lines followed by indented lines, inside a string: a guess made here is wrong.
            text.push_str("    const TRAP: &str = r#\"\n");
            text.push_str(&"\n    pub fn not_code() {}\n".repeat(100));
            text.push_str("\"#;\n\n");
        }
        text.push_str(&format!(
            "    /// Item {n}: \"quoted\" and /* not a comment */.\n    pub fn item_{n}(&self, x: u32) -> u32 {{\n        \
             let s = \"a string {{}}\"; // a comment\n        x.wrapping_mul({n}) + s.len() as u32\n    }}\n\n"
        ));
    }
    text.push_str("}\n\nfn main() {\n    println!(\"{}\", Thing.item_1(2));\n}\n");
    text
}

fn rust(highlighter: &Highlighter) -> &SyntaxReference {
    highlighter.syntaxes.find_syntax_by_extension("rs").unwrap()
}

#[test]
fn a_file_highlighted_in_parts_is_the_file_highlighted_in_one() {
    let highlighter = Highlighter::default();
    let limits = SourceLimits::default();
    let text = long_rust(400, usize::MAX);
    let whole = highlighter.highlight_as(Some(rust(&highlighter)), &text, &limits);
    for parts in [2, 3, 4] {
        let (split, kept) = highlighter.highlight_in_parts(Some(rust(&highlighter)), &text, &limits, parts, 100);
        assert_eq!(kept, parts - 1, "every part begun between two methods is kept ({parts} parts)");
        assert_eq!(split.lines, whole.lines, "{parts} parts");
        assert_eq!((split.notice, split.timed_out, split.language), (None, false, Some("Rust".to_string())));
    }
}

#[test]
fn a_part_begun_in_the_wrong_state_is_highlighted_again() {
    let highlighter = Highlighter::default();
    let limits = SourceLimits::default();
    let items = 400;
    // The trap's 200 lines span the middle, where the cut into two parts is looked for.
    let text = long_rust(items, items / 2 - 5);
    let lines: Vec<&str> = LinesWithEndings::from(text.as_str()).collect();
    let guesses = speculate(&lines, 2);
    assert!(lines[guesses[0].at].contains("not_code"), "the cut falls inside the raw string: {}", lines[guesses[0].at]);
    let whole = highlighter.highlight_as(Some(rust(&highlighter)), &text, &limits);
    let (split, kept) = highlighter.highlight_in_parts(Some(rust(&highlighter)), &text, &limits, 2, 100);
    assert_eq!(kept, 0, "the part begun inside the string is not kept");
    assert_eq!(split.lines, whole.lines);
    let trap = whole.lines.iter().find(|line| line.contains("not_code")).unwrap();
    assert!(trap.starts_with("<span class=hs>"), "inside the string, the fake method is a string: {trap}");
}

#[test]
fn a_file_in_parts_keeps_the_notices_and_the_plain_rest_of_one_highlighted_whole() {
    let highlighter = Highlighter::default();
    let text = long_rust(400, usize::MAX).replace("Item 7:", &format!("Item 7: {}", "x".repeat(200)));
    // Long lines are skipped alike; a spent budget leaves the rest of the file plain.
    for budget in [3_000, 0] {
        let limits = SourceLimits { line_max_bytes: 150, highlight_budget_ms: budget, ..SourceLimits::default() };
        let whole = highlighter.highlight_as(Some(rust(&highlighter)), &text, &limits);
        let (split, _) = highlighter.highlight_in_parts(Some(rust(&highlighter)), &text, &limits, 4, 100);
        assert_eq!(split.lines, whole.lines, "budget {budget}");
        assert_eq!(split.notice, whole.notice, "budget {budget}");
        assert_eq!(split.timed_out, budget == 0);
        let notice = whole.notice.unwrap();
        if budget == 0 {
            assert!(matches!(notice, FileNotice::PartlyPlain { stopped_at: Some(2), .. }), "{notice:?}");
        } else {
            assert_eq!(notice, FileNotice::PartlyPlain { long_lines: 1, line_max_bytes: 150, stopped_at: None });
        }
    }
}

#[test]
fn a_short_file_or_one_without_a_cut_is_highlighted_in_one_part() {
    let highlighter = Highlighter::default();
    let limits = SourceLimits::default();
    let text = long_rust(10, usize::MAX);
    let (_, kept) = highlighter.highlight_in_parts(Some(rust(&highlighter)), &text, &limits, 2, 2_000);
    assert_eq!(kept, 0);
    let dense = "let x = 1;\n".repeat(3_000);
    let lines: Vec<&str> = LinesWithEndings::from(dense.as_str()).collect();
    assert!(speculate(&lines, 4).is_empty(), "no blank line: no cut");
    let (split, _) = highlighter.highlight_in_parts(Some(rust(&highlighter)), &dense, &limits, 4, 100);
    assert_eq!(split.lines.len(), 3_000);
}

#[test]
fn scopes_map_to_the_class_of_their_kind() {
    assert_eq!(class_of("comment.line.double-slash.rust"), Some("hc"));
    assert_eq!(class_of("storage.type.function.rust"), Some("ht"));
    assert_eq!(class_of("storage.modifier.rust"), Some("hk"));
    assert_eq!(class_of("keyword.control.rust"), Some("hk"));
    assert_eq!(class_of("constant.numeric.integer.decimal.rust"), Some("hn"));
    assert_eq!(class_of("constant.character.escape.rust"), Some("ho"));
    assert_eq!(class_of("entity.name.function.rust"), Some("hf"));
    assert_eq!(class_of("punctuation.separator.rust"), None);
    assert_eq!(class_of("meta.function.rust"), None);
    assert_eq!(class_of("stringy.made.up"), None, "a prefix matches whole atoms only");
}

#[test]
fn runs_of_one_kind_share_a_span() {
    let out = Highlighter::default().highlight("a.rs", "// one comment line\n", &SourceLimits::default());
    assert_eq!(out.lines[0], "<span class=hc>// one comment line</span>");
}

#[test]
fn markup_in_source_is_escaped() {
    let out = Highlighter::default().highlight("x.txt", "<script>alert(1)</script>", &SourceLimits::default());
    assert_eq!(out.lines, vec!["&lt;script&gt;alert(1)&lt;/script&gt;"]);
}

#[test]
fn a_file_over_the_cap_is_plain_with_a_notice() {
    let limits = SourceLimits { highlight_max_bytes: 10, ..SourceLimits::default() };
    let out = Highlighter::default().highlight("a.rs", "fn main() {}\n// more\n", &limits);
    assert_eq!(out.notice, Some(FileNotice::PlainWhole { highlight_max_bytes: 10 }));
    assert!(!out.lines[0].contains("<span"));
}

#[test]
fn a_long_line_is_not_highlighted() {
    let limits = SourceLimits { line_max_bytes: 20, ..SourceLimits::default() };
    let text = format!("fn a() {{}}\nlet x = \"{}\";\n", "y".repeat(50));
    let out = Highlighter::default().highlight("a.rs", &text, &limits);
    assert!(!out.lines[1].contains("<span"));
    assert!(matches!(out.notice, Some(FileNotice::PartlyPlain { long_lines: 1, line_max_bytes: 20, .. })));
}

#[test]
fn toml_and_the_lockfiles_written_in_it_are_highlighted() {
    let highlighter = Highlighter::default();
    let lock = "# generated\n[[package]]\nname = \"anyhow\"\nversion = \"1.0.98\"\nchecksum = 'e16d2d3311'\ndependencies = [\n \"serde\",\n]\n\n[metadata]\nn = 0x1F\nok = true\nat = 1979-05-27T07:32:00Z\ninline = { a = 1, b = \"x\" }\n";
    for name in ["Cargo.lock", "Cargo.toml", "pyproject.toml", "uv.lock"] {
        let out = highlighter.highlight(name, lock, &SourceLimits::default());
        assert_eq!(out.language.as_deref(), Some("TOML"), "{name}");
        assert_eq!(out.lines[0], "<span class=hc># generated</span>", "{name}");
        assert!(out.lines[1].contains("<span class=hg>package</span>"), "{}", out.lines[1]);
        assert!(out.lines[2].starts_with("<span class=ha>name"), "{}", out.lines[2]);
        assert!(out.lines[2].contains("<span class=hs>&quot;anyhow&quot;</span>"), "{}", out.lines[2]);
        assert!(out.lines[4].contains("<span class=hs>&#39;e16d2d3311&#39;</span>"), "{}", out.lines[4]);
        assert!(
            out.lines[6].contains("<span class=hs>&quot;serde&quot;</span>"),
            "a string inside an array: {}",
            out.lines[6]
        );
        assert!(out.lines[10].contains("<span class=hn>0x1F</span>"), "{}", out.lines[10]);
        assert!(out.lines[11].contains("<span class=ho>true</span>"), "{}", out.lines[11]);
        assert!(out.lines[12].contains("<span class=ho>1979-05-27T07:32:00Z</span>"), "{}", out.lines[12]);
        assert!(out.lines[13].contains("<span class=hs>&quot;x&quot;"), "{}", out.lines[13]);
    }
    // A lockfile of another format is not taken for TOML.
    assert_ne!(highlighter.highlight("yarn.lock", lock, &SourceLimits::default()).language.as_deref(), Some("TOML"));
    assert_eq!(
        highlighter.highlight("composer.lock", "{\"a\": 1}\n", &SourceLimits::default()).language.as_deref(),
        Some("JSON")
    );
}
