//! The core every area of the domain stands on: the store, the log, the source, the clock and the
//! settings, built at once; the guard (`guard`) and the audited write and read (`audited`) are its
//! methods, as are the reads more than one area needs (`pins`: a pin as every page shows it, who
//! is looking; `files`: the pin's file index; `users`). Each area is a service (`Browse`, `Review`,
//! …): a borrowed view of the core with that area's operations, reached through the core's
//! accessor of the same name (`domain.review().add_comment(…)`).

mod files;
mod pins;
mod users;

use super::*;
use crate::audit::note::NoteSigner;
use crate::audit::AuditLog;
use crate::clock::Clock;
use crate::source::Source;
use crate::store::Store;
use app::error::AppResult;
use app::model::*;
use std::sync::Arc;

pub struct Core {
    pub(super) store: Store,
    pub(super) audit: AuditLog,
    pub(super) source: Arc<Source>,
    /// The log's checkpoint signing key.
    pub(super) signer: Arc<NoteSigner>,
    pub(super) clock: Clock,
    pub(super) caches: caches::Caches,
    pub(super) builds: builds::BuildSettings,
    /// The public log: its key and what this instance has read of it.
    pub(super) public: crate::transparency::PublicLog,
    /// The witnesses asked to cosign checkpoints, when a trust policy is configured. The one
    /// setting made after construction: a policy names the log's key, which the domain's signer
    /// holds, so the demo (and a test) start their witnesses against the running log first.
    pub(super) supervision: std::sync::OnceLock<Arc<crate::audit::witnessing::Supervision>>,
    /// The same witnesses, asked to cosign the public log's checkpoints (state of their own).
    pub(super) public_supervision: std::sync::OnceLock<Arc<crate::audit::witnessing::Supervision>>,
    /// Where export bundles are kept, and for how long.
    pub(super) exports: exports::ExportSettings,
    /// The self-audit of the log (`integrity`).
    pub(super) integrity: integrity::Integrity,
    /// The directories staff may import repositories from, canonical (`--import-root`).
    pub(super) import_roots: Vec<std::path::PathBuf>,
    /// Whether staff must sign in with a second factor (`--require-staff-second-factor`).
    pub(super) staff_second_factor: bool,
    /// The key second-factor secrets are sealed with in the database (`auth::sealed`).
    pub(super) sealing: Arc<crate::auth::sealed::SealingKey>,
}

macro_rules! services {
    ($($(#[$doc:meta])* $service:ident $accessor:ident;)*) => {
        $(
            $(#[$doc])*
            #[derive(Clone, Copy)]
            pub struct $service<'a> {
                core: &'a Core,
            }

            impl std::ops::Deref for $service<'_> {
                type Target = Core;
                fn deref(&self) -> &Core {
                    self.core
                }
            }
        )*

        impl Core {
            $(
                pub fn $accessor(&self) -> $service<'_> {
                    $service { core: self }
                }
            )*
        }
    };
}

services! {
    /// Grants, API tokens, ending a user's sessions, disabling an account (`access`).
    Access access;
    /// Users, repositories and pins (`admin`).
    Admin admin;
    /// Attestations and the lookup of an artifact by hash (`attestations`).
    Attestations attestations;
    /// Pins, trees, files, windows of lines and downloads (`browse`).
    Browse browse;
    /// Build records and uploads (`builds`).
    Builds builds;
    /// Compiled-code maps of artifacts and their debug files (`compiled`).
    Compiled compiled;
    /// Comparing two pins and a file between them (`compare`).
    Compare compare;
    /// Reviewed marks, coverage and verdicts (`coverage`).
    CoverageService coverage;
    /// Export bundles (`exports`).
    Exports exports;
    /// The history behind pins and blame (`history`).
    History history;
    /// Background jobs (`jobs`).
    Jobs jobs;
    /// The log: checkpoints, proofs, witnesses, the self-audit (`log`, `integrity`).
    Log log;
    /// Release policies, releases and their authorisation (`releases`).
    Releases releases;
    /// Comments, findings and notes (`review`).
    Review review;
    /// Requirement lists and the traceability of code to them (`requirements`).
    Requirements requirements;
    /// Room builds: recipes, builds run by the centre, reports on mismatches (`room`).
    Room room;
    /// Imported tool results (SARIF logs) and their triage (`sarif`).
    ToolResults tool_results;
    /// The public log: its tiles, receipts and keys, appending to it (`transparency`).
    Transparency transparency;
    /// Search, the file finder, symbols (`search`).
    Search search;
    /// Sign-in, sessions, second factors, passwords (`sessions`).
    Sessions sessions;
}

