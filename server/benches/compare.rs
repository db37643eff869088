//! Compare and search benchmark against the real server (release build) over HTTP, on the corpus
//! (v1.0 and v2.0 pinned): the changed-file list cold (computed ahead by the pin's job, and not) and warm, a ~5,000-line file's diff page,
//! literal and regular-expression searches over all of v2.0 (cold: a fresh server; warm: again),
//! and the file finder. `rg` on the corpus work tree (v2.0), when installed, is the reference.
//!
//!     bash ../shared/corpus/make-corpus.sh /tmp/corpus
//!     cargo bench -p server --bench compare -- /tmp/corpus/corpus.git
//!
//! Then agreement with git, in alternating rounds: every page of a search walked by its cursor
//! against `git grep` and `rg` (times, and files and lines found by each), and the changed-file
//! list against `git diff --numstat -M` (times, renames, and line totals).
//!
//! Prints medians; it asserts nothing about time.

use app::model::Role;
use clearroom::auth::Password;
use clearroom::clock::Clock;
use clearroom::config::{Config, SourceLimits};
use clearroom::domain::Actor;
use clearroom::startup::{open_domain, Application};
use std::path::Path;
use std::time::{Duration, Instant};

const PASSWORD: &str = "quiet orchard lamp 2026";

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

struct Server {
    url: String,
    client: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

async fn start(dir: &Path, repository: &Path, first: bool) -> Server {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.to_path_buf(),
        database_url: Config::default_database_url(dir),
        site_root: dir.join("site"),
        limits: SourceLimits::default(),
        log_key: None,
        log_origin: "bench.invalid/clearroom/log".into(),
        witness_policy: None,
        clock: Clock::system(),
        network: Default::default(),
        import_roots: Vec::new(),
        require_staff_second_factor: false,
        connections: Default::default(),
        room: Default::default(),
    };
    let domain = open_domain(&config).await.unwrap();
    if first {
        domain
            .admin()
            .create_user(Actor::Operator, "bench", Role::Staff, Some(Password::new(PASSWORD.into())))
            .await
            .unwrap();
        domain.admin().import_repository(Actor::Operator, "corpus", &repository.display().to_string()).await.unwrap();
        domain.admin().create_pin(Actor::Operator, "corpus", "v1.0", "v1.0").await.unwrap();
        domain.admin().create_pin(Actor::Operator, "corpus", "v2.0", "v2.0").await.unwrap();
        let started = Instant::now();
        while domain.jobs().run_next_job().await.unwrap() {}
        println!(
            "indexed both pins and found their definitions (and v1.0→v2.0) in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let application = Application::build(config, domain).await.unwrap();
    let url = format!("http://{}", application.address());
    let task = tokio::spawn(async move {
        let _ = application.run_until_stopped().await;
    });
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{url}/login"))
        .header("origin", &url)
        .form(&[("username", "bench"), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    Server { url, client, task }
}

async fn timed(server: &Server, path: &str) -> (Duration, usize) {
    let started = Instant::now();
    let response = server.client.get(format!("{}{path}", server.url)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let bytes = response.bytes().await.unwrap().len();
    (started.elapsed(), bytes)
}

async fn warm(server: &Server, path: &str, runs: usize) -> Duration {
    timed(server, path).await;
    let mut times = Vec::new();
    for _ in 0..runs {
        times.push(timed(server, path).await.0);
    }
    median(times)
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

/// A changed (modified, or renamed with a new crate version) Rust file of about 5,000 lines at
/// v2.0: (its path, its old path).
fn five_thousand_line_change(repository: &Path) -> (String, String) {
    let repo = git2::Repository::open_bare(repository).unwrap();
    let old = repo.revparse_single("v1.0").unwrap().peel_to_tree().unwrap();
    let new = repo.revparse_single("v2.0").unwrap().peel_to_tree().unwrap();
    let mut diff = repo.diff_tree_to_tree(Some(&old), Some(&new), None).unwrap();
    diff.find_similar(Some(git2::DiffFindOptions::new().renames(true).rename_limit(10_000))).unwrap();
    let mut best: Option<(usize, (String, String))> = None;
    for delta in diff.deltas() {
        if !matches!(delta.status(), git2::Delta::Modified | git2::Delta::Renamed)
            || delta.old_file().id() == delta.new_file().id()
        {
            continue;
        }
        let Some(path) = delta.new_file().path().and_then(|p| p.to_str()).map(str::to_string) else { continue };
        let old_path = delta.old_file().path().and_then(|p| p.to_str()).unwrap_or("").to_string();
        if !path.ends_with(".rs") {
            continue;
        }
        let lines = repo
            .find_blob(delta.new_file().id())
            .map(|b| b.content().iter().filter(|c| **c == b'\n').count())
            .unwrap_or(0);
        let distance = lines.abs_diff(5_000);
        if best.as_ref().is_none_or(|(d, _)| distance < *d) {
            best = Some((distance, (path, old_path)));
        }
    }
    best.expect("a changed Rust file").1
}

fn ripgrep(work: &Path, args: &[&str]) -> Option<Duration> {
    let mut times = Vec::new();
    for _ in 0..3 {
        let started = Instant::now();
        let status =
            std::process::Command::new("rg").args(args).arg(work).stdout(std::process::Stdio::null()).status().ok()?;
        if status.code().is_none_or(|c| c > 1) {
            return None;
        }
        times.push(started.elapsed());
    }
    Some(median(times))
}

#[tokio::main]
async fn main() {
    let repository =
        std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_else(|| "/tmp/corpus/corpus.git".into());
    let repository = Path::new(&repository).canonicalize().expect("the corpus repository (make-corpus.sh)");
    let work = repository.parent().map(|p| p.join("work")).filter(|w| w.exists());
    let (target, old_target) = five_thousand_line_change(&repository);
    let dir = tempfile::tempdir().unwrap();

    let literal = "/api/v1/pins/2/search?q=ZZZZ_NOT_ANYWHERE";
    let common = "/api/v1/pins/2/search?q=unsafe+fn";
    let regex = "/api/v1/pins/2/search?q=fn%5Cs%2B%5Cw%2B_unchecked&re=1";

    // Cold: a fresh server (empty caches) for each first request.
    let server = start(dir.path(), &repository, true).await;
    let (list_cold, list_bytes) = timed(&server, "/api/v1/pins/1/compare/2").await;
    let (literal_cold, _) = timed(&server, literal).await;
    server.task.abort();
    // The same list when nothing computed it ahead: the kept lists removed, a fresh server.
    for entry in std::fs::read_dir(dir.path().join("index")).unwrap().flatten() {
        if entry.file_name().to_string_lossy().starts_with("compare-") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    let server = start(dir.path(), &repository, false).await;
    let (list_computed, _) = timed(&server, "/api/v1/pins/1/compare/2").await;
    server.task.abort();
    let server = start(dir.path(), &repository, false).await;
    let (regex_cold, _) = timed(&server, regex).await;

    println!("{:<58} {:>10}", "request", "time");
    println!(
        "{:<58} {:>10}   ({list_bytes} bytes)",
        "changed-file list v1.0 → v2.0, cold (computed by v2.0's job)",
        ms(list_cold)
    );
    println!("{:<58} {:>10}", "changed-file list, cold, nothing computed ahead", ms(list_computed));
    println!("{:<58} {:>10}", "changed-file list, warm", ms(warm(&server, "/api/v1/pins/1/compare/2", 5).await));
    println!(
        "{:<58} {:>10}",
        "changed-file list page (HTML, 300 files), warm",
        ms(warm(&server, "/pins/1/compare/2", 5).await)
    );
    let diff = format!("/pins/1/compare/2/{target}?from={old_target}");
    println!("{:<58} {:>10}   {target}", "~5,000-line file diff page, warm", ms(warm(&server, &diff, 10).await));
    println!("{:<58} {:>10}", "literal search, no match (all of v2.0), cold", ms(literal_cold));
    println!("{:<58} {:>10}", "literal search, no match, warm", ms(warm(&server, literal, 5).await));
    println!("{:<58} {:>10}", "literal search \"unsafe fn\" (first page), warm", ms(warm(&server, common, 5).await));
    println!("{:<58} {:>10}", "regex search fn\\s+\\w+_unchecked, cold", ms(regex_cold));
    println!("{:<58} {:>10}", "regex search, warm", ms(warm(&server, regex, 5).await));
    println!(
        "{:<58} {:>10}",
        "go to file \"sqlite3c\", warm",
        ms(warm(&server, "/api/v1/pins/2/files?q=sqlite3c", 10).await)
    );
    println!(
        "{:<58} {:>10}",
        "go to definition \"sqlite3_open\", warm",
        ms(warm(&server, "/api/v1/pins/2/symbols/sqlite3_open", 5).await)
    );
    if let Some(work) = &work {
        for (name, args) in [
            ("rg ZZZZ_NOT_ANYWHERE (the same tree, warm page cache)", vec!["-i", "ZZZZ_NOT_ANYWHERE"]),
            ("rg 'fn\\s+\\w+_unchecked'", vec!["-i", r"fn\s+\w+_unchecked"]),
        ] {
            match ripgrep(work, &args) {
                Some(time) => println!("{name:<58} {:>10}", ms(time)),
                None => println!("{name:<58} {:>10}", "(rg not installed)"),
            }
        }
    }
    agreement(&server, &repository, work.as_deref()).await;
}

/// Every page of a search through the API, by cursor, 500 files a page: (time, files, lines, the
/// totals it gave).
async fn all_pages(server: &Server, query: &str) -> (Duration, u64, u64, serde_json::Value) {
    let started = Instant::now();
    let (mut files, mut lines, mut total, mut cursor) = (0u64, 0u64, serde_json::Value::Null, None::<String>);
    let mut last = String::new();
    loop {
        let url = match &cursor {
            Some(c) => format!("{}/api/v1/pins/2/search?{query}&lines=all&per_page=500&cursor={c}", server.url),
            None => format!("{}/api/v1/pins/2/search?{query}&lines=all&per_page=500", server.url),
        };
        let page: serde_json::Value = server.client.get(url).send().await.unwrap().json().await.unwrap();
        assert_eq!(page["truncated"], false, "{query}: a page ran out of time");
        if total.is_null() {
            total = page["total"].clone();
        }
        for result in page["results"].as_array().unwrap() {
            // A file continued on the next page is one file.
            let path = result["path"].as_str().unwrap_or("");
            files += u64::from(path != last);
            last = path.to_string();
            lines += result["matches"].as_array().unwrap().len() as u64;
        }
        match page["next"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return (started.elapsed(), files, lines, total),
        }
    }
}

/// Runs a command; (time, its output).
fn timed_command(program: &str, args: &[&str]) -> Option<(Duration, String)> {
    let started = Instant::now();
    let output = std::process::Command::new(program).args(args).output().ok()?;
    Some((started.elapsed(), String::from_utf8_lossy(&output.stdout).into_owned()))
}

/// Files and lines in `path:line:text` output (one file's lines together).
fn files_and_lines(output: &str, skip_prefix: &str) -> (u64, u64) {
    let (mut files, mut lines, mut last) = (0u64, 0u64, String::new());
    for line in output.lines() {
        let rest = line.strip_prefix(skip_prefix).unwrap_or(line);
        let path = rest.split(':').next().unwrap_or("");
        if path != last {
            files += 1;
            last = path.to_string();
        }
        lines += 1;
    }
    (files, lines)
}

async fn agreement(server: &Server, repository: &Path, work: Option<&Path>) {
    let git_dir = repository.display().to_string();
    println!();
    println!("agreement with git (medians of 3 alternating rounds; files / lines found)");
    for (label, query, pattern) in
        [("return", "q=return&case=1", "return"), ("unsafe fn", "q=unsafe+fn&case=1", "unsafe fn")]
    {
        let (mut first, mut ours, mut grep, mut rg) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let (mut ours_found, mut grep_found, mut rg_found, mut totals) =
            ((0, 0), (0, 0), (0, 0), serde_json::Value::Null);
        for _ in 0..3 {
            first.push(timed(server, &format!("/api/v1/pins/2/search?{query}")).await.0);
            let (time, files, lines, total) = all_pages(server, query).await;
            ours.push(time);
            ours_found = (files, lines);
            totals = total;
            if let Some((time, out)) =
                timed_command("git", &["--git-dir", &git_dir, "grep", "-n", "-I", "-F", pattern, "v2.0"])
            {
                grep.push(time);
                grep_found = files_and_lines(&out, "v2.0:");
            }
            if let Some(work) = work {
                let work = work.display().to_string();
                if let Some((time, out)) =
                    timed_command("rg", &["-n", "-F", "--no-heading", "--sort", "path", pattern, &work])
                {
                    rg.push(time);
                    rg_found = files_and_lines(&out, &format!("{work}/"));
                }
            }
        }
        println!(
            "  {label:<10} page 1 {:>10}   all pages {:>10} {ours_found:?} (total {totals})",
            ms(median(first)),
            ms(median(ours))
        );
        if !grep.is_empty() {
            println!("  {:<10} git grep -n -I -F {:>10} {grep_found:?}", "", ms(median(grep)));
        }
        if !rg.is_empty() {
            println!("  {:<10} rg -n -F --sort path {:>10} {rg_found:?}", "", ms(median(rg)));
        }
    }
    let (mut ours, mut git) = (Vec::new(), Vec::new());
    let (mut ours_sums, mut git_sums) = ((0u64, 0u64, 0u64, 0u64), (0u64, 0u64, 0u64, 0u64));
    for _ in 0..3 {
        let started = Instant::now();
        let (mut page, mut sums) = (1, (0u64, 0u64, 0u64, 0u64));
        loop {
            let url = format!("{}/api/v1/pins/1/compare/2?page={page}", server.url);
            let body: serde_json::Value = server.client.get(url).send().await.unwrap().json().await.unwrap();
            for file in body["files"].as_array().unwrap() {
                sums.0 += 1;
                sums.1 += u64::from(file["status"] == "renamed");
                sums.2 += file["additions"].as_u64().unwrap_or(0);
                sums.3 += file["deletions"].as_u64().unwrap_or(0);
            }
            match body["next_page"].as_u64() {
                Some(next) => page = next as u32,
                None => break,
            }
        }
        ours.push(started.elapsed());
        ours_sums = sums;
        if let Some((time, out)) =
            timed_command("git", &["--git-dir", &git_dir, "diff", "--numstat", "-M", "v1.0", "v2.0"])
        {
            git.push(time);
            let mut sums = (0u64, 0u64, 0u64, 0u64);
            for line in out.lines() {
                let fields: Vec<&str> = line.splitn(3, '\t').collect();
                sums.0 += 1;
                sums.1 += u64::from(fields[2].contains(" => "));
                sums.2 += fields[0].parse::<u64>().unwrap_or(0);
                sums.3 += fields[1].parse::<u64>().unwrap_or(0);
            }
            git_sums = sums;
        }
    }
    println!("  compare v1.0 → v2.0, every page (files, renames, +, -): {:>10} {ours_sums:?}", ms(median(ours)));
    println!("  git diff --numstat -M v1.0 v2.0:                       {:>10} {git_sums:?}", ms(median(git)));
}
