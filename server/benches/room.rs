//! The room's costs, medians of 3, alternating rounds:
//! - the sandbox's overhead: `gcc -O2 -c sqlite3.c` from the corpus inside the room's sandbox
//!   (bubblewrap, the host toolchain, the recipe's limits) against the same command outside;
//! - diffoscope on two ~20 MB ELF files that differ in one section (its time and peak memory),
//!   run in the sandbox as the `build.diff` job runs it.
//!
//! Run:
//!
//!     bash ../shared/corpus/make-corpus.sh /tmp/corpus
//!     cargo bench -p server --bench room -- /tmp/corpus/work
//!
//! Prints the figures; asserts nothing about time.

use clearroom::builds::recipe::Recipe;
use clearroom::builds::sandbox::{Jail, Toolchain};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn find(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|n| n == name) && path.is_file() {
            return Some(path);
        }
        if path.is_dir() {
            if let Some(found) = find(&path, name) {
                return Some(found);
            }
        }
    }
    None
}

/// A directory the sandbox's user may pass through (under the system's temporary directory).
fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("clearroom-room-bench-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    dir
}

async fn in_room(work: &Path, limits: clearroom::builds::recipe::Limits, argv: &[&str]) -> (Duration, String) {
    let env = BTreeMap::new();
    let log = work.with_extension("log");
    let jail = Jail {
        toolchain: &Toolchain::Host,
        work,
        inputs: Vec::new(),
        env: &env,
        source_date_epoch: 0,
        limits,
        log: &log,
    };
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    let started = Instant::now();
    let mut running = jail.start(&argv).expect("the sandbox starts (bubblewrap installed?)");
    let ended = loop {
        if let Some(ended) = running.wait_for(Duration::from_millis(20)).await.unwrap() {
            break ended;
        }
    };
    let took = started.elapsed();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    (took, format!("{ended:?} {}", text.lines().last().unwrap_or_default()))
}

fn outside(work: &Path, argv: &[&str]) -> Duration {
    let started = Instant::now();
    let status = std::process::Command::new(argv[0]).args(&argv[1..]).current_dir(work).status().unwrap();
    assert!(status.success());
    started.elapsed()
}

#[tokio::main]
async fn main() {
    let corpus = std::env::args().skip(1).find(|a| !a.starts_with('-')).unwrap_or_else(|| "/tmp/corpus/work".into());
    let source = find(Path::new(&corpus), "sqlite3.c").expect("sqlite3.c in the corpus work tree (make-corpus.sh)");
    let limits = Recipe::from_toml(
        "name = \"b\"\ncommand = \"true\"\ntoolchain = \"host\"\n[[outputs]]\npath = \"x\"\nartifact = \"x\"\n",
    )
    .unwrap()
    .limits;
    let work = work_dir("gcc");
    std::fs::copy(&source, work.join("sqlite3.c")).unwrap();
    let argv = ["gcc", "-O2", "-c", "sqlite3.c", "-o", "sqlite3.o"];
    let (mut inside, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let (took, ended) = in_room(&work, limits, &argv).await;
        assert!(ended.starts_with("Exited(0)"), "{ended}");
        inside.push(took);
        plain.push(outside(&work, &argv));
    }
    let (inside, plain) = (median(inside), median(plain));
    println!("gcc -O2 -c sqlite3.c ({} KB), medians of 3:", std::fs::metadata(&source).unwrap().len() / 1024);
    println!("  outside the room  {:>8.2} s", plain.as_secs_f64());
    println!("  in the room       {:>8.2} s", inside.as_secs_f64());
    let overhead = inside.as_secs_f64() - plain.as_secs_f64();
    println!(
        "  overhead          {:>8.3} s ({:+.1} %; goal ≤ 5 % + 1 s)",
        overhead,
        overhead * 100.0 / plain.as_secs_f64()
    );

    // Two ~20 MB ELF files that differ in one section: the same object, linked with 20 MB of
    // initialised data, one byte of a string in .rodata changed.
    let diff = work_dir("diffoscope");
    for (side, word) in [("a", "first"), ("b", "other")] {
        let dir = diff.join(side);
        std::fs::create_dir_all(&dir).unwrap();
        let program = format!(
            "static const char big[20 * 1024 * 1024] = {{1}};\nconst char *tag = \"{word}\";\nint main(void) {{ return big[0] + tag[0]; }}\n"
        );
        std::fs::write(dir.join("p.c"), program).unwrap();
        let built =
            std::process::Command::new("gcc").args(["-O0", "-o", "program", "p.c"]).current_dir(&dir).status().unwrap();
        assert!(built.success());
    }
    let size = std::fs::metadata(diff.join("a/program")).unwrap().len();
    let argv = [
        "/usr/bin/time",
        "-f",
        "peak-rss-kb %M",
        "diffoscope",
        "--no-progress",
        "--json",
        "report.json",
        "a/program",
        "b/program",
    ];
    let mut times = Vec::new();
    let mut peak = String::new();
    let big = clearroom::builds::recipe::Limits { wall_seconds: 900, memory_mb: 8192, processes: 256, output_mb: 512 };
    for _ in 0..3 {
        let (took, ended) = in_room(&diff, big, &argv).await;
        assert!(ended.starts_with("Exited(1)"), "diffoscope finds the difference: {ended}");
        peak = ended;
        times.push(took);
    }
    println!("diffoscope on two {:.1} MB ELF files differing in .rodata, in the room, median of 3:", size as f64 / 1e6);
    println!("  time              {:>8.2} s", median(times).as_secs_f64());
    println!("  {}", peak.split_once(' ').map(|(_, rest)| rest).unwrap_or(&peak));
    let _ = std::fs::remove_dir_all(&work);
    let _ = std::fs::remove_dir_all(&diff);
}
