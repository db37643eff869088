//! Audit log benchmark: durable appends per second with 1, 16 and 64 concurrent writers (SQLite,
//! and PostgreSQL when TEST_DATABASE_URL or a local server is there), inclusion-proof latency at
//! 1,000,000 entries, and full offline verification of 1,000,000 entries.
//!
//!     cargo bench -p server --bench log
//!
//! Prints figures; it asserts nothing about time. `LOG_BENCH_DIR=DIR` keeps the log between runs;
//! `LOG_BENCH_APPENDS=0` then measures only proofs and verification.

use clearroom::audit::note::NoteSigner;
use clearroom::audit::{AuditLog, Event, Object};
use clearroom::clock::Clock;
use clearroom::store::Store;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const RUN: Duration = Duration::from_secs(4);
const BIG: u64 = 1_000_000;

fn event(i: u64) -> Event {
    let path = app::model::RepoPath::parse(&format!("src/module_{}/file_{}.rs", i % 97, i % 1013)).unwrap();
    let pin = app::model::PinId::from_stored(1);
    Event::by_operator(clearroom::audit::Action::BlobView).on(Object::at(
        pin,
        Some("9f1c0ffee0000000000000000000000000000001"),
        &path,
    )
    .shown("e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"))
}

async fn appends_per_second(log: &AuditLog, writers: usize) -> f64 {
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (log, done) = (log.clone(), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let mut i = w as u64;
            while started.elapsed() < RUN {
                log.record(&event(i)).await.expect("append");
                done.fetch_add(1, Ordering::Relaxed);
                i += writers as u64;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

async fn postgres_url() -> Option<String> {
    let base =
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&base).await.ok()?;
    let name = format!("clearroom_bench_{}", std::process::id());
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}")).execute(&mut admin).await.ok()?;
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.ok()?;
    Some(format!("{}/{name}", base.rsplit_once('/')?.0))
}

fn main() {
    // As the server binary does before its runtime starts, so the figures are the command's.
    clearroom::startup::bound_allocator_retention();
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap().block_on(run());
}

async fn run() {
    // LOG_BENCH_DIR keeps the filled log (and its key, `log.pub`) for another run or for
    // `server verify log --database-url sqlite://DIR/bench.db --key DIR/log.pub` under a profiler.
    let temporary = tempfile::tempdir().unwrap();
    let kept = std::env::var_os("LOG_BENCH_DIR").map(std::path::PathBuf::from);
    let dir = kept.as_deref().unwrap_or(temporary.path());
    std::fs::create_dir_all(dir).unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let mut engines = vec![("SQLite", sqlite.clone())];
    if let Some(url) = postgres_url().await {
        engines.push(("PostgreSQL", url));
    }
    println!("durable appends per second ({} s per run, synchronous commits, group commit)", RUN.as_secs());
    // LOG_BENCH_APPENDS=0 skips the append runs (to profile verification of a kept log).
    let appends = std::env::var("LOG_BENCH_APPENDS").map_or(true, |v| v != "0");
    for (name, url) in engines.iter().filter(|_| appends) {
        let log = AuditLog::new(Store::connect(url).await.unwrap(), Clock::system());
        for writers in [1, 16, 64] {
            let rate = appends_per_second(&log, writers).await;
            println!("  {name:<10} {writers:>2} writers: {rate:>8.0} appends/s");
        }
    }

    // Grow the SQLite log to a million entries in large transactions.
    let store = Store::connect(&sqlite).await.unwrap();
    let log = AuditLog::new(store, Clock::system());
    let started = Instant::now();
    let mut size = log.size().await.unwrap();
    while size < BIG {
        let mut tx = log.begin().await.unwrap();
        let batch = (BIG - size).min(20_000);
        for i in 0..batch {
            tx.append(&event(size + i)).await.unwrap();
        }
        tx.commit().await.unwrap();
        size += batch;
    }
    println!("filled the log to {size} entries in {:.1} s", started.elapsed().as_secs_f64());

    let mut latencies = Vec::new();
    let mut state = 0x9e3779b97f4a7c15u64;
    for _ in 0..1000 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let index = state % size;
        let started = Instant::now();
        let proof = log.inclusion_proof(index, size).await.unwrap();
        latencies.push(started.elapsed());
        assert!(!proof.is_empty());
    }
    latencies.sort();
    println!(
        "inclusion proof at {size} entries: median {:.2} ms, p99 {:.2} ms (1000 random indices)",
        latencies[500].as_secs_f64() * 1e3,
        latencies[990].as_secs_f64() * 1e3
    );

    // A kept log already checkpointed at this size keeps the key it was signed with.
    let key = dir.join("log.pub");
    let checkpointed = log.latest_checkpoint().await.unwrap().is_some_and(|c| c.size == size);
    if !(checkpointed && key.exists()) {
        let signer = NoteSigner::generate("bench.invalid/clearroom/log").unwrap();
        log.publish_checkpoint(&signer).await.unwrap();
        std::fs::write(&key, signer.verifier().to_string()).unwrap();
    }
    let started = Instant::now();
    clearroom::verify_cli::verify_log(&key, None, None, None, &sqlite, None).await.unwrap();
    println!(
        "full verification of {size} entries: {:.1} s (reading, hashing, chain, root)",
        started.elapsed().as_secs_f64()
    );
}
