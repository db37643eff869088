//! The guard's rules about pins, as pure functions of the role, the pin's state and policy, the
//! person's grants and the clock's `now`: whether a grant is active, what each role may do at a pin
//! (read its source or its review records, start a thread, take part, mark, give a verdict,
//! download, copy), and the capabilities a page offers. Unit-tested at every window edge.
//!
//! A grant limited to paths narrows what is read, not whether the pin is: `scope.rs` works out the
//! person's `PathScope` from the same grants, handed to every operation in its `PinPage`.

use crate::store::grants::GrantWindow;
use crate::store::pins::PinRecord;
use app::model::{Capabilities, HistoryPolicy, Identity, Role, Scope, TokenAccess};

/// Whether a grant lets its holder in at `now`: started, not ended, not revoked.
pub fn grant_is_active_at(grant: &GrantWindow, now: i64) -> bool {
    grant.revoked_at.is_none() && grant.starts_at <= now && now < grant.ends_at
}

/// The latest end among the grants active at `now`, if any is.
pub fn latest_active_end(grants: &[GrantWindow], now: i64) -> Option<i64> {
    grants.iter().filter(|g| grant_is_active_at(g, now)).map(|g| g.ends_at).max()
}

impl PinFacts {
    /// A stored pin's state and policy, as the rules read them.
    pub fn of(record: &PinRecord) -> PinFacts {
        PinFacts {
            withdrawn: record.withdrawn_at.is_some(),
            no_download: record.no_download,
            no_copy: record.no_copy,
            history: record.history,
        }
    }
}

/// What a pin is used for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinUse {
    /// Reading its source.
    ReadSource,
    /// Reading its review records: comments, coverage, verdicts (no source).
    ReadReview,
    /// Taking part in its review: editing one's comments, moving a thread's state.
    Review,
    /// Starting a thread: a comment, a finding or a private note.
    StartThread,
    /// Replying to a thread.
    Reply,
    /// Marking a file reviewed (or unmarking it).
    MarkReviewed,
    /// Giving a verdict.
    GiveVerdict,
    /// Downloading a raw file (the pin's take-away policy).
    Download,
    /// Selecting and copying source in the page (the pin's take-away policy; the page enforces it).
    Copy,
    /// Reading the commits behind the pin and blaming its files (its history policy: `messages`).
    ReadHistory,
    /// Reading those commits' diffs (its history policy: `full`).
    ReadHistoryDiffs,
}

impl PinUse {
    /// Every use, for tables and tests.
    pub const ALL: [PinUse; 11] = [
        PinUse::ReadSource,
        PinUse::ReadReview,
        PinUse::Review,
        PinUse::StartThread,
        PinUse::Reply,
        PinUse::MarkReviewed,
        PinUse::GiveVerdict,
        PinUse::Download,
        PinUse::Copy,
        PinUse::ReadHistory,
        PinUse::ReadHistoryDiffs,
    ];

    /// The scope an API token needs to use a pin so (`None`: no token may).
    pub fn token_scope(self) -> Option<Scope> {
        match self {
            PinUse::ReadSource | PinUse::Download | PinUse::Copy | PinUse::ReadHistory | PinUse::ReadHistoryDiffs => {
                None
            }
            PinUse::ReadReview
            | PinUse::Review
            | PinUse::StartThread
            | PinUse::Reply
            | PinUse::MarkReviewed
            | PinUse::GiveVerdict => Some(Scope::Review),
        }
    }
}

/// What the guard knows of a pin when it decides: its state, its take-away and history policies.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinFacts {
    pub withdrawn: bool,
    pub no_download: bool,
    pub no_copy: bool,
    pub history: HistoryPolicy,
}

