//! `serve --demo`: five accounts with printed passwords (staff, reviewer, regulator, two supervisors), a repository (this checkout's own git
//! repository, or a generated multi-language sample), a pin of its current commit, an eight-hour
//! grant for the reviewer, and a review under way (comments, a finding the vendor answered, a
//! private note, a reviewed file, a verdict), builds (reproduced on the release, a mismatch on the
//! release before) with their attestations and a review summary, and the repository's release policy. Runs once per data directory.

use crate::auth::Password;
use crate::config::Config;
use crate::domain::{Actor, Domain};
use anyhow::Context as _;
use app::error::AppResult;
use app::model::{Caller, Identity, NewComment, PinId, RepoPath, Role, ThreadState, VerdictKind};
use std::path::{Path, PathBuf};

pub async fn seed(domain: &Domain, config: &Config) -> anyhow::Result<()> {
    let fail = |e: app::error::AppError| anyhow::anyhow!("{e}");
    if !domain.is_new().await.map_err(fail)? {
        println!("Demo: this data directory is already set up; its passwords were printed when it was created.");
        println!("      (Remove {} to start over.)", config.data_dir.display());
        return Ok(());
    }
    let mut accounts = Vec::new();
    let roles = [
        ("staff", Role::Staff),
        ("reviewer", Role::Reviewer),
        ("evaluator", Role::Reviewer),
        ("regulator", Role::Regulator),
        ("supervisor", Role::Supervisor),
        ("supervisor2", Role::Supervisor),
    ];
    for (username, role) in roles {
        let password = Password::generate();
        let (id, _) =
            domain.admin().create_user(Actor::Operator, username, role, Some(password.clone())).await.map_err(fail)?;
        accounts.push((username, role, password, id));
    }
    let (source, name) = match std::env::current_dir().ok().and_then(|d| git2::Repository::discover(d).ok()) {
        Some(repo) if repo.head().is_ok() => (repo.path().to_path_buf(), "clearroom"),
        _ => {
            (generate_sample(&config.data_dir.join("demo-source")).context("generating the demo repository")?, "sample")
        }
    };
    domain.admin().import_repository(Actor::Operator, name, &source.display().to_string()).await.map_err(fail)?;
    let pin = domain.admin().create_pin(Actor::Operator, name, "HEAD", "Demo release").await.map_err(fail)?;
    // The release before, to compare with (the commit before HEAD).
    let previous = domain.admin().create_pin(Actor::Operator, name, "HEAD~1", "Previous release").await.ok();
    let now = domain.clock().now_ms();
    let granted: Vec<PinId> = std::iter::once(pin).chain(previous).collect();
    domain
        .access()
        .grant(Actor::Operator, "reviewer", &granted, now - 60_000, now + 8 * 3_600_000)
        .await
        .map_err(fail)?;
    // An evaluation lab's reviewer, granted only the part of the code in its target of evaluation.
    let scope: Vec<String> = match name {
        "clearroom" => vec!["server/src/audit/**".into(), "!server/src/audit/**/*tests*".into()],
        _ => vec!["src/**".into(), "!src/limits.rs".into()],
    };
    domain
        .access()
        .grant_paths(Actor::Operator, "evaluator", &granted, (now - 60_000, now + 8 * 3_600_000), &scope)
        .await
        .map_err(fail)?;
    // Both releases show the history behind them, messages and diffs, and blame (staff choose
    // per pin; `off` is the default).
    for pin in &granted {
        let change =
            crate::store::pins::PolicyChange { history: Some(app::model::HistoryPolicy::Full), ..Default::default() };
        domain.admin().set_pin_policy(Actor::Operator, *pin, change).await.map_err(fail)?;
    }
    let person = |name: &str| {
        let (username, role, _, id) = accounts.iter().find(|a| a.0 == name).expect("a demo account");
        Caller {
            identity: Some(Identity { user_id: *id, username: username.to_string(), role: *role }),
            // Each seeded person has a session of their own, fingerprinted as real ones are.
            session: Some(hex::encode(&<sha2::Sha256 as sha2::Digest>::digest(format!("demo-seed:{username}"))[..8])),
            client_address: "demo-seed".into(),
            csrf_token: None,
            token: None,
            access_ends_ms: None,
        }
    };
    let (ci, ci_id) = {
        let password = Password::generate();
        let (id, _) =
            domain.admin().create_user(Actor::Operator, "ci", Role::Builder, Some(password)).await.map_err(fail)?;
        let request = crate::domain::TokenRequest {
            scopes: &[app::model::Scope::BuildWrite],
            days: 30,
            label: "demo CI: records builds",
        };
        (domain.access().create_token(Actor::Operator, "ci", request).await.map_err(fail)?, id)
    };
    // An independent rebuilder has an account of its own: a builder is the account that records.
    let (lab_id, _) = domain
        .admin()
        .create_user(Actor::Operator, "lab", Role::Builder, Some(Password::generate()))
        .await
        .map_err(fail)?;
    let builder = |user_id: i64, username: &str| Caller {
        identity: Some(Identity { user_id, username: username.into(), role: Role::Builder }),
        session: Some("api-token".into()),
        client_address: "demo-seed".into(),
        csrf_token: None,
        token: Some(app::model::TokenAccess { id: 0, scopes: vec![app::model::Scope::BuildWrite] }),
        access_ends_ms: None,
    };
    builds(domain, pin, previous, &builder(ci_id, "ci"), &builder(lab_id, "lab")).await.map_err(fail)?;
    let room = crate::demo_room::seed(domain, config, &builder(ci_id, "ci")).await?;
    let running = match name {
        "clearroom" => record_running_server(domain, pin, &builder(ci_id, "ci")).await,
        _ => None,
    };
    review(domain, pin, &source, &person("reviewer"), &person("staff")).await.map_err(fail)?;
    let tool_results = crate::demo_sarif::seed(domain, pin, &source, &person("reviewer")).await;
    domain.attestations().issue_review_summary(Actor::Operator, pin).await.map_err(fail)?;
    // A regulator's export of the demo release, built in the background once the server runs.
    let export = app::model::ExportRequest { pins: vec![pin.get()], ..Default::default() };
    let export =
        domain.exports().request_export(Actor::Web(&person("regulator")), &export, true).await.map_err(fail)?;
    // The release policy, two supervisors' keys, an authorised release and an objected one.
    let releases = crate::demo_releases::seed(domain, config, name, pin, previous).await?;
    println!();
    println!("Demo accounts (passwords are shown only now):");
    for (username, role, password, _) in &accounts {
        println!("  {:<12} {:<10} {}", username, role.as_str(), password.expose());
    }
    println!("Demo repository {name} pinned as pin {pin}; the reviewer may browse it for 8 hours.");
    println!(
        "The evaluator's grant is limited to the paths {}: nothing else of the pin exists for them.",
        scope.join(" ")
    );
    if let Some(previous) = previous {
        println!("Its previous commit is pin {previous}: compare them at /pins/{previous}/compare/{pin}");
        println!("  and read the commits between them at /pins/{previous}/history/{pin} (history policy: full).");
        println!("Builds: pin {pin}'s server binary is reproduced by two builder accounts (ci and lab); pin {previous}'s builders disagree (a mismatch).");
    }
    println!("{releases}");
    println!("{tool_results}");
    println!("{room}");
    if let Some(running) = running {
        println!("{running}");
    }
    println!("The builder account ci records builds with the API token (shown only now): {ci}");
    println!("The regulator's export {export} of pin {pin} is on /exports (sign in as regulator to download it;");
    println!("  check it offline with `server verify bundle FILE --key KEY`, KEY from /api/v1/log/key).");
    println!();
    Ok(())
}

