//! `server release …` (a repository's release policy; proposing, reading and deciding on
//! releases) and `server supervisor …` (a supervisor's key and decisions, made offline, and
//! registering the public key).

use crate::domain::releases::PolicyFormat;
use crate::domain::{Actor, Domain};
use crate::releases::keys;
use anyhow::Context as _;
use app::model::{NewRelease, PinId, ReleaseArtifact, ReleaseView};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub(super) enum ReleaseCommand {
    /// A repository's release policy: what its releases must meet before supervisors sign.
    #[command(subcommand)]
    Policy(PolicyCommand),
    /// Propose a release of a pin: freezes its dossier under the repository's policy (recorded).
    /// Prints each rule, then the release id last.
    Propose {
        #[arg(long)]
        pin: String,
        #[arg(long)]
        version: String,
        /// An artifact as NAME:PLATFORM:SHA256 (the platform may be empty); one or more.
        #[arg(long = "artifact", required = true)]
        artifacts: Vec<String>,
    },
    /// Write a release's dossier: the DSSE envelope supervisors sign (payload: the statement).
    Dossier {
        id: i64,
        #[arg(long)]
        out: PathBuf,
    },
    /// Record a supervisor's signature or objection file (`server supervisor sign` / `object`).
    Sign {
        id: i64,
        #[arg(long)]
        username: String,
        #[arg(long)]
        signature: PathBuf,
    },
    /// Print a release's state (proposed, authorised, objected, replaced) and each rule.
    Show { id: i64 },
    /// Write an authorised release's proof: its statement in the public log, the inclusion proof
    /// and the checkpoint (`server verify release --proof`).
    Proof {
        id: i64,
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub(super) enum PolicyCommand {
    /// Set a repository's release policy from a TOML file (recorded); a bad policy names its
    /// rule. Prints the policy's SHA-256 last.
    Set {
        #[arg(long)]
        repo: String,
        #[arg(long)]
        file: PathBuf,
    },
    /// Print a repository's release policy (its canonical JSON, then its SHA-256).
    Show {
        #[arg(long)]
        repo: String,
    },
}

#[derive(Subcommand)]
pub(super) enum SupervisorCommand {
    /// Create a supervisor's Ed25519 key in FILE (0600; never overwritten) and its public key in
    /// FILE with the extension `.pub`. Prints the public key (a verifier key line) last. Offline.
    Key {
        #[arg(long)]
        out: PathBuf,
        /// The key's name (default: the file's name without its extension).
        #[arg(long)]
        name: Option<String>,
    },
    /// Register a supervisor's (or builder's) public key, as `supervisor key` printed it (staff).
    Register {
        #[arg(long)]
        username: String,
        #[arg(long)]
        key_file: PathBuf,
    },
    /// Sign a release's dossier (the file `release dossier` wrote) with your key. Offline.
    Sign {
        dossier: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
    /// Object to a release's dossier, with a reason, signed with your key. Offline.
    Object {
        dossier: PathBuf,
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        reason: String,
        #[arg(long)]
        out: PathBuf,
    },
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))
}

fn fail(error: app::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

/// NAME:PLATFORM:SHA256, split at the last two colons (a name may hold one).
fn artifact(text: &str) -> anyhow::Result<ReleaseArtifact> {
    ReleaseArtifact::parse_spec(text).map_err(|e| anyhow::anyhow!("--artifact {e}"))
}

fn print_release(view: &ReleaseView) {
    println!("release {} {} of {} (pin {}, {})", view.id, view.version, view.repository, view.pin_id, view.commit);
    for artifact in &view.artifacts {
        println!("artifact {} {} {}", artifact.name, artifact.platform, artifact.sha256);
    }
    for rule in &view.rules {
        println!("rule {} {}: {}", rule.rule, if rule.met { "met" } else { "unmet" }, rule.reason);
    }
    for d in &view.decisions {
        match &d.reason {
            None => println!("signed {} {}", d.supervisor, d.keyid),
            Some(reason) => println!("objected {} {}: {reason}", d.supervisor, d.keyid),
        }
    }
    println!("dossier sha256 {}", view.dossier_sha256);
    println!("state {}", view.state.as_str());
}

pub(super) async fn run(domain: &Domain, command: ReleaseCommand) -> anyhow::Result<()> {
    let releases = domain.releases();
    match command {
        ReleaseCommand::Policy(PolicyCommand::Set { repo, file }) => {
            let text = read(&file)?;
            let set = releases.set_policy(Actor::Operator, &repo, &text, PolicyFormat::Toml).await.map_err(fail)?;
            println!("policy sha256 {}", set.sha256);
        }
        ReleaseCommand::Policy(PolicyCommand::Show { repo }) => {
            let Some(view) = releases.policy(Actor::Operator, &repo).await.map_err(fail)? else {
                anyhow::bail!("the repository {repo} has no release policy");
            };
            println!("{}", serde_json::to_string_pretty(&view.policy)?);
            println!("policy sha256 {}", view.sha256);
        }
        ReleaseCommand::Propose { pin, version, artifacts } => {
            let pin = PinId::parse(&pin).map_err(|e| anyhow::anyhow!("pin {pin:?}: {e}"))?;
            let artifacts = artifacts.iter().map(|a| artifact(a)).collect::<anyhow::Result<Vec<_>>>()?;
            let view =
                releases.propose(Actor::Operator, pin, &NewRelease { version, artifacts }).await.map_err(fail)?;
            print_release(&view);
            println!("{}", view.id);
        }
        ReleaseCommand::Dossier { id, out } => {
            let envelope = releases.dossier(Actor::Operator, id).await.map_err(fail)?;
            std::fs::write(&out, envelope).with_context(|| format!("writing {}", out.display()))?;
            println!("wrote {}", out.display());
        }
        ReleaseCommand::Sign { id, username, signature } => {
            let file = read(&signature)?;
            let view = releases.decide(Actor::Operator, id, Some(&username), &file).await.map_err(fail)?;
            print_release(&view);
        }
        ReleaseCommand::Show { id } => print_release(&releases.release(Actor::Operator, id).await.map_err(fail)?),
        ReleaseCommand::Proof { id, out } => {
            let proof = domain.transparency().release_proof(id).await.map_err(fail)?;
            std::fs::write(&out, serde_json::to_string_pretty(&proof)? + "\n")
                .with_context(|| format!("writing {}", out.display()))?;
            println!("entry {} of the public log", proof.index);
            println!("wrote {}", out.display());
        }
    }
    Ok(())
}

/// `server supervisor register` (needs the database).
pub(super) async fn register(domain: &Domain, username: &str, key_file: &Path) -> anyhow::Result<()> {
    let vkey = read(key_file)?;
    let key = domain.releases().register_key(Actor::Operator, username, &vkey).await.map_err(fail)?;
    println!("registered {} for {}", key.keyid, key.username);
    Ok(())
}

/// `server supervisor key | sign | object`: offline, no database, no server.
pub(super) fn offline(command: SupervisorCommand) -> anyhow::Result<()> {
    match command {
        SupervisorCommand::Key { out, name } => {
            let name = match name {
                Some(name) => name,
                None => out.file_stem().and_then(|s| s.to_str()).unwrap_or("supervisor").to_string(),
            };
            let signer = crate::audit::note::NoteSigner::generate(&name)
                .map_err(|_| anyhow::anyhow!("{name:?} is not a key name (no spaces or '+')"))?;
            let public = out.with_extension("pub");
            crate::audit::checkpoint::write_private(&out, &(signer.to_key_string() + "\n"))
                .with_context(|| format!("writing {} (it must not exist)", out.display()))?;
            let vkey = signer.verifier().to_string();
            std::fs::write(&public, format!("{vkey}\n")).with_context(|| format!("writing {}", public.display()))?;
            println!("private key {} (keep it offline)", out.display());
            println!("public key {}", public.display());
            println!("{vkey}");
        }
        SupervisorCommand::Sign { dossier, key, out } => {
            let signer = private_key(&key)?;
            let decision = keys::sign(&read(&dossier)?, &signer)?;
            write_decision(&out, &decision)?;
        }
        SupervisorCommand::Object { dossier, key, reason, out } => {
            let signer = private_key(&key)?;
            let decision = keys::object(&read(&dossier)?, &signer, &reason)?;
            write_decision(&out, &decision)?;
        }
        SupervisorCommand::Register { .. } => unreachable!("register opens the database"),
    }
    Ok(())
}

fn private_key(path: &Path) -> anyhow::Result<crate::audit::note::NoteSigner> {
    crate::audit::note::NoteSigner::parse(&read(path)?)
        .map_err(|_| anyhow::anyhow!("{} is not a key `server supervisor key` wrote", path.display()))
}

fn write_decision(out: &Path, decision: &keys::Decision) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(decision)? + "\n";
    std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    println!("dossier sha256 {}", decision.dossier_sha256);
    println!("wrote {}", out.display());
    Ok(())
}
