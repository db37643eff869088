//! Access to pins and the server: grants (their windows, extensions, revocation), API tokens with
//! their scopes, and disabling an account or ending its sessions. Staff and the operator only; each
//! change commits with its event.

use super::guard::{require, Actor, Permission};
use super::Access;
use crate::audit::Action;
use crate::audit::Object;
use crate::auth::{self};
use crate::store::grants::{self, NewGrant};
use crate::store::users;
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;

/// What a new API token may do and for how long.
pub struct TokenRequest<'a> {
    pub scopes: &'a [Scope],
    /// Days until it expires, 1 to 366.
    pub days: i64,
    /// A note for staff: what the token is for.
    pub label: &'a str,
}

/// A grant as the console and the API list it.
pub(super) fn grant_summary(g: grants::GrantRecord) -> GrantSummary {
    GrantSummary {
        id: g.id,
        reviewer: g.reviewer,
        pin: PinId::from_stored(g.pin_id),
        pin_label: g.pin_label,
        starts_at_ms: g.starts_at,
        ends_at_ms: g.ends_at,
        granted_by: g.granted_by,
        revoked_at_ms: g.revoked_at,
        paths: g.paths.as_deref().map(super::guard::scope::stored_patterns).unwrap_or_default(),
    }
}

impl Access<'_> {
    /// Every grant, newest first, revoked and ended ones included (staff).
    pub async fn grants(&self, actor: Actor<'_>) -> AppResult<Vec<GrantSummary>> {
        require(&actor, Permission::Administer)?;
        Ok(self.store.list_grants().await?.into_iter().map(grant_summary).collect())
    }

    /// Grants a reviewer (or regulator) access to pins, their whole trees, for a time window.
    pub async fn grant(
        &self,
        actor: Actor<'_>,
        username: &str,
        pins: &[PinId],
        starts_at_ms: i64,
        ends_at_ms: i64,
    ) -> AppResult<Vec<i64>> {
        self.grant_paths(actor, username, pins, (starts_at_ms, ends_at_ms), &[]).await
    }

    /// Grants access to pins for a time window (start, end), limited to the paths the patterns
    /// name (gitignore-style; none: the whole tree).
    pub async fn grant_paths(
        &self,
        actor: Actor<'_>,
        username: &str,
        pins: &[PinId],
        (starts_at_ms, ends_at_ms): (i64, i64),
        paths: &[String],
    ) -> AppResult<Vec<i64>> {
        require(&actor, Permission::Administer)?;
        let paths = super::guard::scope::check_patterns(paths)?;
        if pins.is_empty() {
            return Err(AppError::Invalid("choose at least one pin".into()));
        }
        if ends_at_ms <= starts_at_ms {
            return Err(AppError::Invalid("a grant must end after it starts".into()));
        }
        let user = self.user_named(username).await?;
        if user.role == Role::Staff {
            return Err(AppError::Invalid(
                "staff see every pin; grants are for reviewers, regulators and supervisors".into(),
            ));
        }
        let mut records = Vec::new();
        for pin in pins {
            match self.store.pin(pin.get()).await? {
                None => return Err(AppError::NotFound(format!("there is no pin {pin}"))),
                Some(record) if record.withdrawn_at.is_some() => {
                    return Err(AppError::Invalid(format!("pin {pin} is withdrawn")))
                }
                Some(record) => records.push(record),
            }
        }
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let mut ids = Vec::new();
            for record in &records {
                let new = NewGrant {
                    reviewer_id: user.id,
                    pin_id: record.id,
                    starts_at: starts_at_ms,
                    ends_at: ends_at_ms,
                    granted_by: actor.user_id(),
                    granted_at: now,
                    paths: (!paths.is_empty()).then(|| paths.join("\n")),
                };
                let id = grants::insert_grant(tx.conn(), &new).await?;
                let mut details = json!({
                    "grant_id": id, "grantee": user.username, "starts_at_ms": starts_at_ms, "ends_at_ms": ends_at_ms
                });
                if !paths.is_empty() {
                    details["paths"] = json!(paths);
                }
                let pin = PinId::from_stored(record.id);
                let event = actor
                    .event(Action::GrantCreate)
                    .on(Object::at(pin, Some(&record.commit_id), &RepoPath::root()))
                    .with(details);
                tx.append(&event).await?;
                ids.push(id);
            }
            Ok(ids)
        })
        .await
    }

    /// Moves a grant's end (later or earlier); the grantee's access follows on their next request.
    pub async fn extend_grant(&self, actor: Actor<'_>, grant_id: i64, ends_at_ms: i64) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        self.write(async |tx| {
            let starts = grants::grant_start(tx.conn(), grant_id).await?;
            if starts.is_some_and(|start| ends_at_ms <= start) {
                return Err(AppError::Invalid("a grant must end after it starts".into()));
            }
            let Some((pin_id, old_end)) = grants::extend_grant(tx.conn(), grant_id, ends_at_ms).await? else {
                return Err(AppError::NotFound("there is no active grant with that id".into()));
            };
            let event = actor
                .event(Action::GrantExtend)
                .on(Object::at(PinId::from_stored(pin_id), None, &RepoPath::root()))
                .with(json!({ "grant_id": grant_id, "from_ends_at_ms": old_end, "ends_at_ms": ends_at_ms }));
            tx.append(&event).await?;
            Ok(())
        })
        .await
    }

    /// Revokes a grant, with a reason for the log; the grantee loses access on their next request.
    pub async fn revoke_grant(&self, actor: Actor<'_>, grant_id: i64, reason: Option<&str>) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        let reason = reason.map(str::trim).filter(|r| !r.is_empty());
        if reason.is_some_and(|r| r.chars().count() > 500) {
            return Err(AppError::Invalid("a reason is at most 500 characters".into()));
        }
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let Some(pin_id) = grants::revoke_grant(tx.conn(), grant_id, now, actor.user_id()).await? else {
                return Err(AppError::NotFound("there is no active grant with that id".into()));
            };
            let pin = PinId::from_stored(pin_id);
            let event = actor
                .event(Action::GrantRevoke)
                .on(Object::at(pin, None, &RepoPath::root()))
                .with(json!({ "grant_id": grant_id, "reason": reason }));
            tx.append(&event).await?;
            Ok(())
        })
        .await
    }

    /// Creates an API token for a user with the given scopes (each one the account's role can
    /// hold), living `days` days (1 to 366); the token is returned once and stored as a digest.
    pub async fn create_token(&self, actor: Actor<'_>, username: &str, request: TokenRequest<'_>) -> AppResult<String> {
        require(&actor, Permission::Administer)?;
        let user = self.user_named(username).await?;
        if user.disabled_at.is_some() {
            return Err(AppError::Conflict(format!("{username} is disabled")));
        }
        if username == crate::store::room::ROOM_ACCOUNT && user.role == Role::Builder {
            // The room's records are the room's builds alone: nobody records as it.
            return Err(AppError::Conflict(
                "the room account records only the room's own builds; it has no tokens".into(),
            ));
        }
        let mut scopes = request.scopes.to_vec();
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(AppError::Invalid("name at least one scope: log:read, review, build:write or export".into()));
        }
        if let Some(scope) = scopes.iter().find(|scope| !scope.fits(user.role)) {
            return Err(AppError::Invalid(format!(
                "a {} account cannot hold the {} scope",
                user.role.as_str(),
                scope.as_str()
            )));
        }
        if !(1..=366).contains(&request.days) {
            return Err(AppError::Invalid("a token lives 1 to 366 days".into()));
        }
        let label = request.label.trim();
        if label.chars().count() > 100 || label.chars().any(char::is_control) {
            return Err(AppError::Invalid("a token's label is at most 100 characters, on one line".into()));
        }
        let (token, digest) = auth::new_api_token();
        let now = self.clock.now_ms();
        let expires_at = now + request.days * 86_400_000;
        let joined = Scope::join(&scopes);
        self.write(async |tx| {
            let new = users::NewToken {
                user_id: user.id,
                token_sha256: &digest,
                scopes: &joined,
                label,
                created_at: now,
                expires_at,
            };
            let id = users::insert_token(tx.conn(), new).await?;
            let details = json!({
                "username": user.username, "token_id": id, "scopes": joined, "label": label, "expires_at_ms": expires_at,
            });
            tx.append(&actor.event(Action::TokenCreate).with(details)).await?;
            Ok(())
        })
        .await?;
        Ok(token)
    }

    /// Every API token (never the token itself), newest first.
    pub async fn list_tokens(&self, actor: Actor<'_>) -> AppResult<Vec<TokenSummary>> {
        require(&actor, Permission::Administer)?;
        let now = self.clock.now_ms();
        Ok(self
            .store
            .list_tokens()
            .await?
            .into_iter()
            .map(|t| TokenSummary {
                id: t.id,
                username: t.username,
                scopes: Scope::split(&t.scopes),
                label: t.label,
                created_at_ms: t.created_at,
                expires_at_ms: t.expires_at,
                revoked_at_ms: t.revoked_at,
                live: t.revoked_at.is_none() && now < t.expires_at,
            })
            .collect())
    }

    /// Revokes an API token at once, on every instance (each request looks the token up).
    pub async fn revoke_token(&self, actor: Actor<'_>, id: i64) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let Some(username) = users::revoke_token(tx.conn(), id, now).await? else {
                return Err(AppError::NotFound("there is no live token with that id".into()));
            };
            tx.append(&actor.event(Action::TokenRevoke).with(json!({ "token_id": id, "username": username }))).await?;
            Ok(())
        })
        .await
    }

    /// Disables an account: it signs in nowhere, its sessions end and its tokens are revoked, in
    /// one transaction with the event. The account and everything it did stay on record.
    pub async fn disable_user(&self, actor: Actor<'_>, username: &str, reason: &str) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        let user = self.user_named(username).await?;
        if actor.user_id() == Some(user.id) {
            return Err(AppError::Invalid("you cannot disable your own account".into()));
        }
        let now = self.clock.now_ms();
        self.write(async |tx| {
            if !users::disable_user(tx.conn(), user.id, now).await? {
                return Err(AppError::Conflict(format!("{username} is already disabled")));
            }
            let sessions = users::end_sessions_of(tx.conn(), user.id, now).await?;
            let tokens = users::revoke_tokens_of(tx.conn(), user.id, now).await?;
            let details = json!({
                "username": user.username, "reason": reason.trim(), "sessions_ended": sessions, "tokens_revoked": tokens,
            });
            tx.append(&actor.event(Action::UserDisable).with(details)).await?;
            Ok(())
        })
        .await
    }

    /// Lets a disabled account sign in again. What disabling ended stays ended: its sessions (it
    /// signs in afresh) and its API tokens (staff issue new ones); its grants are as they were.
    pub async fn enable_user(&self, actor: Actor<'_>, username: &str, reason: &str) -> AppResult<()> {
        require(&actor, Permission::Administer)?;
        let user = self.user_named(username).await?;
        self.write(async |tx| {
            if !users::enable_user(tx.conn(), user.id).await? {
                return Err(AppError::Conflict(format!("{username} is not disabled")));
            }
            let details = json!({ "username": user.username, "reason": reason.trim() });
            tx.append(&actor.event(Action::UserEnable).with(details)).await?;
            Ok(())
        })
        .await
    }

    /// Ends every session of an account (staff, for anyone; the account stays usable).
    pub async fn end_sessions_of(&self, actor: Actor<'_>, username: &str) -> AppResult<u64> {
        require(&actor, Permission::Administer)?;
        let user = self.user_named(username).await?;
        let now = self.clock.now_ms();
        self.write(async |tx| {
            let ended = users::end_sessions_of(tx.conn(), user.id, now).await?;
            let details = json!({ "username": user.username, "sessions_ended": ended });
            tx.append(&actor.event(Action::SessionEndAll).with(details)).await?;
            Ok(ended)
        })
        .await
    }
}