/// Build records: the release's server binary built by CI and by an independent rebuilder (two
/// builder accounts) with the same hash, its release notes uploaded, and the previous release's binary where the two
/// builders disagree. The hashes are stand-ins derived from the commit (the demo builds nothing).
async fn builds(domain: &Domain, pin: PinId, previous: Option<PinId>, ci: &Caller, lab: &Caller) -> AppResult<()> {
    use crate::domain::builds::BuildInput;
    use sha2::Digest as _;
    let stand_in = |text: String| app::model::Sha256Hex::parse(&hex::encode(sha2::Sha256::digest(text.as_bytes())));
    let now = domain.clock().now_ms();
    let input = |builder: Option<&str>, command: &str| BuildInput {
        name: "clearroom-server".into(),
        platform: "linux/amd64".into(),
        builder: builder.map(str::to_string),
        command: command.into(),
        toolchain: "rustc 1.90.0 (stable), cargo xtask build".into(),
        notes: String::new(),
        started_at_ms: Some(now - 20 * 60_000),
        finished_at_ms: Some(now - 12 * 60_000),
        source_prefix: None,
    };
    let release = stand_in(format!("demo build of pin {pin}"))?;
    domain
        .builds()
        .record_build(Actor::Web(ci), pin, &input(None, "cargo build --release --locked"), &release, Some(18_734_112))
        .await?;
    domain
        .builds()
        .record_build(
            Actor::Web(lab),
            pin,
            &input(Some("https://rebuild.example.org/lab-2"), "docker run rebuilder cargo build --release --locked"),
            &release,
            Some(18_734_112),
        )
        .await?;
    let notes = BuildInput { name: "RELEASE-NOTES.txt".into(), platform: String::new(), ..input(None, "") };
    let text: &[u8] = b"Demo release notes: the artifact itself is uploaded and kept under its SHA-256.\n";
    let stream = futures_util::stream::iter([Ok::<_, std::io::Error>(text)]);
    domain.builds().record_upload(Actor::Web(ci), pin, &notes, None, stream).await?;
    if let Some(previous) = previous {
        let ours = stand_in(format!("demo build of pin {previous}"))?;
        let theirs = stand_in(format!("a different build of pin {previous}"))?;
        domain
            .builds()
            .record_build(Actor::Web(ci), previous, &input(None, "cargo build --release"), &ours, None)
            .await?;
        domain
            .builds()
            .record_build(
                Actor::Web(lab),
                previous,
                &input(Some("https://rebuild.example.org/lab-2"), "docker run rebuilder cargo build --release"),
                &theirs,
                None,
            )
            .await?;
    }
    Ok(())
}

