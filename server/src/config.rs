//! Configuration: where the data lives, which database, where to listen, and the source limits.

use crate::clock::Clock;
use crate::network::Network;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// The built site (WASM half, CSS); pages work without it, but unstyled.
    pub site_root: PathBuf,
    pub limits: SourceLimits,
    /// The log's signing key file; default `<data-dir>/log-signing.key`, created at first start.
    pub log_key: Option<PathBuf>,
    /// The log's origin (checkpoint first line and key name), used when the key is created.
    pub log_origin: String,
    /// A C2SP tlog-policy file naming the witnesses asked to cosign each checkpoint and the quorum
    /// a checkpoint needs before it is served as cosigned; none: checkpoints are not witnessed.
    pub witness_policy: Option<PathBuf>,
    /// The clock the domain, the log and sessions read (the system clock; tests move their own).
    pub clock: Clock,
    /// Trusted reverse proxies and the public URL (`--trusted-proxy`, `--public-url`).
    pub network: Network,
    /// The directories staff may import repositories from on the web (`--import-root`); none:
    /// only the operator imports, at the command line.
    pub import_roots: Vec<PathBuf>,
    /// Whether staff must sign in with a second factor (`--require-staff-second-factor`).
    pub require_staff_second_factor: bool,
    /// How long a connection may take to send a request's headers, and how many are served at once.
    pub connections: Connections,
    /// Where room builds run and which toolchains they may use.
    pub room: RoomSettings,
}

/// Room builds' directories (`--room-dir`, `--toolchain-root`).
#[derive(Clone, Debug, Default)]
pub struct RoomSettings {
    /// Where each room build gets a fresh directory; default `clearroom-room-<hash of the data
    /// directory>` in the system's temporary directory (outside the private data directory, which the sandbox's user cannot
    /// pass through when the server runs as root).
    pub dir: Option<PathBuf>,
    /// The directory whose subdirectories are the toolchains a recipe may name (besides `host`).
    pub toolchain_root: Option<PathBuf>,
}

/// What a connection may hold (security defect 14: sockets that sent half a request line, or
/// nothing, stayed open for good).
#[derive(Clone, Copy, Debug)]
pub struct Connections {
    /// The time a client has to send a request's headers, from when the server waits for them:
    /// a new connection, or an idle keep-alive one, that sends nothing (or dribbles) in this time
    /// is closed.
    pub header_read: std::time::Duration,
    /// Connections served at once; more wait in the kernel's backlog until one closes.
    pub max: usize,
}

impl Default for Connections {
    fn default() -> Connections {
        Connections { header_read: std::time::Duration::from_secs(20), max: 1024 }
    }
}

/// Guards that keep a huge or pathological file from costing much.
#[derive(Clone, Copy, Debug)]
pub struct SourceLimits {
    /// Files larger than this are shown as plain escaped text.
    pub highlight_max_bytes: u64,
    /// Lines longer than this are not highlighted.
    pub line_max_bytes: usize,
    /// After this much highlighting time, the rest of a file is plain text.
    pub highlight_budget_ms: u64,
    /// Files larger than this are not shown at all, only described.
    pub display_max_bytes: u64,
    /// A file diff shows no lines when either side is larger than this (it links both files).
    pub diff_max_bytes: u64,
    /// A search stops after this long and shows what it found.
    pub search_budget_ms: u64,
    /// An uploaded build artifact larger than this is refused (413).
    pub upload_max_bytes: u64,
    /// Highlighted files kept in memory, in bytes.
    pub memory_cache_bytes: u64,
    /// Highlighted files kept on disk (`data/highlight`, compressed), in bytes; 0: none.
    pub disk_cache_bytes: u64,
    /// How long a finished export bundle stays downloadable by its creator, in hours.
    pub export_retention_hours: u64,
    /// Disk kept for finished export bundles, in bytes: past it, new exports are refused (503)
    /// until older ones expire.
    pub export_disk_bytes: u64,
    /// Exports one account may ask for in 24 hours (an identical request while one is waiting
    /// is answered with it and does not count).
    pub exports_per_day: u32,
    /// Requests one client may make to the public routes (`/bt/*`, `/entries`, `/releases`, the
    /// SCITT keys) per minute, with bursts of a fifth of it; 0: no limit (a benchmark's).
    pub public_per_minute: u32,
    /// How long a running job's instance may go without a sign of life (its progress) before
    /// another instance takes the job over, in seconds.
    pub job_stale_seconds: u64,
}

