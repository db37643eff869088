//! The room's sandbox: a command run under bubblewrap (`bwrap`) with no network, its own PID, IPC,
//! UTS and user namespaces, the toolchain read-only, one writable build directory, `/tmp` a tmpfs,
//! nothing of the server in view (no data directory, keys or database), a fixed environment, and
//! limits: memory, processes and file size by `prlimit`, the wall time and the bytes written by
//! the caller's watch (`Running::wait_for`, `Running::written`). Run by the server as root, the
//! sandbox is entered as `nobody` (65534) through `setpriv`, so the process limit counts.

use super::recipe::Limits;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The user a root server runs the sandbox as.
const ROOM_UID: u32 = 65534;
/// Where the build directory is inside the sandbox.
pub const BUILD_DIR: &str = "/build";
/// `PATH` inside the sandbox.
const PATH: &str = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
/// Top-level directories of a toolchain root that the sandbox makes itself.
const MADE_HERE: [&str; 4] = ["proc", "dev", "tmp", "build"];

/// The file system a build sees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Toolchain {
    /// The server host's `/usr`, `/bin`, `/lib*`, `/etc/alternatives` and the loader's cache.
    Host,
    /// A root file system directory (its top-level entries, read-only).
    Root(PathBuf),
}

/// What a sandboxed command sees and may use.
pub struct Jail<'a> {
    pub toolchain: &'a Toolchain,
    /// Bound read-write at `/build`; the command starts there.
    pub work: &'a Path,
    /// Further read-only binds: (host path, path in the sandbox).
    pub inputs: Vec<(PathBuf, String)>,
    pub env: &'a BTreeMap<String, String>,
    pub source_date_epoch: i64,
    pub limits: Limits,
    /// Where stdout and stderr go.
    pub log: &'a Path,
}

/// A tool the room needs that is not installed: the message says how to install it.
pub fn missing_tool(tool: &str) -> Option<String> {
    let found = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
        .unwrap_or(false);
    let package = match tool {
        "bwrap" => "bubblewrap",
        "diffoscope" => "diffoscope-minimal",
        _ => "util-linux",
    };
    (!found).then(|| format!("{tool} is not installed on this server (Debian: apt-get install {package})"))
}

fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata("/proc/self").map(|m| m.uid() == 0).unwrap_or(false)
}

impl Jail<'_> {
    /// The whole command line: `[setpriv …] prlimit … -- bwrap … -- argv`.
    pub fn command_line(&self, argv: &[String]) -> Vec<String> {
        let mut line: Vec<String> = Vec::new();
        if running_as_root() {
            let id = ROOM_UID.to_string();
            line.extend(["setpriv".into(), format!("--reuid={id}"), format!("--regid={id}"), "--clear-groups".into()]);
            line.push("--".into());
        }
        let mb = 1u64 << 20;
        line.extend([
            "prlimit".into(),
            format!("--as={}", self.limits.memory_mb * mb),
            format!("--nproc={}", self.limits.processes),
            format!("--fsize={}", self.limits.output_mb * mb),
            "--core=0".into(),
            "--".into(),
            "bwrap".into(),
        ]);
        for flag in [
            "--unshare-user",
            "--unshare-net",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
        ] {
            line.push(flag.into());
        }
        line.extend(["--cap-drop".into(), "ALL".into(), "--hostname".into(), "room".into()]);
        match self.toolchain {
            Toolchain::Host => {
                line.extend(["--ro-bind".into(), "/usr".into(), "/usr".into()]);
                for top in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
                    bind_entry(&mut line, &Path::new("/").join(top), &format!("/{top}"));
                }
                for etc in ["/etc/alternatives", "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"] {
                    line.extend(["--ro-bind-try".into(), etc.into(), etc.into()]);
                }
            }
            Toolchain::Root(root) => {
                let mut entries: Vec<_> = std::fs::read_dir(root)
                    .map(|dir| dir.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
                    .unwrap_or_default();
                entries.sort();
                for name in entries {
                    let Some(name) = name.to_str().filter(|n| !MADE_HERE.contains(n)) else { continue };
                    bind_entry(&mut line, &root.join(name), &format!("/{name}"));
                }
            }
        }
        line.extend(["--proc".into(), "/proc".into(), "--dev".into(), "/dev".into(), "--tmpfs".into(), "/tmp".into()]);
        line.extend(["--bind".into(), self.work.display().to_string(), BUILD_DIR.into()]);
        for (host, inside) in &self.inputs {
            line.extend(["--ro-bind".into(), host.display().to_string(), inside.clone()]);
        }
        let fixed = [
            ("PATH", PATH.to_string()),
            ("HOME", format!("{BUILD_DIR}/.home")),
            ("TZ", "UTC".to_string()),
            ("LC_ALL", "C.UTF-8".to_string()),
            ("TMPDIR", "/tmp".to_string()),
            ("SOURCE_DATE_EPOCH", self.source_date_epoch.to_string()),
        ];
        for (name, value) in self.env.iter().map(|(k, v)| (k.as_str(), v.clone())).chain(fixed) {
            line.extend(["--setenv".into(), name.into(), value]);
        }
        line.extend(["--chdir".into(), BUILD_DIR.into(), "--".into()]);
        line.extend(argv.iter().cloned());
        line
    }

    /// Starts the command. The build directory is handed to the sandbox's user first.
    pub fn start(&self, argv: &[String]) -> std::io::Result<Running> {
        for tool in ["bwrap", "prlimit"] {
            if let Some(message) = missing_tool(tool) {
                return Err(std::io::Error::new(std::io::ErrorKind::NotFound, message));
            }
        }
        std::fs::create_dir_all(self.work.join(".home"))?;
        if running_as_root() {
            hand_over(self.work)?;
        }
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log)?;
        let line = self.command_line(argv);
        let child = tokio::process::Command::new(&line[0])
            .args(&line[1..])
            .env_clear()
            .env("PATH", PATH)
            .stdin(std::process::Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()?;
        let deadline = Instant::now() + Duration::from_secs(self.limits.wall_seconds);
        Ok(Running { child, deadline, work: self.work.to_path_buf(), log: self.log.to_path_buf() })
    }
}

