//! The guard: the one place where authorisation is decided. Who is acting (a signed-in person, the
//! operator at the command line, or the server's own job), what each role may do, whether a pin may
//! be read now (grant windows, revocation, withdrawn pins), and when a session ends. The rules are
//! pure functions of their inputs and the clock's `now`, so each edge is unit-tested.

use super::Domain;
use crate::audit::Action;
use crate::audit::{Event, Object, Outcome};
use crate::source::PinLocation;
use crate::store::grants::GrantWindow;
use crate::store::pins::PinRecord;
use app::error::{AppError, AppResult};
use app::model::{Caller, Identity, PinId, RepoPath, Role, Scope};
use serde::{Deserialize, Serialize};

/// Who performs an operation.
#[derive(Clone, Copy, Debug)]
pub enum Actor<'a> {
    /// A person, through a session or an API token.
    Web(&'a Caller),
    /// The operator at the command line (acts as staff).
    Operator,
    /// The server's own background job, named.
    System(&'static str),
}

impl Actor<'_> {
    /// An event by this actor.
    pub fn event(&self, action: Action) -> Event {
        match self {
            Actor::Web(caller) => Event::by(caller, action, Outcome::Ok),
            Actor::Operator => Event::by_operator(action),
            Actor::System(job) => Event::by_system(job, action),
        }
    }

    /// The acting person's account, if a person acts.
    pub fn user_id(&self) -> Option<i64> {
        self.identity().map(|identity| identity.user_id)
    }

    pub fn identity(&self) -> Option<&Identity> {
        match self {
            Actor::Web(caller) => caller.identity.as_ref(),
            _ => None,
        }
    }
}

/// What an operation needs the actor to be allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    /// Accounts, repositories, pins, grants, tokens.
    Administer,
    /// The audit log, its checkpoints and proofs.
    ReadLog,
    /// Pinned source and review records, subject to the pin's grants (`pin_access`).
    ReadSource,
    /// Build records for a pin (staff, and builders through their token).
    RecordBuild,
    /// Export bundles of review records (staff and regulators).
    Export,
    /// Changing one's own review records (editing a comment), pin rules aside.
    TakePart,
    /// Issuing a signed review summary for a pin's binaries (staff, or staff's `build:write` token).
    Attest,
    /// Watching the server run: background jobs, metrics (staff, or staff's `ops:read` token).
    Monitor,
}

impl Permission {
    /// The role table: staff may do everything; regulators read the log and, with a grant, source;
    /// reviewers read source with a grant; builders record builds and read nothing else.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Permission::Administer => role == Role::Staff,
            Permission::ReadLog => matches!(role, Role::Staff | Role::Regulator),
            Permission::ReadSource => role != Role::Builder,
            Permission::RecordBuild => matches!(role, Role::Staff | Role::Builder),
            Permission::Export => matches!(role, Role::Staff | Role::Regulator),
            Permission::TakePart => role != Role::Builder,
            Permission::Attest | Permission::Monitor => role == Role::Staff,
        }
    }

    fn refusal(self) -> &'static str {
        match self {
            Permission::Administer => "only staff may do this",
            Permission::ReadLog => "only staff and regulators may read the audit log",
            Permission::ReadSource => "you may not read source",
            Permission::RecordBuild => "only staff and builders may record builds",
            Permission::Export => "only staff and regulators may export review records",
            Permission::TakePart => "builders take no part in reviews",
            Permission::Attest => "only staff may issue review summaries",
            Permission::Monitor => "only staff may watch the server's operations",
        }
    }
}

impl Permission {
    /// The scope an API token needs for this; `None`: no token may do it (a token never reads
    /// source and never administers).
    pub fn scope(self) -> Option<Scope> {
        match self {
            Permission::Administer | Permission::ReadSource => None,
            Permission::ReadLog => Some(Scope::LogRead),
            Permission::RecordBuild | Permission::Attest => Some(Scope::BuildWrite),
            Permission::Export => Some(Scope::Export),
            Permission::TakePart => Some(Scope::Review),
            Permission::Monitor => Some(Scope::OpsRead),
        }
    }
}

/// Refuses unless the actor may do `what`: its role allows it and, through an API token, the
/// token's scopes do too. The operator and the server's own jobs act as staff.
pub fn require(actor: &Actor<'_>, what: Permission) -> AppResult<()> {
    require_role(actor, what)?;
    match actor {
        Actor::Web(caller) => token_allows(caller, what.scope()),
        _ => Ok(()),
    }
}

