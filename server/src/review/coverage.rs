//! Coverage: what of a pin each reviewer has seen and vouched for, in files and lines.
//!
//! - **shown**: the files (and the lines of them) the audit log says were shown to the reviewer at
//!   this pin — the objects of their view events whose blob is the file's blob at the pin;
//! - **reviewed**: the files the reviewer marked reviewed at this pin (the latest mark counts);
//! - **carried**: the files not marked here whose blob the reviewer marked reviewed at an earlier
//!   pin of the same repository (incremental review of the next release).
//!
//! A file's state is the best of these: reviewed, then carried, then shown, then none. Everything
//! here is a pure function of those inputs, so the figures are checked against hand-computed ones.

use app::model::{Amount, CompiledCoverage, FileCoverage, FileState, PinId, ReviewerCoverage};
use std::collections::{BTreeMap, HashMap, HashSet};

/// One file of the pin's index.
#[derive(Clone, Debug)]
pub struct IndexedFile {
    pub path: String,
    pub blob_id: String,
    pub lines: u64,
    /// Where its text is in the pin's search pack, if it has one there.
    pub text: Option<(u64, u64)>,
}

/// What of a file was shown: all of it, or line ranges (1-based, inclusive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Shown {
    pub whole: bool,
    pub ranges: Vec<(u64, u64)>,
}

impl Shown {
    pub fn add(&mut self, lines: Option<(u64, u64)>) {
        match lines {
            None => self.whole = true,
            Some(range) => self.ranges.push(range),
        }
    }

    /// How many of a file's `total` lines this covers (ranges merged, clipped to the file).
    pub fn lines(&self, total: u64) -> u64 {
        if self.whole {
            return total;
        }
        let mut ranges: Vec<(u64, u64)> =
            self.ranges.iter().map(|&(a, b)| (a.max(1), b.min(total))).filter(|(a, b)| a <= b).collect();
        ranges.sort_unstable();
        let mut count = 0;
        let mut reached = 0;
        for (first, last) in ranges {
            let first = first.max(reached + 1);
            if last >= first {
                count += last - first + 1;
                reached = last;
            }
        }
        count
    }

    /// Whether this shows all of a region: lines `first..=last` (windows of lines together
    /// covering them, or the whole file), or, for `None`, the whole file.
    pub fn covers(&self, region: Option<(u64, u64)>) -> bool {
        if self.whole {
            return true;
        }
        let Some((first, last)) = region else { return false };
        let mut ranges = self.ranges.clone();
        ranges.sort_unstable();
        let mut next = first;
        for (a, b) in ranges {
            if a > next {
                break;
            }
            next = next.max(b.saturating_add(1));
            if next > last {
                return true;
            }
        }
        false
    }

    fn merge(&mut self, other: &Shown) {
        self.whole |= other.whole;
        self.ranges.extend_from_slice(&other.ranges);
    }
}

/// One reviewer's inputs.
#[derive(Clone, Debug, Default)]
pub struct ReviewerInputs {
    pub username: String,
    /// Path → what was shown of the file at this pin.
    pub shown: HashMap<String, Shown>,
    /// Paths marked reviewed at this pin.
    pub reviewed: HashSet<String>,
    /// Blob → the earlier pin where the reviewer marked a file with that blob reviewed.
    pub carried: HashMap<String, PinId>,
}

pub fn total(files: &[IndexedFile]) -> Amount {
    Amount { files: files.len() as u64, lines: files.iter().map(|f| f.lines).sum() }
}

fn add(amount: &mut Amount, file: &IndexedFile, lines: u64) {
    amount.files += 1;
    amount.lines += lines.min(file.lines);
}

/// One reviewer's coverage: the amounts, and each file's state (in the order of the files).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coverage {
    pub username: String,
    pub shown: Amount,
    pub reviewed: Amount,
    pub carried: Amount,
    /// Per file of the index: its state, and for a carried one the pin it was reviewed at.
    pub states: Vec<(FileCoverage, Option<PinId>)>,
    /// Per file of the index: how many of its lines were shown, if any event showed it.
    pub shown_lines: Vec<Option<u64>>,
    /// Per artifact with a compiled-code map (`compiled_coverage`).
    pub compiled: Vec<CompiledCoverage>,
}

