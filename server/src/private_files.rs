//! What the server writes is its own user's alone: the source, the database of sessions, comments
//! and second factors, the keys. A umask of 077 for everything created, and a way to take group and
//! other access away from what something else made (a pre-made data directory; libgit2, which
//! chmods the objects it writes to 0444 whatever the umask).

#[cfg(unix)]
use anyhow::Context as _;

/// Everything the server creates from now on is its user's alone (0600 files, 0700 directories):
/// the data directory holds the vendor's source, the database of sessions, comments and second
/// factors, and the keys. Process-wide, set before any file is made.
pub fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}

/// Removes group and other permission bits from `path` and everything under it (symbolic links
/// are not followed); returns how many entries changed.
#[cfg(unix)]
pub fn tighten(path: &std::path::Path) -> anyhow::Result<u64> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut changed = 0;
    let mut pending = vec![path.to_path_buf()];
    while let Some(at) = pending.pop() {
        let metadata = std::fs::symlink_metadata(&at).with_context(|| format!("reading {}", at.display()))?;
        if metadata.file_type().is_symlink() {
            continue;
        }
        let mode = metadata.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&at, std::fs::Permissions::from_mode(mode & 0o7700)).with_context(|| {
                format!(
                    "{} is readable by other users and could not be made private; fix its owner or mode",
                    at.display()
                )
            })?;
            changed += 1;
        }
        if metadata.is_dir() {
            for entry in std::fs::read_dir(&at).with_context(|| format!("listing {}", at.display()))? {
                pending.push(entry?.path());
            }
        }
    }
    Ok(changed)
}

/// `tighten` where it exists; a no-op elsewhere.
pub fn make_private(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    tighten(path).map_err(|error| std::io::Error::other(format!("{error:#}")))?;
    let _ = path;
    Ok(())
}
