//! The build, with nothing but cargo and crates: `cargo xtask build [--release]` compiles the
//! WASM half of `app`, runs wasm-bindgen as a library, assembles the site directory (scripts,
//! styles, icon) and builds the server. `cargo xtask serve-demo` does that and starts the demo;
//! `cargo xtask test` runs every test: Rust tests on SQLite, again on PostgreSQL, then the browser
//! tests in Debian's Chromium (installing Chromium and the npm packages when they are missing).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let release = args.iter().any(|a| a == "--release");
    match args.first().map(String::as_str) {
        Some("build") => build(release),
        Some("site") => site(release),
        Some("test") => test(),
        Some("serve-demo") => {
            build(release)?;
            serve_demo(release, &args[1..])
        }
        _ => {
            eprintln!("usage: cargo xtask build [--release] | site | test | serve-demo [--release] [server args…]");
            std::process::exit(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

/// A cargo command as a person would type it in the workspace. `cargo xtask` runs this program
/// through `cargo run`, which sets the package variables of xtask itself (`CARGO_MANIFEST_DIR`,
/// `CARGO_PKG_NAME`, …); a nested cargo would pass them on to build scripts, and ring's build
/// script reruns when `CARGO_MANIFEST_DIR` changes, so ring, rustls, reqwest and the server were
/// rebuilt at every switch between `cargo xtask …` and a plain `cargo build`, `test` or `bench`.
/// Without them, every entry point shares one build.
fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if set_by_cargo_run(&name) {
            command.env_remove(name.as_ref());
        }
    }
    command
}

/// Whether an environment variable is one `cargo run` sets for the program it runs (the crate's
/// own variables), rather than the person's configuration (`CARGO_HOME`, `CARGO_TARGET_DIR`, …).
fn set_by_cargo_run(name: &str) -> bool {
    name.starts_with("CARGO_PKG_")
        || matches!(
            name,
            "CARGO_MANIFEST_DIR"
                | "CARGO_MANIFEST_PATH"
                | "CARGO_CRATE_NAME"
                | "CARGO_BIN_NAME"
                | "CARGO_PRIMARY_PACKAGE"
                | "CARGO_TARGET_TMPDIR"
                | "CARGO_RUSTC_CURRENT_DIR"
                | "OUT_DIR"
        )
}

fn run(mut command: Command, what: &str) -> Result<()> {
    let started = std::time::Instant::now();
    let status = command.status().with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    // Where a run's time goes (CI's aim is 30 minutes on two cores).
    println!("xtask: {what}: {} s", started.elapsed().as_secs());
    Ok(())
}

/// Adds the wasm32 target through rustup when it is missing.
fn ensure_wasm_target() -> Result<()> {
    let output = Command::new("rustup").args(["target", "list", "--installed"]).output();
    match output {
        Ok(output) if String::from_utf8_lossy(&output.stdout).contains("wasm32-unknown-unknown") => Ok(()),
        Ok(_) => {
            let mut add = Command::new("rustup");
            add.args(["target", "add", "wasm32-unknown-unknown"]);
            run(add, "rustup target add wasm32-unknown-unknown")
        }
        Err(_) => Ok(()), // No rustup: trust that the toolchain has the target.
    }
}

/// The WASM half and the static files, in target/site.
fn site(_release: bool) -> Result<()> {
    ensure_wasm_target()?;
    let root = workspace_root();
    // The WASM half is always size-optimised: debug WASM is many megabytes and slow to load.
    let mut wasm = cargo();
    wasm.args([
        "build",
        "--package",
        "app",
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--no-default-features",
        "--features",
        "hydrate",
        "--profile",
        "wasm-release",
    ]);
    run(wasm, "building the WASM half")?;
    let input = root.join("target/wasm32-unknown-unknown/wasm-release/app.wasm");
    let site = root.join("target/site");
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg)?;
    let mut bindgen = wasm_bindgen_cli_support::Bindgen::new();
    bindgen
        .input_path(&input)
        .web(true)
        .context("choosing the web target")?
        .out_name("clearroom")
        .keep_debug(false)
        .remove_name_section(true)
        .remove_producers_section(true);
    bindgen.generate(&pkg).context("running wasm-bindgen")?;
    // Leptos asks for `{output name}.wasm` when LEPTOS_OUTPUT_NAME is set at compile time.
    std::fs::rename(pkg.join("clearroom_bg.wasm"), pkg.join("clearroom.wasm"))?;
    let style = site.join("style");
    std::fs::create_dir_all(&style)?;
    for entry in std::fs::read_dir(root.join("style"))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), style.join(entry.file_name()))?;
        }
    }
    for entry in std::fs::read_dir(root.join("public"))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), site.join(entry.file_name()))?;
        }
    }
    let size = std::fs::metadata(pkg.join("clearroom.wasm"))?.len();
    println!("site ready in {} (WASM {} KiB)", site.display(), size / 1024);
    Ok(())
}

