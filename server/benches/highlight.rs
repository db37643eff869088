//! Highlighting throughput per language: Clearroom's highlighter (parse + short-class markup, the
//! per-line time budget checks) against raw syntect (the same grammar parsing each line, no markup),
//! on the largest file of each language in the corpus under the highlight cap, one core.
//!
//!     bash ../shared/corpus/make-corpus.sh /tmp/corpus
//!     cargo bench -p server --bench highlight -- /tmp/corpus/corpus.git
//!
//! Prints lines/s for each and the ratio (ours / raw); it asserts nothing about time.
//!
//! Then, for every file of 2,000 lines or more (as `--parts` on the command line, all of them;
//! else the largest of each language), the time to highlight it in one pass and in parts side by
//! side (as a view of a file not yet highlighted does), and whether the two results are the same;
//! it stops at the first file where they differ.

use clearroom::config::SourceLimits;
use clearroom::source::highlight::Highlighter;
use std::time::Instant;
use syntect::parsing::{ParseState, ScopeStack, SyntaxSet};
use syntect::util::LinesWithEndings;

const EXTENSIONS: [&str; 8] = ["rs", "c", "h", "py", "js", "go", "md", "toml"];

fn main() {
    let repository =
        std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_else(|| "/tmp/corpus/corpus.git".into());
    let repo = git2::Repository::open_bare(&repository).expect("open the corpus");
    let tree = repo.revparse_single("HEAD").unwrap().peel_to_tree().unwrap();
    let limits = SourceLimits { highlight_budget_ms: 600_000, ..SourceLimits::default() };
    // The largest file of each extension within the cap.
    let mut largest: std::collections::BTreeMap<&str, (usize, String, git2::Oid)> = Default::default();
    let mut every_file = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let name = entry.name().unwrap_or("");
        if entry.kind() == Some(git2::ObjectType::Blob) {
            every_file.push((format!("{dir}{name}"), entry.id()));
        }
        if let Some(ext) = EXTENSIONS.iter().find(|e| name.ends_with(&format!(".{e}"))) {
            let size = repo.odb().unwrap().read_header(entry.id()).map(|(s, _)| s).unwrap_or(0);
            if size as u64 <= limits.highlight_max_bytes && largest.get(ext).is_none_or(|(s, _, _)| size > *s) {
                largest.insert(ext, (size, format!("{dir}{name}"), entry.id()));
            }
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    let largest_paths: Vec<(String, git2::Oid)> = largest.values().map(|(_, path, id)| (path.clone(), *id)).collect();
    let ours = Highlighter::default();
    let syntaxes = SyntaxSet::load_defaults_newlines();
    println!("{:<6} {:>8} {:>12} {:>12} {:>6}  file", "lang", "lines", "ours l/s", "raw l/s", "ratio");
    let (mut total_ours, mut total_raw, mut total_lines) = (0f64, 0f64, 0usize);
    for (ext, (_, path, id)) in largest {
        let blob = repo.find_blob(id).unwrap();
        let text = String::from_utf8_lossy(blob.content()).into_owned();
        let lines = text.lines().count();
        let syntax = syntaxes.find_syntax_by_extension(ext).unwrap_or_else(|| syntaxes.find_syntax_plain_text());
        let mut best_ours = f64::MAX;
        let mut best_raw = f64::MAX;
        for _ in 0..3 {
            let started = Instant::now();
            let out = ours.highlight(&path, &text, &limits);
            std::hint::black_box(out);
            best_ours = best_ours.min(started.elapsed().as_secs_f64());
            let started = Instant::now();
            let mut state = ParseState::new(syntax);
            let mut stack = ScopeStack::new();
            for line in LinesWithEndings::from(&text) {
                for (_, op) in state.parse_line(line, &syntaxes).unwrap() {
                    stack.apply(&op).unwrap();
                }
            }
            best_raw = best_raw.min(started.elapsed().as_secs_f64());
        }
        total_ours += best_ours;
        total_raw += best_raw;
        total_lines += lines;
        println!(
            "{ext:<6} {lines:>8} {:>12.0} {:>12.0} {:>6.2}  {path}",
            lines as f64 / best_ours,
            lines as f64 / best_raw,
            best_raw / best_ours
        );
    }
    println!(
        "all    {total_lines:>8} {:>12.0} {:>12.0} {:>6.2}",
        total_lines as f64 / total_ours,
        total_lines as f64 / total_raw,
        total_raw / total_ours
    );

    let every = std::env::args().any(|a| a == "--parts");
    parts_against_one_pass(&repo, &ours, &limits, if every { every_file } else { largest_paths });
}

/// One pass against parts side by side, on each file of 2,000 lines or more among `files`.
fn parts_against_one_pass(
    repo: &git2::Repository,
    ours: &Highlighter,
    limits: &SourceLimits,
    files: Vec<(String, git2::Oid)>,
) {
    println!();
    println!("{:>8} {:>10} {:>10} {:>6}  file", "lines", "one pass", "parts", "gain");
    let (mut one_total, mut parts_total, mut count) = (0f64, 0f64, 0usize);
    for (path, id) in files {
        let Ok(blob) = repo.find_blob(id) else { continue };
        if blob.is_binary() || blob.size() as u64 > limits.highlight_max_bytes {
            continue;
        }
        let text = String::from_utf8_lossy(blob.content()).into_owned();
        if text.lines().count() < 2_000 {
            continue;
        }
        let started = Instant::now();
        let one = ours.highlight(&path, &text, limits);
        let one_time = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let parts = ours.highlight_soon(&path, &text, limits);
        let parts_time = started.elapsed().as_secs_f64();
        assert!(
            one.lines == parts.lines && one.notice == parts.notice,
            "{path}: highlighted in parts, it differs from one pass"
        );
        (one_total, parts_total, count) = (one_total + one_time, parts_total + parts_time, count + 1);
        println!(
            "{:>8} {:>8.0}ms {:>8.0}ms {:>5.2}x  {path}",
            one.lines.len(),
            one_time * 1000.0,
            parts_time * 1000.0,
            one_time / parts_time
        );
    }
    println!(
        "{count} files, the same in parts and in one pass: {one_total:.1} s against {parts_total:.1} s, {:.2}x",
        one_total / parts_total
    );
}
