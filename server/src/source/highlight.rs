//! Syntax highlighting to a few short CSS classes (`hk`, `hs`, …), one self-contained HTML fragment per line, with
//! guards: no highlighting past a size cap, for over-long lines, or after a time budget.

use crate::config::SourceLimits;
use app::html::{escape, escape_into};
use std::sync::atomic::{AtomicBool, Ordering};
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

    /// The grammar to highlight a file of `size` bytes with: none past the highlight cap.
    pub(super) fn syntax_within_cap(
        &self,
        file_name: &str,
        text: &str,
        size: u64,
        limits: &SourceLimits,
    ) -> Option<&SyntaxReference> {
        (size <= limits.highlight_max_bytes).then(|| self.syntax_for(file_name, text)).flatten()
    }

    pub fn highlight(&self, file_name: &str, text: &str, limits: &SourceLimits) -> Highlighted {
        let syntax = self.syntax_within_cap(file_name, text, text.len() as u64, limits);
        self.highlight_as(syntax, text, limits)
    }

    /// [`Self::highlight`] in parts side by side, as a view of a file not yet highlighted does.
    pub fn highlight_soon(&self, file_name: &str, text: &str, limits: &SourceLimits) -> Highlighted {
        let syntax = self.syntax_within_cap(file_name, text, text.len() as u64, limits);
        self.highlight_as_soon(syntax, text, limits)
    }

    /// Highlights `text` with a grammar chosen beforehand (`None`: plain text), line after line on
    /// this thread (pre-highlighting, which keeps every core busy with files of its own).
    pub(super) fn highlight_as(
        &self,
        syntax: Option<&SyntaxReference>,
        text: &str,
        limits: &SourceLimits,
    ) -> Highlighted {
        let syntax = match self.grammar_or_plain(syntax, text, limits) {
            Ok(syntax) => syntax,
            Err(plain) => return plain,
        };
        let lines: Vec<&str> = LinesWithEndings::from(text).collect();
        let clock = Budget::start(limits);
        let run = self.run(&lines, 0, Start::of(syntax), limits, &clock, None);
        finish(syntax, vec![run], limits)
    }

    /// The same result as [`Self::highlight_as`], made sooner for a reader who waits for it: a
    /// long file is cut into parts that are highlighted side by side (`speculate`), and a part is
    /// kept only if the parser, run from the file's start, reaches that part's first line in exactly
    /// the state the part started from; otherwise the part is highlighted again from that state.
    pub(super) fn highlight_as_soon(
        &self,
        syntax: Option<&SyntaxReference>,
        text: &str,
        limits: &SourceLimits,
    ) -> Highlighted {
        let parts = std::thread::available_parallelism().map_or(1, |n| n.get()).min(PARTS_MAX);
        self.highlight_in_parts(syntax, text, limits, parts, PARALLEL_LINES_MIN).0
    }

    /// [`Self::highlight_as_soon`] with `parts` parts for a file of at least `lines_min` lines;
    /// also how many parts were highlighted ahead and kept.
    fn highlight_in_parts(
        &self,
        syntax: Option<&SyntaxReference>,
        text: &str,
        limits: &SourceLimits,
        parts: usize,
        lines_min: usize,
    ) -> (Highlighted, usize) {
        let syntax = match self.grammar_or_plain(syntax, text, limits) {
            Ok(syntax) => syntax,
            Err(plain) => return (plain, 0),
        };
        let lines: Vec<&str> = LinesWithEndings::from(text).collect();
        let guesses = if parts > 1 && lines.len() >= lines_min { speculate(&lines, parts) } else { Vec::new() };
        let clock = Budget::start(limits);
        let Some(first_guess) = guesses.first() else {
            let run = self.run(&lines, 0, Start::of(syntax), limits, &clock, None);
            return (finish(syntax, vec![run], limits), 0);
        };
        let end_of = |k: usize| guesses.get(k + 1).map_or(lines.len(), |next| next.at);
        let abandoned: Vec<AtomicBool> = guesses.iter().map(|_| AtomicBool::new(false)).collect();
        let (runs, kept) = std::thread::scope(|scope| {
            let ahead: Vec<_> = guesses
                .iter()
                .enumerate()
                .map(|(k, guess)| {
                    let (lines, clock, abandoned) = (&lines, &clock, &abandoned[k]);
                    let (guessed, receiver) = std::sync::mpsc::channel();
                    // A thread the system refuses is a guess never made: its sender is dropped
                    // with it, and the part is highlighted in order.
                    let part = std::thread::Builder::new()
                        .spawn_scoped(scope, move || {
                            let start = self.state_before(syntax, &lines[..guess.probe], limits)?;
                            guessed.send(Handed(start.clone())).ok()?;
                            let run =
                                self.run(&lines[guess.at..end_of(k)], guess.at, start, limits, clock, Some(abandoned));
                            Some(Handed(run))
                        })
                        .ok();
                    (receiver, part)
                })
                .collect();
            let mut runs = vec![self.run(&lines[..first_guess.at], 0, Start::of(syntax), limits, &clock, None)];
            let mut kept = 0;
            for (k, (guess, (receiver, part))) in guesses.iter().zip(ahead).enumerate() {
                let lines = &lines[guess.at..end_of(k)];
                let run = match runs.last().and_then(|run| run.end.clone()) {
                    // Highlighting stopped in an earlier part: the rest of the file is plain.
                    None => {
                        abandoned[k].store(true, Ordering::Relaxed);
                        Run::plain(lines)
                    }
                    // The guess is known once the lines before its probe are parsed: kept if right,
                    // else the part is stopped and highlighted again from where the parser is.
                    Some(reached) => match receiver.recv() {
                        Ok(Handed(guessed)) if guessed == reached => match part.map(|part| part.join()) {
                            Some(Ok(Some(Handed(run)))) => {
                                kept += 1;
                                run
                            }
                            _ => self.run(lines, guess.at, reached, limits, &clock, None),
                        },
                        _ => {
                            abandoned[k].store(true, Ordering::Relaxed);
                            self.run(lines, guess.at, reached, limits, &clock, None)
                        }
                    },
                };
                runs.push(run);
            }
            (runs, kept)
        });
        (finish(syntax, runs, limits), kept)
    }

    /// The grammar to highlight with, or the file as plain text (past the size cap, or none).
    fn grammar_or_plain<'a>(
        &self,
        syntax: Option<&'a SyntaxReference>,
        text: &str,
        limits: &SourceLimits,
    ) -> Result<&'a SyntaxReference, Highlighted> {
        let plain = |notice| Highlighted {
            lines: plain_lines(text),
            language: None,
            notice,
            timed_out: false,
            total: None,
            packed: Default::default(),
        };
        if text.len() as u64 > limits.highlight_max_bytes {
            return Err(plain(Some(format!(
                "This file is larger than {} KiB, so it is shown as plain text without highlighting.",
                limits.highlight_max_bytes / 1024
            ))));
        }
        syntax.ok_or_else(|| plain(None))
    }

    /// Highlights `lines` (the first is line `first`, counted from 0) from `start`; once the budget
    /// is spent or the grammar fails, the rest is plain. A part highlighted ahead stops early (its
    /// result unused) once `abandoned` is set.
    fn run(
        &self,
        lines: &[&str],
        first: usize,
        start: Start,
        limits: &SourceLimits,
        clock: &Budget,
        abandoned: Option<&AtomicBool>,
    ) -> Run {
        let Start { mut state, mut stack } = start;
        let mut cache = ClassCache(Default::default());
        let mut run = Run {
            lines: Vec::with_capacity(lines.len()),
            long_lines: 0,
            stopped_at: None,
            timed_out: false,
            end: None,
        };
        for (offset, line) in lines.iter().enumerate() {
            let number = first + offset;
            if abandoned.is_some_and(|abandoned| abandoned.load(Ordering::Relaxed)) {
                break;
            }
            if run.stopped_at.is_some() {
                run.lines.push(cut_line(strip_newline(line)).0);
                continue;
            }
            if line.len() > limits.line_max_bytes {
                run.long_lines += 1;
                run.lines.push(cut_line(strip_newline(line)).0);
                continue;
            }
            match highlight_line(line, &mut state, &mut stack, &self.syntaxes, &mut cache) {
                Some(html) => run.lines.push(html),
                None => {
                    // The grammar failed on this line: show the rest plainly rather than guess.
                    run.stopped_at = Some(number + 1);
                    run.lines.push(cut_line(strip_newline(line)).0);
                }
            }
            if clock.spent() {
                run.stopped_at = Some(number + 2);
                run.timed_out = true;
            }
        }
        if run.stopped_at.is_none() {
            run.end = Some(Start { state, stack });
        }
        run
    }

    /// The parser's state after `lines`, parsed as [`Self::run`] would (long lines skipped), without
    /// making any markup; `None` if the grammar fails on one of them.
    fn state_before(&self, syntax: &SyntaxReference, lines: &[&str], limits: &SourceLimits) -> Option<Start> {
        let Start { mut state, mut stack } = Start::of(syntax);
        for line in lines.iter().filter(|line| line.len() <= limits.line_max_bytes) {
            for (_, op) in state.parse_line(line, &self.syntaxes).ok()? {
                stack.apply(&op).ok()?;
            }
        }
        Some(Start { state, stack })
    }
}

