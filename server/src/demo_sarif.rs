//! The demo's imported tool results: Debian's flawfinder run over the demo release's C files (as
//! a lab runs its own tool on its own checkout), its SARIF imported by the reviewer, and three of
//! its results triaged: one confirmed (a finding), one false positive, one not useful.

use crate::domain::{Actor, Domain};
use app::model::{Caller, PinId, SarifFilter, Triage, TriageInput};
use std::path::Path;

/// C files written out for the tool, at most.
const MOST_FILES: usize = 500;

/// Imports and triages; says what it did, or why there are no tool results in the demo.
pub async fn seed(domain: &Domain, pin: PinId, source: &Path, reviewer: &Caller) -> String {
    match import(domain, pin, source, reviewer).await {
        Ok(done) => done,
        Err(why) => format!("Tool results: none imported ({why})."),
    }
}

async fn import(domain: &Domain, pin: PinId, source: &Path, reviewer: &Caller) -> Result<String, String> {
    let checkout = Checkout(std::env::temp_dir().join(format!("clearroom-demo-tool-{:016x}", rand::random::<u64>())));
    let written = write_c_files(source, checkout.path()).map_err(|e| format!("reading the demo repository: {e}"))?;
    if written == 0 {
        return Err("the demo release has no C files".into());
    }
    let output = std::process::Command::new("flawfinder")
        .args(["--sarif", "."])
        .current_dir(checkout.path())
        .output()
        .map_err(|_| "flawfinder is not installed; Debian: apt-get install flawfinder".to_string())?;
    if !output.status.success() {
        return Err("flawfinder failed on the demo's C files".into());
    }
    // The pin's file index, which places results, is its first job.
    for _ in 0..10 {
        if domain.indexed_files(pin).await.map_err(|e| e.to_string())?.1 {
            break;
        }
        domain.jobs().run_next_job().await.map_err(|e| e.to_string())?;
    }
    let who = Actor::Web(reviewer);
    let body = futures_util::stream::iter([Ok::<_, std::io::Error>(output.stdout)]);
    let imported = domain.tool_results().import(who, pin, None, body).await.map_err(|e| e.to_string())?;
    let results = domain.tool_results().results(who, pin, imported.id, &SarifFilter::default()).await;
    let results = results.map_err(|e| e.to_string())?.results;
    // flawfinder's rules for strcpy, a fixed-size buffer and system().
    let triages = [
        ("FF1001", Triage::Confirmed, "The source is argv: an unbounded copy into a 16-byte buffer."),
        ("FF1013", Triage::FalsePositive, "The buffer only holds what the bounded copy puts there."),
        ("FF1044", Triage::NotUseful, "A fixed command with no input from outside."),
    ];
    let mut triaged = 0;
    for (rule, state, reason) in triages {
        let Some(result) = results.iter().find(|r| r.rule_id == rule) else { continue };
        let input = TriageInput { state, reason: reason.into(), severity: None };
        let index = result.index as i64;
        domain.tool_results().triage(who, pin, imported.id, index, &input).await.map_err(|e| e.to_string())?;
        triaged += 1;
    }
    Ok(format!(
        "Tool results: flawfinder's SARIF on the release's C files is imported at /pins/{pin}/sarif/{} ({} results, {} placed; {triaged} triaged).",
        imported.id, imported.results, imported.placed
    ))
}

/// A directory of files for the tool, removed when dropped.
struct Checkout(std::path::PathBuf);

impl Checkout {
    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Checkout {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes the `.c` and `.h` files of the repository's HEAD under `to`, at their paths.
fn write_c_files(source: &Path, to: &Path) -> Result<usize, git2::Error> {
    let repo = git2::Repository::open(source)?;
    let tree = repo.head()?.peel_to_tree()?;
    let mut files = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let name = entry.name().unwrap_or_default();
        if files.len() < MOST_FILES && (name.ends_with(".c") || name.ends_with(".h")) {
            files.push((format!("{dir}{name}"), entry.id()));
        }
        git2::TreeWalkResult::Ok
    })?;
    for (path, id) in &files {
        let blob = repo.find_blob(*id)?;
        let target = to.join(path);
        let written = target
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|_| std::fs::write(&target, blob.content()));
        if written.is_err() {
            return Err(git2::Error::from_str("writing a C file for the tool"));
        }
    }
    Ok(files.len())
}
