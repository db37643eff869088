//! From the source files a binary's debug information names to the files of a pin: which prefix
//! the build tree had (declared — a room build's `/build` — or found as the one under which most
//! files are pinned paths), which compiled files are the pin's and which come from elsewhere
//! (grouped as toolchain, vendored, generated or other), and the map's canonical form and digest
//! (`docs/compiled-map.md`).

use super::dwarf::{DebugLines, SourceLines};
use app::model::{Checksum, CompiledFile, CompiledTotals, ElsewhereFile};
use std::collections::{HashMap, HashSet};

/// A file of the pin the debug information names, before checksums are compared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PinnedLines {
    pub path: String,
    pub lines: Vec<[u32; 2]>,
    /// The compiler's MD5 of the file, to compare with the pinned blob's.
    pub md5: Option<[u8; 16]>,
}

/// The debug information's files assigned to the pin or elsewhere.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assigned {
    /// The prefix stripped to name pinned paths (`""`: the paths were relative).
    pub prefix: Option<String>,
    pub pinned: Vec<PinnedLines>,
    pub elsewhere: Vec<ElsewhereFile>,
}

fn ranges(lines: &[(u32, u32)]) -> Vec<[u32; 2]> {
    lines.iter().map(|(first, last)| [*first, *last]).collect()
}

/// The prefix that makes a path a pinned one, longest pinned remainder first.
fn vote(path: &str, pinned: &HashSet<&str>) -> Option<String> {
    if !path.starts_with('/') && pinned.contains(path) {
        return Some(String::new());
    }
    path.match_indices('/').find(|(at, _)| pinned.contains(&path[at + 1..])).map(|(at, _)| path[..at].to_string())
}

/// The part of `path` under `prefix` (`""` takes relative paths as they are).
fn under<'p>(path: &'p str, prefix: &str) -> Option<&'p str> {
    if prefix.is_empty() {
        return (!path.starts_with('/')).then_some(path);
    }
    path.strip_prefix(prefix).and_then(|rest| rest.strip_prefix('/'))
}

/// Assigns each file with lines to a pinned path or elsewhere. `declared` prefixes (a room
/// build's directory, or what an uploader names) are tried first; when none names a pinned file,
/// the prefix under which most compiled files are pinned paths is taken.
pub fn assign(lines: &DebugLines, pinned: &HashSet<&str>, declared: &[String]) -> Assigned {
    let declared: Vec<String> = declared
        .iter()
        .map(|prefix| super::dwarf::normalise(prefix).trim_end_matches('/').to_string())
        .filter(|prefix| lines.files.iter().any(|f| under(&f.path, prefix).is_some_and(|rest| pinned.contains(rest))))
        .collect();
    let prefix = declared.into_iter().next().or_else(|| {
        let mut votes: HashMap<String, usize> = HashMap::new();
        for file in &lines.files {
            if let Some(prefix) = vote(&file.path, pinned) {
                *votes.entry(prefix).or_default() += 1;
            }
        }
        // Most files; on a tie the shorter (then the first) prefix, so the choice is stable.
        votes.into_iter().max_by(|a, b| a.1.cmp(&b.1).then(b.0.len().cmp(&a.0.len())).then(b.0.cmp(&a.0))).map(|v| v.0)
    });
    let mut assigned = Assigned { prefix: prefix.clone(), ..Assigned::default() };
    for file in &lines.files {
        let rest = prefix.as_deref().and_then(|prefix| under(&file.path, prefix));
        match rest {
            Some(rest) if pinned.contains(rest) => {
                assigned.pinned.push(PinnedLines { path: rest.to_string(), lines: ranges(&file.lines), md5: file.md5 })
            }
            _ => assigned.elsewhere.push(elsewhere(file, prefix.as_deref().filter(|_| rest.is_some()))),
        }
    }
    assigned.pinned.sort_by(|a, b| a.path.cmp(&b.path));
    assigned
}

/// A compiled file outside the pin, with its group; `build_tree` is the prefix it lies under when
/// it is under the build's tree (and so was generated there, unless it is a vendored copy).
fn elsewhere(file: &SourceLines, build_tree: Option<&str>) -> ElsewhereFile {
    let (group, prefix) = classify(&file.path, build_tree);
    ElsewhereFile { path: file.path.clone(), group: group.into(), prefix, lines: ranges(&file.lines) }
}

