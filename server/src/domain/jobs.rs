//! Background jobs of the server's own: queued in the database (with the change that asks for
//! them), claimed by one instance, resumed by another when the first stops, with progress for the
//! UI. Each reads source only through its own whole-pin receipt (actor `system:<job>`).

use super::guard::{Actor, PinPage};
use super::Jobs;
use crate::audit::Action;
use crate::audit::Scope;
pub use crate::store::files::JobLane;
use crate::store::files::JobRow;
use app::error::{AppError, AppResult};
use app::model::{PinId, RepoPath};

/// Indexes a pin's files (for coverage and the file finder).
pub const INDEX_PIN: &str = "pin.index";
/// Finds the definitions in a pin's text files (for go to definition): queued by pins made before
/// pre-highlighting found them in its own parse (`PREHIGHLIGHT_PIN`); kept so that such a job still runs.
pub const EXTRACT_SYMBOLS: &str = "pin.symbols";

/// Computes the changed files from the repository's previous pin (by commit time) to this one, so
/// that comparing a release with the one before opens at once.
pub const COMPARE_PREVIOUS: &str = "pin.compare";

/// Highlights every text file of a pin into the disk cache, so that no reader waits for a file,
/// and finds its definitions (go to definition) in the same parse.
pub const PREHIGHLIGHT_PIN: &str = "pin.prehighlight";

/// Copies a repository imported from the console (`admin::run_import_job`).
pub const IMPORT_REPOSITORY: &str = "repo.import";

/// Rows written per progress report.
const CHUNK: usize = 1000;

/// A job's progress: (done, total) units, and whether it finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobProgress {
    pub done: u64,
    pub total: u64,
    pub finished: bool,
    pub failed: bool,
}

