//! The guard's rules about pins, as pure functions of the role, the pin's state and policy, the
//! person's grants and the clock's `now`: whether a grant is active, what each role may do at a pin
//! (read its source or its review records, start a thread, take part, mark, give a verdict,
//! download, copy), and the capabilities a page offers. Unit-tested at every window edge.
//!
//! A grant limited to paths will be one more input here (`PinFacts` or the grant windows), checked
//! in `pin_permitted`; nothing outside the guard needs to learn it.

use crate::store::grants::GrantWindow;
use app::model::{Capabilities, Identity, Role, Scope, TokenAccess};

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
}

impl PinUse {
    /// Every use, for tables and tests.
    pub const ALL: [PinUse; 9] = [
        PinUse::ReadSource,
        PinUse::ReadReview,
        PinUse::Review,
        PinUse::StartThread,
        PinUse::Reply,
        PinUse::MarkReviewed,
        PinUse::GiveVerdict,
        PinUse::Download,
        PinUse::Copy,
    ];

    /// The scope an API token needs to use a pin so (`None`: no token may).
    pub fn token_scope(self) -> Option<Scope> {
        match self {
            PinUse::ReadSource | PinUse::Download | PinUse::Copy => None,
            PinUse::ReadReview
            | PinUse::Review
            | PinUse::StartThread
            | PinUse::Reply
            | PinUse::MarkReviewed
            | PinUse::GiveVerdict => Some(Scope::Review),
        }
    }
}

