//! Highlighting throughput per language: Clearroom's highlighter (parse + short-class markup, the
//! per-line time budget checks) against raw syntect (the same grammar parsing each line, no markup),
//! on the largest file of each language in the corpus under the highlight cap, one core.
//!
//!     bash ../shared/corpus/make-corpus.sh /tmp/corpus
//!     cargo bench -p server --bench highlight -- /tmp/corpus/corpus.git
//!
//! Prints lines/s for each and the ratio (ours / raw); it asserts nothing about time.

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
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let name = entry.name().unwrap_or("");
        if let Some(ext) = EXTENSIONS.iter().find(|e| name.ends_with(&format!(".{e}"))) {
            let size = repo.odb().unwrap().read_header(entry.id()).map(|(s, _)| s).unwrap_or(0);
            if size as u64 <= limits.highlight_max_bytes && largest.get(ext).is_none_or(|(s, _, _)| size > *s) {
                largest.insert(ext, (size, format!("{dir}{name}"), entry.id()));
            }
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
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
}
