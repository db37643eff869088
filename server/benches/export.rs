//! Export benchmark: a bundle of 1,000,000 events (a reviewer's views of one pin), written with
//! flat memory, then verified offline. Goal: under 60 s and under 200 MB peak RSS for the export.
//!
//!     cargo bench -p server --bench export            (EXPORT_EVENTS=N for another size)
//!
//! Prints figures; it asserts nothing about time.

use app::model::{Caller, ExportRequest, Identity, PinId, RepoPath, Role};
use clearroom::audit::{AuditLog, Event, Object, Outcome};
use clearroom::clock::Clock;
use clearroom::config::{Config, SourceLimits};
use clearroom::domain::Actor;
use std::time::Instant;

/// The process's resident set now and at its peak since the last reset, in MiB.
fn rss() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn make_repository(dir: &std::path::Path) -> std::path::PathBuf {
    let repo = git2::Repository::init_bare(dir).unwrap();
    let mut builder = repo.treebuilder(None).unwrap();
    let blob = repo.blob(b"fn main() {}\n").unwrap();
    builder.insert("main.rs", blob, 0o100644).unwrap();
    let tree = repo.find_tree(builder.write().unwrap()).unwrap();
    let signature = git2::Signature::now("bench", "bench@example.invalid").unwrap();
    repo.commit(Some("HEAD"), &signature, &signature, "one", &tree, &[]).unwrap();
    dir.to_path_buf()
}

fn main() {
    let events: u64 = std::env::var("EXPORT_EVENTS").ok().and_then(|n| n.parse().ok()).unwrap_or(1_000_000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async move {
        let dir = tempfile::tempdir().unwrap();
        let config = Config {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir: dir.path().join("data"),
            database_url: format!("sqlite://{}?mode=rwc", dir.path().join("bench.db").display()),
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
        let domain = clearroom::startup::open_domain(&config).await.unwrap();
        let source = make_repository(&dir.path().join("upstream.git"));
        domain.admin().import_repository(Actor::Operator, "product", &source.display().to_string()).await.unwrap();
        let pin = domain.admin().create_pin(Actor::Operator, "product", "HEAD", "Release").await.unwrap();

        let store = clearroom::store::Store::connect(&config.database_url).await.unwrap();
        let log = AuditLog::new(store, Clock::system());
        let caller = Caller {
            identity: Some(Identity { user_id: 2, username: "reviewer".into(), role: Role::Reviewer }),
            session: Some("0a1b2c3d4e5f6071".into()),
            client_address: "192.0.2.7".into(),
            csrf_token: None,
            token: None,
            access_ends_ms: None,
        };
        let started = Instant::now();
        let mut written = 0u64;
        while written < events {
            let mut tx = log.begin().await.unwrap();
            for i in written..(written + 10_000).min(events) {
                let path = RepoPath::parse(&format!("src/module_{}/file_{}.rs", i % 97, i % 1013)).unwrap();
                let object = Object::at(pin, Some("9f1c0ffee0000000000000000000000000000001"), &path)
                    .shown("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
                tx.append(&Event::by(&caller, clearroom::audit::Action::BlobView, Outcome::Ok).on(object)).await.unwrap();
            }
            tx.commit().await.unwrap();
            written = (written + 10_000).min(events);
        }
        println!("appended {events} events in {:.1} s", started.elapsed().as_secs_f64());

        // Peak RSS from here on (Linux: writing 5 to clear_refs resets VmHWM).
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let (before, _) = rss();
        let out = dir.path().join("bundle.zip");
        let started = Instant::now();
        let request = ExportRequest { pins: vec![PinId::get(pin)], ..Default::default() };
        let (_, built) = domain.exports().export_now(&request, &out).await.unwrap();
        let elapsed = started.elapsed().as_secs_f64();
        let (_, peak) = rss();
        println!(
            "export: {} events in {elapsed:.1} s ({:.0} events/s), bundle {:.1} MiB; RSS {before:.0} MiB before, peak {peak:.0} MiB",
            built.events,
            built.events as f64 / elapsed,
            built.written.size as f64 / (1024.0 * 1024.0)
        );

        let key = clearroom::audit::note::NoteSigner::parse(&std::fs::read_to_string(config.log_key_path()).unwrap())
            .unwrap()
            .verifier();
        let _ = std::fs::write("/proc/self/clear_refs", "5");
        let started = Instant::now();
        let outcome = tokio::task::spawn_blocking(move || {
            clearroom::export::verify::verify_bundle(
                &out,
                &clearroom::export::verify::Trust {
                    log_key: &key,
                    attestation_key: None,
                    policy: None,
                    previous_checkpoint: None,
                },
            )
        })
        .await
        .unwrap();
        let (_, peak) = rss();
        println!(
            "verify: {} in {:.1} s, peak RSS {peak:.0} MiB",
            if outcome.ok() { "VERIFIED" } else { "FAILED" },
            started.elapsed().as_secs_f64()
        );
        for failure in outcome.failures.iter().take(5) {
            println!("  {failure}");
        }
    });
}
