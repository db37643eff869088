//! Imported tool results against the real server (release build) over HTTP: a SARIF log of
//! 100,000 results over a pin of 2,000 C files (each result's URI under a lab's checkout, as tools
//! write them), imported and placed; then the file view of a file with 500 results on its lines
//! beside the same file (same bytes, another path) with none.
//!
//!     cargo bench -p server --bench sarif
//!
//! Prints the import's time and the medians of 101 warm views each, taken in turn, compressed (as
//! browsers ask) and not; it asserts nothing about time.

use app::model::Role;
use clearroom::auth::Password;
use clearroom::clock::Clock;
use clearroom::config::{Config, SourceLimits};
use clearroom::domain::Actor;
use clearroom::startup::{open_domain, Application};
use std::time::{Duration, Instant};

const PASSWORD: &str = "quiet orchard lamp 2026";
const FILES: usize = 2_000;
const LINES: usize = 1_000;
const RESULTS: usize = 100_000;
const ON_HOT: usize = 500;

fn c_file(seed: usize) -> Vec<u8> {
    let mut text = String::from("#include <string.h>\n\n");
    for line in 2..LINES {
        text.push_str(&format!(
            "static int f{seed}_{line}(char *d, const char *s) {{ strcpy(d, s); return {line}; }}\n"
        ));
    }
    text.into_bytes()
}

/// The log: `ON_HOT` results on `src/hot.c`, the rest spread over the other files.
fn log() -> Vec<u8> {
    let rules = serde_json::json!([{"id": "FF1001", "name": "buffer/strcpy", "defaultConfiguration": {"level": "error"},
        "relationships": [{"target": {"id": "CWE-120", "toolComponent": {"name": "CWE"}}}]}]);
    let results: Vec<serde_json::Value> = (0..RESULTS)
        .map(|n| {
            let (path, line) = if n < ON_HOT {
                ("src/hot.c".to_string(), 3 + n % (LINES - 4))
            } else {
                (format!("src/d{}/f{}.c", n % 40, n % FILES), 3 + n % (LINES - 4))
            };
            serde_json::json!({
                "ruleId": "FF1001", "ruleIndex": 0, "level": "error",
                "message": {"text": "buffer/strcpy:Does not check for buffer overflows when copying to destination (CWE-120)."},
                "locations": [{"physicalLocation": {
                    "artifactLocation": {"uri": format!("file:///home/lab/checkout/{path}")},
                    "region": {"startLine": line, "startColumn": 5}}}]
            })
        })
        .collect();
    serde_json::to_vec(&serde_json::json!({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "Flawfinder", "version": "2.0.19", "rules": rules}}, "results": results}]}))
    .unwrap()
}

