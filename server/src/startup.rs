//! Builds the whole application from a `Config`: store, domain, routes, middleware; binds the
//! listener and reports the port. Tests run exactly this wiring.

use crate::config::Config;
use crate::domain::Domain;
use crate::http::{self, middleware, AppState};
use crate::source::Source;
use crate::store::Store;
use anyhow::Context as _;
use app::backend::Backend;
use app::HttpStatus;
use axum::http::{header, HeaderValue, StatusCode};
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes, ResponseOptions};
use std::net::SocketAddr;
use std::sync::Arc;
use tower_http::services::ServeDir;
use tower_sessions::cookie::SameSite;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::{Expiry, SessionManagerLayer};

/// Opens the store (running migrations) and the source access for a configuration.
pub async fn open_domain(config: &Config) -> anyhow::Result<Arc<Domain>> {
    create_data_dir(&config.data_dir)?;
    let store = Store::connect(&config.database_url).await.context("opening the database")?;
    let source = Source::new(config.repos_dir(), config.index_dir(), Some(config.highlight_cache_dir()), config.limits);
    let signer = crate::audit::checkpoint::load_or_create_key(&config.log_key_path(), &config.log_origin)?;
    let key = crate::builds::AttestationKey::load_or_create(&config.attestation_key_path())?;
    let builds = crate::domain::builds::BuildSettings {
        key: Arc::new(key),
        artifacts: config.artifacts_dir(),
        room_dir: config.room_dir(),
        toolchain_root: config.room.toolchain_root.clone(),
        builder_id: config.room_builder_id(),
    };
    let settings = crate::domain::DomainSettings {
        builds,
        exports: crate::domain::exports::ExportSettings {
            dir: config.data_dir.join("exports"),
            retention_ms: config.limits.export_retention_hours.saturating_mul(3_600_000).min(i64::MAX as u64) as i64,
            disk_bytes: config.limits.export_disk_bytes,
            per_day: config.limits.exports_per_day,
        },
        import_roots: config.import_roots.clone(),
        staff_second_factor: config.require_staff_second_factor,
        public_log: Arc::new(crate::audit::checkpoint::load_or_create_key(
            &config.public_log_key_path(),
            &config.public_log_origin(),
        )?),
        second_factor: Arc::new(crate::auth::sealed::SealingKey::load_or_create(&config.second_factor_key_path())?),
    };
    let domain = Domain::new(store, source, Arc::new(signer), settings, config.clock.clone());
    sweep_staging(&config.repos_dir());
    // Second-factor secrets stored before they were sealed are sealed now.
    let sealed = domain.sessions().seal_second_factors().await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if sealed > 0 {
        tracing::info!(accounts = sealed, "sealed second-factor secrets stored in the clear");
    }
    if let Some(path) = &config.witness_policy {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let policy =
            crate::audit::policy::Policy::parse(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let own = domain.log().log_verifier_key();
        if !policy.logs.iter().any(|(key, _)| key.to_string() == own) {
            tracing::warn!(policy = %path.display(), "the witness policy does not list this log's key");
        }
        domain.log().supervise(policy);
    }
    Ok(Arc::new(domain))
}

/// Creates the data directory (0700), or, when it exists (an operator or a package made it),
/// takes group and other access away from it and from everything under it, saying so in the log.
/// A directory the server cannot tighten is an error that names it: the server does not run with
/// its source and keys readable by other local users.
pub fn create_data_dir(path: &std::path::Path) -> anyhow::Result<()> {
    crate::private_files::private_umask();
    if !path.exists() {
        std::fs::create_dir_all(path).with_context(|| format!("creating the data directory {}", path.display()))?;
    }
    // Only an open data directory needs the walk: behind a private one, nothing in it is reachable
    // by others, so an ordinary start (a large highlight cache, many repositories) stats nothing.
    #[cfg(unix)]
    if std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path)?.permissions()) & 0o077 != 0 {
        let tightened = crate::private_files::tighten(path)?;
        if tightened > 0 {
            tracing::warn!(
                data_dir = %path.display(),
                tightened,
                "took group and other access away from the data directory and what it holds"
            );
        }
    }
    Ok(())
}