impl Default for SourceLimits {
    fn default() -> Self {
        SourceLimits {
            highlight_max_bytes: 1024 * 1024,
            line_max_bytes: 5_000,
            highlight_budget_ms: 3_000,
            display_max_bytes: 64 * 1024 * 1024,
            diff_max_bytes: 2 * 1024 * 1024,
            search_budget_ms: 5_000,
            upload_max_bytes: 8 * 1024 * 1024 * 1024,
            memory_cache_bytes: 64 * 1024 * 1024,
            export_retention_hours: 72,
            export_disk_bytes: 10 * 1024 * 1024 * 1024,
            exports_per_day: 50,
            public_per_minute: 600,
            job_stale_seconds: 60,
            disk_cache_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

impl Config {
    /// The database URL for a data directory when none is given: one SQLite file inside it.
    pub fn default_database_url(data_dir: &std::path::Path) -> String {
        format!("sqlite://{}?mode=rwc", data_dir.join("clearroom.db").display())
    }

    pub fn log_key_path(&self) -> PathBuf {
        self.log_key.clone().unwrap_or_else(|| self.data_dir.join("log-signing.key"))
    }

    /// `<host>/clearroom/log`, from the machine's host name.
    pub fn default_log_origin() -> String {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_lowercase())
            .filter(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.'))
            .unwrap_or_else(|| "localhost".into());
        format!("{host}/clearroom/log")
    }

    /// Uploaded build artifacts, each under its SHA-256.
    pub fn artifacts_dir(&self) -> PathBuf {
        self.data_dir.join("artifacts")
    }

    /// The attestation signing key (PKCS#8 PEM, 0600), separate from the log's key.
    /// The public log's signing key (its checkpoints and receipts), beside the log's.
    pub fn public_log_key_path(&self) -> PathBuf {
        self.data_dir.join("public-log-signing.key")
    }

    /// The key second-factor secrets are sealed with (`auth::sealed`), beside the log's.
    pub fn second_factor_key_path(&self) -> PathBuf {
        self.data_dir.join("second-factor.key")
    }

    /// The public log's origin: the audit log's, with `/releases`.
    pub fn public_log_origin(&self) -> String {
        format!("{}/releases", self.log_origin)
    }

    pub fn attestation_key_path(&self) -> PathBuf {
        self.data_dir.join("attestation-signing.key")
    }

    pub fn repos_dir(&self) -> PathBuf {
        self.data_dir.join("repos")
    }

    /// Per-pin search packs (every text file of a pin, concatenated), rebuilt by the index job.
    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }

    /// Highlighted files, compressed (`source::cache`).
    pub fn highlight_cache_dir(&self) -> PathBuf {
        self.data_dir.join("highlight")
    }

    /// Where room builds run: by default a directory of the system's temporary one named after
    /// the data directory (so that two servers on one machine never share one).
    pub fn room_dir(&self) -> PathBuf {
        self.room.dir.clone().unwrap_or_else(|| {
            let data = std::fs::canonicalize(&self.data_dir).unwrap_or_else(|_| self.data_dir.clone());
            let digest = crate::builds::sha256_hex(data.as_os_str().as_encoded_bytes());
            std::env::temp_dir().join(format!("clearroom-room-{}", &digest[..12]))
        })
    }

    /// The room's builder id in provenance: the public URL, or the log's origin.
    pub fn room_builder_id(&self) -> String {
        match &self.network.public_url {
            Some(public) => format!("{}/room", public.origin().trim_end_matches('/')),
            None => format!("urn:clearroom:room:{}", self.log_origin),
        }
    }

    /// Cookies carry `Secure` (and HSTS is sent) when the public URL is https, or, with no public
    /// URL, unless the server listens on loopback only (local development).
    pub fn secure_cookies(&self) -> bool {
        match &self.network.public_url {
            Some(public) => public.is_https(),
            None => !self.listen.ip().is_loopback(),
        }
    }

    /// The session cookie's name: `__Host-` prefixed when the public URL is https, so that no
    /// sibling host or plain-http page can plant or shadow it.
    pub fn session_cookie_name(&self) -> &'static str {
        match &self.network.public_url {
            Some(public) if public.is_https() => "__Host-clearroom_session",
            _ => "clearroom_session",
        }
    }
}