/// A top-level entry as it is: a symlink made again, a directory or file bound read-only.
fn bind_entry(line: &mut Vec<String>, host: &Path, inside: &str) {
    match std::fs::symlink_metadata(host) {
        Ok(meta) if meta.file_type().is_symlink() => {
            if let Ok(target) = std::fs::read_link(host) {
                line.extend(["--symlink".into(), target.display().to_string(), inside.into()]);
            }
        }
        Ok(_) => line.extend(["--ro-bind".into(), host.display().to_string(), inside.into()]),
        Err(_) => {}
    }
}

/// Gives every file under `dir` to the sandbox's user (a root server's build directory).
fn hand_over(dir: &Path) -> std::io::Result<()> {
    std::os::unix::fs::lchown(dir, Some(ROOM_UID), Some(ROOM_UID))?;
    if std::fs::symlink_metadata(dir)?.is_dir() {
        for entry in std::fs::read_dir(dir)? {
            hand_over(&entry?.path())?;
        }
    }
    Ok(())
}

/// How a sandboxed command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It exited with this status (0: success).
    Exited(i32),
    /// A signal ended it (a limit: memory, file size).
    Signalled(i32),
    /// The wall-time limit ended it.
    Timeout,
}

/// A sandboxed command running.
pub struct Running {
    child: tokio::process::Child,
    deadline: Instant,
    work: PathBuf,
    log: PathBuf,
}

impl Running {
    /// Waits up to `at_most` for the command: `None` while it still runs. Past the wall time it
    /// is killed (bwrap's `--die-with-parent` and the PID namespace end every process inside).
    pub async fn wait_for(&mut self, at_most: Duration) -> std::io::Result<Option<Ended>> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(at_most.min(left), self.child.wait()).await {
            Ok(status) => {
                use std::os::unix::process::ExitStatusExt as _;
                let status = status?;
                Ok(Some(match (status.code(), status.signal()) {
                    (Some(code), _) => Ended::Exited(code),
                    (None, Some(signal)) => Ended::Signalled(signal),
                    (None, None) => Ended::Signalled(0),
                }))
            }
            Err(_) if Instant::now() >= self.deadline => {
                self.kill().await?;
                Ok(Some(Ended::Timeout))
            }
            Err(_) => Ok(None),
        }
    }

    /// Ends the command and everything it started.
    pub async fn kill(&mut self) -> std::io::Result<()> {
        self.child.start_kill().ok();
        self.child.wait().await.map(|_| ())
    }

    /// Bytes in the build directory and the log now.
    pub fn written(&self) -> u64 {
        tree_bytes(&self.work) + std::fs::metadata(&self.log).map(|m| m.len()).unwrap_or(0)
    }
}

/// The size of the largest regular file under `dir` (symlinks not followed).
pub fn largest_file(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(|e| e.ok())
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => largest_file(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
}

/// Bytes of the regular files under `dir` (symlinks not followed).
pub fn tree_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .filter_map(|e| e.ok())
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => tree_bytes(&entry.path()),
            Ok(kind) if kind.is_file() => entry.metadata().map(|m| m.len()).unwrap_or(0),
            _ => 0,
        })
        .sum()
}

/// The sandbox's settings as a room build's provenance states them (`internalParameters.sandbox`).
pub fn settings(recipe: &super::recipe::Recipe) -> serde_json::Value {
    let mut environment: BTreeMap<&str, String> =
        recipe.env.iter().map(|(name, value)| (name.as_str(), value.clone())).collect();
    for (name, value) in [
        ("PATH", PATH.to_string()),
        ("HOME", format!("{BUILD_DIR}/.home")),
        ("TZ", "UTC".into()),
        ("LC_ALL", "C.UTF-8".into()),
        ("TMPDIR", "/tmp".into()),
        ("SOURCE_DATE_EPOCH", "<the commit's time>".into()),
    ] {
        environment.insert(name, value);
    }
    serde_json::json!({
        "tool": "bubblewrap",
        "network": "none",
        "namespaces": ["user", "pid", "ipc", "uts", "net", "cgroup"],
        "toolchain": { "name": recipe.toolchain, "mount": "read-only" },
        "writable": [BUILD_DIR, "/tmp (tmpfs)"],
        "user": if running_as_root() { "65534" } else { "the server's own" },
        "environment": environment,
        "command": recipe.argv(),
    })
}
