//! The history behind pins: on a fixture with five first-parent commits between two pins (one a
//! merge, one a rename), the history equals `git log --first-parent`, each commit's files and hunks
//! equal `git diff-tree -M` and `git diff`, and blame equals `git blame`; the policy's levels, the
//! refusals (recorded), and the events naming what was shown.

use crate::helpers::*;
use app::model::{HistoryPolicy, PinId};
use clearroom::domain::Actor;
use clearroom::store::pins::PolicyChange;
use reqwest::StatusCode;
use serde_json::Value;
use std::path::Path;
use std::process::Command;

/// Runs git in `dir` as the named author at `time` (seconds), and returns what it printed.
fn git_at(dir: &Path, args: &[&str], author: (&str, &str), time: i64) -> String {
    let date = format!("{time} +0100");
    let output = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", author.0)
        .env("GIT_AUTHOR_EMAIL", author.1)
        .env("GIT_AUTHOR_DATE", &date)
        .env("GIT_COMMITTER_NAME", "Release Bot")
        .env("GIT_COMMITTER_EMAIL", "bot@example.org")
        .env("GIT_COMMITTER_DATE", &date)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("HOME", dir)
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    git_at(dir, args, ("Ada Lovelace", "ada@example.org"), 1_700_100_000)
}

/// Five first-parent commits on the pinned release: a change, a new file, a side branch merged
/// (its change to README reaches the line through the merge), a change, and a rename. Pins the
/// last, granted to the reviewer; returns it with the work tree (the server's repository is its
/// `origin`).
async fn five_commits(app: &TestApp) -> (PinId, tempfile::TempDir) {
    let work = tempfile::tempdir().unwrap();
    let bare = app.data_dir.join("repos/product.git");
    let dir = work.path();
    git(dir, &["clone", "-q", bare.to_str().unwrap(), "."]);
    let mut time = 1_700_200_000;
    let mut commit = |args: &[&str], author: (&str, &str)| {
        time += 3_600;
        git_at(dir, args, author, time);
    };
    let ada = ("Ada Lovelace", "ada@example.org");
    let grace = ("Grace Hopper", "grace@example.org");
    let edit = |path: &str, from: &str, to: &str| {
        let file = dir.join(path);
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(from), "{path} holds {from}");
        std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
    };
    edit("src/main.rs", "const LIMIT_4: u32 = 4;", "const LIMIT_4: u32 = 44;");
    commit(&["commit", "-qam", "Raise the fourth limit\n\nThe old one was too tight."], ada);
    std::fs::write(dir.join("src/util.rs"), "pub fn one() -> u32 {\n    1\n}\n\npub fn two() -> u32 {\n    2\n}\n")
        .unwrap();
    git(dir, &["add", "src/util.rs"]);
    commit(&["commit", "-qm", "Add util"], grace);
    git(dir, &["checkout", "-qb", "side"]);
    edit("README.md", "Review me.", "Review me, carefully.");
    commit(&["commit", "-qam", "Ask for care"], grace);
    git(dir, &["checkout", "-q", "-"]);
    edit("src/util.rs", "    2\n", "    1 + 1\n");
    commit(&["commit", "-qam", "Two is one and one"], ada);
    commit(&["merge", "-q", "--no-ff", "side", "-m", "Merge the side branch"], ada);
    git(dir, &["mv", "src/deep/secret.c", "src/deep/cipher.c"]);
    std::fs::write(
        dir.join("src/deep/cipher.c"),
        format!("/* {SECRET_MARKER} */\nint f(void) {{ return 42; }}\nint g(void) {{ return 7; }}\n"),
    )
    .unwrap();
    git(dir, &["add", "-A"]);
    commit(&["commit", "-qm", "Rename the cipher"], grace);
    git(dir, &["push", "-q", "origin", "HEAD:refs/heads/next"]);
    let head = git(dir, &["rev-parse", "HEAD"]).trim().to_string();
    let pin = app.domain.admin().create_pin(Actor::Operator, "product", &head, "Release 1.1").await.unwrap();
    let now = app.clock.now_ms();
    app.domain.access().grant(Actor::Operator, "reviewer", &[pin], now - 1000, now + 3_600_000).await.unwrap();
    (pin, work)
}

