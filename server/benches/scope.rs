//! Grants limited to paths, against the real server (release build) over HTTP on the corpus (v2.0
//! pinned and indexed): the same searches, tree and file pages for a reviewer whose grant has no
//! patterns and for one whose grant has 50 (`fifty_patterns`), which together cover nearly all of
//! the pin, so that the figures differ by what matching the patterns costs and not by what is read.
//!
//!     bash ../shared/corpus/make-corpus.sh /tmp/corpus
//!     cargo bench -p server --bench scope -- /tmp/corpus/corpus.git
//!
//! Prints medians of 7 warm runs each and how much of the pin the scope covers; it asserts
//! nothing about time.

use app::model::Role;
use clearroom::auth::Password;
use clearroom::clock::Clock;
use clearroom::config::{Config, SourceLimits};
use clearroom::domain::Actor;
use clearroom::startup::{open_domain, Application};
use std::path::Path;
use std::time::{Duration, Instant};

const PASSWORD: &str = "quiet orchard lamp 2026";

/// 50 patterns covering the whole pin but for one small directory: one `NAME/**` for each
/// directory one level down (there, the vendored crates) and each file at the top, then as
/// many of the directories a level further down as make 49, then a `!` pattern taking out the
/// last crate's tests.
fn fifty_patterns(repository: &Path) -> Vec<String> {
    let repo = git2::Repository::open_bare(repository).unwrap();
    let tree = repo.revparse_single("v2.0").unwrap().peel_to_tree().unwrap();
    let (mut covering, mut further) = (Vec::new(), Vec::new());
    for top in tree.iter() {
        let name = top.name().unwrap().to_string();
        if top.kind() != Some(git2::ObjectType::Tree) {
            covering.push(format!("/{name}"));
            continue;
        }
        for entry in repo.find_tree(top.id()).unwrap().iter() {
            let path = format!("{name}/{}", entry.name().unwrap());
            covering.push(if entry.kind() == Some(git2::ObjectType::Tree) {
                format!("{path}/**")
            } else {
                format!("/{path}")
            });
            if entry.kind() == Some(git2::ObjectType::Tree) {
                for below in
                    repo.find_tree(entry.id()).unwrap().iter().filter(|e| e.kind() == Some(git2::ObjectType::Tree))
                {
                    further.push(format!("{path}/{}/**", below.name().unwrap()));
                }
            }
        }
    }
    // Patterns past 49 would each cover one directory: they are folded into a `**` for the rest.
    if covering.len() > 49 {
        covering.truncate(48);
        covering.push("**".into());
    }
    let mut patterns = covering;
    patterns.extend(further.into_iter().take(49usize.saturating_sub(patterns.len())));
    let last = patterns.iter().rev().find(|p| p.ends_with("/**")).cloned().unwrap_or_default();
    patterns.push(format!("!{}/tests/**", last.trim_end_matches("/**")));
    patterns
}

async fn sign_in(url: &str, username: &str) -> reqwest::Client {
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{url}/login"))
        .header("origin", url)
        .form(&[("username", username), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    client
}

async fn timed(client: &reqwest::Client, url: &str) -> (Duration, String) {
    let started = Instant::now();
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "{url}");
    let body = response.text().await.unwrap();
    (started.elapsed(), body)
}

async fn warm(client: &reqwest::Client, url: &str) -> Duration {
    timed(client, url).await;
    let mut times = Vec::new();
    for _ in 0..7 {
        times.push(timed(client, url).await.0);
    }
    times.sort();
    times[times.len() / 2]
}

fn ms(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1e3)
}

#[tokio::main]
async fn main() {
    let repository =
        std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_else(|| "/tmp/corpus/corpus.git".into());
    let repository = Path::new(&repository).canonicalize().expect("the corpus repository (make-corpus.sh)");
    let dir = tempfile::tempdir().unwrap();
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().to_path_buf(),
        database_url: Config::default_database_url(dir.path()),
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
    let domain = open_domain(&config).await.unwrap();
    let admin = domain.admin();
    for name in ["whole", "lab"] {
        admin.create_user(Actor::Operator, name, Role::Reviewer, Some(Password::new(PASSWORD.into()))).await.unwrap();
    }
    admin.import_repository(Actor::Operator, "corpus", &repository.display().to_string()).await.unwrap();
    let pin = admin.create_pin(Actor::Operator, "corpus", "v2.0", "v2.0").await.unwrap();
    while domain.jobs().run_next_job().await.unwrap() {}
    let patterns = fifty_patterns(&repository);
    let now = domain.clock().now_ms();
    let window = (now - 1000, now + 24 * 3_600_000);
    domain.access().grant_paths(Actor::Operator, "whole", &[pin], window, &[]).await.unwrap();
    domain.access().grant_paths(Actor::Operator, "lab", &[pin], window, &patterns).await.unwrap();
    let application = Application::build(config, domain).await.unwrap();
    let url = format!("http://{}", application.address());
    tokio::spawn(async move {
        let _ = application.run_until_stopped().await;
    });
    let (whole, lab) = (sign_in(&url, "whole").await, sign_in(&url, "lab").await);

    let count = |body: &str| -> u64 {
        let json: serde_json::Value = serde_json::from_str(body).unwrap();
        json["total"]["files"].as_u64().unwrap_or(0)
    };
    let everything = format!("{url}/api/v1/pins/{pin}/search?q=%5Cw&re=1");
    let (_, all) = timed(&whole, &everything).await;
    let (_, scoped) = timed(&lab, &everything).await;
    println!(
        "{} patterns; files with a word character: {} unscoped, {} in scope",
        patterns.len(),
        count(&all),
        count(&scoped)
    );
    // The first scoped request works out the pin's paths in scope from its tree (once per pin and scope).
    let lab_fresh = sign_in(&url, "lab").await;
    let (first_tree, _) = timed(&lab_fresh, &format!("{url}/pins/{pin}/tree")).await;
    println!("{:<52} {:>10}", "first tree page with the scope (cold paths)", ms(first_tree));
    println!("{:<52} {:>10} {:>10} {:>8}", "request (warm medians)", "unscoped", "50 patt.", "ratio");
    for (name, path) in [
        ("literal search, no match (all of v2.0)", format!("/api/v1/pins/{pin}/search?q=ZZZZ_NOT_ANYWHERE")),
        ("literal search \"unsafe fn\", first page", format!("/api/v1/pins/{pin}/search?q=unsafe+fn")),
        ("regex search fn\\s+\\w+_unchecked", format!("/api/v1/pins/{pin}/search?q=fn%5Cs%2B%5Cw%2B_unchecked&re=1")),
        ("go to file \"sqlite3c\"", format!("/api/v1/pins/{pin}/files?q=sqlite3c")),
        ("tree page, root", format!("/pins/{pin}/tree")),
    ] {
        let plain = warm(&whole, &format!("{url}{path}")).await;
        let limited = warm(&lab, &format!("{url}{path}")).await;
        let ratio = limited.as_secs_f64() / plain.as_secs_f64();
        println!("{name:<52} {:>10} {:>10} {:>8.2}", ms(plain), ms(limited), ratio);
    }
}