/// The role half of `require` alone (for uses whose token rule is not a permission's: `pin_use`).
fn require_role(actor: &Actor<'_>, what: Permission) -> AppResult<()> {
    match actor {
        Actor::Operator | Actor::System(_) => Ok(()),
        Actor::Web(caller) => match &caller.identity {
            None => Err(AppError::Unauthorized),
            Some(identity) if what.allows(identity.role) => Ok(()),
            Some(_) => Err(AppError::Forbidden(what.refusal().into())),
        },
    }
}

/// Whether the caller's API token (if the request came with one) holds `needed`; `None`: no token
/// may do this at all.
pub fn token_allows(caller: &Caller, needed: Option<Scope>) -> AppResult<()> {
    let Some(token) = &caller.token else { return Ok(()) };
    match needed {
        Some(scope) if token.scopes.contains(&scope) => Ok(()),
        Some(scope) => Err(AppError::Forbidden(format!("this API token lacks the {} scope", scope.as_str()))),
        None => Err(AppError::Forbidden(
            "an API token cannot do this: source is read, and accounts are managed, by people signed in".into(),
        )),
    }
}

/// The scope a token needs to use a pin so (`None`: no token may).
pub fn usage_scope(usage: PinUse) -> Option<Scope> {
    match usage {
        PinUse::ReadSource => None,
        PinUse::ReadReview | PinUse::Review => Some(Scope::Review),
    }
}

/// The signed-in person, or `Unauthorized`.
pub fn signed_in(caller: &Caller) -> AppResult<&Identity> {
    caller.identity.as_ref().ok_or(AppError::Unauthorized)
}

/// Whether a grant lets its holder in at `now`: started, not ended, not revoked.
pub fn grant_is_active_at(grant: &GrantWindow, now: i64) -> bool {
    grant.revoked_at.is_none() && grant.starts_at <= now && now < grant.ends_at
}

/// The latest end among the grants active at `now`, if any is.
pub fn latest_active_end(grants: &[GrantWindow], now: i64) -> Option<i64> {
    grants.iter().filter(|g| grant_is_active_at(g, now)).map(|g| g.ends_at).max()
}

/// What a pin is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinUse {
    /// Reading its source.
    ReadSource,
    /// Reading its review records: comments, coverage, verdicts (no source).
    ReadReview,
    /// Taking part in its review: commenting, marking, giving a verdict, answering.
    Review,
}

/// Whether a role may use a pin so at `now`: `Some(None)` without an end, `Some(Some(end))` until a
/// grant's end, `None` not at all. Staff use every pin, withdrawn ones included (their part in a
/// review is answering). Regulators oversee every pin's review records, and read source only with an
/// active grant. Reviewers need an active grant for everything. Nobody but staff uses a withdrawn
/// pin.
pub fn pin_permitted(
    role: Role,
    usage: PinUse,
    withdrawn: bool,
    grants: &[GrantWindow],
    now: i64,
) -> Option<Option<i64>> {
    match (role, usage) {
        (Role::Staff, _) => Some(None),
        (Role::Builder, _) => None,
        (Role::Regulator, PinUse::ReadReview) => Some(None),
        (Role::Regulator, PinUse::Review) => None,
        (Role::Reviewer | Role::Regulator, _) if withdrawn => None,
        (Role::Reviewer | Role::Regulator, _) => latest_active_end(grants, now).map(Some),
    }
}

/// Whether a role may read a pin's source at `now` (see `pin_permitted`).
pub fn pin_readable(role: Role, withdrawn: bool, grants: &[GrantWindow], now: i64) -> Option<Option<i64>> {
    pin_permitted(role, PinUse::ReadSource, withdrawn, grants, now)
}

/// A pin the actor may read, and until when (for a person with a grant).
pub struct PinAccess {
    pub record: PinRecord,
    pub ends_at: Option<i64>,
    /// The grants of the person access was decided for, on this pin, as read for the decision
    /// (`None` where none were read: staff, operators, jobs), so that a request decides once.
    pub grants: Option<(i64, Vec<GrantWindow>)>,
}

impl PinAccess {
    pub fn pin(&self) -> PinId {
        PinId::from_stored(self.record.id)
    }

    pub fn location(&self) -> PinLocation {
        PinLocation {
            pin: self.pin(),
            repository: self.record.repository.clone(),
            tree_id: self.record.tree_id.clone(),
        }
    }

    /// An event object for a path at this pin.
    pub fn object(&self, path: &RepoPath) -> Object {
        Object::at(self.pin(), Some(&self.record.commit_id), path)
    }
}

// Sessions ------------------------------------------------------------------------------------

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