/// The path up to and including the `keep` components after `marker` (`None`: no marker).
fn through(path: &str, marker: &str, keep: usize) -> Option<String> {
    let at = path.find(marker)? + marker.len();
    let rest = &path[at..];
    let mut end = at;
    for part in rest.split('/').take(keep) {
        end += part.len() + 1;
    }
    Some(path[..end.saturating_sub(1).min(path.len())].to_string())
}

/// Toolchain (compiler headers and runtime, a language's standard library), vendored (a package
/// manager's copies), generated (under the build's tree, not pinned) or other, with the directory
/// each is listed under.
pub fn classify(path: &str, build_tree: Option<&str>) -> (&'static str, String) {
    const TOOLCHAIN: [&str; 6] =
        ["/usr/include/", "/usr/lib/gcc/", "/usr/local/include/", "/usr/lib/llvm", "/usr/src/", "/opt/"];
    if let Some(prefix) = through(path, "/rustc/", 1).filter(|_| path.starts_with("/rustc/")) {
        return ("toolchain", prefix);
    }
    // The crates Rust's standard library is built with, as its own line tables name them.
    if let Some(prefix) = through(path, "/rust/deps/", 1).filter(|_| path.starts_with("/rust/deps/")) {
        return ("toolchain", prefix);
    }
    if let Some(prefix) = through(path, "/.rustup/toolchains/", 1) {
        return ("toolchain", prefix);
    }
    if let Some(root) = TOOLCHAIN.iter().find(|root| path.starts_with(*root)) {
        let prefix = if root.ends_with('/') {
            root.trim_end_matches('/').to_string()
        } else {
            through(path, root, 1).unwrap_or_default()
        };
        return ("toolchain", prefix);
    }
    for (marker, keep) in [
        ("/.cargo/registry/src/", 2),
        ("/.cargo/git/checkouts/", 2),
        ("/vendor/", 1),
        ("/third_party/", 1),
        ("/third-party/", 1),
        ("/node_modules/", 1),
    ] {
        if let Some(prefix) = through(path, marker, keep) {
            return ("vendored", prefix);
        }
    }
    if let Some(tree) = build_tree {
        return ("generated", if tree.is_empty() { ".".into() } else { tree.to_string() });
    }
    let parent = path.rsplit_once('/').map(|(dir, _)| dir.to_string()).filter(|dir| !dir.is_empty());
    ("other", parent.unwrap_or_else(|| "/".into()))
}

/// The pinned files with their checksums compared (`pinned_md5` gives the pinned blob's MD5 of
/// a path whose compiler MD5 is known), and the map's totals.
pub fn finish(
    pinned: Vec<PinnedLines>,
    elsewhere: &[ElsewhereFile],
    pinned_md5: impl Fn(&str) -> Option<[u8; 16]>,
) -> (Vec<CompiledFile>, CompiledTotals) {
    let files: Vec<CompiledFile> = pinned
        .into_iter()
        .map(|file| {
            let checksum = match file.md5 {
                None => Checksum::None,
                Some(compiled) => match pinned_md5(&file.path) {
                    Some(blob) if blob == compiled => Checksum::Same,
                    Some(_) => Checksum::Different,
                    None => Checksum::None,
                },
            };
            CompiledFile { path: file.path, lines: file.lines, checksum }
        })
        .collect();
    let totals = totals(&files, elsewhere);
    (files, totals)
}

/// A map's totals over its files and those from elsewhere.
pub fn totals(files: &[CompiledFile], elsewhere: &[ElsewhereFile]) -> CompiledTotals {
    CompiledTotals {
        files: files.len() as u64,
        lines: files.iter().map(|f| app::model::range_lines(&f.lines)).sum(),
        elsewhere_files: elsewhere.len() as u64,
        elsewhere_lines: elsewhere.iter().map(|f| app::model::range_lines(&f.lines)).sum(),
        checksum_mismatches: files.iter().filter(|f| f.checksum == Checksum::Different).count() as u64,
    }
}

