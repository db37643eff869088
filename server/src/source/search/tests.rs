//! Search against `git grep` itself: a repository the test writes, searched from its blobs and
//! from its pack, every page walked by cursor; the matching lines and the totals must be git's.

use super::*;
use crate::audit::Scope;
use crate::config::SourceLimits;
use app::model::PinId;
use std::collections::BTreeMap;

/// 300 files with `needle` on some of their lines (some twice), long lines with a match past byte
/// 500, 2,000 and 100,000, a file with 3 matches on each of 60 lines, braces across lines.
fn fixture() -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for i in 0..300 {
        let mut text = String::new();
        for line in 0..40 {
            let hit = (line * 7 + i) % 11 == 0;
            let twice = hit && line % 3 == 0;
            text.push_str(&match (hit, twice) {
                (true, true) => format!("let needle = needle_{i} + {line};\n"),
                (true, false) => format!("    return needle; // {i}\n"),
                _ => format!("    other line {line} Needle-free\n"),
            });
        }
        // Directories and names whose byte order differs from a naive one.
        let dir = ["a", "a-b", "a.b", "a/b", "z"][i % 5];
        files.push((format!("{dir}/f{i:03}.txt"), text.into_bytes()));
    }
    for at in [500usize, 2_000, 100_000] {
        let mut line = "x".repeat(at);
        line.push_str("needle");
        line.push_str(&"y".repeat(3_000));
        files.push((format!("long/at-{at}.txt"), format!("first\n{line}\nlast needle\n").into_bytes()));
    }
    files.push(("many.txt".into(), "needle needle needle\nnone\n".repeat(60).into_bytes()));
    files.push(("braces.rs".into(), b"fn a() {\n}\nfn b() { }\nfn c() {\n\n}\nfn d() {  }\n".to_vec()));
    files
}

struct Fixture {
    _dir: tempfile::TempDir,
    source: Arc<Source>,
    at: PinLocation,
    git_dir: std::path::PathBuf,
    commit: String,
}

fn fixture_source() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let git_dir = dir.path().join("repos/product.git");
    let repo = git2::Repository::init_bare(&git_dir).unwrap();
    let files = fixture();
    let borrowed: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
    let commit = crate::demo::write_commit(&repo, &borrowed, "fixture").unwrap();
    let tree_id = repo.find_commit(commit).unwrap().tree_id().to_string();
    let source = Source::new(dir.path().join("repos"), dir.path().join("index"), None, SourceLimits::default());
    let at = PinLocation { pin: PinId::parse("1").unwrap(), repository: "product".into(), tree_id };
    Fixture { _dir: dir, source, at, git_dir, commit: commit.to_string() }
}

/// `git grep -n <args> <commit>`: each file's matching line numbers, in git's order.
fn git_grep(fixture: &Fixture, args: &[&str]) -> Vec<(String, Vec<u32>)> {
    let output = std::process::Command::new("git")
        .arg("--git-dir")
        .arg(&fixture.git_dir)
        .args(["grep", "-n", "--no-color"])
        .args(args)
        .arg(&fixture.commit)
        .output()
        .expect("git runs");
    let text = String::from_utf8(output.stdout).unwrap();
    let mut files: Vec<(String, Vec<u32>)> = Vec::new();
    for line in text.lines() {
        let rest = line.strip_prefix(&format!("{}:", fixture.commit)).expect("the commit leads");
        let mut fields = rest.splitn(3, ':');
        let (path, number) = (fields.next().unwrap(), fields.next().unwrap().parse().unwrap());
        match files.last_mut() {
            Some((last, lines)) if last == path => lines.push(number),
            _ => files.push((path.to_string(), vec![number])),
        }
    }
    files
}

fn request(pattern: &str, lines_per_file: usize, continue_in_file: bool) -> SearchRequest {
    SearchRequest {
        pattern: regex::bytes::RegexBuilder::new(pattern).multi_line(true).build().unwrap(),
        paths: None,
        scope: None,
        from: None,
        want_files: 7,
        lines_per_file,
        continue_in_file,
        multiline: false,
        count: true,
        within: None,
        highlight: false,
        budget: Duration::from_secs(60),
    }
}

/// Every page of a search, walked by cursor (from the pack when `packed` holds its files): each
/// file's matching lines in order, the lines counted beyond them per file, and the totals. Later
/// pages read only the files the first counted with a match, as the domain asks, unless
/// `forget_files`.
async fn walk(
    fixture: &Fixture,
    packed: Option<&Arc<Vec<PackedFile>>>,
    request: SearchRequest,
) -> (Vec<(String, Vec<u32>)>, BTreeMap<String, u64>, Totals) {
    walk_pages(fixture, packed, request, false).await
}

