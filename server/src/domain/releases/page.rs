//! A pin's releases as its page shows them (staff, regulators, supervisors): the repository's
//! policy, each release with its rules and decisions, the artifacts recorded for the pin that staff
//! may propose, and whether the viewer is a supervisor who may sign. Reading them is recorded
//! (`release.list`), as the API's list is.

use super::super::guard::{require, Actor, Permission, PinPage, PinUse};
use super::Releases;
use crate::audit::Action;
use crate::domain::builds::{group, view};
use crate::store::builds::BuildRow;
use app::error::AppResult;
use app::model::{
    OpenRelease, PinId, PinReleasesPage, RecordedArtifact, ReleaseArtifact, ReleaseState, ReleaseView, RepoPath,
};
use serde_json::json;
use std::collections::BTreeMap;

impl Releases<'_> {
    /// A pin's releases page.
    pub async fn pin_page(&self, actor: Actor<'_>, pin: PinId) -> AppResult<PinReleasesPage> {
        let (access, mut releases) = self.listed(&actor, pin).await?;
        releases.reverse();
        let policy = match self.store.release_policy(access.record.repository_id).await? {
            Some(row) => Some(super::policy_view(&access.record.repository, row)?),
            None => None,
        };
        let can_propose = require(&actor, Permission::ManageReleases).is_ok() && access.record.withdrawn_at.is_none();
        let recorded = if can_propose { recorded(self.store.builds_of_pin(pin.get()).await?) } else { Vec::new() };
        let supervisor = match require(&actor, Permission::SignReleases) {
            Ok(()) => actor.identity().map(|identity| identity.username.clone()),
            Err(_) => None,
        };
        Ok(PinReleasesPage {
            pin: self.pin_summary(&access).await?,
            policy,
            releases,
            can_propose,
            recorded,
            supervisor,
            csrf_token: String::new(),
        })
    }

    /// The releases still open (neither authorised nor replaced), newest first, for the home page
    /// of who may read releases (nobody else has any); for a supervisor, whether each waits for
    /// their decision. Reading them is recorded.
    pub async fn open_releases(&self, actor: Actor<'_>) -> AppResult<Vec<OpenRelease>> {
        if require(&actor, Permission::ReadLog).is_err() {
            return Ok(Vec::new());
        }
        let me = match require(&actor, Permission::SignReleases) {
            Ok(()) => actor.identity().map(|identity| identity.username.clone()),
            Err(_) => None,
        };
        let mut open = Vec::new();
        for row in self.store.open_releases().await?.into_iter().rev() {
            let release = self.view_of(row.id).await?;
            let yours = match &me {
                Some(me) => {
                    self.policy_of(&row).await?.supervisors.names.contains(me)
                        && release.state == ReleaseState::Proposed
                        && release.ready_for_supervisors
                        && !release.decisions.iter().any(|d| &d.supervisor == me)
                }
                None => false,
            };
            open.push(OpenRelease { release, yours });
        }
        if !open.is_empty() {
            let ids: Vec<i64> = open.iter().map(|o| o.release.id).collect();
            self.record(actor.event(Action::ReleaseList).with(json!({ "releases": ids }))).await?;
        }
        Ok(open)
    }

    /// A pin's releases, oldest first, the read recorded.
    pub(super) async fn listed(&self, actor: &Actor<'_>, pin: PinId) -> AppResult<(PinPage, Vec<ReleaseView>)> {
        require(actor, Permission::ReadLog)?;
        let access = self.pin_use(actor, pin, PinUse::ReadReview).await?;
        let mut views = Vec::new();
        for row in self.store.releases_of_pin(pin.get()).await? {
            views.push(self.view_of(row.id).await?);
        }
        let ids: Vec<i64> = views.iter().map(|v| v.id).collect();
        self.record(actor.event(Action::ReleaseList).on(access.object(&RepoPath::root())).with(json!({
            "releases": ids,
        })))
        .await?;
        Ok((access, views))
    }
}

/// Each hash recorded for each artifact (name and platform) of a pin, with who recorded it.
fn recorded(builds: Vec<BuildRow>) -> Vec<RecordedArtifact> {
    let views = builds.into_iter().map(|row| view(row, &BTreeMap::new())).collect();
    group(views)
        .into_iter()
        .flat_map(|artifact| {
            let agreed = artifact.accounts.len() == 1;
            artifact.accounts.into_iter().map(move |(sha256, builders)| RecordedArtifact {
                artifact: ReleaseArtifact { name: artifact.name.clone(), platform: artifact.platform.clone(), sha256 },
                builders,
                agreed,
            })
        })
        .collect()
}