/// Removes staged imports a crash left behind (`.staging-*` beside the repositories): a staged
/// copy whose row was never written belongs to no repository.
fn sweep_staging(repos: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(repos) else { return };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(".staging-") {
            match std::fs::remove_dir_all(entry.path()) {
                Ok(()) => tracing::info!(path = %entry.path().display(), "removed an unfinished import"),
                Err(error) => tracing::warn!(%error, "removing an unfinished import failed"),
            }
        }
    }
}

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    address: SocketAddr,
    connections: crate::config::Connections,
}

impl Application {
    pub async fn build(config: Config, domain: Arc<Domain>) -> anyhow::Result<Application> {
        let listener =
            tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        let address = listener.local_addr()?;
        let router = router(&config, domain, address);
        Ok(Application { listener, router, address, connections: config.connections })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Serves until Ctrl-C or SIGTERM; then takes no new connection and lets every request in
    /// flight finish (each one's audit events are committed before it answers).
    /// A connection still open `STOP_GRACE` after the signal (a request that hangs) is dropped.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let (stopping, mut stopped) = tokio::sync::watch::channel(false);
        let serve = crate::serve::serve(self.listener, self.router, self.connections, async move {
            stop_signal().await;
            let _ = stopping.send(true);
        });
        let grace = async move {
            let _ = stopped.wait_for(|stopping| *stopping).await;
            tokio::time::sleep(STOP_GRACE).await;
        };
        tokio::select! {
            () = serve => tracing::info!("stopped: every request in flight was answered"),
            () = grace => tracing::warn!("stopped: a connection was still open {} s after the signal", STOP_GRACE.as_secs()),
        }
        Ok(())
    }
}

/// How long a stopping server waits for the requests in flight (longer than a request's deadline
/// would only wait for uploads).
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(30);

async fn stop_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("stopping: no new connections; finishing the requests in flight");
}

/// `GET /metrics` alone, unauthenticated, for `--metrics-listen`.
pub fn metrics_router(domain: Arc<Domain>) -> Router {
    Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let domain = Arc::clone(&domain);
            async move {
                match domain.metrics_text(None).await {
                    Ok(body) => axum::response::IntoResponse::into_response((
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
                        body,
                    )),
                    Err(error) => axum::response::IntoResponse::into_response(http::HttpError(error)),
                }
            }
        }),
    )
}

