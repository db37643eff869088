//! The audited write and the audited read, the two shapes every operation takes.
//!
//! A write is begin → body → commit: the body writes its rows through the log transaction's
//! connection and appends the events that record them, and nothing commits unless an event was
//! appended. A read records an event naming its scope first, durably, and only then hands out the
//! receipt without which `source` reads nothing.

use super::error::internal;
use super::Core;
use crate::audit::{Event, LogTx, Receipt, Scope};
use app::error::AppResult;

/// A change that tried to commit without recording an event (a programming error).
#[derive(Debug, thiserror::Error)]
#[error("a change was about to commit without its audit event")]
struct Unrecorded;

impl Core {
    /// Runs `body` in a transaction that holds the log's write lock and commits it with the events
    /// the body appended, or rolls everything back.
    pub(super) async fn write<T>(&self, body: impl AsyncFnOnce(&mut LogTx) -> AppResult<T>) -> AppResult<T> {
        let mut tx = self.audit.begin().await?;
        let value = body(&mut tx).await?;
        if tx.appended() == 0 {
            return Err(internal(&Unrecorded));
        }
        tx.commit().await?;
        Ok(value)
    }

    /// Records `event`, which names `scope`, and returns the receipt that allows reading it.
    pub(super) async fn read(&self, event: Event, scope: Scope) -> AppResult<Receipt> {
        Ok(self.audit.record_read(&event, scope).await?)
    }

    /// Records an event on its own (a refusal, a sign-in, a failed lookup).
    pub(super) async fn record(&self, event: Event) -> AppResult<u64> {
        Ok(self.audit.record(&event).await?)
    }
}