/// The server binary running now, recorded as an artifact of the pin (hard-linked, not copied,
/// where the file system allows): its compiled-code map shows which lines of this checkout are
/// compiled into the server the newcomer is running, and which files come from elsewhere (the
/// standard library, the crates). A release build without debug information says so.
async fn record_running_server(domain: &Domain, pin: PinId, ci: &Caller) -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let input = crate::domain::builds::BuildInput {
        name: "clearroom-server (this binary)".into(),
        platform: format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
        command: "cargo xtask serve-demo".into(),
        notes: format!("the server binary running the demo: {}", exe.display()),
        ..Default::default()
    };
    // A copy only when small: a debug binary on another file system than the data is not copied.
    match domain.builds().record_local_file(Actor::Web(ci), pin, &input, &exe, 256 << 20).await {
        Ok(recorded) => Some(format!(
            "The running server binary is an artifact of pin {pin} ({}…): its compiled-code map is on the Builds page, and each file shows which of its lines are compiled in.",
            &recorded.sha256[..12]
        )),
        Err(error) => {
            tracing::warn!(%error, "the running server binary could not be recorded for the demo");
            None
        }
    }
}

/// A review under way: a comment, a finding the vendor answered, a private note, a file marked
/// reviewed, and a verdict, made by the demo's reviewer and staff (recorded as such, from
/// `demo-seed`).
async fn review(domain: &Domain, pin: PinId, source: &Path, reviewer: &Caller, staff: &Caller) -> AppResult<()> {
    let code = demo_code_file(source).unwrap_or_else(|| "README.md".into());
    let comment =
        |path: &str, lines: Option<(u32, u32)>, body: &str, severity: Option<&str>, private: bool| NewComment {
            path: path.into(),
            start_line: lines.map(|l| l.0),
            end_line: lines.map(|l| l.1),
            body: body.into(),
            severity: severity.map(str::to_string),
            cwe: Vec::new(),
            requirements: Vec::new(),
            private,
            reply_to: None,
        };
    let who = Actor::Web(reviewer);
    // The reviewer read these files (recorded views: coverage and the export's sessions show them).
    for path in ["README.md", code.as_str()] {
        if let Ok(path) = RepoPath::parse(path) {
            app::backend::Backend::open_blob(domain, reviewer, pin, path, None, None, None).await?;
        }
    }
    domain
        .review()
        .add_comment(
            who,
            pin,
            &comment(
                "README.md",
                Some((1, 1)),
                "The title says *sample*; is this the release build's README?",
                None,
                false,
            ),
        )
        .await?;
    // Classified: CWE-20, Improper Input Validation; against a requirement of the pin's list.
    crate::demo_requirements::import(domain, pin).await?;
    let finding = NewComment {
        cwe: vec![20],
        requirements: vec![crate::demo_requirements::FINDING_AGAINST.into()],
        ..comment(
            &code,
            Some((1, 3)),
            "No input validation before use: **please confirm** the caller checks bounds.",
            Some("high"),
            false,
        )
    };
    let finding = domain.review().add_comment(who, pin, &finding).await?;
    let traced = NewComment {
        requirements: vec![crate::demo_requirements::TRACED.into()],
        ..comment(&code, Some((1, 2)), "This is where the hashing this requirement asks for begins.", None, false)
    };
    domain.review().add_comment(who, pin, &traced).await?;
    let reply = NewComment {
        reply_to: Some(finding),
        ..comment(&code, None, "The caller validates lengths; see the module docs.", None, false)
    };
    domain.review().add_comment(Actor::Web(staff), pin, &reply).await?;
    domain
        .review()
        .set_comment_state(Actor::Web(staff), finding, ThreadState::Responded, Some("answered in the thread"), None)
        .await?;
    domain
        .review()
        .add_comment(
            who,
            pin,
            &comment(&code, None, "Private: compare with the previous release's bounds checks.", None, true),
        )
        .await?;
    domain.coverage().mark_reviewed(who, pin, &RepoPath::parse("README.md")?, true).await?;
    // The pin's file index (normally built in the background, first of its jobs) is needed for the
    // verdict's coverage.
    domain.jobs().run_next_job().await?;
    domain
        .coverage()
        .submit_verdict(
            who,
            pin,
            VerdictKind::Concerns,
            "One high finding is open; the vendor's answer needs checking.\n\
             FDP_ITC.1: lengths are not checked before use (the open finding).\n\
             FCS_COP.1/HASH: hashing is domain-separated as RFC 6962 asks.",
        )
        .await?;
    Ok(())
}

