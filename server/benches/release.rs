//! A release ready in minutes: the time from pinning each release of the corpus until every one
//! of its jobs is done (index and search pack, definitions, highlighting, the compare with the
//! release before), run by the server's own job workers as in production; when each job started
//! and ended; then the data directory's size, part by part, against the repository's.
//!
//!     bash ../shared/corpus/make-corpus.sh /tmp/corpus
//!     cargo bench -p server --bench release -- /tmp/corpus/corpus.git
//!
//! Prints times and sizes; it asserts nothing about time.

use app::model::{PinId, Role};
use clearroom::auth::Password;
use clearroom::clock::Clock;
use clearroom::config::{Config, SourceLimits};
use clearroom::domain::Actor;
use clearroom::startup::{open_domain, Application};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// Bytes under `path` (files only; a missing path is 0).
fn size_of(path: &Path) -> u64 {
    let Ok(meta) = std::fs::symlink_metadata(path) else { return 0 };
    if meta.is_file() {
        return meta.len();
    }
    std::fs::read_dir(path).map_or(0, |entries| entries.flatten().map(|e| size_of(&e.path())).sum())
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// Polls the pin's jobs until all are done; prints when each started and ended.
async fn wait_ready(domain: &clearroom::domain::Domain, pin: PinId, label: &str, pinned: Instant) -> Duration {
    let mut seen: BTreeMap<String, (Option<Duration>, Option<Duration>)> = BTreeMap::new();
    loop {
        let jobs = domain.jobs().pin_jobs(Actor::Operator, pin).await.unwrap();
        let now = pinned.elapsed();
        for job in &jobs {
            let entry = seen.entry(job.kind.clone()).or_default();
            if job.state != "queued" && entry.0.is_none() {
                entry.0 = Some(now);
            }
            if matches!(job.state.as_str(), "done" | "failed" | "cancelled") && entry.1.is_none() {
                entry.1 = Some(now);
                assert_eq!(job.state, "done", "{} {}", job.kind, label);
            }
        }
        if !jobs.is_empty() && jobs.iter().all(|j| j.state == "done") {
            for (kind, (start, end)) in &seen {
                let at = |d: &Option<Duration>| d.map_or("-".into(), |d| format!("{:.1} s", d.as_secs_f64()));
                println!("  {label} {kind:<18} started {:>8}  done {:>8}", at(start), at(end));
            }
            return now;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::main]
async fn main() {
    let repository =
        std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_else(|| "/tmp/corpus/corpus.git".into());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.clone(),
        database_url: Config::default_database_url(&data),
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
    domain
        .admin()
        .create_user(Actor::Operator, "bench", Role::Staff, Some(Password::new("quiet orchard lamp 2026".into())))
        .await
        .unwrap();
    domain.admin().import_repository(Actor::Operator, "corpus", &repository).await.unwrap();
    let application = Application::build(config.clone(), std::sync::Arc::clone(&domain)).await.unwrap();
    let server = tokio::spawn(async move {
        let _ = application.run_until_stopped().await;
    });
    for release in ["v1.0", "v2.0"] {
        let pinned = Instant::now();
        let pin = domain.admin().create_pin(Actor::Operator, "corpus", release, release).await.unwrap();
        let ready = wait_ready(&domain, pin, release, pinned).await;
        println!("{release}: every job done {:.1} s after pinning", ready.as_secs_f64());
        let pool =
            sqlx::SqlitePool::connect(&format!("sqlite://{}", data.join("clearroom.db").display())).await.unwrap();
        let count = |sql: &'static str| {
            let pool = pool.clone();
            async move { sqlx::query_scalar::<_, i64>(sql).bind(pin.get()).fetch_one(&pool).await.unwrap() }
        };
        println!(
            "  {release}: {} files ({} text), {} definitions",
            count("SELECT COUNT(*) FROM pin_files WHERE pin_id = ?").await,
            count("SELECT COUNT(*) FROM pin_files WHERE pin_id = ? AND text_offset IS NOT NULL").await,
            count(
                "SELECT COUNT(*) FROM definitions d JOIN pin_definition_sources p ON p.source = d.source \
                 WHERE p.pin_id = ?"
            )
            .await
        );
    }
    let repo = size_of(Path::new(&repository));
    for file in ["clearroom.db", "clearroom.db-wal"] {
        println!("  {file:<32} {}", mb(size_of(&data.join(file))));
    }
    let parts = [
        ("repository copy", config.repos_dir()),
        ("search packs and compare lists", config.index_dir()),
        ("highlight cache", config.highlight_cache_dir()),
    ];
    let total = size_of(&data);
    println!("the corpus repository: {}", mb(repo));
    for (name, path) in &parts {
        println!("  {name:<32} {}", mb(size_of(path)));
    }
    let named: u64 = parts.iter().map(|(_, p)| size_of(p)).sum();
    println!("  {:<32} {}", "database and the rest", mb(total - named));
    println!("data directory: {} ({:.2}× the repository)", mb(total), total as f64 / repo as f64);
    server.abort();
    if std::env::var_os("KEEP_DATA").is_some() {
        println!("kept: {}", dir.keep().display());
    }
}
