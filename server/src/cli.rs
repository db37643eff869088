//! The command line: `serve` and the administrative subcommands, which open the same data
//! directory and database (they work while a server runs on them).

use crate::auth::Password;
use crate::config::{Config, SourceLimits};
use crate::domain::{Actor, Domain};
use crate::startup::{open_domain, Application};
use anyhow::Context as _;
use app::model::{PinId, Role, Sha256Hex};
use clap::{Args, Parser, Subcommand};
use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Parser)]
#[command(name = "server", version, about = "Clearroom: a transparency centre for source review")]
struct Cli {
    /// A TOML file of settings (keys as the long options, e.g. `public-url = "https://…"`);
    /// flags win over the environment, which wins over the file (see `config_file`).
    #[arg(long, global = true, env = "CLEARROOM_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(flatten)]
    data: DataArgs,
    /// Log lines as text, or as JSON objects (one per line, with the request id's span).
    #[arg(long, global = true, env = "CLEARROOM_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Clone)]
struct DataArgs {
    /// Where the database, repositories and keys live.
    #[arg(long, global = true, env = "CLEARROOM_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// sqlite://FILE or postgres://…; default: a SQLite file in the data directory.
    #[arg(long, global = true, env = "CLEARROOM_DATABASE_URL")]
    database_url: Option<String>,
    /// The log's checkpoint signing key (created at first start); default DATA_DIR/log-signing.key.
    /// Several instances on one PostgreSQL database must share it.
    #[arg(long, global = true, env = "CLEARROOM_LOG_KEY")]
    log_key: Option<PathBuf>,
    /// The log's origin, used when the key is created; default `<host>/clearroom/log`.
    #[arg(long, global = true, env = "CLEARROOM_LOG_ORIGIN")]
    log_origin: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve {
        #[arg(long, env = "CLEARROOM_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Seed a demo: three accounts (passwords printed), a repository, a pin and a grant.
        #[arg(long)]
        demo: bool,
        /// The built site (CSS and the WASM half); `cargo xtask build` writes it.
        #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
        site_root: PathBuf,
        /// Files larger than this many bytes are shown without highlighting.
        #[arg(long, env = "CLEARROOM_HIGHLIGHT_MAX_BYTES", default_value_t = 1024 * 1024)]
        highlight_max_bytes: u64,
        /// A search stops after this many milliseconds and shows what it found.
        #[arg(long, env = "CLEARROOM_SEARCH_BUDGET_MS", default_value_t = 5_000)]
        search_budget_ms: u64,
        /// Highlighted files kept in memory, in MiB.
        #[arg(long, env = "CLEARROOM_MEMORY_CACHE_MB", default_value_t = 64)]
        memory_cache_mb: u64,
        /// Highlighted files kept on disk under DATA/highlight (compressed), in MiB; 0: none.
        #[arg(long, env = "CLEARROOM_DISK_CACHE_MB", default_value_t = 2048)]
        disk_cache_mb: u64,
        /// An uploaded build artifact larger than this many bytes is refused (413).
        #[arg(long, env = "CLEARROOM_UPLOAD_MAX_BYTES", default_value_t = 8 * 1024 * 1024 * 1024)]
        upload_max_bytes: u64,
        /// A C2SP tlog-policy file: the witnesses asked to cosign each checkpoint, and the quorum.
        #[arg(long, env = "CLEARROOM_WITNESS_POLICY")]
        witness_policy: Option<PathBuf>,
        /// How long a finished export stays downloadable by the person who asked for it, in hours.
        #[arg(long, env = "CLEARROOM_EXPORT_RETENTION_HOURS", default_value_t = 72)]
        export_retention_hours: u64,
        /// A reverse proxy (address or CIDR range, repeatable) whose X-Forwarded-For / Forwarded
        /// and X-Forwarded-Proto headers are believed; from any other peer they are ignored.
        #[arg(long = "trusted-proxy", value_name = "CIDR", env = "CLEARROOM_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy)]
        trusted_proxies: Vec<ipnet::IpNet>,
        /// The address people use, such as https://review.example.org: drives Secure cookies (with
        /// the __Host- prefix), HSTS and the origin every form must come from.
        #[arg(long, value_name = "URL", env = "CLEARROOM_PUBLIC_URL", value_parser = crate::network::PublicUrl::parse)]
        public_url: Option<crate::network::PublicUrl>,
        /// Also serve GET /metrics here, without authentication (for a Prometheus on a private
        /// network); on the main address /metrics is for staff only.
        #[arg(long, value_name = "ADDR", env = "CLEARROOM_METRICS_LISTEN")]
        metrics_listen: Option<SocketAddr>,
        /// A directory staff may import repositories from in the console (repeatable); without
        /// one, only `server repo import` imports.
        #[arg(long = "import-root", value_name = "DIR", env = "CLEARROOM_IMPORT_ROOTS", value_delimiter = ',')]
        import_roots: Vec<PathBuf>,
        /// Staff must sign in with a second factor (TOTP; `server user second-factor NAME` sets one up).
        #[arg(long, env = "CLEARROOM_REQUIRE_STAFF_SECOND_FACTOR")]
        require_staff_second_factor: bool,
    },
    /// Manage accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage repositories.
    #[command(subcommand)]
    Repo(RepoCommand),
    /// Export the review records of a scope as a signed, self-verifying bundle (recorded in the log).
    Export {
        /// A pin in scope (repeat for several); none: every pin.
        #[arg(long = "pin")]
        pins: Vec<String>,
        /// Only this person's events (and the grants made to them).
        #[arg(long)]
        reviewer: Option<String>,
        /// Events from this time (RFC 3339, or 2026-11-28T10:00 as UTC).
        #[arg(long)]
        from: Option<String>,
        /// Events before this time.
        #[arg(long)]
        until: Option<String>,
        /// The last checkpoint you hold: the bundle proves the log extends it.
        #[arg(long)]
        previous_checkpoint: Option<PathBuf>,
        /// Where to write the bundle (a zip file).
        #[arg(long)]
        out: PathBuf,
    },
    /// Pin a commit of a repository; prints the new pin's id last.
    Pin {
        repository: String,
        commit: String,
        #[arg(long)]
        label: String,
    },
    /// Grant a reviewer access to pins for a time window (RFC 3339 times, or 2026-11-28T10:00 as UTC).
    Grant {
        #[arg(long)]
        username: String,
        #[arg(long = "pin", required = true)]
        pins: Vec<String>,
        #[arg(long)]
        from: String,
        #[arg(long)]
        until: String,
    },
    /// Withdraw a pin: only staff read it from now on (reviewers and regulators are refused); its
    /// records stay.
    Withdraw {
        /// The pin's id.
        pin: String,
        #[arg(long)]
        reason: Option<String>,
    },
    /// Revoke a grant (ids are listed on the staff console); the grantee loses access at once.
    Revoke {
        /// The grant's id.
        grant: i64,
        /// Why, for the log.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Record builds of pinned commits.
    #[command(subcommand)]
    Build(BuildCommand),
    /// Run a C2SP tlog-witness for the logs a policy names (in its own data directory).
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Verify records without trusting the server.
    #[command(subcommand)]
    Verify(VerifyCommand),
}

#[derive(Subcommand)]
enum VerifyCommand {
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

#[derive(Subcommand)]
enum WitnessCommand {
    /// Serve `POST /add-checkpoint`, cosigning checkpoints that extend what it cosigned before.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8090")]
        listen: SocketAddr,
        /// A C2SP tlog-policy file: the `log` lines name the logs this witness serves.
        #[arg(long)]
        policy: PathBuf,
        /// The witness's key name (default `<host>/clearroom/witness`).
        #[arg(long)]
        name: Option<String>,
    },
    /// Print the witness's verifier key (creating its key when missing), for logs' policies.
    Key {
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum BuildCommand {
    /// Record a build of a pin by its artifact's SHA-256; issues its provenance attestation and
    /// prints the record id last.
    Record {
        #[arg(long)]
        pin: String,
        /// The artifact's name (a file name, an image name).
        #[arg(long)]
        name: String,
        #[arg(long)]
        sha256: String,
        /// Who or what built it (a URI, or a name).
        #[arg(long)]
        builder: String,
        #[arg(long, default_value = "")]
        platform: String,
        /// The artifact's size in bytes.
        #[arg(long)]
        size: Option<u64>,
        #[arg(long, default_value = "")]
        command: String,
        #[arg(long, default_value = "")]
        toolchain: String,
        #[arg(long, default_value = "")]
        notes: String,
        /// When the build started and finished (RFC 3339).
        #[arg(long)]
        started_at: Option<String>,
        #[arg(long)]
        finished_at: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an account; the password is read from standard input, or generated and printed.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
    },
    /// Disable an account: no sign-in, its sessions end and its API tokens are revoked at once.
    Disable {
        username: String,
        /// Why (recorded in the audit log).
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// End every session of an account (it may sign in again).
    EndSessions { username: String },
    /// Set up a second factor (TOTP) for an account; prints its key and otpauth:// link once.
    SecondFactor { username: String },
    /// Remove an account's second factor (a lost device); it signs in with its password alone.
    ResetSecondFactor { username: String },
}

#[derive(Subcommand)]
enum RepoCommand {
    /// Import a git repository from a local path (bare copy into the data directory).
    Import { name: String, path: String },
    /// Fetch new commits (branches and tags) from where the repository was imported from.
    Fetch { name: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token for a user; printed once, as the last word.
    Create {
        #[arg(long)]
        username: String,
        /// What it may do (repeatable): log:read, review, build:write, export. A token never
        /// reads source and never administers.
        #[arg(long = "scope", required = true, value_parser = parse_scope)]
        scopes: Vec<app::model::Scope>,
        /// Days until it expires (1 to 366).
        #[arg(long, default_value_t = 90)]
        days: i64,
        /// What it is for, shown in `token list`.
        #[arg(long, default_value = "")]
        label: String,
    },
    /// List every token (never the token itself): id, account, scopes, state.
    List,
    /// Revoke a token at once, by its id from `token list`.
    Revoke { id: i64 },
}

fn parse_scope(text: &str) -> Result<app::model::Scope, String> {
    app::model::Scope::parse(text).map_err(|e| e.to_string())
}

pub async fn run() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_sessions=warn"));
    if cli.log_format == "json" {
        tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    }
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn config(data: &DataArgs, listen: SocketAddr, site_root: PathBuf, limits: SourceLimits) -> Config {
    let database_url = data.database_url.clone().unwrap_or_else(|| Config::default_database_url(&data.data_dir));
    Config {
        listen,
        data_dir: data.data_dir.clone(),
        database_url,
        site_root,
        limits,
        log_key: data.log_key.clone(),
        log_origin: data.log_origin.clone().unwrap_or_else(Config::default_log_origin),
        witness_policy: None,
        clock: crate::clock::Clock::system(),
        network: Default::default(),
        import_roots: Vec::new(),
    }
}

/// An `AppError` from the domain, as a command-line error.
fn fail(error: app::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

async fn execute(cli: Cli) -> anyhow::Result<()> {
    let admin_config = || {
        config(
            &cli.data,
            "127.0.0.1:0".parse().expect("address"),
            PathBuf::from("target/site"),
            SourceLimits::default(),
        )
    };
    match cli.command {
        Command::Serve {
            listen,
            demo,
            site_root,
            highlight_max_bytes,
            search_budget_ms,
            memory_cache_mb,
            disk_cache_mb,
            upload_max_bytes,
            witness_policy,
            export_retention_hours,
            trusted_proxies,
            public_url,
            metrics_listen,
            import_roots,
            require_staff_second_factor,
        } => {
            let limits = SourceLimits {
                highlight_max_bytes,
                search_budget_ms,
                upload_max_bytes,
                memory_cache_bytes: memory_cache_mb.saturating_mul(1024 * 1024),
                disk_cache_bytes: disk_cache_mb.saturating_mul(1024 * 1024),
                export_retention_hours,
                ..SourceLimits::default()
            };
            let site_root = std::path::absolute(&site_root).unwrap_or(site_root);
            let mut config = config(&cli.data, listen, site_root, limits);
            config.witness_policy = witness_policy;
            config.network = crate::network::Network { trusted_proxies, public_url };
            config.import_roots = import_roots;
            if demo && config.import_roots.is_empty() {
                // The demo lets staff try the console's import with repositories put here.
                let imports = config.data_dir.join("imports");
                crate::startup::create_data_dir(&config.data_dir)?;
                std::fs::create_dir_all(&imports).with_context(|| format!("creating {}", imports.display()))?;
                println!("Staff may import repositories placed under {} (--import-root)", imports.display());
                config.import_roots = vec![imports];
            }
            if !config.site_root.join("pkg").exists() {
                tracing::warn!(
                    site_root = %config.site_root.display(),
                    "the built site is missing: pages work, but without styles or scripts; run `cargo xtask build`"
                );
            }
            let domain = open_domain(&config).await?;
            domain.require_staff_second_factor(require_staff_second_factor);
            if demo {
                crate::demo::seed(&domain, &config).await?;
                if config.witness_policy.is_none() {
                    crate::demo::start_witnesses(&domain, &config).await?;
                }
            }
            if let Some(address) = metrics_listen {
                let listener =
                    tokio::net::TcpListener::bind(address).await.with_context(|| format!("binding {address}"))?;
                println!("Metrics on http://{}/metrics (no authentication)", listener.local_addr()?);
                let router = crate::startup::metrics_router(Arc::clone(&domain));
                tokio::spawn(async move {
                    if let Err(error) = axum::serve(listener, router).await {
                        tracing::error!(%error, "the metrics listener stopped");
                    }
                });
            }
            let application_public_url = config.network.public_url.clone();
            let application = Application::build(config, domain).await?;
            println!("Clearroom is listening on http://{}", application.address());
            if let Some(public) = &application_public_url {
                println!("Its public address: {}", public.origin());
            }
            application.run_until_stopped().await
        }
        Command::User(UserCommand::Disable { username, reason }) => {
            let domain = open_domain(&admin_config()).await?;
            domain.disable_user(Actor::Operator, &username, &reason).await.map_err(fail)?;
            println!("{username} is disabled: its sessions ended and its tokens were revoked");
            Ok(())
        }
        Command::User(UserCommand::SecondFactor { username }) => {
            let domain = open_domain(&admin_config()).await?;
            let (secret, uri) = domain.enrol_second_factor(Actor::Operator, &username).await.map_err(fail)?;
            println!("second factor for {username} (shown once; add it to their authenticator app):");
            println!("key {secret}");
            println!("{uri}");
            Ok(())
        }
        Command::User(UserCommand::ResetSecondFactor { username }) => {
            let domain = open_domain(&admin_config()).await?;
            domain.reset_second_factor(Actor::Operator, &username).await.map_err(fail)?;
            println!("{username} has no second factor now");
            Ok(())
        }
        Command::User(UserCommand::EndSessions { username }) => {
            let domain = open_domain(&admin_config()).await?;
            let ended = domain.end_sessions_of(Actor::Operator, &username).await.map_err(fail)?;
            println!("{ended} session(s) of {username} ended");
            Ok(())
        }
        Command::User(UserCommand::Add { username, role }) => {
            let domain = open_domain(&admin_config()).await?;
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("{e}"))?;
            let password = read_password()?;
            let (_, generated) = domain.create_user(Actor::Operator, &username, role, password).await.map_err(fail)?;
            match generated {
                Some(password) => {
                    println!("created {username} ({}) with password {}", role.as_str(), password.expose())
                }
                None => println!("created {username} ({})", role.as_str()),
            }
            Ok(())
        }
        Command::Repo(RepoCommand::Import { name, path }) => {
            let domain = open_domain(&admin_config()).await?;
            let from = std::path::absolute(&path).map(|p| p.display().to_string()).unwrap_or(path);
            domain.import_repository(Actor::Operator, &name, &from).await.map_err(fail)?;
            println!("imported {name} from {from}");
            Ok(())
        }
        Command::Repo(RepoCommand::Fetch { name }) => {
            let domain = open_domain(&admin_config()).await?;
            let moved = domain.fetch_repository(Actor::Operator, &name).await.map_err(fail)?;
            for (reference, old, new) in &moved {
                println!("{reference}: {} -> {new}", old.as_deref().unwrap_or("(new)"));
            }
            println!("fetched {name}: {} ref(s) moved", moved.len());
            Ok(())
        }
        Command::Pin { repository, commit, label } => {
            let domain = open_domain(&admin_config()).await?;
            let pin = domain.create_pin(Actor::Operator, &repository, &commit, &label).await.map_err(fail)?;
            println!("pinned {repository} {commit} as {pin}");
            Ok(())
        }
        Command::Grant { username, pins, from, until } => {
            let domain = open_domain(&admin_config()).await?;
            let pins = pins
                .iter()
                .map(|p| PinId::parse(p).map_err(|e| anyhow::anyhow!("pin {p:?}: {e}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let time = |t: &str| app::times::parse(t).map_err(|e| anyhow::anyhow!("{t:?}: {e}"));
            let ids =
                domain.grant(Actor::Operator, &username, &pins, time(&from)?, time(&until)?).await.map_err(fail)?;
            println!("granted {username} {} pin(s); grant ids {ids:?}", pins.len());
            Ok(())
        }
        Command::Verify(VerifyCommand::Log { key, checkpoint, url, token, policy }) => {
            let database_url =
                cli.data.database_url.clone().unwrap_or_else(|| Config::default_database_url(&cli.data.data_dir));
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
        Command::Verify(VerifyCommand::Bundle { bundle, key, attestation_key, policy, previous_checkpoint }) => {
            crate::verify_cli::verify_bundle(
                &bundle,
                &key,
                attestation_key.as_deref(),
                policy.as_deref(),
                previous_checkpoint.as_deref(),
            )
        }
        Command::Export { pins, reviewer, from, until, previous_checkpoint, out } => {
            let domain = open_domain(&admin_config()).await?;
            let pins = pins
                .iter()
                .map(|p| PinId::parse(p).map(|p| p.get()).map_err(|e| anyhow::anyhow!("pin {p:?}: {e}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let previous_checkpoint = match previous_checkpoint {
                Some(path) => {
                    Some(std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?)
                }
                None => None,
            };
            let request = app::model::ExportRequest { pins, reviewer, from, until, previous_checkpoint };
            let (id, built) = domain.export_now(&request, &out).await.map_err(fail)?;
            println!(
                "export {id}: {} events, proven against the checkpoint of {} entries",
                built.events, built.checkpoint_size
            );
            println!("wrote {} ({} bytes)", built.written.path.display(), built.written.size);
            println!("sha256 {}", built.written.sha256);
            Ok(())
        }
        Command::Verify(VerifyCommand::Binary { file, url, token }) => {
            crate::verify_cli::verify_binary(&file, &url, token.as_deref()).await
        }
        Command::Verify(VerifyCommand::Attestation { envelope, key }) => {
            crate::verify_cli::verify_attestation(&envelope, &key)
        }
        Command::Witness(WitnessCommand::Key { name }) => {
            let name = name.unwrap_or_else(default_witness_name);
            let cosigner = crate::witness::load_or_create_key(&cli.data.data_dir.join("witness.key"), &name)?;
            println!("{}", cosigner.verifier());
            Ok(())
        }
        Command::Witness(WitnessCommand::Serve { listen, policy, name }) => {
            let name = name.unwrap_or_else(default_witness_name);
            let text = std::fs::read_to_string(&policy).with_context(|| format!("reading {}", policy.display()))?;
            let policy =
                crate::audit::policy::Policy::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", policy.display()))?;
            let cosigner = crate::witness::load_or_create_key(&cli.data.data_dir.join("witness.key"), &name)?;
            let witness = crate::witness::Witness::open(&cli.data.data_dir, policy, cosigner).await?;
            println!("witness {}", witness.verifier_key());
            let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
            println!("Clearroom witness is listening on http://{}", listener.local_addr()?);
            axum::serve(listener, crate::witness::router(Arc::new(witness)))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
            Ok(())
        }
        Command::Build(BuildCommand::Record {
            pin,
            name,
            sha256,
            builder,
            platform,
            size,
            command,
            toolchain,
            notes,
            started_at,
            finished_at,
        }) => {
            let domain = open_domain(&admin_config()).await?;
            let pin = PinId::parse(&pin).map_err(|e| anyhow::anyhow!("pin {pin:?}: {e}"))?;
            let sha256 = Sha256Hex::parse(&sha256).map_err(|e| anyhow::anyhow!("{e}"))?;
            let time = |t: Option<String>| {
                t.map(|t| app::times::parse(&t).map_err(|e| anyhow::anyhow!("{t:?}: {e}"))).transpose()
            };
            let input = crate::domain::builds::BuildInput {
                name,
                platform,
                builder: Some(builder),
                command,
                toolchain,
                notes,
                started_at_ms: time(started_at)?,
                finished_at_ms: time(finished_at)?,
            };
            let recorded = domain.record_build(Actor::Operator, pin, &input, &sha256, size).await.map_err(fail)?;
            println!("attestation envelope sha256 {}", recorded.attestation_sha256);
            println!("recorded build {}", recorded.id);
            Ok(())
        }
        Command::Withdraw { pin, reason } => {
            let domain = open_domain(&admin_config()).await?;
            let pin = PinId::parse(&pin).map_err(|e| anyhow::anyhow!("pin {pin:?}: {e}"))?;
            domain.withdraw_pin(Actor::Operator, pin, reason.as_deref()).await.map_err(fail)?;
            println!("withdrew pin {pin}");
            Ok(())
        }
        Command::Revoke { grant, reason } => {
            let domain = open_domain(&admin_config()).await?;
            domain.revoke_grant(Actor::Operator, grant, reason.as_deref()).await.map_err(fail)?;
            println!("revoked grant {grant}");
            Ok(())
        }
        Command::Token(TokenCommand::Create { username, scopes, days, label }) => {
            let domain: Arc<Domain> = open_domain(&admin_config()).await?;
            let request = crate::domain::TokenRequest { scopes: &scopes, days, label: &label };
            let token = domain.create_token(Actor::Operator, &username, request).await.map_err(fail)?;
            println!("token for {username} (shown once): {token}");
            Ok(())
        }
        Command::Token(TokenCommand::List) => {
            let domain: Arc<Domain> = open_domain(&admin_config()).await?;
            let tokens = domain.list_tokens(Actor::Operator).await.map_err(fail)?;
            println!("{:>5}  {:<16} {:<8} {:<17} {:<34} label", "id", "user", "state", "expires", "scopes");
            for token in tokens {
                let state = match (token.revoked_at_ms, token.live) {
                    (Some(_), _) => "revoked",
                    (None, true) => "live",
                    (None, false) => "expired",
                };
                let expires = app::times::utc_text(token.expires_at_ms);
                let scopes = app::model::Scope::join(&token.scopes);
                println!(
                    "{:>5}  {:<16} {:<8} {:<17} {:<34} {}",
                    token.id, token.username, state, expires, scopes, token.label
                );
            }
            Ok(())
        }
        Command::Token(TokenCommand::Revoke { id }) => {
            let domain: Arc<Domain> = open_domain(&admin_config()).await?;
            domain.revoke_token(Actor::Operator, id).await.map_err(fail)?;
            println!("token {id} revoked");
            Ok(())
        }
    }
}

/// `<host>/clearroom/witness`, beside the log's default origin.
fn default_witness_name() -> String {
    Config::default_log_origin().replace("/clearroom/log", "/clearroom/witness")
}

/// A password from standard input when it is piped; none (so one is generated) at a terminal.
fn read_password() -> anyhow::Result<Option<Password>> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Ok(None);
    }
    let mut text = String::new();
    stdin.lock().read_to_string(&mut text).context("reading the password from standard input")?;
    let text = text.trim_end_matches(['\r', '\n']).to_string();
    Ok((!text.is_empty()).then(|| Password::new(text)))
}

/// `10.0.0.0/8`, `2001:db8::/32` or one address (`192.0.2.10`, a /32 or /128).
fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("{text:?} is not an address or a CIDR range"))
}