/// A source file of the demo repository to comment on: this checkout's or the sample's.
fn demo_code_file(source: &Path) -> Option<String> {
    let repo = git2::Repository::open(source).ok()?;
    let tree = repo.head().ok()?.peel_to_tree().ok()?;
    ["server/src/audit/merkle.rs", "src/crypto.c", "src/main.rs"]
        .into_iter()
        .find(|path| tree.get_path(Path::new(path)).is_ok())
        .map(str::to_string)
}

/// Commits `files` (path, content) as the whole tree of a new commit on HEAD (whose parent is the
/// commit HEAD names, if any), with a fixed author and date, so the same files give the same id.
pub fn write_commit(
    repo: &git2::Repository,
    files: &[(&str, Vec<u8>)],
    message: &str,
) -> Result<git2::Oid, git2::Error> {
    let files: Vec<(&str, Vec<u8>, u32)> =
        files.iter().map(|(path, content)| (*path, content.clone(), 0o100644)).collect();
    write_commit_with_modes(repo, &files, message)
}

/// `write_commit` with a file mode for each file (0o100644, 0o100755, 0o120000 for a symlink).
pub fn write_commit_with_modes(
    repo: &git2::Repository,
    files: &[(&str, Vec<u8>, u32)],
    message: &str,
) -> Result<git2::Oid, git2::Error> {
    let mut index = git2::Index::new()?;
    for (path, content, mode) in files {
        let oid = repo.blob(content)?;
        let entry = git2::IndexEntry {
            ctime: git2::IndexTime::new(0, 0),
            mtime: git2::IndexTime::new(0, 0),
            dev: 0,
            ino: 0,
            mode: *mode,
            uid: 0,
            gid: 0,
            file_size: content.len() as u32,
            id: oid,
            flags: path.len() as u16,
            flags_extended: 0,
            path: path.as_bytes().to_vec(),
        };
        index.add(&entry)?;
    }
    let tree = repo.find_tree(index.write_tree_to(repo)?)?;
    let parent = repo.head().ok().and_then(|head| head.peel_to_commit().ok());
    // A fixed time, a day after the parent's: the same files give the same ids, in history order.
    let time = parent.as_ref().map_or(1_700_000_000, |p| p.time().seconds() + 86_400);
    let signature = git2::Signature::new("Clearroom", "clearroom@example.invalid", &git2::Time::new(time, 0))?;
    let parents: Vec<&git2::Commit<'_>> = parent.iter().collect();
    repo.commit(Some("HEAD"), &signature, &signature, message, &tree, &parents)
}

