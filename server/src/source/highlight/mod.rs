//! Syntax highlighting to a few short CSS classes (`hk`, `hs`, …), one self-contained HTML fragment per line, with
//! guards: no highlighting past a size cap, for over-long lines, or after a time budget.

use crate::config::SourceLimits;
use app::html::escape;
use app::model::FileNotice;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use syntect::parsing::{ParseState, ScopeStack, SyntaxReference, SyntaxSet};
use syntect::util::LinesWithEndings;

mod classes;
mod grammars;

use classes::{highlight_line, ClassCache};

mod parts;

use parts::speculate;

/// The result for one file.
#[derive(Clone, Debug)]
pub struct Highlighted {
    pub lines: Vec<String>,
    pub language: Option<String>,
    pub notice: Option<FileNotice>,
    /// Whether the time budget cut highlighting short (such a result is not kept on disk).
    pub timed_out: bool,
    /// For a window of a large file's lines: how many lines the whole file has.
    pub total: Option<u32>,
    /// The lines as code rows, deflated once for pages sent with gzip (`rows.rs`), made on first use.
    pub packed: std::sync::OnceLock<std::sync::Arc<super::rows::PackedRows>>,
    /// The definitions found in the same parse, when they were looked for (pre-highlighting).
    pub definitions: Option<Vec<super::symbols::Defined>>,
}

pub struct Highlighter {
    pub(super) syntaxes: SyntaxSet,
}

impl Default for Highlighter {
    fn default() -> Self {
        Highlighter { syntaxes: grammars::syntaxes() }
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
        self.one_pass(syntax, text, limits, None)
    }

    /// [`Self::highlight_as`], finding the file's definitions in the same parse (a pin's
    /// pre-highlighting, which is also how its definitions are found). A plain file has none.
    pub(crate) fn highlight_finding_definitions(
        &self,
        syntax: Option<&SyntaxReference>,
        text: &str,
        limits: &SourceLimits,
    ) -> Highlighted {
        let mut finder = super::symbols::Finder::default();
        let highlighted = self.one_pass(syntax, text, limits, Some(&mut finder));
        Highlighted { definitions: Some(finder.found), ..highlighted }
    }

    /// One pass from the file's start on this thread, offering each token to `finder` if any.
    fn one_pass(
        &self,
        syntax: Option<&SyntaxReference>,
        text: &str,
        limits: &SourceLimits,
        finder: Option<&mut super::symbols::Finder>,
    ) -> Highlighted {
        let syntax = match self.grammar_or_plain(syntax, text, limits) {
            Ok(syntax) => syntax,
            Err(plain) => return *plain,
        };
        let lines: Vec<&str> = LinesWithEndings::from(text).collect();
        let clock = Budget::start(limits);
        let run = self.run_finding(&lines, 0, Start::of(syntax), limits, &clock, None, finder);
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
            Err(plain) => return (*plain, 0),
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
    ) -> Result<&'a SyntaxReference, Box<Highlighted>> {
        let plain = |notice| Highlighted {
            lines: plain_lines(text),
            language: None,
            notice,
            timed_out: false,
            total: None,
            packed: Default::default(),
            definitions: None,
        };
        if text.len() as u64 > limits.highlight_max_bytes {
            return Err(Box::new(plain(Some(FileNotice::PlainWhole {
                highlight_max_bytes: limits.highlight_max_bytes,
            }))));
        }
        syntax.ok_or_else(|| Box::new(plain(None)))
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
        self.run_finding(lines, first, start, limits, clock, abandoned, None)
    }

    /// [`Self::run`], offering each token to `finder` when there is one.
    #[allow(clippy::too_many_arguments)]
    fn run_finding(
        &self,
        lines: &[&str],
        first: usize,
        start: Start,
        limits: &SourceLimits,
        clock: &Budget,
        abandoned: Option<&AtomicBool>,
        mut finder: Option<&mut super::symbols::Finder>,
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
            let finding = finder.as_deref_mut().map(|finder| (finder, number as u32 + 1));
            match highlight_line(line, &mut state, &mut stack, &self.syntaxes, &mut cache, finding) {
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
    let notice = (long_lines > 0 || stopped_at.is_some()).then(|| FileNotice::PartlyPlain {
        long_lines: u32::try_from(long_lines).unwrap_or(u32::MAX),
        line_max_bytes: limits.line_max_bytes as u64,
        stopped_at: stopped_at.map(|line| u32::try_from(line).unwrap_or(u32::MAX)),
    });
    Highlighted {
        lines: runs.into_iter().flat_map(|run| run.lines).collect(),
        language: Some(syntax.name.clone()),
        notice,
        timed_out,
        total: None,
        packed: Default::default(),
        definitions: None,
    }
}

#[cfg(test)]
mod tests;