fn build(release: bool) -> Result<()> {
    site(release)?;
    let mut server = cargo();
    server.args(["build", "--package", "server"]);
    if release {
        server.arg("--release");
    }
    run(server, "building the server")
}

fn serve_demo(release: bool, rest: &[String]) -> Result<()> {
    let root = workspace_root();
    // The demo's room build needs bubblewrap and gcc, and its report diffoscope.
    ensure_tools(false)?;
    let binary = root.join(if release { "target/release/server" } else { "target/debug/server" });
    let mut serve = Command::new(binary);
    serve.current_dir(&root).arg("serve").arg("--demo").env("LEPTOS_SITE_ROOT", root.join("target/site"));
    serve.args(rest.iter().filter(|a| *a != "--release"));
    run(serve, "the server")
}

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

fn succeeds(program: &str, args: &[&str]) -> bool {
    Command::new(program).args(args).status().map(|s| s.success()).unwrap_or(false)
}

fn postgres_reachable() -> bool {
    std::net::TcpStream::connect_timeout(&"127.0.0.1:5432".parse().expect("address"), std::time::Duration::from_secs(2))
        .is_ok()
}

/// The PostgreSQL URL for the store tests: TEST_DATABASE_URL, or the local server (started if it is
/// installed but stopped).
fn postgres_url() -> Option<String> {
    if let Ok(url) = std::env::var("TEST_DATABASE_URL") {
        return Some(url);
    }
    if !postgres_reachable() {
        if let Ok(versions) = std::fs::read_dir("/etc/postgresql") {
            for version in versions.flatten() {
                let version = version.file_name().to_string_lossy().to_string();
                let _ = Command::new("pg_ctlcluster")
                    .args(["--skip-systemctl-redirect", &version, "main", "start"])
                    .status();
            }
            for _ in 0..20 {
                if postgres_reachable() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(500));
            }
        }
    }
    if !postgres_reachable() {
        return None;
    }
    // Databases left by earlier runs (one per test) are dropped first.
    if let Ok(output) = Command::new("psql")
        .args([DEFAULT_POSTGRES, "-Atc", "SELECT datname FROM pg_database WHERE datname LIKE 'clearroom_test_%'"])
        .output()
    {
        for name in String::from_utf8_lossy(&output.stdout).lines().filter(|l| !l.is_empty()) {
            let _ = Command::new("psql")
                .args([DEFAULT_POSTGRES, "-qc", &format!("DROP DATABASE IF EXISTS {name}")])
                .status();
        }
    }
    Some(DEFAULT_POSTGRES.to_string())
}