/// At most this many parts of one file are highlighted side by side.
const PARTS_MAX: usize = 4;

/// A file shorter than this is highlighted in one part (it takes well under 100 ms).
const PARALLEL_LINES_MIN: usize = 2_000;

/// Where the parser is between two lines: its context stack, and the scopes open for the markup.
#[derive(Clone, PartialEq)]
struct Start {
    state: ParseState,
    stack: ScopeStack,
}

impl Start {
    fn of(syntax: &SyntaxReference) -> Start {
        Start { state: ParseState::new(syntax), stack: ScopeStack::new() }
    }
}

/// A part's guessed start or its result, handed from the thread that made it to the one that joins
/// the parts.
///
/// `ParseState` is not `Send` only because it may hold a capture for a back-reference, whose
/// Oniguruma region is a heap block owned by that value alone and freed by its `Drop` on any
/// thread. The value moves whole to the joining thread and is never shared.
struct Handed<T>(T);

// SAFETY: see above: the one non-`Send` part is owned, thread-agnostic heap memory, moved, not shared.
unsafe impl Send for Handed<Start> {}
// SAFETY: as above; a run holds at most one `Start`.
unsafe impl Send for Handed<Run> {}

/// The time budget of one file, shared by its parts.
struct Budget {
    started: Instant,
    budget: Duration,
}

