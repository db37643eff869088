//! Syntax highlighting to a few short CSS classes (`hk`, `hs`, …), one self-contained HTML fragment per line, with
//! guards: no highlighting past a size cap, for over-long lines, or after a time budget.

use crate::config::SourceLimits;
use app::html::{escape, escape_into};
use std::time::{Duration, Instant};
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

/// The result for one file.
#[derive(Clone, Debug)]
pub struct Highlighted {
    pub lines: Vec<String>,
    pub language: Option<String>,
    pub notice: Option<String>,
    /// Whether the time budget cut highlighting short (such a result is not kept on disk).
    pub timed_out: bool,
    /// For a window of a large file's lines: how many lines the whole file has.
    pub total: Option<u32>,
    /// The lines as code rows, deflated once for pages sent with gzip (`rows.rs`), made on first use.
    pub packed: std::sync::OnceLock<std::sync::Arc<super::rows::PackedRows>>,
}

pub struct Highlighter {
    pub(super) syntaxes: SyntaxSet,
}

impl Default for Highlighter {
    fn default() -> Self {
        Highlighter { syntaxes: SyntaxSet::load_defaults_newlines() }
    }
}

fn strip_newline(line: &str) -> &str {
    line.strip_suffix('\n').map(|l| l.strip_suffix('\r').unwrap_or(l)).unwrap_or(line)
}

/// A line longer than this is shown cut (a minified file's one line); the raw download has it all.
pub const SHOWN_LINE_MAX: usize = 64 * 1024;

/// A line escaped, cut at `SHOWN_LINE_MAX` bytes with a marker; and whether it was cut.
pub fn cut_line(line: &str) -> (String, bool) {
    if line.len() <= SHOWN_LINE_MAX {
        return (escape(line), false);
    }
    let mut end = SHOWN_LINE_MAX;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    let mut shown = escape(&line[..end]);
    shown.push_str("<span class=cut> … (line cut; download the raw file)</span>");
    (shown, true)
}

/// Every line escaped, none highlighted.
pub fn plain_lines(text: &str) -> Vec<String> {
    LinesWithEndings::from(text).map(|l| cut_line(strip_newline(l)).0).collect()
}

impl Highlighter {
    /// The grammar for a file: by its extension or name, else by its first line (only its first
    /// 256 bytes are looked at: a grammar's first-line pattern on a megabyte line costs seconds).
    pub(super) fn syntax_for(&self, file_name: &str, text: &str) -> Option<&SyntaxReference> {
        self.syntax_by_name(file_name)
            .or_else(|| {
                let first = text.lines().next().unwrap_or("");
                let mut end = first.len().min(256);
                while !first.is_char_boundary(end) {
                    end -= 1;
                }
                self.syntaxes.find_syntax_by_first_line(&first[..end])
            })
            .filter(|s| s.name != "Plain Text")
    }

    /// The grammar a file's name alone decides (its extension, or its whole name: `Makefile`).
    pub(super) fn syntax_by_name(&self, file_name: &str) -> Option<&SyntaxReference> {
        let extension = file_name.rsplit_once('.').map(|(_, e)| e).unwrap_or(file_name);
        self.syntaxes
            .find_syntax_by_extension(extension)
            .or_else(|| self.syntaxes.find_syntax_by_extension(file_name))
            .filter(|s| s.name != "Plain Text")
    }

    pub fn highlight(&self, file_name: &str, text: &str, limits: &SourceLimits) -> Highlighted {
        let syntax =
            (text.len() as u64 <= limits.highlight_max_bytes).then(|| self.syntax_for(file_name, text)).flatten();
        self.highlight_as(syntax, text, limits)
    }

    /// Highlights `text` with a grammar chosen beforehand (`None`: plain text).
    pub(super) fn highlight_as(
        &self,
        syntax: Option<&SyntaxReference>,
        text: &str,
        limits: &SourceLimits,
    ) -> Highlighted {
        if text.len() as u64 > limits.highlight_max_bytes {
            return Highlighted {
                lines: plain_lines(text),
                language: None,
                notice: Some(format!(
                    "This file is larger than {} KiB, so it is shown as plain text without highlighting.",
                    limits.highlight_max_bytes / 1024
                )),
                timed_out: false,
                total: None,
                packed: Default::default(),
            };
        }
        let Some(syntax) = syntax else {
            return Highlighted {
                lines: plain_lines(text),
                language: None,
                notice: None,
                timed_out: false,
                total: None,
                packed: Default::default(),
            };
        };
        let budget = Duration::from_millis(limits.highlight_budget_ms);
        let started = Instant::now();
        let mut state = ParseState::new(syntax);
        let mut stack = ScopeStack::new();
        let mut cache = ClassCache(Default::default());
        let mut lines = Vec::new();
        let mut long_lines = 0usize;
        let mut out_of_time_at = None;
        let mut timed_out = false;
        for (number, line) in LinesWithEndings::from(text).enumerate() {
            if out_of_time_at.is_some() {
                lines.push(cut_line(strip_newline(line)).0);
                continue;
            }
            if line.len() > limits.line_max_bytes {
                long_lines += 1;
                lines.push(cut_line(strip_newline(line)).0);
                continue;
            }
            match highlight_line(line, &mut state, &mut stack, &self.syntaxes, &mut cache) {
                Some(html) => lines.push(html),
                None => {
                    // The grammar failed on this line: show the rest plainly rather than guess.
                    out_of_time_at = Some(number + 1);
                    lines.push(cut_line(strip_newline(line)).0);
                }
            }
            if started.elapsed() > budget {
                out_of_time_at = Some(number + 2);
                timed_out = true;
            }
        }
        let mut notices = Vec::new();
        if long_lines > 0 {
            notices.push(format!(
                "{long_lines} line(s) longer than {} bytes are shown without highlighting.",
                limits.line_max_bytes
            ));
        }
        if let Some(line) = out_of_time_at {
            notices.push(format!("Highlighting stopped at line {line}; the rest is plain text."));
        }
        Highlighted {
            lines,
            language: Some(syntax.name.clone()),
            notice: (!notices.is_empty()).then(|| notices.join(" ")),
            timed_out,
            total: None,
            packed: Default::default(),
        }
    }
}