/// A small repository with files in several languages, a binary and a long-line file.
fn generate_sample(dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    let repo = git2::Repository::init_bare(dir)?;
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("README.md", b"# Sample firmware\n\nA small multi-language sample for Clearroom's demo.\n".to_vec()),
        ("src/main.rs", b"//! Entry point.\n\nfn main() {\n    let total: u32 = (1..=10).sum();\n    println!(\"total = {total}\");\n}\n".to_vec()),
        ("src/crypto.c", b"#include <stdint.h>\n\n/* Constant-time comparison. */\nint equal(const uint8_t *a, const uint8_t *b, int n) {\n    uint8_t d = 0;\n    for (int i = 0; i < n; i++) d |= a[i] ^ b[i];\n    return d == 0;\n}\n".to_vec()),
        ("tools/report.py", b"\"\"\"Summarise a build log.\"\"\"\n\nimport sys\n\n\ndef main() -> int:\n    lines = sys.stdin.read().splitlines()\n    print(f\"{len(lines)} lines\")\n    return 0\n\n\nif __name__ == \"__main__\":\n    raise SystemExit(main())\n".to_vec()),
        ("web/app.js", b"'use strict';\n\nexport function greet(name) {\n  return `Hello, ${name}!`;\n}\n".to_vec()),
        ("assets/logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\0\0\x01\x01\0\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82".to_vec()),
        ("config/long.json", format!("{{\"values\": [{}]}}\n", (0..3000).map(|i| i.to_string()).collect::<Vec<_>>().join(",")).into_bytes()),
    ];
    write_commit(&repo, &files[..files.len() - 1], "Sample release 1.0")?;
    // The next release: a changed function, a new file, one file gone.
    let mut next: Vec<(&str, Vec<u8>)> = files.into_iter().filter(|(path, _)| *path != "web/app.js").collect();
    for (path, content) in &mut next {
        if *path == "src/main.rs" {
            *content = b"//! Entry point.\n\nfn main() {\n    let total: u64 = (1..=100).sum();\n    println!(\"total = {total}\");\n}\n".to_vec();
        }
    }
    next.push((
        "src/limits.rs",
        b"/// The largest input accepted, in bytes.\npub const MAX_INPUT: usize = 1 << 20;\n".to_vec(),
    ));
    write_commit(&repo, &next, "Sample release 1.1")?;
    Ok(dir.to_path_buf())
}

/// The demo's witnesses: two stand-alone witnesses run in this process (in a real centre they run
/// elsewhere, by other organisations, with `server witness serve`), each with its own directory and
/// key under `<data-dir>/demo-witnesses/`, and a policy whose quorum is both of them.
pub async fn start_witnesses(domain: &Domain, config: &Config) -> anyhow::Result<()> {
    let log_key = domain.log().log_verifier_key();
    let public_key = domain.transparency().verifier_key();
    let mut policy = format!("log {log_key}\n");
    for n in 1..=2 {
        let dir = config.data_dir.join("demo-witnesses").join(format!("w{n}"));
        let cosigner = crate::witness::load_or_create_key(&dir.join("witness.key"), &format!("demo.witness/w{n}"))?;
        let vkey = cosigner.verifier().to_string();
        // Each witness follows both logs: the audit log and the public log of releases.
        let own = crate::audit::policy::Policy::parse(&format!("log {log_key}\nlog {public_key}\nquorum none\n"))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let witness = crate::witness::Witness::open(&dir, own, cosigner).await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let router = crate::witness::router(std::sync::Arc::new(witness));
        tokio::spawn(async move { axum::serve(listener, router).await });
        policy.push_str(&format!("witness W{n} {vkey} {url}\n"));
    }
    policy.push_str("group both all W1 W2\nquorum both\n");
    domain.log().supervise(crate::audit::policy::Policy::parse(&policy).map_err(|e| anyhow::anyhow!("{e}"))?);
    println!("Demo witnesses: two local witnesses cosign every checkpoint (see /log).");
    Ok(())
}
