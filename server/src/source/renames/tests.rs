//! Renames and line totals against `git diff -M` itself, on two commits the test writes.

use super::*;
use crate::audit::{Receipt, Scope};
use crate::config::SourceLimits;
use crate::source::{PinLocation, Source};
use app::model::{ChangeStatus, PinId};

/// Deterministic lines of text (a linear congruential generator).
fn lines(seed: u64, count: usize) -> Vec<String> {
    let mut state = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    (0..count)
        .map(|i| {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            format!("    let value_{i} = compute({}, {});", state >> 40, (state >> 20) & 0xfff)
        })
        .collect()
}

fn text(lines: &[String]) -> Vec<u8> {
    let mut out = lines.join("\n");
    out.push('\n');
    out.into_bytes()
}

/// Two releases: 40 files renamed with small edits (half keep their basename in another
/// directory, half change it), exact renames (one of two identical sources, the basename
/// deciding), a CRLF file renamed to LF, empty files, a rename below 75% that only the full
/// scoring finds, and files modified, added and deleted.
type Files = Vec<(String, Vec<u8>)>;

fn releases() -> (Files, Files) {
    let (mut old, mut new) = (Vec::new(), Vec::new());
    for i in 0..40u64 {
        let body = lines(i, 30 + (i as usize % 25));
        old.push((format!("src/mod{i}/file{i}.rs"), text(&body)));
        let mut edited = body.clone();
        edited[3] = format!("    // edited {i}");
        if i % 3 == 0 {
            edited.insert(10, "    extra();".into());
        }
        let path = if i < 20 { format!("lib/mod{i}/file{i}.rs") } else { format!("src/mod{i}/renamed{i}.rs") };
        new.push((path, text(&edited)));
    }
    for i in 0..5u64 {
        let body = text(&lines(100 + i, 12));
        old.push((format!("exact/old{i}.txt"), body.clone()));
        new.push((format!("moved/new{i}.txt"), body));
    }
    let twin = text(&lines(200, 20));
    old.push(("twins/a/readme.md".into(), twin.clone()));
    old.push(("twins/b/notes.md".into(), twin.clone()));
    new.push(("twins/c/notes.md".into(), twin));
    let crlf = lines(300, 25);
    old.push(("win/crlf.txt".into(), crlf.join("\r\n").into_bytes()));
    new.push(("unix/lf.txt".into(), text(&crlf)));
    old.push(("empty/gone.txt".into(), Vec::new()));
    new.push(("empty/new.txt".into(), Vec::new()));
    // About 60% alike, same basename: not a basename pair (below 75%), a pair by scoring.
    let half = lines(400, 40);
    old.push(("a/half.rs".into(), text(&half)));
    let mut changed = half.clone();
    for line in changed.iter_mut().take(16) {
        line.push_str(" // changed");
    }
    new.push(("b/half.rs".into(), text(&changed)));
    for i in 0..6u64 {
        let body = lines(500 + i, 20);
        old.push((format!("kept/m{i}.rs"), text(&body)));
        let mut edited = body.clone();
        edited.truncate(15 + i as usize);
        edited.push("    done();".into());
        new.push((format!("kept/m{i}.rs"), text(&edited)));
        old.push((format!("gone/d{i}.c"), text(&lines(600 + i, 10))));
        new.push((format!("fresh/n{i}.py"), text(&lines(700 + i, 10))));
    }
    (old, new)
}