/// A program on PATH (or at an absolute path).
fn installed(program: &str) -> bool {
    if program.starts_with('/') {
        return Path::new(program).exists();
    }
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

/// The system tools the tests and the room use, installed from Debian's packages when missing, in
/// one `apt-get install` (as root): Chromium and Node.js for the browser tests; bubblewrap, gcc,
/// make and diffoscope (its minimal package, with binutils for ELF files) for room builds;
/// flawfinder, whose SARIF the tool-results tests and the demo import.
fn ensure_tools(browser: bool) -> Result<()> {
    let mut wanted: Vec<(&str, &[&str])> = vec![
        ("bwrap", &["bubblewrap"]),
        ("gcc", &["gcc"]),
        ("make", &["make"]),
        ("diffoscope", &["diffoscope-minimal"]),
        ("readelf", &["binutils"]),
        ("flawfinder", &["flawfinder"]),
    ];
    if browser {
        wanted.extend([("/usr/bin/chromium", &["chromium"][..]), ("node", &["nodejs"]), ("npm", &["npm"])]);
    }
    let packages: Vec<&str> = wanted
        .iter()
        .filter(|(program, _)| !installed(program))
        .flat_map(|(_, packages)| packages.iter().copied())
        .collect();
    if packages.is_empty() {
        return Ok(());
    }
    let root = std::fs::metadata("/proc/self").map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0).unwrap_or(false);
    if !root {
        eprintln!(
            "warning: missing {} (Debian: apt-get install {}); run as root to install them",
            packages.join(" "),
            packages.join(" ")
        );
        return Ok(());
    }
    println!("installing {} from Debian's packages", packages.join(" "));
    let mut update = Command::new("apt-get");
    update.arg("update");
    run(update, "apt-get update")?;
    let mut install = Command::new("apt-get");
    install.args(["install", "-y", "--no-install-recommends"]).args(&packages).env("DEBIAN_FRONTEND", "noninteractive");
    run(install, "installing the system tools")
}

fn test() -> Result<()> {
    let root = workspace_root();
    let in_ci = std::env::var("CI").is_ok();
    ensure_tools(true)?;
    // The site only: the tests' build makes `target/debug/server` (cargo builds a package's binary
    // for its integration tests), which the API fuzzing and the browser tests then run. A separate
    // `cargo build` would compile many dependencies a second time: without the dev-dependencies,
    // their features resolve differently.
    site(false)?;

    // cargo-nextest (one process per test, hung tests stopped) when it is installed; cargo test otherwise.
    let nextest = succeeds("cargo", &["nextest", "--version"]);
    let test_command = |args: &[&str]| {
        let mut command = cargo();
        command.args(if nextest { ["nextest", "run"] } else { ["test", "--quiet"] }).args(args);
        command
    };
    let mut sqlite = test_command(&["--package", "server", "--package", "app"]);
    sqlite.env_remove("TEST_DATABASE_URL");
    run(sqlite, "the tests on SQLite")?;

    match postgres_url() {
        Some(url) => {
            let mut postgres = test_command(&["--package", "server", "--test", "api"]);
            postgres.env("TEST_DATABASE_URL", url);
            run(postgres, "the store and integration tests on PostgreSQL")?;
        }
        None if in_ci => {
            bail!("PostgreSQL is not reachable on 127.0.0.1:5432; CI must test against it")
        }
        None => eprintln!("warning: PostgreSQL is not reachable; the PostgreSQL run was skipped"),
    }

    // Schemathesis over a running demo server's OpenAPI document, every check (end2end/api-fuzz).
    let mut fuzz = Command::new("bash");
    fuzz.current_dir(&root).arg(root.join("end2end/api-fuzz/run.sh"));
    run(fuzz, "schemathesis over the API")?;

    let end2end = root.join("end2end");
    let mut npm = Command::new("npm");
    npm.current_dir(&end2end).args(["ci", "--no-audit", "--no-fund"]);
    run(npm, "npm ci")?;
    let mut browser = Command::new("node");
    browser.current_dir(&end2end).args(["--test", "tests/"]);
    run(browser, "the browser tests")
}