impl Budget {
    fn start(limits: &SourceLimits) -> Budget {
        Budget { started: Instant::now(), budget: Duration::from_millis(limits.highlight_budget_ms) }
    }

    fn spent(&self) -> bool {
        self.started.elapsed() > self.budget
    }
}

/// Some consecutive lines of a file, highlighted.
struct Run {
    lines: Vec<String>,
    long_lines: usize,
    /// The line (from 1) from which the rest of the file is plain, if highlighting stopped.
    stopped_at: Option<usize>,
    timed_out: bool,
    /// Where the parser was after the last line, unless highlighting stopped.
    end: Option<Start>,
}

impl Run {
    /// Lines after highlighting stopped in an earlier part.
    fn plain(lines: &[&str]) -> Run {
        let lines = lines.iter().map(|line| cut_line(strip_newline(line)).0).collect();
        Run { lines, long_lines: 0, stopped_at: None, timed_out: false, end: None }
    }
}

/// The whole file from its runs, in order, with the notices they call for.
fn finish(syntax: &SyntaxReference, runs: Vec<Run>, limits: &SourceLimits) -> Highlighted {
    let long_lines: usize = runs.iter().map(|run| run.long_lines).sum();
    let stopped_at = runs.iter().find_map(|run| run.stopped_at);
    let timed_out = runs.iter().any(|run| run.timed_out);
    let mut notices = Vec::new();
    if long_lines > 0 {
        notices.push(format!(
            "{long_lines} line(s) longer than {} bytes are shown without highlighting.",
            limits.line_max_bytes
        ));
    }
    if let Some(line) = stopped_at {
        notices.push(format!("Highlighting stopped at line {line}; the rest is plain text."));
    }
    Highlighted {
        lines: runs.into_iter().flat_map(|run| run.lines).collect(),
        language: Some(syntax.name.clone()),
        notice: (!notices.is_empty()).then(|| notices.join(" ")),
        timed_out,
        total: None,
        packed: Default::default(),
    }
}

