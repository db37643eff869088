//! Browsing benchmark against the real server (release build), over HTTP, as a signed-in staff
//! member: cold (a fresh server, empty highlight cache) and warm times for a ~5,000-line Rust file,
//! for sqlite3.c, and for the largest directory listing, each including its audit event. Then the
//! same warm pages once sqlite3.c, compiled by gcc with `-g`, is an artifact of the pin with its
//! compiled-code map: sqlite3.c's page carries the marks of its compiled lines.
//!
//!     bash ../shared/corpus/make-corpus.sh /tmp/corpus
//!     cargo bench -p server --bench browse -- /tmp/corpus/corpus.git
//!
//! Prints medians; it asserts nothing about time.

use app::model::Role;
use clearroom::auth::Password;
use clearroom::config::{Config, SourceLimits};
use clearroom::domain::Actor;
use clearroom::startup::{open_domain, Application};
use std::path::Path;
use std::time::{Duration, Instant};

const PASSWORD: &str = "quiet orchard lamp 2026";
const COLD_RUNS: usize = 3;
const WARM_RUNS: usize = 10;

/// Finds the benchmark targets in the pinned tree.
fn targets(repository: &Path) -> (String, String, String) {
    let repo = git2::Repository::open_bare(repository).expect("open corpus");
    let tree = repo.revparse_single("HEAD").unwrap().peel_to_tree().unwrap();
    let mut rust: Option<(usize, String)> = None;
    let mut sqlite = None;
    let mut largest_dir: (usize, String) = (tree.len(), String::new());
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let path = format!("{dir}{}", entry.name().unwrap_or(""));
        match entry.kind() {
            Some(git2::ObjectType::Tree) => {
                let len = repo.find_tree(entry.id()).map(|t| t.len()).unwrap_or(0);
                if len > largest_dir.0 {
                    largest_dir = (len, path);
                }
            }
            Some(git2::ObjectType::Blob) if path.ends_with("/sqlite3.c") && sqlite.is_none() => {
                sqlite = Some(path);
            }
            Some(git2::ObjectType::Blob) if path.ends_with(".rs") => {
                if let Ok(blob) = repo.find_blob(entry.id()) {
                    let lines = blob.content().iter().filter(|b| **b == b'\n').count();
                    let distance = lines.abs_diff(5_000);
                    if rust.as_ref().map(|(d, _)| distance < *d).unwrap_or(true) {
                        rust = Some((distance, path));
                    }
                }
            }
            _ => {}
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    println!("largest directory: {} ({} entries)", largest_dir.1, largest_dir.0);
    (rust.expect("a Rust file").1, sqlite.expect("sqlite3.c"), largest_dir.1)
}

struct Server {
    url: String,
    client: reqwest::Client,
    _runtime_guard: tokio::task::JoinHandle<()>,
}

fn bench_config(data_dir: &Path) -> Config {
    Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data_dir.to_path_buf(),
        database_url: Config::default_database_url(data_dir),
        site_root: data_dir.join("site"),
        limits: SourceLimits::default(),
        log_key: None,
        log_origin: "test.invalid/clearroom/log".into(),
        witness_policy: None,
        clock: clearroom::clock::Clock::system(),
        network: Default::default(),
        import_roots: Vec::new(),
        require_staff_second_factor: false,
        connections: Default::default(),
        room: Default::default(),
    }
}