fn git(git_dir: &std::path::Path, args: &[&str]) -> String {
    let output = std::process::Command::new("git").arg("--git-dir").arg(git_dir).args(args).output().expect("git runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

#[tokio::test]
async fn renames_and_totals_are_those_of_git_diff_m() {
    let dir = tempfile::tempdir().unwrap();
    let git_dir = dir.path().join("repos/product.git");
    let repo = git2::Repository::init_bare(&git_dir).unwrap();
    let (old, new) = releases();
    let write = |files: &Files, message: &str| {
        let files: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, c)| (p.as_str(), c.clone())).collect();
        crate::demo::write_commit(&repo, &files, message).unwrap()
    };
    let (a, b) = (write(&old, "one"), write(&new, "two"));
    let source = Source::new(dir.path().join("repos"), dir.path().join("index"), None, SourceLimits::default());
    let at = |pin: &str, commit: git2::Oid| PinLocation {
        pin: PinId::parse(pin).unwrap(),
        repository: "product".into(),
        tree_id: repo.find_commit(commit).unwrap().tree_id().to_string(),
    };
    let (pa, pb) = (at("1", a), at("2", b));
    let receipt = Receipt::for_tests(Scope::Compare(pa.pin, pb.pin));
    let ours = source.diff_list(&receipt, &pa, &pb).await.unwrap();

    // git's list: `R087\told\tnew`, `M\tpath`, … and its line counts, `-z` so that paths are exact.
    let (a, b) = (a.to_string(), b.to_string());
    let mut theirs: Vec<(String, Option<String>, String, Option<u32>)> = Vec::new();
    for line in git(&git_dir, &["diff", "-M", "--name-status", &a, &b]).lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let (kind, score) = fields[0].split_at(1);
        let score = (!score.is_empty()).then(|| score.parse().unwrap());
        match fields.len() {
            3 => theirs.push((kind.into(), Some(fields[1].into()), fields[2].into(), score)),
            _ => theirs.push((kind.into(), None, fields[1].into(), score)),
        }
    }
    theirs.sort_by(|x, y| x.2.cmp(&y.2));
    let ours_named: Vec<(String, Option<String>, String, Option<u32>)> = ours
        .iter()
        .map(|f| {
            let kind = match f.status {
                ChangeStatus::Added => "A",
                ChangeStatus::Deleted => "D",
                ChangeStatus::Renamed => "R",
                ChangeStatus::Modified => "M",
                other => panic!("{other:?} in the fixture"),
            };
            (kind.to_string(), f.old_path.clone(), f.path.clone(), f.similarity)
        })
        .collect();
    assert_eq!(ours_named, theirs);
    let renamed =
        |from: &str| ours.iter().find(|f| f.old_path.as_deref() == Some(from)).map(|f| (f.path.as_str(), f.similarity));
    let (_, half) = renamed("a/half.rs").expect("found by scoring every pair");
    assert!(half.unwrap() < 75, "below the basename bar: {half:?}");
    assert_eq!(renamed("twins/b/notes.md"), Some(("twins/c/notes.md", Some(100))), "the same basename wins a tie");
    assert_eq!(renamed("win/crlf.txt").map(|r| r.0), Some("unix/lf.txt"));
    let renames = ours.iter().filter(|f| f.status == ChangeStatus::Renamed).count();
    assert!(renames >= 48, "the fixture's renames were found: {renames}");

    let numstat = git(&git_dir, &["diff", "-M", "--numstat", "-z", &a, &b]);
    let (mut added, mut deleted, mut entries) = (0u64, 0u64, 0usize);
    let mut fields = numstat.split('\0').peekable();
    while let Some(head) = fields.next().filter(|h| !h.is_empty()) {
        let counts: Vec<&str> = head.split('\t').collect();
        added += counts[0].parse::<u64>().unwrap();
        deleted += counts[1].parse::<u64>().unwrap();
        let path = if counts[2].is_empty() {
            fields.next();
            fields.next().unwrap()
        } else {
            counts[2]
        };
        let file = ours.iter().find(|f| f.path == path).expect("git's path is listed");
        assert_eq!(
            (file.additions, file.deletions),
            (counts[0].parse().unwrap(), counts[1].parse().unwrap()),
            "{path}"
        );
        entries += 1;
    }
    assert_eq!(entries, ours.len());
    let (our_added, our_deleted) = ours.iter().fold((0, 0), |(a, d), f| (a + f.additions, d + f.deletions));
    assert_eq!((our_added, our_deleted), (added, deleted), "the totals are git's");
}

#[test]
fn chunks_end_at_newlines_or_64_bytes_and_skip_a_cr_before_a_newline() {
    let lf = chunks(b"one\ntwo\n");
    let crlf = chunks(b"one\r\ntwo\r\n");
    assert_eq!(lf, crlf, "a CR before a newline is not part of a text's chunk");
    assert_eq!(lf.iter().map(|c| c.1).sum::<u32>(), 8);
    let long = chunks(&[b'x'; 130]);
    assert_eq!(long.iter().map(|c| c.1).sum::<u32>(), 128, "two 64-byte chunks; the last 2 bytes never end");
    assert_eq!(copied(&lf, &chunks(b"one\nthree\n")), 4);
}