/// What the guard knows of a pin when it decides: its state and its take-away policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PinFacts {
    pub withdrawn: bool,
    pub no_download: bool,
    pub no_copy: bool,
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
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    fn grant(starts_at: i64, ends_at: i64, revoked_at: Option<i64>) -> GrantWindow {
        GrantWindow { id: 1, pin_id: 1, starts_at, ends_at, revoked_at }
    }

    fn open() -> PinFacts {
        PinFacts::default()
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
        let active = [grant(0, 2 * HOUR, None)];
        let withdrawn = PinFacts { withdrawn: true, ..open() };
        assert_eq!(pin_permitted(Role::Regulator, PinUse::ReadReview, withdrawn, &[], now), Ok(None));
        assert_eq!(pin_permitted(Role::Regulator, PinUse::Review, open(), &active, now), Err(Refusal::NoAccess));
        assert_eq!(pin_permitted(Role::Reviewer, PinUse::ReadReview, open(), &[], now), Err(Refusal::NoAccess));
        assert_eq!(pin_permitted(Role::Reviewer, PinUse::Review, open(), &active, now), Ok(Some(2 * HOUR)));
        assert_eq!(pin_permitted(Role::Reviewer, PinUse::Review, withdrawn, &active, now), Err(Refusal::NoAccess));
        assert_eq!(pin_permitted(Role::Staff, PinUse::Review, withdrawn, &[], now), Ok(None));
    }

    /// Every role × every use × a pin open, withdrawn or under the take-away policy × a grant
    /// before its start, active, at its end and revoked: the whole table, row by row.
    #[test]
    fn every_role_use_pin_state_and_window_edge_is_decided_by_the_table() {
        use PinUse::*;
        let policy = PinFacts { no_download: true, no_copy: true, ..open() };
        let withdrawn = PinFacts { withdrawn: true, ..open() };
        let window = [grant(HOUR, 2 * HOUR, None)];
        let revoked = [grant(HOUR, 2 * HOUR, Some(HOUR + 1))];
        // (role, use, expected on an open pin with an active grant)
        let granted_open: [(Role, PinUse, Result<(), Refusal>); 4 * 9] = [
            (Role::Staff, ReadSource, Ok(())),
            (Role::Staff, ReadReview, Ok(())),
            (Role::Staff, Review, Ok(())),
            (Role::Staff, StartThread, Err(Refusal::NotSo("staff answer threads; reviewers start them"))),
            (Role::Staff, Reply, Ok(())),
            (Role::Staff, MarkReviewed, Err(Refusal::Role("reviewers mark files reviewed"))),
            (Role::Staff, GiveVerdict, Err(Refusal::Role("reviewers give verdicts"))),
            (Role::Staff, Download, Ok(())),
            (Role::Staff, Copy, Ok(())),
            (Role::Regulator, ReadSource, Ok(())),
            (Role::Regulator, ReadReview, Ok(())),
            (Role::Regulator, Review, Err(Refusal::NoAccess)),
            (Role::Regulator, StartThread, Err(Refusal::Role("regulators oversee reviews; they do not comment"))),
            (Role::Regulator, Reply, Err(Refusal::Role("regulators oversee reviews; they do not comment"))),
            (Role::Regulator, MarkReviewed, Err(Refusal::Role("reviewers mark files reviewed"))),
            (Role::Regulator, GiveVerdict, Err(Refusal::Role("reviewers give verdicts"))),
            (Role::Regulator, Download, Ok(())),
            (Role::Regulator, Copy, Ok(())),
            (Role::Reviewer, ReadSource, Ok(())),
            (Role::Reviewer, ReadReview, Ok(())),
            (Role::Reviewer, Review, Ok(())),
            (Role::Reviewer, StartThread, Ok(())),
            (Role::Reviewer, Reply, Ok(())),
            (Role::Reviewer, MarkReviewed, Ok(())),
            (Role::Reviewer, GiveVerdict, Ok(())),
            (Role::Reviewer, Download, Ok(())),
            (Role::Reviewer, Copy, Ok(())),
            (Role::Builder, ReadSource, Err(Refusal::NoAccess)),
            (Role::Builder, ReadReview, Err(Refusal::NoAccess)),
            (Role::Builder, Review, Err(Refusal::NoAccess)),
            (Role::Builder, StartThread, Err(Refusal::NoAccess)),
            (Role::Builder, Reply, Err(Refusal::NoAccess)),
            (Role::Builder, MarkReviewed, Err(Refusal::Role("reviewers mark files reviewed"))),
            (Role::Builder, GiveVerdict, Err(Refusal::Role("reviewers give verdicts"))),
            (Role::Builder, Download, Err(Refusal::NoAccess)),
            (Role::Builder, Copy, Err(Refusal::NoAccess)),
        ];
        let now = HOUR + HOUR / 2;
        for (role, usage, expected) in granted_open {
            let answer = pin_permitted(role, usage, open(), &window, now).map(|_| ());
            assert_eq!(answer, expected, "{role:?} {usage:?} on an open pin with a grant");
            // Without a grant, before its start, at its end, after its revocation: only staff, and
            // regulators for review records, keep what they had; the role's own refusals stay.
            for (grants, at, edge) in [
                (&[][..], now, "no grant"),
                (&window[..], HOUR - 1, "before the start"),
                (&window[..], 2 * HOUR, "at the end"),
                (&revoked[..], now, "revoked"),
            ] {
                let answer = pin_permitted(role, usage, open(), grants, at).map(|_| ());
                let keeps = role == Role::Staff || (role == Role::Regulator && usage == ReadReview);
                let wanted = match expected {
                    Ok(()) if keeps => Ok(()),
                    Ok(()) => Err(Refusal::NoAccess),
                    refused => refused,
                };
                assert_eq!(answer, wanted, "{role:?} {usage:?}, {edge}");
            }
            // A withdrawn pin: staff only (and regulators' oversight).
            let answer = pin_permitted(role, usage, withdrawn, &window, now).map(|_| ());
            let wanted = match expected {
                Ok(()) if role == Role::Staff || (role == Role::Regulator && usage == ReadReview) => Ok(()),
                Ok(()) => Err(Refusal::NoAccess),
                refused => refused,
            };
            assert_eq!(answer, wanted, "{role:?} {usage:?} on a withdrawn pin");
            // The take-away policy binds everyone but staff, for downloads and copying only.
            let answer = pin_permitted(role, usage, policy, &window, now).map(|_| ());
            let wanted = match (expected, usage) {
                (Ok(()), Download) if role != Role::Staff => {
                    Err(Refusal::Policy("downloads of this pin are disabled by staff; read the file in the browser"))
                }
                (Ok(()), Copy) if role != Role::Staff => {
                    Err(Refusal::Policy("copying from this pin is disabled by staff"))
                }
                (other, _) => other,
            };
            assert_eq!(answer, wanted, "{role:?} {usage:?} under the take-away policy");
        }
    }

    #[test]
    fn a_page_offers_what_the_table_allows_and_a_token_only_what_its_scopes_allow() {
        let window = [grant(0, 2 * HOUR, None)];
        let reviewer = capabilities(Role::Reviewer, open(), &window, HOUR, None);
        assert!(reviewer.read_source && reviewer.start_thread && reviewer.mark && reviewer.verdict);
        assert!(reviewer.download && reviewer.copy && !reviewer.export);
        let policy = PinFacts { no_download: true, no_copy: true, ..open() };
        let bound = capabilities(Role::Reviewer, policy, &window, HOUR, None);
        assert!(!bound.download && !bound.copy && bound.read_source);
        let staff = capabilities(Role::Staff, policy, &[], HOUR, None);
        assert!(staff.download && staff.copy && staff.take_part && !staff.start_thread && !staff.mark);
        let regulator = capabilities(Role::Regulator, open(), &[], HOUR, None);
        assert!(regulator.read_review && regulator.export && !regulator.read_source && !regulator.take_part);
        let expired = capabilities(Role::Reviewer, open(), &window, 2 * HOUR, None);
        assert_eq!(expired, Capabilities::default(), "nothing once the window is over");
        let review_token = TokenAccess { id: 1, scopes: vec![Scope::Review] };
        let by_token = capabilities(Role::Reviewer, open(), &window, HOUR, Some(&review_token));
        assert!(by_token.start_thread && by_token.read_review);
        assert!(!by_token.read_source && !by_token.download && !by_token.copy, "no token reads source");
        let log_token = TokenAccess { id: 2, scopes: vec![Scope::LogRead] };
        assert!(!capabilities(Role::Regulator, open(), &[], HOUR, Some(&log_token)).read_review);
        assert_eq!(every_capability(), staff);
    }

    #[test]
    fn an_artifact_lookup_shows_review_records_only_to_who_reads_them_and_builders_the_build_facts() {
        assert_eq!(artifact_records(Role::Regulator, true), ArtifactRecords::Review);
        assert_eq!(artifact_records(Role::Reviewer, true), ArtifactRecords::Review);
        assert_eq!(artifact_records(Role::Reviewer, false), ArtifactRecords::Hidden, "no grant: not even named");
        assert_eq!(artifact_records(Role::Builder, false), ArtifactRecords::BuildFacts);
        assert_eq!(artifact_records(Role::Regulator, false), ArtifactRecords::Hidden, "a token without review");
    }

    #[test]
    fn a_reviewer_reads_their_own_coverage_and_overseers_everyones() {
        let person = |role| Identity { user_id: 3, username: "ann".into(), role };
        assert_eq!(coverage_limited_to(Some(&person(Role::Reviewer))), Some("ann"));
        assert_eq!(coverage_limited_to(Some(&person(Role::Regulator))), None);
        assert_eq!(coverage_limited_to(Some(&person(Role::Staff))), None);
        assert_eq!(coverage_limited_to(None), None, "the operator and jobs");
    }

    #[test]
    fn an_export_is_seen_by_its_creator_and_staff() {
        assert!(may_see_export(Role::Regulator, 4, Some(4)));
        assert!(!may_see_export(Role::Regulator, 4, Some(5)));
        assert!(!may_see_export(Role::Regulator, 4, None), "the operator's export");
        assert!(may_see_export(Role::Staff, 1, Some(5)) && may_see_export(Role::Staff, 1, None));
        assert_eq!(exports_visible_to(Role::Staff, 1), None);
        assert!(may_download_export(4, Some(4)));
        assert!(!may_download_export(1, Some(4)), "staff do not take another's bundle");
        assert!(!may_download_export(4, None));
        assert_eq!(exports_visible_to(Role::Regulator, 4), Some(4));
    }

    #[test]
    fn the_latest_of_several_active_grants_counts() {
        let grants = [grant(0, 2 * HOUR, None), grant(0, 5 * HOUR, None), grant(0, 9 * HOUR, Some(1))];
        assert_eq!(latest_active_end(&grants, HOUR), Some(5 * HOUR));
        assert_eq!(latest_active_end(&grants, 5 * HOUR), None);
    }
}
