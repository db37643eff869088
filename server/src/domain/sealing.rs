//! Sealing the second-factor secrets stored before they were sealed (`auth::sealed`): run at
//! start, before a request is served. The values' meaning does not change, so no event is
//! recorded, as for a schema migration; each row is replaced only if it still holds what was read.

use super::Sessions;
use crate::auth::sealed::{is_sealed, Column};
use app::error::AppResult;

impl Sessions<'_> {
    /// Seals every second-factor secret stored in the clear; how many accounts had one.
    pub async fn seal_second_factors(&self) -> AppResult<usize> {
        let mut sealed = 0;
        for (id, secret, pending) in self.store.unsealed_second_factors().await? {
            let seal = |value: &Option<String>, column| match value {
                Some(text) if !is_sealed(text) => Some(self.sealing.seal(id, column, text)),
                other => other.clone(),
            };
            let new = (seal(&secret, Column::Secret), seal(&pending, Column::Pending));
            let old = (secret.as_deref(), pending.as_deref());
            if self.store.reseal_second_factor(id, old, (new.0.as_deref(), new.1.as_deref())).await? {
                sealed += 1;
            }
        }
        Ok(sealed)
    }
}
