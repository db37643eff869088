//! The guard: the one place where authorisation is decided. Who is acting (a signed-in person, the
//! operator at the command line, or the server's own job), what each role may do (`Permission`),
//! what a person may do at a pin now (`rules`: grant windows, revocation, withdrawn pins, the
//! take-away policy, who starts threads, marks and gives verdicts), who moves a thread's state and
//! sees a note (`threads`), and when a session ends (`sessions`). The rules are pure functions of
//! their inputs and the clock's `now`, so each edge is unit-tested; `Domain::pin_use` applies them
//! to a request and hands the operation a `PinPage` with the capabilities its page may offer.

pub mod rules;
pub mod scope;
pub mod scoped;
pub mod sessions;
pub mod threads;

use super::Core;
use crate::audit::Action;
use crate::audit::{Event, Object, Outcome};
use crate::source::PinLocation;
use crate::store::pins::PinRecord;
use app::error::{AppError, AppResult};
use app::model::{Caller, Capabilities, Identity, PinId, RepoPath, Role, Scope};

pub use rules::{
    artifact_records, capabilities, grant_is_active_at, latest_active_end, pin_permitted, pin_readable,
    ArtifactRecords, PinFacts, PinUse, Refusal,
};
pub use scope::PathScope;
pub use scoped::ScopeFilter;
pub use sessions::{session_state, SessionData, SessionState, ABSOLUTE_MS, IDLE_MS, TOUCH_MS};

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

    /// The signed-in person acting, with their request (its session, its anti-forgery token), or
    /// `Unauthorized`: for what only a person does (their own account and sessions, a page
    /// watermarked with their name). The operator and the server's jobs are refused.
    pub fn person(&self) -> AppResult<(&Caller, &Identity)> {
        match self {
            Actor::Web(caller) => Ok((caller, signed_in(caller)?)),
            _ => Err(AppError::Unauthorized),
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
    /// Setting a pin's build recipe and starting room builds (staff, or staff's `build:write` token).
    RunBuilds,
    /// Setting a repository's release policy and proposing releases (staff, or staff's `release`
    /// token).
    ManageReleases,
    /// Signing or objecting to a release's dossier (supervisors, or their `release` token).
    SignReleases,
}

impl Permission {
    /// The role table: staff may do everything; regulators read the log and, with a grant, source;
    /// supervisors as regulators, but export nothing; reviewers read source with a grant;
    /// builders record builds and read nothing else.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Permission::Administer => role == Role::Staff,
            Permission::ReadLog => role == Role::Staff || role.oversees(),
            Permission::ReadSource => role != Role::Builder,
            Permission::RecordBuild => matches!(role, Role::Staff | Role::Builder),
            Permission::Export => matches!(role, Role::Staff | Role::Regulator),
            Permission::TakePart => role != Role::Builder,
            Permission::SignReleases => role == Role::Supervisor,
            Permission::Attest | Permission::Monitor | Permission::RunBuilds | Permission::ManageReleases => {
                role == Role::Staff
            }
        }
    }

    fn refusal(self) -> &'static str {
        match self {
            Permission::Administer => "only staff may do this",
            Permission::ReadLog => "only staff, regulators and supervisors may read the audit log",
            Permission::ReadSource => "you may not read source",
            Permission::RecordBuild => "only staff and builders may record builds",
            Permission::Export => "only staff and regulators may export review records",
            Permission::TakePart => "builders take no part in reviews",
            Permission::Attest => "only staff may issue review summaries",
            Permission::Monitor => "only staff may watch the server's operations",
            Permission::RunBuilds => "only staff may set a build recipe or start a room build",
            Permission::ManageReleases => "only staff may set a release policy or propose a release",
            Permission::SignReleases => "only supervisors sign or object to releases",
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
            Permission::RecordBuild | Permission::Attest | Permission::RunBuilds => Some(Scope::BuildWrite),
            Permission::Export => Some(Scope::Export),
            Permission::TakePart => Some(Scope::Review),
            Permission::Monitor => Some(Scope::OpsRead),
            Permission::ManageReleases | Permission::SignReleases => Some(Scope::Release),
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

/// The signed-in person, or `Unauthorized`.
pub fn signed_in(caller: &Caller) -> AppResult<&Identity> {
    caller.identity.as_ref().ok_or(AppError::Unauthorized)
}

/// A pin the actor may use, decided once per request: the pin, until when (for a person with a
/// grant), and what the actor may do there (`caps`, which pages show controls from). Every
/// pin-scoped operation receives one from `Domain::pin_use`.
pub struct PinPage {
    pub record: PinRecord,
    pub ends_at: Option<i64>,
    pub caps: Capabilities,
    /// The paths the actor may read there (their active grants' patterns; staff: every path).
    pub scope: PathScope,
}

impl PinPage {
    /// A pin named in records the actor reads through another permission (a build recorded for
    /// it, an artifact looked up, a job's previous pin): no use of the pin is decided, so it
    /// offers nothing.
    pub fn named(record: PinRecord) -> PinPage {
        PinPage { record, ends_at: None, caps: Capabilities::default(), scope: PathScope::whole() }
    }

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

/// Refuses, before anything is read, a use the actor's role never makes (a regulator commenting,
/// staff giving a verdict); `pin_use` decides the rest.
pub fn require_use(actor: &Actor<'_>, usage: PinUse) -> AppResult<()> {
    match actor.identity().and_then(|identity| rules::role_refusal(identity.role, usage)) {
        None => Ok(()),
        Some(refusal) => Err(refusal_error(refusal)),
    }
}

fn refusal_error(refusal: Refusal) -> AppError {
    match refusal {
        Refusal::NoAccess => AppError::NotFound("there is no such pin, or you have no access to it".into()),
        Refusal::Role(reason) | Refusal::Policy(reason) => AppError::Forbidden(reason.into()),
        Refusal::NotSo(reason) => AppError::Invalid(reason.into()),
    }
}

impl Core {
    /// Decides whether the actor may read source at `pin` now; a refusal is recorded (and answered
    /// as "no such pin", so that refusals do not tell which pins exist).
    pub(super) async fn pin_access(&self, actor: &Actor<'_>, pin: PinId) -> AppResult<PinPage> {
        self.pin_use(actor, pin, PinUse::ReadSource).await
    }

    /// Decides whether the actor may use `pin` so now, by `rules::pin_permitted`. A refusal for the
    /// pin's grants or policy is recorded (`access.denied`); one for the role alone is not, since
    /// it says nothing about the pin.
    pub(super) async fn pin_use(&self, actor: &Actor<'_>, pin: PinId, usage: PinUse) -> AppResult<PinPage> {
        self.pin_use_at(actor, pin, usage, &RepoPath::root()).await
    }

    /// `pin_use` for a use of one path (a download): a refusal's event names that path.
    pub(super) async fn pin_use_at(
        &self,
        actor: &Actor<'_>,
        pin: PinId,
        usage: PinUse,
        path: &RepoPath,
    ) -> AppResult<PinPage> {
        require_role(actor, Permission::ReadSource)?;
        require_use(actor, usage)?;
        if let Actor::Web(caller) = actor {
            if let Err(refusal) = token_allows(caller, usage.token_scope()) {
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
        let Some(record) = record else {
            return Err(self.refuse(actor, Object::at(pin, None, path), Refusal::NoAccess, None).await?);
        };
        let facts = PinFacts::of(&record);
        let decided = match actor {
            Actor::Web(caller) => match &caller.identity {
                Some(identity) => pin_permitted(identity.role, usage, facts, &grants, now).map(|ends_at| {
                    let caps = capabilities(identity.role, facts, &grants, now, caller.token.as_ref());
                    (ends_at, caps, PathScope::of_grants(&grants, now))
                }),
                None => Err(Refusal::NoAccess),
            },
            // The operator and the server's own jobs act as staff.
            Actor::Operator | Actor::System(_) => Ok((None, rules::every_capability(), PathScope::whole())),
        };
        match decided {
            Ok((ends_at, caps, scope)) => Ok(PinPage { record, ends_at, caps, scope }),
            Err(refusal) => {
                let reason = match refusal {
                    Refusal::Policy(reason) => Some(reason),
                    _ => None,
                };
                Err(self.refuse(actor, Object::at(pin, Some(&record.commit_id), path), refusal, reason).await?)
            }
        }
    }

    /// How much of `record`'s records an artifact lookup shows the actor (`rules::artifact_records`).
    pub(super) async fn artifact_records_of(
        &self,
        actor: &Actor<'_>,
        record: &PinRecord,
    ) -> AppResult<ArtifactRecords> {
        let Actor::Web(caller) = actor else { return Ok(ArtifactRecords::Review) };
        let Some(identity) = &caller.identity else { return Ok(ArtifactRecords::Hidden) };
        let grants = match identity.role {
            Role::Reviewer | Role::Regulator | Role::Supervisor => {
                self.store.grants_of_for_pin(identity.user_id, record.id).await?
            }
            Role::Staff | Role::Builder => Vec::new(),
        };
        let now = self.clock.now_ms();
        let reads_review = pin_permitted(identity.role, PinUse::ReadReview, PinFacts::of(record), &grants, now).is_ok()
            && rules::token_permits(caller.token.as_ref(), PinUse::ReadReview);
        Ok(artifact_records(identity.role, reads_review))
    }

    /// Records a request refused for what it named at a pin (a path that is no file there, lines
    /// past a file's end) as `access.denied` on the object asked for, with the reason, so that
    /// probing which files exist leaves a trace; gives `error` back to answer with.
    pub(crate) async fn refuse_object(
        &self,
        actor: &Actor<'_>,
        object: Object,
        error: AppError,
    ) -> AppResult<AppError> {
        let reason = serde_json::json!({ "reason": error.to_string() });
        self.record(actor.event(Action::AccessDenied).outcome(Outcome::Denied).on(object).with(reason)).await?;
        Ok(error)
    }

    /// Records a refusal at a pin (`access.denied`, with its reason when it has one) and gives the
    /// error to answer with.
    async fn refuse(
        &self,
        actor: &Actor<'_>,
        object: Object,
        refusal: Refusal,
        reason: Option<&str>,
    ) -> AppResult<AppError> {
        let mut event = actor.event(Action::AccessDenied).outcome(Outcome::Denied).on(object);
        if let Some(reason) = reason {
            event = event.with(serde_json::json!({ "reason": reason }));
        }
        self.record(event).await?;
        Ok(refusal_error(refusal))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            (Role::Supervisor, [false, true, true, false]),
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
        assert!(token_allows(&staff, PinUse::ReadSource.token_scope()).is_err());
        assert!(token_allows(&staff, PinUse::ReadReview.token_scope()).is_ok());
        // A scope does not lift the role's limits.
        let mut reviewer = caller(Some(Role::Reviewer));
        reviewer.token = Some(app::model::TokenAccess { id: 2, scopes: Scope::ALL.to_vec() });
        assert!(require(&Actor::Web(&reviewer), Permission::ReadLog).is_err());
        // Without a token, the role alone decides.
        assert!(require(&Actor::Web(&caller(Some(Role::Staff))), Permission::ReadSource).is_ok());
        assert!(!Scope::LogRead.fits(Role::Reviewer) && Scope::Review.fits(Role::Reviewer));
        assert_eq!(Scope::split("export log:read bogus log:read"), vec![Scope::LogRead, Scope::Export]);
    }
}
