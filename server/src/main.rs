//! The `server` binary: read the settings file if one is named, parse the command line and hand
//! over to the library.

fn main() -> std::process::ExitCode {
    // Before the runtime starts: the file's settings become environment variables.
    if let Err(error) = clearroom::config_file::apply_from_args() {
        eprintln!("error: {error:#}");
        return std::process::ExitCode::from(2);
    }
    clearroom::startup::bound_allocator_retention();
    clearroom::private_files::private_umask();
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