impl Coverage {
    /// As the API and the UI show it; files in state `none` are left out unless `all`.
    pub fn to_wire(&self, files: &[IndexedFile], all: bool) -> ReviewerCoverage {
        ReviewerCoverage {
            username: self.username.clone(),
            shown: self.shown,
            reviewed: self.reviewed,
            carried: self.carried,
            files: files
                .iter()
                .zip(&self.states)
                .filter(|(_, (state, _))| all || *state != FileCoverage::None)
                .map(|(file, (state, carried_from))| FileState {
                    path: file.path.clone(),
                    state: *state,
                    carried_from: *carried_from,
                })
                .collect(),
            compiled: self.compiled.clone(),
        }
    }
}

/// One reviewer's coverage.
pub fn reviewer_coverage(files: &[IndexedFile], inputs: &ReviewerInputs) -> Coverage {
    let mut coverage = Coverage {
        username: inputs.username.clone(),
        shown: Amount::default(),
        reviewed: Amount::default(),
        carried: Amount::default(),
        states: Vec::with_capacity(files.len()),
        shown_lines: Vec::with_capacity(files.len()),
        compiled: Vec::new(),
    };
    for file in files {
        let shown = inputs.shown.get(&file.path);
        let lines = shown.map(|shown| shown.lines(file.lines));
        if let Some(lines) = lines {
            add(&mut coverage.shown, file, lines);
        }
        coverage.shown_lines.push(lines);
        let state = if inputs.reviewed.contains(&file.path) {
            add(&mut coverage.reviewed, file, file.lines);
            (FileCoverage::Reviewed, None)
        } else if let Some(pin) = inputs.carried.get(&file.blob_id) {
            add(&mut coverage.carried, file, file.lines);
            (FileCoverage::Carried, Some(*pin))
        } else if shown.is_some() {
            (FileCoverage::Shown, None)
        } else {
            (FileCoverage::None, None)
        };
        coverage.states.push(state);
    }
    coverage
}

/// Everyone together: a file is reviewed if anyone marked it, and so on; shown lines are the union.
pub fn combined_coverage(files: &[IndexedFile], reviewers: &[ReviewerInputs]) -> Coverage {
    reviewer_coverage(files, &combined_inputs(reviewers))
}

/// Every reviewer's inputs as one reviewer's ("everyone").
pub fn combined_inputs(reviewers: &[ReviewerInputs]) -> ReviewerInputs {
    let mut together = ReviewerInputs { username: "everyone".into(), ..Default::default() };
    for inputs in reviewers {
        for (path, shown) in &inputs.shown {
            together.shown.entry(path.clone()).or_default().merge(shown);
        }
        together.reviewed.extend(inputs.reviewed.iter().cloned());
        for (blob, pin) in &inputs.carried {
            together.carried.entry(blob.clone()).or_insert(*pin);
        }
    }
    together
}

/// One artifact's compiled lines (path → sorted, merged, inclusive ranges) against a reviewer's
/// inputs: every compiled line, those shown (the ranges' intersection with what was shown), and
/// those in files reviewed at this pin or carried. Files not in the index count for nothing.
pub fn compiled_coverage(
    files: &[IndexedFile],
    compiled: &HashMap<String, Vec<[u32; 2]>>,
    inputs: &ReviewerInputs,
) -> (u64, u64, u64) {
    let (mut lines, mut shown, mut reviewed) = (0, 0, 0);
    for file in files {
        let Some(ranges) = compiled.get(&file.path) else { continue };
        let count = app::model::range_lines(ranges);
        lines += count;
        if inputs.reviewed.contains(&file.path) || inputs.carried.contains_key(&file.blob_id) {
            reviewed += count;
        }
        shown += match inputs.shown.get(&file.path) {
            None => 0,
            Some(seen) if seen.whole => count,
            Some(seen) => intersection(ranges, &seen.ranges),
        };
    }
    (lines, shown, reviewed)
}