async fn walk_pages(
    fixture: &Fixture,
    packed: Option<&Arc<Vec<PackedFile>>>,
    mut request: SearchRequest,
    forget_files: bool,
) -> (Vec<(String, Vec<u32>)>, BTreeMap<String, u64>, Totals) {
    let receipt = Receipt::for_tests(Scope::Search(fixture.at.pin));
    let (mut files, mut counted, mut totals) = (Vec::<(String, Vec<u32>)>::new(), BTreeMap::new(), None);
    for _page in 0..1_000 {
        let outcome = match packed {
            Some(files) => fixture
                .source
                .search_pack(&receipt, &fixture.at, Arc::clone(files), request.clone())
                .await
                .unwrap()
                .expect("the pack"),
            None => fixture.source.search(&receipt, &fixture.at, request.clone()).await.unwrap(),
        };
        assert!(!outcome.timed_out);
        assert!(outcome.hits.len() <= request.want_files);
        if let Some(counted) = outcome.totals {
            assert!(totals.is_none(), "counted once, on the first page");
            totals = Some(counted);
            assert_eq!(outcome.matching.is_some(), packed.is_some(), "the files that match, from a pack alone");
            request.within = outcome.matching.filter(|_| !forget_files).map(Arc::new);
        }
        for hit in outcome.hits {
            let lines = hit.lines.iter().filter(|l| !l.matches.is_empty()).map(|l| l.number);
            match files.last_mut() {
                Some((last, numbers)) if *last == hit.path => numbers.extend(lines),
                _ => files.push((hit.path.clone(), lines.collect())),
            }
            *counted.entry(hit.path).or_default() += hit.more_lines;
        }
        request.count = false;
        match outcome.next {
            Some(next) => request.from = Some(next),
            None => return (files, counted, totals.expect("totals")),
        }
    }
    panic!("the pages never ended");
}

fn totals_of(files: &[(String, Vec<u32>)]) -> Totals {
    Totals { files: files.len() as u64, lines: files.iter().map(|f| f.1.len() as u64).sum(), exact: true }
}

#[tokio::test]
async fn every_page_walked_by_cursor_is_git_grep_from_blobs_and_from_the_pack() {
    let fixture = fixture_source();
    let expected = git_grep(&fixture, &["-F", "needle"]);
    assert!(expected.len() > 200, "the fixture has hits in many files");
    let receipt = Receipt::for_tests(Scope::WholePin(fixture.at.pin));
    let rows = fixture.source.index_files(&receipt, &fixture.at, None).await.unwrap();
    let packed: Arc<Vec<PackedFile>> = Arc::new(
        rows.into_iter()
            .filter_map(|r| {
                r.text.map(|(offset, length)| PackedFile { path: r.path, blob_id: r.blob_id, offset, length })
            })
            .collect(),
    );
    let any_case_pattern = regex::bytes::RegexBuilder::new("needle").case_insensitive(true).build().unwrap();
    for from_pack in [None, Some(&packed)] {
        // Every matching line returned: git grep's files, lines and order.
        let (found, counted, totals) = walk(&fixture, from_pack, request("needle", 10_000, false)).await;
        assert_eq!(found, expected, "pack: {}", from_pack.is_some());
        assert!(counted.values().all(|&n| n == 0));
        assert_eq!(totals, totals_of(&expected));
        // The same, each page reading every file from where it starts.
        let (found, _, _) = walk_pages(&fixture, from_pack, request("needle", 10_000, false), true).await;
        assert_eq!(found, expected);
        // Twenty a file, the rest counted: still every line of git's, shown or counted.
        let (found, counted, totals) = walk(&fixture, from_pack, request("needle", 20, false)).await;
        for ((path, lines), (git_path, git_lines)) in found.iter().zip(&expected) {
            assert_eq!(path, git_path);
            assert_eq!(lines[..], git_lines[..lines.len()]);
            assert_eq!(lines.len() as u64 + counted[path], git_lines.len() as u64, "{path}");
        }
        assert_eq!(totals, totals_of(&expected));
        // Twenty a file, continued on the next page: every line shown, once.
        let (found, _, _) = walk(&fixture, from_pack, request("needle", 20, true)).await;
        assert_eq!(found, expected);
        // A regular expression matches within a line, as git's does.
        let (found, _, totals) = walk(&fixture, from_pack, request(r"\{\s+\}", 100, false)).await;
        let git = git_grep(&fixture, &["-E", r"\{[[:space:]]+\}"]);
        assert_eq!(found, git);
        assert_eq!(totals, totals_of(&git));
        // Letter case as asked.
        let mut any_case = request("needle", 10_000, false);
        any_case.pattern = any_case_pattern.clone();
        let (found, _, _) = walk(&fixture, from_pack, any_case).await;
        assert_eq!(found, git_grep(&fixture, &["-i", "-F", "needle"]));
    }
}

#[tokio::test]
async fn a_page_cut_short_by_the_budget_goes_on_from_where_it_stopped() {
    let fixture = fixture_source();
    let mut late = request("needle", 20, false);
    late.budget = Duration::ZERO;
    let receipt = Receipt::for_tests(Scope::Search(fixture.at.pin));
    let outcome = fixture.source.search(&receipt, &fixture.at, late).await.unwrap();
    assert!(outcome.timed_out && outcome.hits.is_empty());
    assert_eq!(outcome.next, Some(Cursor { path: "a-b/f001.txt".into(), line: 1 }), "the first file again");
    let totals = outcome.totals.unwrap();
    assert!(!totals.exact, "the count says it is a lower bound");
}
