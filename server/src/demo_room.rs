//! The demo's room: a small C firmware beside the main repository, two releases pinned, each with
//! a recipe and a room build queued (the server's worker runs them in the first seconds). The
//! demo's CI account uploads what it built outside the room: release 1.1 is the same bytes
//! ("reproduced by 2": ci and room); release 1.0 embeds the time it was built, so CI's build
//! differs from the room's and diffoscope explains the difference once the room's is done.

use crate::config::Config;
use crate::domain::builds::BuildInput;
use crate::domain::{Actor, Domain};
use app::model::{Caller, PinId};
use std::path::Path;

const MAKEFILE: &str = "# The firmware image: two objects, linked.\nCFLAGS = -O2 -Wall\n\nfirmware: main.o greet.o\n\tgcc $(CFLAGS) -o firmware main.o greet.o\n\n%.o: %.c\n\tgcc $(CFLAGS) -c $< -o $@\n";
const MAIN_C: &str =
    "/* Entry point of the firmware. */\nvoid greet(void);\n\nint main(void) {\n    greet();\n    return 0;\n}\n";
/// Release 1.0 prints when it was built: each build that runs at another time differs.
const GREET_STAMPED: &str = "#include <stdio.h>\n\n/* Says hello, and when this image was built. */\nvoid greet(void) {\n    puts(\"firmware 1.0, built \" __DATE__ \" \" __TIME__);\n}\n";
/// Release 1.1 no longer does: every build of it is the same.
const GREET: &str =
    "#include <stdio.h>\n\n/* Says hello. The build time is no longer embedded (reproducible builds). */\nvoid greet(void) {\n    puts(\"firmware 1.1\");\n}\n";
const RECIPE: &str = "name = \"firmware\"\ncommand = [\"make\", \"firmware\"]\ntoolchain = \"host\"\n\n[[outputs]]\npath = \"firmware\"\nartifact = \"firmware\"\nplatform = \"linux-x86_64\"\n\n[limits]\nwall_seconds = 300\n";

fn files(greet: &str) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("Makefile", MAKEFILE.as_bytes().to_vec()),
        ("README.md", b"# Firmware\n\nA small C program the demo builds in the room.\n".to_vec()),
        ("recipe.toml", RECIPE.as_bytes().to_vec()),
        ("main.c", MAIN_C.as_bytes().to_vec()),
        ("greet.c", greet.as_bytes().to_vec()),
    ]
}

/// The firmware built the way a CI runner would, outside the room, in a directory of its own
/// (`epoch`: its SOURCE_DATE_EPOCH, or none: the clock now).
fn build_outside(dir: &Path, greet: &str, epoch: Option<i64>) -> anyhow::Result<Vec<u8>> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    std::fs::create_dir_all(dir)?;
    for (path, content) in files(greet) {
        std::fs::write(dir.join(path), content)?;
    }
    let mut make = std::process::Command::new("make");
    make.arg("firmware").current_dir(dir).stdout(std::process::Stdio::null()).env("LC_ALL", "C.UTF-8");
    match epoch {
        Some(epoch) => make.env("SOURCE_DATE_EPOCH", epoch.to_string()),
        None => make.env_remove("SOURCE_DATE_EPOCH"),
    };
    anyhow::ensure!(make.status()?.success(), "make failed");
    let built = std::fs::read(dir.join("firmware"))?;
    std::fs::remove_dir_all(dir)?;
    Ok(built)
}

/// Seeds the room's part of the demo; what it did, for the demo's message.
pub async fn seed(domain: &Domain, config: &Config, ci: &Caller) -> anyhow::Result<String> {
    let fail = |e: app::error::AppError| anyhow::anyhow!("{e}");
    let dir = config.data_dir.join("demo-firmware.git");
    if dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let repo = git2::Repository::init_bare(&dir)?;
    let first = crate::demo::write_commit(&repo, &files(GREET_STAMPED), "Firmware 1.0")?;
    let second = crate::demo::write_commit(&repo, &files(GREET), "Firmware 1.1: no build time in the image")?;
    domain.admin().import_repository(Actor::Operator, "firmware", &dir.display().to_string()).await.map_err(fail)?;
    let older = domain
        .admin()
        .create_pin(Actor::Operator, "firmware", &first.to_string(), "Firmware 1.0")
        .await
        .map_err(fail)?;
    let newer = domain
        .admin()
        .create_pin(Actor::Operator, "firmware", &second.to_string(), "Firmware 1.1")
        .await
        .map_err(fail)?;
    let now = domain.clock().now_ms();
    domain
        .access()
        .grant(Actor::Operator, "reviewer", &[older, newer], now - 60_000, now + 8 * 3_600_000)
        .await
        .map_err(fail)?;
    let recipe = crate::builds::recipe::Recipe::from_toml(RECIPE).map_err(|e| anyhow::anyhow!("{e}"))?;
    for pin in [older, newer] {
        domain.room().set_recipe(Actor::Operator, pin, &recipe).await.map_err(fail)?;
    }
    let missing: Vec<String> =
        ["bwrap", "prlimit", "make", "gcc"].iter().filter_map(|t| crate::builds::sandbox::missing_tool(t)).collect();
    if !missing.is_empty() {
        return Ok(format!(
            "Room: firmware pins {older} and {newer} have a recipe, but this machine cannot build them: {}.",
            missing.join("; ")
        ));
    }
    for pin in [older, newer] {
        domain.room().start(Actor::Operator, pin).await.map_err(fail)?;
    }
    // CI's builds, uploaded: 1.1 as the room builds it (the same bytes whatever the clock), 1.0
    // at the time now (another __DATE__ and __TIME__ than the room's, which uses the commit's).
    let time = |oid: git2::Oid| repo.find_commit(oid).map(|c| c.time().seconds());
    let ci_dir = config.data_dir.join("demo-ci-build");
    let uploads = [
        (newer, build_outside(&ci_dir, GREET, Some(time(second)?))?),
        (older, build_outside(&ci_dir, GREET_STAMPED, None)?),
    ];
    for (pin, bytes) in uploads {
        upload(domain, ci, pin, bytes).await.map_err(fail)?;
    }
    Ok(format!(
        "Room: firmware pins {older} (1.0) and {newer} (1.1) are building in the room now (seconds). 1.1 is reproduced by 2 (ci and room); 1.0 differs, and diffoscope's report says why: /pins/{older}/builds"
    ))
}

async fn upload(domain: &Domain, ci: &Caller, pin: PinId, bytes: Vec<u8>) -> app::error::AppResult<()> {
    let input = BuildInput {
        name: "firmware".into(),
        platform: "linux-x86_64".into(),
        command: "make firmware".into(),
        toolchain: "gcc (Debian)".into(),
        notes: "built by the vendor's CI".into(),
        ..Default::default()
    };
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(bytes)]);
    domain.builds().record_upload(Actor::Web(ci), pin, &input, None, stream).await.map(|_| ())
}
