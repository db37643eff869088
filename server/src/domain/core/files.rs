//! A pin's file index (every file, its blob and lines), which coverage and search read, and the
//! background jobs that build it and the pin's other indexes.

use super::Core;
use crate::domain::jobs::{JobProgress, INDEX_PIN};
use crate::review::coverage::IndexedFile;
use app::error::AppResult;
use app::model::PinId;
use std::sync::Arc;

impl Core {
    /// A pin's indexed files: from memory once the index is complete (it never changes then).
    pub(crate) async fn indexed_files(
        &self,
        pin: PinId,
    ) -> AppResult<(Arc<Vec<IndexedFile>>, bool, Option<(u64, u64)>)> {
        if let Some(files) = self.caches.coverage.files.lock().expect("cache lock").get(&pin.get()) {
            return Ok((Arc::clone(files), true, None));
        }
        let progress = self.ensure_indexed(pin).await?;
        let files: Arc<Vec<IndexedFile>> = Arc::new(
            self.store
                .pin_files(pin.get())
                .await?
                .into_iter()
                .map(|f| IndexedFile { path: f.path, blob_id: f.blob_id, lines: f.lines, text: f.text })
                .collect(),
        );
        if progress.finished {
            self.caches.coverage.files.lock().expect("cache lock").put(pin.get(), Arc::clone(&files));
        }
        let partial = (!progress.finished).then_some((progress.done, progress.total));
        Ok((files, progress.finished, partial))
    }

    /// Queues a pin's index job unless one exists (pins made before indexing existed).
    pub(crate) async fn ensure_indexed(&self, pin: PinId) -> AppResult<JobProgress> {
        self.ensure_job(INDEX_PIN, pin).await
    }

    /// Whether a pin's definitions are found: by its pre-highlighting (queued now if the pin has
    /// none), or, for a pin made before that found them, by the definitions job it had then.
    pub(crate) async fn definitions_progress(&self, pin: PinId) -> AppResult<JobProgress> {
        if let Some(job) = self.store.job_for(crate::domain::jobs::EXTRACT_SYMBOLS, pin.get()).await? {
            if job.state == "done" {
                let done = job.done_units.max(0) as u64;
                return Ok(JobProgress { done, total: done, finished: true, failed: false });
            }
        }
        self.ensure_job(crate::domain::jobs::PREHIGHLIGHT_PIN, pin).await
    }

    /// A pin's job of `kind`, queued now if the pin has none (pins made before the job existed).
    pub(crate) async fn ensure_job(&self, kind: &str, pin: PinId) -> AppResult<JobProgress> {
        let job = match self.store.job_for(kind, pin.get()).await? {
            Some(job) => job,
            None => {
                self.store.queue_job(kind, pin.get(), self.clock.now_ms()).await?;
                return Ok(JobProgress { done: 0, total: 0, finished: false, failed: false });
            }
        };
        Ok(JobProgress {
            done: job.done_units as u64,
            total: job.total_units as u64,
            finished: job.state == "done",
            failed: job.state == "failed" || job.state == "cancelled",
        })
    }
}
