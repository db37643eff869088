//! What more than one area reads of a pin: the pin as every page shows it, who is looking, the
//! binaries a verdict binds, where the repository came from.

use super::Core;
use crate::domain::guard::{Actor, PinPage};
use crate::domain::threads::Viewer;
use app::error::AppResult;
use app::model::{BinaryRef, PinId, PinSummary, Role};
use std::collections::{HashMap, HashSet};

impl Core {
    /// A pin as every pin page shows it, with the artifacts whose builders disagree.
    pub(crate) async fn pin_summary(&self, access: &PinPage) -> AppResult<PinSummary> {
        let mut summary = crate::domain::browse::summary(&access.record, access.ends_at, access.caps);
        summary.scope = access.scope.patterns();
        if !access.record.has_mismatches {
            return Ok(summary);
        }
        summary.mismatches = self
            .store
            .mismatched_artifacts(access.record.id)
            .await?
            .into_iter()
            .map(|(name, platform)| if platform.is_empty() { name } else { format!("{name} ({platform})") })
            .collect();
        Ok(summary)
    }

    /// The binaries recorded for a pin (each artifact name and hash once), as a verdict binds them.
    pub(crate) async fn binaries_of(&self, pin: PinId) -> AppResult<Vec<BinaryRef>> {
        let mut seen = HashSet::new();
        Ok(self
            .store
            .builds_of_pin(pin.get())
            .await?
            .into_iter()
            .filter(|b| seen.insert((b.name.clone(), b.sha256.clone())))
            .map(|b| BinaryRef { name: b.name, sha256: b.sha256 })
            .collect())
    }

    /// Where a pin's repository was imported from (its URL or path), as statements name it.
    pub(crate) async fn repository_source(&self, record: &crate::store::pins::PinRecord) -> AppResult<String> {
        Ok(self
            .store
            .repository_by_name(&record.repository)
            .await?
            .map(|r| r.source)
            .unwrap_or_else(|| record.repository.clone()))
    }

    /// Who is looking at the pin, and whether they take part in its review (the guard's
    /// capabilities for this request).
    pub(crate) fn viewer(&self, actor: &Actor<'_>, access: &PinPage) -> Viewer {
        match actor.identity() {
            Some(identity) => {
                Viewer { user_id: Some(identity.user_id), role: identity.role, may_review: access.caps.take_part }
            }
            None => Viewer { user_id: None, role: Role::Staff, may_review: false },
        }
    }

    pub(crate) async fn pin_labels(&self) -> AppResult<HashMap<i64, String>> {
        Ok(self.store.list_pins().await?.into_iter().map(|p| (p.id, p.label)).collect())
    }
}
