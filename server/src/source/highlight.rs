//! Syntax highlighting to CSS classes (`hl-…`), one self-contained HTML fragment per line, with
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

/// Every line escaped, none highlighted.
pub fn plain_lines(text: &str) -> Vec<String> {
    LinesWithEndings::from(text).map(|l| escape(strip_newline(l))).collect()
}

impl Highlighter {
    pub(super) fn syntax_for(&self, file_name: &str, text: &str) -> Option<&SyntaxReference> {
        let extension = file_name.rsplit_once('.').map(|(_, e)| e).unwrap_or(file_name);
        self.syntaxes
            .find_syntax_by_extension(extension)
            .or_else(|| self.syntaxes.find_syntax_by_extension(file_name))
            .or_else(|| self.syntaxes.find_syntax_by_first_line(text.lines().next().unwrap_or("")))
            .filter(|s| s.name != "Plain Text")
    }

    pub fn highlight(&self, file_name: &str, text: &str, limits: &SourceLimits) -> Highlighted {
        if text.len() as u64 > limits.highlight_max_bytes {
            return Highlighted {
                lines: plain_lines(text),
                language: None,
                notice: Some(format!(
                    "This file is larger than {} KiB, so it is shown as plain text without highlighting.",
                    limits.highlight_max_bytes / 1024
                )),
            };
        }
        let Some(syntax) = self.syntax_for(file_name, text) else {
            return Highlighted { lines: plain_lines(text), language: None, notice: None };
        };
        let budget = Duration::from_millis(limits.highlight_budget_ms);
        let started = Instant::now();
        let mut state = ParseState::new(syntax);
        let mut stack = ScopeStack::new();
        let mut cache = ClassCache(Default::default());
        let mut lines = Vec::new();
        let mut long_lines = 0usize;
        let mut out_of_time_at = None;
        for (number, line) in LinesWithEndings::from(text).enumerate() {
            if out_of_time_at.is_some() {
                lines.push(escape(strip_newline(line)));
                continue;
            }
            if line.len() > limits.line_max_bytes {
                long_lines += 1;
                lines.push(escape(strip_newline(line)));
                continue;
            }
            match highlight_line(line, &mut state, &mut stack, &self.syntaxes, &mut cache) {
                Some(html) => lines.push(html),
                None => {
                    // The grammar failed on this line: show the rest plainly rather than guess.
                    out_of_time_at = Some(number + 1);
                    lines.push(escape(strip_newline(line)));
                }
            }
            if number % 64 == 63 && started.elapsed() > budget {
                out_of_time_at = Some(number + 2);
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
        }
    }
}

/// Classes for the innermost scope that says what a token is, cached per scope. Scopes that only
/// group (`source.*`, `text.*`, `meta.*`) carry no class, so markup stays flat: one span per token
/// kind instead of the whole scope stack on every line.
struct ClassCache(std::collections::HashMap<Scope, Option<String>>);

impl ClassCache {
    fn classes(&mut self, stack: &ScopeStack) -> Option<String> {
        for scope in stack.as_slice().iter().rev() {
            let entry = self.0.entry(*scope).or_insert_with(|| {
                let name = scope.build_string();
                let first = name.split('.').next().unwrap_or("");
                if matches!(first, "source" | "text" | "meta" | "") {
                    None
                } else {
                    Some(name.split('.').map(|atom| format!("hl-{atom}")).collect::<Vec<_>>().join(" "))
                }
            });
            if entry.is_some() {
                return entry.clone();
            }
        }
        None
    }
}

/// Appends `text` to `html` under `class`, merging with the span already open when it has the same.
fn push_token(html: &mut String, open: &mut Option<String>, class: Option<String>, text: &str) {
    if text.is_empty() {
        return;
    }
    if *open != class {
        if open.is_some() {
            html.push_str("</span>");
        }
        if let Some(class) = &class {
            html.push_str("<span class=\"");
            html.push_str(class);
            html.push_str("\">");
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
    let mut open: Option<String> = None;
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
        assert!(
            out.lines[0].contains("<span class=\"hl-storage hl-type hl-function hl-rust\">fn</span>"),
            "{}",
            out.lines[0]
        );
        assert!(!out.lines[0].contains("hl-source"), "grouping scopes carry no span");
        assert!(
            out.lines[2].starts_with("<span class=\"hl-string"),
            "a string continues on the next line: {}",
            out.lines[2]
        );
        // The string spans two lines: each line opens and closes its own spans.
        for line in &out.lines {
            assert_eq!(line.matches("<span").count(), line.matches("</span>").count(), "{line}");
        }
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