/// Lines in both the compiled ranges (sorted, disjoint) and the shown ones (any order, overlapping).
fn intersection(compiled: &[[u32; 2]], shown: &[(u64, u64)]) -> u64 {
    let mut merged: Vec<(u64, u64)> = shown.iter().copied().filter(|(a, b)| a <= b).collect();
    merged.sort_unstable();
    let mut disjoint: Vec<(u64, u64)> = Vec::with_capacity(merged.len());
    for (first, last) in merged {
        match disjoint.last_mut() {
            Some((_, end)) if first <= *end + 1 => *end = (*end).max(last),
            _ => disjoint.push((first, last)),
        }
    }
    let mut count = 0;
    let mut j = 0;
    for [first, last] in compiled {
        let (first, last) = (u64::from(*first), u64::from(*last));
        while j < disjoint.len() && disjoint[j].1 < first {
            j += 1;
        }
        let mut k = j;
        while k < disjoint.len() && disjoint[k].0 <= last {
            count += disjoint[k].1.min(last) + 1 - disjoint[k].0.max(first);
            k += 1;
        }
    }
    count
}

/// Per directory (every ancestor of every file, "" for the root): total, shown and reviewed
/// (reviewed or carried) amounts, each by the same rule as the reviewer's figures (shown: the
/// lines shown; reviewed: whole files), so the root's row says what the figures say.
pub fn by_directory(files: &[IndexedFile], coverage: &Coverage) -> BTreeMap<String, [Amount; 3]> {
    let mut directories: BTreeMap<String, [Amount; 3]> = BTreeMap::new();
    for ((file, (state, _)), shown) in files.iter().zip(&coverage.states).zip(&coverage.shown_lines) {
        let mut dir = file.path.as_str();
        loop {
            dir = dir.rsplit_once('/').map(|(parent, _)| parent).unwrap_or("");
            let entry = directories.entry(dir.to_string()).or_default();
            add(&mut entry[0], file, file.lines);
            if let Some(lines) = shown {
                add(&mut entry[1], file, *lines);
            }
            if matches!(state, FileCoverage::Reviewed | FileCoverage::Carried) {
                add(&mut entry[2], file, file.lines);
            }
            if dir.is_empty() {
                break;
            }
        }
    }
    directories
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, blob: &str, lines: u64) -> IndexedFile {
        IndexedFile { path: path.into(), blob_id: blob.into(), lines, text: None }
    }

    fn files() -> Vec<IndexedFile> {
        vec![file("a.rs", "A", 100), file("src/b.rs", "B", 50), file("src/c.rs", "C", 10), file("logo.png", "P", 0)]
    }

    #[test]
    fn a_region_is_shown_when_windows_cover_all_of_it() {
        let mut shown = Shown::default();
        assert!(!shown.covers(Some((1, 1))) && !shown.covers(None));
        shown.add(Some((10, 20)));
        shown.add(Some((1, 9)));
        assert!(shown.covers(Some((1, 20))) && shown.covers(Some((5, 5))));
        assert!(!shown.covers(Some((15, 21))) && !shown.covers(None));
        shown.add(Some((30, 40)));
        assert!(!shown.covers(Some((20, 30))));
        shown.add(None);
        assert!(shown.covers(Some((100, 200))) && shown.covers(None));
    }

    #[test]
    fn compiled_lines_count_as_shown_where_they_were_shown_and_reviewed_with_their_file() {
        let compiled: HashMap<String, Vec<[u32; 2]>> = [
            ("a.rs".to_string(), vec![[1, 10], [20, 30]]),
            ("src/b.rs".to_string(), vec![[5, 5]]),
            ("gone.rs".to_string(), vec![[1, 9]]),
        ]
        .into();
        let mut inputs = ReviewerInputs::default();
        let mut seen = Shown::default();
        seen.add(Some((8, 12)));
        seen.add(Some((9, 25)));
        seen.add(Some((29, 40)));
        inputs.shown.insert("a.rs".into(), seen);
        inputs.carried.insert("B".into(), PinId::from_stored(1));
        // a.rs: 21 compiled lines, 8..=10, 20..=25 and 29..=30 shown (11); b.rs carried (1 line).
        assert_eq!(compiled_coverage(&files(), &compiled, &inputs), (22, 11, 1));
        inputs.reviewed.insert("a.rs".into());
        inputs.shown.insert("src/b.rs".into(), Shown { whole: true, ranges: vec![] });
        assert_eq!(compiled_coverage(&files(), &compiled, &inputs), (22, 12, 22));
        assert_eq!(intersection(&[[1, 3], [5, 9]], &[(2, 6), (9, 100), (0, 0)]), 2 + 2 + 1);
    }

    #[test]
    fn shown_ranges_are_merged_and_clipped() {
        let mut shown = Shown::default();
        shown.add(Some((1, 10)));
        shown.add(Some((5, 20)));
        shown.add(Some((40, 200)));
        assert_eq!(shown.lines(50), 20 + 11);
        shown.add(None);
        assert_eq!(shown.lines(50), 50);
    }

    #[test]
    fn each_file_counts_at_its_best_state() {
        let mut inputs = ReviewerInputs { username: "rev".into(), ..Default::default() };
        inputs.shown.insert("a.rs".into(), Shown { whole: false, ranges: vec![(1, 30)] });
        inputs.shown.insert("src/b.rs".into(), Shown { whole: true, ranges: vec![] });
        inputs.reviewed.insert("src/b.rs".into());
        inputs.carried.insert("C".into(), PinId::from_stored(1));
        let coverage = reviewer_coverage(&files(), &inputs);
        assert_eq!(coverage.shown, Amount { files: 2, lines: 30 + 50 });
        assert_eq!(coverage.reviewed, Amount { files: 1, lines: 50 });
        assert_eq!(coverage.carried, Amount { files: 1, lines: 10 });
        let states: Vec<_> = coverage.states.iter().map(|(state, _)| *state).collect();
        assert_eq!(states, [FileCoverage::Shown, FileCoverage::Reviewed, FileCoverage::Carried, FileCoverage::None]);
        assert_eq!(coverage.states[2].1, Some(PinId::from_stored(1)));
        let wire = coverage.to_wire(&files(), false);
        assert_eq!(wire.files.len(), 3, "a file in state none is left out");
        assert_eq!(total(&files()), Amount { files: 4, lines: 160 });
    }

    #[test]
    fn everyone_together_takes_the_union() {
        let mut first = ReviewerInputs { username: "a".into(), ..Default::default() };
        first.shown.insert("a.rs".into(), Shown { whole: false, ranges: vec![(1, 30)] });
        let mut second = ReviewerInputs { username: "b".into(), ..Default::default() };
        second.shown.insert("a.rs".into(), Shown { whole: false, ranges: vec![(21, 60)] });
        second.reviewed.insert("src/c.rs".into());
        let together = combined_coverage(&files(), &[first, second]);
        assert_eq!(together.shown, Amount { files: 1, lines: 60 });
        assert_eq!(together.reviewed, Amount { files: 1, lines: 10 });
        let directories = by_directory(&files(), &together);
        assert_eq!(directories[""][0], Amount { files: 4, lines: 160 });
        assert_eq!(directories[""][1], together.shown, "the root's row says what the figures say");
        assert_eq!(directories[""][1], Amount { files: 1, lines: 60 }, "the lines shown, not whole files");
        assert_eq!(directories["src"][1], Amount::default(), "reviewed, never shown: not counted as shown");
        assert_eq!(directories["src"][2], Amount { files: 1, lines: 10 });
    }
}