impl Domain {
    /// Decides whether the actor may read source at `pin` now; a refusal is recorded (and answered
    /// as "no such pin", so that refusals do not tell which pins exist).
    pub(super) async fn pin_access(&self, actor: &Actor<'_>, pin: PinId) -> AppResult<PinAccess> {
        self.pin_use(actor, pin, PinUse::ReadSource).await
    }

    /// Decides whether the actor may use `pin` so now, recording a refusal as `pin_access` does.
    pub(super) async fn pin_use(&self, actor: &Actor<'_>, pin: PinId, usage: PinUse) -> AppResult<PinAccess> {
        require_role(actor, Permission::ReadSource)?;
        if let Actor::Web(caller) = actor {
            if let Err(refusal) = token_allows(caller, usage_scope(usage)) {
                let event = actor
                    .event(Action::AccessDenied)
                    .outcome(Outcome::Denied)
                    .on(Object::at(pin, None, &RepoPath::root()))
                    .with(serde_json::json!({ "reason": "api token" }));
                self.record(event).await?;
                return Err(refusal);
            }
        }
        // The pin and the person's grants for it are one query (staff's are not read).
        let (record, grants) = match actor.identity() {
            Some(identity) if identity.role != Role::Staff => {
                match self.store.pin_and_grants(pin.get(), identity.user_id).await? {
                    Some((record, grants)) => (Some(record), grants),
                    None => (None, Vec::new()),
                }
            }
            _ => (self.store.pin(pin.get()).await?, Vec::new()),
        };
        let now = self.clock.now_ms();
        let mut read = None;
        let readable = match (&record, actor.identity()) {
            (None, _) => None,
            (Some(_), None) => Some(None),
            (Some(record), Some(identity)) => {
                let permitted = pin_permitted(identity.role, usage, record.withdrawn_at.is_some(), &grants, now);
                read = Some((identity.user_id, grants));
                permitted
            }
        };
        match (record, readable) {
            (Some(record), Some(ends_at)) => Ok(PinAccess { record, ends_at, grants: read }),
            (record, _) => {
                let commit = record.as_ref().map(|r| r.commit_id.as_str());
                let event = actor.event(Action::AccessDenied).outcome(Outcome::Denied).on(Object::at(
                    pin,
                    commit,
                    &RepoPath::root(),
                ));
                self.record(event).await?;
                Err(AppError::NotFound("there is no such pin, or you have no access to it".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn grant(starts_at: i64, ends_at: i64, revoked_at: Option<i64>) -> GrantWindow {
        GrantWindow { id: 1, pin_id: 1, starts_at, ends_at, revoked_at }
    }

    #[test]
    fn a_grant_is_active_from_its_start_until_just_before_its_end() {
        let window = grant(10 * HOUR, 12 * HOUR, None);
        assert!(!grant_is_active_at(&window, 10 * HOUR - 1));
        assert!(grant_is_active_at(&window, 10 * HOUR));
        assert!(grant_is_active_at(&window, 12 * HOUR - 1));
        assert!(!grant_is_active_at(&window, 12 * HOUR));
        assert!(!grant_is_active_at(&grant(10 * HOUR, 12 * HOUR, Some(11 * HOUR)), 10 * HOUR + 1));
    }

    #[test]
    fn each_role_reads_a_pin_by_its_own_rule() {
        let active = [grant(0, 2 * HOUR, None)];
        let revoked = [grant(0, 2 * HOUR, Some(HOUR))];
        let later = [grant(3 * HOUR, 4 * HOUR, None)];
        let now = HOUR;
        for role in [Role::Reviewer, Role::Regulator] {
            assert_eq!(pin_readable(role, false, &active, now), Some(Some(2 * HOUR)), "{role:?} with a grant");
            assert_eq!(pin_readable(role, false, &[], now), None, "{role:?} without a grant");
            assert_eq!(pin_readable(role, false, &revoked, now), None, "{role:?} revoked");
            assert_eq!(pin_readable(role, false, &later, now), None, "{role:?} before the window");
            assert_eq!(pin_readable(role, false, &active, 2 * HOUR), None, "{role:?} at the end");
            assert_eq!(pin_readable(role, true, &active, now), None, "{role:?} withdrawn pin");
        }
        for withdrawn in [false, true] {
            assert_eq!(pin_readable(Role::Staff, withdrawn, &[], now), Some(None), "staff read every pin");
        }
    }

    #[test]
    fn regulators_oversee_review_records_without_a_grant_but_never_take_part() {
        let now = HOUR;
        assert_eq!(pin_permitted(Role::Regulator, PinUse::ReadReview, true, &[], now), Some(None));
        assert_eq!(pin_permitted(Role::Regulator, PinUse::Review, false, &[grant(0, 2 * HOUR, None)], now), None);
        assert_eq!(pin_permitted(Role::Reviewer, PinUse::ReadReview, false, &[], now), None);
        assert_eq!(
            pin_permitted(Role::Reviewer, PinUse::Review, false, &[grant(0, 2 * HOUR, None)], now),
            Some(Some(2 * HOUR))
        );
        assert_eq!(pin_permitted(Role::Reviewer, PinUse::Review, true, &[grant(0, 2 * HOUR, None)], now), None);
        assert_eq!(pin_permitted(Role::Staff, PinUse::Review, true, &[], now), Some(None));
    }

    #[test]
    fn the_latest_of_several_active_grants_counts() {
        let grants = [grant(0, 2 * HOUR, None), grant(0, 5 * HOUR, None), grant(0, 9 * HOUR, Some(1))];
        assert_eq!(latest_active_end(&grants, HOUR), Some(5 * HOUR));
        assert_eq!(latest_active_end(&grants, 5 * HOUR), None);
    }

    fn caller(role: Option<Role>) -> Caller {
        Caller {
            identity: role.map(|role| Identity { user_id: 1, username: "u".into(), role }),
            session: None,
            client_address: "127.0.0.1".into(),
            csrf_token: None,
            token: None,
            access_ends_ms: None,
        }
    }

    #[test]
    fn each_role_has_its_permissions_and_strangers_none() {
        let table = [
            (Role::Staff, [true, true, true, true]),
            (Role::Regulator, [false, true, true, false]),
            (Role::Reviewer, [false, false, true, false]),
            (Role::Builder, [false, false, false, true]),
        ];
        for (role, expected) in table {
            let who = caller(Some(role));
            let permissions =
                [Permission::Administer, Permission::ReadLog, Permission::ReadSource, Permission::RecordBuild];
            for (permission, allowed) in permissions.into_iter().zip(expected) {
                let answer = require(&Actor::Web(&who), permission);
                assert_eq!(answer.is_ok(), allowed, "{role:?} {permission:?}");
                if !allowed {
                    assert!(matches!(answer, Err(AppError::Forbidden(_))));
                }
            }
        }
        let stranger = caller(None);
        assert_eq!(require(&Actor::Web(&stranger), Permission::ReadSource), Err(AppError::Unauthorized));
        assert!(require(&Actor::Operator, Permission::Administer).is_ok());
    }

    #[test]
    fn a_token_does_what_its_scopes_and_its_role_both_allow_and_never_reads_source() {
        let mut staff = caller(Some(Role::Staff));
        staff.token = Some(app::model::TokenAccess { id: 1, scopes: vec![Scope::LogRead] });
        assert!(require(&Actor::Web(&staff), Permission::ReadLog).is_ok());
        for refused in [Permission::Export, Permission::RecordBuild, Permission::TakePart] {
            let answer = require(&Actor::Web(&staff), refused);
            assert!(
                matches!(&answer, Err(AppError::Forbidden(m)) if m.contains("lacks the")),
                "{refused:?}: {answer:?}"
            );
        }
        staff.token = Some(app::model::TokenAccess { id: 1, scopes: Scope::ALL.to_vec() });
        for never in [Permission::Administer, Permission::ReadSource] {
            assert!(matches!(require(&Actor::Web(&staff), never), Err(AppError::Forbidden(_))), "{never:?}");
        }
        assert!(token_allows(&staff, usage_scope(PinUse::ReadSource)).is_err());
        assert!(token_allows(&staff, usage_scope(PinUse::ReadReview)).is_ok());
        // A scope does not lift the role's limits.
        let mut reviewer = caller(Some(Role::Reviewer));
        reviewer.token = Some(app::model::TokenAccess { id: 2, scopes: Scope::ALL.to_vec() });
        assert!(require(&Actor::Web(&reviewer), Permission::ReadLog).is_err());
        // Without a token, the role alone decides.
        assert!(require(&Actor::Web(&caller(Some(Role::Staff))), Permission::ReadSource).is_ok());
        assert!(!Scope::LogRead.fits(Role::Reviewer) && Scope::Review.fits(Role::Reviewer));
        assert_eq!(Scope::split("export log:read bogus log:read"), vec![Scope::LogRead, Scope::Export]);
    }

    fn session(started_ms: i64, last_seen_ms: i64, had_grants: bool) -> SessionData {
        SessionData { user_id: 1, csrf: "t".into(), started_ms, last_seen_ms, had_grants, client: String::new() }
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
