//! The `server` binary: read the settings file if one is named, parse the command line and hand
//! over to the library.

fn main() -> std::process::ExitCode {
    // Before the runtime starts: the file's settings become environment variables.
    if let Err(error) = clearroom::config_file::apply_from_args() {
        eprintln!("error: {error:#}");
        return std::process::ExitCode::from(2);
    }
    bound_allocator();
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => {
            let code = runtime.block_on(clearroom::cli::run());
            // Background work still running (a pre-highlighting thread, say) resumes at the next
            // start; it does not hold the exit up for long.
            runtime.shutdown_timeout(std::time::Duration::from_secs(5));
            code
        }
        Err(error) => {
            eprintln!("error: starting the runtime: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// glibc's allocator gives each thread that allocates an arena of its own (up to eight per core)
/// and raises its threshold for mapping large blocks as they are freed, so the buffers of
/// pre-highlighting and of large files stayed resident long after their work. Two arenas, and
/// blocks of 1 MiB and more mapped and unmapped as they come and go, keep the server's memory near
/// what it uses.
fn bound_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters; it is called before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1024 * 1024);
    }
}
