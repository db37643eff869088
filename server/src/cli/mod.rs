//! The command line: `serve` and the administrative subcommands, which open the same data
//! directory and database (they work while a server runs on them).

mod execute;
mod grants;
mod releases;
mod requirements;
mod verify;

use crate::config::Config;
use clap::{Args, Parser, Subcommand};
use execute::execute;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

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
    /// Where room builds get their directories; default `clearroom-room` in the temporary directory.
    #[arg(long, global = true, env = "CLEARROOM_ROOM_DIR")]
    room_dir: Option<PathBuf>,
    /// A directory of toolchain root file systems a build recipe may name (besides `host`).
    #[arg(long, global = true, env = "CLEARROOM_TOOLCHAIN_ROOT")]
    toolchain_root: Option<PathBuf>,
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
        /// Disk kept for finished export bundles, in MiB; past it, new exports are refused until
        /// older ones expire.
        #[arg(long, env = "CLEARROOM_EXPORT_DISK_MB", default_value_t = 10 * 1024)]
        export_disk_mb: u64,
        /// Exports one account may ask for in 24 hours.
        #[arg(long, env = "CLEARROOM_EXPORTS_PER_DAY", default_value_t = 50)]
        exports_per_day: u32,
        /// Requests one client may make to the public routes (the public log, `/releases`) per
        /// minute; 0: no limit.
        #[arg(long, default_value_t = 600, env = "CLEARROOM_PUBLIC_RATE_LIMIT")]
        public_rate_limit: u32,
        /// Seconds a running job's instance may go without progress before another instance takes
        /// the job over (instances sharing a database).
        #[arg(long, default_value_t = 60, env = "CLEARROOM_JOB_STALE_SECONDS", value_parser = clap::value_parser!(u64).range(1..=86_400))]
        job_stale_seconds: u64,
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
    /// Pin a commit of a repository (`pin REPO COMMIT --label L`; prints the new pin's id last),
    /// or set a pin's policies (`pin policy PIN --history full`).
    #[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
    Pin {
        #[command(subcommand)]
        action: Option<PinCommand>,
        #[arg(required = true)]
        repository: Option<String>,
        #[arg(required = true)]
        commit: Option<String>,
        #[arg(long, required = true)]
        label: Option<String>,
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
        /// Limit the grant to paths: gitignore-style patterns (`crypto/**`, `!crypto/test/**`),
        /// repeated; without any, the whole tree.
        #[arg(long = "path")]
        paths: Vec<String>,
    },
    /// Back up the data directory (and its SQLite database) while the server runs: one zip file
    /// with a manifest of SHA-256s and the log's newest checkpoint. With PostgreSQL, dump the
    /// database first (`pg_dump`); this copies the files.
    Backup {
        /// The backup file to write (it must not exist).
        #[arg(long)]
        out: PathBuf,
        /// Leave the keys out (for a backup kept where keys must not be).
        #[arg(long)]
        without_keys: bool,
    },
    /// Restore a backup into a new data directory (`--data-dir NEWDIR`), every file checked.
    Restore {
        /// The backup file.
        file: PathBuf,
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
    /// Releases: a repository's release policy; proposing, reading and signing releases.
    #[command(subcommand)]
    Release(releases::ReleaseCommand),
    /// A pin's requirement list (`requirements import --pin PIN --file reqs.csv`).
    #[command(subcommand)]
    Requirements(requirements::RequirementsCommand),
    /// Supervisors: a key made and used offline (`key`, `sign`, `object`); registering it (staff).
    #[command(subcommand)]
    Supervisor(releases::SupervisorCommand),
    /// Run a C2SP tlog-witness for the logs a policy names (in its own data directory).
    #[command(subcommand)]
    Witness(WitnessCommand),
    /// Verify records without trusting the server.
    #[command(subcommand)]
    Verify(verify::VerifyCommand),
}

#[derive(Subcommand)]
enum PinCommand {
    /// Set a pin's policies for everyone but staff; what is not named is kept.
    Policy {
        /// The pin's id.
        pin: String,
        /// What readers see of the commits behind the pin: `off`, `messages` (commits between
        /// pins and blame) or `full` (each commit's diffs too).
        #[arg(long)]
        history: Option<String>,
        /// Raw downloads: `on` or `off`.
        #[arg(long)]
        downloads: Option<String>,
        /// Selecting and copying source: `on` or `off`.
        #[arg(long)]
        copying: Option<String>,
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
enum RecipeCommand {
    /// Set a pin's build recipe from a TOML file (recorded); a bad recipe names its field.
    Set {
        #[arg(long)]
        pin: String,
        #[arg(long)]
        file: PathBuf,
    },
}

#[derive(Subcommand)]
// A command line is parsed once: the size of its variants does not matter.
#[allow(clippy::large_enum_variant)]
enum BuildCommand {
    /// A pin's build recipe, which room builds run.
    #[command(subcommand)]
    Recipe(RecipeCommand),
    /// Build a pin in the room with its recipe. With --wait, runs the build here (or waits for the
    /// server that took it) and prints `output NAME PLATFORM SHA256` per output; exits non-zero
    /// with the reason when the build failed.
    Run {
        #[arg(long)]
        pin: String,
        #[arg(long)]
        wait: bool,
    },
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
        /// A label for who or what built it (a URI, or a name): a note. The builder that counts
        /// is the account that records, here the operator.
        #[arg(long)]
        builder: Option<String>,
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
    /// Let a disabled account sign in again (its ended sessions and revoked tokens stay so).
    Enable {
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

/// `<host>/clearroom/witness`, beside the log's default origin.
fn default_witness_name() -> String {
    Config::default_log_origin().replace("/clearroom/log", "/clearroom/witness")
}

/// `10.0.0.0/8`, `2001:db8::/32` or one address (`192.0.2.10`, a /32 or /128).
fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map(|net| net.trunc())
        .map_err(|_| format!("{text:?} is not an address or a CIDR range"))
}
