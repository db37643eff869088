//! Signing in and out, resuming a session on each request, and API tokens. The rules for how long a
//! session lives are the guard's (`guard::session_state`); this module applies them.

use super::guard::Actor;
use super::guard::{latest_active_end, session_state, SessionData, SessionState};
use super::Sessions;
use crate::audit::Action;
use crate::audit::{Event, Outcome};
use crate::auth::sealed::Column;
use crate::auth::{self, Password};
use crate::store::users;
use crate::store::users::UserRecord;
use app::error::AppError;
use app::error::AppResult;
use app::model::{AccountPage, Caller, Identity, Role, Scope, SessionSummary, TokenAccess};
use serde_json::json;

/// Failed sign-ins to one account (or one name) in an hour before it is locked.
pub const LOGIN_FAILURES_PER_HOUR: i64 = 100;
/// How long such a lock lasts.
pub const LOCK_MS: i64 = 3_600_000;

/// The outcome of a sign-in.
pub enum SignIn {
    /// The session to start.
    Accepted(SessionData),
    /// Wrong name or password (the two are not told apart).
    Refused,
    /// Too many failures: no attempt is checked until then.
    Locked { until_ms: i64 },
    /// The password was right; the account's second-factor code was missing, wrong or used.
    CodeNeeded,
    /// A staff account without a second factor, on a server that requires one for staff.
    SecondFactorRequired,
}

/// The outcome of resuming a session at a request.
pub enum Resumed {
    /// The session is over (idle, past its end, grants gone, account gone): it must be dropped.
    Ended,
    /// Still on, as this person; `touched` is the session to write back when activity is recorded.
    /// `access_ends_ms`: for a reviewer, when their latest active grant ends, from the grants
    /// this check read (`None` for other roles).
    Active { identity: Identity, touched: Option<SessionData>, access_ends_ms: Option<i64> },
}

fn identity(user: &UserRecord) -> Identity {
    Identity { user_id: user.id, username: user.username.clone(), role: user.role }
}