async fn start(data_dir: &Path, repository: &Path, first: bool) -> Server {
    let config = bench_config(data_dir);
    let domain = open_domain(&config).await.unwrap();
    if first {
        domain
            .admin()
            .create_user(Actor::Operator, "bench", Role::Staff, Some(Password::new(PASSWORD.into())))
            .await
            .unwrap();
        domain.admin().import_repository(Actor::Operator, "corpus", &repository.display().to_string()).await.unwrap();
        domain.admin().create_pin(Actor::Operator, "corpus", "HEAD", "v2.0").await.unwrap();
        // The same commit again: the pin the compiled-code marks are compared against.
        domain.admin().create_pin(Actor::Operator, "corpus", "HEAD", "v2.0 (no artifacts)").await.unwrap();
    }
    let application = Application::build(config, domain).await.unwrap();
    let url = format!("http://{}", application.address());
    let handle = tokio::spawn(async move {
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
    assert_eq!(response.status(), 303, "bench sign-in");
    Server { url, client, _runtime_guard: handle }
}

async fn fetch(server: &Server, path: &str) -> (Duration, usize) {
    let started = Instant::now();
    let response = server.client.get(format!("{}{}", server.url, path)).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let body = response.bytes().await.unwrap();
    (started.elapsed(), body.len())
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

#[tokio::main]
async fn main() {
    let repository =
        std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_else(|| "/tmp/corpus/corpus.git".into());
    let repository = Path::new(&repository).canonicalize().expect("the corpus repository (make-corpus.sh)");
    let (rust, sqlite, directory) = targets(&repository);
    let dir = tempfile::tempdir().unwrap();
    let pages = [
        ("~5,000-line Rust file", format!("/pins/1/blob/{rust}")),
        ("sqlite3.c", format!("/pins/1/blob/{sqlite}")),
        ("largest directory", format!("/pins/1/tree/{directory}")),
    ];
    let mut cold: Vec<Vec<Duration>> = vec![Vec::new(); pages.len()];
    for run in 0..COLD_RUNS {
        // A fresh server each time: empty highlight cache, fresh git handles.
        let server = start(dir.path(), &repository, run == 0).await;
        for (i, (_, path)) in pages.iter().enumerate() {
            cold[i].push(fetch(&server, path).await.0);
        }
        server._runtime_guard.abort();
    }
    let server = start(dir.path(), &repository, false).await;
    println!("{:<24} {:>10} {:>10} {:>12}", "page", "cold", "warm", "bytes");
    for (i, (name, path)) in pages.iter().enumerate() {
        let (warm, bytes) = warm_median(&server, path).await;
        println!(
            "{:<24} {:>8.1}ms {:>8.1}ms {:>12}   {}",
            name,
            median(cold[i].clone()).as_secs_f64() * 1e3,
            warm.as_secs_f64() * 1e3,
            bytes,
            path
        );
    }
    // sqlite3.c compiled with debug information, recorded at pin 1, and its map built by the
    // server; pin 2 is the same commit without artifacts. Warm fetches of each page at the two pins
    // alternate, once the pins' background jobs are done.
    let object = compile_sqlite(&repository, &sqlite, dir.path());
    map_artifact(&server, dir.path(), &object).await;
    jobs_done(dir.path()).await;
    let page = server.client.get(format!("{}/pins/1/blob/{sqlite}?from=100001", server.url)).send().await.unwrap();
    let page = page.text().await.unwrap();
    let bar = page.find("compiled-bar").map(|at| &page[at..(at + 160).min(page.len())]);
    println!("sqlite3.c lines 100,001–: {bar:?}");
    let marked_pages = [
        ("~5,000-line Rust file", format!("blob/{rust}")),
        ("sqlite3.c lines 1–4,000", format!("blob/{sqlite}")),
        ("sqlite3.c lines 100,001–", format!("blob/{sqlite}?from=100001")),
        ("largest directory", format!("tree/{directory}")),
    ];
    println!("warm, alternating: pin 1 with sqlite3.o's compiled-code map, pin 2 the same commit without");
    println!("{:<26} {:>10} {:>10} {:>8} {:>12} {:>12}", "page", "marked", "unmarked", "change", "bytes", "bytes");
    for (name, page) in &marked_pages {
        let (marked_path, plain_path) = (format!("/pins/1/{page}"), format!("/pins/2/{page}"));
        let (_, marked_bytes) = fetch(&server, &marked_path).await;
        let (_, plain_bytes) = fetch(&server, &plain_path).await;
        let (mut marked, mut plain) = (Vec::new(), Vec::new());
        for _ in 0..WARM_RUNS * 2 {
            marked.push(fetch(&server, &marked_path).await.0);
            plain.push(fetch(&server, &plain_path).await.0);
        }
        let (marked, plain) = (median(marked), median(plain));
        println!(
            "{:<26} {:>8.2}ms {:>8.2}ms {:>+7.1}% {:>12} {:>12}",
            name,
            marked.as_secs_f64() * 1e3,
            plain.as_secs_f64() * 1e3,
            (marked.as_secs_f64() / plain.as_secs_f64() - 1.0) * 100.0,
            marked_bytes,
            plain_bytes
        );
    }
}

/// Waits until every background job of both pins is done (pre-highlighting runs for minutes).
async fn jobs_done(data_dir: &Path) {
    let domain = open_domain(&bench_config(data_dir)).await.unwrap();
    let started = Instant::now();
    for pin in ["1", "2"] {
        let pin = app::model::PinId::parse(pin).unwrap();
        loop {
            let jobs = domain.jobs().pin_jobs(Actor::Operator, pin).await.unwrap();
            if jobs.iter().all(|job| job.state == "done" || job.state == "failed") {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
    println!("background jobs done after {:.0} s more", started.elapsed().as_secs_f64());
}

/// The median of warm fetches of a page, and its size.
async fn warm_median(server: &Server, path: &str) -> (Duration, usize) {
    let (_, bytes) = fetch(server, path).await;
    let mut warm = Vec::new();
    for _ in 0..WARM_RUNS {
        warm.push(fetch(server, path).await.0);
    }
    (median(warm), bytes)
}

/// `gcc -g -O1 -c sqlite3.c` on the pinned file, in its directory of the corpus' tree (so that the
/// debug information names the pinned path under one prefix).
fn compile_sqlite(repository: &Path, sqlite: &str, dir: &Path) -> std::path::PathBuf {
    let repo = git2::Repository::open_bare(repository).unwrap();
    let tree = repo.revparse_single("HEAD").unwrap().peel_to_tree().unwrap();
    let entry = tree.get_path(Path::new(sqlite)).unwrap();
    let source = dir.join("tree").join(sqlite);
    std::fs::create_dir_all(source.parent().unwrap()).unwrap();
    std::fs::write(&source, repo.find_blob(entry.id()).unwrap().content()).unwrap();
    let object = dir.join("sqlite3.o");
    let started = Instant::now();
    let status = std::process::Command::new("gcc")
        .args(["-g", "-O1", "-c"])
        .arg(&source)
        .arg("-o")
        .arg(&object)
        .current_dir(dir.join("tree"))
        .status()
        .expect("gcc");
    assert!(status.success(), "gcc sqlite3.c");
    println!("gcc -g -O1 -c sqlite3.c: {:.1} s", started.elapsed().as_secs_f64());
    object
}

/// Records the object as an artifact of pin 1 (the operator, as the command line does) and waits
/// for the server's own worker to build its map.
async fn map_artifact(server: &Server, data_dir: &Path, object: &Path) {
    let domain = open_domain(&bench_config(data_dir)).await.unwrap();
    let input = clearroom::domain::builds::BuildInput { name: "sqlite3.o".into(), ..Default::default() };
    let pin = app::model::PinId::parse("1").unwrap();
    let recorded = domain.builds().record_local_file(Actor::Operator, pin, &input, object, u64::MAX).await.unwrap();
    let url = format!("{}/api/v1/pins/{pin}/artifacts/{}/compiled", server.url, recorded.sha256);
    let started = Instant::now();
    loop {
        let map: serde_json::Value = server.client.get(&url).send().await.unwrap().json().await.unwrap();
        match map["state"].as_str() {
            Some("done") => {
                println!("the map: {} (prefix {})", map["totals"], map["source_prefix"]);
                break;
            }
            Some("queued" | "running") => {}
            _ => panic!("the map of sqlite3.o: {map}"),
        }
        assert!(started.elapsed() < Duration::from_secs(600), "the map of sqlite3.o took too long");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!("the map of sqlite3.o: {:.1} s", started.elapsed().as_secs_f64());
}
