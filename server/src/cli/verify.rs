//! `server verify …`: checking records without trusting the server (the log, a binary, an
//! attestation, an export bundle, a release).

use super::DataArgs;
use crate::config::Config;
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand)]
pub(super) enum VerifyCommand {
    /// Check the latest checkpoint's signature, every entry, the root, and consistency with an older
    /// checkpoint; exits non-zero naming the first bad index. Reads the log from a server (--url)
    /// or from a data directory and database (--data-dir / --database-url).
    Log {
        /// A file holding the log's verifier key (GET /api/v1/log/key).
        #[arg(long)]
        key: PathBuf,
        /// A file holding an older checkpoint kept by the regulator.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
        /// The server's base URL.
        #[arg(long)]
        url: Option<String>,
        /// An API token for --url (staff or regulator).
        #[arg(long, env = "CLEARROOM_TOKEN")]
        token: Option<String>,
        /// A C2SP tlog-policy file: also check the checkpoint's cosignatures meet its quorum.
        #[arg(long)]
        policy: Option<PathBuf>,
    },
    /// Hash a file and ask a server what it was built from: pin, commit, reproducibility, review
    /// and attestations (each envelope checked against the server's attestation key).
    Binary {
        file: PathBuf,
        /// The server's base URL.
        #[arg(long)]
        url: String,
        /// An API token (any role).
        #[arg(long, env = "CLEARROOM_TOKEN")]
        token: Option<String>,
    },
    /// Check a file against the public log: the checkpoint (and witnesses' quorum), the
    /// statement's inclusion, its COSE signature, the DSSE signatures of the vendor and a quorum of
    /// supervisors, and that the file is one of the release's artifacts. Exits non-zero naming what
    /// failed.
    Release {
        file: PathBuf,
        /// The public log's key (the vkey line of /bt/key), or a file holding it.
        #[arg(long)]
        bt_key: Option<String>,
        /// A supervisor's public key (a vkey line, or a file holding it); repeat for each.
        #[arg(long = "supervisor-key")]
        supervisor_keys: Vec<String>,
        /// The vendor's attestation key (PEM, or base64), or a file holding it.
        #[arg(long)]
        vendor_key: Option<String>,
        /// A C2SP tlog-policy file: the checkpoint's cosignatures must meet its quorum.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// A server: the statement and its inclusion proof come from its tiles.
        #[arg(long, conflicts_with_all = ["proof", "statement"])]
        url: Option<String>,
        /// A proof saved with `server release proof`.
        #[arg(long, conflicts_with = "statement")]
        proof: Option<PathBuf>,
        /// A Transparent Statement (with its receipt), checked with --service-key and no network.
        #[arg(long)]
        statement: Option<PathBuf>,
        /// The transparency service's key (the vkey line of /bt/key), for --statement.
        #[arg(long)]
        service_key: Option<String>,
    },
    /// Check a DSSE envelope (a JSON file, or a .intoto.jsonl of them) offline against a public
    /// key (PEM, or 32 bytes in base64); exits non-zero naming what failed.
    Attestation {
        envelope: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
    /// Check an export bundle offline: the manifest's signature and every member's SHA-256, the
    /// checkpoint, every event's inclusion, consistency with an earlier checkpoint, every
    /// attestation, and that the records agree with the events. Exits non-zero naming each failure.
    Bundle {
        bundle: PathBuf,
        /// A file holding the log's verifier key (GET /api/v1/log/key), obtained independently.
        #[arg(long)]
        key: PathBuf,
        /// The attestation public key (PEM, or 32 bytes in base64), obtained independently.
        #[arg(long)]
        attestation_key: Option<PathBuf>,
        /// A C2SP tlog-policy file: the checkpoint's cosignatures must meet its quorum.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The last checkpoint you hold: the bundle's checkpoint must extend it.
        #[arg(long)]
        previous_checkpoint: Option<PathBuf>,
    },
}

pub(super) async fn run(command: VerifyCommand, data: &DataArgs) -> anyhow::Result<()> {
    match command {
        VerifyCommand::Log { key, checkpoint, url, token, policy } => {
            let database_url =
                data.database_url.clone().unwrap_or_else(|| Config::default_database_url(&data.data_dir));
            crate::verify_cli::verify_log(
                &key,
                checkpoint.as_deref(),
                url.as_deref(),
                token.as_deref(),
                &database_url,
                policy.as_deref(),
            )
            .await
        }
        VerifyCommand::Bundle { bundle, key, attestation_key, policy, previous_checkpoint } => {
            crate::verify_cli::verify_bundle(
                &bundle,
                &key,
                attestation_key.as_deref(),
                policy.as_deref(),
                previous_checkpoint.as_deref(),
            )
        }
        VerifyCommand::Binary { file, url, token } => {
            crate::verify_cli::verify_binary(&file, &url, token.as_deref()).await
        }
        VerifyCommand::Release {
            file,
            bt_key,
            supervisor_keys,
            vendor_key,
            policy,
            url,
            proof,
            statement,
            service_key,
        } => {
            crate::verify_release::verify_release(crate::verify_release::Inputs {
                file: &file,
                bt_key: bt_key.as_deref(),
                supervisor_keys: &supervisor_keys,
                vendor_key: vendor_key.as_deref(),
                policy: policy.as_deref(),
                url: url.as_deref(),
                proof: proof.as_deref(),
                statement: statement.as_deref(),
                service_key: service_key.as_deref(),
            })
            .await
        }
        VerifyCommand::Attestation { envelope, key } => crate::verify_cli::verify_attestation(&envelope, &key),
    }
}
