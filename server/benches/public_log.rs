//! The public log's figures (issue 36), against the release build:
//!
//! - the time to propose, sign (a supervisor's key, offline) and authorise N releases, each
//!   appended to the public log in its authorisation's write (default 10,000);
//! - tiles served per second from the warm server (`wrk`, 8 connections, every tile of the log in
//!   turn), beside lighttpd serving the same tiles as static files.
//!
//!     cargo bench -p server --bench public_log [-- RELEASES]
//!
//! Installs wrk and lighttpd from Debian's packages when missing (as root). Prints figures; it
//! asserts nothing about time.

use app::model::{NewRelease, PinId, ReleaseArtifact, Role};
use clearroom::audit::note::NoteSigner;
use clearroom::audit::tiles::tiles_of;
use clearroom::auth::Password;
use clearroom::clock::Clock;
use clearroom::config::{Config, SourceLimits};
use clearroom::domain::releases::PolicyFormat;
use clearroom::domain::{Actor, Domain};
use clearroom::releases::keys;
use clearroom::startup::{open_domain, Application};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CONNECTIONS: &str = "8";
const DURATION: &str = "10s";

fn install_missing() {
    let missing: Vec<&str> = ["wrk", "lighttpd"]
        .into_iter()
        .filter(|tool| Command::new("which").arg(tool).output().is_ok_and(|o| !o.status.success()))
        .collect();
    if !missing.is_empty() {
        println!("installing {} from Debian's packages", missing.join(", "));
        let _ = Command::new("apt-get")
            .args(["install", "-y", "-q"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output();
    }
}

async fn setup(dir: &std::path::Path) -> (Config, Arc<Domain>, PinId, NoteSigner) {
    let repository = dir.join("upstream.git");
    let repo = git2::Repository::init_bare(&repository).unwrap();
    clearroom::demo::write_commit_with_modes(&repo, &[("README.md", b"bench\n".to_vec(), 0o100644)], "v1").unwrap();
    let data = dir.join("data");
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: data.clone(),
        database_url: Config::default_database_url(&data),
        site_root: dir.join("site"),
        limits: SourceLimits { public_per_minute: 0, ..SourceLimits::default() },
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
    admin.import_repository(Actor::Operator, "product", &repository.display().to_string()).await.unwrap();
    let pin = admin.create_pin(Actor::Operator, "product", "HEAD", "bench").await.unwrap();
    admin.create_user(Actor::Operator, "sup1", Role::Supervisor, Some(Password::generate())).await.unwrap();
    let key = NoteSigner::generate("sup1").unwrap();
    domain.releases().register_key(Actor::Operator, "sup1", &key.verifier().to_string()).await.unwrap();
    let policy = "reproduced_by = 1\n[supervisors]\nquorum = 1\nnames = [\"sup1\"]\n";
    domain.releases().set_policy(Actor::Operator, "product", policy, PolicyFormat::Toml).await.unwrap();
    (config, domain, pin, key)
}

/// Requests per second from wrk's output.
fn rate(output: &str) -> f64 {
    output
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn wrk(base: &str, script: &std::path::Path) -> (f64, String) {
    let output = Command::new("wrk")
        .args(["-t2", "-c", CONNECTIONS, "-d", DURATION, "--latency", "-s"])
        .arg(script)
        .arg(base)
        .output()
        .expect("wrk");
    let text = String::from_utf8_lossy(&output.stdout).to_string();
    let p99 = text.lines().find(|l| l.trim_start().starts_with("99%")).unwrap_or("").trim().to_string();
    (rate(&text), p99)
}

#[tokio::main]
async fn main() {
    let releases: u32 =
        std::env::args().skip(1).find(|a| !a.starts_with('-')).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    install_missing();
    let dir = tempfile::tempdir().unwrap();
    let (config, domain, pin, key) = setup(dir.path()).await;
    let sha256 = "ab".repeat(32);
    let build = clearroom::domain::builds::BuildInput {
        name: "product".into(),
        platform: "linux".into(),
        ..Default::default()
    };
    let hash = app::model::Sha256Hex::parse(&sha256).unwrap();
    domain.builds().record_build(Actor::Operator, pin, &build, &hash, None).await.unwrap();

    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    for n in 0..releases {
        let one = Instant::now();
        let release = NewRelease {
            version: format!("1.0.{n}"),
            artifacts: vec![ReleaseArtifact {
                name: "product".into(),
                platform: "linux".into(),
                sha256: sha256.clone(),
            }],
        };
        let proposed = domain.releases().propose(Actor::Operator, pin, &release).await.unwrap();
        let dossier = domain.releases().dossier(Actor::Operator, proposed.id).await.unwrap();
        let signature = serde_json::to_string(&keys::sign(&dossier, &key).unwrap()).unwrap();
        domain.releases().decide(Actor::Operator, proposed.id, Some("sup1"), &signature).await.unwrap();
        slowest = slowest.max(one.elapsed());
        if (n + 1) % 1000 == 0 {
            println!("  {} releases authorised, {:.1} s", n + 1, started.elapsed().as_secs_f64());
        }
    }
    let took = started.elapsed();
    println!(
        "authorised and appended {releases} releases in {:.1} s: {:.1} ms each on average, {:.1} ms the slowest, {:.0} a second",
        took.as_secs_f64(),
        took.as_secs_f64() * 1000.0 / f64::from(releases),
        slowest.as_secs_f64() * 1000.0,
        f64::from(releases) / took.as_secs_f64()
    );

    let application = Application::build(config, Arc::clone(&domain)).await.unwrap();
    let url = format!("http://{}", application.address());
    tokio::spawn(application.run_until_stopped());
    // Every tile of the log, fetched once and written where lighttpd serves it.
    let size = u64::from(releases);
    let static_root = dir.path().join("static");
    let client = reqwest::Client::new();
    let mut paths = Vec::new();
    for tile in tiles_of(size) {
        let path = tile.path();
        let bytes = client.get(format!("{url}/bt/{path}")).send().await.unwrap().bytes().await.unwrap();
        let file = static_root.join("bt").join(&path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &bytes).unwrap();
        paths.push(format!("/bt/{path}"));
    }
    let script = dir.path().join("tiles.lua");
    let list = paths.iter().map(|p| format!("\"{p}\"")).collect::<Vec<_>>().join(",");
    std::fs::write(
        &script,
        format!("local paths = {{{list}}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(\"GET\", paths[i])\nend\n"),
    )
    .unwrap();
    println!("{} tiles at size {size} (hash tiles and entry bundles)", paths.len());
    let (served, served_p99) = wrk(&url, &script);
    println!("clearroom: {served:.0} tiles/s (p99 {served_p99})");

    let conf = dir.path().join("lighttpd.conf");
    std::fs::write(
        &conf,
        format!(
            "server.document-root = \"{}\"\nserver.port = 18099\nserver.bind = \"127.0.0.1\"\nmimetype.assign = (\"\" => \"application/octet-stream\")\n",
            static_root.display()
        ),
    )
    .unwrap();
    let mut lighttpd = Command::new("lighttpd").args(["-D", "-f"]).arg(&conf).spawn().expect("lighttpd");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (static_rate, static_p99) = wrk("http://127.0.0.1:18099", &script);
    let _ = lighttpd.kill();
    let _ = lighttpd.wait();
    println!("lighttpd:  {static_rate:.0} tiles/s (p99 {static_p99})");
    println!("clearroom serves {:.0} % of lighttpd's rate", served * 100.0 / static_rate.max(1.0));
}
