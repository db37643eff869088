//! Releases a supervisor authorises (`docs/releases.md`): each repository's release policy, set
//! by staff and read by who oversees reviews (here); proposing a release and freezing its dossier
//! (`propose`); supervisors' keys, signatures, objections and the authorisation (`decide`);
//! reading releases (`view`).

mod decide;
mod page;
mod propose;
mod view;

use super::guard::{require, Actor, Permission};
use super::Releases;
use crate::audit::Action;
use crate::releases::policy::{PolicyDocument, ReleasePolicy};
use crate::store::releases::{self as rows, PolicyRow};
use app::error::{AppError, AppResult};
use app::model::{ReleasePolicyView, Role};
use serde_json::json;

/// How a policy document is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyFormat {
    Toml,
    Json,
}

impl Releases<'_> {
    /// Sets a repository's release policy (staff): checked, every named supervisor an account
    /// with that role, then stored with its `release.policy_set` event in one write. Earlier
    /// policies stay, since dossiers name them by digest.
    pub async fn set_policy(
        &self,
        actor: Actor<'_>,
        repository: &str,
        written: &str,
        format: PolicyFormat,
    ) -> AppResult<ReleasePolicyView> {
        require(&actor, Permission::ManageReleases)?;
        let record = self.repository_named(repository).await?;
        let policy = match format {
            PolicyFormat::Toml => ReleasePolicy::from_toml(written),
            PolicyFormat::Json => ReleasePolicy::from_json(written.as_bytes()),
        }
        .map_err(|e| AppError::Invalid(e.to_string()))?;
        for name in &policy.supervisors.names {
            let account = self.store.user_by_name(name).await?;
            if !account.is_some_and(|user| user.role == Role::Supervisor && user.disabled_at.is_none()) {
                let problem = format!("{name} is not an enabled supervisor account");
                return Err(AppError::Invalid(format!("release policy: supervisors.names: {problem}")));
            }
        }
        let (canonical, digest) = (policy.canonical_json(), policy.digest());
        let now = self.clock.now_ms();
        let details = json!({
            "repository": record.name, "repository_id": record.id, "policy_sha256": digest,
            "policy": serde_json::to_value(&policy).map_err(|e| super::error::internal(&e))?,
        });
        self.write(async |tx| {
            let row = (canonical.as_str(), digest.as_str(), written);
            rows::add_release_policy(tx.conn(), record.id, row, actor.user_id(), now).await?;
            tx.append(&actor.event(Action::ReleasePolicySet).with(details)).await?;
            Ok(())
        })
        .await?;
        let row = self.store.release_policy(record.id).await?.ok_or_else(|| AppError::NotFound("no policy".into()))?;
        policy_view(&record.name, row)
    }

    /// A repository's release policy (staff, regulators, supervisors), if it has one.
    pub async fn policy(&self, actor: Actor<'_>, repository: &str) -> AppResult<Option<ReleasePolicyView>> {
        require(&actor, Permission::ReadLog)?;
        let record = self.repository_named(repository).await?;
        match self.store.release_policy(record.id).await? {
            Some(row) => Ok(Some(policy_view(&record.name, row)?)),
            None => Ok(None),
        }
    }

    async fn repository_named(&self, name: &str) -> AppResult<crate::store::pins::RepositoryRecord> {
        self.store
            .repository_by_name(name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no repository named {name}")))
    }
}

fn policy_view(repository: &str, row: PolicyRow) -> AppResult<ReleasePolicyView> {
    let policy = ReleasePolicy::from_json(row.policy.as_bytes()).map_err(|e| super::error::internal(&e))?;
    Ok(ReleasePolicyView {
        repository: repository.to_string(),
        policy,
        sha256: row.digest,
        written: row.written,
        set_by: row.set_by,
        set_at_ms: row.set_at,
    })
}