/// Where a part highlighted ahead begins (`at`, a line index), and the earlier line (`probe`) whose
/// state it starts from.
struct Guess {
    at: usize,
    probe: usize,
}

/// Where to cut a file into `parts` parts, each begun in a state guessed cheaply. A part begins at
/// a line that follows a blank line, near an even share of the file. Its guess is the state before
/// the first such line of the same indentation in the same block (after the last line before it
/// that is indented less): between two items of one block, a grammar's state is usually the same.
/// The guess costs parsing the lines before that first line, so cuts with an early one are
/// preferred. No cut is made where no line fits; a wrong guess costs time, never correctness (see
/// `highlight_in_parts`).
fn speculate(lines: &[&str], parts: usize) -> Vec<Guess> {
    let indent = |line: &str| line.len() - line.trim_start_matches([' ', '\t']).len();
    let blank = |line: &str| line.trim().is_empty();
    // After a blank line, and not blank: where a part or a guess may start.
    let starts = |i: usize| i > 0 && blank(lines[i - 1]) && !blank(lines[i]);
    // The block each line is in: the last line before it indented less (a stack of open blocks).
    let mut opener = vec![None; lines.len()];
    let mut open: Vec<(usize, usize)> = Vec::new();
    for (i, line) in lines.iter().enumerate().filter(|(_, line)| !blank(line)) {
        let depth = indent(line);
        while open.last().is_some_and(|&(d, _)| d >= depth) {
            open.pop();
        }
        opener[i] = open.last().map(|&(_, at)| at);
        open.push((depth, i));
    }
    let share = lines.len() / parts;
    if share < 2 {
        return Vec::new();
    }
    // The first line of a block that may start a guess, per block (None: the file's top level).
    let mut first_in_block = std::collections::HashMap::new();
    for i in (1..lines.len()).filter(|&i| starts(i)) {
        first_in_block.entry((opener[i], indent(lines[i]))).or_insert(i);
    }
    let mut guesses: Vec<Guess> = Vec::new();
    for k in 1..parts {
        let target = k * share;
        let window = (target - share / 2).max(1)..(target + share / 2).min(lines.len());
        let best = window
            .filter(|&i| starts(i))
            .filter_map(|at| {
                let probe = *first_in_block.get(&(opener[at], indent(lines[at])))?;
                (probe < at).then_some(Guess { at, probe })
            })
            .min_by_key(|guess| guess.probe + guess.at.abs_diff(target));
        if let Some(guess) = best.filter(|guess| guesses.last().is_none_or(|last| last.at < guess.at)) {
            guesses.push(guess);
        }
    }
    guesses
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
        assert!(
            lines[guesses[0].at].contains("not_code"),
            "the cut falls inside the raw string: {}",
            lines[guesses[0].at]
        );
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
            assert!(whole.notice.unwrap().contains(if budget == 0 {
                "stopped at line 2;"
            } else {
                "1 line(s) longer"
            }));
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