impl Jobs<'_> {
    /// How long a running job's instance may go without reporting before another takes the job
    /// over (`--job-stale-seconds`).
    fn stale_ms(&self) -> i64 {
        self.source.limits().job_stale_seconds.saturating_mul(1000).min(i64::MAX as u64) as i64
    }

    /// Runs the next job waiting, of any kind, if any; returns whether one ran.
    pub async fn run_next_job(&self) -> AppResult<bool> {
        self.run_next(None).await
    }

    /// Runs the next job waiting in `lane` (the server runs one worker per lane).
    pub async fn run_next_in(&self, lane: JobLane) -> AppResult<bool> {
        self.run_next(Some(lane)).await
    }

    async fn run_next(&self, lane: Option<JobLane>) -> AppResult<bool> {
        let now = self.clock.now_ms();
        let Some(job) = self.store.claim_job(now, now - self.stale_ms(), lane).await? else { return Ok(false) };
        self.run_claimed(job).await?;
        Ok(true)
    }

    /// Runs job `id` here if no instance holds it (queued, or its instance stopped); whether it ran.
    pub async fn run_job(&self, id: i64) -> AppResult<bool> {
        let now = self.clock.now_ms();
        let Some(job) = self.store.claim_job_id(id, now, now - self.stale_ms()).await? else { return Ok(false) };
        self.run_claimed(job).await?;
        Ok(true)
    }

    async fn run_claimed(&self, job: JobRow) -> AppResult<()> {
        let outcome = match job.kind.as_str() {
            INDEX_PIN => self.index_pin(&job).await,
            EXTRACT_SYMBOLS => self.extract_symbols(&job).await,
            COMPARE_PREVIOUS => self.compare_previous(&job).await,
            PREHIGHLIGHT_PIN => self.prehighlight_pin(&job).await,
            super::exports::EXPORT_BUNDLE => self.exports().run_export_job(&job).await,
            IMPORT_REPOSITORY => self.admin().run_import_job(&job).await,
            super::room::RUN_BUILD => self.room().run_build(&job).await,
            super::room::DIFF_BUILDS => self.room().run_diff(&job).await,
            super::compiled::COMPILED_MAP => self.compiled().run_map(&job).await,
            other => Err(AppError::Invalid(format!("unknown job kind {other}"))),
        };
        let now = self.clock.now_ms();
        match outcome {
            Ok(()) => {
                self.store.finish_job(job.id, "done", None, now).await?;
                if [INDEX_PIN, EXTRACT_SYMBOLS, PREHIGHLIGHT_PIN].contains(&job.kind.as_str()) {
                    self.store.compact_write_log().await;
                }
            }
            Err(error) => {
                tracing::warn!(job = job.id, kind = job.kind, %error, "a background job failed");
                self.store.finish_job(job.id, "failed", Some(&error.to_string()), now).await?
            }
        }
        Ok(())
    }

    async fn index_pin(&self, job: &JobRow) -> AppResult<()> {
        let pin = PinId::from_stored(job.subject);
        let actor = Actor::System("index");
        let access = self.pin_access(&actor, pin).await?;
        let event = actor.event(Action::PinIndex).on(access.object(&RepoPath::root()).shown(&access.record.tree_id));
        let receipt = self.read(event, Scope::WholePin(pin)).await?;
        let lender = self.pack_lender(&access.record).await?;
        let files = self.source.index_files(&receipt, &access.location(), lender).await?;
        let total = files.len() as u64;
        for (n, chunk) in files.chunks(CHUNK).enumerate() {
            self.store.insert_pin_files(pin.get(), chunk).await?;
            let done = ((n + 1) * CHUNK).min(files.len()) as u64;
            if !self.store.job_progress(job.id, done, total, self.clock.now_ms()).await? {
                return Err(AppError::Conflict("the job was cancelled".into()));
            }
        }
        self.store.job_progress(job.id, total, total, self.clock.now_ms()).await?;
        Ok(())
    }

    /// The pin whose search pack a new pin's may point into: the latest other pin of the same
    /// repository whose index job is done (a done index is never written again), with its files.
    async fn pack_lender(
        &self,
        pin: &crate::store::pins::PinRecord,
    ) -> AppResult<Option<(PinId, Vec<crate::store::files::PinFileRow>)>> {
        let mut others: Vec<_> = self
            .store
            .list_pins()
            .await?
            .into_iter()
            .filter(|p| p.repository_id == pin.repository_id && p.id != pin.id)
            .collect();
        others.sort_by_key(|p| std::cmp::Reverse(p.id));
        for other in others {
            let done = self.store.job_for(INDEX_PIN, other.id).await?.is_some_and(|job| job.state == "done");
            if done {
                return Ok(Some((PinId::from_stored(other.id), self.store.pin_files(other.id).await?)));
            }
        }
        Ok(None)
    }

    async fn extract_symbols(&self, job: &JobRow) -> AppResult<()> {
        let pin = PinId::from_stored(job.subject);
        let actor = Actor::System("symbols");
        let access = self.pin_access(&actor, pin).await?;
        let event = actor.event(Action::PinSymbols).on(access.object(&RepoPath::root()).shown(&access.record.tree_id));
        let receipt = self.read(event, Scope::WholePin(pin)).await?;
        let definitions = self.source.extract_definitions(&receipt, &access.location()).await?;
        let total = definitions.len() as u64;
        self.store.replace_pin_symbols(pin.get(), &definitions).await?;
        self.store.job_progress(job.id, total, total, self.clock.now_ms()).await?;
        Ok(())
    }

    async fn prehighlight_pin(&self, job: &JobRow) -> AppResult<()> {
        let pin = PinId::from_stored(job.subject);
        let actor = Actor::System("highlight");
        let access = self.pin_access(&actor, pin).await?;
        let event =
            actor.event(Action::PinPrehighlight).on(access.object(&RepoPath::root()).shown(&access.record.tree_id));
        let receipt = self.read(event, Scope::WholePin(pin)).await?;
        let progress = std::sync::Arc::new(crate::source::prehighlight::Progress::default());
        let started = std::time::Instant::now();
        let location = access.location();
        let work = self.source.prehighlight(&receipt, &location, std::sync::Arc::clone(&progress));
        tokio::pin!(work);
        let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
        let outcome = loop {
            tokio::select! {
                outcome = &mut work => break outcome,
                _ = every.tick() => {
                    use std::sync::atomic::Ordering;
                    let (done, total) = (progress.done.load(Ordering::Relaxed), progress.total.load(Ordering::Relaxed));
                    // False once staff cancelled the job: the workers stop after their current file
                    // (and on a store fault, so that no worker outlives the job).
                    match self.store.job_progress(job.id, done, total, self.clock.now_ms()).await {
                        Ok(true) => {}
                        Ok(false) => progress.cancel.store(true, Ordering::Relaxed),
                        Err(error) => {
                            progress.cancel.store(true, Ordering::Relaxed);
                            return Err(error.into());
                        }
                    }
                }
            }
        };
        let Some(definitions) = outcome? else {
            return Err(AppError::Conflict("the job was cancelled".into()));
        };
        self.store.replace_pin_symbols(pin.get(), &definitions).await?;
        use std::sync::atomic::Ordering;
        let (done, total) = (progress.done.load(Ordering::Relaxed), progress.total.load(Ordering::Relaxed));
        tracing::info!(
            pin = %pin,
            files = total,
            reused = progress.reused.load(Ordering::Relaxed),
            definitions = definitions.len(),
            seconds = started.elapsed().as_secs_f64(),
            "pre-highlighting and finding definitions finished"
        );
        if !self.store.job_progress(job.id, done, total, self.clock.now_ms()).await? {
            return Err(AppError::Conflict("the job was cancelled".into()));
        }
        Ok(())
    }

    /// Cancels a background job (staff): a running one stops after its current unit of work.
    pub async fn cancel_job(&self, actor: Actor<'_>, id: i64) -> AppResult<()> {
        super::guard::require(&actor, super::guard::Permission::Administer)?;
        let now = self.clock.now_ms();
        self.write(async |tx| {
            if !crate::store::files::cancel_job(tx.conn(), id, now).await? {
                return Err(AppError::Conflict("the job is not queued or running".into()));
            }
            tx.append(&actor.event(Action::JobCancel).with(serde_json::json!({ "job": id }))).await?;
            Ok(())
        })
        .await
    }

    /// The background jobs of a pin, latest of each kind (staff).
    pub async fn pin_jobs(&self, actor: Actor<'_>, pin: PinId) -> AppResult<Vec<app::model::JobStatus>> {
        super::guard::require(&actor, super::guard::Permission::Monitor)?;
        let mut jobs = Vec::new();
        for kind in [INDEX_PIN, EXTRACT_SYMBOLS, COMPARE_PREVIOUS, PREHIGHLIGHT_PIN] {
            jobs.extend(self.job_status(kind, pin).await?);
        }
        Ok(jobs)
    }

    /// A pin's latest job of a kind, as shown.
    pub(super) async fn job_status(&self, kind: &str, pin: PinId) -> AppResult<Option<app::model::JobStatus>> {
        Ok(self.store.job_for(kind, pin.get()).await?.map(|job| app::model::JobStatus {
            id: job.id,
            pin,
            kind: job.kind,
            state: job.state,
            done: job.done_units.max(0) as u64,
            total: job.total_units.max(0) as u64,
        }))
    }

    async fn compare_previous(&self, job: &JobRow) -> AppResult<()> {
        let pin = PinId::from_stored(job.subject);
        let actor = Actor::System("compare");
        let newer = self.pin_access(&actor, pin).await?;
        let order = |p: &crate::store::pins::PinRecord| (p.committed_at.unwrap_or(p.pinned_at), p.id);
        let previous = self
            .store
            .list_pins()
            .await?
            .into_iter()
            .filter(|p| p.repository_id == newer.record.repository_id && p.id != newer.record.id)
            .filter(|p| p.withdrawn_at.is_none() && order(p) < order(&newer.record))
            .max_by_key(order);
        let Some(previous) = previous else {
            self.store.job_progress(job.id, 0, 0, self.clock.now_ms()).await?;
            return Ok(());
        };
        let older = PinPage::named(previous);
        let event = actor
            .event(Action::PinCompare)
            .on(older.object(&RepoPath::root()).shown(&older.record.tree_id))
            .on(newer.object(&RepoPath::root()).shown(&newer.record.tree_id));
        let receipt = self.read(event, Scope::Compare(older.pin(), pin)).await?;
        let files = self.source.diff_list(&receipt, &older.location(), &newer.location()).await?;
        let total = files.len() as u64;
        self.store.job_progress(job.id, total, total, self.clock.now_ms()).await?;
        Ok(())
    }
}