fn router(config: &Config, domain: Arc<Domain>, address: SocketAddr) -> Router {
    let site_root = config.site_root.to_string_lossy().to_string();
    let leptos_options = LeptosOptions::builder()
        .output_name("clearroom")
        .site_root(site_root.clone())
        .site_pkg_dir("pkg")
        .site_addr(address)
        .build();
    let state = AppState {
        domain: Arc::clone(&domain),
        leptos_options: leptos_options.clone(),
        login_limiter: Arc::new(http::session::LoginLimiter::default()),
        public_limiter: Arc::new(http::public::PublicLimiter::new(config.limits.public_per_minute)),
        notices: http::notice::NoticeKey::new(domain.derived_key("page notices")),
    };
    let backend: Arc<dyn Backend> = domain.clone();
    let context = move || {
        provide_context(Arc::clone(&backend));
        if let Some(response) = use_context::<ResponseOptions>() {
            if let Some(nonce) = leptos::nonce::use_nonce() {
                if let Ok(csp) = HeaderValue::from_str(&middleware::page_csp(&nonce.to_string())) {
                    response.insert_header(header::CONTENT_SECURITY_POLICY, csp);
                }
            }
            provide_context(HttpStatus(Arc::new(move |code| {
                response.set_status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
            })));
        }
    };
    let routes = generate_route_list(app::App);
    let shell_options = leptos_options.clone();
    let pages = Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), move || app::shell(shell_options.clone()))
        .fallback(leptos_axum::render_app_to_stream_with_context(context, {
            let options = leptos_options.clone();
            move || app::shell(options.clone())
        }))
        .layer(axum::middleware::from_fn(http::spliced::splice_rows))
        .layer(axum::middleware::from_fn(middleware::server_fn_status));

    // Publish a checkpoint at most once a second, when the log grew.
    tokio::spawn({
        let domain = Arc::clone(&domain);
        async move {
            let mut every = tokio::time::interval(tokio::time::Duration::from_secs(1));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let submitted = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let busy = Arc::new(std::sync::atomic::AtomicBool::new(false));
            loop {
                every.tick().await;
                match domain.log().publish_checkpoint().await {
                    Err(error) => tracing::warn!(%error, "publishing a checkpoint failed"),
                    // Witnesses are asked in a task of their own, one round at a time: a slow or
                    // absent witness delays neither the next checkpoint nor any request.
                    Ok(checkpoint) => {
                        use std::sync::atomic::Ordering;
                        let fresh = checkpoint.size > submitted.load(Ordering::Relaxed);
                        if fresh && !busy.swap(true, Ordering::AcqRel) {
                            submitted.store(checkpoint.size, Ordering::Relaxed);
                            let (domain, busy) = (Arc::clone(&domain), Arc::clone(&busy));
                            tokio::spawn(async move {
                                domain.log().submit_to_witnesses(&checkpoint).await;
                                busy.store(false, Ordering::Release);
                            });
                        }
                    }
                }
            }
        }
    });
    // The public log's checkpoint, signed when it grew (an append signs one at once; this covers an
    // instance that stopped in between) and sent to the witnesses, one round at a time.
    tokio::spawn({
        let domain = Arc::clone(&domain);
        async move {
            let mut every = tokio::time::interval(tokio::time::Duration::from_secs(1));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut submitted = 0;
            loop {
                every.tick().await;
                match domain.transparency().witness_round(submitted).await {
                    Ok(Some(size)) => submitted = size,
                    Ok(None) => {}
                    Err(error) => tracing::warn!(%error, "the public log's checkpoint round failed"),
                }
            }
        }
    });
    // Background jobs: two workers for pins' jobs (a pin's index and compare run beside its
    // highlighting, which is most of the work), one for export bundles and one for room builds and
    // their reports, each running its jobs
    // one after another and looking for more every second.
    use crate::domain::jobs::JobLane;
    for lane in [JobLane::Pins, JobLane::Pins, JobLane::Exports, JobLane::Builds] {
        let domain = Arc::clone(&domain);
        tokio::spawn(async move {
            loop {
                match domain.jobs().run_next_in(lane).await {
                    Ok(true) => {
                        release_freed_memory();
                        continue;
                    }
                    Ok(false) => {}
                    Err(error) => tracing::warn!(%error, ?lane, "claiming a background job failed"),
                }
                tokio::time::sleep(tokio::time::Duration::from_secs(1)).await;
            }
        });
    }
    // The log's self-audit: new entries each minute, all of them at start-up and daily.
    tokio::spawn({
        let domain = Arc::clone(&domain);
        async move {
            let mut every = tokio::time::interval(tokio::time::Duration::from_secs(60));
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every.tick().await;
                let now = domain.now_ms();
                let last_full = domain.log().integrity_status().last_full_pass_ms;
                let full = last_full.is_none_or(|at| now - at >= crate::domain::integrity::FULL_PASS_MS);
                if let Err(error) = domain.log().self_audit(full).await {
                    tracing::warn!(%error, "the log's self-audit could not run");
                }
            }
        }
    });
    let session_store = domain.session_store();
    tokio::spawn({
        let store = session_store.clone();
        let (domain, limiter) = (Arc::clone(&domain), Arc::clone(&state.login_limiter));
        let public_limiter = Arc::clone(&state.public_limiter);
        async move {
            let mut every = tokio::time::interval(tokio::time::Duration::from_secs(600));
            loop {
                every.tick().await;
                if let Err(error) = store.delete_expired().await {
                    tracing::warn!(%error, "deleting expired sessions failed");
                }
                if let Err(error) = domain.prune_login_failures().await {
                    tracing::warn!(%error, "pruning sign-in failure counts failed");
                }
                limiter.prune();
                public_limiter.prune();
            }
        }
    });
    let secure = config.secure_cookies();
    let sessions = SessionManagerLayer::new(session_store)
        .with_name(config.session_cookie_name())
        .with_secure(secure)
        .with_http_only(true)
        .with_same_site(SameSite::Strict)
        .with_path("/")
        // Each session's record and cookie expire at its next deadline (`TypedSession::set`);
        // a session that was never signed into lives only as long as the browser.
        .with_expiry(Expiry::OnSessionEnd);

    Router::new()
        .nest_service("/pkg", ServeDir::new(config.site_root.join("pkg")))
        .nest_service("/style", ServeDir::new(config.site_root.join("style")))
        .route_service("/favicon.svg", tower_http::services::ServeFile::new(config.site_root.join("favicon.svg")))
        .merge(http::session::router())
        .merge(http::staff::router())
        .merge(http::account::router())
        .merge(http::api::router())
        .merge(http::review::router())
        .merge(http::source_api::router())
        .merge(http::history_api::router())
        .merge(http::builds_api::router())
        .merge(http::compiled_api::router())
        .merge(http::room_api::router())
        .merge(http::releases_api::router())
        .merge(http::grants_api::router())
        .merge(http::requirements_api::router())
        .merge(http::sarif_api::router())
        .merge(http::release_forms::router())
        .merge(http::exports::router())
        .merge(http::openapi::router())
        .merge(pages)
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::notice::seal_and_open))
        .layer(axum::middleware::from_fn_with_state(state.clone(), middleware::identify))
        .layer(sessions)
        .layer(axum::middleware::from_fn(middleware::same_origin_writes))
        // Anyone's: no session, no caller, no audit event; limited per client.
        .merge(http::public::router())
        .layer(axum::middleware::from_fn_with_state(state.clone(), http::public::limit))
        .layer(axum::middleware::from_fn_with_state(Arc::new(config.network.clone()), http::network::locate))
        .layer(axum::middleware::from_fn_with_state(secure, middleware::security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(256 * 1024))
        .layer(middleware::compression())
        // No request may hang a connection: past a minute (an hour for an artifact upload) the
        // answer is 503, and nothing is sent.
        .layer(axum::middleware::from_fn(middleware::deadline))
        // Outermost: every request has its id and is counted, whatever answers it.
        .layer(axum::middleware::from_fn(http::request_id::assign))
        .with_state(state)
}

/// Sends every allocation of 256 KiB or more (a page's body, a file's highlighted rows read from
/// disk) to its own mapping, returned to the system when freed. By default glibc raises that bound
/// as large blocks are freed, until such blocks come from its arenas, which keep them: a random
/// walk through a 300 MB release then left the server at 417 MB with 82 MB in use (162 MB with
/// this bound). An operator's own `GLIBC_TUNABLES` or `MALLOC_MMAP_THRESHOLD_` is left to decide.
/// Called before the runtime starts its threads.
pub fn bound_allocator_retention() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let chosen = std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_some()
            || std::env::var("GLIBC_TUNABLES").is_ok_and(|t| t.contains("mmap_threshold"));
        if !chosen {
            // SAFETY: mallopt only changes a setting of the allocator; no other thread runs yet.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 256 * 1024);
            }
        }
    }
}

/// Hands back to the system the memory a finished background job freed: glibc keeps freed blocks
/// in its arenas, so pre-highlighting a whole pin would otherwise leave the server hundreds of MB
/// larger than it is. Once per job, so its few milliseconds do not matter.
fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the kernel; it takes the allocator's locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
