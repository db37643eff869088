//! The guard's rules about sessions: when a session ends (idle, absolute, or with a reviewer's
//! last grant) and when its activity is written back. Pure functions of the session's data, the
//! role, the grants and the clock's `now`.

use super::rules::latest_active_end;
use crate::store::grants::GrantWindow;
use app::model::Role;
use serde::{Deserialize, Serialize};

/// A session is over after this long without a request.
pub const IDLE_MS: i64 = 30 * 60_000;
/// And this long after sign-in, whatever its activity.
pub const ABSOLUTE_MS: i64 = 12 * 3_600_000;
/// Activity is written back at most this often, not on every request.
pub const TOUCH_MS: i64 = 60_000;

/// What a session holds, typed; the HTTP layer stores it as one value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionData {
    pub user_id: i64,
    /// The anti-forgery token every state-changing form echoes.
    pub csrf: String,
    pub started_ms: i64,
    pub last_seen_ms: i64,
    /// For reviewers: whether a grant was active at sign-in (then losing every grant ends it).
    pub had_grants: bool,
    /// The client address at sign-in, shown in the person's list of their sessions.
    #[serde(default)]
    pub client: String,
    /// The browser and system at sign-in, in a few words (`Firefox on Linux`), for the same list.
    #[serde(default)]
    pub agent: String,
}

impl SessionData {
    /// When the session ends if nothing happens: idle timeout or absolute end, whichever is first.
    pub fn expires_at(&self) -> i64 {
        (self.last_seen_ms + IDLE_MS).min(self.started_ms + ABSOLUTE_MS)
    }
}

/// A session's state at a request.
#[derive(Debug, PartialEq, Eq)]
pub enum SessionState {
    Ended,
    /// Still on; `touch` when its activity should be written back.
    Active {
        touch: bool,
    },
}

/// Decides whether a session goes on at `now`: not past the idle timeout or the absolute end, and
/// for a reviewer who had a grant at sign-in, some grant still active (revocation and the end of
/// the window both end it).
pub fn session_state(data: &SessionData, role: Role, grants: &[GrantWindow], now: i64) -> SessionState {
    let lost_every_grant = role == Role::Reviewer && data.had_grants && latest_active_end(grants, now).is_none();
    if now >= data.expires_at() || lost_every_grant {
        return SessionState::Ended;
    }
    SessionState::Active { touch: now - data.last_seen_ms >= TOUCH_MS }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn grant(starts_at: i64, ends_at: i64, revoked_at: Option<i64>) -> GrantWindow {
        GrantWindow { id: 1, pin_id: 1, starts_at, ends_at, revoked_at, paths: None }
    }

    fn session(started_ms: i64, last_seen_ms: i64, had_grants: bool) -> SessionData {
        SessionData {
            user_id: 1,
            csrf: "t".into(),
            started_ms,
            last_seen_ms,
            had_grants,
            client: String::new(),
            agent: String::new(),
        }
    }

    #[test]
    fn a_session_ends_after_thirty_idle_minutes_and_slides_with_activity() {
        let data = session(0, 0, false);
        assert_eq!(session_state(&data, Role::Staff, &[], IDLE_MS - 1), SessionState::Active { touch: true });
        assert_eq!(session_state(&data, Role::Staff, &[], IDLE_MS), SessionState::Ended);
        assert_eq!(session_state(&data, Role::Staff, &[], TOUCH_MS - 1), SessionState::Active { touch: false });
        let active_later = session(0, 25 * 60_000, false);
        assert_eq!(session_state(&active_later, Role::Staff, &[], 31 * 60_000), SessionState::Active { touch: true });
    }

    #[test]
    fn a_session_ends_twelve_hours_after_sign_in_whatever_its_activity() {
        let busy = session(0, ABSOLUTE_MS - 1_000, false);
        assert_eq!(session_state(&busy, Role::Regulator, &[], ABSOLUTE_MS - 1), SessionState::Active { touch: false });
        assert_eq!(session_state(&busy, Role::Regulator, &[], ABSOLUTE_MS), SessionState::Ended);
    }

    #[test]
    fn a_reviewers_session_ends_with_their_last_grant() {
        let data = session(0, HOUR, true);
        let grants = [grant(0, 2 * HOUR, None)];
        assert_eq!(session_state(&data, Role::Reviewer, &grants, HOUR + 1), SessionState::Active { touch: false });
        assert_eq!(session_state(&data, Role::Reviewer, &grants, 2 * HOUR), SessionState::Ended, "window over");
        let revoked = [grant(0, 2 * HOUR, Some(HOUR))];
        assert_eq!(session_state(&data, Role::Reviewer, &revoked, HOUR + 1), SessionState::Ended, "revoked");
        let without = session(0, HOUR, false);
        assert_eq!(
            session_state(&without, Role::Reviewer, &[], HOUR + 1),
            SessionState::Active { touch: false },
            "a reviewer who had no grant at sign-in keeps an (empty) session"
        );
    }
}
