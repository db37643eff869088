//! Carrying out a parsed command line: the server, or one administrative command against the
//! data directory and database.

use super::*;
use crate::auth::Password;
use crate::config::{Config, SourceLimits};
use crate::domain::{Actor, Domain};
use crate::startup::{open_domain, Application};
use anyhow::Context as _;
use app::model::{PinId, Role, Sha256Hex};
use std::io::{IsTerminal, Read};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

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
        require_staff_second_factor: false,
        connections: Default::default(),
        room: crate::config::RoomSettings { dir: data.room_dir.clone(), toolchain_root: data.toolchain_root.clone() },
    }
}

/// An `AppError` from the domain, as a command-line error.
fn fail(error: app::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{error}")
}

pub(super) async fn execute(cli: Cli) -> anyhow::Result<()> {
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
            export_disk_mb,
            exports_per_day,
            public_rate_limit,
            job_stale_seconds,
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
                export_disk_bytes: export_disk_mb.saturating_mul(1024 * 1024),
                exports_per_day,
                public_per_minute: public_rate_limit,
                job_stale_seconds,
                ..SourceLimits::default()
            };
            let site_root = std::path::absolute(&site_root).unwrap_or(site_root);
            let mut config = config(&cli.data, listen, site_root, limits);
            config.witness_policy = witness_policy;
            config.network = crate::network::Network { trusted_proxies, public_url };
            config.import_roots = import_roots;
            config.require_staff_second_factor = require_staff_second_factor;
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
                tokio::spawn(crate::serve::serve(listener, router, Default::default(), std::future::pending()));
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
            domain.access().disable_user(Actor::Operator, &username, &reason).await.map_err(fail)?;
            println!("{username} is disabled: its sessions ended and its tokens were revoked");
            Ok(())
        }
        Command::User(UserCommand::Enable { username, reason }) => {
            let domain = open_domain(&admin_config()).await?;
            domain.access().enable_user(Actor::Operator, &username, &reason).await.map_err(fail)?;
            println!("{username} may sign in again (its old sessions and API tokens stay ended)");
            Ok(())
        }
        Command::User(UserCommand::SecondFactor { username }) => {
            let domain = open_domain(&admin_config()).await?;
            let (secret, uri) =
                domain.sessions().enrol_second_factor(Actor::Operator, &username).await.map_err(fail)?;
            println!("second factor for {username} (shown once; add it to their authenticator app):");
            println!("key {secret}");
            println!("{uri}");
            Ok(())
        }
        Command::User(UserCommand::ResetSecondFactor { username }) => {
            let domain = open_domain(&admin_config()).await?;
            domain.sessions().reset_second_factor(Actor::Operator, &username).await.map_err(fail)?;
            println!("{username} has no second factor now");
            Ok(())
        }
        Command::User(UserCommand::EndSessions { username }) => {
            let domain = open_domain(&admin_config()).await?;
            let ended = domain.access().end_sessions_of(Actor::Operator, &username).await.map_err(fail)?;
            println!("{} of {username} ended", app::html::counted(ended, "session", "sessions"));
            Ok(())
        }
        Command::User(UserCommand::Add { username, role }) => {
            let domain = open_domain(&admin_config()).await?;
            let role = Role::parse(&role).map_err(|e| anyhow::anyhow!("{e}"))?;
            let password = read_password()?;
            let (_, generated) =
                domain.admin().create_user(Actor::Operator, &username, role, password).await.map_err(fail)?;
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
            domain.admin().import_repository(Actor::Operator, &name, &from).await.map_err(fail)?;
            println!("imported {name} from {from}");
            Ok(())
        }
        Command::Repo(RepoCommand::Fetch { name }) => {
            let domain = open_domain(&admin_config()).await?;
            let moved = domain.search().fetch_repository(Actor::Operator, &name).await.map_err(fail)?;
            for (reference, old, new) in &moved {
                println!("{reference}: {} -> {new}", old.as_deref().unwrap_or("(new)"));
            }
            println!("fetched {name}: {} moved", app::html::counted(moved.len() as u64, "ref", "refs"));
            Ok(())
        }
        Command::Pin { action: Some(PinCommand::Policy { pin, history, downloads, copying }), .. } => {
            let pin = PinId::parse(&pin).map_err(|e| anyhow::anyhow!("pin {pin:?}: {e}"))?;
            let switch = |value: Option<String>, what: &str| -> anyhow::Result<Option<bool>> {
                match value.as_deref().map(str::trim) {
                    None => Ok(None),
                    Some("on") => Ok(Some(false)),
                    Some("off") => Ok(Some(true)),
                    Some(other) => anyhow::bail!("--{what} is on or off, not {other:?}"),
                }
            };
            let change = crate::store::pins::PolicyChange {
                no_download: switch(downloads, "downloads")?,
                no_copy: switch(copying, "copying")?,
                history: history
                    .map(|h| app::model::HistoryPolicy::parse(&h).map_err(|e| anyhow::anyhow!("--history: {e}")))
                    .transpose()?,
            };
            if change == crate::store::pins::PolicyChange::default() {
                anyhow::bail!("name a policy to set: --history, --downloads or --copying");
            }
            let domain = open_domain(&admin_config()).await?;
            domain.admin().set_pin_policy(Actor::Operator, pin, change).await.map_err(fail)?;
            println!("pin {pin}: policy set");
            Ok(())
        }
        Command::Pin { action: None, repository: Some(repository), commit: Some(commit), label: Some(label) } => {
            let domain = open_domain(&admin_config()).await?;
            let pin = domain.admin().create_pin(Actor::Operator, &repository, &commit, &label).await.map_err(fail)?;
            println!("pinned {repository} {commit} as {pin}");
            Ok(())
        }
        Command::Pin { .. } => anyhow::bail!("usage: server pin REPO COMMIT --label LABEL, or server pin policy PIN …"),
        Command::Grant { username, pins, from, until, paths } => {
            let domain = open_domain(&admin_config()).await?;
            super::grants::grant(&domain, &username, &pins, (&from, &until), &paths).await
        }
        Command::Requirements(command) => {
            let domain = open_domain(&admin_config()).await?;
            super::requirements::run(&domain, command).await
        }
        Command::Supervisor(super::releases::SupervisorCommand::Register { username, key_file }) => {
            let domain = open_domain(&admin_config()).await?;
            super::releases::register(&domain, &username, &key_file).await
        }
        Command::Supervisor(command) => super::releases::offline(command),
        Command::Release(command) => {
            let domain = open_domain(&admin_config()).await?;
            super::releases::run(&domain, command).await
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
            let (id, built) = domain.exports().export_now(&request, &out).await.map_err(fail)?;
            println!(
                "export {id}: {} events, proven against the checkpoint of {} entries",
                built.events, built.checkpoint_size
            );
            println!("wrote {} ({} bytes)", built.written.path.display(), built.written.size);
            println!("sha256 {}", built.written.sha256);
            Ok(())
        }
        Command::Verify(command) => super::verify::run(command, &cli.data).await,
        Command::Witness(WitnessCommand::Key { name }) => {
            let name = name.unwrap_or_else(default_witness_name);
            let cosigner = crate::witness::load_or_create_key(&cli.data.data_dir.join("witness.key"), &name)?;
            println!("{}", cosigner.verifier());
            Ok(())
        }
        Command::Witness(WitnessCommand::Serve { listen, policy, name }) => {
            let name = name.unwrap_or_else(default_witness_name);
            let text = std::fs::read_to_string(&policy).with_context(|| format!("reading {}", policy.display()))?;
            let policy = crate::audit::policy::Policy::parse_log_list(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", policy.display()))?;
            let cosigner = crate::witness::load_or_create_key(&cli.data.data_dir.join("witness.key"), &name)?;
            let witness = crate::witness::Witness::open(&cli.data.data_dir, policy, cosigner).await?;
            println!("witness {}", witness.verifier_key());
            let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("binding {listen}"))?;
            println!("Clearroom witness is listening on http://{}", listener.local_addr()?);
            let router = crate::witness::router(Arc::new(witness));
            crate::serve::serve(listener, router, Default::default(), async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await;
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
                builder,
                command,
                toolchain,
                notes,
                started_at_ms: time(started_at)?,
                finished_at_ms: time(finished_at)?,
                source_prefix: None,
            };
            let recorded =
                domain.builds().record_build(Actor::Operator, pin, &input, &sha256, size).await.map_err(fail)?;
            println!("attestation envelope sha256 {}", recorded.attestation_sha256);
            println!("recorded build {}", recorded.id);
            Ok(())
        }
        Command::Build(BuildCommand::Recipe(RecipeCommand::Set { pin, file })) => {
            let domain = open_domain(&admin_config()).await?;
            let pin = PinId::parse(&pin).map_err(|e| anyhow::anyhow!("pin {pin:?}: {e}"))?;
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let recipe = crate::builds::recipe::Recipe::from_toml(&text).map_err(|e| anyhow::anyhow!("{e}"))?;
            let set = domain.room().set_recipe(Actor::Operator, pin, &recipe).await.map_err(fail)?;
            println!("recipe sha256 {}", set.digest);
            println!("toolchain {}", set.toolchain_digest);
            Ok(())
        }
        Command::Build(BuildCommand::Run { pin, wait }) => {
            let domain = open_domain(&admin_config()).await?;
            let pin = PinId::parse(&pin).map_err(|e| anyhow::anyhow!("pin {pin:?}: {e}"))?;
            let started = domain.room().start(Actor::Operator, pin).await.map_err(fail)?;
            println!("room build {}", started.id);
            if !wait {
                return Ok(());
            }
            let build = domain.room().wait_for(started.id).await.map_err(fail)?;
            match build.state.as_str() {
                "done" => {
                    for output in &build.outputs {
                        println!("output {} {} {}", output.artifact, output.platform, output.sha256);
                    }
                    Ok(())
                }
                _ => Err(anyhow::anyhow!(
                    "room build {} failed: {}",
                    build.id,
                    build.reason.as_deref().unwrap_or("no reason given")
                )),
            }
        }
        Command::Backup { out, without_keys } => {
            let config = admin_config();
            let summary = crate::backup::backup(&config.data_dir, &config.database_url, &out, without_keys).await?;
            println!(
                "backed up {} files ({} MB) and a log of {} events to {}{}",
                summary.files,
                summary.bytes / 1_000_000,
                summary.log_size,
                out.display(),
                if config.database_url.starts_with("sqlite:") {
                    ""
                } else {
                    "\n(the PostgreSQL database is not in it: keep the pg_dump taken before it beside it)"
                }
            );
            Ok(())
        }
        Command::Restore { file } => {
            let (summary, manifest) = crate::backup::restore(&file, &cli.data.data_dir)?;
            println!(
                "restored {} files ({} MB) into {}: a log of {} events, taken {}{}",
                summary.files,
                summary.bytes / 1_000_000,
                cli.data.data_dir.display(),
                summary.log_size,
                manifest.created_at,
                if manifest.without_keys { " without its keys (put them back before serving)" } else { "" }
            );
            println!("Events recorded after the backup was taken are not in it.");
            Ok(())
        }
        Command::Withdraw { pin, reason } => {
            let domain = open_domain(&admin_config()).await?;
            let pin = PinId::parse(&pin).map_err(|e| anyhow::anyhow!("pin {pin:?}: {e}"))?;
            domain.admin().withdraw_pin(Actor::Operator, pin, reason.as_deref()).await.map_err(fail)?;
            println!("withdrew pin {pin}");
            Ok(())
        }
        Command::Revoke { grant, reason } => {
            let domain = open_domain(&admin_config()).await?;
            domain.access().revoke_grant(Actor::Operator, grant, reason.as_deref()).await.map_err(fail)?;
            println!("revoked grant {grant}");
            Ok(())
        }
        Command::Token(TokenCommand::Create { username, scopes, days, label }) => {
            let domain: Arc<Domain> = open_domain(&admin_config()).await?;
            let request = crate::domain::TokenRequest { scopes: &scopes, days, label: &label };
            let token = domain.access().create_token(Actor::Operator, &username, request).await.map_err(fail)?;
            println!("token for {username} (shown once): {token}");
            Ok(())
        }
        Command::Token(TokenCommand::List) => {
            let domain: Arc<Domain> = open_domain(&admin_config()).await?;
            let tokens = domain.access().list_tokens(Actor::Operator).await.map_err(fail)?;
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
            domain.access().revoke_token(Actor::Operator, id).await.map_err(fail)?;
            println!("token {id} revoked");
            Ok(())
        }
    }
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