impl Core {
    /// A key for `purpose`, derived from the log's signing key: every instance sharing the log
    /// derives the same one, and nobody without the signing key can.
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        self.signer.derive_key(purpose)
    }

    /// The domain's clock, read (for messages such as how long a lock lasts).
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub(crate) fn staff_second_factor(&self) -> bool {
        self.staff_second_factor
    }

    /// Forgets sign-in failure counts whose hour and lock are over (run on a timer).
    pub async fn prune_login_failures(&self) -> AppResult<u64> {
        Ok(self.store.prune_login_failures(self.clock.now_ms()).await?)
    }

    /// The highlight cache's answers so far and its sizes, for `/healthz` (no source content).
    pub fn highlight_cache_figures(&self) -> serde_json::Value {
        let counts = self.source.cache().counts();
        let (memory, disk) = self.source.cache().sizes();
        serde_json::json!({
            "memory_hits": counts.memory,
            "disk_hits": counts.disk,
            "misses": counts.misses,
            "memory_bytes": memory,
            "disk_bytes": disk,
        })
    }

    /// The metrics in Prometheus' text format, gauges refreshed now (staff, or an `ops:read`
    /// token; `None` caller: the unauthenticated `--metrics-listen` listener).
    pub async fn metrics_text(&self, caller: Option<&Caller>) -> AppResult<String> {
        if let Some(caller) = caller {
            guard::require(&Actor::Web(caller), guard::Permission::Monitor)?;
        }
        let metrics = crate::metrics::metrics();
        let counts = self.source.cache().counts();
        let (memory, _) = self.source.cache().sizes();
        metrics.cache_hits.set(counts.memory + counts.disk);
        metrics.cache_misses.set(counts.misses);
        metrics.cache_bytes.set(memory);
        for (state, count) in self.store.count_jobs_by_state().await? {
            metrics.jobs.get_or_create(&crate::metrics::JobLabels { state }).set(count);
        }
        let integrity = self.integrity.status();
        metrics.self_audit_alarm.set(i64::from(integrity.alarm.is_some()));
        metrics.self_audit_verified.set(integrity.verified_size);
        Ok(metrics.encode())
    }

    pub(super) fn new(
        store: Store,
        source: Arc<Source>,
        signer: Arc<NoteSigner>,
        settings: DomainSettings,
        clock: Clock,
    ) -> Core {
        let audit = AuditLog::new(store.clone(), clock.clone());
        let supervision = std::sync::OnceLock::new();
        Core {
            store,
            audit,
            source,
            signer,
            clock,
            caches: caches::Caches::default(),
            builds: settings.builds,
            public: crate::transparency::PublicLog::new(settings.public_log),
            supervision,
            public_supervision: std::sync::OnceLock::new(),
            exports: settings.exports,
            integrity: integrity::Integrity::default(),
            import_roots: settings.import_roots.iter().filter_map(|root| std::fs::canonicalize(root).ok()).collect(),
            staff_second_factor: settings.staff_second_factor,
            sealing: settings.second_factor,
        }
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The session store over the domain's database; sessions end by the clock the guard reads.
    pub fn session_store(&self) -> crate::store::sessions::DatabaseSessionStore {
        crate::store::sessions::DatabaseSessionStore::new(self.store.clone(), self.clock.clone())
    }

    /// Whether the database answers.
    pub async fn health(&self) -> AppResult<()> {
        Ok(self.store.ping().await?)
    }

    /// Whether no account exists yet (a new data directory).
    pub async fn is_new(&self) -> AppResult<bool> {
        Ok(self.store.count_users().await? == 0)
    }
}
