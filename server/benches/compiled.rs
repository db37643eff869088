//! The compiled-code map of this project's own debug `server` binary (line tables only, about
//! 1.4 GB with its string table): the time and peak memory of what the `artifact.compiled_map`
//! job does with it — the SHA-256 check of the kept file, reading every line program, assigning
//! the files to this checkout's paths — one run each in a fresh process (peak memory is the
//! process's, so each figure is measured by a child of its own).
//!
//! Run (after `cargo build -p server`, from `server/`):
//!
//!     cargo bench -p server --bench compiled -- ../target/debug/server
//!
//! Prints the figures; asserts nothing about time.

use clearroom::builds::compiled::assign;
use clearroom::builds::dwarf::{read, Limits};
use std::collections::HashSet;
use std::process::Command;
use std::time::Instant;

fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    usage.ru_maxrss as f64 / 1024.0
}

fn one_run(binary: &str) {
    let started = Instant::now();
    let hashed = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(clearroom::builds::upload::hash_file(binary.as_ref()))
        .unwrap();
    let hashing = started.elapsed();
    let lines = read(binary.as_ref(), Limits::default()).expect("the binary's line tables");
    let reading = started.elapsed() - hashing;
    let listed = Command::new("git").args(["ls-files"]).current_dir("..").output().unwrap();
    let paths = String::from_utf8(listed.stdout).unwrap();
    let pinned: HashSet<&str> = paths.lines().collect();
    let assigned = assign(&lines, &pinned, &[]);
    let total = started.elapsed();
    let compiled_lines: u64 = assigned.pinned.iter().map(|f| app::model::range_lines(&f.lines)).sum();
    println!(
        "{} bytes (sha256 {}…): {} rows, {} files with code; {} of this checkout ({} lines), {} from elsewhere; prefix {:?}",
        hashed.1,
        &hashed.0[..12],
        lines.rows,
        lines.files.len(),
        assigned.pinned.len(),
        compiled_lines,
        assigned.elsewhere.len(),
        assigned.prefix,
    );
    println!(
        "hash {:.2} s, read {:.2} s, total {:.2} s; peak resident memory {:.0} MiB",
        hashing.as_secs_f64(),
        reading.as_secs_f64(),
        total.as_secs_f64(),
        peak_rss_mib()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    if let [_, binary] = &args[..] {
        if args[0] == "child" {
            one_run(binary);
            return;
        }
    }
    let binary = args.first().cloned().unwrap_or_else(|| "../target/debug/server".into());
    for round in 1..=3 {
        println!("run {round}:");
        let status = Command::new(std::env::current_exe().unwrap()).args(["child", &binary]).status().unwrap();
        assert!(status.success());
    }
}