async fn sign_in(url: &str) -> (reqwest::Client, String) {
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{url}/login"))
        .header("origin", url)
        .form(&[("username", "lab"), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let home = client.get(format!("{url}/")).send().await.unwrap().text().await.unwrap();
    let at = home.find("name=\"csrf\" value=\"").expect("a form on the home page") + 19;
    let csrf = home[at..at + home[at..].find('"').unwrap()].to_string();
    (client, csrf)
}

/// One view's time; `gzip` asks for a compressed page, as browsers do (the bytes are read, not
/// decoded: that is the browser's time).
async fn view(client: &reqwest::Client, url: &str, gzip: bool) -> Duration {
    let started = Instant::now();
    let mut request = client.get(url);
    if gzip {
        request = request.header("accept-encoding", "gzip, deflate, br, zstd");
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    response.bytes().await.unwrap();
    started.elapsed()
}

/// The medians of `ROUNDS` warm views of each of two pages, taken in turn (so that the machine's
/// drift, ±30 % on this VM, falls on both alike), after one of each.
async fn side_by_side(client: &reqwest::Client, a: &str, b: &str, gzip: bool) -> (Duration, Duration) {
    const ROUNDS: usize = 101;
    view(client, a, gzip).await;
    view(client, b, gzip).await;
    let (mut first, mut second) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        first.push(view(client, a, gzip).await);
        second.push(view(client, b, gzip).await);
    }
    first.sort();
    second.sort();
    (first[ROUNDS / 2], second[ROUNDS / 2])
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let repository = dir.path().join("product.git");
    let repo = git2::Repository::init_bare(&repository).unwrap();
    let hot = c_file(0);
    let mut files: Vec<(String, Vec<u8>)> = vec![("src/hot.c".into(), hot.clone()), ("src/cold.c".into(), hot)];
    files.extend((0..FILES).map(|n| (format!("src/d{}/f{n}.c", n % 40), c_file(n + 1))));
    let named: Vec<(&str, Vec<u8>)> = files.iter().map(|(p, b)| (p.as_str(), b.clone())).collect();
    clearroom::demo::write_commit(&repo, &named, "Release").unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        database_url: Config::default_database_url(&dir.path().join("data")),
        site_root: dir.path().join("site"),
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
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let domain = open_domain(&config).await.unwrap();
    let admin = domain.admin();
    admin.create_user(Actor::Operator, "lab", Role::Reviewer, Some(Password::new(PASSWORD.into()))).await.unwrap();
    admin.import_repository(Actor::Operator, "product", &repository.display().to_string()).await.unwrap();
    let pin = admin.create_pin(Actor::Operator, "product", "HEAD", "Release").await.unwrap();
    while domain.jobs().run_next_job().await.unwrap() {}
    let now = domain.clock().now_ms();
    domain.access().grant(Actor::Operator, "lab", &[pin], now - 1000, now + 3_600_000).await.unwrap();
    let application = Application::build(config, domain).await.unwrap();
    let url = format!("http://{}", application.address());
    tokio::spawn(async move {
        let _ = application.run_until_stopped().await;
    });
    let (client, csrf) = sign_in(&url).await;
    let body = log();
    let bytes = body.len();
    // While the log is imported, another reader views a file every 50 ms: the longest view is how
    // long a recorded action waits on the import.
    let (other, _) = sign_in(&url).await;
    let importing = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let watcher = {
        let (importing, view) = (importing.clone(), format!("{url}/pins/{pin}/blob/src/cold.c"));
        tokio::spawn(async move {
            let mut longest = Duration::ZERO;
            while importing.load(std::sync::atomic::Ordering::Relaxed) {
                let started = Instant::now();
                let response = other.get(&view).send().await.unwrap();
                assert_eq!(response.status(), 200);
                response.bytes().await.unwrap();
                longest = longest.max(started.elapsed());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            longest
        })
    };
    let started = Instant::now();
    let response = client
        .post(format!("{url}/api/v1/pins/{pin}/sarif"))
        .header("origin", &url)
        .header("x-csrf-token", &csrf)
        .header("content-type", "application/sarif+json")
        .body(body)
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    importing.store(false, std::sync::atomic::Ordering::Relaxed);
    let longest = watcher.await.unwrap();
    let status = response.status();
    let imported: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 201, "{imported}");
    println!(
        "import of {RESULTS} results ({:.1} MB) over {} files: {:.2} s ({} placed)",
        bytes as f64 / 1e6,
        FILES + 2,
        took.as_secs_f64(),
        imported["placed"]
    );
    println!("the longest file view meanwhile (another reader, every 50 ms): {:.0} ms", longest.as_secs_f64() * 1e3);
    for (gzip, how) in [(true, "compressed, as browsers ask"), (false, "uncompressed")] {
        let (cold, hot) = side_by_side(
            &client,
            &format!("{url}/pins/{pin}/blob/src/cold.c"),
            &format!("{url}/pins/{pin}/blob/src/hot.c"),
            gzip,
        )
        .await;
        println!(
            "file view, {LINES} lines, {how}: without results {:.1} ms, with {ON_HOT} results {:.1} ms (ratio {:.2})",
            cold.as_secs_f64() * 1e3,
            hot.as_secs_f64() * 1e3,
            hot.as_secs_f64() / cold.as_secs_f64()
        );
    }
}