/// The map's canonical form: the JSON `{"files":[…],"elsewhere":[…]}` with members in the order
/// the types declare, files sorted by path, no whitespace. Its SHA-256 is the map's digest.
pub fn canonical(files: &[CompiledFile], elsewhere: &[ElsewhereFile]) -> Vec<u8> {
    #[derive(serde::Serialize)]
    struct Canonical<'a> {
        files: &'a [CompiledFile],
        elsewhere: &'a [ElsewhereFile],
    }
    serde_json::to_vec(&Canonical { files, elsewhere }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(files: &[(&str, Option<[u8; 16]>)]) -> DebugLines {
        DebugLines {
            build_id: None,
            has_lines: true,
            files: files
                .iter()
                .map(|(path, md5)| SourceLines { path: path.to_string(), md5: *md5, lines: vec![(1, 2)] })
                .collect(),
            rows: 2,
        }
    }

    #[test]
    fn the_prefix_with_most_pinned_files_wins_and_the_rest_is_grouped() {
        let pinned: HashSet<&str> = ["src/main.rs", "src/lib.rs", "src/a/mod.rs", "build.rs"].into();
        let debug = lines(&[
            ("/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.1/src/lib.rs", None),
            ("/rustc/17067e9ac6d7e98f18d4a4c0e6ed1c4bcd7d2c3b/library/core/src/option.rs", None),
            ("/rust/deps/hashbrown-0.16.1/src/raw/mod.rs", None),
            ("/usr/include/x86_64-linux-gnu/bits/stdio2.h", None),
            ("/w/app/src/a/mod.rs", None),
            ("/w/app/src/lib.rs", None),
            ("/w/app/src/main.rs", None),
            ("/w/app/target/debug/build/x/out/gen.rs", None),
        ]);
        let assigned = assign(&debug, &pinned, &[]);
        assert_eq!(assigned.prefix.as_deref(), Some("/w/app"));
        let paths: Vec<&str> = assigned.pinned.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(paths, ["src/a/mod.rs", "src/lib.rs", "src/main.rs"]);
        let groups: Vec<(&str, &str)> =
            assigned.elsewhere.iter().map(|f| (f.group.as_str(), f.prefix.as_str())).collect();
        assert_eq!(
            groups,
            [
                ("vendored", "/home/ci/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.1"),
                ("toolchain", "/rustc/17067e9ac6d7e98f18d4a4c0e6ed1c4bcd7d2c3b"),
                ("toolchain", "/rust/deps/hashbrown-0.16.1"),
                ("toolchain", "/usr/include"),
                ("generated", "/w/app"),
            ]
        );
    }

    #[test]
    fn a_declared_prefix_is_taken_and_relative_paths_match_as_they_are() {
        let pinned: HashSet<&str> = ["main.c", "util.c"].into();
        let debug = lines(&[("/build/main.c", None), ("/build/util.c", None), ("/elsewhere/main.c", None)]);
        let assigned = assign(&debug, &pinned, &["/build/".into()]);
        assert_eq!(assigned.prefix.as_deref(), Some("/build"));
        assert_eq!(assigned.pinned.len(), 2);
        assert_eq!(assigned.elsewhere[0].group, "other");
        let relative = lines(&[("main.c", None), ("gen/version.c", None)]);
        let assigned = assign(&relative, &pinned, &[]);
        assert_eq!(assigned.prefix.as_deref(), Some(""));
        assert_eq!((assigned.pinned.len(), assigned.elsewhere[0].group.as_str()), (1, "generated"));
    }

    #[test]
    fn checksums_compare_with_the_pinned_blob() {
        let pinned = vec![
            PinnedLines { path: "a.c".into(), lines: vec![[1, 4]], md5: Some([1; 16]) },
            PinnedLines { path: "b.c".into(), lines: vec![[2, 2]], md5: Some([2; 16]) },
            PinnedLines { path: "c.c".into(), lines: vec![[5, 6]], md5: None },
        ];
        let (files, totals) = finish(pinned, &[], |path| Some(if path == "a.c" { [1; 16] } else { [9; 16] }));
        let checks: Vec<Checksum> = files.iter().map(|f| f.checksum).collect();
        assert_eq!(checks, [Checksum::Same, Checksum::Different, Checksum::None]);
        assert_eq!((totals.files, totals.lines, totals.checksum_mismatches), (3, 7, 1));
        let text = String::from_utf8(canonical(&files[..1], &[])).unwrap();
        assert_eq!(text, r#"{"files":[{"path":"a.c","lines":[[1,4]],"checksum":"same"}],"elsewhere":[]}"#);
    }
}
