//! Review benchmark against the real server (release build) over HTTP, on corpus v2.0:
//! the coverage page and its picture for a reviewer with 5,000 files shown, the coverage API with
//! 20 reviewers, a file view with 200 comments against the same view without, and a pin's
//! comment list with 10,000 comments, filtered.
//!
//!     bash ../shared/corpus/make-corpus.sh /tmp/corpus
//!     cargo bench -p server --bench review -- /tmp/corpus/corpus.git
//!
//! View events are appended to the log directly (as the views would have), in large transactions,
//! so that setting up 25,000 of them takes seconds; comments go through the domain as a reviewer's
//! would. Prints medians of warm requests; it asserts nothing about time.

use app::model::{Caller, Identity, NewComment, Role};
use clearroom::audit::{AuditLog, Event, Object, Outcome};
use clearroom::auth::Password;
use clearroom::clock::Clock;
use clearroom::config::{Config, SourceLimits};
use clearroom::domain::Actor;
use clearroom::startup::{open_domain, Application};
use std::path::Path;
use std::time::{Duration, Instant};

const PASSWORD: &str = "quiet orchard lamp 2026";
const RUNS: usize = 15;

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

async fn warm(client: &reqwest::Client, url: &str) -> (Duration, usize) {
    let first = client.get(url).send().await.unwrap();
    assert_eq!(first.status(), 200, "{url}");
    let bytes = first.bytes().await.unwrap().len();
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let response = client.get(url).send().await.unwrap();
        let _ = response.bytes().await.unwrap();
        times.push(started.elapsed());
    }
    (median(times), bytes)
}

/// Medians of `a` and `b`, requested in turn 60 times each after a warm-up.
async fn alternating(client: &reqwest::Client, a: &str, b: &str) -> ((Duration, usize), (Duration, usize)) {
    let (mut times_a, mut times_b, mut sizes) = (Vec::new(), Vec::new(), (0, 0));
    for round in 0..65 {
        for (url, times, size) in [(a, &mut times_a, &mut sizes.0), (b, &mut times_b, &mut sizes.1)] {
            let started = Instant::now();
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200, "{url}");
            *size = response.bytes().await.unwrap().len();
            if round >= 5 {
                times.push(started.elapsed());
            }
        }
    }
    ((median(times_a), sizes.0), (median(times_b), sizes.1))
}

