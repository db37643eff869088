//! Where a long file is cut to be highlighted in parts side by side, and the state each part is
//! guessed to begin in (`Highlighter::highlight_in_parts` checks every guess).

/// Where a part highlighted ahead begins (`at`, a line index), and the earlier line (`probe`) whose
/// state it starts from.
pub(super) struct Guess {
    pub at: usize,
    pub probe: usize,
}

/// Where to cut a file into `parts` parts, each begun in a state guessed cheaply. A part begins at
/// a line that follows a blank line, near an even share of the file. Its guess is the state before
/// the first such line of the same indentation in the same block (after the last line before it
/// that is indented less): between two items of one block, a grammar's state is usually the same.
/// The guess costs parsing the lines before that first line, so cuts with an early one are
/// preferred. No cut is made where no line fits; a wrong guess costs time, never correctness (see
/// `highlight_in_parts`).
pub(super) fn speculate(lines: &[&str], parts: usize) -> Vec<Guess> {
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
