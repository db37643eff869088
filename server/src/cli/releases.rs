//! `server release …`: a repository's release policy.

use crate::domain::releases::PolicyFormat;
use crate::domain::{Actor, Domain};
use anyhow::Context as _;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub(super) enum ReleaseCommand {
    /// A repository's release policy: what its releases must meet before supervisors sign.
    #[command(subcommand)]
    Policy(PolicyCommand),
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

pub(super) async fn run(domain: &Domain, command: ReleaseCommand) -> anyhow::Result<()> {
    let fail = |error: app::error::AppError| anyhow::anyhow!("{error}");
    match command {
        ReleaseCommand::Policy(PolicyCommand::Set { repo, file }) => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let set =
                domain.releases().set_policy(Actor::Operator, &repo, &text, PolicyFormat::Toml).await.map_err(fail)?;
            println!("policy sha256 {}", set.sha256);
        }
        ReleaseCommand::Policy(PolicyCommand::Show { repo }) => {
            let Some(view) = domain.releases().policy(Actor::Operator, &repo).await.map_err(fail)? else {
                anyhow::bail!("the repository {repo} has no release policy");
            };
            println!("{}", serde_json::to_string_pretty(&view.policy)?);
            println!("policy sha256 {}", view.sha256);
        }
    }
    Ok(())
}
