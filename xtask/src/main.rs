//! The build, with nothing but cargo and crates: `cargo xtask build [--release]` compiles the
//! WASM half of `app`, runs wasm-bindgen as a library, assembles the site directory (scripts,
//! styles, icon) and builds the server. `cargo xtask serve-demo` does that and starts the demo.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let release = args.iter().any(|a| a == "--release");
    match args.first().map(String::as_str) {
        Some("build") => build(release),
        Some("site") => site(release),
        Some("serve-demo") => {
            build(release)?;
            serve_demo(release, &args[1..])
        }
        _ => {
            eprintln!("usage: cargo xtask build [--release] | site [--release] | serve-demo [--release] [server args…]");
            std::process::exit(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.current_dir(workspace_root());
    command
}

fn run(mut command: Command, what: &str) -> Result<()> {
    let status = command.status().with_context(|| format!("starting {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
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
    let binary = root.join(if release { "target/release/server" } else { "target/debug/server" });
    let mut serve = Command::new(binary);
    serve.current_dir(&root).arg("serve").arg("--demo").env("LEPTOS_SITE_ROOT", root.join("target/site"));
    serve.args(rest.iter().filter(|a| *a != "--release"));
    run(serve, "the server")
}
