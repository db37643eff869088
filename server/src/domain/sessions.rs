//! Signing in and out, resuming a session on each request, and API tokens. The rules for how long a
//! session lives are the guard's (`guard::session_state`); this module applies them.

use super::guard::{latest_active_end, session_state, SessionData, SessionState};
use super::Domain;
use crate::audit::{Event, Outcome};
use crate::auth::{self, Password};
use crate::store::users::UserRecord;
use app::error::AppResult;
use app::model::{Caller, Identity, Role};
use serde_json::json;

/// The outcome of resuming a session at a request.
pub enum Resumed {
    /// The session is over (idle, past its end, grants gone, account gone): it must be dropped.
    Ended,
    /// Still on, as this person; `touched` is the session to write back when activity is recorded.
    Active { identity: Identity, touched: Option<SessionData> },
}

fn identity(user: &UserRecord) -> Identity {
    Identity { user_id: user.id, username: user.username.clone(), role: user.role }
}

impl Domain {
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
    /// name typed — never the text itself.
    pub async fn sign_in(&self, client: &str, username: &str, password: Password) -> AppResult<Option<SessionData>> {
        let user = match auth::parse_username(username) {
            Ok(name) => self.store.user_by_name(&name).await?,
            Err(_) => None,
        };
        let ok = auth::verify_password(user.as_ref().map(|u| u.password_hash.clone()), password).await?;
        let user_named = user.as_ref().map(|u| u.username.clone());
        let caller = Caller { identity: None, session: None, client_address: client.to_string(), csrf_token: None };
        // Builder accounts (CI systems, rebuilders) work through API tokens only, never a session.
        let user = user.filter(|u| ok && u.role != Role::Builder);
        let event = match &user {
            Some(user) => {
                let mut event = Event::by(&caller, "auth.login", Outcome::Ok);
                event.actor = Some(user.username.clone());
                event.role = Some(user.role.as_str());
                event
            }
            // The name typed is never stored: it may be a password typed in the wrong field. An
            // existing account is named (that is no secret); any other name only as a keyed hash, so
            // that repeated attempts with one name can be told apart without revealing it.
            None => {
                let details = match &user_named {
                    Some(account) => json!({ "account": account, "known": true }),
                    None => json!({ "known": false, "name_hash": self.keyed_name_hash(username) }),
                };
                Event::by(&caller, "auth.login_failed", Outcome::Denied).with(details)
            }
        };
        self.record(event).await?;
        let Some(user) = user else { return Ok(None) };
        let now = self.clock.now_ms();
        let had_grants = match user.role {
            Role::Reviewer => latest_active_end(&self.store.grants_of(user.id).await?, now).is_some(),
            _ => false,
        };
        Ok(Some(SessionData {
            user_id: user.id,
            csrf: auth::new_csrf_token(),
            started_ms: now,
            last_seen_ms: now,
            had_grants,
        }))
    }

    /// Resumes a session at a request: ends it when the guard says so, and marks activity at most
    /// once a minute (so reading does not write to the database on every request).
    pub async fn resume_session(&self, data: &SessionData) -> AppResult<Resumed> {
        let Some(user) = self.store.user_by_id(data.user_id).await? else { return Ok(Resumed::Ended) };
        let grants = match user.role {
            Role::Reviewer => self.store.grants_of(user.id).await?,
            _ => Vec::new(),
        };
        let now = self.clock.now_ms();
        Ok(match session_state(data, user.role, &grants, now) {
            SessionState::Ended => Resumed::Ended,
            SessionState::Active { touch } => Resumed::Active {
                identity: identity(&user),
                touched: touch.then(|| SessionData { last_seen_ms: now, ..data.clone() }),
            },
        })
    }

    pub async fn record_sign_out(&self, caller: &Caller) -> AppResult<()> {
        self.record(Event::by(caller, "auth.logout", Outcome::Ok)).await?;
        Ok(())
    }

    /// The person an API token belongs to, if it is a token this server issued.
    pub async fn identity_for_token(&self, token: &str) -> AppResult<Option<Identity>> {
        Ok(self.store.user_by_token_digest(&auth::token_digest(token)).await?.as_ref().map(identity))
    }
}