async fn signed_in(url: &str, username: &str) -> reqwest::Client {
    let client =
        reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = client
        .post(format!("{url}/login"))
        .header("origin", url)
        .form(&[("username", username), ("password", PASSWORD), ("next", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303, "sign-in of {username}");
    client
}

fn caller(id: i64, username: &str) -> Caller {
    Caller {
        identity: Some(Identity { user_id: id, username: username.into(), role: Role::Reviewer }),
        session: Some("bench".into()),
        client_address: "127.0.0.1".into(),
        csrf_token: None,
        token: None,
        access_ends_ms: None,
    }
}

fn report(name: &str, (time, bytes): (Duration, usize)) {
    println!("{name:<52} {:>8.1} ms {:>10} bytes", time.as_secs_f64() * 1e3, bytes);
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
    let password = || Some(Password::new(PASSWORD.into()));
    domain.admin().create_user(Actor::Operator, "bench", Role::Staff, password()).await.unwrap();
    let mut reviewers = Vec::new();
    for i in 0..20 {
        let name = format!("r{i:02}");
        let (id, _) = domain.admin().create_user(Actor::Operator, &name, Role::Reviewer, password()).await.unwrap();
        reviewers.push((id, name));
    }
    domain.admin().import_repository(Actor::Operator, "corpus", &repository.display().to_string()).await.unwrap();
    let pin = domain.admin().create_pin(Actor::Operator, "corpus", "HEAD", "v2.0").await.unwrap();
    // The same release in a second repository: its files are the same, and no comment carries over.
    domain.admin().import_repository(Actor::Operator, "corpus-copy", &repository.display().to_string()).await.unwrap();
    let twin = domain.admin().create_pin(Actor::Operator, "corpus-copy", "HEAD", "v2.0 (copy)").await.unwrap();
    let now = domain.clock().now_ms();
    for (_, name) in &reviewers {
        domain.access().grant(Actor::Operator, name, &[pin, twin], now - 60_000, now + 24 * 3_600_000).await.unwrap();
    }
    let started = Instant::now();
    while domain.jobs().run_next_job().await.unwrap() {}
    println!("indexed the pin in {:.1} s", started.elapsed().as_secs_f64());

    // The pin's files with their blobs, as the views would have named them.
    let repo = git2::Repository::open_bare(&repository).unwrap();
    let tree = repo.revparse_single("HEAD").unwrap().peel_to_tree().unwrap();
    let mut files = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) && entry.filemode() != 0o120000 {
            files.push((format!("{dir}{}", entry.name().unwrap_or("")), entry.id().to_string()));
        }
        git2::TreeWalkResult::Ok
    })
    .unwrap();
    let commit = repo.revparse_single("HEAD").unwrap().peel_to_commit().unwrap().id().to_string();
    let store = clearroom::store::Store::connect(&config.database_url).await.unwrap();
    let log = AuditLog::new(store, Clock::system());
    let started = Instant::now();
    for (i, (id, name)) in reviewers.iter().enumerate() {
        let shown = if i == 0 { 5_000 } else { 1_000 };
        let who = caller(*id, name);
        let mut tx = log.begin().await.unwrap();
        for (path, blob) in files.iter().skip(i * 97).take(shown) {
            let path = app::model::RepoPath::parse(path).unwrap();
            let event = Event::by(&who, clearroom::audit::Action::BlobView, Outcome::Ok).on(Object::at(
                pin,
                Some(&commit),
                &path,
            )
            .shown(blob));
            tx.append(&event).await.unwrap();
        }
        tx.commit().await.unwrap();
    }
    println!("appended 24,000 view events in {:.1} s", started.elapsed().as_secs_f64());
    for (path, _) in files.iter().take(300) {
        let path = app::model::RepoPath::parse(path).unwrap();
        domain
            .coverage()
            .mark_reviewed(Actor::Web(&caller(reviewers[0].0, &reviewers[0].1)), pin, &path, true)
            .await
            .unwrap();
    }

    let application = Application::build(config, domain.clone()).await.unwrap();
    let url = format!("http://{}", application.address());
    tokio::spawn(async move {
        let _ = application.run_until_stopped().await;
    });
    let staff = signed_in(&url, "bench").await;
    let reviewer = signed_in(&url, "r00").await;

    println!("{:<52} {:>11} {:>16}", "request (warm median)", "time", "size");
    report(
        "coverage page + picture, 5,000 files shown (r00)",
        warm(&reviewer, &format!("{url}/pins/{pin}/coverage")).await,
    );
    report(
        "coverage page as staff, picture of r00",
        warm(&staff, &format!("{url}/pins/{pin}/coverage?reviewer=r00")).await,
    );
    report("coverage API, 20 reviewers (staff)", warm(&staff, &format!("{url}/api/v1/pins/{pin}/coverage")).await);

    // The same file with 200 comments on it and, in the twin repository, without: requests
    // alternate between the two so that both see the same machine.
    let (target, _) = files.iter().find(|(path, _)| path.ends_with(".rs") && path.contains("/src/")).unwrap().clone();
    let view = format!("{url}/pins/{pin}/blob/{target}");
    let plain = format!("{url}/pins/{twin}/blob/{target}");
    let who = caller(reviewers[0].0, &reviewers[0].1);
    for i in 0..200u32 {
        let new = NewComment {
            path: target.clone(),
            start_line: Some(1 + i % 20),
            end_line: Some(1 + i % 20),
            body: format!("Comment {i}: is **this** bounded? See `fn {i}`."),
            severity: (i % 5 == 0).then(|| "medium".to_string()),
            cwe: Vec::new(),
            requirements: Vec::new(),
            private: false,
            reply_to: None,
        };
        domain.review().add_comment(Actor::Web(&who), pin, &new).await.unwrap();
    }
    let (without, with) = alternating(&reviewer, &plain, &view).await;
    report("file view, no comments", without);
    report("file view, 200 comments", with);
    println!("{:<52} {:>8.2} x", "  ratio", with.0.as_secs_f64() / without.0.as_secs_f64());

    // 10,000 comments on the pin, then the list, filtered.
    let started = Instant::now();
    for i in 0..9_800u32 {
        let (path, _) = &files[(i as usize * 7) % files.len()];
        let new = NewComment {
            path: path.clone(),
            start_line: None,
            end_line: None,
            body: format!("Remark {i} on this file."),
            severity: match i % 10 {
                0 => Some("high".to_string()),
                1 => Some("low".to_string()),
                _ => None,
            },
            cwe: Vec::new(),
            requirements: Vec::new(),
            private: false,
            reply_to: None,
        };
        domain.review().add_comment(Actor::Web(&who), pin, &new).await.unwrap();
    }
    println!("added 9,800 more comments in {:.1} s", started.elapsed().as_secs_f64());
    report(
        "comment list page, 10,000 comments, severity=high",
        warm(&staff, &format!("{url}/pins/{pin}/comments?severity=high")).await,
    );
    report(
        "comment list API, 10,000 comments, severity=high",
        warm(&staff, &format!("{url}/api/v1/pins/{pin}/comments?severity=high")).await,
    );
    report("comment list page, 10,000 comments, unfiltered", warm(&staff, &format!("{url}/pins/{pin}/comments")).await);
}