impl Sessions<'_> {
    /// A name typed at sign-in as the log may hold it: 16 bytes of SHA-256 over a key derived from
    /// the log's signing key and the name (trimmed), in hex. Only this server can compute it.
    fn keyed_name_hash(&self, name: &str) -> String {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        hasher.update(b"clearroom/auth.login_failed/name/v1\n");
        hasher.update(sha2::Sha256::digest(self.signer.to_key_string().as_bytes()));
        hasher.update(name.trim().as_bytes());
        hex::encode(&hasher.finalize()[..16])
    }

    /// Checks a username and password and records the attempt; on success returns the new
    /// session's contents. A failed attempt names an existing account, or a keyed hash of the
    /// name typed — never the text itself. An account (or name) with `LOGIN_FAILURES_PER_HOUR`
    /// failures in an hour is locked for an hour, counted in the database so that every instance
    /// sees it; attempts while locked are answered at once, without hashing or recording each.
    pub async fn sign_in(&self, client: &str, username: &str, password: Password, code: &str) -> AppResult<SignIn> {
        let now = self.clock.now_ms();
        let account = auth::normalise_username(username);
        if let Some(until) = self.store.login_locked_until(&account, now).await? {
            return Ok(SignIn::Locked { until_ms: until });
        }
        let user = match auth::parse_username(&account) {
            Ok(name) => self.store.user_by_name(&name).await?,
            Err(_) => None,
        };
        let ok = auth::verify_password(user.as_ref().map(|u| u.password_hash.clone()), password).await?;
        let user_named = user.as_ref().map(|u| u.username.clone());
        let disabled = user.as_ref().is_some_and(|u| u.disabled_at.is_some());
        let caller = Caller::anonymous(client.to_string());
        // Builder accounts (CI systems, rebuilders) work through API tokens only, never a session;
        // a disabled account signs in nowhere.
        let user = user.filter(|u| ok && u.role != Role::Builder && !disabled);
        // The second factor, after the password: the account's code when it has one; none at all
        // for staff when the server requires one of them.
        if let Some(person) = &user {
            let secret = person.totp_secret.as_deref().map(|s| self.sealing.open(person.id, Column::Secret, s));
            let refusal = match secret {
                Some(Ok(secret)) => match auth::totp::verify(&secret, code, now, person.totp_last_step) {
                    Some(step) if self.store.use_totp_step(person.id, step).await? => None,
                    _ if code.trim().is_empty() => Some(("missing", SignIn::CodeNeeded)),
                    _ => Some(("wrong or used", SignIn::CodeNeeded)),
                },
                Some(Err(unopenable)) => {
                    // Another key, or an altered row: no code can be checked; staff reset it.
                    tracing::error!(account = %person.username, error = %unopenable, "a second factor could not be checked");
                    Some(("unopenable", SignIn::CodeNeeded))
                }
                None if person.role == Role::Staff && self.staff_second_factor() => {
                    Some(("not set up", SignIn::SecondFactorRequired))
                }
                None => None,
            };
            if let Some((why, answer)) = refusal {
                let details = json!({ "account": person.username, "known": true, "second_factor": why });
                self.record(Event::by(&caller, Action::AuthLoginFailed, Outcome::Denied).with(details)).await?;
                if let Some(until) =
                    self.store.count_login_failure(&account, now, LOGIN_FAILURES_PER_HOUR, LOCK_MS).await?
                {
                    return Ok(SignIn::Locked { until_ms: until });
                }
                return Ok(answer);
            }
        }
        let event = match &user {
            Some(user) => {
                let mut event = Event::by(&caller, Action::AuthLogin, Outcome::Ok);
                event.actor = Some(user.username.clone());
                event.role = Some(user.role.as_str());
                event
            }
            // The name typed is never stored: it may be a password typed in the wrong field. An
            // existing account is named (that is no secret); any other name only as a keyed hash, so
            // that repeated attempts with one name can be told apart without revealing it.
            None => {
                let details = match &user_named {
                    Some(account) if disabled => json!({ "account": account, "known": true, "disabled": true }),
                    Some(account) => json!({ "account": account, "known": true }),
                    None => json!({ "known": false, "name_hash": self.keyed_name_hash(&account) }),
                };
                Event::by(&caller, Action::AuthLoginFailed, Outcome::Denied).with(details)
            }
        };
        self.record(event).await?;
        let Some(user) = user else {
            let locked = self.store.count_login_failure(&account, now, LOGIN_FAILURES_PER_HOUR, LOCK_MS).await?;
            if let Some(until) = locked {
                let details = match &user_named {
                    Some(account) => json!({ "account": account, "known": true, "until_ms": until }),
                    None => json!({ "known": false, "name_hash": self.keyed_name_hash(&account), "until_ms": until }),
                };
                let event = Event::by(&caller, Action::AuthAccountLocked, Outcome::Denied).with(details);
                self.record(event).await?;
                tracing::warn!(until_ms = until, "sign-in locked after repeated failures");
                return Ok(SignIn::Locked { until_ms: until });
            }
            return Ok(SignIn::Refused);
        };
        self.store.clear_login_failures(&account, now).await?;
        let had_grants = match user.role {
            Role::Reviewer => latest_active_end(&self.store.grants_of(user.id).await?, now).is_some(),
            _ => false,
        };
        Ok(SignIn::Accepted(SessionData {
            user_id: user.id,
            csrf: auth::new_csrf_token(),
            started_ms: now,
            last_seen_ms: now,
            had_grants,
            client: client.to_string(),
            agent: String::new(),
        }))
    }

    /// Resumes a session at a request: ends it when the guard says so, and marks activity at most
    /// once a minute (so reading does not write to the database on every request).
    pub async fn resume_session(&self, data: &SessionData) -> AppResult<Resumed> {
        let Some((user, grants)) = self.store.user_and_grants(data.user_id).await? else {
            return Ok(Resumed::Ended);
        };
        // A disabled account, or sessions ended by staff or "sign out everywhere".
        if user.disabled_at.is_some() || data.started_ms < user.sessions_after {
            return Ok(Resumed::Ended);
        }
        let grants = match user.role {
            Role::Reviewer => grants,
            _ => Vec::new(),
        };
        let now = self.clock.now_ms();
        Ok(match session_state(data, user.role, &grants, now) {
            SessionState::Ended => Resumed::Ended,
            SessionState::Active { touch } => Resumed::Active {
                identity: identity(&user),
                touched: touch.then(|| SessionData { last_seen_ms: now, ..data.clone() }),
                access_ends_ms: super::guard::latest_active_end(&grants, now),
            },
        })
    }

    pub async fn record_sign_out(&self, actor: Actor<'_>) -> AppResult<()> {
        let (caller, _) = actor.person()?;
        self.record(Event::by(caller, Action::AuthLogout, Outcome::Ok)).await?;
        Ok(())
    }

    /// The person an API token belongs to and what it may do, if it is a token this server issued
    /// that is neither revoked nor expired, of an account that is not disabled.
    pub async fn identity_for_token(&self, token: &str) -> AppResult<Option<(Identity, TokenAccess)>> {
        let Some((user, token)) = self.store.token_by_digest(&auth::token_digest(token)).await? else {
            return Ok(None);
        };
        let now = self.clock.now_ms();
        if token.revoked_at.is_some() || now >= token.expires_at || user.disabled_at.is_some() {
            return Ok(None);
        }
        // A token gives no more than its account may do now (a role may have changed).
        let scopes = Scope::split(&token.scopes).into_iter().filter(|scope| scope.fits(user.role)).collect();
        Ok(Some((identity(&user), TokenAccess { id: token.id, scopes })))
    }

    /// The caller's own account page: their live sessions, the current one marked.
    pub async fn own_account(&self, actor: Actor<'_>) -> AppResult<AccountPage> {
        let (caller, identity) = actor.person()?;
        let Some(user) = self.store.user_by_id(identity.user_id).await? else {
            return Err(AppError::Unauthorized);
        };
        let now = self.clock.now_ms();
        let mut sessions: Vec<SessionSummary> = self
            .store
            .sessions_of(user.id, now)
            .await?
            .into_iter()
            .filter_map(|stored| {
                let data: SessionData = serde_json::from_value(stored.data).ok()?;
                let live = now < data.expires_at() && data.started_ms >= user.sessions_after;
                live.then(|| SessionSummary {
                    fingerprint: stored.stored_id[..16.min(stored.stored_id.len())].to_string(),
                    started_at_ms: data.started_ms,
                    last_seen_at_ms: data.last_seen_ms,
                    client: data.client,
                    agent: data.agent,
                    current: caller.session.as_deref().is_some_and(|own| stored.stored_id.starts_with(own)),
                })
            })
            .collect();
        sessions.sort_by_key(|s| (!s.current, -s.last_seen_at_ms));
        let pending = self.store.totp_pending(user.id).await?;
        let pending = pending.and_then(|stored| self.sealing.open(user.id, Column::Pending, &stored).ok());
        let setup = match (&user.totp_secret, pending) {
            (None, Some(secret)) => auth::totp::provisioning_uri(&secret, &user.username).map(|uri| (secret, uri)),
            _ => None,
        };
        Ok(AccountPage {
            username: user.username,
            role: user.role,
            sessions,
            second_factor: user.totp_secret.is_some(),
            second_factor_qr_svg: setup.as_ref().and_then(|(_, uri)| auth::totp::qr_svg(uri)),
            second_factor_setup: setup,
        })
    }

    /// Starts setting up a second factor for the caller, who confirms it with their password (a
    /// stolen session could otherwise tie the account to the thief's authenticator): a new secret
    /// waits for a code from it.
    pub async fn start_second_factor(&self, actor: Actor<'_>, password: Password) -> AppResult<()> {
        let (caller, identity) = actor.person()?;
        if caller.token.is_some() {
            return Err(AppError::Forbidden("a second factor is set up by its owner, signed in".into()));
        }
        let user = self.store.user_by_id(identity.user_id).await?.ok_or(AppError::Unauthorized)?;
        if user.totp_secret.is_some() {
            return Err(AppError::Conflict("a second factor is already set up".into()));
        }
        self.check_own_password(caller, &user, password, Action::UserSecondFactor).await?;
        let sealed = self.sealing.seal(user.id, Column::Pending, &auth::totp::new_secret());
        Ok(self.store.set_totp_pending(user.id, &sealed).await?)
    }

    /// Confirms the second factor being set up with a code from it; from then on sign-in asks for one.
    pub async fn confirm_second_factor(&self, actor: Actor<'_>, code: &str) -> AppResult<()> {
        let (_, identity) = actor.person()?;
        let pending = self
            .store
            .totp_pending(identity.user_id)
            .await?
            .ok_or_else(|| AppError::Invalid("start setting up a second factor first".into()))?;
        let pending = self.sealing.open(identity.user_id, Column::Pending, &pending).map_err(|_| {
            AppError::Invalid("the second factor being set up cannot be read here: start setting it up again".into())
        })?;
        let secret = self.sealing.seal(identity.user_id, Column::Secret, &pending);
        let step = auth::totp::verify(&pending, code, self.clock.now_ms(), 0).ok_or_else(|| {
            AppError::Invalid("that code is not the authenticator's current one; try the next".into())
        })?;
        self.write(async |tx| {
            users::set_totp_secret(tx.conn(), identity.user_id, Some(&secret), step).await?;
            tx.append(&actor.event(Action::UserSecondFactor).with(json!({ "enabled": true }))).await?;
            Ok(())
        })
        .await
    }

    /// Sets up a second factor for an account at the command line (staff on a server that
    /// requires one sign in with it from the start); the secret and URI are returned to print once.
    pub async fn enrol_second_factor(&self, actor: Actor<'_>, username: &str) -> AppResult<(String, String)> {
        super::guard::require(&actor, super::guard::Permission::Administer)?;
        let user = self.user_named(username).await?;
        let secret = auth::totp::new_secret();
        let uri = auth::totp::provisioning_uri(&secret, &user.username)
            .ok_or_else(|| AppError::Invalid("that account name cannot label an authenticator entry".into()))?;
        let sealed = self.sealing.seal(user.id, Column::Secret, &secret);
        self.write(async |tx| {
            users::set_totp_secret(tx.conn(), user.id, Some(&sealed), 0).await?;
            let details = json!({ "username": user.username, "enabled": true });
            tx.append(&actor.event(Action::UserSecondFactor).with(details)).await?;
            Ok(())
        })
        .await?;
        Ok((secret, uri))
    }

    /// Removes an account's second factor (its owner lost the device): staff or the operator.
    pub async fn reset_second_factor(&self, actor: Actor<'_>, username: &str) -> AppResult<()> {
        super::guard::require(&actor, super::guard::Permission::Administer)?;
        let user = self.user_named(username).await?;
        if user.totp_secret.is_none() {
            return Err(AppError::Conflict(format!("{username} has no second factor to remove")));
        }
        self.write(async |tx| {
            users::set_totp_secret(tx.conn(), user.id, None, 0).await?;
            let details = json!({ "username": user.username, "enabled": false });
            tx.append(&actor.event(Action::UserSecondFactor).with(details)).await?;
            Ok(())
        })
        .await
    }

    /// Ends one of the caller's other sessions, named by its fingerprint (as the account page
    /// lists it); this one is ended by signing out.
    pub async fn end_own_session(&self, actor: Actor<'_>, fingerprint: &str) -> AppResult<()> {
        let (_, identity) = actor.person()?;
        let current = self.current_stored_id(actor).await?;
        if fingerprint.len() != 16 || !fingerprint.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(AppError::Invalid("a session is named by its 16-digit fingerprint".into()));
        }
        if current.starts_with(fingerprint) {
            return Err(AppError::Invalid("this is the session you are using: sign out to end it".into()));
        }
        let sessions = self.store.sessions_of(identity.user_id, 0).await?;
        let Some(stored) = sessions.into_iter().map(|s| s.stored_id).find(|id| id.starts_with(fingerprint)) else {
            return Err(AppError::NotFound("you have no session with that fingerprint".into()));
        };
        self.write(async |tx| {
            users::end_session(tx.conn(), identity.user_id, &stored).await?;
            tx.append(&actor.event(Action::SessionEndOne).with(json!({ "session": fingerprint }))).await?;
            Ok(())
        })
        .await
    }

    /// Signs the caller out everywhere but here.
    pub async fn end_other_sessions(&self, actor: Actor<'_>) -> AppResult<u64> {
        let (_, identity) = actor.person()?;
        let current = self.current_stored_id(actor).await?;
        self.write(async |tx| {
            let ended = users::end_other_sessions_of(tx.conn(), identity.user_id, &current).await?;
            tx.append(&actor.event(Action::SessionEndOthers).with(json!({ "sessions_ended": ended }))).await?;
            Ok(ended)
        })
        .await
    }

    /// Changes the caller's password after checking the current one; every other session of the
    /// account ends (whoever learnt the old password is signed out).
    pub async fn change_password(&self, actor: Actor<'_>, current: Password, new: Password) -> AppResult<u64> {
        let (caller, identity) = actor.person()?;
        if caller.token.is_some() {
            return Err(AppError::Forbidden("a password is changed by its owner, signed in".into()));
        }
        let user = self.store.user_by_id(identity.user_id).await?.ok_or(AppError::Unauthorized)?;
        self.check_own_password(caller, &user, current, Action::UserPasswordChange).await?;
        let hash = auth::hash_password(new, &user.username).await?;
        let keep = self.current_stored_id(actor).await?;
        self.write(async |tx| {
            users::set_password_hash(tx.conn(), user.id, &hash).await?;
            let ended = users::end_other_sessions_of(tx.conn(), user.id, &keep).await?;
            tx.append(&actor.event(Action::UserPasswordChange).with(json!({ "sessions_ended": ended }))).await?;
            Ok(ended)
        })
        .await
    }

    /// Checks the password a signed-in person typed to confirm a change to their account (a
    /// password change, a second factor), so that a stolen session cannot make it. Guessing counts
    /// against the same hourly limit as sign-in, is refused while the account is locked, and each
    /// wrong guess is recorded as the refused `action`.
    async fn check_own_password(
        &self,
        caller: &Caller,
        user: &crate::store::users::UserRecord,
        typed: Password,
        action: Action,
    ) -> AppResult<()> {
        let now = self.clock.now_ms();
        if self.store.login_locked_until(&user.username, now).await?.is_some() {
            return Err(AppError::Forbidden("too many wrong passwords for this account; try again later".into()));
        }
        if !auth::verify_password(Some(user.password_hash.clone()), typed).await? {
            self.record(Event::by(caller, action, Outcome::Denied)).await?;
            self.store.count_login_failure(&user.username, now, LOGIN_FAILURES_PER_HOUR, LOCK_MS).await?;
            return Err(AppError::Forbidden("the current password is not right".into()));
        }
        Ok(())
    }

    /// The stored id of the caller's session (its fingerprint is the stored id's first 16 hex digits).
    async fn current_stored_id(&self, actor: Actor<'_>) -> AppResult<String> {
        let (caller, identity) = actor.person()?;
        let fingerprint = caller
            .session
            .as_deref()
            .filter(|_| caller.token.is_none())
            .ok_or_else(|| AppError::Forbidden("sessions are managed from a signed-in browser".into()))?;
        let sessions = self.store.sessions_of(identity.user_id, 0).await?;
        sessions.into_iter().map(|s| s.stored_id).find(|id| id.starts_with(fingerprint)).ok_or(AppError::Unauthorized)
    }
}