/// The class of a token: the innermost scope of its stack that has a colour says what it is, as
/// one of a few short classes (`hk` keyword, `hs` string, …; `style/main.css` colours them), so a
/// token's markup is a few bytes and runs of one kind merge into one span. Cached per scope.
struct ClassCache(std::collections::HashMap<Scope, Option<&'static str>>);

/// The short class of one scope, `None` for scopes with no colour of their own (`source.*`,
/// `meta.*`, `punctuation.*` outside comments, plain variables): those take their parent's.
fn class_of(scope: &str) -> Option<&'static str> {
    let starts = |prefix: &str| scope == prefix || scope.starts_with(prefix) && scope[prefix.len()..].starts_with('.');
    let class = if starts("comment") || starts("punctuation.definition.comment") {
        "hc"
    } else if starts("string") {
        "hs"
    } else if starts("constant.numeric") {
        "hn"
    } else if starts("constant") {
        "ho"
    } else if starts("storage.type")
        || starts("entity.name.type")
        || starts("entity.name.class")
        || starts("entity.name.struct")
        || starts("entity.name.enum")
        || starts("entity.name.trait")
        || starts("support.type")
        || starts("support.class")
    {
        "ht"
    } else if starts("keyword") || starts("storage") {
        "hk"
    } else if starts("entity.name.function") || starts("support.function") || starts("variable.function") {
        "hf"
    } else if starts("entity.name.tag") {
        "hg"
    } else if starts("entity.other.attribute-name") {
        "ha"
    } else if starts("variable.parameter") || starts("variable.language") {
        "hv"
    } else if starts("markup.heading") {
        "hh"
    } else if starts("markup.bold") {
        "hb"
    } else if starts("markup.italic") {
        "hi"
    } else if starts("invalid") {
        "hx"
    } else {
        return None;
    };
    Some(class)
}

impl ClassCache {
    fn classes(&mut self, stack: &ScopeStack) -> Option<&'static str> {
        stack
            .as_slice()
            .iter()
            .rev()
            .find_map(|scope| *self.0.entry(*scope).or_insert_with(|| class_of(&scope.build_string())))
    }
}

/// Appends `text` to `html` under `class`, merging with the span already open when it has the
/// same class; white space joins whatever span is open (it shows no colour).
fn push_token(html: &mut String, open: &mut Option<&'static str>, class: Option<&'static str>, text: &str) {
    if text.is_empty() {
        return;
    }
    let blank = open.is_some() && text.bytes().all(|b| b == b' ' || b == b'\t');
    if *open != class && !blank {
        if open.is_some() {
            html.push_str("</span>");
        }
        if let Some(class) = class {
            html.push_str("<span class=");
            html.push_str(class);
            html.push('>');
        }
        *open = class;
    }
    escape_into(html, text);
}

/// One line as a self-contained fragment of flat spans (none crosses a line end), so each table row
/// is valid HTML on its own.
fn highlight_line(
    line: &str,
    state: &mut ParseState,
    stack: &mut ScopeStack,
    syntaxes: &SyntaxSet,
    cache: &mut ClassCache,
) -> Option<String> {
    let ops = state.parse_line(line, syntaxes).ok()?;
    let content = strip_newline(line);
    let mut html = String::with_capacity(content.len() * 2);
    let mut open: Option<&'static str> = None;
    let mut cursor = 0;
    for (at, op) in &ops {
        let at = (*at).min(content.len());
        if at > cursor {
            push_token(&mut html, &mut open, cache.classes(stack), &content[cursor..at]);
            cursor = at;
        }
        stack.apply(op).ok()?;
    }
    if cursor < content.len() {
        push_token(&mut html, &mut open, cache.classes(stack), &content[cursor..]);
    }
    if open.is_some() {
        html.push_str("</span>");
    }
    Some(html)
}

#[cfg(test)]
mod tests {
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
        assert!(out.notice.unwrap().contains("plain text"));
        assert!(!out.lines[0].contains("<span"));
    }

    #[test]
    fn a_long_line_is_not_highlighted() {
        let limits = SourceLimits { line_max_bytes: 20, ..SourceLimits::default() };
        let text = format!("fn a() {{}}\nlet x = \"{}\";\n", "y".repeat(50));
        let out = Highlighter::default().highlight("a.rs", &text, &limits);
        assert!(!out.lines[1].contains("<span"));
        assert!(out.notice.unwrap().contains("longer than 20 bytes"));
    }
}
