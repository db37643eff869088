//! `server requirements import --pin PIN --file reqs.csv`: a pin's requirement list, recorded as
//! the operator's `requirements.import`.

use crate::domain::{Actor, Domain};
use anyhow::Context;
use app::model::PinId;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum RequirementsCommand {
    /// Import a pin's requirement list (CSV with the header `id,title,text`, or JSON: an array of
    /// `{id, title, text}`); it becomes the pin's list. Prints its id and SHA-256.
    Import {
        /// The pin's id.
        #[arg(long)]
        pin: String,
        /// The list's file.
        #[arg(long)]
        file: PathBuf,
    },
}

pub(super) async fn run(domain: &Domain, command: RequirementsCommand) -> anyhow::Result<()> {
    let RequirementsCommand::Import { pin, file } = command;
    let pin = PinId::parse(&pin).map_err(|e| anyhow::anyhow!("--pin {pin:?}: {e}"))?;
    let size = std::fs::metadata(&file).with_context(|| format!("reading {}", file.display()))?.len();
    if size > crate::review::requirements::MAX_LIST_BYTES as u64 {
        anyhow::bail!("{}: a requirement list is at most 8 MiB", file.display());
    }
    let bytes = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
    let imported =
        domain.requirements().import(Actor::Operator, pin, &bytes).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "imported {} requirements for pin {pin} as list {} (sha256 {})",
        imported.requirements, imported.list, imported.sha256
    );
    Ok(())
}