/// Why a use is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No access to the pin at all: answered as "no such pin", so refusals do not tell which pins
    /// exist.
    NoAccess,
    /// The role never does this, whatever the pin (403 with the reason).
    Role(&'static str),
    /// The role does this, but not so (400 with the reason: staff answer threads, they do not
    /// start them).
    NotSo(&'static str),
    /// The pin's take-away policy forbids it (403 with the reason; recorded).
    Policy(&'static str),
}

/// The part of the rule that depends on the role alone, decided before anything is read: `None`
/// when the role may use a pin so (given access), else why not.
pub fn role_refusal(role: Role, usage: PinUse) -> Option<Refusal> {
    const NOT_COMMENTERS: &str = "regulators oversee reviews; they do not comment";
    match (role, usage) {
        (Role::Regulator, PinUse::StartThread | PinUse::Reply) => Some(Refusal::Role(NOT_COMMENTERS)),
        (Role::Supervisor, PinUse::StartThread | PinUse::Reply) => {
            Some(Refusal::Role("supervisors authorise releases; they do not comment"))
        }
        (Role::Staff, PinUse::StartThread) => Some(Refusal::NotSo("staff answer threads; reviewers start them")),
        (Role::Staff | Role::Regulator | Role::Builder | Role::Supervisor, PinUse::MarkReviewed) => {
            Some(Refusal::Role("reviewers mark files reviewed"))
        }
        (Role::Staff | Role::Regulator | Role::Builder | Role::Supervisor, PinUse::GiveVerdict) => {
            Some(Refusal::Role("reviewers give verdicts"))
        }
        _ => None,
    }
}

/// Whether a role may use a pin so at `now`: `Ok(None)` without an end, `Ok(Some(end))` until a
/// grant's end, or why not. Staff use every pin, withdrawn ones included (their part in a review is
/// answering), and are not bound by the take-away policy. Regulators oversee every pin's review
/// records, and read source only with an active grant. Reviewers need an active grant for
/// everything. Nobody but staff uses a withdrawn pin; builders use none.
pub fn pin_permitted(
    role: Role,
    usage: PinUse,
    pin: PinFacts,
    grants: &[GrantWindow],
    now: i64,
) -> Result<Option<i64>, Refusal> {
    if let Some(refusal) = role_refusal(role, usage) {
        return Err(refusal);
    }
    let until = match (role, usage) {
        (Role::Staff, _) => return Ok(None),
        (Role::Builder, _) => return Err(Refusal::NoAccess),
        (Role::Regulator | Role::Supervisor, PinUse::ReadReview) => return Ok(None),
        (Role::Regulator | Role::Supervisor, PinUse::Review) => return Err(Refusal::NoAccess),
        (Role::Reviewer | Role::Regulator | Role::Supervisor, _) if pin.withdrawn => return Err(Refusal::NoAccess),
        (Role::Reviewer | Role::Regulator | Role::Supervisor, _) => {
            latest_active_end(grants, now).ok_or(Refusal::NoAccess)?
        }
    };
    match usage {
        PinUse::Download if pin.no_download => {
            Err(Refusal::Policy("downloads of this pin are disabled by staff; read the file in the browser"))
        }
        PinUse::Copy if pin.no_copy => Err(Refusal::Policy("copying from this pin is disabled by staff")),
        PinUse::ReadHistory if pin.history < HistoryPolicy::Messages => {
            Err(Refusal::Policy("the history behind this pin is not shown; staff decide what is"))
        }
        PinUse::ReadHistoryDiffs if pin.history < HistoryPolicy::Full => {
            Err(Refusal::Policy("the diffs of the commits behind this pin are not shown; staff decide what is"))
        }
        _ => Ok(Some(until)),
    }
}

/// Whether a role may read a pin's source at `now` (see `pin_permitted`).
pub fn pin_readable(role: Role, withdrawn: bool, grants: &[GrantWindow], now: i64) -> Option<Option<i64>> {
    let pin = PinFacts { withdrawn, ..PinFacts::default() };
    pin_permitted(role, PinUse::ReadSource, pin, grants, now).ok()
}

/// Whether an API token (if the request came with one) allows a pin use.
pub fn token_permits(token: Option<&TokenAccess>, usage: PinUse) -> bool {
    match (token, usage.token_scope()) {
        (None, _) => true,
        (Some(token), Some(scope)) => token.scopes.contains(&scope),
        (Some(_), None) => false,
    }
}

/// What a person may do at a pin now: every use decided by `pin_permitted` (and the token's
/// scopes), for the page to offer only those controls.
pub fn capabilities(
    role: Role,
    pin: PinFacts,
    grants: &[GrantWindow],
    now: i64,
    token: Option<&TokenAccess>,
) -> Capabilities {
    let may = |usage| pin_permitted(role, usage, pin, grants, now).is_ok() && token_permits(token, usage);
    Capabilities {
        read_source: may(PinUse::ReadSource),
        read_review: may(PinUse::ReadReview),
        start_thread: may(PinUse::StartThread),
        take_part: may(PinUse::Review),
        mark: may(PinUse::MarkReviewed),
        verdict: may(PinUse::GiveVerdict),
        download: may(PinUse::Download),
        copy: may(PinUse::Copy),
        export: super::Permission::Export.allows(role) && token.is_none_or(|t| t.scopes.contains(&Scope::Export)),
        releases: may(PinUse::ReadReview)
            && super::Permission::ReadLog.allows(role)
            && token.is_none_or(|t| t.scopes.contains(&Scope::LogRead)),
        history: may(PinUse::ReadHistory),
        history_diffs: may(PinUse::ReadHistoryDiffs),
        tool_results: may(PinUse::ReadReview) && reads_tool_results(role),
    }
}

/// Everything: the operator at the command line and the server's own jobs act as staff.
pub fn every_capability() -> Capabilities {
    capabilities(Role::Staff, PinFacts::default(), &[], 0, None)
}

/// How much of a pin's records about an artifact a lookup by hash shows (a lookup crosses pins).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArtifactRecords {
    /// Nothing: the pin is not named at all.
    Hidden,
    /// The build facts (which pin, name, platform, who built it, provenance), no review records.
    BuildFacts,
    /// Everything, the review's verdicts, coverage, findings and summary statements included.
    Review,
}

/// A pin's records in an artifact lookup: with its review to whoever may read that pin's review
/// records (`reads_review`, decided by `pin_permitted` and the token's scopes), the build facts
/// alone to builders (they record builds and read no review record), nothing to anyone else.
pub fn artifact_records(role: Role, reads_review: bool) -> ArtifactRecords {
    match (reads_review, role) {
        (true, _) => ArtifactRecords::Review,
        (false, Role::Builder) => ArtifactRecords::BuildFacts,
        (false, _) => ArtifactRecords::Hidden,
    }
}

/// Who reads a pin's imported tool results (SARIF logs), given that they read its review records:
/// its reviewers and staff. Regulators and supervisors see what triage made of them (findings),
/// not the tools' raw output, which names files and lines a reviewer never looked at.
pub fn reads_tool_results(role: Role) -> bool {
    matches!(role, Role::Reviewer | Role::Staff)
}

/// Whose coverage a person reads at a pin they may read the review of: a reviewer only their own
/// (`Some(username)`), staff and regulators everyone's (`None`).
pub fn coverage_limited_to(identity: Option<&Identity>) -> Option<&str> {
    identity.filter(|i| i.role == Role::Reviewer).map(|i| i.username.as_str())
}

/// Whether coverage (the page, the API, an export's `coverage.csv` and treemap) lists every file of
/// a pin by path for a person, or only the files some reviewer was shown or marked (which the log
/// already names). Every path only for who may read the pin's source: a regulator without a grant
/// read the whole file tree through coverage, where the tree itself was refused (security defect 9).
pub fn coverage_lists_every_path(caps: &Capabilities) -> bool {
    caps.read_source
}

/// Which accounts' exports a person sees: staff every export (`None`), anyone else their own.
pub fn exports_visible_to(role: Role, user_id: i64) -> Option<i64> {
    (role != Role::Staff).then_some(user_id)
}

/// Whether a person sees one export: its creator, and staff.
pub fn may_see_export(role: Role, user_id: i64, created_by: Option<i64>) -> bool {
    role == Role::Staff || created_by == Some(user_id)
}

/// Whether a person downloads one export: its creator alone (staff see others' exports, never
/// take them away).
pub fn may_download_export(user_id: i64, created_by: Option<i64>) -> bool {
    created_by == Some(user_id)
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
