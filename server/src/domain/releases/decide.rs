//! Supervisors' keys and decisions: staff register a supervisor's public key; a supervisor's
//! signature or objection, made offline, is checked against the dossier and their registered keys
//! and recorded; the signature that completes the policy's quorum authorises the release in the
//! same write.

use super::super::guard::{require, Actor, Permission};
use super::Releases;
use crate::audit::Action;
use crate::builds::{Envelope, EnvelopeSignature};
use crate::releases::keys::{self, DecisionError};
use crate::releases::policy::{PolicyDocument, ReleasePolicy};
use crate::store::releases::{self as rows, ReleaseRow};
use crate::store::users::UserRecord;
use app::error::{AppError, AppResult};
use app::model::{ReleaseView, Role, SupervisorKey};
use serde_json::json;

impl Releases<'_> {
    /// Registers an account's public key (staff): a supervisor's, or a builder's or a lab's (a
    /// reviewer account) to register statements in the public log, as `server supervisor key`
    /// printed it.
    pub async fn register_key(&self, actor: Actor<'_>, username: &str, vkey: &str) -> AppResult<SupervisorKey> {
        require(&actor, Permission::Administer)?;
        let user = self.account(username).await?;
        if !matches!(user.role, Role::Supervisor | Role::Builder | Role::Reviewer) {
            return Err(AppError::Invalid(format!(
                "{username} is a {}: only supervisors, builders and labs (reviewer accounts) hold keys",
                user.role.as_str()
            )));
        }
        let (verifier, keyid) = keys::parse_public(vkey).ok_or_else(|| {
            AppError::Invalid(
                "the key is not an Ed25519 verifier key line (name+id+base64), as `server supervisor key` prints"
                    .into(),
            )
        })?;
        if self.store.all_account_keys().await?.iter().any(|k| k.keyid == keyid) {
            return Err(AppError::Conflict(format!("the key {keyid} is already registered")));
        }
        let vkey = verifier.to_string();
        let now = self.clock.now_ms();
        self.write(async |tx| {
            rows::add_account_key(tx.conn(), user.id, (&keyid, &vkey), actor.user_id(), now).await?;
            tx.append(&actor.event(Action::SupervisorKeyRegister).with(json!({
                "username": user.username, "keyid": keyid, "vkey": vkey,
            })))
            .await?;
            Ok(())
        })
        .await?;
        Ok(SupervisorKey { username: user.username, keyid, vkey, registered_at_ms: now })
    }

    /// An account's registered keys (staff, and the account itself).
    pub async fn keys_of(&self, actor: Actor<'_>, username: &str) -> AppResult<Vec<SupervisorKey>> {
        if actor.identity().is_none_or(|i| i.username != username) {
            require(&actor, Permission::ReadLog)?;
        }
        let user = self.account(username).await?;
        Ok(self
            .store
            .account_keys(user.id)
            .await?
            .into_iter()
            .map(|k| SupervisorKey {
                username: k.username,
                keyid: k.keyid,
                vkey: k.vkey,
                registered_at_ms: k.registered_at,
            })
            .collect())
    }

    /// Records a supervisor's signature or objection (the file `server supervisor sign` or
    /// `object` wrote). On the web the supervisor is the caller; the operator names them.
    pub async fn decide(
        &self,
        actor: Actor<'_>,
        release_id: i64,
        supervisor: Option<&str>,
        file: &str,
    ) -> AppResult<ReleaseView> {
        let user = match (&actor, supervisor) {
            (Actor::Web(_), _) => {
                require(&actor, Permission::SignReleases)?;
                let identity = actor.identity().ok_or(AppError::Unauthorized)?;
                self.account(&identity.username).await?
            }
            (_, Some(name)) => self.account(name).await?,
            (_, None) => return Err(AppError::Invalid("name the supervisor who decided".into())),
        };
        if user.role != Role::Supervisor || user.disabled_at.is_some() {
            return Err(AppError::Forbidden(format!("{} is not an enabled supervisor account", user.username)));
        }
        let release = self.release_row(release_id).await?;
        let policy = self.policy_of(&release).await?;
        if !policy.supervisors.names.contains(&user.username) {
            let message = format!("{} is not one of the supervisors this release's policy names", user.username);
            return Err(AppError::Forbidden(message));
        }
        self.open_for_decisions(&release, &user).await?;
        let (decision, signs) = keys::parse(file).map_err(|e| AppError::Invalid(e.to_string()))?;
        if signs && !release.rules_met {
            let message =
                "the dossier does not meet its policy's rules: supervisors sign only when every other rule is met; \
                 propose the release again once the evidence is there";
            return Err(AppError::Conflict(message.into()));
        }
        let registered = self.store.account_keys(user.id).await?;
        let public: Vec<_> =
            registered.iter().filter_map(|k| keys::parse_public(&k.vkey)).map(|(v, _)| v.public_key()).collect();
        let keyid = keys::verify(&decision, release.statement.as_bytes(), &public).map_err(|e| match e {
            DecisionError::UnknownKey => {
                AppError::Invalid(format!("the decision is signed by a key not registered to {}", user.username))
            }
            other => AppError::Invalid(other.to_string()),
        })?;
        let key =
            registered.iter().find(|k| k.keyid == keyid).ok_or_else(|| AppError::Invalid("unknown key".into()))?;
        let reason = decision.reason.clone().unwrap_or_default();
        let pin =
            self.store.pin(release.pin_id).await?.ok_or_else(|| AppError::NotFound("there is no such pin".into()))?;
        let now = self.clock.now_ms();
        let action = if signs { Action::ReleaseSign } else { Action::ReleaseObject };
        let authorised = self.write(async |tx| {
            rows::insert_decision(tx.conn(), (release.id, user.id, key.id), (signs, &decision.sig, &reason), now).await?;
            let mut details = json!({
                "release_id": release.id, "version": release.version, "supervisor": user.username,
                "keyid": keyid, "dossier_sha256": release.statement_sha256,
            });
            if !signs {
                details["reason"] = json!(reason);
            }
            tx.append(&actor.event(action).with(details)).await?;
            // Counted after the event's append, which holds the log's write lock: a decision
            // committed by a concurrent write is seen here.
            let decisions = rows::decisions_in(tx.conn(), release.id).await?;
            let signed: Vec<_> =
                decisions.iter().filter(|d| d.signed && policy.supervisors.names.contains(&d.username)).collect();
            let objected = decisions.iter().any(|d| !d.signed);
            if signs && !objected && signed.len() >= policy.supervisors.quorum as usize {
                let mut envelope: Envelope = serde_json::from_str(&release.envelope).map_err(|e| super::super::error::internal(&e))?;
                for d in &signed {
                    envelope.signatures.push(EnvelopeSignature { keyid: d.keyid.clone(), sig: d.signature.clone() });
                }
                let text = serde_json::to_string(&envelope).map_err(|e| super::super::error::internal(&e))?;
                rows::insert_authorisation(tx.conn(), release.id, &text, now).await?;
                tx.append(&actor.event(Action::ReleaseAuthorise).with(json!({
                    "release_id": release.id, "version": release.version,
                    "dossier_sha256": release.statement_sha256,
                    "envelope_sha256": crate::builds::sha256_hex(text.as_bytes()),
                    "supervisors": signed.iter().map(|d| json!({ "name": d.username, "keyid": d.keyid })).collect::<Vec<_>>(),
                })))
                .await?;
                // Public from here: the vendor's statement of it, in the public log.
                self.transparency().append_release(tx, &release, &pin.repository, &text, now).await?;
                return Ok(true);
            }
            Ok(false)
        })
        .await?;
        if authorised {
            self.transparency().publish().await?;
        }
        self.view_of(release.id).await
    }

    /// Refuses a decision on a release that was replaced, authorised or objected to, or that this
    /// supervisor decided on already.
    async fn open_for_decisions(&self, release: &ReleaseRow, user: &UserRecord) -> AppResult<()> {
        if let Some(newer) = self.store.release_replacing(release.id).await? {
            return Err(AppError::Conflict(format!(
                "release {} was replaced by release {newer}: decide on its dossier",
                release.id
            )));
        }
        if self.store.release_authorisation(release.id).await?.is_some() {
            return Err(AppError::Conflict(format!("release {} is already authorised", release.id)));
        }
        let decisions = self.store.release_decisions(release.id).await?;
        if let Some(earlier) = decisions.iter().find(|d| d.user_id == user.id) {
            let what = if earlier.signed { "signed" } else { "objected to" };
            return Err(AppError::Conflict(format!("{} has already {what} release {}", user.username, release.id)));
        }
        if decisions.iter().any(|d| !d.signed) {
            return Err(AppError::Conflict(format!("release {} was objected to: propose it again", release.id)));
        }
        Ok(())
    }

    pub(super) async fn policy_of(&self, release: &ReleaseRow) -> AppResult<ReleasePolicy> {
        let row = self
            .store
            .release_policy_by_id(release.policy_id)
            .await?
            .ok_or_else(|| super::super::error::internal(&MissingPolicy))?;
        ReleasePolicy::from_json(row.policy.as_bytes()).map_err(|e| super::super::error::internal(&e))
    }

    pub(super) async fn release_row(&self, id: i64) -> AppResult<ReleaseRow> {
        self.store.release(id).await?.ok_or_else(|| AppError::NotFound(format!("there is no release {id}")))
    }

    async fn account(&self, username: &str) -> AppResult<UserRecord> {
        self.store
            .user_by_name(username)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no account {username}")))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("a release names a release policy that is not stored")]
struct MissingPolicy;