async fn set_history(app: &TestApp, pins: &[PinId], history: HistoryPolicy) {
    for pin in pins {
        let change = PolicyChange { history: Some(history), ..PolicyChange::default() };
        app.domain.admin().set_pin_policy(Actor::Operator, *pin, change).await.unwrap();
    }
}

async fn api(app: &TestApp, client: &reqwest::Client, path: &str) -> (StatusCode, Value) {
    let response = client.get(app.url(path)).send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The commit of each line, from `git blame --porcelain`.
fn git_blame(dir: &Path, commit: &str, path: &str) -> Vec<String> {
    let porcelain = git(dir, &["blame", "--porcelain", commit, "--", path]);
    porcelain
        .lines()
        .filter(|line| {
            line.len() > 41 && line.as_bytes()[40] == b' ' && line[..40].bytes().all(|b| b.is_ascii_hexdigit())
        })
        .map(|line| line[..40].to_string())
        .collect()
}

/// The commit of each line, from the API's runs.
fn our_blame(view: &Value) -> Vec<String> {
    let mut lines = Vec::new();
    for hunk in view["hunks"].as_array().unwrap() {
        assert_eq!(hunk["first"].as_u64().unwrap() as usize, lines.len() + 1, "runs are in order: {hunk}");
        for _ in 0..hunk["lines"].as_u64().unwrap() {
            lines.push(hunk["commit"].as_str().unwrap().to_string());
        }
    }
    lines
}

/// `@@ -a,b +c,d @@` headers as numbers (a count left out is 1).
fn hunk_headers(diff: &str) -> Vec<[u64; 4]> {
    let side = |text: &str| -> [u64; 2] {
        let (start, count) = text[1..].split_once(',').unwrap_or((&text[1..], "1"));
        [start.parse().unwrap(), count.parse().unwrap()]
    };
    diff.lines()
        .filter(|line| line.starts_with("@@ "))
        .map(|line| {
            let parts: Vec<&str> = line.split(' ').collect();
            let (old, new) = (side(parts[1]), side(parts[2]));
            [old[0], old[1], new[0], new[1]]
        })
        .collect()
}

#[tokio::test]
async fn history_and_blame_equal_git_log_and_git_blame() {
    let app = spawn_app().await;
    let (next, work) = five_commits(&app).await;
    let dir = work.path();
    let (a, b) = (app.pin, next);
    set_history(&app, &[a, b], HistoryPolicy::Messages).await;
    let reviewer = app.session_client("reviewer").await;
    let pins = app.domain.admin().admin_overview(Actor::Operator).await.unwrap().pins;
    let commit_of = |pin: PinId| pins.iter().find(|p| p.id == pin).unwrap().commit_id.clone();
    let range = format!("{}..{}", commit_of(a), commit_of(b));

    let (status, history) = api(&app, &reviewer, &format!("/api/v1/pins/{a}/history/{b}")).await;
    assert_eq!(status, StatusCode::OK, "{history}");
    let log = git(dir, &["log", "--first-parent", "--format=%H%x00%an%x00%ae%x00%at%x00%s%x00%P", &range]);
    let commits = history["commits"].as_array().unwrap();
    assert_eq!(commits.len(), 5, "{history}");
    assert_eq!(history["total"], 5);
    for (ours, theirs) in commits.iter().zip(log.lines()) {
        let fields: Vec<&str> = theirs.split('\0').collect();
        assert_eq!(ours["id"], fields[0]);
        assert_eq!(ours["author"]["name"], fields[1]);
        assert_eq!(ours["author"]["email"], fields[2]);
        assert_eq!(ours["author"]["at_ms"].as_i64().unwrap(), fields[3].parse::<i64>().unwrap() * 1000);
        assert_eq!(ours["author"]["offset_minutes"], 60);
        assert_eq!(ours["summary"], fields[4]);
        let parents: Vec<&str> = fields[5].split(' ').collect();
        assert_eq!(ours["parents"].as_array().unwrap().len(), parents.len());
        assert!(ours.get("files").is_none(), "the messages policy lists no files");
    }
    assert_eq!(commits[4]["message"], "Raise the fourth limit\n\nThe old one was too tight.\n");
    assert_eq!(commits[1]["parents"].as_array().unwrap().len(), 2, "the merge, with its two parents");
    assert!(!history.to_string().contains("Ask for care"), "the side branch is not on the first-parent line");

    // Blame at the newer pin equals git's, line by line, for every file the commits touched.
    let head = commit_of(b);
    for path in ["src/main.rs", "README.md", "src/util.rs", "src/deep/cipher.c"] {
        let (status, blame) = api(&app, &reviewer, &format!("/api/v1/pins/{b}/blame?path={path}")).await;
        assert_eq!(status, StatusCode::OK, "{path}: {blame}");
        assert_eq!(our_blame(&blame), git_blame(dir, &head, path), "{path}");
        assert_eq!(blame["lines"].as_array().unwrap().len(), our_blame(&blame).len());
    }
    let (_, readme) = api(&app, &reviewer, &format!("/api/v1/pins/{b}/blame?path=README.md")).await;
    assert!(readme.to_string().contains("Ask for care"), "a line from the side branch names its commit");
    let (_, cipher) = api(&app, &reviewer, &format!("/api/v1/pins/{b}/blame?path=src/deep/cipher.c")).await;
    assert!(cipher["hunks"].as_array().unwrap().iter().any(|h| h["original_path"] == "src/deep/secret.c"), "{cipher}");

    // The messages policy shows no diff: refused, and the refusal recorded.
    let denied = app.events("access.denied").await.len();
    let c1 = commits[4]["id"].as_str().unwrap().to_string();
    let (status, refused) = api(&app, &reviewer, &format!("/api/v1/pins/{a}/history/{b}/commits/{c1}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    assert!(refused.to_string().contains("not shown"), "{refused}");
    assert_eq!(app.events("access.denied").await.len(), denied + 1);

    // Full: each commit's files equal `git diff-tree -M` against its first parent; its hunks git's.
    set_history(&app, &[a, b], HistoryPolicy::Full).await;
    let (_, history) = api(&app, &reviewer, &format!("/api/v1/pins/{a}/history/{b}")).await;
    for commit in history["commits"].as_array().unwrap() {
        let id = commit["id"].as_str().unwrap();
        let first_parent = format!("{id}^1");
        let theirs = git(dir, &["diff-tree", "-r", "-M", "--name-status", &first_parent, id]);
        let mut theirs: Vec<(String, String)> = theirs
            .lines()
            .map(|line| {
                let fields: Vec<&str> = line.split('\t').collect();
                (fields[0][..1].to_string(), fields.last().unwrap().to_string())
            })
            .collect();
        theirs.sort();
        let letter = |status: &str| match status {
            "added" => "A",
            "deleted" => "D",
            "renamed" => "R",
            _ => "M",
        };
        let mut ours: Vec<(String, String)> = commit["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (letter(f["status"].as_str().unwrap()).to_string(), f["path"].as_str().unwrap().to_string()))
            .collect();
        ours.sort();
        assert_eq!(ours, theirs, "the files of {id}");
        let (status, diff) = api(&app, &reviewer, &format!("/api/v1/pins/{a}/history/{b}/commits/{id}")).await;
        assert_eq!(status, StatusCode::OK, "{diff}");
        for file in diff["files"].as_array().unwrap() {
            let path = file["file"]["path"].as_str().unwrap();
            let old = file["file"]["old_path"].as_str().unwrap_or(path);
            let git_diff = git(dir, &["diff", "-U3", &first_parent, id, "--", old, path]);
            let ours: Vec<[u64; 4]> = file["hunks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| ["old_start", "old_lines", "new_start", "new_lines"].map(|k| h[k].as_u64().unwrap()))
                .collect();
            if file["file"]["status"] != "renamed" {
                assert_eq!(ours, hunk_headers(&git_diff), "{id} {path}");
            }
        }
    }
    let (_, first) = api(&app, &reviewer, &format!("/api/v1/pins/{a}/history/{b}/commits/{c1}")).await;
    let lines = first["files"][0]["hunks"][0]["lines"].as_array().unwrap();
    assert!(lines.iter().any(|l| l["kind"] == "added" && l["text"].as_str().unwrap().contains("LIMIT_4: u32 = 44")));

    // The pages: the list links each commit; the commit page shows its diff; blame its lines.
    app.login_as("reviewer").await;
    let (status, page) = app.get_text(&format!("/pins/{a}/history/{b}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Raise the fourth limit") && page.contains(&format!("/pins/{a}/history/{b}/{c1}")));
    let (status, page) = app.get_text(&format!("/pins/{a}/history/{b}/{c1}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("The old one was too tight.") && page.contains("class=\"add\""));
    let (status, page) = app.get_text(&format!("/pins/{b}/blame/src/util.rs")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Two is one and one") && page.contains("Add util"));

    // What was shown is recorded: the commits listed, a commit's blobs and lines, the file blamed.
    let listed = app.events("history.list").await;
    let leaf: Value = serde_json::from_str(&listed[0].leaf).unwrap();
    let ids: Vec<&str> = leaf["details"]["commits"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
    assert_eq!(ids, log.lines().map(|l| &l[..40]).collect::<Vec<_>>());
    assert_eq!(leaf["details"]["policy"], "full");
    let shown = app.events("history.commit").await;
    let leaf: Value = serde_json::from_str(&shown[0].leaf).unwrap();
    assert_eq!(leaf["details"]["commit"], c1);
    assert_eq!(leaf["details"]["files"][0]["path"], "src/main.rs");
    assert!(!leaf["details"]["files"][0]["new_lines"].as_array().unwrap().is_empty());
    let blamed = app.events("blame.view").await;
    let leaf: Value = serde_json::from_str(&blamed[0].leaf).unwrap();
    assert_eq!(leaf["objects"][0]["path"], "src/util.rs");
    assert!(leaf["objects"][0]["blob"].is_string() && leaf["objects"][0]["lines"].is_array(), "{leaf}");
    assert_eq!(leaf["details"]["commits"].as_array().unwrap().len(), 2, "{leaf}");
    assert!(app.events("history.open").await.len() >= listed.len() + shown.len());
}

#[tokio::test]
async fn with_the_policy_off_history_and_blame_are_refused_and_recorded_but_staff_read_them() {
    let app = spawn_app().await;
    let (next, _work) = five_commits(&app).await;
    let (a, b) = (app.pin, next);
    let reviewer = app.session_client("reviewer").await;
    for path in [format!("/api/v1/pins/{a}/history/{b}"), format!("/api/v1/pins/{b}/blame?path=src/main.rs")] {
        let denied = app.events("access.denied").await.len();
        let (status, body) = api(&app, &reviewer, &path).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}: {body}");
        assert_eq!(app.events("access.denied").await.len(), denied + 1, "{path}: the refusal is recorded");
    }
    assert!(app.events("history.open").await.is_empty() && app.events("blame.open").await.is_empty());
    app.login_as("reviewer").await;
    let (status, page) = app.get_text(&format!("/pins/{a}/history/{b}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(!page.contains("Raise the fourth limit"));
    let (_, file) = app.open_file("src/main.rs").await;
    assert!(!file.contains("/blame/"), "no blame link where blame is refused");

    // Staff are not bound by the policy.
    let staff = app.session_client("staff").await;
    let (status, history) = api(&app, &staff, &format!("/api/v1/pins/{a}/history/{b}")).await;
    assert_eq!((status, history["commits"].as_array().map(Vec::len)), (StatusCode::OK, Some(5)), "{history}");
    assert_eq!(history["policy"], "full");

    // One pin allowing it is not enough: history needs both.
    set_history(&app, &[b], HistoryPolicy::Full).await;
    let (status, _) = api(&app, &reviewer, &format!("/api/v1/pins/{a}/history/{b}")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    set_history(&app, &[a], HistoryPolicy::Messages).await;
    let (status, history) = api(&app, &reviewer, &format!("/api/v1/pins/{a}/history/{b}")).await;
    assert_eq!((status, history["policy"].as_str()), (StatusCode::OK, Some("messages")), "the lower level of the two");
    let (_, file) = app.open_file("src/main.rs").await;
    assert!(file.contains(&format!("/pins/{a}/blame/src/main.rs")), "the blame link, now blame is allowed");
}

#[tokio::test]
async fn bad_requests_get_clear_answers_and_no_access_looks_like_no_pin() {
    let app = spawn_app().await;
    let (next, work) = five_commits(&app).await;
    let (a, b) = (app.pin, next);
    set_history(&app, &[a, b], HistoryPolicy::Full).await;
    let reviewer = app.session_client("reviewer").await;
    let cases = [
        (format!("/api/v1/pins/{a}/history/{b}/commits/xyz"), StatusCode::BAD_REQUEST),
        (format!("/api/v1/pins/{a}/history/{b}/commits/{}", "0".repeat(40)), StatusCode::NOT_FOUND),
        (format!("/api/v1/pins/{a}/history/{b}?page=0"), StatusCode::BAD_REQUEST),
        (format!("/api/v1/pins/{a}/history/999"), StatusCode::NOT_FOUND),
        ("/api/v1/pins/abc/history/2".to_string(), StatusCode::BAD_REQUEST),
        (format!("/api/v1/pins/{b}/blame?path=src"), StatusCode::NOT_FOUND),
        (format!("/api/v1/pins/{b}/blame?path=no/such.rs"), StatusCode::NOT_FOUND),
        (format!("/api/v1/pins/{b}/blame"), StatusCode::NOT_FOUND),
        (format!("/api/v1/pins/{b}/blame?path=../etc/passwd"), StatusCode::BAD_REQUEST),
        (format!("/api/v1/pins/{b}/blame?path=assets/logo.png"), StatusCode::BAD_REQUEST),
    ];
    for (path, wanted) in cases {
        let (status, body) = api(&app, &reviewer, &path).await;
        assert_eq!(status, wanted, "{path}: {body}");
        assert!(body["error"].is_string(), "{path}: a short message, {body}");
    }
    // The side branch's commit is in the repository but not between the pins.
    let side = git(work.path(), &["rev-parse", "side"]).trim().to_string();
    let (status, _) = api(&app, &reviewer, &format!("/api/v1/pins/{a}/history/{b}/commits/{side}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "a commit off the first-parent line");
    let failed = app.events("blame.open").await;
    assert!(failed.iter().any(|e| e.leaf.contains("no such file")), "a blame of no file is recorded");

    // Without a grant for one of the pins, history and blame answer as for no pin at all.
    let grants = app.grants().await;
    for grant in grants.iter().filter(|g| g.reviewer == "reviewer" && g.pin == b) {
        app.domain.access().revoke_grant(Actor::Operator, grant.id, None).await.unwrap();
    }
    let (status, body) = api(&app, &reviewer, &format!("/api/v1/pins/{a}/history/{b}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, _) = api(&app, &reviewer, &format!("/api/v1/pins/{b}/blame?path=src/main.rs")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
