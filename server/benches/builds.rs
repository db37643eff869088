//! Builds benchmark against the real server (release build) over HTTP: uploading a 2 GB sparse
//! artifact (curl streams it; the server hashes it while writing it to disk) beside `sha256sum` on
//! the same file, the server's RSS growth during the upload, and `GET /api/v1/attestations/{sha}`
//! with 10,000 build records stored.
//!
//!     cargo bench -p server --bench builds [-- SIZE_IN_MIB]
//!
//! Prints figures; it asserts nothing about time.

use app::model::{Role, Sha256Hex};
use clearroom::auth::Password;
use clearroom::clock::Clock;
use clearroom::config::{Config, SourceLimits};
use clearroom::domain::builds::BuildInput;
use clearroom::domain::Actor;
use clearroom::startup::{open_domain, Application};
use sha2::Digest as _;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let mib: u64 = std::env::args().skip(1).find(|a| !a.starts_with('-')).and_then(|a| a.parse().ok()).unwrap_or(2048);
    let dir = tempfile::tempdir().unwrap();
    let repository = dir.path().join("upstream.git");
    let repo = git2::Repository::init_bare(&repository).unwrap();
    let commit =
        clearroom::demo::write_commit_with_modes(&repo, &[("README.md", b"bench\n".to_vec(), 0o100644)], "v1").unwrap();
    let data = dir.path().join("data");
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.clone(),
        database_url: Config::default_database_url(&data),
        site_root: dir.path().join("site"),
        limits: SourceLimits { upload_max_bytes: 64 << 30, ..SourceLimits::default() },
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
        .create_user(Actor::Operator, "ci", Role::Builder, Some(Password::new("bench password 2026".into())))
        .await
        .unwrap();
    let request = clearroom::domain::TokenRequest { scopes: &[app::model::Scope::BuildWrite], days: 1, label: "bench" };
    let token = domain.access().create_token(Actor::Operator, "ci", request).await.unwrap();
    domain.admin().import_repository(Actor::Operator, "product", &repository.display().to_string()).await.unwrap();
    let pin = domain.admin().create_pin(Actor::Operator, "product", &commit.to_string(), "v1").await.unwrap();
    let application = Application::build(config, Arc::clone(&domain)).await.unwrap();
    let url = format!("http://{}", application.address());
    tokio::spawn(application.run_until_stopped());

    // A sparse file: its blocks read as zeros, so the disk is not what is measured.
    let artifact = dir.path().join("artifact.bin");
    std::fs::File::create(&artifact).unwrap().set_len(mib << 20).unwrap();
    let started = Instant::now();
    let reference = Command::new("sha256sum").arg(&artifact).output().unwrap();
    let reference_time = started.elapsed();
    let reference_hash = String::from_utf8_lossy(&reference.stdout).split_whitespace().next().unwrap_or("").to_string();

    let baseline = rss_kib();
    let peak = Arc::new(AtomicU64::new(baseline));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (Arc::clone(&peak), Arc::clone(&done));
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss_kib(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(20));
            }
        })
    };
    let started = Instant::now();
    let curl = {
        let (artifact, url, token) = (artifact.clone(), url.clone(), token.clone());
        tokio::task::spawn_blocking(move || {
            Command::new("curl")
                .args(["-s", "-X", "POST", "-T"])
                .arg(&artifact)
                .args(["-H", &format!("Authorization: Bearer {token}"), "-H", "Content-Type: application/octet-stream"])
                .arg(format!("{url}/api/v1/pins/{pin}/builds?name=artifact.bin"))
                .output()
                .unwrap()
        })
    };
    let upload = curl.await.unwrap();
    let upload_time = started.elapsed();
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&upload.stdout).unwrap_or_default();
    assert_eq!(answer["sha256"], reference_hash, "the server's hash must equal sha256sum's: {answer}");
    let rate = |t: Duration| (mib as f64) / t.as_secs_f64();
    println!("upload of {mib} MiB (sparse): sha256sum {:.2} s ({:.0} MiB/s); upload+hash+store {:.2} s ({:.0} MiB/s) = {:.0} % of sha256sum's throughput",
        reference_time.as_secs_f64(), rate(reference_time), upload_time.as_secs_f64(), rate(upload_time),
        100.0 * rate(upload_time) / rate(reference_time));
    println!(
        "server RSS: {} MiB before, peak {} MiB during the upload (growth {} MiB)",
        baseline / 1024,
        peak.load(Ordering::Relaxed) / 1024,
        peak.load(Ordering::Relaxed).saturating_sub(baseline) / 1024
    );

    // 10,000 build records (each signed and logged), then lookups of one artifact's envelopes.
    let started = Instant::now();
    let mut hashes = Vec::new();
    for i in 0..10_000u32 {
        let hash = Sha256Hex::parse(&hex::encode(sha2::Sha256::digest(i.to_be_bytes()))).unwrap();
        let input = BuildInput {
            name: format!("artifact-{}", i % 500),
            builder: Some(format!("builder-{}", i % 3)),
            ..Default::default()
        };
        domain.builds().record_build(Actor::Operator, pin, &input, &hash, Some(1000)).await.unwrap();
        hashes.push(hash);
    }
    println!("recorded 10,000 builds (each with its signed provenance) in {:.1} s", started.elapsed().as_secs_f64());
    let client = reqwest::Client::new();
    let mut times = Vec::new();
    for (i, hash) in hashes.iter().step_by(50).enumerate() {
        let started = Instant::now();
        let response =
            client.get(format!("{url}/api/v1/attestations/{hash}")).bearer_auth(&token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        let body = response.bytes().await.unwrap();
        if i > 0 {
            times.push(started.elapsed());
        }
        assert!(body.len() > 100);
    }
    times.sort();
    println!(
        "GET /api/v1/attestations/{{sha}} with 10,000 records: median {:.2} ms, p95 {:.2} ms ({} lookups)",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() * 95 / 100].as_secs_f64() * 1e3,
        times.len()
    );
}
